"""Publishing end to end, against a real local package index (pypiserver).

`publish_test` and `publish` upload exactly what `build` (and `wheels`) made,
byte for byte, and refuse every mistake before anything leaves the machine:
each refusal has its own test that checks the message names the file and the
fix, and that the index holds nothing new afterwards. A proxy in front of the
index (fault_proxy.py) fails uploads part-way, to prove that the session says
what reached the index and that running it again finishes the release.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from base64 import b64encode, urlsafe_b64encode
from collections.abc import Callable
from pathlib import Path
from platform import machine, system

import package_index
import pexpect
import pytest
import yaml
from conftest import render_project
from fault_proxy import fault_proxy
from helpers import (
    git,
    git_commit_all,
    lock_project,
    needs_a_pty,
    needs_symlinks,
    nox,
    output,
    project_env,
    require_python,
    run,
    tool,
    venv_python,
)
from package_index import PackageIndex, free_port

pytestmark = pytest.mark.e2e

WHEEL = "my_package-1.0.0-py3-none-any.whl"
SDIST = "my_package-1.0.0.tar.gz"
SESSIONS = ["publish_test", "publish"]
# `nox -s wheels` names its manifest after the platform it ran on.
WHEELS_MANIFEST = f"manifest-wheels-{system()}-{machine()}.json".lower()
Result = subprocess.CompletedProcess[str]


# --- projects at their release tag, built -----------------------------------


def release(template: Path, where: Path, **answers: object) -> Path:
    """A project at its tag v1.0.0 with `nox -s build` run: ready to publish."""
    project = render_project(template, where / "project", **answers)
    if answers.get("versioning") == "static":
        set_static_version(project, "1.0.0")
    lock_project(project)  # as its first nox run does, before the first commit
    git_commit_all(project)
    git(project, "tag", "v1.0.0")
    nox(project, "-s", "build")
    if answers.get("variant") == "c-extension":
        add_repaired_wheel(project, where)
    return project


def add_repaired_wheel(project: Path, where: Path) -> None:
    """What `nox -s wheels` leaves in dist/, without the containers cibuildwheel
    needs: the host wheel repaired to manylinux by auditwheel (as cibuildwheel
    does), then the session's own last step, `tools/publish.py record wheels`."""
    run(sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--python",
        require_python("3.11"), "--out-dir", where / "host", cwd=project)  # fmt: skip
    (wheel,) = (where / "host").glob("*.whl")
    if sys.platform == "linux":
        run(tool("auditwheel"), "repair", "--plat", "manylinux_2_17_x86_64",
            "--wheel-dir", project / "dist", wheel, cwd=where)  # fmt: skip
    else:  # macOS and Windows wheels are what PyPI takes, as built
        shutil.copy2(wheel, project / "dist")
    record(project, "wheels")


def set_static_version(project: Path, version: str) -> None:
    pyproject = project / "pyproject.toml"
    text = re.sub(
        r'(?m)^version = ".*"$', f'version = "{version}"', pyproject.read_text()
    )
    pyproject.write_text(text)


def record(project: Path, session: str = "build") -> None:
    """What the end of `nox -s build` / `nox -s wheels` runs: the manifest."""
    run(sys.executable, "tools/publish.py", "record", session, cwd=project)


def fresh_copy(project: Path, tmp_path: Path) -> Path:
    """A copy of a released project (its git history too) for one test to change."""
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns(".nox"))
    return copy


@pytest.fixture(scope="module")
def releases(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Path]:
    """Released projects by (variant, versioning), each made once per module."""
    made: dict[tuple[str, str], Path] = {}

    def get(variant: str = "pure", versioning: str = "vcs") -> Path:
        if (variant, versioning) not in made:
            where = tmp_path_factory.mktemp(f"released-{variant}-{versioning}")
            made[variant, versioning] = release(
                template_snapshot, where, variant=variant, versioning=versioning
            )
        return made[variant, versioning]

    return get


@pytest.fixture
def project(releases: Callable[..., Path], tmp_path: Path) -> Path:
    """A pure project at v1.0.0 (hatch-vcs), built, for this test to change."""
    return fresh_copy(releases(), tmp_path)


@pytest.fixture
def c_project(releases: Callable[..., Path], tmp_path: Path) -> Path:
    """A C project at v1.0.0: the sdist and a manylinux wheel in dist/."""
    return fresh_copy(releases("c-extension"), tmp_path)


# --- running the sessions and reading what they did -------------------------


def publish(
    project: Path, index: PackageIndex, session: str, *args: str, url: str | None = None,
    **env: str,
) -> Result:  # fmt: skip
    return nox(project, "-s", session, "--", *args, check=False,
               env=project_env(**(index.twine_env(url) | env)))  # fmt: skip


def session_args(session: str) -> tuple[str, ...]:
    return ("--yes",) if session == "publish" else ()


def built(project: Path) -> dict[str, bytes]:
    """dist/'s wheels and sdist, byte for byte (its manifests are not uploaded)."""
    return {p.name: p.read_bytes() for p in (project / "dist").iterdir()
            if p.name.endswith((".whl", ".tar.gz"))}  # fmt: skip


def assert_published(result: Result, project: Path, index: PackageIndex) -> None:
    """The session succeeded and the index holds exactly dist/'s files."""
    assert result.returncode == 0, output(result)
    assert index.contents() == built(project)


def assert_refused(
    result: Result, index: PackageIndex, before: dict[str, bytes], *messages: str
) -> None:
    """Refused with one clear line per problem, and nothing sent."""
    printed = output(result)
    assert result.returncode != 0, printed
    for message in messages:
        assert message in printed, printed
    assert "Nothing was uploaded." in printed
    assert "Traceback" not in printed
    assert index.contents() == before


def install_from_index(index: PackageIndex, requirement: str, tmp_path: Path) -> str:
    """Install into a fresh venv from the index only; return the imported version."""
    venv = tmp_path / "user-venv"
    run(sys.executable, "-m", "uv", "venv", "--quiet", "--python",
        require_python("3.11"), venv, cwd=tmp_path)  # fmt: skip
    python = venv_python(venv)
    run(sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", python,
        "--index-url", index.simple_url, "--no-cache", requirement, cwd=tmp_path)  # fmt: skip
    return run(python, "-c", "import my_package; print(my_package.__version__)",
               cwd=tmp_path).stdout.strip()  # fmt: skip


# --- wheels changed after the build, as an attacker or a mistake would ------


def rewrite_wheel(wheel: Path, new_name: str, edit: Callable[[dict[str, bytes]], None],
                  *, fix_record: bool = True) -> Path:  # fmt: skip
    """Replace a wheel with new_name, its members changed by edit; with
    fix_record, RECORD is rewritten to match, as a build tool would have."""
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    edit(members)
    record_name = next(n for n in members if n.endswith(".dist-info/RECORD"))
    if fix_record:
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        for name, data in members.items():
            digest = urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            is_record = name == record_name
            writer.writerow([name, "" if is_record else f"sha256={digest.decode()}",
                             "" if is_record else len(data)])  # fmt: skip
        members[record_name] = rows.getvalue().encode()
    wheel.unlink()
    target = wheel.with_name(new_name)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def set_wheel_tag(members: dict[str, bytes], platform: str) -> None:
    """Give every Tag line of the WHEEL file this platform (one line per tag)."""
    name = next(n for n in members if n.endswith(".dist-info/WHEEL"))
    lines, tags = members[name].decode().splitlines(), []
    for line in lines:
        if line.startswith("Tag: "):
            tag = line.rsplit("-", 1)[0] + f"-{platform}"
            tags += [tag] if tag not in tags else []
    kept = [line for line in lines if line and not line.startswith("Tag: ")]
    members[name] = ("\n".join(kept + tags) + "\n").encode()


