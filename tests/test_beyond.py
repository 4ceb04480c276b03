"""The sessions beyond the daily loop, run for real in rendered projects:
minimums (lowest-direct), docstring examples in `test`, `api` (griffe against
the last release tag), `docs -- --serve` (sphinx-autobuild) and `release` (gh,
against a local stand-in for GitHub's API)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    IN_CI,
    git,
    git_commit_all,
    nox,
    output,
    project_env,
    require_python,
    run,
)

pytestmark = pytest.mark.e2e
VARIANTS = ["pure", "c-extension"]
LICENSES = '''"""License names: needs packaging.licenses (new in packaging 24.1)."""

from packaging.licenses import canonicalize_license_expression


def spdx(text: str) -> str:
    """The SPDX form of a license expression.

    >>> spdx("mit")
    'MIT'
    """
    return str(canonicalize_license_expression(text))
'''


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("variant", VARIANTS)
def test_minimums_fails_on_a_minimum_too_low_and_names_it(
    committed_project: Callable[..., Path], variant: str
) -> None:
    require_python("3.11")
    project = committed_project(variant=variant, min_python="3.11")
    module = project / "src" / "my_package"
    (module / "licenses.py").write_text(LICENSES)
    pyproject = project / "pyproject.toml"
    edit(pyproject, "dependencies = []", 'dependencies = ["packaging>=20"]')
    failed = nox(project, "-s", "minimums", check=False)
    assert failed.returncode != 0, output(failed)
    assert "packaging==20.0" in output(failed)  # what the lowest resolution chose
    assert "No module named 'packaging.licenses'" in output(failed)
    edit(pyproject, '"packaging>=20"', '"packaging>=24.2"')
    passed = nox(project, "-s", "minimums")
    assert "packaging==24.2" in output(passed)
    assert "src/my_package/licenses.py ." in output(passed)  # its example ran


def test_minimums_is_a_ci_session_on_the_oldest_python_not_a_daily_one(
    render: Callable[..., Path],
) -> None:
    project = render(min_python="3.12")
    ci = nox(project, "--list", "--json", "--tags", "ci").stdout.splitlines()[-1]
    sessions = {s["session"]: s for s in json.loads(ci)}
    assert sessions["minimums"]["python"] == "3.12"  # the CI job's Python
    daily = nox(project, "--list").stdout
    assert re.search(r"^- minimums", daily, re.MULTILINE), daily  # listed, not run


@pytest.mark.parametrize(
    ("variant", "path", "old", "new", "named"),
    [
        ("pure", "text.py", "'hello-world'", "'hello_world'", "text.slugify"),
        ("c-extension", "_core.c", '"1.0");', '"0.5");', "__test__.clamp"),
    ],
)
def test_a_wrong_docstring_example_fails_the_test_session_naming_it(
    committed_project: Callable[..., Path],
    variant: str,
    path: str,
    old: str,
    new: str,
    named: str,
) -> None:
    require_python("3.11")
    project = committed_project(variant=variant, min_python="3.11")
    nox(project, "-s", "test-3.11")  # the examples as generated pass
    edit(project / "src" / "my_package" / path, old, new)
    failed = nox(project, "-s", "test-3.11", check=False)
    assert failed.returncode != 0, output(failed)
    assert f"[doctest] my_package.{named}" in output(failed)


def add_shout(project: Path, all_before: str, all_after: str) -> None:
    """Commit a new public function, shout, exported beside what __all__ held."""
    (project / "src" / "my_package" / "more.py").write_text(
        '"""More."""\n\n\ndef shout(text: str) -> str:\n    """Upper."""\n'
        "    return text.upper()\n"
    )
    init = project / "src" / "my_package" / "__init__.py"
    edit(init, all_before, all_after)
    edit(init, "\n__all__", "from my_package.more import shout\n\n__all__")
    git_commit_all(project, "Add shout")


def test_api_compares_with_the_last_release_tag(
    committed_project: Callable[..., Path],
) -> None:
    project = committed_project()
    untagged = nox(project, "-s", "api")
    assert "No release tag (v*) yet, so no API to compare with." in output(untagged)
    assert "Session api was successful" in output(untagged)
    git(project, "tag", "v0.1.0")
    init = project / "src" / "my_package" / "__init__.py"
    edit(init, "from my_package.text import slugify\n", "")
    edit(init, '__all__ = ["slugify"]', "__all__: list[str] = []")
    git_commit_all(project, "Remove slugify")
    removed = nox(project, "-s", "api", check=False)
    assert removed.returncode != 0, output(removed)
    assert "slugify: Public object was removed" in output(removed)
    git(project, "tag", "v1.0.0")  # a new major version may break the API
    assert "v0.1.0 -> v1.0.0" in output(nox(project, "-s", "api"))
    add_shout(project, "__all__: list[str] = []", '__all__ = ["shout"]')
    nox(project, "-s", "api")  # adding a name breaks nothing


def test_api_passes_over_a_v_tag_that_is_no_version_and_stops_in_a_shallow_clone(
    committed_project: Callable[..., Path], tmp_path: Path
) -> None:
    project = committed_project()
    git(project, "tag", "vendored-snapshot")  # v*, but no version: not a release
    git_commit_all(project, "Another commit")
    said = output(nox(project, "-s", "api"))
    assert "No release tag (v*) yet, so no API to compare with." in said, said
    git(project, "tag", "v0.1.0")
    git_commit_all(project, "After the release")
    shallow = tmp_path / "shallow"  # no tags, so no release to compare with
    run("git", "clone", "-q", "--depth=1", project.as_uri(), shallow, cwd=tmp_path)
    stopped = nox(shallow, "-s", "api", check=False)
    assert stopped.returncode != 0
    assert "A shallow clone has no tags, so no version" in output(stopped)


def test_api_compares_with_the_final_release_not_its_release_candidate(
    committed_project: Callable[..., Path],
) -> None:
    # git's --sort=v:refname puts v1.0.0rc1 after v1.0.0; PEP 440 before it.
    project = committed_project()
    git(project, "tag", "v1.0.0rc1")
    add_shout(project, '__all__ = ["slugify"]', '__all__ = ["shout", "slugify"]')
    init = project / "src" / "my_package" / "__init__.py"
    git(project, "tag", "v1.0.0")
    edit(init, '__all__ = ["shout", "slugify"]', '__all__ = ["slugify"]')
    edit(init, "from my_package.more import shout\n\n", "")
    git_commit_all(project, "Remove shout")
    removed = nox(project, "-s", "api", check=False)
    assert removed.returncode != 0, output(removed)
    assert "--against=v1.0.0" in output(removed)
    assert "shout: Public object was removed" in output(removed)


def test_api_names_a_static_version_that_is_no_version(
    committed_project: Callable[..., Path],
) -> None:
    project = committed_project(versioning="static")
    git(project, "tag", "v0.1.0")
    edit(project / "pyproject.toml", 'version = "0.1.0"', 'version = "2.0.0-beta.x"')
    git_commit_all(project, "A version that is none")
    result = nox(project, "-s", "api", check=False)
    assert result.returncode != 0
    assert "Traceback" not in output(result), output(result)
    assert "pyproject.toml: version 2.0.0-beta.x is not a version (PEP 440)" in output(
        result
    )


def test_api_fails_when_the_stub_changes_a_compiled_signature(
    committed_project: Callable[..., Path],
) -> None:
    project = committed_project(variant="c-extension")
    git(project, "tag", "v0.1.0")
    stub = project / "src" / "my_package" / "_core.pyi"
    edit(stub, "lo: float, hi: float", "lo: float, hi: float = 1.0, *, nan: bool")
    git_commit_all(project, "clamp takes nan")
    changed = nox(project, "-s", "api", check=False)
    assert changed.returncode != 0, output(changed)
    assert "clamp(nan): Parameter was added as required" in output(changed)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{what} within {seconds} s", pytrace=False)


def test_docs_serve_answers_http_and_rebuilds_after_an_edit(
    committed_project: Callable[..., Path], tmp_path: Path
) -> None:
    project = committed_project()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "nox", "-s", "docs", "--", "--serve", f"--port={port}"],
            cwd=project, env=project_env(), stdout=sink, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: "<html" in page(url), 300, f"no docs at {url}")
        (project / "docs" / "index.md").write_text(
            (project / "docs" / "index.md").read_text() + "\nFreshly written.\n"
        )
        wait_for(lambda: "Freshly written." in page(url), 120, "no rebuild")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert "127.0.0.1" in log.read_text()


class StandIn(BaseHTTPRequestHandler):
    """The part of GitHub's API that `gh release create` uses, on a Unix socket
    (gh's http_unix_socket): it records the release and the files sent."""

    releases: list[dict[str, Any]]
    assets: list[str]
    contents: dict[str, bytes]  # what each asset's upload sent
    drafted = False  # a draft of the tag's release before (a release drafter's)
    broken: frozenset[str] = (
        frozenset()
    )  # assets whose upload broke off (GitHub: "starter")

    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self) -> None:  # gh release create: is there a release of the tag?
        self.send_response(200 if self.releases else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # `gh release view`: the release made, and its files
        if self.drafted and self.path == "/repos/owner/fork/releases/1":
            return self.reply(200, self.release(draft=not self.releases))
        at = ("/repos/owner/fork/releases/1", "/repos/owner/fork/releases/tags/")
        made = self.releases and self.path.startswith(at)
        return self.reply(*((200, self.release(draft=False)) if made else (404, {})))

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/graphql" and b"RepositoryReleaseByTag" in body:
            draft = self.drafted and not self.releases
            made = (
                {"databaseId": 1, "isDraft": draft} if draft or self.releases else None
            )
            return self.reply(200, {"data": {"repository": {"release": made}}})
        if self.path == "/graphql":  # does the tag exist? (--verify-tag)
            return self.reply(200, {"data": {"repository": {"ref": {"id": "tag"}}}})
        if self.path.endswith("/releases") and self.releases:  # GitHub's answer
            errors = [{"resource": "Release", "code": "already_exists"}]
            return self.reply(422, {"message": "Validation Failed", "errors": errors})
        if self.path.endswith("/releases"):
            self.releases.append(json.loads(body))
            return self.reply(201, self.release(draft=True))
        self.assets.append(name := self.path.rpartition("name=")[2])
        self.contents[name] = body
        return self.reply(201, {"id": len(self.assets)})

    def do_DELETE(self) -> None:  # an asset, by its id in the last listing
        self.assets.pop(int(self.path.rpartition("/")[2]) - 1)
        self.send_response(204)
        self.end_headers()

    def do_PATCH(self) -> None:  # published once the files are there
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply(200, self.release(draft=False))

    def release(self, *, draft: bool) -> dict[str, Any]:
        api = "https://api.github.com/repos/owner/fork/releases/1"
        assets = [{"id": n, "name": name, "url": f"{api}/assets/{n}",
                   "state": "starter" if name in self.broken else "uploaded",
                   "size": len(self.contents[name]),
                   "digest": f"sha256:{hashlib.sha256(self.contents[name]).hexdigest()}"}
                  for n, name in enumerate(self.assets, start=1)]  # fmt: skip
        return {
            "id": 1, "url": api, "draft": draft, "tag_name": "v0.1.0", "assets": assets,
            "html_url": "https://github.com/owner/fork/releases/tag/v0.1.0",
            "upload_url": "https://uploads.github.com/repos/owner/fork/releases/1/assets{?name,label}",
        }  # fmt: skip


@pytest.fixture
def github(tmp_path: Path) -> Iterator[tuple[dict[str, str], type[StandIn]]]:
    """gh's environment, pointed at the stand-in, and what the stand-in saw."""
    gh = shutil.which("gh")
    if gh is None:
        message = "gh is not installed: `apt-get install gh` (.ci/run does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    socket_path = tmp_path / "gh.sock"
    config = tmp_path / "gh-config"
    config.mkdir()
    (config / "config.yml").write_text(f"http_unix_socket: {socket_path}\n")
    handler = type("Seen", (StandIn,), {"releases": [], "assets": [], "contents": {}})
    server = socketserver.ThreadingUnixStreamServer(str(socket_path), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"GH_CONFIG_DIR": str(config), "GH_TOKEN": "t", "GH_REPO": "owner/fork"}
    yield project_env(**env), handler
    server.shutdown()
    server.server_close()


def tag_a_release(project: Path) -> None:
    """v0.1.0: its CHANGELOG section written, committed and tagged."""
    changelog = project / "CHANGELOG.md"
    edit(changelog, "## [Unreleased]\n", "## [Unreleased]\n\n## [0.1.0] - 2026-12-02\n")
    git_commit_all(project, "Release 0.1.0")
    git(project, "tag", "v0.1.0")


def made_release(project: Path, env: dict[str, str]) -> Path:
    """v0.1.0 tagged, its CHANGELOG section written, released with a wheel and
    an sdist; dist/."""
    tag_a_release(project)
    (dist := project / "dist").mkdir()
    for name in ["my_package-0.1.0-py3-none-any.whl", "my_package-0.1.0.tar.gz"]:
        (dist / name).write_text(name)
    nox(project, "-s", "release", env=env)
    return dist


def test_release_creates_the_github_release_with_notes_and_every_file(
    committed_project: Callable[..., Path],
    github: tuple[dict[str, str], type[StandIn]],
) -> None:
    env, seen = github
    project = committed_project()
    tag_a_release(project)
    dist = project / "dist"
    dist.mkdir()
    files = [
        "my_package-0.1.0-py3-none-any.whl",
        "my_package-0.1.0-py3-none-any.whl.publish.attestation",
        "my_package-0.1.0.tar.gz",
        "my_package-0.1.0.tar.gz.publish.attestation",
    ]
    for name in [*files, "manifest-build.json"]:
        (dist / name).write_text(name)
    nox(project, "-s", "release", env=env)
    (release,) = seen.releases
    assert release["tag_name"] == "v0.1.0"
    assert release["name"] == "v0.1.0"
    assert release["body"] == (
        "### Added\n\n- The package, started from the wheelwright template.\n"
    )
    assert sorted(seen.assets) == files  # the manifest stays behind


def test_a_re_run_of_the_release_uploads_only_what_it_lacks(
    committed_project: Callable[..., Path],
    github: tuple[dict[str, str], type[StandIn]],
) -> None:
    """A re-run (of the job, or of the session) finds the release made: a
    second `gh release create` of the tag would fail. It uploads the files the
    release lacks, replaces none, and says so."""
    env, seen = github
    made_release(project := committed_project(), env)
    again = nox(project, "-s", "release", env=env)
    assert (
        "The release v0.1.0 exists: it has all 2 files of dist/, byte for byte"
        in output(again)
    )
    late = project / "dist/my_package-0.1.0.tar.gz.publish.attestation"
    late.write_text("attestation")
    finished = nox(project, "-s", "release", env=env)
    assert (
        "The release v0.1.0 exists: uploaded the 1 of dist/'s 3 files it lacked"
        in output(finished)
    )
    assert len(seen.releases) == 1
    assert sorted(seen.assets) == sorted(p.name for p in (project / "dist").iterdir())


def test_a_re_run_replaces_an_upload_that_broke_off(
    committed_project: Callable[..., Path],
    github: tuple[dict[str, str], type[StandIn]],
) -> None:
    """An asset whose upload broke off is listed, in state "starter": it is not
    the file, so a re-run uploads it again in its place."""
    env, seen = github
    made_release(project := committed_project(), env)
    seen.broken = frozenset({"my_package-0.1.0.tar.gz"})
    finished = nox(project, "-s", "release", env=env)
    assert "uploaded the 1 of dist/'s 2 files it lacked" in output(finished)
    assert sorted(seen.assets) == sorted(p.name for p in (project / "dist").iterdir())


def test_a_re_run_refuses_a_release_whose_file_of_that_name_differs(
    committed_project: Callable[..., Path],
    github: tuple[dict[str, str], type[StandIn]],
) -> None:
    """A file of the release that is not dist/'s (another build, attached from a
    laptop, say) is never called the same, nor replaced: one line names it."""
    env, seen = github
    dist = made_release(project := committed_project(), env)
    (dist / "my_package-0.1.0.tar.gz").write_text("another build")
    refused = nox(project, "-s", "release", check=False, env=env)
    assert refused.returncode != 0
    assert (
        "The release v0.1.0 has a my_package-0.1.0.tar.gz that is not dist/'s "
        "(another sha256): delete it from the release (gh release delete-asset "
        "v0.1.0 my_package-0.1.0.tar.gz), or put its build in dist/, and rerun"
    ) in " ".join(output(refused).split())
    assert seen.contents["my_package-0.1.0.tar.gz"] == b"my_package-0.1.0.tar.gz"


def test_a_re_run_attaches_files_to_a_release_written_by_hand(
    committed_project: Callable[..., Path],
    github: tuple[dict[str, str], type[StandIn]],
) -> None:
    """Without a CHANGELOG section the release job stops, and the README says
    to write the notes on GitHub's page: the re-run then attaches the files,
    without asking the CHANGELOG again."""
    env, seen = github
    project = committed_project()
    git(project, "tag", "v0.1.0")  # no ## [0.1.0] section
    (project / "dist").mkdir()
    (project / "dist/my_package-0.1.0.tar.gz").write_text("sdist")
    seen.releases.append({"tag_name": "v0.1.0", "body": "Written on GitHub's page"})
    finished = nox(project, "-s", "release", env=env)
    assert "uploaded the 1 of dist/'s 1 files it lacked" in output(finished)
    assert seen.assets == ["my_package-0.1.0.tar.gz"]


def test_a_draft_of_the_release_is_not_taken_for_the_release(
    committed_project: Callable[..., Path],
    github: tuple[dict[str, str], type[StandIn]],
) -> None:
    """A release drafter's draft of the tag is no release: gh release create
    makes the release, with every file."""
    env, seen = github
    seen.drafted = True
    project = committed_project()
    tag_a_release(project)
    (project / "dist").mkdir()
    (project / "dist/my_package-0.1.0.tar.gz").write_text("sdist")
    made = nox(project, "-s", "release", env=env)
    assert "exists" not in output(made)
    assert len(seen.releases) == 1
    assert seen.assets == ["my_package-0.1.0.tar.gz"]


def test_release_refuses_a_version_the_changelog_lacks(
    committed_project: Callable[..., Path],
    github: tuple[dict[str, str], type[StandIn]],
) -> None:
    env, seen = github
    project = committed_project()
    git(project, "tag", "v0.2.0")
    (project / "dist").mkdir()
    (project / "dist" / "my_package-0.2.0.tar.gz").write_text("sdist")
    refused = nox(project, "-s", "release", check=False, env=env)
    assert refused.returncode != 0
    assert (
        "aborted: CHANGELOG.md has no ## [0.2.0] section: add it before tagging.\n"
        in output(refused)
    )
    assert seen.releases == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_release_job_passes_the_mirror_and_zizmor(
    committed_project: Callable[..., Path], variant: str
) -> None:
    project = committed_project(variant=variant)
    ci = (project / ".github" / "workflows" / "ci.yml").read_text()
    job = ci[ci.index("\n  release:") :]
    assert "needs: publish" in job
    assert "contents: write" in job
    assert ci.count("      contents: write") == 1  # that job alone
    lint = nox(project, "-s", "lint")
    assert "CI runs the noxfile" in output(lint)
    assert "No findings to report" in output(lint)  # zizmor, --persona pedantic
    workflow = project / ".github" / "workflows" / "ci.yml"
    workflow.write_text(ci.replace("contents: write #", "id-token: write #"))
    refused = nox(project, "-s", "lint", check=False)
    assert "job 'release': permissions" in output(refused)
