"""Publishing end to end, against a real local package index (pypiserver).

`publish_test` and `publish` upload exactly what `build` made, and refuse every
mistake before anything leaves the machine: each refusal has its own test that
checks the message and that the index holds nothing new afterwards.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pexpect
import pytest
import yaml
from conftest import render_project
from helpers import (
    git,
    git_commit_all,
    nox,
    project_env,
    require_python,
    run,
    tool,
    venv_python,
)
from package_index import PackageIndex

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def released(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pure project at its release tag v1.0.0, with dist/ built: ready to publish."""
    return release(template_snapshot, tmp_path_factory.mktemp("released"))


def release(template: Path, where: Path, **answers: object) -> Path:
    project = render_project(template, where / "project", **answers)
    git_commit_all(project)
    git(project, "tag", "v1.0.0")
    nox(project, "-s", "build")
    return project


def fresh_copy(project: Path, tmp_path: Path) -> Path:
    """A copy of a released project (its git history too) for one test to change."""
    copy = tmp_path / "project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".nox"))
    return copy


@pytest.fixture
def project(released: Path, tmp_path: Path) -> Path:
    return fresh_copy(released, tmp_path)


def publish(project: Path, index: PackageIndex, session: str, *args: str):
    return nox(project, "-s", session, "--", *args, check=False,
               env=project_env(**index.twine_env()))  # fmt: skip


