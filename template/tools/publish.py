"""Upload dist/ to TestPyPI or PyPI with `uv publish`, after the checks that
make a release safe. `nox -s publish_test|publish` runs `python tools/publish.py
testpypi|pypi [--yes]`; `nox -s build|wheels` ends with `... record build|wheels`,
a manifest in dist/ of the commit, whether the tree was clean, each file's sha256.

Nothing is sent before every check passed (each refusal: tools/publish.toml):
1. dist/: regular files, the wheels and one sdist of this project, named as
   build tools name them, each listed with its sha256 by a manifest;
2. installer checks RECORD, check-wheel-contents the members, `twine check
   --strict` the metadata; this file what none of them does;
3. bound for PyPI, from either session: a final version, built at HEAD, its
   tag, from a clean tree, wheels beside the sdist;
4. `uv publish --dry-run --check-url`: each file new, or on the index with the
   same sha256. Then `uv publish --check-url` (a rerun skips what is there),
   and the same dry run reads back what reached the index.
uv gets UV_PUBLISH_URL or TWINE_REPOSITORY_URL, UV_PUBLISH_CHECK_URL or
PUBLISH_SIMPLE_URL, and UV_PUBLISH_TOKEN or TWINE_USERNAME/TWINE_PASSWORD; in
GitHub Actions without a token, trusted publishing (and attestations for PyPI).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
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
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from installer.exceptions import InstallerError
from installer.sources import WheelFile
from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).parent.parent.resolve()
DIST = ROOT / "dist"
WORDS = tomllib.loads(Path(__file__).with_suffix(".toml").read_text(encoding="utf-8"))
INDEXES = {  # upload URL, simple API
    "testpypi": ("https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"),
    "pypi": ("https://upload.pypi.org/legacy/", "https://pypi.org/simple/"),
}
SESSIONS = {"testpypi": "publish_test", "pypi": "publish"}
RECORDED = {"build": ("*.tar.gz", "*.whl"), "wheels": ("*.whl",)}  # what each wrote
FALSE = {"", "0", "false", "no", "off"}
IN_GITHUB_ACTIONS = os.environ.get("GITHUB_ACTIONS", "").lower() not in FALSE
IN_CI = IN_GITHUB_ACTIONS or os.environ.get("CI", "").lower() not in FALSE
TAG_PATTERN = r"^(?:[\w-]+-)?(?P<version>[vV]?\d+(?:\.\d+){0,2}[^\+]*)(?:\+.*)?$"
READ_BACK_DELAYS = (2, 5, 10)  # PyPI may list a file just uploaded late
SECRETS: list[str] = []  # masked in everything printed


class Refusal(Exception):
    """Checks failed before anything was sent; each argument is a line."""


def refusal(what: str, key: str, **fields: Any) -> str:
    why, fix = WORDS["refusals"][key]
    why = why.format(**fields) + ("" if why.endswith("?") else ".")
    return f"{what}: {why} {fix.format(**fields)}."


def refuse(lines: list[str]) -> None:
    if lines:
        raise Refusal(*lines)


@dataclass(frozen=True)
class DistFile:
    path: Path
    version: Version
    tags: frozenset[Tag]  # none for the sdist
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for repository in INDEXES:
        command = commands.add_parser(repository, help=f"upload dist/ to {repository}")
        command.add_argument("--yes", action="store_true", help="do not ask to confirm")
    commands.add_parser("record").add_argument("session", choices=sorted(RECORDED))
    args = parser.parse_args()
    if args.command == "record":
        return record(args.session)
    try:
        return publish(args.command, confirmed=args.yes)
    except Refusal as refused:
        many = f"{len(refused.args)} problems in dist/:\n  " if len(refused.args) > 1 else ""
        lines = "\n  ".join(refused.args)
        print(mask(f"\nNot published: {many}{lines}\nNothing was uploaded."), file=sys.stderr)
    except KeyboardInterrupt:
        print("\nNot published: interrupted (Ctrl-C) before anything was sent. "
              "Nothing was uploaded.", file=sys.stderr)  # fmt: skip
    return 1


def record(session: str) -> int:
    files = sorted({path for glob in RECORDED[session] for path in DIST.glob(glob)})
    head, status = git("rev-parse", "HEAD"), git("status", "--porcelain")
    name = f"{session}-{platform.system()}-{platform.machine()}".lower()  # per runner
    path = DIST / f"manifest-{session if session == 'build' else name}.json"
    dirty = bool(status.strip()) if status is not None else None
    manifest = {"built_by": f"nox -s {session}", "dirty": dirty,
                "commit": head.strip() if head is not None else None,
                "files": {f.name: sha256_of(f) for f in files}}  # fmt: skip
    DIST.mkdir(exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tree = "a clean tree" if dirty is False else "uncommitted changes"
    at = f"commit {head.strip()[:12]}, {tree}" if head else "outside git"
    print(f"dist/{path.name}: {plural(len(files), 'file')} built ({at})")
    return 0


def git(*args: str) -> str | None:
    """git's output, or None outside a repository (or without git)."""
    try:
        ran = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return ran.stdout if ran.returncode == 0 else None


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def mask(text: str) -> str:
    """What we print: never a password or token, from the URL or a variable."""
    for secret in SECRETS:
        text = text.replace(secret, "****")
    return re.sub(r"//[^/@\s]*:[^/@\s]*@", "//****@", text)