# --- publishing what was built ----------------------------------------------


@pytest.mark.parametrize("session", SESSIONS)
@pytest.mark.parametrize("versioning", ["vcs", "static"])
@pytest.mark.parametrize("variant", ["pure", "c-extension"])
def test_publishes_exactly_the_built_files_byte_for_byte(
    releases, tmp_path: Path, index: PackageIndex, variant: str, versioning: str,
    session: str,
) -> None:  # fmt: skip
    project = fresh_copy(releases(variant, versioning), tmp_path)
    files = built(project)
    assert len(files) == 2, files  # the sdist, and the wheel (manylinux for C)
    manifests = {p.name for p in (project / "dist").glob("manifest-*.json")}
    expected = {"manifest-build.json"}
    if variant == "c-extension":
        expected.add(WHEELS_MANIFEST)
        if sys.platform == "linux":  # elsewhere the host wheel is PyPI's as built
            assert any("manylinux_2_17_x86_64" in name for name in files)
    assert manifests == expected

    result = publish(project, index, session, *session_args(session))
    assert_published(result, project, index)  # never a manifest
    assert "Published my-package 1.0.0" in result.stdout
    for name in files:  # the closing table: file, size, sha256 prefix, what happened
        sha = hashlib.sha256(files[name]).hexdigest()[:12]
        assert re.search(rf"{re.escape(name)} +[\d.]+ k?B +{sha} +uploaded now",
                         result.stdout), result.stdout  # fmt: skip


def test_publish_test_uploads_a_dev_build_that_installs_from_the_index(
    committed_project, index: PackageIndex, tmp_path: Path
) -> None:
    project = committed_project()  # no tag yet: a development version
    nox(project, "-s", "build")
    (version,) = {name.split("-")[1].removesuffix(".tar.gz") for name in built(project)}
    assert ".dev" in version
    assert_published(publish(project, index, "publish_test"), project, index)
    assert install_from_index(index, f"my-package=={version}", tmp_path) == version


def test_published_release_installs_from_the_index(
    project: Path, index: PackageIndex, tmp_path: Path
) -> None:
    assert_published(publish(project, index, "publish", "--yes"), project, index)
    assert install_from_index(index, "my-package==1.0.0", tmp_path) == "1.0.0"


def test_c_project_release_installs_its_wheel_from_the_index(
    c_project: Path, index: PackageIndex, tmp_path: Path
) -> None:
    assert_published(publish(c_project, index, "publish", "--yes"), c_project, index)
    assert install_from_index(index, "my-package==1.0.0", tmp_path) == "1.0.0"


@pytest.mark.parametrize("session", SESSIONS)
def test_a_version_already_published_is_nothing_to_do(
    project: Path, index: PackageIndex, session: str
) -> None:
    assert publish(project, index, session, *session_args(session)).returncode == 0
    before = index.contents()
    result = publish(project, index, session, *session_args(session))
    printed = output(result)
    assert result.returncode == 0, printed
    assert f"{WHEEL}: already on the index (the same sha256, skipped)." in printed
    assert (f"my-package 1.0.0 is already published on {index.url}: every file of "
            "dist/ is there, byte for byte. Nothing to do.") in printed  # fmt: skip
    assert index.contents() == before


# --- an upload cut short, then finished by running the session again --------

FAULT_MESSAGES = {  # our one line for each fault, what happened and what to do
    400: (
        f"the index rejected {SDIST} (Server returned status code 400 Bad Request. "
        "Server says: 400 Bad Request: injected fault (the index rejected this "
        "file)). Fix what it says (and build again if that changes the files)."
    ),
    503: (
        f"the index failed while receiving {SDIST} (Server returned status code 503 "
        "Service Unavailable. Server says: 503 Service Unavailable: injected "
        "fault). That is on the index's side: wait a little."
    ),
    "reset": f"the connection to {{url}} broke while sending {SDIST} (",
}


@pytest.mark.parametrize("session", SESSIONS)
@pytest.mark.parametrize("fault", [400, 503, "reset"])
def test_an_upload_cut_short_says_what_reached_the_index_and_a_rerun_finishes_it(
    project: Path, index: PackageIndex, fault: int | str, session: str
) -> None:
    args = session_args(session)
    with fault_proxy(index.url, fault) as proxy:  # the first upload passes
        cut_short = publish(project, index, session, *args, url=proxy.url)
        printed = output(cut_short)
        assert cut_short.returncode != 0, printed
        assert proxy.uploads[0] == (WHEEL, "passed")  # wheels first, the sdist last
        assert proxy.uploads[-1] == (SDIST, str(fault))
        assert index.files() == {WHEEL}
        message = FAULT_MESSAGES[fault].format(url=proxy.url)
        assert f"Not published completely: {message}" in printed
        assert (
            f"These reached the index: {WHEEL}.\nNot on the index: {SDIST}." in printed
        )
        assert (f"Run `nox -s {session}` again (in CI, re-run the {session} job) to "
                "finish the release") in printed  # fmt: skip
        assert "Nothing was uploaded" not in printed
        assert printed.count("Not published completely") == 1
        # uv's own output is there too, below our message.
        assert printed.index("Not published completely") < printed.index(
            "uv publish said:"
        )

        proxy.fault = None  # the index is fine again
        finished = publish(project, index, session, *args, url=proxy.url)
        assert_published(finished, project, index)
        assert f"{WHEEL}: already on the index (the same sha256, skipped)." in (
            finished.stdout
        )
        assert proxy.uploads[-1] == (SDIST, "passed")
        assert re.search(rf"{re.escape(WHEEL)} .* already there\n", finished.stdout)
        assert re.search(rf"{re.escape(SDIST)} .* uploaded now", finished.stdout)

        uploads = len(proxy.uploads)
        again = publish(project, index, session, *args, url=proxy.url)
        assert again.returncode == 0, output(again)
        assert "Nothing to do." in again.stdout
        assert len(proxy.uploads) == uploads  # nothing sent


def test_c_release_cut_short_never_leaves_only_the_sdist_on_the_index(
    c_project: Path, index: PackageIndex
) -> None:
    (wheel,) = (name for name in built(c_project) if name.endswith(".whl"))
    with fault_proxy(index.url, "reset") as proxy:
        cut_short = publish(c_project, index, "publish", "--yes", url=proxy.url)
        assert cut_short.returncode != 0
        assert index.files() == {wheel}  # so pip never has only the sdist to compile
        assert f"These reached the index: {wheel}." in output(cut_short)
        proxy.fault = None
        finished = publish(c_project, index, "publish", "--yes", url=proxy.url)
    assert_published(finished, c_project, index)


