"""Upload dist/ with uv publish, after the checks that make a release safe.

`nox -s publish_test|publish` runs `python tools/publish.py testpypi|pypi
[--yes]`; `nox -s build|wheels` ends with `... record build|wheels`, a manifest
in dist/ of the commit, whether the tree was clean and each file's sha256.
README.md ("Releasing") says what is checked; publish.toml holds the words of
each refusal. Then uv publish --dry-run --check-url (each file new, or there with
the same sha256), the upload with --check-url, and the same dry run reads back.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from packaging.tags import Tag, parse_tag
from packaging.utils import (
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

ROOT = Path(__file__).parent.parent.resolve()
DIST = ROOT / "dist"
WORDS = tomllib.loads(Path(__file__).with_suffix(".toml").read_text(encoding="utf-8"))
INDEXES = {"testpypi": "https://test.pypi.org/", "pypi": "https://upload.pypi.org/"}
SIMPLE = {"https://upload.pypi.org/legacy/": "https://pypi.org/simple/"}
SESSIONS = {"testpypi": "publish_test", "pypi": "publish"}
RECORDED = {"build": ("*.tar.gz", "*.whl"), "wheels": ("*.whl",)}  # what each wrote
FALSE = {"", "0", "false", "no", "off"}
IN_GITHUB_ACTIONS = os.environ.get("GITHUB_ACTIONS", "").lower() not in FALSE
IN_CI = IN_GITHUB_ACTIONS or os.environ.get("CI", "").lower() not in FALSE
TAG = r"^(?:[\w-]+-)?(?P<version>[vV]?\d+(?:\.\d+){0,2}[^\+]*)(?:\+.*)?$"  # hatch-vcs
SECRETS: list[str] = []  # never printed, nor a password in a URL


class Refusal(Exception):
    """Checks failed before anything was sent: each argument is a line."""


class DistFile(NamedTuple):
    path: Path
    version: Version
    tags: frozenset[Tag]  # none for the sdist
    sha256: str


def refusal(what: str, key: str, **fields: Any) -> str:
    why, fix = (words.format(**fields) for words in WORDS["refusals"][key])
    return f"{what}: {why}{'' if why.endswith('?') else '.'} {fix}."


def refuse(lines: list[str]) -> None:
    if lines:
        raise Refusal(*lines)


def mask(text: str) -> str:
    for secret in SECRETS:
        text = text.replace(secret, "****")
    return re.sub(r"//[^/@\s]*@", "//", text)


def main(args: list[str]) -> int:
    if args[:1] == ["record"] and args[1:] in (["build"], ["wheels"]):
        return record(args[1])
    usage = "usage: publish.py testpypi|pypi [--yes] | record build|wheels"
    if {"-h", "--help"} & set(args):
        print(f"{usage}\n\n{__doc__}")
        return 0
    if args[:1] not in (["testpypi"], ["pypi"]) or set(args[1:]) - {"--yes"}:
        sys.exit(usage)
    try:
        return publish(args[0], confirmed="--yes" in args)
    except Refusal as refused:
        lines = "\n  ".join(refused.args)
        many = f"{len(refused.args)} problems in dist/:\n  " * (len(refused.args) > 1)
        print(
            mask(f"\nNot published: {many}{lines}\nNothing was uploaded."),
            file=sys.stderr,
        )
    except KeyboardInterrupt:  # while uv uploads, uv_publish catches it
        print(
            "\nNot published: interrupted (Ctrl-C). Nothing was uploaded.",
            file=sys.stderr,
        )
    return 1


def record(session: str) -> int:
    files = sorted({path for glob in RECORDED[session] for path in DIST.glob(glob)})
    head, status = git("rev-parse", "HEAD"), git("status", "--porcelain")
    name = f"{session}-{platform.system()}-{platform.machine()}".lower()  # per runner
    path = DIST / f"manifest-{session if session == 'build' else name}.json"
    dirty = bool(status.strip()) if status is not None else None
    commit = head.strip() if head is not None else None
    sha256 = {f.name: sha256_of(f) for f in files}
    manifest = {"built_by": f"nox -s {session}", "commit": commit, "dirty": dirty}
    DIST.mkdir(exist_ok=True)
    path.write_text(json.dumps(manifest | {"files": sha256}, indent=2) + "\n", "utf-8")
    at = f"commit {str(commit)[:12]}, {'a clean tree' if dirty is False else 'uncommitted changes'}"
    count = f"{len(files)} file{'s' * (len(files) != 1)}"
    print(f"dist/{path.name}: {count} built ({at if head else 'outside git'})")
    return 0


def git(*args: str) -> str | None:
    """git's output, or None outside a repository (or without git)."""
    try:
        ran = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return ran.stdout if ran.returncode == 0 else None


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def publish(repository: str, *, confirmed: bool) -> int:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = canonicalize_name(pyproject["project"]["name"])
    env, session, say = dict(os.environ), SESSIONS[repository], WORDS["messages"]
    url = env.get("UV_PUBLISH_URL") or env.get("TWINE_REPOSITORY_URL") or ""
    url = (url or f"{INDEXES[repository]}legacy/").rstrip("/") + "/"
    simple = SIMPLE.get(url, url.removesuffix("legacy/") + "simple/")
    check = env.get("UV_PUBLISH_CHECK_URL") or env.get("PUBLISH_SIMPLE_URL") or simple
    to_pypi = urlsplit(url).hostname in {"upload.pypi.org", "pypi.org"}
    files, manifests = read_dist(project)
    contents = [line for f in files for line in check_contents(f)]
    refuse(contents + list(check_manifests(files, manifests)))  # then the tools:
    refuse(run_tools(files))  # a broken file ends theirs in a traceback
    incomplete = list(
        check_complete(files, "cibuildwheel" in pyproject.get("tool", {}))
    )
    if repository == "pypi" or to_pypi:  # whichever the session: PyPI gets releases
        refuse(incomplete + list(check_release(files[0].version, pyproject, manifests)))
    warnings = "".join(f"Warning: {warning}\n" for warning in incomplete)
    print(warnings, end="", flush=True)

    if env.get("TWINE_PASSWORD") and not (
        urlsplit(url).username or "UV_PUBLISH_TOKEN" in env
    ):
        env.setdefault("UV_PUBLISH_USERNAME", env.get("TWINE_USERNAME", "__token__"))
        env.setdefault("UV_PUBLISH_PASSWORD", env["TWINE_PASSWORD"])
    keys = ("UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD", "TWINE_PASSWORD")
    SECRETS.extend(s for s in [*map(env.get, keys), urlsplit(url).password] if s)
    trusted = IN_GITHUB_ACTIONS and not SECRETS  # a token given wins over OIDC
    if not (trusted or SECRETS):  # uv would fail at the first upload
        refuse([refusal("uv publish", "no token")])
    env |= {"UV_PUBLISH_URL": url, "UV_PUBLISH_CHECK_URL": check, "NO_COLOR": "1"}
    env["COLUMNS"] = "10000"  # uv's errors on one line each, as the checks read them
    uv = ["--trusted-publishing", "always" if trusted else "never"]
    code, there, said = uv_publish(uv, files, env, "--dry-run")
    refuse(list(check_index(code, said, {"url": mask(url), "check": mask(check)})))
    new = [f for f in files if f.path.name not in there]
    print(
        "".join(f"{f.path.name}: {say['skipped']}\n" for f in files if f not in new),
        end="",
    )
    release, where = (
        f"{project} {files[0].version}",
        {"url": mask(url), "check": mask(check)},
    )
    if not new:
        print(f"{release} is already published on {mask(url)}: {say['nothing']}")
        print(table(files, new))
        return 0
    if repository == "pypi" and not IN_CI and not confirmed:
        listing = "".join(
            f"\n  {f.path.name}" + " (already there)" * (f not in new) for f in files
        )
        if not sys.stdin.isatty():
            refuse([refusal("publishing to PyPI", "no terminal")])
        if input(
            f"Upload these files to {mask(url)}?{listing}\n{say['ask']}"
        ).strip().lower() not in {"y", "yes"}:
            refuse([refusal("publishing to PyPI", "not confirmed")])
    attestations = sign(files) if trusted and to_pypi else []  # TestPyPI: a 400
    size = sum(f.path.stat().st_size for f in new) / 1000
    print(
        f"Uploading {release} to {mask(url)}: {len(new)} file{'s' * (len(new) > 1)}, "
        f"{size:,.1f} kB",
        flush=True,
    )
    code, _, output = uv_publish(uv, files + attestations, env)
    what, uploaded = explain(code, output, where), code == 0
    if uploaded:  # read back: every file there, with our sha256
        code, there, said = uv_publish(uv, files, env, "--dry-run")
        if code == 0 and len(there) == len(files):
            print(
                f"Published {release} to {mask(url)}\n{table(files, new)}\n{warnings}",
                end="",
            )
            return 0
        what = (
            say["unlisted"].format(**where)
            if code == 0
            else say["unread"].format(explain(code, said, where))
        )
        output += f"\n\nuv publish --dry-run (the read-back) said:\n{said}"
    reply = reached(uv, files, env, output, uploaded=uploaded)
    print(mask(f"\nNot published completely: {what}\n{reply}\n{say['rerun'].format(session=session)}"
               f"\n\nuv publish said:{indent(output)}"), file=sys.stderr)  # fmt: skip
    return 1