def safe(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//", url)  # never a token written into a URL


# --- the pipeline -----------------------------------------------------------


def publish(repository: str, *, confirmed: bool) -> int:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    env, session = dict(os.environ), SESSIONS[repository]
    url = env.get("UV_PUBLISH_URL") or env.get("TWINE_REPOSITORY_URL") or ""
    url = (url or INDEXES[repository][0]).rstrip("/") + "/"
    check = env.get("UV_PUBLISH_CHECK_URL") or env.get("PUBLISH_SIMPLE_URL") or dict(
        INDEXES.values()).get(url, url.removesuffix("legacy/") + "simple/")  # fmt: skip
    to_pypi = urlsplit(url).hostname in {"upload.pypi.org", "pypi.org"}
    files, manifests = read_dist(canonicalize_name(pyproject["project"]["name"]))
    refuse([line for f in files for line in check_contents(f)])
    refuse(run_tools(files) + list(check_manifests(files, manifests)))
    compiled = "cibuildwheel" in pyproject.get("tool", {})
    incomplete = list(check_complete(files, compiled=compiled))
    if repository == "pypi" or to_pypi:  # whichever the session: PyPI gets releases
        refuse(incomplete + list(check_release(files[0].version, pyproject, manifests)))
    for warning in incomplete:
        print(f"Warning: {warning}", flush=True)

    if env.get("TWINE_PASSWORD") and not (env.get("UV_PUBLISH_TOKEN") or urlsplit(url).username):
        env.setdefault("UV_PUBLISH_USERNAME", env.get("TWINE_USERNAME", "__token__"))
        env.setdefault("UV_PUBLISH_PASSWORD", env["TWINE_PASSWORD"])
    token = [env.get(k) for k in ("UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD")]
    secrets = [s for s in [*token, urlsplit(url).password, urlsplit(check).password] if s]
    trusted = IN_GITHUB_ACTIONS and not secrets  # a token given wins over OIDC
    env |= {"UV_PUBLISH_URL": url, "UV_PUBLISH_CHECK_URL": check, "NO_COLOR": "1"}
    SECRETS.extend(secrets)
    uv = Uv(env, ["--trusted-publishing", "always" if trusted else "never"])
    code, state, said = uv.listing(files)
    refuse(list(check_index(files, code, said, url, check)))
    new = [f for f in files if state.get(f.name) != "there"]
    for f in files:
        if f not in new:
            print(f"{f.name}: already on the index (the same sha256, skipped).")
    release = f"{files[0].name.split('-')[0].replace('_', '-')} {files[0].version}"
    if not new:
        print(f"{release} is already published on {safe(url)}: every file of dist/ "
              f"is there, byte for byte. Nothing to do.\n{table(files, [])}")  # fmt: skip
        return 0
    if repository == "pypi" and not IN_CI and not confirmed:
        confirm(files, new, safe(url))
    if trusted and to_pypi:  # TestPyPI has refused attestations (400): PyPI's only
        uv.attest(files)
    size = human_size(sum(f.path.stat().st_size for f in new))
    print(f"Uploading {release} to {safe(url)}: {plural(len(new), 'file')}, {size}",
          flush=True)  # fmt: skip
    try:
        code, output = uv.run([*files, *uv.attestations])
    except KeyboardInterrupt:
        code, output = -2, uv.said
    if code == 0:  # the read-back
        for delay in (0, *READ_BACK_DELAYS):
            time.sleep(delay)
            code, state, said = uv.listing(files)
            if code or all(state.get(f.name) == "there" for f in files):
                break
        if code == 0 and all(state.get(f.name) == "there" for f in files):
            print(f"Published {release} to {safe(url)}\n{table(files, new)}")
            for warning in incomplete:
                print(f"Warning: {warning}")
            return 0
        what, fix = (f"uv uploaded {', '.join(f.name for f in new)}, but {safe(check)} "
                     f"does not list them all", "Is PUBLISH_SIMPLE_URL (or UV_PUBLISH_"
                     "CHECK_URL) the index's simple API? An index may also list a new "
                     "file late: look again in a minute")  # fmt: skip
        if code:
            what, fix = f"the index could not be read back ({cause(said)})", "Check the network"
        output += f"\n\nuv publish --dry-run (the read-back) said:\n{said}"
        code = 0  # every file was sent
    else:
        what, fix = failure(code, output, url, check)
    print(mask(f"\nNot published completely: {what}. {fix}.\n{reached(files, uv, output, complete=code == 0)}"
               f"\nRun `nox -s {session}` again (in CI, re-run the {session} job) to "
               "finish the release: it skips the files already on the index and "
               f"uploads the rest.\n\nuv publish said:\n{indent(output)}"), file=sys.stderr)  # fmt: skip
    return 1


# --- 1. dist/, 2. contents and provenance -------------------------------------


def read_dist(project: str) -> tuple[list[DistFile], list[dict[str, Any]]]:
    """The wheels and the sdist (in the order uv uploads them: the wheels
    first, so a release cut short never offers only the sdist), the manifests."""
    files, manifests, problems = [], [], []
    entries = sorted(DIST.iterdir()) if DIST.is_dir() else []
    for path in entries:  # uv build's .gitignore; attestations are made afresh
        if path.name.startswith(".") or path.name.endswith(".publish.attestation"):
            continue
        if path.is_symlink() or not path.is_file():
            kind = "a directory" if path.is_dir() else "not a regular file"
            kind = f"a symbolic link (to {os.readlink(path)})" if path.is_symlink() else kind
            problems.append(refusal(f"dist/{path.name}", "not a file", kind=kind))
        elif re.fullmatch(r"manifest-.*\.json", path.name):
            try:
                manifests.append(json.loads(path.read_text(encoding="utf-8")) | {"path": path})
                assert isinstance(manifests[-1]["files"], dict), "no files"
                assert {"built_by", "commit", "dirty"} <= manifests[-1].keys(), "keys"
            except (ValueError, AssertionError, TypeError, KeyError) as error:
                problems.append(refusal(f"dist/{path.name}", "bad manifest", error=repr(error)))
        else:
            try:
                if path.suffix == ".whl":
                    name, version, _, tags = parse_wheel_filename(path.name)
                else:
                    (name, version), tags = parse_sdist_filename(path.name), frozenset()
            except ValueError:  # packaging's Invalid*Filename, InvalidVersion
                name = None
            if name != project:
                problems.append(refusal(path.name, "stranger", project=project))
                continue
            f = DistFile(path, version, tags, sha256_of(path))
            stem = f"{project.replace('-', '_')}-{version}"
            expected = stem + ("-*.whl" if tags else ".tar.gz")
            if not re.fullmatch(re.escape(expected).replace(r"\*", ".*"), path.name):
                problems.append(refusal(path.name, "misnamed", expected=expected))
            files.append(f)
    refuse(problems)
    if not files:
        refuse([refusal("dist/", "empty")])
    if len(versions := sorted({f.version for f in files})) > 1:
        listed = ", ".join(map(str, versions))
        refuse([refusal("dist/", "versions", project=project, versions=listed)])
    return sorted(files, key=lambda f: (not f.tags, f.name)), manifests


def check_contents(f: DistFile) -> Iterator[str]:
    kind = "wheel (a zip archive)" if f.tags else "sdist (a .tar.gz archive)"
    try:
        yield from (check_wheel(f) if f.tags else check_sdist(f))
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile,
            tarfile.TarError, InstallerError) as error:  # fmt: skip
        yield refusal(f.name, "unreadable", kind=kind, error=error)
    for tag in sorted({t.platform for t in f.tags if t.platform.startswith("linux_")}):
        yield refusal(f.name, "plain linux", tag=tag)