def assert_refused(result, message: str, index: PackageIndex, before: set[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in output, output
    assert "Nothing was uploaded." in output
    assert "Traceback" not in output
    assert index.files() == before


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


def test_publish_test_uploads_a_dev_build_that_installs_from_the_index(
    committed_project, index: PackageIndex, tmp_path: Path
) -> None:
    project = committed_project()  # no tag yet: a development version
    nox(project, "-s", "build")
    built = {p.name for p in (project / "dist").iterdir()}
    (version,) = {name.split("-")[1].removesuffix(".tar.gz") for name in built}
    assert ".dev" in version

    result = publish(project, index, "publish_test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert index.files() == built
    assert install_from_index(index, f"my-package=={version}", tmp_path) == version


def test_publish_uploads_a_clean_tagged_release_when_confirmed(
    project: Path, index: PackageIndex, tmp_path: Path
) -> None:
    result = publish(project, index, "publish", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Published my-package 1.0.0" in result.stdout
    assert index.files() == {
        "my_package-1.0.0-py3-none-any.whl",
        "my_package-1.0.0.tar.gz",
    }
    assert install_from_index(index, "my-package==1.0.0", tmp_path) == "1.0.0"


@pytest.mark.parametrize(
    ("answer", "outcome", "files_uploaded"),
    [
        ("yes", "Published my-package 1.0.0", 2),
        ("no", "Not published: not confirmed.", 0),
    ],
)
def test_publish_asks_and_uploads_only_after_yes(
    project: Path, index: PackageIndex, answer: str, outcome: str, files_uploaded: int
) -> None:
    env = project_env(**index.twine_env())
    child = pexpect.spawn(sys.executable, ["-m", "nox", "-s", "publish"], cwd=project,
                          env=env, encoding="utf-8", timeout=120)  # fmt: skip
    try:
        child.expect("Upload these files to")
        child.expect("Type 'yes' to upload: ")
        assert index.files() == set()  # nothing leaves before the answer
        child.sendline(answer)
        child.expect(outcome)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert (child.exitstatus == 0) == (answer == "yes")
    assert len(index.files()) == files_uploaded


def test_publish_refuses_without_a_terminal_to_confirm(
    project: Path, index: PackageIndex
) -> None:
    result = publish(project, index, "publish")  # stdin is not a terminal here
    assert_refused(result, "Run: nox -s publish -- --yes", index, set())


def test_publish_in_github_actions_without_an_oidc_token_uploads_nothing(
    project: Path, index: PackageIndex
) -> None:
    # As in a workflow whose publish job lacks `id-token: write`.
    env = project_env(GITHUB_ACTIONS="true", **index.twine_env())
    result = nox(project, "-s", "publish", check=False, env=env)
    assert_refused(result, "could not sign the PEP 740 attestations", index, set())
    assert "Type 'yes'" not in result.stdout


def test_publish_in_ci_never_prompts(project: Path, index: PackageIndex) -> None:
    result = nox(project, "-s", "publish", check=False,
                 env=project_env(CI="true", **index.twine_env()))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Type 'yes'" not in result.stdout
    assert len(index.files()) == 2


@pytest.mark.parametrize("session", ["publish_test", "publish"])
def test_refuses_a_missing_dist(
    project: Path, index: PackageIndex, session: str
) -> None:
    shutil.rmtree(project / "dist")
    result = publish(project, index, session, "--yes")
    assert_refused(result, "dist/ is missing or empty. Build first: nox -s build",
                   index, set())  # fmt: skip


@pytest.mark.parametrize("session", ["publish_test", "publish"])
def test_refuses_an_empty_dist(
    project: Path, index: PackageIndex, session: str
) -> None:
    for path in (project / "dist").iterdir():
        path.unlink()
    result = publish(project, index, session, "--yes")
    assert_refused(result, "dist/ is missing or empty", index, set())


@pytest.mark.parametrize("session", ["publish_test", "publish"])
def test_refuses_two_versions_in_dist(
    project: Path, index: PackageIndex, session: str
) -> None:
    wheel = project / "dist" / "my_package-1.0.0-py3-none-any.whl"
    shutil.copy(wheel, wheel.with_name("my_package-0.9.0-py3-none-any.whl"))
    result = publish(project, index, session, "--yes")
    assert_refused(result, "dist/ holds more than one version of my-package (0.9.0, 1.0.0)",
                   index, set())  # fmt: skip


@pytest.mark.parametrize("session", ["publish_test", "publish"])
def test_refuses_another_projects_files(
    project: Path, index: PackageIndex, session: str
) -> None:
    wheel = project / "dist" / "my_package-1.0.0-py3-none-any.whl"
    shutil.copy(wheel, wheel.with_name("other_thing-1.0.0-py3-none-any.whl"))
    result = publish(project, index, session, "--yes")
    assert_refused(result, "dist/ holds files that are not a wheel or sdist of "
                   "my-package: other_thing-1.0.0-py3-none-any.whl", index, set())  # fmt: skip


@pytest.mark.parametrize("session", ["publish_test", "publish"])
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
    result = publish(project, index, session, "--yes")
    assert_refused(result, "twine check --strict failed", index, set())


def test_publish_refuses_a_dev_version(committed_project, index: PackageIndex) -> None:
    project = committed_project()  # no tag: hatch-vcs makes a .devN version
    nox(project, "-s", "build")
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, "is a development build, not a release", index, set())


def test_publish_refuses_a_local_version(
    committed_project, index: PackageIndex
) -> None:
    project = committed_project(versioning="static")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'version = "0.1.0"', 'version = "0.1.0+mybuild"'
    ))  # fmt: skip
    git_commit_all(project, "local version")
    nox(project, "-s", "build")
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, "0.1.0+mybuild is a development build, not a release",
                   index, set())  # fmt: skip


def test_publish_refuses_the_fallback_version(render, index: PackageIndex) -> None:
    project = render()  # not in git: hatch-vcs falls back to 0.0.0
    run(
        sys.executable, "-m", "uv", "build", "--quiet", "--out-dir", "dist", cwd=project
    )
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, "0.0.0 is the placeholder version of a build made "
                   "outside git", index, set())  # fmt: skip


def test_publish_refuses_a_dirty_tree(project: Path, index: PackageIndex) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nAn uncommitted line.\n")
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, "the git tree has uncommitted changes", index, set())
    assert "M README.md" in result.stdout + result.stderr


def test_publish_refuses_when_head_is_not_the_tag(
    project: Path, index: PackageIndex
) -> None:
    git(project, "tag", "--delete", "v1.0.0")
    git(project, "tag", "v1.0.0-rc")
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, "HEAD is not the tag v1.0.0 (HEAD's tags: v1.0.0-rc)",
                   index, set())  # fmt: skip


