"""Rendering: every answer set gives a clean, valid, consistent project."""

from __future__ import annotations

import email
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import Render
from helpers import (
    ROOT,
    SUPPORTED_PYTHONS,
    git_commit_all,
    lock_project,
    nox,
    project_env,
    require_python,
    run,
    tool,
    venv_python,
)
from questionnaire import (
    OLDEST_NOX_PYTHON,
    assert_sound,
    codespell,
    message_after_copy,
    numbered_steps,
)

LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0-or-later")
LICENSE_FIRST_LINES = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "GPL-3.0-or-later": "GNU GENERAL PUBLIC LICENSE",
}
# Jinja that survived rendering; GitHub's own `${{ ... }}` expressions are fine.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|#\}")

# Every license, versioning and min_python value at least once, in few renders.
ANSWER_SETS = [
    {"license": license, "versioning": versioning, "min_python": min_python}
    for (license, versioning), min_python in zip(
        itertools.cycle(itertools.product(LICENSES, ("vcs", "static"))),
        SUPPORTED_PYTHONS * 2,
    )
]


def answer_id(answers: dict[str, str]) -> str:
    return "-".join(answers.values())


def rendered_from_jinja(project: Path, module_name: str = "my_package") -> list[Path]:
    """The project's files that came from `.jinja` templates (others are verbatim)."""
    return [
        project
        / str(t.relative_to(ROOT / "template").with_suffix(""))
        .replace("{{ module_name }}", module_name)
        .replace("{{ _copier_conf.answers_file }}", ".copier-answers.yml")
        for t in (ROOT / "template").rglob("*.jinja")
        if "{%" not in str(t)  # conditional names: whether they render is tested apart
    ]


def project_files(project: Path) -> list[Path]:
    return [p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts]


