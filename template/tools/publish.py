"""usage: publish.py testpypi|pypi [--yes] | record build|wheels

Upload dist/ with uv publish, after the checks that make a release safe: README.md
("Releasing") lists them, and publish.toml holds their words and rules. `record`,
the last step of `nox -s build|wheels`, writes the manifest that they read.
"""

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
from email.parser import HeaderParser
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import SplitResult, urlsplit

from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name as canonical
from packaging.utils import parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).parent.parent.resolve()
DIST = ROOT / "dist"
DATA = tomllib.loads(Path(__file__).with_suffix(".toml").read_text(encoding="utf-8"))
SAY = DATA["messages"]
FALSE = {"", "0", "false", "no", "off"}
IN_GITHUB_ACTIONS = os.environ.get("GITHUB_ACTIONS", "").lower() not in FALSE
IN_CI = IN_GITHUB_ACTIONS or os.environ.get("CI", "").lower() not in FALSE
SECRETS: list[str] = []  # never printed, nor a password in a URL
USERINFO = re.compile(r"//[^@\s]*@")  # a URL's user:password@ ("/" and all)
# A variable of these set empty (as a GitHub secret that is missing) is unset.
SETTINGS = ("UV_PUBLISH_", "TWINE_", "PUBLISH_SIMPLE_URL")
Manifest = dict[str, Any]  # what `record` wrote, and "path": dist/manifest-*.json
NONE = type(None)
MANIFEST: dict[str, type | tuple[type, ...]] = {  # its keys, and their types
    "built_by": str, "commit": (str, NONE), "dirty": (bool, NONE), "files": dict
}  # fmt: skip


class Refusal(Exception):
    """Checks failed before anything was sent: each argument is a line."""


class DistFile(NamedTuple):
    path: Path
    version: Version
    tags: frozenset[Tag]  # none for the sdist
    sha256: str


def refusal(what: str, key: str, **fields: Any) -> str:
    why, fix = (words.format(**fields) for words in DATA["refusals"][key])
    return f"{what}: {why}{'' if why.endswith('?') else '.'} {fix}."


def refuse(lines: list[str]) -> None:
    if lines:
        raise Refusal(*lines)


def address(env: dict[str, str], names: tuple[str, str],
            default: str) -> tuple[str, str, SplitResult]:  # fmt: skip
    """The first of these variables set (or publish.toml), its URL and the URL's
    parts; or a refusal naming it, if that is not an http(s) URL."""
    name = next((n for n in names if n in env), "publish.toml")
    url = env.get(name, default)
    try:
        parts = urlsplit(url)
        if parts.scheme in {"http", "https"} and parts.hostname and parts.port != 0:
            return name, url, parts
        error = "not http:// or https://, with a host"
    except ValueError:  # a port out of range, an IPv6 address cut short
        error = "its host or port cannot be read"
    raise Refusal(refusal(name, "bad url", url=hide(url), error=error))


def origin(parts: SplitResult) -> tuple[str, int | None]:
    """A URL's host (without the final dot of DNS's root) and port."""
    return str(parts.hostname).rstrip("."), parts.port


def mask(text: str) -> str:
    """uv's words without the secrets (ours never hold one, only URLs: hide)."""
    for secret in SECRETS:
        text = text.replace(secret, "****")
    return hide(text)


def hide(text: str) -> str:
    return USERINFO.sub("//", text)


def git(*args: str) -> str | None:
    """git's output, or None outside a repository (or without git)."""
    try:
        ran = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                             check=False)  # fmt: skip
    except OSError:
        return None
    return ran.stdout if ran.returncode == 0 else None


def sha256(path: Path) -> str:
    with path.open("rb") as file:  # streamed: a wheel may be hundreds of MB
        return hashlib.file_digest(file, "sha256").hexdigest()


