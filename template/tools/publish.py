"""Upload dist/ to TestPyPI or PyPI, after the checks that make a release safe.

Run by the `publish_test` and `publish` nox sessions (and so by the CI jobs of
the same names): `python tools/publish.py testpypi|pypi [--yes]`. It never
builds: `nox -s build` (and `nox -s wheels` for a C extension) fill dist/.

Every check runs before anything leaves the machine, and a failed check stops
with a message that says what is wrong and how to fix it. In GitHub Actions the
credentials come from trusted publishing and every file gets a PEP 740
attestation; elsewhere twine finds your API token (TWINE_PASSWORD, keyring or
~/.pypirc). TWINE_REPOSITORY_URL sends the upload to another index.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).parent.parent.resolve()
DIST = ROOT / "dist"
UPLOAD_URLS = {
    "testpypi": "https://test.pypi.org/legacy/",
    "pypi": "https://upload.pypi.org/legacy/",
}
# hatch-vcs's version outside git (pyproject.toml, [tool.hatch.version]).
FALLBACK_VERSION = Version("0.0.0")
IN_GITHUB_ACTIONS = os.environ.get("GITHUB_ACTIONS") == "true"
IN_CI = IN_GITHUB_ACTIONS or bool(os.environ.get("CI"))


class Refusal(Exception):
    """A check failed: nothing was uploaded."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repository", choices=sorted(UPLOAD_URLS))
    parser.add_argument("--yes", action="store_true", help="do not ask to confirm")
    args = parser.parse_args()
    try:
        publish(args.repository, confirmed=args.yes)
    except Refusal as refusal:
        print(f"\nNot published: {refusal}\nNothing was uploaded.", file=sys.stderr)
        return 1
    return 0


def publish(repository: str, *, confirmed: bool) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    name = canonicalize_name(pyproject["project"]["name"])
    url = os.environ.get("TWINE_REPOSITORY_URL") or UPLOAD_URLS[repository]
    is_release = repository == "pypi"

    files, version = read_dist(name)
    run_twine_check(files)
    if is_release:
        check_release_version(version)
        check_git_is_at_release_tag(version)
        if "cibuildwheel" in pyproject.get("tool", {}):
            check_binary_wheels(files)  # a compiled project: pip must not compile

    already_there = files_on_index(url, name, version)
    if already_there and is_release:
        raise Refusal(
            f"{name} {version} is already on {url}, and a version can be uploaded "
            "only once. Release a new version: bump it and tag it (git tag "
            f"v<new version>), then build again."
        )
    if already_there:
        print(f"{name} {version} is already on {url}: skipping its files there "
              f"({', '.join(sorted(already_there))}).")  # fmt: skip
        files = [f for f in files if f.name not in already_there]
        if not files:
            print("Nothing new to upload.")
            return

    if is_release and not IN_CI and not confirmed:
        confirm(files, url)
    upload(files, url, repository, name, version)


def read_dist(name: str) -> tuple[list[Path], Version]:
    """The sdist and wheels in dist/, checked to be one version of this project."""
    if not DIST.is_dir() or not any(DIST.iterdir()):
        raise Refusal(
            "dist/ is missing or empty. Build first: nox -s build"
            " (and nox -s wheels for the platform wheels of a C extension)."
        )
    files, versions, strangers = [], set(), []
    for path in sorted(DIST.iterdir()):
        if path.name.startswith(".") or path.name.endswith(".publish.attestation"):
            continue  # uv build's .gitignore; attestations are made at upload
        try:
            if path.suffix == ".whl":
                file_name, file_version, *_ = parse_wheel_filename(path.name)
            else:
                file_name, file_version = parse_sdist_filename(path.name)
        except (InvalidWheelFilename, InvalidSdistFilename):
            strangers.append(path.name)
            continue
        if file_name != name:
            strangers.append(path.name)
        files.append(path)
        versions.add(file_version)
    if strangers:
        raise Refusal(
            f"dist/ holds files that are not a wheel or sdist of {name}: "
            f"{', '.join(strangers)}. Remove them (nox -s build starts dist/ afresh)."
        )
    if len(versions) > 1:
        listed = ", ".join(sorted(map(str, versions)))
        raise Refusal(
            f"dist/ holds more than one version of {name} ({listed}). "
            "Empty it and build once: nox -s build."
        )
    return files, versions.pop()


