"""The generated workflow, run here as GitHub would run it (tests/workflow_runner.py,
`nox -s workflow`), on fresh renders of both variants: a tag push publishes
exactly what the build made, a push to main publishes to the test index, a pull
request publishes nothing, and a shallow build checkout stops a release.

What cannot run on this machine is said in the runner's output:
- the check jobs are taken as passed (`--assume-passed`): their matrix holds
  3.14t and 3.15t, which this machine lacks (setup-python would fail them, as
  it should), and every session in it is run by the suite's other e2e tests;
- the C variant's wheels job (cibuildwheel needs a container engine) stands in
  with the host wheel, repaired to manylinux by auditwheel, as tests/test_publish.py
  makes it, then the session's own last step, `tools/publish.py record wheels`.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import workflow_runner
from helpers import (
    git,
    git_commit_all,
    linux_only,
    lock_project,
    project_env,
    require_python,
    tool,
)
from package_index import PackageIndex

pytestmark = pytest.mark.e2e

VARIANTS = ["pure", pytest.param("c-extension", marks=linux_only)]
WHEELS_STAND_IN = " && ".join(
    [
        'uv build --wheel --python "$(command -v python)" -o "$RUNNER_TEMP/host"',
        (
            f"PATH={shlex.quote(str(tool('auditwheel').parent))}:$PATH "
            f"{shlex.quote(str(tool('auditwheel')))} repair --plat "
            'manylinux_2_17_x86_64 -w dist "$RUNNER_TEMP"/host/*.whl'
        ),
        "uv run --locked --only-group=publish python tools/publish.py record wheels",
    ]
)


@pytest.fixture
def released(committed_project):
    """A fresh render of a variant, committed and tagged v1.0.0 at HEAD."""

    def make(variant: str) -> Path:
        project = committed_project(variant=variant)
        git(project, "tag", "v1.0.0")
        return project

    return make


def run_workflow(
    project: Path, event: str, index: PackageIndex, work: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    variant_options = ["--assume-passed", "check"]
    jobs = (project / ".github/workflows/ci.yml").read_text()
    # setup-python would fail a job for want of its Python: skip here instead
    # (naming how to get it), and fail with CI=true, like every such test
    for version in sorted(set(re.findall(r"python-version: .*?(3\.\d+t?)", jobs))):
        require_python(version)
    if "check-every-os:" in jobs:
        variant_options += ["--assume-passed", "check-every-os"]
    if "\n  release:" in jobs:  # gh would reach github.com: test_beyond.py runs it
        variant_options += ["--assume-passed", "release"]
    if "\n  wheels:" in jobs:
        variant_options += ["--stand-in", f"wheels={WHEELS_STAND_IN}"]
    command = [
        sys.executable,
        workflow_runner.__file__,
        str(project),
        event,
        "--index-url",
        index.url,
        "--work",
        str(work),
        *variant_options,
        *options,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=project_env()
    )
    print(result.stdout, result.stderr)  # shown when a test fails
    return result


def job_line(output: str, job: str) -> str:
    """The runner's line for a job (its first one)."""
    return next(line for line in output.splitlines() if line.split(" ")[0] == job)


def built_files(work: Path) -> dict[str, bytes]:
    """What the build (and wheels) jobs uploaded, manifests aside."""
    return {
        path.name: path.read_bytes()
        for path in (work / "artifacts").glob("*/*")
        if not path.name.startswith("manifest-")
    }


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_tag_push_publishes_exactly_what_the_build_made(
    released, index: PackageIndex, tmp_path: Path, variant: str
) -> None:
    result = run_workflow(released(variant), "tag", index, tmp_path / "work")
    assert result.returncode == 0
    assert job_line(result.stdout, "publish").startswith(
        "publish                                  passed"
    )
    assert (
        "environment pypi (https://pypi.org/p/my-package); permissions contents: "
        "read, id-token: write; a token of the local index in place of OIDC; "
        "step 6 (actions/upload-artifact) not run here: dist/*.publish.attestation "
        "is what OIDC signing makes (the token that stands in for OIDC signs nothing)"
        in job_line(result.stdout, "publish")
    )
    assert "skipped: `if:" in job_line(result.stdout, "publish_test")
    built = built_files(tmp_path / "work")
    assert any(name.endswith(".tar.gz") for name in built)
    assert any(name.endswith(".whl") for name in built)
    assert index.contents() == built
    if variant == "c-extension":
        assert "Note: wheels ran `uv build --wheel" in result.stdout
        assert (
            "wheels                                   not run here: 5 of 6 run on "
            "macos-15-intel, macos-latest, ubuntu-24.04-arm, windows-11-arm, "
            "windows-latest" in result.stdout
        )


