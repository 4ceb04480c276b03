"""Helpers for tests that render the template and run what it generates."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.resolve()
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
# What copier copies: everything but version control and local caches.
SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git", ".nox", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".mypy_cache", "dist", "results",
)  # fmt: skip


@functools.cache
def available_pythons() -> tuple[str, ...]:
    """The supported Pythons this machine can run (pyenv shims that fail don't count)."""
    found = []
    for version in SUPPORTED_PYTHONS:
        exe = shutil.which(f"python{version}")
        if (
            exe
            and subprocess.run(
                [exe, "-c", ""], check=False, capture_output=True
            ).returncode
            == 0
        ):
            found.append(version)
    return tuple(found)


def project_env(**extra: str) -> dict[str, str]:
    """The environment for commands run in a rendered project.

    Drops what would leak the suite's own environment into the project's
    (its virtualenv, nox's and pytest's variables, a CI flag that changes
    nox's defaults), and gives git an identity.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "CI", "GITHUB_ACTIONS", "PYTHONPATH"}
        and not key.startswith(("NOX_", "PYTEST_", "TWINE_", "COVERAGE_"))
    }
    env |= {
        "GIT_AUTHOR_NAME": "Wheelwright Tests",
        "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "Wheelwright Tests",
        "GIT_COMMITTER_EMAIL": "tests@example.com",
        "NO_COLOR": "1",
        # Only the Pythons on this machine: never download one mid-test.
        "UV_PYTHON_DOWNLOADS": "never",
    }
    env.pop("FORCE_COLOR", None)
    return env | extra


def run(
    *args: str | Path,
    cwd: Path,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a command, and on an unexpected exit show everything it printed."""
    result = subprocess.run(
        [str(arg) for arg in args],
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,  # a prompt fails the test instead of hanging it
        env=dict(env) if env is not None else project_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
    return result


def nox(
    project: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the nox of this test environment in a rendered project."""
    return run(sys.executable, "-m", "nox", *args, cwd=project, check=check, env=env)


def tool(name: str) -> Path:
    """A command installed beside this test environment's Python."""
    return Path(sys.executable).parent / name


def git(project: Path, *args: str) -> str:
    return run("git", *args, cwd=project).stdout.strip()


def git_commit_all(project: Path, message: str = "Start from wheelwright") -> None:
    """Commit everything, creating the repository first if needed."""
    if not (project / ".git").exists():
        git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "--message", message)