def read_dist(project: str) -> tuple[list[DistFile], list[dict[str, Any]]]:
    """The wheels, then the sdist (the order uv uploads them in: a release cut
    short never offers only the sdist), and the manifests."""
    files, manifests, problems = [], [], []
    for path in sorted(DIST.iterdir()) if DIST.is_dir() else []:
        kind = "a directory" if path.is_dir() else "not a regular file"
        if path.name.startswith(".") or path.name.endswith(".publish.attestation"):
            continue  # uv build's .gitignore; attestations are made afresh
        if path.is_symlink() or not path.is_file():
            kind = (
                f"a symbolic link (to {os.readlink(path)})"
                if path.is_symlink()
                else kind
            )
            problems.append(refusal(f"dist/{path.name}", "not a file", kind=kind))
            continue
        if path.name.startswith("manifest-") and path.suffix == ".json":
            try:
                manifests.append(json.loads(path.read_text("utf-8")) | {"path": path})
                assert {"built_by", "commit", "dirty", "files"} <= manifests[-1].keys()
            except (ValueError, AssertionError, TypeError) as error:
                problems.append(
                    refusal(f"dist/{path.name}", "bad manifest", error=repr(error))
                )
            continue
        try:
            name, version, _, tags = parse_wheel_filename(path.name)
        except ValueError:  # packaging's Invalid*Filename, InvalidVersion
            try:
                (name, version), tags = parse_sdist_filename(path.name), frozenset()
            except ValueError:
                name = None
        stem = f"{project.replace('-', '_')}-{version}{'-' if tags else '.tar.gz'}"
        if name != project:
            problems.append(refusal(path.name, "stranger", project=project))
        elif not path.name.startswith(stem) or path.suffix not in {".whl", ".gz"}:
            problems.append(
                refusal(path.name, "misnamed", expected=stem + "*.whl" * bool(tags))
            )
        files.append(DistFile(path, version, tags, sha256_of(path)))
    refuse(problems or [refusal("dist/", "empty")] * (not files))
    if len(versions := sorted({f.version for f in files})) > 1:
        listed = ", ".join(map(str, versions))
        refuse([refusal("dist/", "versions", project=project, versions=listed)])
    return sorted(files, key=lambda f: (not f.tags, f.path.name)), manifests