def main(args: list[str]) -> int:
    if args[:1] == ["record"] and args[1:] in (["build"], ["wheels"]):
        return record(args[1])
    if {"-h", "--help"} & set(args):
        print(__doc__)
        return 0
    if args[:1] not in (["testpypi"], ["pypi"]) or set(args[1:]) - {"--yes"}:
        sys.exit(str(__doc__).splitlines()[0])
    try:
        return publish(args[0], confirmed="--yes" in args)
    except Refusal as refused:
        problems = list(refused.args)
    except KeyboardInterrupt:  # while uv uploads, uv_publish catches it
        problems = ["interrupted (Ctrl-C)."]
    many = f"{len(problems)} problems:\n  " * (len(problems) > 1)
    lines = "\n  ".join(problems)
    print(hide(SAY["refused"].format(many=many, lines=lines)), file=sys.stderr)
    return 1


def record(session: str) -> int:
    """dist/manifest-*.json: the commit, whether the tree was clean, each
    file's sha256; one per runner for `nox -s wheels`, as CI merges them."""
    files = sorted({p for glob in DATA["recorded"][session] for p in DIST.glob(glob)})
    head, status = git("rev-parse", "HEAD"), git("status", "--porcelain")
    runner = f"{session}-{platform.system()}-{platform.machine()}".lower()
    path = DIST / f"manifest-{session if session == 'build' else runner}.json"
    commit = head.strip() if head else None
    dirty = None if status is None else bool(status.strip())
    manifest = {"built_by": f"nox -s {session}", "commit": commit, "dirty": dirty}
    DIST.mkdir(exist_ok=True)
    sha256s = {"files": {f.name: sha256(f) for f in files}}
    path.write_text(json.dumps(manifest | sha256s, indent=2) + "\n", "utf-8")
    tree = "a clean tree" if dirty is False else "uncommitted changes"
    at = f"commit {commit[:12]}, {tree}" if commit else "outside git"
    print(f"dist/{path.name}: {len(files)} file{'s' * (len(files) != 1)} built ({at})")
    return 0