@pytest.mark.parametrize("variant", VARIANTS)
def test_re_running_every_job_of_a_release_builds_again_and_uploads_nothing_new(
    released, index: PackageIndex, tmp_path: Path, variant: str
) -> None:
    """GitHub's "Re-run all jobs" (after a failed release job, say) is the same
    run: the first attempt's artifacts are still there, and upload-artifact
    refuses their names (409) unless a step may overwrite them. The pure build
    comes out byte for byte the same, so its publish finds it all on the index;
    compiled wheels do not, so publish refuses them, uploading nothing, and
    says why."""
    result = run_workflow(released(variant), "tag", index, tmp_path / "work", "--rerun")
    first, marker, again = result.stdout.partition("Re-run all jobs (attempt 2)")
    assert marker, result.stdout
    assert job_line(first, "publish").startswith(f"{'publish':<40} passed")
    published, rebuilt = index.contents(), built_files(tmp_path / "work")
    assert published.keys() == rebuilt.keys()
    for job in ["build"] + ["wheels"] * (variant == "c-extension"):
        assert "  passed: " in job_line(again, job), job
    log = (tmp_path / "work/attempt-2/publish/log.txt").read_text()
    if variant == "pure":
        assert result.returncode == 0, result.stdout
        assert job_line(again, "publish").startswith(f"{'publish':<40} passed")
        assert "already on the index" in log
        assert published == rebuilt
    else:
        assert result.returncode == 1, result.stdout
        assert job_line(again, "publish").startswith(f"{'publish':<40} failed")
        assert "a different build of this version is already on the index" in log
        assert (
            "put that build in place of the run's first: 'Re-run failed jobs' builds"
            in log
        )
        assert "Nothing was uploaded." in log
        assert [name for name in published if published[name] != rebuilt[name]]


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_push_to_main_goes_through_publish_test(
    committed_project, index: PackageIndex, tmp_path: Path, variant: str
) -> None:
    project = committed_project(variant=variant)  # untagged: a dev version
    result = run_workflow(project, "push", index, tmp_path / "work")
    assert result.returncode == 0
    assert job_line(result.stdout, "publish_test").startswith(
        "publish_test                             passed: "
    )
    assert "environment testpypi" in job_line(result.stdout, "publish_test")
    assert (
        "skipped: `if: github.event_name == 'push' && startsWith(github.ref, "
        "'refs/tags/v')` is false" in job_line(result.stdout, "publish")
    )
    assert index.contents() == built_files(tmp_path / "work")
    assert all(".dev" in name for name in index.files())


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_pull_request_skips_both_publish_jobs(
    released, index: PackageIndex, tmp_path: Path, variant: str
) -> None:
    result = run_workflow(released(variant), "pull_request", index, tmp_path / "work")
    assert result.returncode == 0
    assert job_line(result.stdout, "build").startswith(
        "build                                    passed"
    )
    for job in ("publish_test", "publish"):
        assert "skipped: `if:" in job_line(result.stdout, job)
    assert index.files() == set()


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_shallow_build_checkout_fails_the_tag_push(
    released, index: PackageIndex, tmp_path: Path, variant: str
) -> None:
    project = released(variant)
    workflow = project / ".github/workflows/ci.yml"
    text = workflow.read_text()
    build = text.index("\n  build:\n")
    full_history = text.index("          fetch-depth: 0", build)
    end = text.index("\n", full_history) + 1
    workflow.write_text(text[:full_history] + text[end:])  # build's checkout only
    lock_project(project)
    git_commit_all(project, "A tidier build job")
    git(project, "tag", "--force", "v1.0.0")
    result = run_workflow(project, "tag", index, tmp_path / "work")
    assert result.returncode == 1
    assert job_line(result.stdout, "build").startswith(
        "build                                    failed: step 4 (uv run --locked "
        "--only-group=nox nox -s build): exit code 1"
    )
    log = (tmp_path / "work" / "build" / "log.txt").read_text()
    assert ("A shallow clone has no tags, so no version: git fetch --unshallow (in CI, "
            "checkout's fetch-depth: 0)") in log  # fmt: skip
    assert job_line(result.stdout, "publish").startswith(
        "publish                                  skipped: needs build failure"
    )
    assert index.files() == set()
