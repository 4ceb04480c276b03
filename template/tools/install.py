"""How the nox sessions install: exactly what uv.lock pins, and the package
from a wheel built from this tree, as users get it.

The noxfile's sessions call `sync` (every session), `package` (the ones that
import the package: test, docs, the C variant's typecheck), and
`pinned_backend` (the builds).
It lives here, beside the other tools, so that the noxfile stays a list of
sessions you can read in a few minutes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parent.parent.resolve()
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
HATCH = PYPROJECT.get("tool", {}).get("hatch", {})
WHEEL = HATCH.get("build", {}).get("targets", {}).get("wheel", {})
PACKAGES = [str(p).strip("/") for p in WHEEL.get("packages", [])]  # src/pkg
LOCK = ROOT / "uv.lock"
FALSE_WORDS = {"", "0", "false", "no", "off"}


def env_flag(name: str) -> bool:
    """A variable read as a boolean: unset, empty, 0, false, no, off are false
    (as tools/publish.py reads them; nox alone takes CI=false for CI)."""
    return os.environ.get(name, "").strip().lower() not in FALSE_WORDS


IN_GITHUB_ACTIONS = env_flag("GITHUB_ACTIONS")
IN_CI = IN_GITHUB_ACTIONS or env_flag("CI")


# --- installing from uv.lock ------------------------------------------------------

LOCK_CHECKED: list[bool] = []  # once per nox run


def sync(
    session: nox.Session,
    *groups: str,
    project_dependencies: bool = False,
    venv: Path | None = None,
) -> None:
    """Make a venv (the session's by default) hold exactly what uv.lock pins for
    these dependency groups, plus the project's runtime dependencies if asked:
    packages are added, upgraded, downgraded or removed. With nothing to change
    it takes about 20 ms, so it runs every time, `nox -R` included."""
    if session.venv_backend != "uv":
        session.error(
            "These sessions install exactly what uv.lock pins, with uv: install nox "
            "with uv (`pipx install 'nox[uv]'` or `uv tool install nox`), or run "
            "`uvx nox`"  # nox ends the line with its own period
        )
    selected = [
        f"--group={g}" if project_dependencies else f"--only-group={g}" for g in groups
    ]
    target = venv or session.virtualenv.location
    first = not LOCK_CHECKED
    if first:
        check_lock(session)
        before = digest(LOCK)
    # A test session's Python is what it tests, and a build venv's is its
    # session's: both stay pinned (a .python-version would move them). Elsewhere
    # nox's UV_PYTHON and VIRTUAL_ENV are unset, so that a tool session on a
    # Python the project does not support (nox's own, older than
    # requires-python) gets its venv remade on a supported one.
    python = str(venv) if venv else str(session.python) if session.python else None
    try:
        session.run(
            *("uv", "sync", "--no-install-project", "--no-default-groups", *selected),
            *(["--locked"] if IN_CI else []),
            env={
                "UV_PROJECT_ENVIRONMENT": str(target),
                "UV_PYTHON": python,
                "VIRTUAL_ENV": None,
            },
        )
    finally:  # uv may have locked, then failed to install: say it all the same
        if first and digest(LOCK) != before:  # only outside CI: it never writes
            written = "created" if before is None else "updated to match pyproject.toml"
            session.warn(
                f"uv.lock was {written}: commit it, so that CI installs the same."
            )
    if first:
        LOCK_CHECKED.append(True)


def check_lock(session: nox.Session) -> None:
    """Stop at once on a lock that cannot be right, with how to fix it: in CI a
    missing or stale one (elsewhere `uv sync` writes it, and `sync` says so),
    anywhere a build-system group that is not [build-system] requires."""
    requires = names(PYPROJECT["build-system"]["requires"])
    locked = names(PYPROJECT["dependency-groups"]["build-system"])
    if requires != locked:
        session.error(
            "pyproject.toml: the build-system dependency group (what uv.lock pins for "
            "builds) must list the same packages as [build-system] requires; they "
            f"differ in {', '.join(sorted(requires ^ locked))}. Make them the same"
        )
    if not IN_CI:
        return
    fix = "run `uv lock` (or any nox session on your machine), then commit uv.lock"
    if not LOCK.is_file():
        session.error(
            f"uv.lock is missing, and CI installs exactly what it pins: {fix}"
        )
    stale = session.run(
        *("uv", "lock", "--check", "--quiet"),
        silent=True,
        success_codes=[0, 1],
        # any Python the project supports, not this tool venv's (it may be older)
        env={"UV_PYTHON": None, "VIRTUAL_ENV": None},
    )
    if stale:
        session.error(f"uv.lock is out of date with pyproject.toml: {fix}")


def names(requirements: list[str]) -> frozenset[str]:
    return frozenset(canonicalize_name(Requirement(r).name) for r in requirements)


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def pinned_backend(session: nox.Session) -> list[str]:
    """`uv build` options that pin the build backend to uv.lock's build-system
    group (the same packages as [build-system] requires, locked)."""
    pins = Path(session.create_tmp(), "build-system.txt")
    session.run(
        *("uv", "export", "--frozen", "--quiet", "--only-group=build-system"),
        *("--no-hashes", "--no-emit-project", f"--output-file={pins}"),
    )
    return [f"--build-constraints={pins}"]


# --- installing the package as a user gets it ----------------------------------

# Never part of a wheel, so a change to them needs no rebuild, unless the readme
# or the hatch settings name one (`not_in_wheel`). Anything else counts: a file
# this list misses costs a rebuild, never a stale test.
NOT_IN_WHEEL = ("tests/", "docs/", ".github/", "noxfile.py", "CHANGELOG.md")
NEVER_SHIPPED = (".pyc", ".pyd", ".pyo")  # hatchling leaves out *.py[cdo] anywhere
# Environment variables that change what the compiler, the backend or the
# version (setuptools-scm, through hatch-vcs) make: names, or prefixes of names.
BUILD_SETTINGS = (
    *("CC", "CFLAGS", "CPPFLAGS", "LDFLAGS", "LDSHARED", "ARCHFLAGS"),
    *("MACOSX_DEPLOYMENT_TARGET", "SOURCE_DATE_EPOCH"),
    *("HATCH_", "SETUPTOOLS_SCM_", "VCS_VERSIONING_"),
)
# The wheel settings under which hatchling copies each file of the package into
# the wheel byte for byte, at its path below the package's parent folder, and
# makes nothing else from it: with only these (no hooks, no remapping, no forced
# inclusion), an edit of such a file changes that member and its RECORD line.
PLAIN_WHEEL_SETTINGS = {"packages", "only-packages", "include", "exclude", "artifacts"}
# Version sources that read no file of the package but the one they name ("code"
# runs a module, which may read any file).
PLAIN_VERSION_SOURCES = {"regex", "vcs", "env"}


@dataclass(frozen=True)
class Inputs:
    """What a wheel is built from: each file's digest (its bytes, and whether
    it is executable), and one digest of the rest (the version's sources in
    git, the build settings in the environment)."""

    files: dict[str, str]
    rest: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps([self.files, self.rest]).encode()).hexdigest()


def package(session: nox.Session, group: str) -> None:
    """`sync` a group with the runtime dependencies, then install the package
    (`project`): the venv holds exactly what uv.lock pins, and a wheel built
    from this tree. Locally, a rerun skips what it need not do: the sync when
    the lock, pyproject.toml, the venv's interpreter and distributions are as
    the last run left them, and the install too when nothing the wheel is built
    from changed and the installed files are still the wheel's."""
    venv = Path(session.virtualenv.location)
    inputs = build_inputs()
    stamp = venv / "synced-and-installed.txt"
    left = stamp.read_text().splitlines() if stamp.is_file() and not IN_CI else []
    synced = left[:1] == [venv_state(venv, group)]
    wheels = list((venv / "wheel").glob("*.whl"))
    unchanged = synced and left[1:] == [inputs.digest] and len(wheels) == 1
    if unchanged and installed_is(wheels[0], venv):
        session.log(
            f"Nothing {wheels[0].name} is built from changed: not rebuilding; "
            "uv.lock and this venv are as the last run left them: not re-syncing."
        )
        return
    if synced:
        session.log(
            "uv.lock and this venv are as the last run left them: not re-syncing."
        )
    else:
        sync(session, group, project_dependencies=True)
    held = project(session, inputs)  # else a file changed while it built
    stamp.write_text(f"{venv_state(venv, group)}\n{inputs.digest if held else ''}\n")


