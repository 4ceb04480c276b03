"""The reserved names (answers/reserved_names.yml) hold what they claim.

The lists are data so that copier can read them without code of ours; these
tests hold them to the real thing: every supported Python's standard library
and keywords, typeshed's stdlib (what mypy resolves), every distribution and
import name that each dependency group of a rendered project installs, and the
project's own module names. When a tool gains a dependency, the failure names
what to add and where.

The same for the tools' own word lists: the misspellings of the codespell that
the lint group pins (answers/codespell_misspellings.jinja) and the common
top-level names of the check-wheel-contents that the build group locks.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import Render
from helpers import (
    ROOT,
    SUPPORTED_PYTHONS,
    lock_project,
    require_python,
    run,
    venv_python,
)
from questionnaire import codespell_venv, copier_yml, lint_tools

MODULE_NAME = re.compile(r"[a-z_][a-z0-9_]*")  # module_name's own pattern


def reserved(kind: str) -> dict[str, str]:
    """Every reserved name of a kind ("modules", "distributions") and the why
    copier shows: the first group's that has it, as answers/rules.jinja does."""
    names: dict[str, str] = {}
    for group in copier_yml()["reserved_names"]["default"][kind]:
        for name in group["names"]:
            names.setdefault(name, group["why"])
    return names