def run_twine_check(files: list[Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise Refusal(
            "twine check --strict failed: fix the package metadata (often the "
            f"README's markup), then build again.\n{result.stdout}{result.stderr}"
        )


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
    result = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise Refusal(
            f"git {' '.join(args)} failed ({result.stderr.strip()}). A release "
            "is published from a git repository at its release tag."
        )
    return result.stdout


def check_git_is_at_release_tag(version: Version) -> None:
    if changes := git("status", "--porcelain").strip():
        raise Refusal(
            "the git tree has uncommitted changes, so dist/ may not match any "
            f"commit:\n{changes}\nCommit or stash them, then build again."
        )
    tag = f"v{version}"
    tags = git("tag", "--points-at", "HEAD").split()
    if tag not in tags:
        at_head = f"HEAD's tags: {', '.join(tags)}" if tags else "HEAD has no tag"
        raise Refusal(
            f"HEAD is not the tag {tag} ({at_head}). Tag the release commit "
            f"(git tag {tag}), check it out, and build from it."
        )


def check_binary_wheels(files: list[Path]) -> None:
    wheels = [f for f in files if f.suffix == ".whl"]
    if not any(f.name.endswith(".tar.gz") for f in files):
        raise Refusal("dist/ has no sdist. Build it: nox -s build.")
    binary = [w for w in wheels if not w.name.endswith("-none-any.whl")]
    if not binary:
        raise Refusal(
            "dist/ has no binary wheels beside the sdist, so every user would "
            "compile the extension. Build them: nox -s wheels (in CI, the wheels "
            "job's artifacts are downloaded into dist/)."
        )
    unrepaired = [w.name for w in binary if w.name.endswith("-linux_x86_64.whl")]
    if unrepaired:
        raise Refusal(
            f"{', '.join(unrepaired)}: PyPI rejects the plain linux platform tag. "
            "Use the manylinux wheels that nox -s wheels makes."
        )


class _Links(html.parser.HTMLParser):
    """The file names that a PEP 503 simple page links to."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.names.add(href.split("#")[0].rstrip("/").rsplit("/", 1)[-1])


def files_on_index(upload_url: str, name: str, version: Version) -> set[str]:
    """File names of this version already on the index (its PEP 503 simple page)."""
    if upload_url.rstrip("/").endswith("/legacy"):
        simple = upload_url.rstrip("/").removesuffix("legacy") + "simple/"
        simple = simple.replace("upload.pypi.org", "pypi.org")
    else:
        simple = upload_url.rstrip("/") + "/simple/"
    request = urllib.request.Request(
        f"{simple}{name}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
            content_type = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return set()  # a project's first upload
        print(f"Could not read {simple}{name}/ ({error}); twine will find out.")
        return set()
    except (urllib.error.URLError, TimeoutError) as error:
        print(f"Could not reach {simple}{name}/ ({error}); twine will find out.")
        return set()
    if "json" in content_type:
        names = {entry["filename"] for entry in json.loads(body)["files"]}
    else:
        links = _Links()
        links.feed(body)
        names = links.names
    return {n for n in names if file_version(n) == version}


def file_version(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def confirm(files: list[Path], url: str) -> None:
    listing = "\n".join(f"  {f.name}" for f in files)
    question = f"Upload these files to {url}?\n{listing}\nType 'yes' to upload: "
    if not sys.stdin.isatty():
        raise Refusal(
            "publishing to PyPI needs a confirmation, and there is no terminal to "
            "ask. Run: nox -s publish -- --yes"
        )
    if input(question).strip().lower() not in {"y", "yes"}:
        raise Refusal("not confirmed.")


def upload(
    files: list[Path], url: str, repository: str, name: str, version: Version
) -> None:
    command = [sys.executable, "-m", "twine", "upload", "--repository", repository]
    if IN_GITHUB_ACTIONS:
        # Trusted publishing: twine trades the job's OIDC token for a short-lived
        # upload token. The attestations are signed with the same identity.
        signing = subprocess.run(
            [sys.executable, "-m", "pypi_attestations", "sign", *map(str, files)],
            check=False,
        )
        if signing.returncode != 0:
            raise Refusal(
                "could not sign the PEP 740 attestations (above). The job needs "
                "`permissions: id-token: write`, and PyPI a trusted publisher for "
                "this repository, workflow and environment (README: Releasing)."
            )
        command += ["--attestations", "--non-interactive"]
    command += map(str, files)
    print(f"Uploading {name} {version} to {url}", flush=True)
    result = subprocess.run(command, check=False, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        if "already exists" in result.stderr or "409 Conflict" in result.stderr:
            raise Refusal(f"{name} {version} is already on {url}.")
        raise Refusal(f"twine upload failed (above). Check the credentials for {url}.")
    print(f"Published {name} {version} to {url}")


if __name__ == "__main__":
    sys.exit(main())