def venv_state(venv: Path, *inputs: str) -> str:
    """A digest of what decides what a venv holds: what `uv sync` compares
    (uv.lock and pyproject.toml, the venv's interpreter and its installed
    distributions, whose dist-info folder is new whenever a package is
    installed again) and the other inputs given."""
    found = hashlib.sha256("\0".join(inputs).encode())
    for path in (LOCK, ROOT / "pyproject.toml", venv / "pyvenv.cfg"):
        found.update(path.read_bytes() + b"\0" if path.is_file() else b"-\0")
    infos = in_site_packages(venv, "*.dist-info")
    for info in sorted(infos):
        stat = info.stat()
        found.update(f"{info.name} {stat.st_ino} {stat.st_mtime_ns}\0".encode())
    return found.hexdigest()


def project(session: nox.Session, inputs: Inputs | None = None) -> bool:
    """Install the package from a wheel built from the current source, as a user
    gets it (never editable: tests import what users import).

    The wheel is built in a venv kept inside the session's and synced to uv.lock's
    build-system group: an isolated build without remaking the venv every run.
    Whenever anything it is built from changed (`build_inputs`), it is rebuilt,
    or, locally, when all that changed are files it holds as they are, brought
    up to date in place (`patch`); so an edit is always tested. Returns
    whether the files it was built from held still while it built.
    """
    venv = Path(session.virtualenv.location)
    kept = venv / "wheel"
    inputs = inputs or build_inputs()
    wheels = list(kept.glob("*.whl"))
    record = kept / "built-from.json"
    built = None
    if len(wheels) == 1 and record.is_file():
        saved = json.loads(record.read_text())
        if saved["wheel"] == digest(wheels[0]):
            built = Inputs(saved["files"], saved["rest"])
    if built == inputs:
        session.log(f"Nothing {wheels[0].name} is built from changed: not rebuilding.")
    elif built and not IN_CI and patch(wheels[0], built, inputs):
        session.log(
            f"Only files {wheels[0].name} holds as they are changed: wrote them into "
            "it (as hatchling would), not rebuilding."
        )
    else:
        shutil.rmtree(kept, ignore_errors=True)
        build_venv = venv / "build-venv"
        if not build_venv.exists():
            session.run("uv", "venv", "--quiet", "--python", str(venv), str(build_venv))
        stamp = build_venv / "synced.txt"
        if IN_CI or not stamp.is_file() or stamp.read_text() != venv_state(build_venv):
            sync(session, "build-system", venv=build_venv)
            stamp.write_text(venv_state(build_venv))
        session.run(
            *("uv", "build", "--wheel", "--no-build-isolation"),
            *("--python", str(build_venv), "--out-dir", str(kept)),
        )
        wheels = list(kept.glob("*.whl"))
    # A file saved while the build read the tree may or may not be in the
    # wheel: then nothing is recorded, and the next run builds again.
    held = all(file_digest(ROOT / path) == d for path, d in inputs.files.items())
    if held:
        saved = {"files": inputs.files, "rest": inputs.rest, "wheel": digest(wheels[0])}
        record.write_text(json.dumps(saved))
    # An install of the same version would leave the installed one as it is:
    # uninstalled first (half the time of uv's --reinstall-package).
    name = wheels[0].name.split("-")[0]
    if in_site_packages(venv, f"{name}-*.dist-info"):
        session.run("uv", "pip", "uninstall", "--quiet", name)
    # Copied, never linked to uv's cache: an edit in site-packages (where a
    # traceback points) would otherwise change the cache, and every reinstall.
    # The check makes sure, whatever uv does, that what is installed is this
    # wheel; one that was linked before is mended by a reinstall around the cache.
    install = ("uv", "pip", "install", "--no-deps", "--link-mode=copy", str(wheels[0]))
    session.run(*install, "--quiet")
    if not installed_is(wheels[0], venv):
        session.run(*install, "--reinstall", "--no-cache")
        if not installed_is(wheels[0], venv):
            session.error(f"{venv} does not hold {wheels[0].name} after installing it")
    return held