def test_refused_credentials_are_named_with_what_to_check(
    project: Path, index: PackageIndex
) -> None:
    with fault_proxy(index.url, 403, passes=0) as proxy:
        result = publish(project, index, "publish_test", url=proxy.url)
    printed = output(result)
    assert result.returncode != 0, printed
    assert ("the index refused the credentials (Server returned status code 403 "
            "Forbidden. Server says: 403 Forbidden: injected fault") in printed  # fmt: skip
    assert ("Check the API token: UV_PUBLISH_TOKEN, or TWINE_USERNAME=__token__ and "
            "TWINE_PASSWORD") in printed  # fmt: skip
    assert "None of them reached the index: nothing was uploaded." in printed
    assert index.files() == set()


@pytest.mark.parametrize("session", SESSIONS)
@pytest.mark.parametrize("where", ["a closed port", "a name DNS cannot resolve"])
def test_an_unreachable_index_is_named_before_anything_is_sent(
    project: Path, index: PackageIndex, session: str, where: str
) -> None:
    # .invalid never resolves (RFC 6761): a DNS failure, with no network used.
    unreachable = {
        "a closed port": f"http://127.0.0.1:{free_port()}/",
        "a name DNS cannot resolve": "http://index.wheelwright.invalid/",
    }[where]
    result = publish(project, index, session, *session_args(session), url=unreachable)
    assert_refused(result, index, {},
                   f"could not read the index at {unreachable}simple/ (",
                   "Check the network and TWINE_REPOSITORY_URL")  # fmt: skip


# --- contents: each file is what its name says ------------------------------


def replace_with_build_of_another_version(project: Path, tmp_path: Path) -> str:
    """A 1.0.1 wheel renamed to 1.0.0 (pip then fails to install it)."""
    env = project_env(SETUPTOOLS_SCM_PRETEND_VERSION="1.0.1")
    run(sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--out-dir",
        tmp_path / "other", cwd=project, env=env)  # fmt: skip
    (other,) = (tmp_path / "other").glob("*.whl")
    shutil.move(other, project / "dist" / WHEEL)
    return WHEEL


def add_a_file_after_the_build(project: Path, tmp_path: Path) -> str:
    with zipfile.ZipFile(project / "dist" / WHEEL, "a") as wheel:
        wheel.writestr("my_package/extra.py", "print('not built from the source')\n")
    return WHEEL


def change_a_file_after_the_build(project: Path, tmp_path: Path) -> str:
    def edit(members: dict[str, bytes]) -> None:
        members["my_package/text.py"] += b"\nraise SystemExit('changed')\n"

    rewrite_wheel(project / "dist" / WHEEL, WHEEL, edit, fix_record=False)
    return WHEEL


def forge_an_sdist(project: Path, tmp_path: Path) -> str:
    """A .tar.gz holding only a PKG-INFO (copied from the real one)."""
    sdist = project / "dist" / SDIST
    with tarfile.open(sdist) as real:
        member = real.extractfile("my_package-1.0.0/PKG-INFO")
        assert member is not None
        pkg_info = member.read()
    with tarfile.open(sdist, "w:gz") as forged:
        member = tarfile.TarInfo("my_package-1.0.0/PKG-INFO")
        member.size = len(pkg_info)
        forged.addfile(member, io.BytesIO(pkg_info))
    return SDIST


def drop_a_module_but_not_its_record_row(project: Path, tmp_path: Path) -> str:
    """The one RECORD case installer passes: a row whose file is gone."""
    rewrite_wheel(project / "dist" / WHEEL, WHEEL,
                  lambda members: members.pop("my_package/text.py"), fix_record=False)  # fmt: skip
    return WHEEL


def add_a_member_outside_the_sdist_folder(project: Path, tmp_path: Path) -> str:
    """The real sdist, and a file that unpacks beside its folder ("..")."""
    sdist = project / "dist" / SDIST
    with tarfile.open(sdist) as real:
        members = [(m, real.extractfile(m)) for m in real.getmembers()]
        payload = b"print('beside the sdist')\n"
        with tarfile.open(tmp_path / SDIST, "w:gz") as forged:
            for member, data in members:
                forged.addfile(member, data)
            evil = tarfile.TarInfo("my_package-1.0.0/../evil.py")
            evil.size = len(payload)
            forged.addfile(evil, io.BytesIO(payload))
    shutil.move(tmp_path / SDIST, sdist)
    return SDIST


def retag_the_wheel(project: Path, tmp_path: Path) -> str:
    name = "my_package-1.0.0-py2.py3-none-any.whl"
    rewrite_wheel(project / "dist" / WHEEL, name, lambda members: None)
    return name


def break_the_zip(project: Path, tmp_path: Path) -> str:
    (project / "dist" / WHEEL).write_bytes(b"not a zip archive")
    return WHEEL


CONTENT_REFUSALS = {
    replace_with_build_of_another_version: (
        "its METADATA and WHEEL say my-package 1.0.1, py3-none-any: a renamed "
        "file? Build again: nox -s build."
    ),
    add_a_file_after_the_build: (
        "installer says my_package/extra.py is not mentioned in RECORD. Build again"
    ),
    change_a_file_after_the_build: (
        "installer says hash / size of my_package/text.py didn't match RECORD. "
        "Build again"
    ),
    forge_an_sdist: (
        "has no my_package-1.0.0/pyproject.toml, which every sdist has. Build again"
    ),
    drop_a_module_but_not_its_record_row: (
        "its RECORD lists my_package/text.py, which it does not hold. Build again"
    ),
    add_a_member_outside_the_sdist_folder: (
        "holds my_package-1.0.0/../evil.py outside its one top-level "
        "my_package-1.0.0/. Build again"
    ),
    retag_the_wheel: (
        "its METADATA and WHEEL say my-package 1.0.0, py3-none-any: a renamed file? "
        "Build again"
    ),
    break_the_zip: "is not a valid wheel (a zip archive): File is not a zip file. "
    "Build again: nox -s build.",
}


@pytest.mark.parametrize("change", list(CONTENT_REFUSALS), ids=lambda c: c.__name__)
@pytest.mark.parametrize("session", SESSIONS)
def test_refuses_a_file_whose_contents_are_not_what_its_name_says(
    project: Path, index: PackageIndex, tmp_path: Path, session: str, change
) -> None:
    name = change(project, tmp_path)
    record(project)  # as if the build itself had made it: only the contents tell
    result = publish(project, index, session, *session_args(session))
    assert_refused(result, index, {}, f"{name}: {CONTENT_REFUSALS[change]}")


def misnamed(name: str, expected: str) -> str:
    return (f"{name}: is not the name build tools write ({expected}), so it would be "
            "a second file beside the real one. Remove it. Build again: nox -s build.")  # fmt: skip


