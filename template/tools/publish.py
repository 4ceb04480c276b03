"""Upload dist/ to TestPyPI or PyPI, after the checks that make a release safe.

Run by the `publish_test` and `publish` nox sessions (and so by the CI jobs of
the same names): `python tools/publish.py testpypi|pypi [--yes]`. It never
builds: `nox -s build` (and `nox -s wheels` for a C extension) fill dist/, and
each ends with `python tools/publish.py record build|wheels`, which writes a
manifest beside the files: the commit they were built from, whether the tree
was clean, and each file's sha256. Manifests are checked, never uploaded.

Nothing leaves the machine before every file passed every check:
1. dist/ holds regular files, named as build tools name a wheel or sdist;
2. each file's contents match its name (a wheel's METADATA, WHEEL and RECORD,
   an sdist's PKG-INFO and layout), and a manifest lists it with its hash;
3. for PyPI: a final version, built at HEAD from a clean tree, HEAD its tag;
4. the index is read: a file already there with the same sha256 is skipped,
   one with another hash stops everything;
5. the rest is uploaded (wheels first, the sdist last) and read back.
If the upload fails part-way, the message says which files reached the index,
and running the same session again finishes the release.

In GitHub Actions the credentials come from trusted publishing and every file
gets a PEP 740 attestation; elsewhere twine finds your API token
(TWINE_PASSWORD, keyring or ~/.pypirc). TWINE_REPOSITORY_URL sends the upload
to another index; PUBLISH_SIMPLE_URL names that index's simple API if it is
not `<upload URL>/simple/`.
"""

from __future__ import annotations

import argparse
import base64
import csv
import email.parser
import fnmatch
import hashlib
import html.parser
import io
import json
import os
import platform
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.metadata import RawMetadata, parse_email
from packaging.tags import Tag, parse_tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).parent.parent.resolve()
DIST = ROOT / "dist"
UPLOAD_URLS = {
    "testpypi": "https://test.pypi.org/legacy/",
    "pypi": "https://upload.pypi.org/legacy/",
}
SIMPLE_URLS = {  # where each of those lists its files (PEP 503/691)
    "https://test.pypi.org/legacy/": "https://test.pypi.org/simple/",
    "https://upload.pypi.org/legacy/": "https://pypi.org/simple/",
}
SESSIONS = {"testpypi": "publish_test", "pypi": "publish"}
# What `record` lists for each session: `build` starts dist/ afresh, `wheels`
# first removes the wheels of its last run, so these are the files each wrote.
RECORDED = {"build": ("*.tar.gz", "*.whl"), "wheels": ("*.whl",)}
MANIFESTS = "manifest-*.json"
# hatch-vcs's version outside git (pyproject.toml, [tool.hatch.version]).
FALLBACK_VERSION = Version("0.0.0")
# The tags hatch-vcs takes a version from (setuptools-scm's default pattern).
TAG_PATTERN = r"^(?:[\w-]+-)?(?P<version>[vV]?\d+(?:\.\d+){0,2}[^\+]*)(?:\+.*)?$"
# The platform tags PyPI accepts (its upload checks). A plain linux_* wheel
# runs only on systems like the one that built it: refused, whatever the arch.
PLATFORM_TAGS = re.compile(
    r"any|win32|win_amd64|win_arm64|win_ia64|macosx_\d+_\d+_\w+"
    r"|(manylinux|musllinux)_\d+_\d+_\w+|manylinux(1|2010|2014)_\w+"
    r"|ios_\d+_\d+_\w+_(iphoneos|iphonesimulator)|android_\d+_\w+"
)
FALSE_WORDS = {"", "0", "false", "no", "off"}
# PyPI's simple pages are cached: a file just uploaded may be listed late.
READ_BACK_DELAYS = (0, 1, 2, 4, 8, 15, 30)

