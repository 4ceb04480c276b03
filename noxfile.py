#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox[uv]>=2025.10.14"]
# ///
"""Nox sessions of the wheelwright template repository itself.

As in the projects it generates, each session is the CI job of the same name in
.github/workflows/ci.yml, and tools/check_ci_mirror.py (the generated projects'
checker, run by `lint`) holds the two together.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2025.10.14"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"

DIR = Path(__file__).parent.resolve()
PYPROJECT = nox.project.load_toml(DIR / "pyproject.toml")
CHECKER = DIR / "template" / "tools" / "check_ci_mirror.py"


def install_group(session: nox.Session, group: str) -> None:
    """Install a PEP 735 dependency group from pyproject.toml."""
    session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def lint(session: nox.Session) -> None:
    """Lint the repository and check its CI mirrors this noxfile (CI job: lint)."""
    install_group(session, "lint")
    session.run("ruff", "check", *session.posargs)
    session.run("ruff", "format", "--check")
    session.run("codespell")
    session.run("python", str(CHECKER), "--root", str(DIR))
    session.run("zizmor", "--offline", "--persona", "pedantic", ".github")
    workflows = sorted(map(str, DIR.glob(".github/workflows/*.yml")))
    workflows += sorted(map(str, DIR.glob(".github/workflows/*.yaml")))
    schema_check = ("check-jsonschema", "--builtin-schema")
    session.run(*schema_check, "vendor.github-workflows", *workflows)
    session.run(*schema_check, "vendor.dependabot", ".github/dependabot.yml")


@nox.session
def tests(session: nox.Session) -> None:
    """Render the template and run what it generates, end to end (CI job: tests)."""
    install_group(session, "tests")
    # One worker per core; `nox -s tests -- -n 0 -k publish` narrows a run.
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session(default=False)
def wheels(session: nox.Session) -> None:
    """Render the C variant and run its `wheels` session: cibuildwheel for real
    on each CI runner (CI job: wheels)."""
    install_group(session, "wheels")
    project = Path(session.create_tmp()) / "wheels-demo"
    shutil.rmtree(project, ignore_errors=True)
    session.run(
        "copier",
        "copy",
        "--defaults",
        "--vcs-ref=HEAD",
        "--data",
        "variant=c-extension",
        "--data",
        "project_name=wheels-demo",
        str(DIR),
        str(project),
    )
    git = ("git", "-C", str(project))
    session.run(*git, "init", "--quiet", "--initial-branch=main", external=True)
    session.run(*git, "add", "--all", external=True)
    session.run(
        *git,
        "-c",
        "user.name=wheelwright",
        "-c",
        "user.email=ww@example.com",
        "commit",
        "--quiet",
        "--message=wheels demo",
        external=True,
    )
    with session.chdir(project):
        session.run("nox", "-s", "wheels", *session.posargs)


@nox.session(default=False, tags=["local-only"])
def bench(session: nox.Session) -> None:
    """Time the generated projects' daily loop against scientific-python/cookie's,
    side by side, each through the nox its README recommends (local only: timings
    on shared CI runners say little).

    `nox -s bench -- --cookie PATH` renders cookie from a local clone instead of
    gh:scientific-python/cookie; `-- --help` lists the options."""
    install_group(session, "bench")
    session.run("python", str(DIR / "benchmarks" / "bench.py"), *session.posargs)


if __name__ == "__main__":
    nox.main()