def test_publish_refuses_a_version_already_on_the_index(
    project: Path, index: PackageIndex
) -> None:
    assert publish(project, index, "publish", "--yes").returncode == 0
    before = index.files()
    result = publish(project, index, "publish", "--yes")
    assert_refused(result, "my-package 1.0.0 is already on " + index.url, index, before)


def test_publish_test_skips_a_version_already_on_the_index(
    project: Path, index: PackageIndex
) -> None:
    assert publish(project, index, "publish_test").returncode == 0
    before = index.files()
    result = publish(project, index, "publish_test")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"my-package 1.0.0 is already on {index.url}: skipping" in output
    assert "Nothing new to upload." in output
    assert index.files() == before


def test_workflow_publish_jobs_are_safe(render) -> None:
    project = render()
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
        assert set(job["needs"]) == {"lint", "test", "typecheck", "build"}
        assert ref in job["if"]
        assert (dispatch in job["if"]) if dispatch else ("dispatch" not in job["if"])
        assert job["steps"][-1]["run"] == f"nox -s {name}"
        assert not any("cache" in str(step.get("with", {})) for step in job["steps"])
    for name, job in jobs.items():
        if name not in expectations:
            assert "id-token" not in job.get("permissions", {}), name


@pytest.fixture(scope="module")
def released_c(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A C project at v1.0.0: sdist from `nox -s build`, and in place of the wheels
    cibuildwheel would make (it needs containers here), the host wheel repaired to
    manylinux by auditwheel, as cibuildwheel does."""
    tmp = tmp_path_factory.mktemp("released-c")
    project = release(template_snapshot, tmp, variant="c-extension")
    run(sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--python",
        require_python("3.11"), "--out-dir", tmp / "host", cwd=project)  # fmt: skip
    (wheel,) = (tmp / "host").glob("*.whl")
    run(tool("auditwheel"), "repair", "--plat", "manylinux_2_17_x86_64",
        "--wheel-dir", project / "dist", wheel, cwd=tmp)  # fmt: skip
    return project


@pytest.fixture
def c_project(released_c: Path, tmp_path: Path) -> Path:
    return fresh_copy(released_c, tmp_path)


def test_c_project_publishes_sdist_and_wheels_that_install_from_the_index(
    c_project: Path, index: PackageIndex, tmp_path: Path
) -> None:
    built = {p.name for p in (c_project / "dist").iterdir()}
    assert len(built) == 2
    assert any("manylinux" in name for name in built)
    assert publish(c_project, index, "publish_test").returncode == 0
    assert index.files() == built
    assert install_from_index(index, "my-package==1.0.0", tmp_path) == "1.0.0"


def test_c_project_publish_uploads_a_clean_tagged_release(
    c_project: Path, index: PackageIndex
) -> None:
    result = publish(c_project, index, "publish", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert index.files() == {p.name for p in (c_project / "dist").iterdir()}


def test_c_project_publish_refuses_without_binary_wheels(
    c_project: Path, index: PackageIndex
) -> None:
    for wheel in (c_project / "dist").glob("*.whl"):
        wheel.unlink()
    result = publish(c_project, index, "publish", "--yes")
    assert_refused(result, "dist/ has no binary wheels beside the sdist", index, set())


def test_c_project_publish_refuses_an_unrepaired_linux_wheel(
    c_project: Path, index: PackageIndex, tmp_path: Path
) -> None:
    for wheel in (c_project / "dist").glob("*.whl"):
        wheel.unlink()
    run(sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--python",
        require_python("3.11"), "--out-dir", c_project / "dist", cwd=c_project)  # fmt: skip
    result = publish(c_project, index, "publish", "--yes")
    assert_refused(result, "PyPI rejects the plain linux platform tag", index, set())


def test_c_project_publish_refuses_wheels_without_their_sdist(
    c_project: Path, index: PackageIndex
) -> None:
    for sdist in (c_project / "dist").glob("*.tar.gz"):
        sdist.unlink()
    result = publish(c_project, index, "publish", "--yes")
    assert_refused(result, "dist/ has no sdist. Build it: nox -s build.", index, set())