def publish(repository: str, *, confirmed: bool) -> int:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = canonical(pyproject["project"]["name"])
    env = {k: v for k, v in os.environ.items() if v or not k.startswith(SETTINGS)}
    index = DATA["indexes"][repository]
    _, url, parts = address(env, ("UV_PUBLISH_URL", "TWINE_REPOSITORY_URL"), index)
    (host, _), url = origin(parts), url.rstrip("/") + "/"
    simple = DATA["simple"].get(host, url.removesuffix("legacy/") + "simple/")
    named, check, checked = address(env, ("UV_PUBLISH_CHECK_URL", "PUBLISH_SIMPLE_URL"),
                                    simple)  # fmt: skip
    if origin(checked) != origin(urlsplit(simple)):  # uv skips all that it lists
        refuse([refusal(named, "check elsewhere", check=hide(check), url=hide(url))])
    files, manifests = read_dist(project)
    refuse(run_tools(files))  # after ours: a broken file ends theirs in a traceback
    compiled = "cibuildwheel" in pyproject["tool"]  # binary wheels, or pip compiles
    binary = [f for f in files if any(t.platform != "any" for t in f.tags)]
    incomplete = [refusal("dist/", "no sdist")] * all(f.tags for f in files)
    if not (binary if compiled else [f for f in files if f.tags]):
        incomplete.append(refusal("dist/", "no wheels" + " compiled" * compiled))
    to_pypi = re.fullmatch(DATA["pypi"], host) is not None
    if repository == "pypi" or to_pypi:  # whichever the session: PyPI gets releases
        refuse(incomplete + check_release(files[0].version, pyproject, manifests))
    warnings = "".join(f"Warning: {warning}\n" for warning in incomplete)
    print(warnings, end="", flush=True)  # `publish_test` (a laptop may lack Docker)

    if env.get("TWINE_PASSWORD") and not (parts.username or "UV_PUBLISH_TOKEN" in env):
        env.setdefault("UV_PUBLISH_USERNAME", env.get("TWINE_USERNAME", "__token__"))
        env.setdefault("UV_PUBLISH_PASSWORD", env["TWINE_PASSWORD"])  # uv's names
    keys = ("UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD", "TWINE_PASSWORD")
    SECRETS.extend(s for s in [*map(env.get, keys), parts.password] if s)
    trusted = IN_GITHUB_ACTIONS and not SECRETS  # a token given wins over OIDC
    if not (trusted or SECRETS):  # uv would fail at the first upload
        raise Refusal(refusal("uv publish", "no token"))
    # COLUMNS: uv's errors on one line each, as the checks read them
    env |= {"UV_PUBLISH_URL": url, "UV_PUBLISH_CHECK_URL": check, "NO_COLOR": "1",
            "COLUMNS": "10000"}  # fmt: skip
    where = {"url": hide(url), "check": hide(check)}
    uv = ["--trusted-publishing", "always" if trusted else "never"]
    paths = [f.path for f in files]
    code, there, said = uv_publish(uv, paths, env, "--dry-run")
    if code:  # another build of a file there, or uv's failure
        raise Refusal(f"{explain(code, said, where)}{SAY['dry run']}{indent(said)}")
    new = [f for f in files if f.path.name not in there]
    for f in files:  # in upload order (a set's order would change from run to run)
        if f not in new:
            print(f"{f.path.name}: {SAY['skipped']}")
    release = {"release": f"{project} {files[0].version}", "warnings": warnings} | where
    # Signed even when all is there: a rerun still hands the release job its files.
    attestations = sign(paths) if trusted and to_pypi else []  # TestPyPI: a 400
    if not new:
        print(SAY["nothing"].format(**release, table=table(files, new)))
        return 0
    if repository == "pypi" and not IN_CI and not confirmed:
        if not sys.stdin.isatty():
            raise Refusal(refusal("publishing to PyPI", "no terminal"))
        listing = "\n" + table(files, new, now="to upload")
        try:
            answer = input(SAY["ask"].format(listing=listing, **where))
        except EOFError:  # Ctrl-D
            answer = ""
        if answer.strip().lower() not in {"y", "yes"}:
            raise Refusal(refusal("publishing to PyPI", "not confirmed"))
    size = sum(f.path.stat().st_size for f in new) / 1000
    count = f"{len(new)} file{'s' * (len(new) > 1)}"
    print(SAY["uploading"].format(**release, count=count, size=size), flush=True)
    code, _, output = uv_publish(uv, paths + attestations, env)
    read, there, said = uv_publish(uv, paths, env, "--dry-run")  # the read-back
    if code == read == 0 and len(there) == len(files):
        print(SAY["published"].format(**release, table=table(files, new)), end="")
        return 0
    what = explain(code, output, where)
    if code == 0:  # uploaded, and not all of it read back
        unread = SAY["unread"].format(explain(read, said, where))
        what = unread if read else SAY["unlisted"].format(**where)
        output += f"\n\nuv publish --dry-run (the read-back) said:\n{said}"
    sending = re.findall(r"^Uploading (\S+) \(", output, re.MULTILINE)
    sent = sending[:-1] if code else sending  # uv sends one file after the other
    got = [f.path.name for f in files if f.path.name in there]
    lost = [f.path.name for f in files if f.path.name not in there] or ["none"]
    # A listing is proof only from the index's own simple API: one that lists a
    # file of ours. A 4xx is a refusal: the file uv was sending is not there.
    proven = len(new) < len(files) or bool(re.search(r"status code 4\d\d", output))
    why = cause(said) if read else f"{where['check']} lists none of them"
    if read == 0 and got:
        reply = SAY["reached"].format(", ".join(got), ", ".join(lost))
    elif not sending or (read == 0 and proven and not sent):
        reply = SAY["none reached"]
    elif sent:  # the index lists none (a wrong simple URL?), or could not be read
        reply = SAY["sent"].format(cause=why, sent=", ".join(sent))
    else:
        reply = SAY["unknown"].format(cause=why, file=sending[-1])
    rerun = SAY["rerun"].format(session=DATA["sessions"][repository])
    print(hide(SAY["incomplete"].format(what=what, reply=reply, rerun=rerun) + indent(output)),
          file=sys.stderr)  # fmt: skip
    return 1