def normalize(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def missing_report(missing: dict[str, set[str]], kind: str) -> str:
    lines = [f"answers/reserved_names.yml lacks these {kind}; add them:"]
    lines += [f'  "{why}": {sorted(names)}' for why, names in missing.items() if names]
    return "\n".join(lines)


# --- the standard library and keywords ------------------------------------------

PROBE_STDLIB = "import sys, keyword, json; print(json.dumps([sorted(sys.stdlib_module_names), keyword.kwlist]))"


@pytest.mark.parametrize("version", ["3.10", *SUPPORTED_PYTHONS])
def test_every_standard_library_module_and_keyword_is_refused(version: str) -> None:
    # 3.10 too: nox runs the noxfile and tools/ on it, with the project's
    # package importable in its sessions.
    python = require_python(version)
    names, keywords = json.loads(run(python, "-c", PROBE_STDLIB, cwd=Path.cwd()).stdout)
    modules = reserved("modules")
    stdlib = {name for name in names if MODULE_NAME.fullmatch(name)}
    assert stdlib - set(modules) == set(), missing_report(
        {"a standard-library module: rename": stdlib - set(modules)}, "modules"
    )
    assert {modules[name] for name in stdlib} == {"a standard-library module: rename"}
    assert {modules.get(word) for word in keywords} == {
        "a Python keyword: pick another"
    }


# --- what the sessions install ----------------------------------------------------

# Top-level import names and distributions of a virtualenv, as JSON.
LIST_INSTALLED = """
import importlib.metadata, json
found = {}
for dist in importlib.metadata.distributions():
    tops = set()
    for file in dist.files or []:
        top = file.parts[0]
        if top.endswith((".dist-info", ".data")) or top in {"..", "__pycache__"}:
            continue
        if len(file.parts) == 1:  # a module file: foo.py, foo.cpython-311-x86_64.so
            if not top.endswith((".py", ".so", ".pyd")):
                continue
            top = top.split(".")[0]
        tops.add(top)
    found[dist.metadata["Name"]] = sorted(tops)
print(json.dumps(found))
"""

# Which session's group installs a name: the order the refusals name them in.
SESSIONS = (
    "test", "typecheck", "lint", "docs", "build", "build-system", "publish", "attest",
    "wheels", "nox", "api", "preview",
)  # fmt: skip
# Groups that are not named after the session that installs them.
SESSION_OF = {
    "build-system": "build",
    "attest": "publish",
    "nox": "lint",
    "preview": "docs",
}


def installed(project: Path, venv: Path, *requirements: str) -> dict[str, list[str]]:
    uv = (sys.executable, "-m", "uv")
    run(*uv, "venv", "--quiet", "--python", require_python("3.11"), venv, cwd=project)
    run(*uv, "pip", "install", "--quiet", "--python", venv_python(venv), *requirements,
        cwd=project)  # fmt: skip
    listing = run(venv_python(venv), "-c", LIST_INSTALLED, cwd=project).stdout
    loaded: dict[str, list[str]] = json.loads(listing)
    return loaded


def universal(project: Path, *requirements: str) -> set[str]:
    """Every distribution a group may install, on any platform and Python."""
    groups = [r for r in requirements if r.startswith("--group") or r in SESSIONS]
    others = project.parent / "requirements.in"  # compile reads these from a file
    others.write_text("\n".join(r for r in requirements if r not in groups) + "\n")
    # From the oldest Python nox runs on (cibuildwheel needs 3.11).
    for python in ("3.10", "3.11"):
        compiled = run(
            sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--universal",
            "--python-version", python, "--no-header", "--no-annotate", *groups,
            others, cwd=project, check=python == "3.11",
        )  # fmt: skip
        if compiled.returncode == 0:
            break
    return {
        normalize(line.split("==")[0].split(";")[0].strip())
        for line in compiled.stdout.splitlines()
        if line.strip() and not line.startswith("#")
    }


@pytest.mark.e2e
def test_no_module_or_distribution_the_sessions_install_can_be_taken(
    render: Render, tmp_path: Path
) -> None:
    # The C variant has every group the pure one has, and more.
    project = render(variant="c-extension")
    pyproject: dict[str, Any] = tomllib.loads((project / "pyproject.toml").read_text())
    groups = {session: ("--group", session) for session in SESSIONS}
    groups["build"] += tuple(pyproject["build-system"]["requires"])
    assert set(pyproject["dependency-groups"]) - {"dev"} == set(SESSIONS)

    modules, distributions = reserved("modules"), reserved("distributions")
    missing_modules: dict[str, set[str]] = {}
    missing_distributions: dict[str, set[str]] = {}
    typeshed: set[str] = set()
    for session, requirements in groups.items():
        found = installed(project, tmp_path / session, *requirements)
        names = {normalize(name) for name in found} | universal(project, *requirements)
        tops = {
            top
            for tops in found.values()
            for top in tops
            # mypyc's helper modules are named after a hash of the build.
            if MODULE_NAME.fullmatch(top) and not top.endswith("__mypyc")
        }
        why = f"nox -s {SESSION_OF.get(session, session)} needs it: rename"
        missing_modules[why] = tops - set(modules)
        missing_distributions[why] = names - set(distributions)
        for versions in (tmp_path / session).rglob("mypy/typeshed/stdlib/VERSIONS"):
            entries = (
                line.partition("#")[0] for line in versions.read_text().splitlines()
            )
            typeshed |= {
                module
                for entry in entries
                if (module := entry.partition(":")[0].strip()) and "." not in module
            }
    assert not any(missing_modules.values()), missing_report(missing_modules, "modules")
    assert not any(missing_distributions.values()), missing_report(
        missing_distributions, "distributions"
    )
    # What mypy resolves as the standard library (typeshed has __main__, _typeshed).
    assert typeshed, "no mypy in any session: where does typecheck get it?"
    assert typeshed - set(modules) == set(), missing_report(
        {"a standard-library module: rename": typeshed - set(modules)}, "modules"
    )


@pytest.mark.parametrize("variant", ["pure", "c-extension"])
def test_the_projects_own_module_names_are_refused(
    render: Render, variant: str
) -> None:
    """mypy checks the noxfile, tools/ and tests/ as top-level modules: a package
    of the same name is a duplicate module to it."""
    project = render(variant=variant)
    mypy_files = tomllib.loads((project / "pyproject.toml").read_text())["tool"][
        "mypy"
    ]["files"]
    stems = {
        path.stem
        for entry in mypy_files
        if entry != "src"
        for path in ([project / entry] if entry.endswith(".py") else (project / entry).glob("*.py"))
    }  # fmt: skip
    assert {"noxfile", "publish", "test_package"} <= stems
    modules = reserved("modules")
    assert stems - set(modules) == set(), missing_report(
        {"named like a project file: rename": stems - set(modules)}, "modules"
    )


def test_reserved_names_are_sorted_unique_and_well_formed() -> None:
    distribution = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # normalized (PEP 503)
    for kind, pattern in (("modules", MODULE_NAME), ("distributions", distribution)):
        for group in copier_yml()["reserved_names"]["default"][kind]:
            names = group["names"]
            assert names == sorted(set(names)), group["why"]
            if kind == "distributions":
                assert all(pattern.fullmatch(name) for name in names), group["why"]


# --- the tools' own word lists ------------------------------------------------------

MISSPELLINGS = ROOT / "answers" / "codespell_misspellings.jinja"
# What codespell loads: its default dictionaries, as its own code reads them.
LOAD_MISSPELLINGS = """
import json
from codespell_lib import __version__
from codespell_lib._codespell import _builtin_default, _select_builtin_dictionary
from codespell_lib._spellchecker import build_dict
misspellings = {}
for path in _select_builtin_dictionary(_builtin_default):
    build_dict(path, misspellings, set())
print(json.dumps({"version": __version__, "misspellings": sorted(misspellings)}))
"""


def misspellings_file(version: str, words: list[str]) -> str:
    """answers/codespell_misspellings.jinja: the words as one Jinja string, which
    Jinja reads several times faster than an included text file."""
    return "\n".join([
        f"{{#- codespell {version}: the misspellings of its default dictionaries",
        "    (clear, rare), lowercase and sorted. answers/rules.jinja looks up the",
        "    words of the answers here; tests/test_answers.py holds them to",
        "    codespell's own (and writes this file anew when they differ). -#}",
        '{%- set misspellings = {}.fromkeys("',
        *words,
        '".split()) -%}',
    ]) + "\n"  # fmt: skip


def test_codespell_misspellings_are_the_pinned_codespells_own(
    render: Render, tmp_path: Path
) -> None:
    """The words answers/rules.jinja looks up are the keys of the dictionaries
    that the lint group's codespell loads (it adds a \u2019 spelling of each
    word with an apostrophe, which the lookup makes too)."""
    project = render()
    settings = tomllib.loads((project / "pyproject.toml").read_text())["tool"]
    # Its default dictionaries: no other is chosen.
    assert not {"builtin", "dictionary"} & set(settings["codespell"])
    loaded = json.loads(
        run(venv_python(codespell_venv()), "-c", LOAD_MISSPELLINGS, cwd=tmp_path).stdout
    )
    version = lint_tools()["codespell"]
    assert loaded["version"] == version
    expected = sorted({word.replace("\u2019", "'") for word in loaded["misspellings"]})
    # One word a line, nothing a Jinja string would read otherwise.
    assert all(re.fullmatch(r"[^\s\\\"]+", word) for word in expected)
    assert {w.replace("'", "\u2019") for w in expected} | set(expected) == set(
        loaded["misspellings"]
    )
    text = MISSPELLINGS.read_text(encoding="utf-8")
    if text != misspellings_file(version, expected):
        fresh = tmp_path / MISSPELLINGS.name
        fresh.write_text(misspellings_file(version, expected), encoding="utf-8")
        words = set(text.split('"')[1].split()) if text.count('"') == 2 else set()
        pytest.fail(
            f"{MISSPELLINGS.relative_to(ROOT)} is not codespell {version}'s "
            f"({len(set(expected) - words)} words missing, "
            f"{len(words - set(expected))} too many): replace it with {fresh}",
            pytrace=False,
        )


PRINT_COMMON_NAMES = (
    "from check_wheel_contents.checker import COMMON_NAMES; print(*COMMON_NAMES)"
)
TOO_COMMON = "a common top-level name: rename"


@pytest.mark.e2e
def test_common_top_level_names_are_check_wheel_contents_own(
    render: Render, tmp_path: Path
) -> None:
    """W005 fails `nox -s build` for these: the version uv.lock pins says which."""
    project = render()
    lock_project(project)
    lock = tomllib.loads((project / "uv.lock").read_text())
    (version,) = (
        package["version"]
        for package in lock["package"]
        if package["name"] == "check-wheel-contents"
    )
    venv = tmp_path / "venv"
    uv = (sys.executable, "-m", "uv")
    run(*uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path)
    run(*uv, "pip", "install", "--quiet", "--python", venv_python(venv),
        f"check-wheel-contents=={version}", cwd=tmp_path)  # fmt: skip
    listed = run(venv_python(venv), "-c", PRINT_COMMON_NAMES, cwd=tmp_path).stdout
    common = set(listed.split())
    assert "tests" in common
    (group,) = (
        group["names"]
        for group in copier_yml()["reserved_names"]["default"]["modules"]
        if group["why"] == TOO_COMMON
    )
    # The others (.nox, .venv, ...) are no module names: module_name's pattern
    # refuses them.
    assert set(group) == {name for name in common if MODULE_NAME.fullmatch(name)}
