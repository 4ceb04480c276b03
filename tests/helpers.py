"""Helpers for tests that render the template and run what it generates."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.resolve()
# The Pythons a generated project supports (min_python's choices), and the
# free-threaded builds it is tested on (3.13t only here, by --force-python).
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13", "3.14", "3.15")
FREE_THREADED_PYTHONS = ("3.13t", "3.14t", "3.15t")
IN_CI = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
# What copier copies: everything but version control and local caches.
SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git", ".nox", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".mypy_cache", "dist", "results",
)  # fmt: skip


# Tests that need what only some platforms have. The suite runs on Linux,
# macOS and Windows (the template's CI); these say why they do not run on all.
needs_a_pty = pytest.mark.skipif(
    sys.platform == "win32",
    reason="drives a terminal through a pty (pexpect.spawn), which Windows lacks",
)
needs_symlinks = pytest.mark.skipif(
    sys.platform == "win32",
    reason="builds a PATH of symbolic links, which Windows allows only to admins",
)
linux_only = pytest.mark.skipif(
    sys.platform != "linux",
    reason="Linux wheels: auditwheel, and the container engine cibuildwheel needs",
)


def _candidate_dirs() -> list[Path]:
    """Where interpreters may live: PATH, pyenv's versions (its shims fail for
    versions that are not selected), uv's managed Pythons, and the tool cache
    where GitHub's setup-python installs every version it is asked for."""
    dirs = [Path(entry) for entry in os.environ.get("PATH", "").split(os.pathsep)]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    dirs += sorted(pyenv_root.glob("versions/*/bin"))
    uv_dir = subprocess.run(
        [sys.executable, "-m", "uv", "python", "dir"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if uv_dir:
        dirs += sorted(Path(uv_dir).glob("*/bin")) + sorted(Path(uv_dir).glob("*"))
    if tool_cache := os.environ.get("RUNNER_TOOL_CACHE"):
        dirs += sorted(Path(tool_cache).glob("Python/*/*/bin"))  # Linux, macOS
        dirs += sorted(Path(tool_cache).glob("Python/*/*"))  # Windows
    return [d for d in dirs if d.is_dir()]


# Prints e.g. "3.13t /opt/py/3.13t/bin/python3.13t": the version, "t" for a
# free-threaded build, and the real executable (not the shim that ran it).
PROBE = (
    "import sys, sysconfig; free = sysconfig.get_config_var('Py_GIL_DISABLED');"
    "print(f'{sys.version_info[0]}.{sys.version_info[1]}' + ('t' if free else ''),"
    " sys.executable)"
)
# The names an interpreter goes by: versioned (python3.13, python3.13t) where
# there are such names, plain python.exe in each version's folder on Windows.
EXECUTABLE = re.compile(r"python(3(\.\d+t?)?)?(\.exe)?", re.IGNORECASE)


def _probe(candidate: Path) -> tuple[str, Path] | None:
    """Run a candidate interpreter: its version and real path, or None."""
    try:
        probe = subprocess.run(
            [candidate, "-c", PROBE], capture_output=True, text=True, timeout=30,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    version, _, executable = probe.stdout.strip().partition(" ")
    return (version, Path(executable)) if probe.returncode == 0 else None


@functools.cache
def interpreters() -> dict[str, Path]:
    """Every supported Python this machine can run, by version ("3.13t" for a
    free-threaded one), found by running each candidate: a name is not proof
    (a pyenv shim of an unselected version exits 127), and on Windows every
    version is a python.exe, so the probe says which one it is."""
    wanted = set(SUPPORTED_PYTHONS + FREE_THREADED_PYTHONS + ("3.10",))
    found: dict[str, Path] = {}
    seen: set[Path] = set()
    for directory in _candidate_dirs():
        for candidate in sorted(directory.glob("python*")):
            if not EXECUTABLE.fullmatch(candidate.name) or candidate in seen:
                continue
            seen.add(candidate)
            version = candidate.name.removeprefix("python").removesuffix(".exe")
            if version.count(".") == 1 and version not in wanted - set(found):
                continue  # named for a version we have or do not want: no need to run it
            probed = _probe(candidate)
            if probed and probed[0] in wanted and probed[0] not in found:
                found[probed[0]] = probed[1]
    return dict(sorted(found.items(), key=lambda item: _version_key(item[0])))


def _version_key(version: str) -> tuple[int, bool]:
    return int(version.split(".")[1].rstrip("t")), version.endswith("t")


def available_pythons() -> tuple[str, ...]:
    """The supported (GIL) Pythons found here, oldest first."""
    return tuple(v for v in interpreters() if v in SUPPORTED_PYTHONS)


def require_python(version: str) -> Path:
    """The interpreter for a version, or the test stops: locally it is skipped,
    with how to get it; with CI=true it fails, so CI never passes by skipping."""
    found = interpreters()
    if version in found:
        return found[version]
    message = (
        f"Python {version} is not on this machine (looked on PATH, in pyenv's "
        "versions and uv's Pythons). Get it with `uv python install "
        f"{version}`, or on the wheelwright machines: "
        'PATH="$(../shared/pythons/provision):$PATH"'
    )
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@functools.cache
def pythons_dir() -> Path:
    """A directory of `pythonX.Y` links to the interpreters found, first on the
    PATH of every command run in a rendered project, so that nox and uv find
    each one by name (pyenv's failing shims come later on PATH)."""
    directory = Path(tempfile.mkdtemp(prefix="wheelwright-pythons-"))
    for version, path in interpreters().items():
        link = directory / f"python{version}{path.suffix}"  # ".exe" on Windows
        try:
            link.symlink_to(path)
        except OSError:  # Windows without symlink rights: the launcher finds them
            break
    return directory


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
        # nox points uv at the suite's own venv while `nox -s tests` runs
        and key not in {"UV_PYTHON", "UV_PROJECT_ENVIRONMENT"}
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
    env["PATH"] = os.pathsep.join([str(pythons_dir()), env.get("PATH", "")])
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


def output(result: subprocess.CompletedProcess[str]) -> str:
    """Everything a command printed, stdout then stderr."""
    return result.stdout + result.stderr


def nox(
    project: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the nox of this test environment in a rendered project."""
    return run(sys.executable, "-m", "nox", *args, cwd=project, check=check, env=env)


def tool(name: str) -> Path:
    """A command installed beside this test environment's Python."""
    return Path(sys.executable).parent / name


def lock_project(project: Path) -> None:
    """Write a rendered project's uv.lock, as its first nox run does."""
    run(sys.executable, "-m", "uv", "lock", "--quiet", cwd=project)


def set_hatch_version(project: Path, settings: str) -> None:
    """Replace a rendered project's [tool.hatch.version] table with these lines."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    start = text.index("[tool.hatch.version]")
    end = text.index("\n[", start + 1)
    table = f"[tool.hatch.version]\n{settings}\n"
    pyproject.write_text(text[:start] + table + text[end:])


def venv_python(venv: Path) -> Path:
    """A virtualenv's interpreter, on every platform."""
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def git(project: Path, *args: str) -> str:
    return run("git", *args, cwd=project).stdout.strip()


def git_commit_all(project: Path, message: str = "Start from wheelwright") -> None:
    """Commit everything, creating the repository first if needed."""
    if not (project / ".git").exists():
        git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "--message", message)