def read_dist(project: str) -> tuple[list[DistFile], list[Manifest]]:
    """dist/'s wheels, then its sdist (the order uv uploads them in: a release
    cut short never offers only the sdist), each what its name says and what a
    manifest recorded; and the manifests."""
    files, manifests, problems = [], [], []
    for path in sorted(DIST.iterdir()) if DIST.is_dir() else []:
        name, where = path.name, f"dist/{path.name}"
        if fnmatchcase(name, ".*") or fnmatchcase(name, "*.publish.attestation"):
            continue  # uv build's .gitignore; attestations are made afresh
        if path.is_symlink() or not path.is_file():
            link = path.is_symlink() and f"a symbolic link (to {path.readlink()})"
            kind = link or ("a directory" if path.is_dir() else "not a regular file")
            problems.append(refusal(where, "not a file", kind=kind))
        elif fnmatchcase(name, "manifest-*.json"):
            try:  # of MANIFEST's shape, every sha256 a string
                manifest = json.loads(path.read_text("utf-8"))
                assert all(isinstance(manifest[k], t) for k, t in MANIFEST.items())
                assert all(isinstance(v, str) for v in manifest["files"].values())
                manifests.append(manifest | {"path": where})
            except (ValueError, AssertionError, LookupError, TypeError,
                    RecursionError) as error:  # fmt: skip
                problems.append(refusal(where, "bad manifest", error=repr(error)))
        else:
            try:  # the project, version and tags that the name says
                if name.endswith(".whl"):
                    named, version, _, tags = parse_wheel_filename(name)
                else:
                    (named, version), tags = parse_sdist_filename(name), frozenset()
            except ValueError:  # packaging's Invalid*Filename, InvalidVersion
                named, version, tags = canonical(""), Version("0"), frozenset()
            expected = f"{project.replace('-', '_')}-{version}"
            expected += "-*.whl" if tags else ".tar.gz"  # as build tools write it
            if named != project:
                problems.append(refusal(name, "stranger", project=project))
            elif not fnmatchcase(name, expected):
                problems.append(refusal(name, "misnamed", expected=expected))
            files.append(DistFile(path, version, tags, sha256(path)))
    refuse(problems or [refusal("dist/", "empty")] * (not files))
    if len(versions := sorted({f.version for f in files})) > 1:
        listed = ", ".join(map(str, versions))
        refuse([refusal("dist/", "versions", project=project, versions=listed)])
    contents = [line for f in files for line in check_contents(f)]
    refuse(contents + check_manifests(files, manifests))  # all that is wrong at once
    return sorted(files, key=lambda f: (not f.tags, f.path.name)), manifests