@pytest.mark.parametrize(
    ("copy_as", "message"),
    [
        ("My_Package-1.0.0-py3-none-any.whl",
         misnamed("My_Package-1.0.0-py3-none-any.whl", "my_package-1.0.0-*.whl")),
        ("My.Package-1.0.0.tar.gz",
         misnamed("My.Package-1.0.0.tar.gz", "my_package-1.0.0.tar.gz")),
        ("my-package-1.0.0.tar.gz",
         misnamed("my-package-1.0.0.tar.gz", "my_package-1.0.0.tar.gz")),
        ("my_package-0.9.0-py3-none-any.whl",
         "dist/: holds more than one version of my-package (0.9.0, 1.0.0)"),
        ("other_thing-1.0.0-py3-none-any.whl",
         "other_thing-1.0.0-py3-none-any.whl: is not a wheel or sdist of my-package"),
    ],
)  # fmt: skip
def test_refuses_a_built_file_copied_under_another_name(
    project: Path, index: PackageIndex, copy_as: str, message: str
) -> None:
    original = WHEEL if copy_as.endswith(".whl") else SDIST
    shutil.copy(project / "dist" / original, project / "dist" / copy_as)
    record(project)  # even listed in a manifest
    result = publish(project, index, "publish_test")
    assert_refused(result, index, {}, message)


@needs_symlinks
def test_refuses_a_symlink_in_dist(
    project: Path, index: PackageIndex, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.whl"
    shutil.move(project / "dist" / WHEEL, elsewhere)
    (project / "dist" / WHEEL).symlink_to(elsewhere)
    result = publish(project, index, "publish_test")
    assert_refused(result, index, {}, f"dist/{WHEEL}: is a symbolic link (to "
                   f"{elsewhere}), not a file that was built. Remove it.")  # fmt: skip


def test_refuses_a_directory_in_dist(project: Path, index: PackageIndex) -> None:
    (project / "dist" / "extra").mkdir()
    result = publish(project, index, "publish_test")
    assert_refused(result, index, {}, "dist/extra: is a directory, not a file that "
                   "was built. Remove it.")  # fmt: skip


@pytest.mark.parametrize("platform", ["linux_x86_64", "linux_aarch64", "linux_armv7l"])
@pytest.mark.parametrize("session", SESSIONS)
def test_c_project_refuses_every_plain_linux_wheel(
    c_project: Path, index: PackageIndex, platform: str, session: str
) -> None:
    (wheel,) = (c_project / "dist").glob("*.whl")
    name = re.sub(r"-[^-]+\.whl$", f"-{platform}.whl", wheel.name)  # any platform
    rewrite_wheel(wheel, name, lambda members: set_wheel_tag(members, platform))
    record(c_project, "wheels")
    result = publish(c_project, index, session, *session_args(session))
    assert_refused(result, index, {}, f"{name}: has the plain Linux platform tag "
                   f"{platform}, which PyPI rejects. Publish the manylinux/musllinux "
                   "wheels that nox -s wheels makes.")  # fmt: skip


# --- provenance: built by these sessions, from this commit -------------------


@pytest.mark.parametrize("session", SESSIONS)
def test_refuses_files_no_build_manifest_lists(
    project: Path, index: PackageIndex, session: str
) -> None:
    (project / "dist" / "manifest-build.json").unlink()
    result = publish(project, index, session, *session_args(session))
    assert_refused(result, index, {}, f"{WHEEL}: no build manifest "
                   "(dist/manifest-*.json) lists it, so nothing says which commit it "
                   "was built from. Build again: nox -s build.")  # fmt: skip


@pytest.mark.parametrize("session", SESSIONS)
def test_refuses_a_file_changed_after_the_build(
    project: Path, index: PackageIndex, tmp_path: Path, session: str
) -> None:
    add_a_file_after_the_build(project, tmp_path)  # and no new manifest
    result = publish(project, index, session, *session_args(session))
    assert_refused(result, index, {}, f"{WHEEL}: its sha256 differs from the one "
                   "nox -s build recorded in dist/manifest-build.json: changed after "
                   "the build? Build again: nox -s build.")  # fmt: skip


@pytest.mark.parametrize("session", SESSIONS)
def test_refuses_a_file_two_manifests_record_as_different_builds(
    project: Path, index: PackageIndex, session: str
) -> None:
    # `nox -s build` recorded the wheel; then another build of the same name
    # (as a wheels runner's, merged into dist/ by CI) replaced it and recorded
    # itself. dist/ holds one of the two, and no check of the file alone tells.
    def add_a_module(members: dict[str, bytes]) -> None:
        members["my_package/extra.py"] = b"BUILT = 'by another build'\n"

    rewrite_wheel(project / "dist" / WHEEL, WHEEL, add_a_module)  # RECORD valid
    record(project, "wheels")
    result = publish(project, index, session, *session_args(session))
    assert_refused(result, index, {}, f"{WHEEL}: dist/manifest-build.json and "
                   f"dist/{WHEELS_MANIFEST} record different builds of it. Empty "
                   "dist/ and build once: nox -s build.")  # fmt: skip


def test_refuses_a_built_file_missing_from_dist(
    project: Path, index: PackageIndex
) -> None:
    (project / "dist" / SDIST).unlink()
    result = publish(project, index, "publish_test")
    assert_refused(result, index, {}, f"{SDIST}: dist/manifest-build.json lists it, "
                   "but it is not in dist/. Build again: nox -s build.")  # fmt: skip


def test_refuses_a_broken_manifest(project: Path, index: PackageIndex) -> None:
    (project / "dist" / "manifest-build.json").write_text("{not json")
    result = publish(project, index, "publish_test")
    assert_refused(result, index, {}, "dist/manifest-build.json: is not a build "
                   "manifest (JSONDecodeError(")  # fmt: skip


def test_publish_refuses_a_stale_static_build_of_an_older_commit(
    releases, tmp_path: Path, index: PackageIndex
) -> None:
    # Built at 1.0.0, then a fix committed and tagged, and no new build: the
    # wheel in dist/ lacks the fix, yet its name says 1.0.0.
    project = fresh_copy(releases("pure", "static"), tmp_path)
    built_at = git(project, "rev-parse", "HEAD")
    text = project / "src/my_package/text.py"
    text.write_text(text.read_text() + "\n# the fix\n")
    git_commit_all(project, "The fix")
    git(project, "tag", "--force", "v1.0.0")
    head = git(project, "rev-parse", "HEAD")
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, index, {}, "dist/manifest-build.json: nox -s build built "
                   f"from commit {built_at[:12]}, but HEAD is {head[:12]}: the files "
                   "may not hold what HEAD does. Build again: nox -s build, at HEAD.")  # fmt: skip


def test_publish_refuses_a_build_from_a_dirty_tree(
    releases, tmp_path: Path, index: PackageIndex
) -> None:
    project = fresh_copy(releases("pure", "static"), tmp_path)
    scratch = project / "src/my_package/scratch.py"  # untracked, so packaged
    scratch.write_text("SECRET = 'never meant to ship'\n")
    nox(project, "-s", "build")
    scratch.unlink()  # the tree is clean again, at the tag: only the manifest knows
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, index, {}, "dist/manifest-build.json: nox -s build built "
                   "from a tree with uncommitted changes, so no commit holds the "
                   "files' source. Commit or stash the changes. Build again")  # fmt: skip