def patch(wheel: Path, built: Inputs, now: Inputs) -> bool:
    """Bring a wheel up to date in place, when all that changed since it was
    built are the bytes of files hatchling copies into it as they are: each
    such member gets the file's bytes, and its RECORD line the new hash and
    size, which is what a build would change. Everything else it is made of is
    unchanged: the other files, the version's sources, the settings. Returns
    whether it did; anything it cannot prove is left to a full build."""
    changed = [path for path in now.files if now.files[path] != built.files.get(path)]
    if built.rest != now.rest or built.files.keys() != now.files.keys():
        return False
    named = settings_text().lower()  # lower: a file system may ignore case
    members_of = package_members()
    if members_of is None or any(path.lower() in named for path in changed):
        return False  # a hook, a remapping, the version's file, a readme...
    with zipfile.ZipFile(wheel) as archive:
        members = archive.infolist()
        record = members[-1]  # hatchling writes RECORD last
        if not record.filename.endswith(".dist-info/RECORD"):
            return False
        lines = io.StringIO(archive.read(record).decode(), newline="").readlines()
        rows = list(csv.reader(lines))
        if len(rows) != len(lines) or any(len(row) != 3 for row in rows):
            return False  # a name with a line break in it: not worth the risk
        index = {row[0]: i for i, row in enumerate(rows)}
        hashes = [row[1] for row in rows]
        new = {}
        for path in changed:
            before, after = built.files[path].split(), now.files[path].split()
            if before[1:] != after[1:]:  # the executable bit is in the member's mode
                return False
            member, was = members_of(path), hash_field(bytes.fromhex(before[0]))
            # Its old bytes in one member only: not also a license file's copy.
            if member not in index or hashes[index[member]] != was:
                return False
            if hashes.count(was) != 1:
                return False
            data = (ROOT / path).read_bytes()
            if hashlib.sha256(data).hexdigest() != after[0]:
                return False  # edited again since
            new[member] = data
            i = index[member]
            name_field = lines[i].rsplit(",", 2)[0]  # as written, quoted or not
            ending = lines[i][len(lines[i].rstrip("\r\n")) :]
            hashed = hash_field(hashlib.sha256(data).digest())
            lines[i] = f"{name_field},{hashed},{len(data)}{ending}"
        new[record.filename] = "".join(lines).encode()
        patched = wheel.with_name(f"{wheel.name}.patching")
        with zipfile.ZipFile(patched, "w") as out:
            for member_info in members:  # in order, with hatchling's dates and modes
                now_bytes = new.get(member_info.filename)  # b"" too: an emptied file
                kept = archive.read(member_info) if now_bytes is None else now_bytes
                out.writestr(member_info, kept)
    patched.replace(wheel)
    return True


