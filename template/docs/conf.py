"""Sphinx configuration: `nox -s docs` builds the HTML, warnings as errors.

Names and versions come from pyproject.toml and the installed package (the
docs session installs the wheel, as users get it), so nothing here repeats them.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
METADATA = importlib.metadata.metadata(PYPROJECT["project"]["name"])

project = METADATA["Name"]
author = ", ".join(person["name"] for person in PYPROJECT["project"]["authors"])
copyright = author
version = release = METADATA["Version"]

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
# The README's headings are the docs' sections; links to them keep working.
myst_heading_anchors = 3
autodoc_member_order = "bysource"
html_theme = "furo"
html_title = f"{project} {version}"