def test_wheels_session_records_its_manifest(committed_project, tmp_path: Path) -> None:
    # No container engine here: a stand-in `docker` lets the session start, and
    # cibuildwheel only lists what it would build; the recording step still runs.
    project = committed_project(variant="c-extension")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text("#!/bin/sh\nexit 0\n")
    (fake / "docker").chmod(0o755)
    env = project_env()
    env["PATH"] = os.pathsep.join([str(fake), env["PATH"]])
    nox(project, "-s", "wheels", "--", "--print-build-identifiers", env=env)
    manifest = json.loads((project / "dist" / WHEELS_MANIFEST).read_text())
    assert manifest == {"built_by": "nox -s wheels", "dirty": False, "files": {},
                        "commit": git(project, "rev-parse", "HEAD")}  # fmt: skip


# --- the index: another build of this version already there ------------------


@pytest.mark.parametrize("session", SESSIONS)
def test_refuses_when_another_build_of_the_version_is_on_the_index(
    releases, tmp_path: Path, index: PackageIndex, session: str
) -> None:
    project = fresh_copy(releases("pure", "static"), tmp_path)
    assert publish(project, index, "publish_test").returncode == 0
    before = index.contents()
    text = project / "src/my_package/text.py"
    text.write_text(text.read_text() + "\n# changed, and the version not bumped\n")
    git_commit_all(project, "A change")
    git(project, "tag", "--force", "v1.0.0")
    nox(project, "-s", "build")
    result = publish(project, index, session, *session_args(session))
    assert_refused(result, index, before, f"{WHEEL}: a different build of this "
                   "version is already on the index (sha256 ", "An index never "
                   "replaces a file: bump the version and build again")  # fmt: skip


# --- what a release needs besides right files --------------------------------


def test_c_project_publish_test_uploads_an_sdist_alone_with_a_warning(
    c_project: Path, index: PackageIndex
) -> None:
    # A laptop without a container engine: `nox -s build` made the sdist, and
    # `nox -s wheels` could not run. TestPyPI gets the sdist, and a warning.
    for path in (c_project / "dist").glob("*wheels*"):
        path.unlink()
    for path in (c_project / "dist").glob("*.whl"):
        path.unlink()
    result = publish(c_project, index, "publish_test")
    assert_published(result, c_project, index)
    warning = ("Warning: dist/: has no binary wheels beside the sdist, so every user "
               "would build it from source. Build them: nox -s wheels")  # fmt: skip
    assert result.stdout.count(warning) == 2  # before the upload, and at the end
    assert index.files() == {SDIST}


def test_c_project_publish_refuses_without_binary_wheels(
    c_project: Path, index: PackageIndex
) -> None:
    for path in [
        *(c_project / "dist").glob("*wheels*"),
        *(c_project / "dist").glob("*.whl"),
    ]:
        path.unlink()
    result = publish(c_project, index, "publish", "--yes")
    assert_refused(result, index, {}, "dist/: has no binary wheels beside the sdist, "
                   "so every user would build it from source. Build them: nox -s "
                   "wheels")  # fmt: skip


def test_c_project_publish_refuses_wheels_without_their_sdist(
    c_project: Path, index: PackageIndex
) -> None:
    (c_project / "dist" / SDIST).unlink()
    record(c_project)  # a build that made no sdist
    result = publish(c_project, index, "publish", "--yes")
    assert_refused(result, index, {}, "dist/: has no sdist. Build again: nox -s build.")


# --- dist/ as a whole ----------------------------------------------------------


@pytest.mark.parametrize("session", SESSIONS)
def test_refuses_a_missing_dist(
    project: Path, index: PackageIndex, session: str
) -> None:
    shutil.rmtree(project / "dist")
    result = publish(project, index, session, "--yes")
    assert_refused(
        result, index, {}, "dist/: is missing or empty. Build first: nox -s build"
    )


def test_refuses_an_empty_dist(project: Path, index: PackageIndex) -> None:
    for path in (project / "dist").iterdir():
        path.unlink()
    result = publish(project, index, "publish_test")
    assert_refused(result, index, {}, "dist/: is missing or empty")


@pytest.mark.parametrize("session", SESSIONS)
def test_refuses_files_that_fail_twine_check(
    project: Path, index: PackageIndex, session: str
) -> None:
    # A README that is declared reStructuredText but is not: PyPI could not render it.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'readme = "README.md"',
        'readme = {text = "Broken\\n====\\n\\n`link <", content-type = "text/x-rst"}',
    ))  # fmt: skip
    shutil.rmtree(project / "dist")
    run(
        sys.executable, "-m", "uv", "build", "--quiet", "--out-dir", "dist", cwd=project
    )
    git(project, "checkout", "pyproject.toml")  # only dist/ is broken
    record(project)
    result = publish(project, index, session, *session_args(session))
    assert_refused(result, index, {}, "twine check --strict failed")


# --- a release: a final version, at its tag, from a clean tree, confirmed ----


def test_publish_refuses_a_dev_version(committed_project, index: PackageIndex) -> None:
    project = committed_project()  # no tag: hatch-vcs makes a .devN version
    nox(project, "-s", "build")
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, index, {}, "is a development build, not a release")


def test_publish_refuses_a_local_version(
    committed_project, index: PackageIndex
) -> None:
    project = committed_project(versioning="static")
    set_static_version(project, "0.1.0+mybuild")
    git_commit_all(project, "local version")
    nox(project, "-s", "build")
    result = publish(project, index, "publish", "--yes")
    assert_refused(
        result, index, {}, "0.1.0+mybuild is a development build, not a release"
    )


def test_publish_refuses_the_fallback_version(render, index: PackageIndex) -> None:
    project = render()  # not in git: hatch-vcs falls back to 0.0.0
    run(
        sys.executable, "-m", "uv", "build", "--quiet", "--out-dir", "dist", cwd=project
    )
    record(project)
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, index, {}, "0.0.0 is the placeholder version of a build "
                   "made outside git")  # fmt: skip


def test_publish_refuses_a_dirty_tree(project: Path, index: PackageIndex) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nAn uncommitted line.\n")
    result = publish(project, index, "publish", "--yes")
    assert_refused(
        result, index, {}, "the git tree: has uncommitted changes", "M README.md"
    )


def test_publish_refuses_when_head_is_not_the_tag(
    project: Path, index: PackageIndex
) -> None:
    git(project, "tag", "--delete", "v1.0.0")
    git(project, "tag", "v1.0.0-rc")  # a tag of 1.0.0rc0, not 1.0.0
    result = publish(project, index, "publish", "--yes")
    assert_refused(
        result, index, {}, "HEAD is not the tag v1.0.0 (HEAD's tags: v1.0.0-rc)"
    )


@pytest.mark.parametrize("tag", ["v1.1.0-rc1", "1.1.0rc1", "V1.1.0.rc1"])
def test_publish_accepts_every_tag_form_of_the_version(
    committed_project, index: PackageIndex, tag: str
) -> None:
    project = committed_project()
    git(project, "tag", tag)  # hatch-vcs reads each as 1.1.0rc1
    nox(project, "-s", "build")
    result = publish(project, index, "publish", "--yes")
    assert_published(result, project, index)
    assert index.files() == {"my_package-1.1.0rc1-py3-none-any.whl",
                             "my_package-1.1.0rc1.tar.gz"}  # fmt: skip


