"""How the sessions install: uv.lock's pins, and nothing of your shell's."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox
from packaging.utils import canonicalize_name, canonicalize_version

ROOT = Path(__file__).parent.parent.resolve()
LOCK = ROOT / "uv.lock"
try:
    PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
    CLASSIFIED = nox.project.python_versions(PYPROJECT)  # the classifiers' Pythons
except (OSError, ValueError) as error:  # a conflict that `copier update` left?
    sys.exit(f"pyproject.toml: {error}: fix it (or resolve what `copier update` left)")
NAME = canonicalize_name(PYPROJECT.get("project", {}).get("name", ""))
FALSE = {"", "0", "false", "no", "off"}  # as a variable's value: CI=false is not CI
IN_GITHUB_ACTIONS = os.environ.get("GITHUB_ACTIONS", "").lower() not in FALSE
IN_CI = IN_GITHUB_ACTIONS or os.environ.get("CI", "").lower() not in FALSE

# Cleared: what CI does not set and that changes what Python imports or runs.
KEPT = {"PYTHONIOENCODING", "PYTHONUNBUFFERED", "PYTHONUTF8"}  # output only
GONE = {"VIRTUAL_ENV", "CONDA_PREFIX", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT",
        "UV_PROJECT", "UV_WORKING_DIR", "UV_FROZEN", "UV_NO_EDITABLE", "UV_NO_GROUP",
        "UV_NO_INSTALL_PROJECT"}  # uv's: they change what `uv sync` installs  # fmt: skip
for name in {n for n in os.environ if n.startswith("PYTHON") or n in GONE} - KEPT:
    del os.environ[name]
# HEAD's release tag as hatch-vcs reads it: "v1.0.0-dirty" makes it 1.0.1.dev0.
DESCRIBE = ("git", "describe", "--tags", "--exact-match", "--dirty", "--match=*[0-9]*")
# pyenv's shims run only the versions it has selected: link the others where nox
# looks first, so that every Python installed here gets tested.
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"), "versions")
if sys.platform != "win32" and PYENV.is_dir():
    LINKS = ROOT / ".nox" / "_pythons"
    LINKS.mkdir(parents=True, exist_ok=True)
    for found in PYENV.glob("*/bin/python3.[0-9]*"):
        link = LINKS / found.name
        if found.name[9:].rstrip("t").isdigit() and not link.exists():
            link.unlink(missing_ok=True)  # a link to a version since removed
            link.symlink_to(found)
    os.environ["PATH"] = f"{LINKS}{os.pathsep}{os.environ['PATH']}"


def sync(session: nox.Session, *groups: str, project: bool = False) -> None:
    """Make the venv hold exactly uv.lock's pins of these groups, and with `project`
    the package, editable (tracebacks name src/); session.run, so `nox -R` too."""
    venv = Path(session.virtualenv.location)
    selected = [f"--group={g}" if project else f"--only-group={g}" for g in groups]
    if project:
        selected += ["--group=build-system", f"--no-build-isolation-package={NAME}"]
        if not shutil.which("hatchling", path=session.bin):
            sync(session, "build-system")  # the backend first: uv builds with it
    lock = LOCK.read_bytes() if LOCK.is_file() else b""
    version = PYPROJECT["project"].get("version")  # None: versioned by git tags
    _, _, after = lock.partition(f'name = "{NAME}"\nversion = "'.encode())
    locked = canonicalize_version(after.split(b'"')[0].decode())  # 0.1.0 is 0.1.0.0
    if IN_CI and version and locked != canonicalize_version(version):
        session.error(
            f"uv.lock lags pyproject.toml's version {version}: set it with "
            f"`uv version {version}`, which updates both; commit uv.lock"
        )
    # Cache keys (pyproject.toml): the C sources' names (a deletion moves no mtime)
    sources = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("src/**/*.[ch]"))
    tag = b"" if shutil.which("git") else b"no git"  # hatch-vcs's fallback version
    if not tag and "version" in PYPROJECT["project"].get("dynamic", []):
        tag = subprocess.run(DESCRIBE, capture_output=True, check=False).stdout
    built = str([session.python, tag.decode().strip(), *sources])
    env = {"UV_PROJECT_ENVIRONMENT": str(venv), "WHEELWRIGHT_BUILD": built}
    if not session.python:  # a tool session: on a Python the package supports
        env["UV_PYTHON"] = None  # type: ignore[assignment]  # (nox sets its own)
    locking = ["--locked"] if IN_CI else []  # CI stops on a missing or stale lock
    try:
        session.run("uv", "sync", "--no-default-groups", *selected, *locking, env=env)
    finally:  # uv may have locked, then failed to install: say it all the same
        if (LOCK.read_bytes() if LOCK.is_file() else b"") != lock:
            done = "updated to match pyproject.toml" if lock else "created"
            session.warn(f"uv.lock was {done}: commit it, so CI installs the same.")
