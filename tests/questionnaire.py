"""What copier.yml asks and says, as the tests read it, the Python that runs
nox, and what makes a rendered project sound: shared by the tests of answers,
messages, rendering and updates."""

from __future__ import annotations

import ast
import email.headerregistry
import functools
import html
import io
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docutils.core
import docutils.nodes
import yaml
from helpers import ROOT, run, venv_python
from markdown_it import MarkdownIt

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


# --- the tools a rendered project runs, at its versions ---------------------------


def lint_tools() -> dict[str, str]:
    """The versions the lint group pins (and pre-commit runs)."""
    tools: dict[str, str] = copier_yml()["lint_tools"]["default"]
    return tools


@functools.cache
def codespell_venv() -> Path:
    """A virtualenv holding the codespell a rendered project's lint runs, once
    per test process."""
    venv = Path(tempfile.mkdtemp(prefix="wheelwright-codespell-")) / "venv"
    uv = (sys.executable, "-m", "uv")
    run(*uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=venv.parent)
    run(*uv, "pip", "install", "--quiet", "--python", venv_python(venv),
        f"codespell=={lint_tools()['codespell']}", cwd=venv.parent)  # fmt: skip
    return venv


@functools.cache
def codespell_misspellings() -> tuple[str, ...]:
    """The words codespell takes for typos, as answers/ holds them (as one Jinja
    string: tests/test_answers.py holds them to codespell's own)."""
    text = (ROOT / "answers" / "codespell_misspellings.jinja").read_text("utf-8")
    return tuple(text.split('"')[1].split())


def codespell(project: Path) -> subprocess.CompletedProcess[str]:
    """`codespell` in the project, as `nox -s lint` runs it (its settings come
    from pyproject.toml)."""
    return run(venv_python(codespell_venv()), "-m", "codespell_lib", cwd=project,
               check=False)  # fmt: skip


# --- reStructuredText, as autodoc reads a docstring ------------------------------


def read_rst(source: str) -> tuple[str, list[str]]:
    """What reStructuredText (docutils, as autodoc parses a docstring) shows for
    a one-paragraph text, and every message it has about it."""
    warnings = io.StringIO()
    document = docutils.core.publish_doctree(
        source,
        settings_overrides={"warning_stream": warnings, "report_level": 1,
                            "halt_level": 5},
    )  # fmt: skip
    messages = [m.astext() for m in document.findall(docutils.nodes.system_message)]
    messages += warnings.getvalue().splitlines()
    blocks = [(node.tagname, node.astext()) for node in document.children]
    if [tag for tag, _ in blocks] != ["paragraph"]:
        messages.append(f"not one paragraph: {blocks!r}")
    return (blocks[0][1] if blocks else ""), messages


# --- a rendered project is sound ----------------------------------------------


@functools.cache
def pyproject_validator() -> Callable[[dict[str, Any]], Any]:
    from validate_pyproject import api

    return api.Validator()


def markdown_blocks(path: Path) -> tuple[str, str]:
    """The text a Markdown renderer shows for the first heading and paragraph."""
    rendered = (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .render(path.read_text())
    )
    found = re.search(r"<h1>(.*?)</h1>\s*<p>(.*?)</p>", rendered, re.DOTALL)
    assert found, ascii(rendered[:500])
    heading, paragraph = (
        html.unescape(re.sub(r"<[^>]+>", "", p)) for p in found.groups()
    )
    return heading, paragraph


def ruff(project: Path, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--no-cache", "--quiet"],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (
        f"ruff {' '.join(args)}:\n{result.stdout}{result.stderr}"
    )


def assert_sound(project: Path, answers: dict[str, str]) -> None:
    """Every file parses, ruff and codespell are clean, and each answer reads
    back as given (the docstring as autodoc reads it: reStructuredText)."""
    for path in (p for p in project.rglob("*") if p.is_file()):
        content = path.read_text(encoding="utf-8")  # UTF-8 throughout
        if path.suffix == ".toml":
            tomllib.loads(content)
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(content)
        elif path.suffix == ".py":
            compile(content, str(path), "exec")
    ruff(project, "check")
    ruff(project, "format", "--check")
    spelling = codespell(project)
    assert spelling.returncode == 0, f"codespell:\n{spelling.stdout}{spelling.stderr}"

    stored = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {k: stored[k] for k in answers} == answers
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    pyproject_validator()(pyproject)
    metadata = pyproject["project"]
    (author,) = metadata["authors"]
    # What hatchling writes as Author-email (it refuses what core metadata cannot hold).
    email.headerregistry.Address(display_name=author["name"], addr_spec=author["email"])
    module = stored["module_name"]
    init = (project / "src" / module / "__init__.py").read_text()
    heading, paragraph = markdown_blocks(project / "README.md")
    assert (metadata["name"], heading) == (
        stored["project_name"],
        stored["project_name"],
    )
    assert metadata["description"] == paragraph == stored["description"]
    docstring = ast.get_docstring(ast.parse(init), clean=False)
    assert docstring is not None
    assert read_rst(docstring) == (stored["description"], []), ascii(docstring)
    assert author == {"name": stored["author_name"], "email": stored["author_email"]}
    # The license's copyright line, where its text has one (Apache's and the
    # GPL's have none).
    holder = {"MIT": "{} {}", "BSD-3-Clause": "{}, {}"}.get(stored["license"])
    if holder:
        license_text = (project / "LICENSE").read_text()
        assert holder.format(stored["copyright_year"], stored["author_name"]) in (
            license_text
        )
    urls = "\n".join(metadata["urls"].values())
    assert (
        f"https://github.com/{stored['github_owner']}/{stored['github_repo']}" in urls
    )