def test_publish_asks_and_refuses_without_a_terminal(
    project: Path, index: PackageIndex
) -> None:
    result = publish(project, index, "publish")  # stdin is not a terminal here
    assert_refused(result, index, {}, "Run: nox -s publish -- --yes")


@pytest.mark.parametrize(
    "env", [{"CI": "false"}, {"CI": "0"}, {"CI": ""}, {"GITHUB_ACTIONS": "false"}]
)
def test_publish_asks_when_ci_is_set_to_false(
    project: Path, index: PackageIndex, env: dict[str, str]
) -> None:
    result = publish(project, index, "publish", **env)
    assert_refused(result, index, {}, "needs a confirmation, and there is no terminal")


def test_publish_in_ci_never_prompts(project: Path, index: PackageIndex) -> None:
    result = publish(project, index, "publish", CI="true")
    assert_published(result, project, index)
    assert "Type yes" not in result.stdout


@pytest.mark.parametrize(
    ("answer", "outcome", "files_uploaded"),
    [
        ("yes", "Published my-package 1.0.0", 2),
        ("no", "publishing to PyPI: not confirmed.", 0),
        ("<Ctrl-D>", "publishing to PyPI: not confirmed.", 0),
    ],
)
@needs_a_pty
def test_publish_asks_and_uploads_only_after_yes(
    project: Path, index: PackageIndex, answer: str, outcome: str, files_uploaded: int
) -> None:
    env = project_env(**index.twine_env())
    child = pexpect.spawn(sys.executable, ["-m", "nox", "-s", "publish"], cwd=project,
                          env=env, encoding="utf-8", timeout=120)  # fmt: skip
    try:
        child.expect("Upload these files to")
        child.expect("Type yes to upload, anything else to stop: ")
        assert index.files() == set()  # nothing leaves before the answer
        if answer == "<Ctrl-D>":
            child.sendeof()
        else:
            child.sendline(answer)
        child.expect(outcome)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert (child.exitstatus == 0) == (answer == "yes")
    assert len(index.files()) == files_uploaded


def test_publish_in_github_actions_without_a_token_uses_oidc_and_sends_nothing(
    project: Path, index: PackageIndex
) -> None:
    # As in a workflow whose publish job lacks `id-token: write`: uv's trusted
    # publishing finds no OIDC token, in the dry run, before anything is sent.
    env = project_env(GITHUB_ACTIONS="true",
                      TWINE_REPOSITORY_URL=index.url)  # and no token  # fmt: skip
    result = nox(project, "-s", "publish", check=False, env=env)
    assert_refused(result, index, {}, "no token from trusted publishing",
                   "The job needs `permissions: id-token: write`")  # fmt: skip
    assert "Type yes" not in result.stdout


def test_without_a_token_nothing_is_tried(project: Path, index: PackageIndex) -> None:
    env = project_env(TWINE_REPOSITORY_URL=index.url)  # no TWINE_PASSWORD, no UV_*
    result = nox(project, "-s", "publish_test", check=False, env=env)
    assert_refused(result, index, {}, "uv publish: has no API token for this index. "
                   "Set UV_PUBLISH_TOKEN, or TWINE_USERNAME=__token__ and TWINE_PASSWORD")  # fmt: skip


@pytest.mark.parametrize("session", SESSIONS)
def test_in_github_actions_a_token_given_is_used_instead_of_oidc(
    project: Path, index: PackageIndex, session: str
) -> None:
    # How a local workflow runner calls the publish jobs: a token, a local index.
    result = publish(project, index, session, GITHUB_ACTIONS="true", CI="true")
    assert_published(result, project, index)


def test_publish_test_never_sends_attestations(
    project: Path, index: PackageIndex
) -> None:
    # TestPyPI has answered 400 to uploads with PEP 740 attestations; an old
    # attestation left beside a file is never sent either (each is made afresh).
    stale = project / "dist" / f"{WHEEL}.publish.attestation"
    stale.write_text("{}")
    with fault_proxy(index.url, "attestations", passes=0) as proxy:
        result = publish(project, index, "publish_test", url=proxy.url,
                         GITHUB_ACTIONS="true")  # fmt: skip
    assert_published(result, project, index)
    assert [outcome for _, outcome in proxy.uploads] == ["passed", "passed"]


@pytest.mark.parametrize("url", ["https://upload.pypi.org/legacy/",
                                 "https://upload.pypi.org/legacy",
                                 "https://upload.pypi.org./legacy/",  # DNS's root
                                 "https://UPLOAD.PyPI.org/legacy/"])  # fmt: skip
def test_publish_test_aimed_at_pypi_gets_the_release_checks(
    committed_project, index: PackageIndex, url: str
) -> None:
    project = committed_project()  # untagged: a development build
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nAn uncommitted line.\n")
    nox(project, "-s", "build")
    # Should anything try to leave, a closed local proxy stops it.
    closed = f"http://127.0.0.1:{free_port()}"
    result = publish(project, index, "publish_test", url=url, HTTPS_PROXY=closed,
                     HTTP_PROXY=closed, ALL_PROXY=closed)  # fmt: skip
    assert_refused(result, index, {}, "is a development build, not a release",
                   "the git tree: has uncommitted changes", "HEAD has no tag",
                   "built from a tree with uncommitted changes")  # fmt: skip
    assert "uv publish" not in output(result)  # refused before uv ran


@pytest.mark.parametrize("fault", [None, 503])
def test_a_token_in_the_url_is_never_printed(
    project: Path, index: PackageIndex, fault: int | None
) -> None:
    token = "pypi-AgEIcHlwaS5vcmcSECRET"
    with fault_proxy(index.url, fault) as proxy:
        url = proxy.url.replace("http://", f"http://__token__:{token}@")
        result = publish(project, index, "publish_test", url=url,
                         TWINE_PASSWORD=token)  # fmt: skip
    printed = output(result)
    assert (result.returncode == 0) == (fault is None), printed
    assert proxy.url in printed  # the address is named, without its token
    assert token not in printed
    assert "SECRET" not in printed


def test_a_password_with_a_slash_in_the_url_is_never_printed(
    project: Path, index: PackageIndex
) -> None:
    # Unescaped, the "/" ends the URL's host part: urlsplit sees the password
    # "s3cr", and uv echoes the whole URL in its error.
    url = index.url.replace("http://", "http://tok:s3cr/etPW@")
    result = publish(project, index, "publish_test", url=url)
    printed = output(result)
    assert result.returncode != 0, printed
    assert "etPW" not in printed
    assert "s3cr" not in printed
    assert "Traceback" not in printed
    assert index.files() == set()


def test_a_short_password_does_not_mask_our_own_words(
    project: Path, index: PackageIndex
) -> None:
    with fault_proxy(index.url, 503) as proxy:  # the sdist fails: the rerun advice
        result = publish(project, index, "publish_test", url=proxy.url,
                         TWINE_PASSWORD="test")  # fmt: skip
    printed = output(result)
    assert "Run `nox -s publish_test` again" in printed, printed