def check_wheel(f: DistFile) -> Iterator[str]:
    """What the wheel says it is against its name; RECORD: installer's check
    (`python -m installer --validate-record all`), and no row without a file."""
    with WheelFile.open(f.path) as source:
        try:
            source.validate_record(validate_contents=True)
        except InstallerError as error:
            issues = getattr(error, "issues", [str(error)])
            said = "; ".join(re.sub(r"^In [^,]*, ", "", str(i)) for i in issues)
            yield refusal(f.name, "record", issues=said)
        info = source.dist_info_dir
    with zipfile.ZipFile(f.path) as wheel:
        parse = BytesHeaderParser().parsebytes
        meta, tags = parse(wheel.read(f"{info}/METADATA")), parse(wheel.read(f"{info}/WHEEL"))
        said = (canonicalize_name(meta["Name"] or ""), meta["Version"],
                sorted(str(t) for line in tags.get_all("Tag", []) for t in parse_tag(line)))  # fmt: skip
        if said != (canonicalize_name(f.name.split("-")[0]), str(f.version), sorted(map(str, f.tags))):
            words = f"{said[0]} {said[1]}, {', '.join(said[2]) or 'no tags'}"
            yield refusal(f.name, "renamed", source="its METADATA and WHEEL say", said=words)
        rows = csv.reader(io.StringIO(wheel.read(f"{info}/RECORD").decode("utf-8")))
        if lost := [row[0] for row in rows if row and row[0] not in wheel.namelist()]:
            yield refusal(f.name, "lost member", members=", ".join(lost[:3]))