def package_members() -> Callable[[str], str | None] | None:
    """How hatchling names a file of the package in the wheel (`src/pkg/a.py`
    is `pkg/a.py`), when the build is hatchling's with PLAIN_WHEEL_SETTINGS
    only, its `packages` listed, no metadata hooks (a hook may read any file)
    and a version that no code of the project makes; else None."""
    if not (
        PACKAGES
        and PYPROJECT["build-system"].get("build-backend") == "hatchling.build"
        and set(HATCH.get("build", {})) - {"targets"} | set(WHEEL)
        <= PLAIN_WHEEL_SETTINGS
        and "hooks" not in HATCH.get("metadata", {})
        and HATCH.get("version", {}).get("source", "regex") in PLAIN_VERSION_SOURCES
        and not (ROOT / "hatch.toml").exists()
        and not (ROOT / "hatch_build.py").exists()
    ):
        return None

    def member(path: str) -> str | None:
        for package in PACKAGES:
            if path.startswith(f"{package}/"):
                return package.rpartition("/")[2] + path[len(package) :]
        return None

    return member


def settings_text() -> str:
    """Everything [project] and hatch's settings say, where a file they name
    (the version's, a readme) shows as its path."""
    return repr([PYPROJECT["project"], HATCH])


def in_site_packages(venv: Path, pattern: str) -> list[Path]:
    """What matches a pattern in a venv's site-packages (lib/pythonX.Y/ on
    POSIX, Lib/ on Windows)."""
    return [*venv.glob(f"lib/*/site-packages/{pattern}"),
            *venv.glob(f"Lib/site-packages/{pattern}")]  # fmt: skip