def check_contents(f: DistFile) -> Iterator[str]:
    """What a file says it is against its name. A wheel: RECORD by installer
    (what `--validate-record all` runs), and no row without its file. An sdist:
    one top-level {name}-{version}/ with PKG-INFO and pyproject.toml."""
    from installer.exceptions import InstallerError  # only the publish group has it
    from installer.sources import WheelFile

    name, top = f.path.name, PurePosixPath(f.path.name.removesuffix(".tar.gz"))
    parse, said = BytesHeaderParser().parsebytes, ""
    meta = parse(b"")
    try:
        if f.tags:
            with WheelFile.open(f.path) as source, zipfile.ZipFile(f.path) as wheel:
                try:
                    source.validate_record(validate_contents=True)
                except InstallerError as error:
                    issues = getattr(error, "issues", [str(error)])
                    said = "; ".join(re.sub(r"^In [^,]*, ", "", i) for i in issues)
                    yield refusal(name, "record", issues=said)
                info = source.dist_info_dir
                meta, tags = (
                    parse(wheel.read(f"{info}/{m}")) for m in ("METADATA", "WHEEL")
                )
                rows = csv.reader(wheel.read(f"{info}/RECORD").decode().splitlines())
                if lost := [r[0] for r in rows if r and r[0] not in wheel.namelist()]:
                    yield refusal(name, "lost member", members=", ".join(lost[:3]))
            said = ", ".join(
                sorted(
                    str(t) for line in tags.get_all("Tag", []) for t in parse_tag(line)
                )
            )
        else:
            with tarfile.open(f.path, "r:gz") as sdist:
                members = {PurePosixPath(m.name): m for m in sdist.getmembers()}
                if out := [
                    str(p)
                    for p in members
                    if p.parts[:1] != top.parts or ".." in p.parts
                ]:
                    yield refusal(name, "layout", members=", ".join(out[:3]), top=top)
                for required in ("PKG-INFO", "pyproject.toml"):
                    if not (
                        (member := members.get(top / required)) and member.isfile()
                    ):
                        yield refusal(name, "not an sdist", top=top, member=required)
                if (pkg := members.get(top / "PKG-INFO")) and (
                    data := sdist.extractfile(pkg)
                ):
                    meta = parse(data.read())
        names = (canonicalize_name(meta.get("Name", "")), meta.get("Version"), said)
        if names != (
            canonicalize_name(name.split("-")[0]),
            str(f.version),
            ", ".join(sorted(map(str, f.tags))),
        ):
            says = "its METADATA and WHEEL say" if f.tags else "its PKG-INFO says"
            yield refusal(
                name,
                "renamed",
                source=says,
                said=f"{names[0]} {names[1]}" + f", {names[2]}" * bool(f.tags),
            )
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile,
            tarfile.TarError, InstallerError) as error:  # fmt: skip
        kind = "wheel (a zip archive)" if f.tags else "sdist (a .tar.gz archive)"
        yield refusal(name, "unreadable", kind=kind, error=error)
    for tag in sorted({t.platform for t in f.tags if t.platform.startswith("linux_")}):
        yield refusal(name, "plain linux", tag=tag)


