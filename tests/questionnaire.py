"""What copier.yml asks and says, as the tests read it, and the Python that
runs nox: shared by the tests of answers, messages, rendering and updates."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml
from helpers import ROOT, run

# copier puts this before a validator's message, in its prompt's one-line
# toolbar (which cuts at the terminal's width) and after --data.
PREFIX = "Validation error for question '{}': "
WIDTH = 80
# prompt_toolkit writes a line's last column with a cursor trick (terminals
# wrap there); a refusal ends one column short, written whole.
TOOLBAR_WIDTH = WIDTH - 1


def load_copier_yml(text: str, include: Any = lambda path: None) -> dict[str, Any]:
    """copier.yml as copier reads it: its documents merged, each `!include`
    replaced by what `include(path)` returns."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor(
        "!include", lambda loader, node: include(loader.construct_scalar(node))
    )
    merged: dict[str, Any] = {}
    for document in yaml.load_all(text, Loader=Loader):
        merged |= document if isinstance(document, dict) else {}
    return merged


def copier_yml() -> dict[str, Any]:
    """The working tree's copier.yml, includes followed."""
    return load_copier_yml(
        (ROOT / "copier.yml").read_text(),
        lambda path: yaml.safe_load((ROOT / path).read_text()),
    )


def questions() -> dict[str, dict[str, Any]]:
    """The questions copier asks (computed values have `when: false`)."""
    return {
        name: spec
        for name, spec in copier_yml().items()
        if not name.startswith("_") and spec.get("when") is not False
    }


def message_after_copy(template: Path, tmp_path: Path, variant: str) -> str:
    """What copier prints after rendering into ../my-package, as in the README."""
    clone = tmp_path / variant / "wheelwright"
    clone.mkdir(parents=True)
    result = run(
        sys.executable, "-m", "copier", "copy", "--defaults", "--data",
        f"variant={variant}", template, "../my-package", cwd=clone,
    )  # fmt: skip
    return result.stderr[result.stderr.index("Your package") :]


def numbered_steps(message: str) -> list[str]:
    """The commands of the message's numbered steps, comments dropped."""
    steps = re.findall(r"(?m)^ +\d\. (.*)$", message)
    return [step.split("  #")[0].strip() for step in steps]


# The noxfile and tools/install.py, which it imports, run on whichever Python runs
# nox (CI's 3.14, a user's own), not on the package's Pythons; nox runs on 3.10
# and newer. pyproject.toml holds ruff to that for them, and `nox -s typecheck`
# checks them with mypy for it. `helpers.require_python` finds it.
OLDEST_NOX_PYTHON = "3.10"