def check_contents(f: DistFile) -> list[str]:
    """What a file says it is against its name. A wheel: RECORD by installer
    (what `--validate-record all` runs), and no row without its file. An sdist:
    one top-level {name}-{version}/ with PKG-INFO and pyproject.toml."""
    from installer.exceptions import InstallerError  # only the publish group has it
    from installer.records import parse_record_file
    from installer.sources import WheelFile

    name, top = f.path.name, PurePosixPath(f.path.name.removesuffix(".tar.gz"))
    problems, tags, meta = [], list[str](), ""
    try:
        if f.tags:
            with zipfile.ZipFile(f.path) as wheel:
                try:
                    (source := WheelFile(wheel)).validate_record(validate_contents=True)
                except InstallerError as error:
                    issues = getattr(error, "issues", [str(error)])
                    issues = [re.sub(r"^In [^,]*, ", "", issue) for issue in issues]
                    problems.append(refusal(name, "record", issues="; ".join(issues)))
                rows = parse_record_file(source.read_dist_info("RECORD").splitlines())
                if lost := [row[0] for row in rows if row[0] not in wheel.namelist()]:
                    lost_member = refusal(name, "lost member", members=", ".join(lost))
                    problems.append(lost_member)
                declared = HeaderParser().parsestr(source.read_dist_info("WHEEL"))
                for line in declared.get_all("Tag", []):
                    tags += map(str, parse_tag(line))
                meta = source.read_dist_info("METADATA")
        else:
            with tarfile.open(f.path, "r:gz") as sdist:
                members = {PurePosixPath(m.name): m for m in sdist.getmembers()}
                if out := [str(p) for p in members
                           if p.parts[:1] != top.parts or ".." in p.parts]:  # fmt: skip
                    beside = ", ".join(out[:3])  # a tar may hold thousands
                    problems.append(refusal(name, "layout", members=beside, top=top))
                held = {path for path, member in members.items() if member.isfile()}
                problems += [refusal(name, "not an sdist", top=top, member=required)
                             for required in DATA["sdist"] if top / required not in held]  # fmt: skip
                pkg_info = top / "PKG-INFO"
                if pkg_info in held and (data := sdist.extractfile(members[pkg_info])):
                    meta = data.read().decode()
        says = HeaderParser().parsestr(meta)
        said = ", ".join([f"{canonical(says.get('Name', ''))} {says.get('Version')}",
                          *sorted(tags)])  # fmt: skip
        if meta and said != ", ".join([f"{canonical(name.split('-')[0])} {f.version}",
                                       *sorted(map(str, f.tags))]):  # fmt: skip
            whose = "its METADATA and WHEEL say" if f.tags else "its PKG-INFO says"
            problems.append(refusal(name, "renamed", source=whose, said=said))
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile,
            tarfile.TarError, InstallerError) as error:  # fmt: skip
        kind = "wheel (a zip archive)" if f.tags else "sdist (a .tar.gz archive)"
        problems.append(refusal(name, "unreadable", kind=kind, error=error))
    return problems + [refusal(name, key, tag=tag)  # tags that no index takes
                       for key, pattern in DATA["platforms"].items()
                       for tag in sorted({t.platform for t in f.tags})
                       if re.match(pattern, tag)]  # fmt: skip


def run_tools(files: list[DistFile]) -> list[str]:
    """The tools publish.toml names, each on the files it checks."""
    problems, env = [], os.environ | {"NO_COLOR": "1"}
    for tool, (module, glob) in DATA["tools"].items():
        if paths := [str(f.path) for f in files if fnmatchcase(f.path.name, glob)]:
            command = [sys.executable, "-m", *module.split(), *paths]
            ran = subprocess.run(command, cwd=ROOT, text=True, capture_output=True,
                                 env=env, check=False)  # fmt: skip
            if ran.returncode:
                said = indent(ran.stdout + ran.stderr)
                problems.append(refusal("dist/", "tool", tool=tool) + said)
    return problems


def check_manifests(files: list[DistFile], manifests: list[Manifest]) -> list[str]:
    """Each file in a manifest, with its sha256 (one, if several list it), and
    every file listed there."""
    problems = []
    for f in files:
        listing = [m for m in manifests if f.path.name in m["files"]]
        recorded = {m["files"][f.path.name] for m in listing}
        if len(recorded) > 1:  # from two builds, merged: which one is dist/'s?
            where = " and ".join(m["path"] for m in listing)
            problems.append(refusal(f.path.name, "recorded twice", manifests=where))
        elif recorded and recorded != {f.sha256}:
            by, where = listing[0]["built_by"], listing[0]["path"]
            problems.append(refusal(f.path.name, "not as built", by=by, manifest=where))
        elif not recorded:
            problems.append(refusal(f.path.name, "unlisted"))
    names = {f.path.name for f in files}
    return problems + [refusal(name, "missing", manifest=m["path"])
                       for m in manifests for name in sorted(m["files"].keys() - names)]  # fmt: skip