def run_tools(files: list[DistFile]) -> list[str]:
    """twine check --strict (the metadata PyPI renders), check-wheel-contents."""
    problems, wheels = [], [str(f.path) for f in files if f.tags]
    for tool, paths in (("twine check --strict", [str(f.path) for f in files]),
                        ("check-wheel-contents", wheels)):  # fmt: skip
        module = tool.replace("check-wheel-contents", "check_wheel_contents").split()
        ran = subprocess.run([sys.executable, "-m", *module, *paths], cwd=ROOT, text=True,
                             capture_output=True, env=os.environ | {"NO_COLOR": "1"},
                             check=False)  # fmt: skip
        if paths and ran.returncode:
            problems.append(
                refusal("dist/", "tool", tool=tool) + indent(ran.stdout + ran.stderr)
            )
    return problems


def check_manifests(
    files: list[DistFile], manifests: list[dict[str, Any]]
) -> Iterator[str]:
    """Each file in a manifest, with its sha256, and every file listed there."""
    for f in files:
        listing = [m for m in manifests if f.path.name in m["files"]]
        for m in (
            listing if all(m["files"][f.path.name] != f.sha256 for m in listing) else []
        ):
            by, where = m["built_by"], f"dist/{m['path'].name}"
            yield refusal(f.path.name, "not as built", by=by, manifest=where)
        yield from [refusal(f.path.name, "unlisted")] * (not listing)
    for m in manifests:
        for name in sorted(m["files"].keys() - {f.path.name for f in files}):
            yield refusal(name, "missing", manifest=f"dist/{m['path'].name}")


def check_complete(files: list[DistFile], compiled: bool) -> Iterator[str]:
    """An sdist, and wheels (binary for a compiled project) so that pip never
    compiles; `publish_test` warns only (a laptop may lack a container engine)."""
    yield from [refusal("dist/", "no sdist")] * all(f.tags for f in files)
    binary = [f for f in files if any(t.platform != "any" for t in f.tags)]
    if not (binary if compiled else [f for f in files if f.tags]):
        kind, session = ("binary wheels", "wheels") if compiled else ("wheel", "build")
        yield refusal("dist/", "no wheels", kind=kind, session=session)


def check_release(version: Version, pyproject: dict[str, Any],
                  manifests: list[dict[str, Any]]) -> Iterator[str]:  # fmt: skip
    """A final version, built at HEAD (its tag) from a clean tree."""
    if version == Version("0.0.0"):  # hatch-vcs's fallback-version, outside git
        yield refusal("dist/", "placeholder", version=version)
    elif version.is_devrelease or version.local:
        yield refusal("dist/", "dev", version=version)
    head, changes, tags = (
        git("rev-parse", "HEAD"),
        git("status", "--porcelain"),
        git("tag", "--points-at", "HEAD"),
    )
    if head is None or changes is None or tags is None:
        return (yield refusal("git", "no git"))
    yield from [refusal("the git tree", "dirty tree", changes=changes.rstrip())] * bool(
        changes.strip()
    )
    hatch = pyproject.get("tool", {}).get("hatch", {}).get("version", {})
    found = [re.search(hatch.get("tag-pattern", TAG), tag) for tag in tags.split()]
    if not any(m and Version(m["version"]) == version for m in found):
        said = (
            f"HEAD's tags: {', '.join(tags.split())}"
            if tags.split()
            else "HEAD has no tag"
        )
        yield refusal("git", "not the tag", version=version, tags=said)
    for m in manifests:
        commit, by, where = m["commit"], m["built_by"], f"dist/{m['path'].name}"
        if commit != head.strip():
            built = f"commit {commit[:12]}" if commit else "no commit"
            yield refusal(
                where, "not HEAD", by=by, commit=built, head=head.strip()[:12]
            )
        elif m["dirty"] is not False:
            yield refusal(where, "dirty", by=by)