def wheel_metadata(project: Path, tmp_path: Path) -> email.message.Message:
    """Build the project's wheel with uv and read its METADATA."""
    # Any local Python builds a pure wheel, whatever requires-python says.
    run(
        sys.executable, "-m", "uv", "build", "--wheel", "--python", sys.executable,
        "--out-dir", tmp_path, "--quiet", cwd=project,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def test_default_render_has_the_expected_files(render: Render) -> None:
    project = render()
    files = {p.relative_to(project).as_posix() for p in project_files(project)}
    assert {
        ".copier-answers.yml",
        ".github/dependabot.yml",
        ".github/workflows/ci.yml",
        ".gitignore",
        "CHANGELOG.md",
        "LICENSE",
        "README.md",
        "noxfile.py",
        "pyproject.toml",
        "src/my_package/__init__.py",
        "src/my_package/py.typed",
        "src/my_package/text.py",
        "tests/test_package.py",
        "tests/test_text.py",
        "tools/check_ci.py",
        "tools/checks.py",
        "tools/ci.schema.yml",
        "tools/install.py",
        "tools/publish.py",
    } <= files
    assert not any(f.endswith(".jinja") for f in files)


# What issue 19 allows the machinery an owner reads on every update, in lines.
LINE_BUDGETS = {"noxfile.py": 200, "tools/install.py": 80}


@pytest.mark.parametrize("variant", ["pure", "c-extension"])
def test_the_machinery_stays_within_its_line_budget(
    render: Render, variant: str
) -> None:
    project = render(variant=variant)
    lines = {
        name: len((project / name).read_text().splitlines()) for name in LINE_BUDGETS
    }
    assert all(lines[name] <= limit for name, limit in LINE_BUDGETS.items()), lines


@pytest.mark.parametrize("answers", ANSWER_SETS, ids=answer_id)
def test_answer_set_renders_a_valid_consistent_project(
    render: Render, tmp_path: Path, answers: dict[str, str]
) -> None:
    project = render(**answers)

    for path in rendered_from_jinja(project):
        assert not LEFTOVER_JINJA.search(path.read_text()), f"leftover Jinja in {path}"
    for path in project_files(project):
        text = path.read_text()
        # Two blank lines separate Python definitions; nothing needs more.
        most_blank_lines = 2 if path.suffix == ".py" else 1
        assert "\n" * (most_blank_lines + 2) not in text, f"stray blank lines in {path}"

    run(sys.executable, "-m", "validate_pyproject", "pyproject.toml", cwd=project)

    assert (
        (project / "LICENSE")
        .read_text()
        .lstrip()
        .startswith(LICENSE_FIRST_LINES[answers["license"]])
    )

    # CI's test jobs are the noxfile's test sessions (the workflow derives
    # them), and those are the classifiers' Pythons and their free-threaded builds.
    supported = SUPPORTED_PYTHONS[SUPPORTED_PYTHONS.index(answers["min_python"]) :]
    free_threaded = [f"{v}t" for v in supported if v in {"3.14", "3.15"}]
    listing = nox(project, "--list", "--json", "--tags", "ci-every-os").stdout
    sessions = json.loads(listing.splitlines()[-1])
    assert [s["python"] for s in sessions] == [*supported, *free_threaded]
    assert {s["name"] for s in sessions} == {"test"}

    if answers["versioning"] == "vcs":
        git_commit_all(project)
        run("git", "tag", "v1.2.3", cwd=project)
        expected_version = "1.2.3"
    else:
        expected_version = "0.1.0"
    metadata = wheel_metadata(project, tmp_path / "wheel")
    assert metadata["Name"] == "my-package"
    assert metadata["Version"] == expected_version
    assert metadata["Requires-Python"] == f">={answers['min_python']}"
    assert metadata["License-Expression"] == answers["license"]
    assert metadata["Summary"] == "A Python package built with wheelwright."
    python_classifiers = [
        c.removeprefix("Programming Language :: Python :: ")
        for c in metadata.get_all("Classifier", [])
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert python_classifiers == list(supported)


def test_vcs_version_outside_git_is_the_fallback(
    render: Render, tmp_path: Path
) -> None:
    project = render(versioning="vcs")
    assert wheel_metadata(project, tmp_path / "wheel")["Version"] == "0.0.0"


def test_vcs_dev_versions_have_no_local_part(render: Render, tmp_path: Path) -> None:
    project = render(versioning="vcs")
    git_commit_all(project)
    run("git", "tag", "v0.3.0", cwd=project)
    (project / "NEWS").write_text("more\n")
    git_commit_all(project, "another commit")
    version = wheel_metadata(project, tmp_path / "wheel")["Version"]
    assert re.fullmatch(r"0\.3\.1\.dev1", version), version


# Every special character of every format these answers reach: TOML, Python
# docstrings, Markdown, YAML (the answers file) and the plain-text LICENSE.
AWKWARD_DESCRIPTION = (
    'Say "hi" \\ \\x \\N{} \'\'\' """ \u2014 \u201cit\u2019s\u201d \uff26\uff55\uff4c\uff4c'
    " \U0001f680 *b* _i_ snake_case `c` <b>&amp; [a](b) ~~s~~ $x$ #1 | {{ jinja }}"
    " {% raw %} : - yes # no"
)
AWKWARD_NAME = 'Ada "Countess" Lovelace (n\u00e9e Byron) <a@b> & co; \\o/'


def test_awkward_answers_reach_every_format_escaped(render: Render) -> None:
    answers = {
        "project_name": "a._b_.c",
        "description": AWKWARD_DESCRIPTION,
        "author_name": AWKWARD_NAME,
    }
    project = render(**answers)
    # Parses, ruff-clean, valid metadata; each answer reads back as typed from
    # pyproject.toml, the docstring, the README as Markdown shows it, the
    # LICENSE and the answers file.
    assert_sound(project, answers)
    init = (project / "src" / "a_b_c" / "__init__.py").read_text()
    assert init.isascii()  # look-alikes as escapes: no RUF001-RUF003 to trip
    assert (project / "LICENSE").read_text().splitlines()[2].endswith(AWKWARD_NAME)


# --- what codespell makes of an answer ----------------------------------------------

# Real names that codespell's dictionary takes for typos (issue 22): the first
# failed lint on the LICENSE's copyright line. A name is never refused.
NAMES_CODESPELL_FLAGS = ["Claus Nielsen", "Ned Batchelder", "Ane Brun", "Hans Thier"]  # codespell:ignore  # fmt: skip


@pytest.mark.parametrize("author_name", NAMES_CODESPELL_FLAGS)
def test_a_real_name_codespell_takes_for_a_typo_passes_codespell(
    render: Render, author_name: str
) -> None:
    project = render(author_name=author_name)
    result = codespell(project)
    assert result.returncode == 0, result.stdout + result.stderr


def codespell_ignored(project: Path) -> list[str]:
    settings = tomllib.loads((project / "pyproject.toml").read_text())["tool"]
    words: str = settings["codespell"].get("ignore-words-list", "")
    return words.split(",") if words else []


@pytest.mark.parametrize(
    ("answers", "ignored"),
    [
        # Nothing flagged: no list at all.
        ({}, []),
        # Any case (codespell compares lowercase); a hyphenated word is one
        # word to codespell, and a longer word another word.
        ({"author_name": "CLAUS Clausen-Thier", "description": "By claus."}, ["claus"]),  # codespell:ignore
        # As the files write it: the docstring's "\\xe9" for "\u00e9" splits
        # the word, leaving a typo before it; "'s" makes another word.
        ({"description": "Caf\u00e9 tools for Thier's *nix"}, ["caf"]),  # codespell:ignore
        # Names are the user's too: ignored, not refused.
        ({"project_name": "Teh.Tools", "github_owner": "ned"}, ["ned", "teh"]),  # codespell:ignore
        ({"project_name": "thier", "author_email": "ane@sie.example.com"},  # codespell:ignore
         ["ane", "sie", "thier"]),  # codespell:ignore
    ],
    ids=["none", "case", "escaped", "names", "module-and-email"],
)  # fmt: skip
def test_codespell_ignores_exactly_the_words_of_the_answers_it_flags(
    render: Render, answers: dict[str, str], ignored: list[str]
) -> None:
    project = render(**answers)
    assert codespell_ignored(project) == ignored
    result = codespell(project)
    assert result.returncode == 0, result.stdout + result.stderr


# --- what reStructuredText and MyST make of an answer -------------------------------

# reStructuredText markup, where autodoc reads the module docstring (issue 22:
# "Utilities for *nix shells" failed `nox -s docs`), and Markdown's and MyST's.
MARKUP_DESCRIPTIONS = [
    "Utilities for *nix shells", "**bold** and `code` and ``literal``", "_x_ x_ __x",
    "|x|", "[x]_ and [#]_", ":role:`x`", ".. x", "<x> and <http://x.y>",
    "a \\ b \\", "ends with::", "::", "- item", "+ item", "* item", "1. first",
    "#. x", "A. Lovelace wrote it", "iv) four", "\u2022 bullet", ">>> x", "--opt",
    "-v verbose", "/V x", ":field: x", "----", "=== ===", "+--+", "__init__",
    "snake_case_name", "%s done", "(x)=", "x::y", "Mr. Smith's tools",
]  # fmt: skip


@pytest.mark.parametrize("description", MARKUP_DESCRIPTIONS)
def test_a_description_with_markup_reads_back_as_typed_from_every_file(
    render: Render, description: str
) -> None:
    project = render(description=description)
    assert_sound(project, {"description": description})


def test_answers_file_records_the_answers(render: Render) -> None:
    project = render(project_name="Fancy.Name", license="Apache-2.0")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Fancy.Name"
    assert answers["module_name"] == "fancy_name"
    assert answers["license"] == "Apache-2.0"
    # Computed values are not answers: they must not freeze into the file.
    computed = {"python_versions", "free_threaded_versions", "reserved_names",
                "answer_rules", "earlier_answers"}  # fmt: skip
    assert not computed & set(answers)


def test_copy_works_without_trust(template_snapshot: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet",
         str(template_snapshot), str(tmp_path / "project")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "project" / "pyproject.toml").is_file()


# --- what runs on nox's Python --------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("variant", ["pure", "c-extension"])
def test_nox_on_its_oldest_python_runs_every_tool_on_a_supported_one(
    render: Render, tmp_path: Path, variant: str
) -> None:
    # nox runs on 3.10 and newer, and imports the noxfile and tools/install.py
    # in its own process: those two keep to 3.10. The tools the sessions run
    # (the CI checker, publish.py, the build hook) run in venvs that uv.lock's
    # sync puts on a Python the package supports: here the newest min_python,
    # the furthest from 3.10.
    newest = SUPPORTED_PYTHONS[-1]
    require_python(newest)
    project = render(variant=variant, min_python=newest)
    lock_project(project)
    git_commit_all(project)
    venv = tmp_path / "nox-on-3.10"
    uv = (sys.executable, "-m", "uv")
    python_310 = require_python(OLDEST_NOX_PYTHON)
    run(*uv, "venv", "--quiet", "--python", python_310, venv, cwd=project)
    run(*uv, "pip", "install", "--quiet", "--python", venv_python(venv), "nox[uv]",
        cwd=project)  # fmt: skip
    nox_310 = (venv_python(venv), "-m", "nox")
    assert "typecheck" in run(*nox_310, "--list", cwd=project).stdout
    result = run(*nox_310, "-s", "lint", "typecheck", cwd=project)
    output = result.stdout + result.stderr
    assert f"Using CPython {newest}" in output  # uv moved the tool venvs
    assert "CI runs the noxfile:" in output
    usage = run(*nox_310, "-s", "publish_test", "--", "--help", cwd=project).stdout
    assert "usage: publish.py" in usage
    # In CI the lock is checked before anything syncs, from a new venv on that
    # old Python, and the sdist and wheel are built from one.
    shutil.rmtree(project / ".nox")
    in_ci = run(
        *nox_310, "-s", "lint", "build", cwd=project, env=project_env(CI="true")
    )
    output = in_ci.stdout + in_ci.stderr
    assert "Session lint was successful" in output
    assert "Session build was successful" in output


@pytest.mark.e2e
@pytest.mark.parametrize("min_python", SUPPORTED_PYTHONS)
def test_lint_passes_for_every_min_python(render: Render, min_python: str) -> None:
    # The C variant: its noxfile, build hook and tests have the most to lint.
    # uv puts the lint venv on a Python the package supports: one must be here.
    require_python(min_python)
    project = render(variant="c-extension", min_python=min_python)
    git_commit_all(project)
    result = nox(project, "-s", "lint")
    assert "Session lint was successful" in result.stdout + result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("machine", ["python-and-git", "uv"])
def test_the_steps_after_copy_work_as_written_and_commit_nothing_nox_leaves(
    template_snapshot: Path, tmp_path: Path, machine: str
) -> None:
    # A machine with only Python and git on PATH (and bash), or with uv too:
    # each of the message's steps runs as written, the bare nox included.
    message = message_after_copy(template_snapshot, tmp_path, "pure")
    project = tmp_path / "pure" / "my-package"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python3", "git", *(["uv"] if machine == "uv" else [])):
        found = tool("uv") if name == "uv" else shutil.which(name)
        assert found, name
        (bin_dir / name).symlink_to(found)
    env = project_env(PATH=f"{bin_dir}{os.pathsep}/bin")
    steps = numbered_steps(message)[1:5]  # after cd, before push
    if machine == "python-and-git":
        steps[1] = re.findall(r"(?m)^ +(python3 -m venv .*)$", message)[0]
    printed = ""
    for step in steps:
        result = run("bash", "-c", step, cwd=project, env=env)
        printed += result.stdout + result.stderr
    assert "Session lint was successful" in printed
    assert "Session docs was successful" in printed
    assert "Traceback" not in printed
    assert run("git", "status", "--porcelain", cwd=project).stdout == ""
    committed = run("git", "ls-files", cwd=project).stdout.splitlines()
    assert {"pyproject.toml", "uv.lock"} <= set(committed)
    assert not [f for f in committed if f.startswith(IGNORED)], committed
    # Later runs keep the tree clean too: git never sees the docs' HTML.
    nox_bin = project / ".venv" / "bin" / "nox"
    run(nox_bin, "-R", "-s", "docs", cwd=project, env=env)
    assert run("git", "status", "--porcelain", cwd=project).stdout == ""


IGNORED = (".nox/", ".venv/", ".mypy_cache/", ".ruff_cache/", "docs/_build/", "dist/")