def installed_is(wheel: Path, venv: Path) -> bool:
    """Whether the venv holds exactly this wheel, by its installed RECORD: that
    has the wheel's own rows (for a file of the wheel's .data directory, which
    the installer moves, its hash), installers add theirs (ignored), and every
    file it lists still has its hash (not so after an edit in site-packages)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        built = record_rows(archive.read(name).decode())
    dist_info = name.split("/")[0]
    installed = in_site_packages(venv, f"{dist_info}/RECORD")
    if len(installed) != 1:
        return False
    as_installed = record_rows(installed[0].read_text(encoding="utf-8"))
    data = dist_info.replace(".dist-info", ".data/")
    moved = {row for row in built if row[0].startswith(data)}
    site_packages = installed[0].parent.parent
    return (
        built - moved <= as_installed
        and {row[1] for row in moved} <= {row[1] for row in as_installed}
        and all(
            record_hash(site_packages / path) == hashed
            for path, hashed, _ in as_installed
            if hashed  # RECORD itself has none
        )
    )


def record_rows(text: str) -> set[tuple[str, str, str]]:
    """A RECORD's rows (path, hash, size): csv, split at line ends only (a name
    may hold U+2028, which str.splitlines would split at)."""
    rows = csv.reader(io.StringIO(text, newline=""))
    return {(row[0], row[1], row[2]) for row in rows if len(row) == 3}


def record_hash(file: Path) -> str | None:
    """A file's hash as a wheel's RECORD writes it (None when it is gone)."""
    if not file.is_file():
        return None
    return hash_field(hashlib.sha256(file.read_bytes()).digest())


def hash_field(sha256: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(sha256).rstrip(b"=").decode()


def build_inputs() -> Inputs:
    """What a wheel is built from: every file but NOT_IN_WHEEL (with git: those
    it sees, tracked or not, and in src/ and the packages those it ignores
    too), what the version is made of (the commit, the tags, a dirty tree, the
    branch, the date), uv.lock (the backend's versions), and the build
    settings in the environment."""
    rest = hashlib.sha256()
    settings = settings_text()
    # The build settings in the environment, and any variable that the project's
    # settings name (hatch's env version source reads one).
    named = set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", settings))
    for setting in sorted(
        n for n in os.environ if n.startswith(BUILD_SETTINGS) or n in named
    ):
        rest.update(f"{setting}={os.environ[setting]}\0".encode())
    # A version scheme may put the date in a dirty tree's version.
    today = time.strftime("%Y%m%d") + time.strftime(" %Y%m%d", time.gmtime())
    rest.update(f"{today}\0{digest(LOCK)}\0".encode())
    # The project may be a folder of a repository (hatch-vcs's `root`).
    above = [d for d in (ROOT, *ROOT.parents) if (d / ".git").exists()][:1]
    if above:
        # Before the first commit there is nothing to describe.
        head = git("describe", "--tags", "--long", "--dirty", "--always", check=False)
        # The tags (a new one may be the version) and the branch, marked * (a
        # version scheme may read it): one call.
        refs = git("for-each-ref", "--format=%(HEAD)%(objectname) %(refname)",
                   "refs/tags", "refs/heads")  # fmt: skip
        rest.update(f"{head}\0{refs}\0".encode())
        # hatchling reads the .gitignore files above the project up to it, too.
        for folder in (d for d in ROOT.parents if above[0] in (d, *d.parents)):
            ignore = folder / ".gitignore"
            rest.update(ignore.read_bytes() + b"\0" if ignore.is_file() else b"-\0")
        listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        # In src/ and the packages a file git ignores may still be in the wheel
        # (an artifact, or one only a nested .gitignore names): all count.
        paths = sorted(
            {*filter(None, listed.split("\0")), *files_below(["src", *PACKAGES])}
        )
    else:  # an unpacked archive: all but what is hidden here (.nox, .coverage)
        relative = (p.relative_to(ROOT) for p in ROOT.rglob("*") if p.is_file())
        paths = sorted(p.as_posix() for p in relative if p.parts[0][0] != ".")
    skipped = not_in_wheel()
    # Bytecode is never in a wheel, unless the settings ship it (an artifact).
    never = (
        () if "artifacts" in settings or "force-include" in settings else NEVER_SHIPPED
    )
    files = {}
    for path in paths:
        if path.startswith(skipped) or path.endswith(never):
            continue  # never in a wheel
        # A linked folder or a submodule is one entry to git, and hatchling
        # builds from every file in it.
        file = ROOT / path
        inside = sorted(file.rglob("*")) if file.is_dir() else [file]
        for each in inside:
            found = file_digest(each)
            if found:  # else a folder, or deleted and still in git
                files[each.relative_to(ROOT).as_posix()] = found
    return Inputs(files, rest.hexdigest())


def file_digest(file: Path) -> str | None:
    """A file's bytes and whether it is executable (its mode in the wheel)."""
    if not file.is_file():
        return None
    executable = " x" if file.stat().st_mode & 0o111 else ""
    return hashlib.sha256(file.read_bytes()).hexdigest() + executable


def files_below(folders: list[str]) -> list[str]:
    """Every file below these folders, named as git names them: a linked
    folder is one entry (`build_inputs` reads what is in it)."""
    found = []
    for folder in folders:
        for top, dirs, names in os.walk(ROOT / folder):
            here = Path(top)
            linked = [d for d in dirs if (here / d).is_symlink()]
            found += [(here / n).relative_to(ROOT).as_posix() for n in names + linked]
    return found


def not_in_wheel() -> tuple[str, ...]:
    """NOT_IN_WHEEL, but for those that the metadata or the wheel's build
    settings name (a readme plugin's fragments, a force-include, shared data):
    they may be in the wheel. hatch.toml, rarely used, counts whole."""
    build = {k: v for k, v in HATCH.get("build", {}).items() if k != "targets"}
    project = PYPROJECT["project"]
    named = repr([project.get("readme"), project.get("license-files")])
    named += repr([HATCH.get("metadata"), build, WHEEL])
    hatch_toml = ROOT / "hatch.toml"
    named += hatch_toml.read_text() if hatch_toml.is_file() else ""
    return tuple(p for p in NOT_IN_WHEEL if p.rstrip("/") not in named)


def git(*args: str, check: bool = True) -> str:
    # Names are bytes to git: one that is not UTF-8 keeps its bytes as escapes.
    return subprocess.run(
        ["git", *args],
        cwd=ROOT,
        capture_output=True,
        encoding="utf-8",
        errors="surrogateescape",
        check=check,
    ).stdout