def uv_publish(flags: list[str], files: list[Any], env: dict[str, str],
               *args: str) -> tuple[int, set[str], str]:  # fmt: skip
    """uv publish's exit code (-2: Ctrl-C), the files it found on the index
    with our sha256, and its words. It sends the wheels first, one by one."""
    paths = [str(p.path if isinstance(p, DistFile) else p) for p in files]
    command = [sys.executable, "-m", "uv", "publish", "--no-progress", *flags, *args]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        try:
            ran = subprocess.run(
                [*command, *paths],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                check=False,
            )
        except KeyboardInterrupt:
            ran = subprocess.CompletedProcess([], -2)
        log.seek(0)
        said = log.read() + "\n(interrupted: Ctrl-C)" * (ran.returncode == -2)
    return (
        ran.returncode,
        set(re.findall(r"^File (\S+) already exists", said, re.MULTILINE)),
        said,
    )


def sign(files: list[DistFile]) -> list[Path]:
    """PEP 740 attestations, signed with the job's identity (pypi-attestations)."""
    for stale in DIST.glob("*.publish.attestation"):
        stale.unlink()
    paths = [str(f.path) for f in files]
    signing = [sys.executable, "-m", "pypi_attestations", "sign", *paths]
    if subprocess.run(signing, check=False).returncode:
        refuse([refusal("dist/", "unsigned")])
    return [Path(f"{p}.publish.attestation") for p in paths]


def check_index(code: int, said: str, where: dict[str, str]) -> Iterator[str]:
    """The dry run's refusals: another build of a file there, or uv's failure."""
    other = r"do not match for `?(\S+?)`?\. Local: \w+=(\w+), Remote: \w+=(\w+)"
    for m in re.finditer(other, said):
        yield refusal(
            m[1], "other build", said=f"sha256 {m[3][:12]} there, {m[2][:12]} here"
        )
    if code and not re.search(other, said):
        yield f"{explain(code, said, where)}\n\nuv publish --dry-run said:{indent(said)}"


def explain(code: int, said: str, where: dict[str, str]) -> str:
    """Our one line on a failure of uv's: what happened (its innermost cause),
    and what to do."""
    sending = re.findall(r"^Uploading (\S+) \(", said, re.MULTILINE) or ["the files"]
    for pattern, what, fix in WORDS["failures"] if code else []:
        if re.search(pattern, said):
            what = what.format(file=sending[-1], **where)
            return f"{what}{f' ({cause(said)})' * (code != -2)}. {fix}."
    return ""


def cause(said: str) -> str:
    """uv's innermost cause of its error."""
    lines = [line.strip() for line in said.splitlines() if line.strip()] or [""]
    return ([n[6:].strip() for n in lines if n.startswith("cause:")] or lines)[-1]


def reached(flags: list[str], files: list[DistFile], env: dict[str, str], output: str,
            *, uploaded: bool) -> str:  # fmt: skip
    """What the index holds now, read back (or else, what uv says it sent)."""
    code, there, said = uv_publish(flags, files, env, "--dry-run")
    missing = (
        ", ".join(f.path.name for f in files if f.path.name not in there) or "none"
    )
    if code == 0 and there:
        names = ", ".join(f.path.name for f in files if f.path.name in there)
        return f"These reached the index: {names}.\nNot on the index: {missing}."
    sent = re.findall(r"^Uploading (\S+) \(", output, re.MULTILINE)
    sent = sent if uploaded else sent[:-1]  # uv sends one file after the other
    if code == 0 and not sent:
        return "None of them reached the index: nothing was uploaded."
    why = cause(said) if code else f"{mask(env['UV_PUBLISH_CHECK_URL'])} lists none"
    return str(WORDS["messages"]["sent"]).format(cause=why, sent=", ".join(sent))


def table(files: list[DistFile], new: list[DistFile]) -> str:
    width = max(len(f.path.name) for f in files)
    return "\n".join(f"  {f.path.name:{width}}  {f.path.stat().st_size / 1000:8,.1f} kB  "
                     f"{f.sha256[:12]}  {'uploaded now' if f in new else 'already there'}"
                     for f in files)  # fmt: skip


def indent(text: str) -> str:
    return "".join(f"\n  {line.rstrip()}" for line in text.strip().splitlines())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