def check_release(version: Version, pyproject: dict[str, Any],
                  manifests: list[Manifest]) -> list[str]:  # fmt: skip
    """A final version, built at HEAD (its tag) from a clean tree."""
    problems = [refusal("dist/", key, version=version)  # publish.toml's patterns
                for key, pattern in DATA["not releases"].items()
                if re.search(pattern, str(version))]  # fmt: skip
    head, changes = git("rev-parse", "HEAD"), git("status", "--porcelain")
    tags = git("tag", "--points-at", "HEAD")
    if head is None or changes is None or tags is None:
        return [*problems, refusal("git", "no git")]
    if changes.strip():
        problems.append(refusal("the git tree", "dirty tree") + indent(changes))
    hatch = pyproject["tool"].get("hatch", {}).get("version", {})
    pattern = hatch.get("tag-pattern", DATA["tag pattern"])  # hatch-vcs's default
    if not any((found := re.search(pattern, tag)) and Version(found["version"]) == version
               for tag in tags.split()):  # fmt: skip
        said = f"HEAD's tags: {', '.join(tags.split())}" if tags.split() else ""
        said = said or "HEAD has no tag"
        problems.append(refusal("git", "not the tag", version=version, tags=said))
    for m in manifests:
        built = f"commit {m['commit'][:12]}" if m["commit"] else "no commit"
        if m["commit"] != head.strip():
            problems.append(refusal(m["path"], "not HEAD", by=m["built_by"],
                                    commit=built, head=head[:12]))  # fmt: skip
        elif m["dirty"] is not False:
            problems.append(refusal(m["path"], "dirty", by=m["built_by"]))
    return problems


def uv_publish(flags: list[str], paths: list[Path], env: dict[str, str],
               *args: str) -> tuple[int, set[str], str]:  # fmt: skip
    """uv publish's exit code (-2: Ctrl-C), the files it found on the index
    with our sha256, and its words. It sends the wheels first, one by one."""
    command = [sys.executable, "-m", "uv", "publish", "--no-progress", *flags, *args]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:  # kept on Ctrl-C
        try:
            code = subprocess.run([*command, *map(str, paths)], cwd=ROOT, env=env,
                                  stdout=log, stderr=log, check=False).returncode  # fmt: skip
        except KeyboardInterrupt:
            code = -2
        log.seek(0)
        doing = "reading the index" if "--dry-run" in args else "uploading"
        said = mask(log.read()) + f"\n(interrupted {doing}: Ctrl-C)" * (code == -2)
    there = set(re.findall(r"^File (\S+) already exists", said, re.MULTILINE))
    return code, there, said


def sign(paths: list[Path]) -> list[Path]:
    """PEP 740 attestations, signed with the job's identity (pypi-attestations)."""
    for stale in DIST.glob("*.publish.attestation"):
        stale.unlink()
    signing = [sys.executable, "-m", "pypi_attestations", "sign", *map(str, paths)]
    if subprocess.run(signing, check=False).returncode:
        raise Refusal(refusal("dist/", "unsigned"))
    return [Path(f"{p}.publish.attestation") for p in paths]


def explain(code: int, said: str, where: dict[str, str]) -> str:
    """Our one line on a failure of uv's (publish.toml's first pattern that
    matches its words): what happened, with uv's innermost cause, and the fix."""
    sending = re.findall(r"^Uploading (\S+) \(", said, re.MULTILINE) or ["the files"]
    for pattern, what, fix in DATA["failures"] if code else []:
        if found := re.search(pattern, said):
            fields = where | {"file": sending[-1], "cause": cause(said)}
            return f"{what.format(**fields | found.groupdict())}. {fix}."
    return ""


def cause(said: str) -> str:
    """uv's innermost cause of its error."""
    lines = [line.strip() for line in said.splitlines() if line.strip()] or [""]
    return ([n[6:].strip() for n in lines if n.startswith("cause:")] or lines)[-1]


def table(files: list[DistFile], new: list[DistFile], now: str = "uploaded now") -> str:
    width = max(len(f.path.name) for f in files)
    return "\n".join(f"  {f.path.name:{width}}  {f.path.stat().st_size / 1000:8,.1f} kB  "
                     f"{f.sha256[:12]}  {now if f in new else 'already there'}"
                     for f in files)  # fmt: skip


def indent(text: str) -> str:
    return "".join(f"\n  {line.rstrip()}" for line in text.strip().splitlines())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