def test_an_empty_token_variable_leaves_the_twine_credentials_in_force(
    project: Path, index: PackageIndex
) -> None:
    # A GitHub secret that is not set arrives as an empty variable.
    with fault_proxy(index.url, None) as proxy:
        result = publish(project, index, "publish_test", url=proxy.url,
                         UV_PUBLISH_TOKEN="", TWINE_USERNAME="")  # fmt: skip
    assert_published(result, project, index)
    expected = b64encode(b"__token__:not-a-real-token").decode()
    assert proxy.credentials == [f"Basic {expected}"] * 2


@pytest.mark.parametrize("url", ["http://[::1/", "http://127.0.0.1:99999/", "htp://x/"])
@pytest.mark.parametrize("variable", ["TWINE_REPOSITORY_URL", "PUBLISH_SIMPLE_URL"])
def test_a_malformed_url_is_one_line_naming_it(
    project: Path, index: PackageIndex, variable: str, url: str
) -> None:
    result = publish(project, index, "publish_test", **{variable: url})
    assert_refused(result, index, {}, f"{variable}: {url} is not a URL (")


@pytest.mark.parametrize("variable", ["PUBLISH_SIMPLE_URL", "UV_PUBLISH_CHECK_URL"])
def test_a_check_url_on_another_index_is_refused(
    project: Path, index: PackageIndex, tmp_path: Path, variable: str
) -> None:
    # uv skips what the check URL lists: read from another index, it would
    # call the release done where nothing is.
    server, other = package_index.start(tmp_path / "other", tmp_path / "other.log")
    try:
        assert_published(publish(project, other, "publish_test"), project, other)
        result = publish(project, index, "publish_test", **{variable: other.simple_url})
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert_refused(result, index, {},
                   f"{variable}: {other.simple_url} is not on {index.url}, where the "
                   "files go")  # fmt: skip
    assert "already published" not in output(result)


def test_a_file_stored_despite_a_503_is_never_called_not_uploaded(
    project: Path, index: PackageIndex
) -> None:
    # The index keeps the wheel but answers 503, and the simple URL given lists
    # nothing: no read can tell what reached the index, so nothing is claimed.
    with fault_proxy(index.url, "stored-503", passes=0) as proxy:
        wrong = f"{proxy.url}wrong/simple/"  # pypiserver: 404, as for a new project
        result = publish(project, index, "publish_test", url=proxy.url,
                         PUBLISH_SIMPLE_URL=wrong)  # fmt: skip
    printed = output(result)
    assert result.returncode != 0, printed
    assert WHEEL in index.files()
    assert "nothing was uploaded" not in printed.lower()
    assert f"{WHEEL} may have reached the index" in printed
    assert "Run `nox -s publish_test` again" in printed


MALFORMED_MANIFESTS = {
    "files as a list": '{"built_by": "nox -s build", "commit": null, "dirty": false, "files": []}',
    "a sha256 as a number": '{"built_by": "nox -s build", "commit": null, "dirty": false, "files": {"a.whl": 5}}',
    "the commit as a number": '{"built_by": "nox -s build", "commit": 5, "dirty": false, "files": {}}',
    "nested too deep": "[" * 100_000 + "]" * 100_000,
}  # fmt: skip


@pytest.mark.parametrize(
    "text", MALFORMED_MANIFESTS.values(), ids=list(MALFORMED_MANIFESTS)
)
@pytest.mark.parametrize("session", SESSIONS)
def test_a_manifest_of_the_wrong_shape_is_refused_in_one_line(
    project: Path, index: PackageIndex, session: str, text: str
) -> None:
    (project / "dist" / "manifest-extra.json").write_text(text)
    result = publish(project, index, session, *session_args(session))
    assert_refused(
        result, index, {}, "dist/manifest-extra.json: is not a build manifest"
    )


@pytest.mark.parametrize("read_fault", ["cut", "malformed"])
def test_an_unreadable_answer_after_the_uploads_is_one_line_and_no_traceback(
    project: Path, index: PackageIndex, read_fault: str
) -> None:
    with fault_proxy(index.url, None) as proxy:
        proxy.read_fault, proxy.reads_pass = read_fault, 2  # after both uploads
        result = publish(project, index, "publish_test", url=proxy.url)
        printed = output(result)
        assert result.returncode != 0, printed
        assert index.files() == {WHEEL, SDIST}
        assert printed.count("Not published completely: the index could not be read "
                             "back after the upload: could not read the index at "
                             f"{proxy.url}simple/ (") == 1  # fmt: skip
        assert (
            f"uv sent {WHEEL}, {SDIST} in full, but the index could not be read "
            in (printed)
        )
        assert "Run `nox -s publish_test` again" in printed
        assert "Traceback" not in printed
        proxy.read_fault = None
        again = publish(project, index, "publish_test", url=proxy.url)
    assert again.returncode == 0, output(again)
    assert "Nothing to do." in again.stdout


def test_a_failed_first_upload_and_an_unreadable_index_claim_nothing_either_way(
    project: Path, index: PackageIndex
) -> None:
    # The first upload fails ambiguously (503: stored or not?), then the index
    # cannot be read: nothing is known to have reached it, nor known not to.
    with fault_proxy(index.url, 503, passes=0) as proxy:
        proxy.read_fault, proxy.reads_pass = "cut", 1
        result = publish(project, index, "publish_test", url=proxy.url)
    printed = output(result)
    assert result.returncode != 0, printed
    assert proxy.uploads[0] == (WHEEL, "503")
    assert (f"{WHEEL} may have reached the index: uv was sending it when it stopped, "
            "and no read can tell (") in printed  # fmt: skip
    assert "uv sent  in full" not in printed
    assert "Nothing was uploaded" not in printed
    assert "None of them" not in printed
    assert "Run `nox -s publish_test` again" in printed
    assert "Traceback" not in printed


def test_a_wrong_simple_url_is_found_by_the_read_back(
    project: Path, index: PackageIndex
) -> None:
    wrong = f"{index.url}wrong/simple/"  # 404 for every project: looks like a new one
    result = publish(project, index, "publish_test", PUBLISH_SIMPLE_URL=wrong)
    printed = output(result)
    assert result.returncode != 0, printed
    assert index.files() == {WHEEL, SDIST}
    assert printed.count(f"Not published completely: uv uploaded the files, but {wrong} "
                         "does not list them all. Is PUBLISH_SIMPLE_URL") == 1  # fmt: skip
    assert f"uv sent {WHEEL}, {SDIST} in full, but the index could not be read " in (
        printed
    )
    assert "Traceback" not in printed
    again = publish(project, index, "publish_test")  # the right simple URL
    assert again.returncode == 0, output(again)
    assert "Nothing to do." in again.stdout