def check_sdist(f: DistFile) -> Iterator[str]:
    """One top-level {name}-{version}/ holding PKG-INFO and pyproject.toml."""
    top = PurePosixPath(f.name.removesuffix(".tar.gz"))
    with tarfile.open(f.path, "r:gz") as sdist:
        members = {PurePosixPath(m.name): m for m in sdist.getmembers()}
        if out := [str(p) for p in members if p.parts[:1] != top.parts or ".." in p.parts]:
            yield refusal(f.name, "layout", members=", ".join(out[:3]), top=top)
        for required in ("PKG-INFO", "pyproject.toml"):
            if not ((member := members.get(top / required)) and member.isfile()):
                yield refusal(f.name, "not an sdist", top=top, member=required)
        if (info := members.get(top / "PKG-INFO")) and (data := sdist.extractfile(info)):
            meta = BytesHeaderParser().parsebytes(data.read())
            name, version = canonicalize_name(meta["Name"] or ""), meta["Version"]
            if (name, version) != (canonicalize_name(top.name.split("-")[0]), str(f.version)):
                yield refusal(f.name, "renamed", source="its PKG-INFO says", said=f"{name} {version}")


def run_tools(files: list[DistFile]) -> list[str]:
    """twine check --strict (the metadata PyPI renders), check-wheel-contents."""
    wheels = [str(f.path) for f in files if f.tags]
    problems = []
    for tool, command in [("twine check --strict", ["twine", "check", "--strict"]),
                          ("check-wheel-contents", ["check_wheel_contents"])]:  # fmt: skip
        paths = [str(f.path) for f in files] if tool.startswith("twine") else wheels
        ran = subprocess.run([sys.executable, "-m", *command, *paths], cwd=ROOT,
                             capture_output=True, text=True)  # fmt: skip
        if paths and ran.returncode != 0:
            said = indent(ran.stdout + ran.stderr)
            problems.append(refusal("dist/", "tool", tool=tool) + f"\n{said}")
    return problems