REBUILD = "Build again: nox -s build"
REMOVE = f"Remove it. {REBUILD}"
# Every refusal about one file, as data: why (filled in by the check that
# finds it) and the fix. Each is shown as one line: "<file>: <why>. <fix>."
REFUSALS = {
    "not a file": ("is {kind}, not a file that was built", REMOVE),
    "stranger": ("is not a wheel or sdist of {project}", REMOVE),
    "misnamed": (
        (
            "is not the name build tools write ({expected}), so it would be a second "
            "file beside the real one"
        ),
        REMOVE,
    ),
    "unreadable": ("is not a valid {kind}: {error}", REBUILD),
    "renamed": ("its {source} says {name} {version}: a renamed file?", REBUILD),
    "tags": ("its WHEEL file says {wheel}: a renamed file?", REBUILD),
    "twice": ("holds {members} more than once", REBUILD),
    "unrecorded": ("holds {members}, which its RECORD does not list", REBUILD),
    "changed": ("{members}: sha256 or size differs from its RECORD", REBUILD),
    "lost member": ("its RECORD lists {members}, which it does not hold", REBUILD),
    "layout": ("holds {members} outside its one top-level {top}/", REBUILD),
    "not an sdist": ("has no {top}/{member}, which every sdist has", REBUILD),
    "plain linux": (
        "has the plain Linux platform tag {tag}, which PyPI rejects",
        "Publish the manylinux/musllinux wheels that nox -s wheels makes",
    ),
    "platform": ("has the platform tag {tag}, which PyPI rejects", REMOVE),
    "unlisted": (
        (
            "no build manifest (dist/manifest-*.json) lists it, so nothing says "
            "which commit it was built from"
        ),
        REBUILD,
    ),
    "not as built": (
        (
            "its sha256 differs from the one {built_by} recorded in {manifest}: "
            "changed after the build?"
        ),
        REBUILD,
    ),
    "missing": ("{manifest} lists it, but it is not in dist/", REBUILD),
    "recorded twice": ("{manifest} and {other} record different builds", REBUILD),
    "bad manifest": ("is not a build manifest ({error})", REBUILD),
    "not HEAD": (
        (
            "{built_by} built from {commit}, but HEAD is {head}: the files may not "
            "hold what HEAD does"
        ),
        f"{REBUILD}, at HEAD",
    ),
    "dirty": (
        (
            "{built_by} built from a tree with uncommitted changes, so no commit "
            "holds the files' source"
        ),
        f"Commit or stash the changes. {REBUILD}",
    ),
    "no sdist": ("has no sdist", REBUILD),
    "no wheels": (
        "has no {kind} beside the sdist, so every user would build it from source",
        "Build them: nox -s {session} (in CI, its job's artifacts go to dist/)",
    ),
    "other build": (
        (
            "a different build of {release} is already on the index (sha256 {there} "
            "there, {here} here)"
        ),
        (
            "An index never replaces a file: bump the version and build again (for "
            "TestPyPI, a new commit makes a new development version)"
        ),
    ),
    "no hash": (
        "the index lists it without a sha256, so it cannot tell it is this build",
        "Compare it by hand, or bump the version and build again",
    ),
}


def env_flag(name: str) -> bool:
    """A variable read as a boolean: unset, empty, 0, false, no, off are false
    (as tools/install.py reads them for the sessions)."""
    return os.environ.get(name, "").strip().lower() not in FALSE_WORDS


IN_GITHUB_ACTIONS = env_flag("GITHUB_ACTIONS")
IN_CI = IN_GITHUB_ACTIONS or env_flag("CI")


@dataclass(frozen=True)
class Problem:
    """One refusal: what it is about, and the REFUSALS entry with its fields."""

    what: str
    refusal: str
    fields: dict[str, Any]

    def __str__(self) -> str:
        why, fix = REFUSALS[self.refusal]
        why = why.format(**self.fields) + ("" if why.endswith("?") else ".")
        return f"{self.what}: {why} {fix.format(**self.fields)}."


def problem(what: str, refusal: str, **fields: Any) -> Problem:
    return Problem(what, refusal, fields)


class Refusal(Exception):
    """A check failed before anything was sent."""

    def __init__(self, *problems: Problem | str) -> None:
        self.problems = problems
        super().__init__("\n  ".join(map(str, problems)))


class UploadFailed(Exception):
    """The upload started and failed: its message says what reached the index."""


@dataclass(frozen=True)
class DistFile:
    """One file of dist/: what its name says it is, its size and sha256."""

    path: Path
    name: NormalizedName
    version: Version
    tags: frozenset[Tag]  # empty for the sdist
    size: int
    sha256: str

    @property
    def is_wheel(self) -> bool:
        return self.path.suffix == ".whl"

    @property
    def stem(self) -> str:
        """`{name}-{version}` as build tools write it (PEP 427, PEP 625)."""
        return f"{self.name.replace('-', '_')}-{self.version}"


@dataclass(frozen=True)
class Manifest:
    """What `nox -s build` or `nox -s wheels` recorded beside its files."""

    path: Path
    built_by: str
    commit: str | None
    dirty: bool | None
    files: dict[str, str]  # file name: sha256


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for repository in UPLOAD_URLS:
        command = commands.add_parser(repository, help=f"upload dist/ to {repository}")
        command.add_argument("--yes", action="store_true", help="do not ask to confirm")
    recorder = commands.add_parser("record", help="write a build manifest in dist/")
    recorder.add_argument("session", choices=sorted(RECORDED))
    args = parser.parse_args()
    if args.command == "record":
        record(args.session)
        return 0
    try:
        publish(args.command, confirmed=args.yes)
    except Refusal as refusal:
        many = len(refusal.problems) > 1
        header = f"{len(refusal.problems)} problems in dist/:\n  " if many else ""
        print(
            f"\nNot published: {header}{refusal}\nNothing was uploaded.",
            file=sys.stderr,
        )
        return 1
    except UploadFailed as failure:
        print(f"\n{failure}", file=sys.stderr)
        return 1
    return 0


