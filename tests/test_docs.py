"""The docs session: HTML with warnings as errors, the API from the docstrings
(warnings name src/), and Read the Docs building through the same session."""

from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from helpers import nox, project_env, run

pytestmark = pytest.mark.e2e


def page_text(path: Path) -> str:
    """An HTML page's text, tags removed."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


@pytest.mark.parametrize(
    ("answers", "signatures"),
    [
        ({}, ["my_package.slugify(text: str, separator: str = '-') → str"]),
        (
            {"variant": "c-extension"},
            [
                "my_package.adler32(data, /, value=1)",  # from the C docstring
                "my_package.clamp(x, /, lo, hi)",
                "exception my_package.Error",
            ],
        ),
    ],
    ids=["pure", "c"],
)
def test_docs_build_the_readme_usage_and_the_installed_api(
    committed_project, answers: dict[str, str], signatures: list[str]
) -> None:
    project = committed_project(**answers)
    nox(project, "-s", "docs")
    built = project / "docs" / "_build" / "html"
    index = page_text(built / "index.html")
    assert "A Python package built with wheelwright." in index  # the README
    assert "Releasing" in index
    assert "slugify" in page_text(built / "usage.html")
    api = page_text(built / "api.html")
    for signature in signatures:
        assert signature in api, api


def test_a_docs_warning_fails_the_session(committed_project) -> None:
    project = committed_project()
    usage = project / "docs" / "usage.md"
    usage.write_text(usage.read_text() + "\nSee {doc}`a-page-that-does-not-exist`.\n")
    result = nox(project, "-s", "docs", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "unknown document: 'a-page-that-does-not-exist'" in output, output


def test_read_the_docs_builds_through_the_docs_session(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    config = yaml.safe_load((project / ".readthedocs.yaml").read_text())
    (command,) = config["build"]["jobs"]["build"]["html"]
    assert "nox -s docs" in command
    # What Read the Docs does: it runs that command (here with this suite's uv
    # in place of its `pip install uv`), sets READTHEDOCS_OUTPUT, serves html/.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = project_env(READTHEDOCS_OUTPUT=str(tmp_path / "rtd"), PATH=path)
    run("bash", "-c", command, cwd=project, env=env)
    assert (tmp_path / "rtd" / "html" / "api.html").is_file()
    assert not (project / "docs" / "_build").exists()


def test_a_docstring_warning_names_the_source_file(committed_project) -> None:
    # autodoc reads the editable install, so the warning points at src/, where
    # the fix goes (never at a copy in site-packages).
    project = committed_project()
    text_py = project / "src" / "my_package" / "text.py"
    text_py.write_text(text_py.read_text().replace(
        "Raises ValueError if", "Raises *ValueError if", 1))  # fmt: skip
    result = nox(project, "-s", "docs", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    warning = next(line for line in output.splitlines() if "WARNING" in line)
    assert "src/my_package/" in warning, warning
    assert "docstring of my_package.text.slugify" in warning, warning
    assert "site-packages" not in output