@needs_a_pty
def test_ctrl_c_during_an_upload_says_what_reached_the_index(
    project: Path, index: PackageIndex
) -> None:
    with fault_proxy(index.url, "hang") as proxy:  # the wheel passes, the sdist hangs
        env = project_env(**index.twine_env(proxy.url))
        child = pexpect.spawn(sys.executable, ["-m", "nox", "-s", "publish_test"],
                              cwd=project, env=env, encoding="utf-8", timeout=120)  # fmt: skip
        try:
            child.expect("Uploading my-package 1.0.0")
            deadline = time.monotonic() + 60
            while (SDIST, "hang") not in proxy.uploads and time.monotonic() < deadline:
                time.sleep(0.1)
            child.sendintr()  # Ctrl-C: SIGINT to nox, tools/publish.py and uv
            child.expect(pexpect.EOF)
            printed = child.before
        finally:
            child.close(force=True)
    assert "Not published completely: interrupted (Ctrl-C) while uploading" in printed
    assert f"These reached the index: {WHEEL}.\r\nNot on the index: {SDIST}." in printed
    assert "Run `nox -s publish_test` again" in printed
    assert "Traceback" not in printed
    assert index.files() == {WHEEL}


@needs_a_pty
@pytest.mark.parametrize("moment", ["the first check", "the read-back"])
def test_ctrl_c_while_uv_reads_the_index_says_what_it_interrupted(
    project: Path, index: PackageIndex, moment: str
) -> None:
    with fault_proxy(index.url, None) as proxy:
        proxy.read_fault = "hang"
        proxy.reads_pass = 0 if moment == "the first check" else 2  # both uploaded
        env = project_env(**index.twine_env(proxy.url))
        child = pexpect.spawn(sys.executable, ["-m", "nox", "-s", "publish_test"],
                              cwd=project, env=env, encoding="utf-8", timeout=120)  # fmt: skip
        try:
            assert proxy.reading.wait(timeout=90)
            child.sendintr()  # Ctrl-C: SIGINT to nox, tools/publish.py and uv
            child.expect(pexpect.EOF)
            printed = child.before
        finally:
            child.close(force=True)
    reading = f"interrupted (Ctrl-C) while reading {proxy.url}simple/"
    assert "while uploading" not in printed
    assert "Traceback" not in printed
    if moment == "the first check":
        assert f"Not published: {reading}. Nothing was sent meanwhile." in printed
        assert "Nothing was uploaded." in printed
        assert index.files() == set()
    else:
        assert ("Not published completely: the index could not be read back after "
                f"the upload: {reading}") in printed  # fmt: skip
        assert f"uv sent {WHEEL}, {SDIST} in full" in printed
        assert "Run `nox -s publish_test` again" in printed
        assert index.files() == {WHEEL, SDIST}


# --- a static version, released as the README says ---------------------------


def test_the_static_release_checklist_followed_literally_gives_a_green_ci(
    committed_project,
) -> None:
    project = committed_project(versioning="static")
    readme = (project / "README.md").read_text()
    checklist = readme[readme.index("### The release checklist") :]
    (set_version,) = re.findall(r"`(uv version [^`]+)`", checklist)
    (tag,) = re.findall(r"`(git tag v[^ `]+)", checklist)
    changelog = project / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(
        "## [Unreleased]", "## [Unreleased]\n\n## [1.2.3]", 1))  # fmt: skip
    run(sys.executable, "-m", *set_version.split(), cwd=project)  # step 2
    git_commit_all(project, "Release 1.2.3")
    git(project, *tag.split()[1:])  # step 3
    nox(project, "-s", "lint", "build", env=project_env(CI="true"))  # step 4: CI
    assert set(built(project)) == {"my_package-1.2.3-py3-none-any.whl",
                                   "my_package-1.2.3.tar.gz"}  # fmt: skip


def test_a_static_version_set_by_hand_names_the_command_that_sets_both(
    committed_project,
) -> None:
    project = committed_project(versioning="static")
    set_static_version(project, "1.2.3")  # pyproject.toml only: uv.lock lags
    git_commit_all(project, "Release 1.2.3")
    result = nox(project, "-s", "build", check=False, env=project_env(CI="true"))
    assert result.returncode != 0
    assert ("uv.lock lags pyproject.toml's version 1.2.3: set it with `uv version "
            "1.2.3`, which updates both") in output(result)  # fmt: skip


def test_a_static_version_written_unnormalised_is_no_lagging_lock(
    committed_project,
) -> None:
    project = committed_project(versioning="static")
    set_static_version(project, "1.0.0-rc1")  # uv.lock records it as 1.0.0rc1
    lock_project(project)
    git_commit_all(project, "Release 1.0.0-rc1")
    nox(project, "-s", "test-3.11", env=project_env(CI="true"))  # it syncs
    set_static_version(project, "1.0.0.0rc1")  # the same version: uv keeps its 1.0.0rc1
    lock_project(project)
    git_commit_all(project, "The same version, spelled longer")
    nox(project, "-R", "-s", "test-3.11", env=project_env(CI="true"))


# --- the workflow ---------------------------------------------------------------


def test_workflow_publish_jobs_are_safe(render) -> None:
    project = render(variant="c-extension")
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    assert workflow["permissions"] == {}
    # Only pull-request runs share a group and cancel each other.
    concurrency = workflow["concurrency"]
    assert "github.event.pull_request.number || github.run_id" in concurrency["group"]
    assert concurrency["cancel-in-progress"] == (
        "${{ github.event_name == 'pull_request' }}"
    )
    jobs = workflow["jobs"]
    expectations = {
        "publish_test": ("testpypi", "refs/heads/main", "workflow_dispatch"),
        "publish": ("pypi", "refs/tags/v", None),
    }
    for name, (environment, ref, dispatch) in expectations.items():
        job = jobs[name]
        assert job["environment"]["name"] == environment
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        # every CI session (the derived check jobs), the sdist and the wheels
        assert set(job["needs"]) == {"check", "build", "wheels"}
        assert ref in job["if"]
        assert (dispatch in job["if"]) if dispatch else ("dispatch" not in job["if"])
        runs = [step["run"] for step in job["steps"] if "run" in step]
        assert runs == [f"uv run --locked --only-group=nox nox -s {name}"]
        # After it, only PyPI's job hands its attestations on to the release.
        at = next(i for i, step in enumerate(job["steps"]) if "run" in step)
        hands_on = [step["with"]["path"] for step in job["steps"][at + 1 :]]
        assert hands_on == (["dist/*.publish.attestation"] if name == "publish" else [])
        # no cache a poisoned run could fill: setup-uv's is switched off
        given = [step.get("with", {}) for step in job["steps"]]
        assert all(w["enable-cache"] is False for w in given if "enable-cache" in w)
        assert not any(
            "cache" in key for w in given for key in w if key != "enable-cache"
        )
    for name, job in jobs.items():
        if name not in expectations:
            assert "id-token" not in job.get("permissions", {}), name
    # The build manifests travel with the files they list, under names that
    # stay apart when the publish jobs merge the artifacts into dist/.
    uploads = {name: step["with"]["path"] for name in ("build", "wheels")
               for step in jobs[name]["steps"] if "upload-artifact" in step.get("uses", "")}  # fmt: skip
    # dist/ holds what the session built: the sdist and manifest-build.json;
    # on a wheels runner, its wheels and manifest-wheels-<os>-<arch>.json.
    assert uploads == {"build": "dist/", "wheels": "dist/"}
