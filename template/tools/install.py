"""How the nox sessions install: `uv sync` of uv.lock's groups into each venv,
and nothing from your shell that CI does not have. Imported by the noxfile."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import nox
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parent.parent.resolve()
LOCK = ROOT / "uv.lock"
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
NAME = canonicalize_name(PYPROJECT["project"]["name"])
FALSE = {"", "0", "false", "no", "off"}  # as a variable's value: CI=false is not CI
IN_GITHUB_ACTIONS = os.environ.get("GITHUB_ACTIONS", "").lower() not in FALSE
IN_CI = IN_GITHUB_ACTIONS or os.environ.get("CI", "").lower() not in FALSE

# What CI does not set and that changes what Python imports or runs: cleared,
# so that a variable left in your shell never changes what is tested.
KEPT = {"PYTHONIOENCODING", "PYTHONUNBUFFERED", "PYTHONUTF8"}  # output only
for name in [n for n in os.environ if n.startswith("PYTHON") and n not in KEPT]:
    del os.environ[name]
for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT"):
    os.environ.pop(name, None)
# pyenv's shims run only the versions it has selected: link the others where nox
# looks first, so that every Python installed here gets tested.
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"), "versions")
if sys.platform != "win32" and PYENV.is_dir():
    LINKS = ROOT / ".nox" / "_pythons"
    LINKS.mkdir(parents=True, exist_ok=True)
    for found in sorted(PYENV.glob("*/bin/python3.[0-9]*")):
        link = LINKS / found.name
        if found.name[9:].rstrip("t").isdigit() and not link.exists():
            link.unlink(missing_ok=True)  # a link to a version since removed
            link.symlink_to(found)
    os.environ["PATH"] = f"{LINKS}{os.pathsep}{os.environ['PATH']}"


def sync(session: nox.Session, *groups: str, project: bool = False) -> None:
    """Make the session's venv hold exactly what uv.lock pins for these groups,
    and with `project` the package too: editable (tracebacks name src/), built
    in the venv by the locked backend whenever a [tool.uv] cache key changes.
    It runs on `nox -R` too (session.run, not session.install): about 20 ms."""
    venv = Path(session.virtualenv.location)
    selected = [f"--group={g}" if project else f"--only-group={g}" for g in groups]
    if project:
        selected += ["--group=build-system", f"--no-build-isolation-package={NAME}"]
        if not [
            *venv.glob("*/*/site-packages/hatchling"),
            *venv.glob("Lib/*/hatchling"),
        ]:
            sync(session, "build-system")  # the backend first: uv builds with it
    if IN_CI and (version := PYPROJECT["project"].get("version")) and LOCK.is_file():
        packages = nox.project.load_toml(LOCK).get("package", [])
        if version not in [p.get("version") for p in packages if p["name"] == NAME]:
            session.error(f"uv.lock lags pyproject.toml's version {version}: set it "
                          f"with `uv version {version}`, which updates both; commit uv.lock")  # fmt: skip
    locked = digest()
    # uv's file cache keys follow the newest change time, which deleting a file
    # does not move: the C sources' names are a cache key too.
    sources = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("src/**/*.[ch]"))
    env: dict[str, str | None] = {
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "WHEELWRIGHT_SOURCES": " ".join(sources),
    }
    if not session.python:  # a tool session: on a Python the package supports
        env["UV_PYTHON"] = None  # (nox sets it to its own, which may be older)
    try:
        locking = ["--locked"] if IN_CI else []  # CI stops on a missing or stale lock
        session.run("uv", "sync", "--no-default-groups", *selected, *locking, env=env)
    finally:  # uv may have locked, then failed to install: say it all the same
        if digest() != locked:
            done = "updated to match pyproject.toml" if locked else "created"
            session.warn(
                f"uv.lock was {done}: commit it, so that CI installs the same."
            )


def digest() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest() if LOCK.is_file() else ""


def locked(session: nox.Session, group: str, *, runtime: bool = False) -> Path:
    """uv.lock's pins of a group (and with `runtime`, of the package's own
    dependencies) as a requirements file without hashes."""
    pins = Path(session.create_tmp()).resolve() / f"{group}.txt"
    session.run(
        *("uv", "export", "--frozen", "--quiet", "--no-emit-project", "--no-hashes"),
        *("--no-header", "--no-annotate", "--no-default-groups", "-o", str(pins)),
        f"--group={group}" if runtime else f"--only-group={group}",
    )
    return pins


def output(*command: str) -> str | None:
    """What a command prints, or None if it cannot run here or fails."""
    try:
        ran = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return ran.stdout if ran.returncode == 0 else None