def check_manifests(files: list[DistFile], manifests: list[dict[str, Any]]) -> Iterator[str]:
    recorded: dict[str, dict[str, Any]] = {}
    for m in manifests:
        for name, digest in m["files"].items():
            if name in recorded and recorded[name]["files"][name] != digest:
                where = [f"dist/{x['path'].name}" for x in (m, recorded[name])]
                yield refusal(name, "recorded twice", manifest=where[0], other=where[1])
            recorded[name] = m
    for f in files:
        if (m := recorded.get(f.name)) is None:
            yield refusal(f.name, "unlisted")
        elif m["files"][f.name] != f.sha256:
            where = f"dist/{m['path'].name}"
            yield refusal(f.name, "not as built", by=m["built_by"], manifest=where)
    for name in sorted(recorded.keys() - {f.name for f in files}):
        yield refusal(name, "missing", manifest=f"dist/{recorded[name]['path'].name}")


def check_complete(files: list[DistFile], *, compiled: bool) -> Iterator[str]:
    """An sdist, and wheels (binary for a compiled project) so pip never
    compiles; `publish_test` only warns (a laptop may lack a container engine)."""
    if all(f.tags for f in files):
        yield refusal("dist/", "no sdist")
    binary = [f for f in files if any(t.platform != "any" for t in f.tags)]
    if not (binary if compiled else [f for f in files if f.tags]):
        kind, session = ("binary wheels", "wheels") if compiled else ("wheel", "build")
        yield refusal("dist/", "no wheels", kind=kind, session=session)


# --- 3. a release: a final version, built at its tag from a clean tree -------


def check_release(version: Version, pyproject: dict[str, Any],
                  manifests: list[dict[str, Any]]) -> Iterator[str]:  # fmt: skip
    if version == Version("0.0.0"):  # hatch-vcs's fallback-version, outside git
        yield refusal("dist/", "placeholder", version=version)
    elif version.is_devrelease or version.local:
        yield refusal("dist/", "dev", version=version)
    head, changes, tags = (git(*c) for c in (("rev-parse", "HEAD"), ("status", "--porcelain"),
                                              ("tag", "--points-at", "HEAD")))  # fmt: skip
    if head is None or changes is None or tags is None:
        yield refusal("git", "no git", command="rev-parse HEAD")
        return
    if changes.strip():
        yield refusal("the git tree", "dirty tree", changes=changes.rstrip())
    hatch = pyproject.get("tool", {}).get("hatch", {}).get("version", {})
    pattern = hatch.get("tag-pattern", TAG_PATTERN)  # read as hatch-vcs reads tags
    if not any(tag_version(tag, pattern) == version for tag in tags.split()):
        said = f"HEAD's tags: {', '.join(tags.split())}" if tags.split() else "HEAD has no tag"
        yield refusal("git", "not the tag", version=version, tags=said)
    for m in manifests:
        commit, by, where = m["commit"], m["built_by"], f"dist/{m['path'].name}"
        if commit != head.strip():
            built = f"commit {commit[:12]}" if commit else "no commit"
            yield refusal(where, "not HEAD", by=by, commit=built, head=head.strip()[:12])
        elif m["dirty"] is not False:
            yield refusal(where, "dirty", by=by)


def tag_version(tag: str, pattern: str) -> Version | None:
    try:
        match = re.search(pattern, tag)
        return Version(match.group("version")) if match else None
    except (InvalidVersion, IndexError, re.error):
        return None


# --- 4. uv publish: check, upload, read back ----------------------------------


@dataclass
class Uv:
    env: dict[str, str]
    flags: list[str]
    attestations: list[Path] = field(default_factory=list)
    said: str = ""

    def run(self, paths: list[DistFile | Path], *args: str) -> tuple[int, str]:
        """uv publish's exit code and output (secrets masked); uv uploads the
        wheels first, then the sdist, one file after the other."""
        names = [str(p.path if isinstance(p, DistFile) else p) for p in paths]
        command = [sys.executable, "-m", "uv", "publish", "--no-progress", *self.flags]
        with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
            try:
                code = subprocess.run([*command, *args, *names], cwd=ROOT, env=self.env,
                                      stdout=log, stderr=subprocess.STDOUT).returncode  # fmt: skip
            finally:
                log.seek(0)
                self.said = log.read()
        return code, self.said

    def listing(self, files: list[DistFile]) -> tuple[int, dict[str, str], str]:
        """The dry run: each file "there" (the same sha256) or "new", as uv
        reads the index, and what uv said."""
        code, said = self.run(list(files), "--dry-run")
        found = re.finditer(r"^File (\S+) already exists|^Checking (\S+) \(", said, re.M)
        return code, {m[1] or m[2]: "there" if m[1] else "new" for m in found}, said

    def attest(self, files: list[DistFile]) -> None:
        """PEP 740 attestations, signed with the job's identity (pypi-attestations)."""
        for stale in DIST.glob("*.publish.attestation"):
            stale.unlink()
        paths = [str(f.path) for f in files]
        if subprocess.run([sys.executable, "-m", "pypi_attestations", "sign", *paths]).returncode:
            refuse([refusal("dist/", "unsigned")])
        self.attestations = [Path(f"{p}.publish.attestation") for p in paths]