# --- the manifest: which commit dist/ was built from ------------------------


def record(session: str) -> None:
    """Write dist/manifest-<session>.json: the commit, whether the tree was
    clean, and the sha256 of each file the session wrote."""
    files = sorted({path for glob in RECORDED[session] for path in DIST.glob(glob)})
    head, status = run_git("rev-parse", "HEAD"), run_git("status", "--porcelain")
    # One manifest per wheels job (per platform), so that CI's artifacts merge.
    name = f"{session}-{platform.system()}-{platform.machine()}".lower()
    path = DIST / f"manifest-{session if session == 'build' else name}.json"
    commit = head.strip() if head is not None else None
    dirty = bool(status.strip()) if status is not None else None
    manifest = {
        "built_by": f"nox -s {session}",
        "commit": commit,
        "dirty": dirty,
        "files": {file.name: sha256_of(file) for file in files},
    }
    DIST.mkdir(exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tree = {None: "outside git", True: "uncommitted changes", False: "clean tree"}
    print(f"dist/{path.name}: {len(files)} file(s) built from {commit} ({tree[dirty]})")


def run_git(*args: str) -> str | None:
    """git's output, or None outside a repository (or without git)."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


# --- publishing: the pipeline -----------------------------------------------


def publish(repository: str, *, confirmed: bool) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = canonicalize_name(pyproject["project"]["name"])
    compiled = "cibuildwheel" in pyproject.get("tool", {})
    is_release, session = repository == "pypi", SESSIONS[repository]
    index = Index.at(os.environ.get("TWINE_REPOSITORY_URL") or UPLOAD_URLS[repository])

    files, manifests = read_dist(project)
    refuse_any(
        [p for f in files for p in check_contents(f)]
        + list(check_manifests(files, manifests))
    )
    release = f"{project} {files[0].version}"
    run_twine_check(files)
    incomplete = list(check_complete(files, compiled=compiled))
    if is_release:  # TestPyPI takes builds of any commit, clean or not
        refuse_any(incomplete)
        check_release_version(files[0].version)
        check_git_is_at_release_tag(files[0].version, pyproject)
        refuse_any(list(check_built_at_head(manifests)))
    for warning in incomplete:  # publish_test only (see check_complete)
        print(f"Warning: {warning}", flush=True)

    on_index = index.files(files[0])
    refuse_any(list(check_not_another_build(files, on_index, release)))
    to_upload = [f for f in files if f.path.name not in on_index]
    for name in sorted(on_index):
        built = any(f.path.name == name for f in files)
        note = "the same sha256, skipped" if built else "not in dist/, left as it is"
        print(f"{name}: already on the index ({note}).")
    if not to_upload:
        print(
            f"{release} is already published on {index.upload_url}: every file "
            "of dist/ is there, byte for byte. Nothing to do."
        )
        print(table(files, uploaded=set()))
        return
    if is_release and not IN_CI and not confirmed:
        confirm(to_upload, files, index.upload_url)
    upload(to_upload, index, repository, session, release)
    uploaded = {f.path.name for f in to_upload}
    read_back(files, index, uploaded, session)
    print(f"Published {release} to {index.upload_url}")
    print(table(files, uploaded))
    for warning in incomplete:
        print(f"Warning: {warning}")


def refuse_any(problems: list[Problem]) -> None:
    if problems:
        raise Refusal(*problems)


# --- 1. dist/: regular files, named as build tools name them ----------------


def read_dist(project: NormalizedName) -> tuple[list[DistFile], list[Manifest]]:
    """One record per file of dist/ (wheels first, the sdist last, so that a
    release cut short never offers only the sdist), and the manifests."""
    entries = [
        path
        for path in (sorted(DIST.iterdir()) if DIST.is_dir() else [])
        # uv build's .gitignore; attestations are made afresh at each upload
        if not path.name.startswith(".")
        and not path.name.endswith(".publish.attestation")
    ]
    files: list[DistFile] = []
    manifests: list[Manifest] = []
    problems: list[Problem] = []
    for path in entries:
        if path.is_symlink() or not path.is_file():
            kind = "a directory" if path.is_dir() else "not a regular file"
            if path.is_symlink():
                kind = f"a symbolic link (to {os.readlink(path)})"
            problems.append(problem(f"dist/{path.name}", "not a file", kind=kind))
            continue
        read = (
            read_manifest(path) if path.match(MANIFESTS) else read_file(path, project)
        )
        if isinstance(read, Problem):
            problems.append(read)
        elif isinstance(read, Manifest):
            manifests.append(read)
        else:
            files.append(read)
    refuse_any(problems)
    if not files:
        raise Refusal(
            "dist/ is missing or empty. Build first: nox -s build"
            " (and nox -s wheels for the platform wheels of a C extension)."
        )
    if len(versions := sorted({f.version for f in files})) > 1:
        raise Refusal(
            f"dist/ holds more than one version of {project} "
            f"({', '.join(map(str, versions))}). Empty it and build once: nox -s build."
        )
    return sorted(files, key=lambda f: (not f.is_wheel, f.path.name)), manifests


def read_file(path: Path, project: NormalizedName) -> DistFile | Problem:
    stranger = problem(path.name, "stranger", project=project)
    try:
        if path.suffix == ".whl":
            name, version, _, tags = parse_wheel_filename(path.name)
        else:
            (name, version), tags = parse_sdist_filename(path.name), frozenset()
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return stranger
    if name != project:
        return stranger
    size = path.stat().st_size
    dist_file = DistFile(path, name, version, tags, size, sha256_of(path))
    wheel_or_sdist = "-*.whl" if dist_file.is_wheel else ".tar.gz"
    if not fnmatch.fnmatchcase(path.name, expected := dist_file.stem + wheel_or_sdist):
        return problem(path.name, "misnamed", expected=expected)
    return dist_file


# --- 2. contents and provenance ---------------------------------------------


def check_contents(f: DistFile) -> Iterator[Problem]:
    kind = "wheel (a zip archive)" if f.is_wheel else "sdist (a .tar.gz archive)"
    try:
        yield from (check_wheel(f) if f.is_wheel else check_sdist(f))
    except (
        OSError,
        EOFError,
        KeyError,
        ValueError,
        zipfile.BadZipFile,
        tarfile.TarError,
        zlib.error,
    ) as error:
        yield problem(f.path.name, "unreadable", kind=kind, error=error)
    refused = sorted({tag.platform for tag in f.tags} - {"any"})
    refused = [p for p in refused if not PLATFORM_TAGS.fullmatch(p)]
    for platform_tag in refused:
        plain_linux = platform_tag.startswith("linux_")
        yield problem(
            f.path.name, "plain linux" if plain_linux else "platform", tag=platform_tag
        )


def check_wheel(f: DistFile) -> Iterator[Problem]:
    """METADATA and WHEEL agree with the name; RECORD with every member."""
    with zipfile.ZipFile(f.path) as wheel:
        names = [info.filename for info in wheel.infolist() if not info.is_dir()]
        if twice := sorted({name for name in names if names.count(name) > 1}):
            yield problem(f.path.name, "twice", members=listed(twice))
        dist_info = f"{f.stem}.dist-info"
        if f"{dist_info}/METADATA" not in names:  # a renamed file: read its own
            found = {
                n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")
            }
            dist_info = found.pop() if len(found) == 1 else dist_info
        metadata, _ = parse_email(wheel.read(f"{dist_info}/METADATA"))
        yield from check_name_and_version(f, "METADATA", metadata)
        wheel_file = email.parser.BytesHeaderParser().parsebytes(
            wheel.read(f"{dist_info}/WHEEL")
        )
        tags = {
            tag for line in wheel_file.get_all("Tag", []) for tag in parse_tag(line)
        }
        if tags != f.tags:
            yield problem(f.path.name, "tags", wheel=tag_list(tags))
        yield from check_record(f, wheel, names, f"{dist_info}/RECORD")


def check_record(
    f: DistFile, wheel: zipfile.ZipFile, names: list[str], record_name: str
) -> Iterator[Problem]:
    """Every member listed in RECORD with its sha256 and size, nothing more:
    what pip checks as it installs, checked before the file is published."""
    rows = csv.reader(io.StringIO(wheel.read(record_name).decode("utf-8")))
    record = {row[0]: row[1:3] for row in rows if row}
    unsigned = {record_name, f"{record_name}.jws", f"{record_name}.p7s"}
    changed = []
    for name in set(names) & set(record) - unsigned:
        data = wheel.read(name)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        if record[name] != [f"sha256={digest.decode()}", str(len(data))]:
            changed.append(name)
    if unrecorded := [name for name in names if name not in record.keys() | unsigned]:
        yield problem(f.path.name, "unrecorded", members=listed(unrecorded))
    if changed:
        yield problem(f.path.name, "changed", members=listed(sorted(changed)))
    if lost := [name for name in record if name not in names]:
        yield problem(f.path.name, "lost member", members=listed(lost))


def check_sdist(f: DistFile) -> Iterator[Problem]:
    """One top-level {name}-{version}/ holding PKG-INFO and pyproject.toml."""
    top = PurePosixPath(f.stem)
    with tarfile.open(f.path, "r:gz") as sdist:
        members = {PurePosixPath(m.name): m for m in sdist.getmembers()}
        outside = [
            str(p) for p in members if p.parts[:1] != top.parts or ".." in p.parts
        ]
        if outside:
            yield problem(f.path.name, "layout", members=listed(outside), top=top)
        for required in ("PKG-INFO", "pyproject.toml"):
            member = members.get(top / required)
            if member is None or not member.isfile():
                yield problem(f.path.name, "not an sdist", top=top, member=required)
        pkg_info = members.get(top / "PKG-INFO")
        if pkg_info is not None and (data := sdist.extractfile(pkg_info)) is not None:
            metadata, _ = parse_email(data.read())
            yield from check_name_and_version(f, "PKG-INFO", metadata)


def check_name_and_version(
    f: DistFile, source: str, metadata: RawMetadata
) -> Iterator[Problem]:
    name, version = metadata.get("name", "no name"), metadata.get("version", "")
    try:
        same = canonicalize_name(name) == f.name and Version(version) == f.version
    except InvalidVersion:
        same = False
    if not same:
        yield problem(f.path.name, "renamed", source=source, name=name, version=version)


def read_manifest(path: Path) -> Manifest | Problem:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = {str(name): str(digest) for name, digest in data["files"].items()}
        return Manifest(path, data["built_by"], data["commit"], data["dirty"], files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return problem(f"dist/{path.name}", "bad manifest", error=repr(error))


def check_manifests(
    files: list[DistFile], manifests: list[Manifest]
) -> Iterator[Problem]:
    """Each file listed, with its sha256, by a manifest, and each listed file there."""
    recorded: dict[str, Manifest] = {}
    for manifest in manifests:
        for name, digest in manifest.files.items():
            if name in recorded and recorded[name].files[name] != digest:
                yield problem(
                    name,
                    "recorded twice",
                    manifest=f"dist/{manifest.path.name}",
                    other=f"dist/{recorded[name].path.name}",
                )
            recorded[name] = manifest
    for f in files:
        if (listing := recorded.get(f.path.name)) is None:
            yield problem(f.path.name, "unlisted")
        elif listing.files[f.path.name] != f.sha256:
            where = f"dist/{listing.path.name}"
            yield problem(
                f.path.name, "not as built", built_by=listing.built_by, manifest=where
            )
    for name in sorted(recorded.keys() - {f.path.name for f in files}):
        yield problem(name, "missing", manifest=f"dist/{recorded[name].path.name}")


def check_built_at_head(manifests: list[Manifest]) -> Iterator[Problem]:
    """A release's files were built at HEAD (its tag) from a clean tree."""
    head = (run_git("rev-parse", "HEAD") or "").strip()
    for manifest in manifests:
        where, built_by = f"dist/{manifest.path.name}", manifest.built_by
        if manifest.commit != head:
            commit = (
                f"commit {manifest.commit[:12]}" if manifest.commit else "no commit"
            )
            yield problem(
                where,
                "not HEAD",
                built_by=built_by,
                commit=commit,
                head=head[:12] or "no commit",
            )
        elif manifest.dirty is not False:
            yield problem(where, "dirty", built_by=built_by)


def check_complete(files: list[DistFile], *, compiled: bool) -> Iterator[Problem]:
    """A release has an sdist and wheels, binary ones for a compiled project,
    so that pip never has to compile.

    `publish` refuses a release without them. `publish_test` uploads what there
    is, with these as warnings: on a laptop without a container engine a C
    extension's `nox -s build` makes only the sdist, and TestPyPI is where the
    upload itself is rehearsed; the wheels come from CI's wheels jobs.
    """
    if all(f.is_wheel for f in files):
        yield problem("dist/", "no sdist")
    binary = [f for f in files if any(t.platform != "any" for t in f.tags)]
    if not (binary if compiled else [f for f in files if f.is_wheel]):
        kind, session = ("binary wheels", "wheels") if compiled else ("wheel", "build")
        yield problem("dist/", "no wheels", kind=kind, session=session)


def run_twine_check(files: list[DistFile]) -> None:
    command = [sys.executable, "-m", "twine", "check", "--strict"]
    paths = [str(f.path) for f in files]
    result = subprocess.run(
        [*command, *paths], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise Refusal(
            "twine check --strict failed: fix the package metadata (often the "
            f"README's markup), then build again.\n{result.stdout}{result.stderr}"
        )


# --- 3. a release: a final version, at its tag, from a clean tree -----------


def check_release_version(version: Version) -> None:
    if version == FALLBACK_VERSION:
        raise Refusal(
            f"{version} is the placeholder version of a build made outside git. "
            "Build from a clone of the repository at a release tag."
        )
    if version.is_devrelease or version.local:
        raise Refusal(
            f"{version} is a development build, not a release: PyPI gets releases "
            "only (TestPyPI gets the rest). Tag the commit (git tag v1.2.3) and "
            "build again."
        )


def git(*args: str) -> str:
    if (output := run_git(*args)) is None:
        raise Refusal(
            f"git {' '.join(args)} failed. A release is published from a git "
            "repository at its release tag."
        )
    return output


def check_git_is_at_release_tag(version: Version, pyproject: dict[str, Any]) -> None:
    if changes := git("status", "--porcelain").strip():
        raise Refusal(
            "the git tree has uncommitted changes, so dist/ may not match any "
            f"commit:\n{changes}\nCommit or stash them, then build again."
        )
    # Tags compare as versions, as hatch-vcs reads them: v1.1.0-rc1 is 1.1.0rc1.
    hatch_version = pyproject.get("tool", {}).get("hatch", {}).get("version", {})
    pattern = hatch_version.get("tag-pattern", TAG_PATTERN)
    tags = git("tag", "--points-at", "HEAD").split()
    if not any(tag_version(tag, pattern) == version for tag in tags):
        at_head = f"HEAD's tags: {', '.join(tags)}" if tags else "HEAD has no tag"
        raise Refusal(
            f"HEAD is not the tag v{version} ({at_head}). Tag the release commit "
            f"(git tag v{version}), check it out, and build from it."
        )


def tag_version(tag: str, pattern: str) -> Version | None:
    try:
        match = re.search(pattern, tag)
        return Version(match.group("version")) if match else None
    except (InvalidVersion, IndexError, re.error):
        return None


# --- 4. the index: what is there already ------------------------------------


class _Links(html.parser.HTMLParser):
    """File names and #sha256= fragments of a PEP 503 simple page."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and (href := dict(attrs).get("href")):
            url, _, fragment = href.partition("#")
            name = urllib.parse.unquote(url.rstrip("/").rsplit("/", 1)[-1])
            algorithm, _, digest = fragment.partition("=")
            self.files[name] = digest.lower() if algorithm == "sha256" else None


@dataclass(frozen=True)
class Index:
    upload_url: str
    simple_url: str

    @classmethod
    def at(cls, upload_url: str) -> Index:
        upload_url = upload_url.rstrip("/") + "/"
        simple = os.environ.get("PUBLISH_SIMPLE_URL") or SIMPLE_URLS.get(upload_url)
        simple = simple or upload_url.removesuffix("legacy/") + "simple/"
        return cls(upload_url, simple.rstrip("/") + "/")

    def files(self, like: DistFile) -> dict[str, str | None]:
        """The files of like's version on the index, with their sha256 (None if
        it gives none): PEP 691 JSON if it offers it, else the PEP 503 page."""
        url = f"{self.simple_url}{like.name}/"
        accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
        request = urllib.request.Request(
            url, headers={"Accept": accept, "Cache-Control": "no-cache"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read().decode("utf-8")
                is_json = "json" in response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return {}  # the project's first upload
            raise Refusal(
                f"the index answered {error.code} {error.reason} to {url}. "
                "Check TWINE_REPOSITORY_URL (and PUBLISH_SIMPLE_URL)."
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Refusal(
                f"could not reach the index at {url} ({reason}). Check the "
                "network and TWINE_REPOSITORY_URL, then run this again."
            ) from None
        if is_json:
            listing = {
                entry["filename"]: entry.get("hashes", {}).get("sha256")
                for entry in json.loads(body)["files"]
            }
        else:
            links = _Links()
            links.feed(body)
            listing = links.files
        return {n: h for n, h in listing.items() if version_of(n) == like.version}


def version_of(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def check_not_another_build(
    files: list[DistFile], on_index: dict[str, str | None], release: str
) -> Iterator[Problem]:
    for f in files:
        if f.path.name not in on_index:
            continue
        if (there := on_index[f.path.name]) is None:
            yield problem(f.path.name, "no hash")
        elif there != f.sha256:
            yield problem(
                f.path.name,
                "other build",
                release=release,
                there=there[:12],
                here=f.sha256[:12],
            )


def confirm(to_upload: list[DistFile], files: list[DistFile], url: str) -> None:
    listing = "".join(
        f"\n  {f.path.name}" + ("" if f in to_upload else " (already there)")
        for f in files
    )
    if not sys.stdin.isatty():
        raise Refusal(
            "publishing to PyPI needs a confirmation, and there is no terminal to "
            "ask. Run: nox -s publish -- --yes"
        )
    question = f"Upload these files to {url}?{listing}\nType 'yes' to upload: "
    if input(question).strip().lower() not in {"y", "yes"}:
        raise Refusal("not confirmed.")


# --- 5. upload, then read back ----------------------------------------------

# What twine's output means when an upload fails: (pattern, what happened,
# what to do); the first match wins. A dropped connection is ambiguous: the
# index may have stored the file all the same.
AUTH_FIX = (
    "Check the trusted publisher on the index (this repository, workflow ci.yml, "
    "the job's environment) and the job's `id-token: write`"
    if IN_GITHUB_ACTIONS
    else "Check the API token: TWINE_USERNAME=__token__ and TWINE_PASSWORD (or "
    "keyring, ~/.pypirc) must hold a token of this index for this project"
)
UPLOAD_FAILURES = (
    (r"HTTPError: 40[13] ", "the index refused the credentials ({error})", AUTH_FIX),
    (
        r"HTTPError: 4\d\d ",
        "the index rejected {file} ({error})",
        "Fix what it names (and build again if that changes the files)",
    ),
    (
        r"HTTPError: 5\d\d ",
        "the index failed while receiving {file} ({error})",
        "That is on the index's side: wait a little",
    ),
    (
        r"NameResolutionError|Name or service not known|nodename nor servname",
        "could not reach the index at {url}: its name does not resolve ({error})",
        "Check the network and TWINE_REPOSITORY_URL",
    ),
    (
        r"Connection aborted|Connection reset|ConnectionError|Max retries|timed out",
        "the connection to the index at {url} broke while sending {file} ({error})",
        "Check the network",
    ),
    (
        r"Credential not found|NonInteractive",
        "twine found no credentials for {url} ({error})",
        (
            "Set TWINE_USERNAME=__token__ and TWINE_PASSWORD (an API token), or store "
            "it in keyring or ~/.pypirc"
        ),
    ),
)
HTTP_ERROR = re.compile(
    r"HTTPError: (?P<status>\d{3}) (?P<reason>.*?) from \S+[ \t]*\n"
    r"(?P<detail>(?:[ \t]+\S.*\n?)*)"
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def upload(
    files: list[DistFile], index: Index, repository: str, session: str, release: str
) -> None:
    paths = [str(f.path) for f in files]
    command = [
        sys.executable,
        "-m",
        "twine",
        "upload",
        "--repository",
        repository,
        "--non-interactive",
        "--disable-progress-bar",
    ]
    if IN_GITHUB_ACTIONS:
        # Trusted publishing: twine trades the job's OIDC token for a short-lived
        # upload token. The attestations are signed with the same identity.
        signing = subprocess.run(
            [sys.executable, "-m", "pypi_attestations", "sign", *paths], check=False
        )
        if signing.returncode != 0:
            raise Refusal(
                "could not sign the PEP 740 attestations (above). The job needs "
                "`permissions: id-token: write`, and PyPI a trusted publisher for "
                "this repository, workflow and environment (README: Releasing)."
            )
        command.append("--attestations")
    size = human_size(sum(f.size for f in files))
    print(
        f"Uploading {release} to {index.upload_url} ({len(files)} files, {size})",
        flush=True,
    )
    result = subprocess.run(
        [*command, *paths],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"COLUMNS": "200"},  # one line per message
    )
    output = ANSI.sub("", result.stdout + result.stderr)
    if result.returncode != 0:
        raise UploadFailed(failure_report(output, files, index, session))
    print(indent(output))


def failure_report(
    output: str, files: list[DistFile], index: Index, session: str
) -> str:
    """Our one-line message, which files reached the index, how to finish the
    release, and then twine's own output."""
    started = re.findall(r"^Uploading (\S+)[ \t]*$", output, re.MULTILINE)
    sending = started[-1] if started else files[0].path.name
    # twine sends one file after the other (retrying some), stops at a failure
    sent = set(started) - {sending}
    message, fix = f"twine upload failed while sending {sending}", "See twine's output"
    ambiguous = True
    for pattern, what, to_do in UPLOAD_FAILURES:
        if matches := list(re.finditer(pattern, output)):
            # The last line that says it: a traceback ends with its exception.
            start = output.rfind("\n", 0, matches[-1].start()) + 1
            line = output[start:].split("\n")[0].strip().removeprefix("ERROR")
            error = re.sub(r"^[\w.]+\.(?=\w+Error\b)", "", line.strip())
            if http := HTTP_ERROR.search(output):
                detail = " ".join(http["detail"].split())
                error = f"{http['status']} {detail or http['reason']}"
            message = what.format(file=sending, url=index.upload_url, error=error)
            fix, ambiguous = to_do, "connection" in what
            break
    try:
        on_index = index.files(files[0])
    except Refusal as unreadable:
        reached = (
            f"Could not read the index to see which files reached it "
            f"({unreadable}). twine sent: {', '.join(sorted(sent)) or 'none'}."
        )
    else:
        there = [f.path.name for f in files if on_index.get(f.path.name) == f.sha256]
        late = sorted(sent - set(there))  # sent, but a cached index lists it late
        missing = [f.path.name for f in files if f.path.name not in there + late]
        if there or late:
            reached = (
                f"These reached the index: {', '.join(there + late)}"
                + (f" ({', '.join(late)}: sent, not listed yet)" if late else "")
                + f".\nNot on the index: {', '.join(missing) or 'none'}."
            )
        elif ambiguous:
            reached = f"The index does not list any of them yet: {', '.join(missing)}."
        else:
            reached = "None of them reached the index: nothing was uploaded."
    rerun = (
        f"Run `nox -s {session}` again (in CI, re-run the {session} job) to "
        "finish the release: it skips the files already on the index and "
        "uploads the rest."
    )
    return (
        f"Not published completely: {message}. {fix}.\n{reached}\n{rerun}\n\n"
        f"twine upload said:\n{indent(condensed(output))}"
    )


def condensed(output: str) -> str:
    """twine's output, a traceback in it cut to its last line; the whole of
    it goes to a file, which is named."""
    head, marker, rest = output.partition("Traceback (most recent call last):")
    if not marker:
        return output
    with tempfile.NamedTemporaryFile(
        "w", prefix="twine-upload-", suffix=".log", delete=False, encoding="utf-8"
    ) as log:
        log.write(output)
    last = rest.strip().splitlines()[-1]
    return f"{head.rstrip()}\n[twine's traceback ends:] {last}\n[all of it: {log.name}]"


def read_back(
    files: list[DistFile], index: Index, uploaded: set[str], session: str
) -> None:
    """After the upload: every file of dist/ is on the index with its sha256."""
    rerun = f"Running `nox -s {session}` again is safe: it skips what is there."
    for delay in READ_BACK_DELAYS:
        time.sleep(delay)
        try:
            on_index = index.files(files[0])
        except Refusal as unreadable:
            raise UploadFailed(
                f"twine uploaded {', '.join(sorted(uploaded))}, but "
                f"the index cannot be read back: {unreadable}\n{rerun}"
            ) from None
        there = {f.path.name: on_index.get(f.path.name, "missing") for f in files}
        wrong = [
            f.path.name
            for f in files
            if there[f.path.name] not in {f.sha256, "missing", None}
        ]
        missing = [name for name in there if there[name] == "missing"]
        if wrong:
            raise UploadFailed(
                f"Uploaded, but the index holds other bytes than dist/ "
                f"for {', '.join(wrong)}: look at it before anything else."
            )
        if not missing:
            for name in [name for name in there if there[name] is None]:
                print(f"Note: the index gives no sha256 for {name}: not verified.")
            return
    raise UploadFailed(
        f"twine uploaded {', '.join(sorted(uploaded))}, but after "
        f"{sum(READ_BACK_DELAYS)} s the index does not list "
        f"{', '.join(missing)}. Look again in a few minutes. {rerun}"
    )


def table(files: list[DistFile], uploaded: set[str]) -> str:
    rows = [("file", "size", "sha256", "")] + [
        (
            f.path.name,
            human_size(f.size),
            f.sha256[:12],
            "uploaded now" if f.path.name in uploaded else "already there",
        )
        for f in files
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  "
        + "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


def listed(names: list[str], most: int = 3) -> str:
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def tag_list(tags: set[Tag] | frozenset[Tag]) -> str:
    return ", ".join(sorted(map(str, tags))) or "no tags"


def human_size(size: int) -> str:
    scaled, unit = float(size), "B"
    for larger in ("kB", "MB", "GB"):
        if scaled < 1000:
            break
        scaled, unit = scaled / 1000, larger
    return f"{scaled:.0f} {unit}" if unit == "B" else f"{scaled:.1f} {unit}"


def indent(text: str) -> str:
    return "\n".join(f"  {line.rstrip()}" for line in text.strip().splitlines())


if __name__ == "__main__":
    sys.exit(main())