def check_index(files: list[DistFile], code: int, said: str, url: str, check: str) -> Iterator[str]:
    """The dry run's refusals: another build of a file already there, or none
    of the index's answer to read."""
    found = False
    for m in re.finditer(r"do not match for `?(\S+?)`?\. Local: \w+=(\w+), Remote: \w+=(\w+)", said):
        found = True
        yield refusal(m[1], "other build", said=f"sha256 {m[3][:12]} there, {m[2][:12]} here")
    for m in re.finditer(r"Hash is missing in index for `?(\S+?)`?$", said, re.MULTILINE):
        found = True
        yield refusal(m[1], "no hash")
    if code and not found:
        what, fix = failure(code, said, url, check)
        yield f"{what}. {fix}.\n\nuv publish --dry-run said:\n{indent(said)}"


def cause(said: str) -> str:
    """uv's last word on a failure: the innermost cause of its error."""
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    causes = [line.removeprefix("cause:").strip() for line in lines if line.startswith("cause:")]
    return (causes or lines or ["no output"])[-1]


def failure(code: int, said: str, url: str, check: str) -> tuple[str, str]:
    """Our one line on a failed upload: what happened, and what to do."""
    if code == -2:
        return "interrupted (Ctrl-C) while uploading", "Nothing more is sent"
    sending = re.findall(r"^Uploading (\S+) \(", said, re.MULTILINE)
    file = sending[-1] if sending else "the files"
    for pattern, what, fix in WORDS["failures"]:
        if re.search(pattern, said):
            what = what.format(file=file, url=safe(url), check=safe(check))
            return f"{what} ({cause(said)})", fix
    raise AssertionError("the last of publish.toml's failures matches anything")


def reached(files: list[DistFile], uv: Uv, output: str, *, complete: bool) -> str:
    """What the index holds now, read back (or, if it cannot be read, what
    uv says it sent)."""
    try:
        code, state, said = uv.listing(files)
    except KeyboardInterrupt:
        code, state, said = -2, {}, "interrupted (Ctrl-C)"
    there = [f.name for f in files if state.get(f.name) == "there"]
    missing = [f.name for f in files if f.name not in there]
    if code == 0 and there:
        return f"These reached the index: {', '.join(there)}.\nNot on the index: {', '.join(missing) or 'none'}."
    if code == 0:
        return "None of them reached the index: nothing was uploaded."
    sent = re.findall(r"^Uploading (\S+) \(", output, re.MULTILINE)
    sent = sent if complete else sent[:-1]  # uv sends one file after the other
    return (f"The index could not be read back ({cause(said)}); uv sent "
            f"{', '.join(sent) or 'no file'} in full before it stopped.")


def confirm(files: list[DistFile], new: list[DistFile], url: str) -> None:
    if not sys.stdin.isatty():
        refuse([refusal("publishing to PyPI", "no terminal")])
    listing = "".join(f"\n  {f.name}" + ("" if f in new else " (already there)") for f in files)
    answer = input(f"Upload these files to {url}?{listing}\nType yes to upload, "
                   "anything else to stop: ")  # fmt: skip
    if answer.strip().lower() not in {"y", "yes"}:
        refuse([refusal("publishing to PyPI", "not confirmed")])


def table(files: list[DistFile], uploaded: list[DistFile]) -> str:
    rows = [("file", "size", "sha256", "")] + [
        (f.name, human_size(f.path.stat().st_size), f.sha256[:12],
         "uploaded now" if f in uploaded else "already there") for f in files]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)  # fmt: skip


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
