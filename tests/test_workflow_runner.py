"""The workflow runner's parts, on tiny workflows written here: expressions,
`on:` filters, needs order, matrices, checkout, outputs, artifacts, and the
refusal of what it does not know. tests/test_workflow.py runs generated ones."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import workflow_runner as runner

GITHUB = {
    "event_name": "push",
    "ref": "refs/tags/v1.2",
    "ref_name": "v1.2",
    "event": {},
    "run_id": "7",
}
CONTEXT = {
    "github": GITHUB,
    "needs": {
        "sessions": {
            "outputs": {"every-os": '[{"session": "test-3.12", "python": "3.12"}]'}
        }
    },
    "matrix": {"nox": {"session": "lint", "python": None}},
}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')", True),
        (
            (
                "github.event_name == 'workflow_dispatch' || (github.event_name == "
                "'push' && github.ref == 'refs/heads/main')"
            ),
            False,
        ),
        ("github.event.pull_request.number || github.run_id", "7"),
        ("matrix.nox.python || '3.14'", "3.14"),
        ("fromJSON(needs.sessions.outputs.every-os)[0].python", "3.12"),
        ("github.event_name == 'PUSH'", True),  # strings compare ignoring case
        ("!startsWith(github['ref'], 'refs/heads/')", True),
        ("contains(fromJSON('[1, 2]'), 2) && 1 < 2", True),
        ("format('{0}-{1}', 'a', 'b') != 'a-b'", False),
        ("false && missing_is_fine.not_evaluated_as_error || null", None),
    ],
)
def test_expressions_evaluate_as_github_does(expression: str, value: object) -> None:
    context = CONTEXT | {"missing_is_fine": {}}
    assert runner.evaluate(expression, context)[0] == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("hashFiles('uv.lock')", "unknown function hashFiles()"),
        ("secretz.TOKEN", "unknown context 'secretz'"),
        ("github.ref ==", "unexpected None"),
        ("github.ref ~ 'x'", "cannot read the expression"),
    ],
)
def test_unknown_expressions_are_refused(expression: str, message: str) -> None:
    with pytest.raises(
        runner.Refused, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        runner.evaluate(expression, CONTEXT)


def test_a_whole_expression_keeps_its_type_and_an_embedded_one_becomes_text() -> None:
    whole = "${{ fromJSON(needs.sessions.outputs.every-os) }}"
    assert runner.interpolate(whole, CONTEXT) == [
        {"session": "test-3.12", "python": "3.12"}
    ]
    assert (
        runner.interpolate("${{ matrix.nox.session }} on ${{ 1 == 1 }}", CONTEXT)
        == "lint on true"
    )


@pytest.mark.parametrize(
    ("ref", "started"),
    [
        ("refs/heads/main", True),
        ("refs/heads/feature", False),
        ("refs/tags/v1.0.0", True),
        ("refs/tags/release-1", False),
    ],
)
def test_on_filters_pick_branches_and_tags(ref: str, started: bool) -> None:
    on = {"pull_request": None, "push": {"branches": ["main"], "tags": ["v*"]}}
    github = {"event_name": "push", "ref": ref, "ref_name": ref.split("/")[-1]}
    assert runner.triggered(on, github) is started


def test_jobs_run_after_what_they_need_and_a_cycle_is_refused() -> None:
    jobs = {
        "publish": {"needs": ["check", "build"]},
        "check": {"needs": "sessions"},
        "build": {},
        "sessions": {},
    }
    assert runner.job_order(jobs) == ["sessions", "check", "build", "publish"]
    with pytest.raises(runner.Refused, match="cycle: a -> b"):
        runner.job_order({"a": {"needs": "b"}, "b": {"needs": "a"}})


def test_matrices_expand_with_include_and_exclude() -> None:
    matrix = {
        "os": ["ubuntu-latest", "macos-latest"],
        "py": ["3.12", "3.13"],
        "exclude": [{"os": "macos-latest", "py": "3.12"}],
        "include": [{"os": "ubuntu-latest", "extra": "yes"}, {"os": "win"}],
    }
    assert runner.expand_matrix(matrix) == [
        {"os": "ubuntu-latest", "py": "3.12", "extra": "yes"},
        {"os": "ubuntu-latest", "py": "3.13", "extra": "yes"},
        {"os": "macos-latest", "py": "3.13"},
        {"os": "win"},
    ]


# --- whole runs of small workflows ------------------------------------------


def repository(tmp_path: Path, workflow: str) -> Path:
    """A git repository holding the workflow, two commits, a tag on the first."""
    project = tmp_path / "project"
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "ci.yml").write_text(textwrap.dedent(workflow))
    git = ("git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t")
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    subprocess.run([*git, "tag", "v0.1"], check=True)
    subprocess.run([*git, "commit", "-qm", "two", "--allow-empty"], check=True)
    subprocess.run([*git, "tag", "v0.2"], check=True)
    return project


def run(
    tmp_path: Path, workflow: str, event: str = "push", *options: str
) -> tuple[int, str]:
    project = repository(tmp_path, workflow)
    args = [
        str(project),
        event,
        "--work",
        str(tmp_path / "work"),
        "--index-url",
        "http://127.0.0.1:9/",
        *options,
    ]
    result = subprocess.run(
        [sys.executable, runner.__file__, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def log(tmp_path: Path, job: str) -> str:
    return (tmp_path / "work" / job / "log.txt").read_text()


CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
MATRIX_FROM_OUTPUT = """
on: {push: {branches: [main]}}
jobs:
  list:
    runs-on: ubuntu-latest
    outputs:
      names: ${{ steps.names.outputs.json }}
    steps:
      - id: names
        run: |
          echo 'json=[{"n": "a"}, {"n": "b"}]' >> "$GITHUB_OUTPUT"
  each:
    name: each ${{ matrix.item.n }}
    needs: list
    runs-on: ubuntu-latest
    strategy:
      matrix:
        item: ${{ fromJSON(needs.list.outputs.names) }}
    env: {WHO: "${{ matrix.item.n }}"}
    steps:
      - run: mkdir out && echo "$WHO $STEP" > "out/$WHO.txt"
        env: {STEP: step-env}
      - uses: actions/upload-artifact@v7
        with: {name: "part-${{ matrix.item.n }}", path: out/}
  gather:
    needs: each
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v8
        with: {path: all/, merge-multiple: true}
      - uses: actions/download-artifact@v8
        with: {path: apart/}
      - run: cat all/a.txt all/b.txt apart/part-a/a.txt
  elsewhere:
    runs-on: macos-latest
    steps: [{run: "true"}]
"""


def test_a_matrix_from_an_output_runs_and_its_artifacts_merge(tmp_path: Path) -> None:
    code, output = run(tmp_path, MATRIX_FROM_OUTPUT)
    assert code == 0, output
    assert "each (each a)" in output
    assert "each (each b)" in output
    assert log(tmp_path, "gather").count("step-env") == 3  # a, b, then a again
    assert (
        "elsewhere                                not run here: 1 of 1 run on "
        "macos-latest" in output
    )


def test_checkout_depth_decides_history_and_tags(tmp_path: Path) -> None:
    workflow = f"""
    on: push
    jobs:
      shallow:
        runs-on: ubuntu-latest
        steps:
          - uses: {CHECKOUT}
          - run: test "$(git rev-list --count HEAD)" = 1 && test -z "$(git tag)"
          - run: git config --get http.https://github.com/.extraheader
      full:
        runs-on: ubuntu-latest
        steps:
          - uses: {CHECKOUT}
            with: {{fetch-depth: 0, persist-credentials: false}}
          - run: git describe --tags --exact-match && test "$(git tag | wc -l)" = 2
          - run: "! git config --get http.https://github.com/.extraheader"
    """
    code, output = run(tmp_path, workflow, "push")  # a tag push fetches its tag
    assert code == 0, output
    assert "v0.2" in log(tmp_path, "full")
    assert "credentials persisted" in log(tmp_path, "shallow")


def test_a_failed_job_fails_the_run_and_skips_what_needs_it(tmp_path: Path) -> None:
    workflow = """
    on: pull_request
    jobs:
      breaks: {runs-on: ubuntu-latest, steps: [{run: "exit 3"}]}
      after: {needs: breaks, runs-on: ubuntu-latest, steps: [{run: "true"}]}
      anyway:
        needs: breaks
        if: always() && github.event_name == 'pull_request'
        runs-on: ubuntu-latest
        steps: [{run: "true"}]
      publish:
        if: github.event_name == 'push'
        runs-on: ubuntu-latest
        steps: [{run: "true"}]
    """
    code, output = run(tmp_path, workflow, "pull_request")
    assert code == 1
    assert (
        "breaks                                   failed: step 1 (exit 3): exit "
        "code 3" in output
    )
    assert (
        "after                                    skipped: needs breaks failure"
        in output
    )
    assert "anyway                                   passed" in output
    assert (
        "publish                                  skipped: `if: github.event_name"
        " == 'push'` is false" in output
    )


def test_a_missing_python_fails_its_job(tmp_path: Path) -> None:
    workflow = """
    on: push
    jobs:
      old:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/setup-python@v7
            with: {python-version: "3.99"}
    """
    code, output = run(tmp_path, workflow)
    assert code == 1
    assert "no Python 3.99 on this machine" in output


def test_no_files_for_an_artifact_fails_when_asked_to(tmp_path: Path) -> None:
    workflow = """
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/upload-artifact@v7
            with: {name: dist, path: dist/, if-no-files-found: error}
    """
    code, output = run(tmp_path, workflow)
    assert code == 1
    assert "no files found at dist/ for the artifact dist" in output


@pytest.mark.parametrize("overwrite", [None, "false", "true"])
def test_a_rerun_keeps_the_artifacts_so_only_an_overwrite_uploads_again(
    tmp_path: Path, overwrite: str | None
) -> None:
    """GitHub's "Re-run all jobs" is the same run: an artifact of the first attempt
    is still there, and upload-artifact v4+ refuses its name (409) unless told to
    overwrite it."""
    option = f", overwrite: {overwrite}" if overwrite else ""
    workflow = f"""
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: mkdir dist && echo "$GITHUB_WORKSPACE" > dist/where.txt
          - uses: actions/upload-artifact@v7
            with: {{name: dist, path: dist/{option}}}
    """
    code, output = run(tmp_path, workflow, "push", "--rerun")
    assert "Re-run all jobs (attempt 2), the run's artifacts kept:" in output
    stored = (tmp_path / "work" / "artifacts" / "dist" / "where.txt").read_text()
    if overwrite == "true":
        assert code == 0, output
        assert "attempt-2" in stored  # the re-run's upload replaced the first
    else:
        assert code == 1
        assert (
            "build                                    failed: step 2 "
            "(actions/upload-artifact@v7): Failed to CreateArtifact: (409) Conflict: "
            "an artifact with this name (dist) already exists on the workflow run"
            in output
        )
        assert "attempt-2" not in stored


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "{uses: pypa/gh-action-pypi-publish@release/v1}",
            (
                "job build, step 1 (pypa/gh-action-pypi-publish@release/v1): the "
                "action pypa/gh-action-pypi-publish@release/v1 is not known here"
            ),
        ),
        (
            "{uses: actions/checkout@v7, with: {ref: other}}",
            "actions/checkout's input 'ref' is not known",
        ),
        ("{run: dir, shell: cmd}", "only bash runs here, not cmd"),
        (
            "{run: 'true', continue-on-error: true}",
            "job build, step 1 (run): the key 'continue-on-error' is not known here",
        ),
    ],
)
def test_a_step_it_does_not_know_stops_the_run_before_any_job(
    tmp_path: Path, step: str, message: str
) -> None:
    workflow = f"""
    on: push
    jobs:
      first: {{runs-on: ubuntu-latest, steps: [{{run: "touch ran"}}]}}
      build: {{runs-on: ubuntu-latest, steps: [{step}]}}
    """
    code, output = run(tmp_path, workflow)
    assert code == 2
    assert "Not run: job build, step 1 (" in output
    assert message in output
    assert not (tmp_path / "work" / "first").exists()


def test_a_stand_in_replaces_run_steps_and_says_so(tmp_path: Path) -> None:
    workflow = """
    on: push
    jobs:
      wheels: {runs-on: ubuntu-latest, steps: [{run: "exit 1"}]}
      publish:
        needs: wheels
        runs-on: ubuntu-latest
        permissions: {id-token: write}
        environment: {name: pypi, url: "https://pypi.org/p/x"}
        steps: [{run: 'test "$TWINE_REPOSITORY_URL" = http://127.0.0.1:9/'}]
    """
    code, output = run(tmp_path, workflow, "push", "--stand-in", "wheels=echo stood")
    assert code == 0, output
    assert "stood" in log(tmp_path, "wheels")
    assert "Note: wheels ran `echo stood` in place of its run steps here." in output
    assert (
        "environment pypi (https://pypi.org/p/x); permissions id-token: write; "
        "a token of the local index in place of OIDC" in output
    )


def test_an_upload_of_what_oidc_signs_is_not_run_where_a_token_stands_in(
    tmp_path: Path,
) -> None:
    """A job allowed an OIDC token gets the local index's token instead, which
    signs nothing: its upload of attestations alone is not run, and its line
    says so; elsewhere such an upload runs (and fails here, finding none)."""
    workflow = """
    on: push
    jobs:
      publish:
        runs-on: ubuntu-latest
        permissions: {id-token: write}
        steps:
          - run: mkdir dist && touch dist/a.whl
          - uses: actions/upload-artifact@v7
            with:
              name: attestations
              path: dist/*.publish.attestation
              if-no-files-found: error
          - uses: actions/upload-artifact@v7
            with: {name: dist, path: dist/, if-no-files-found: error}
      unsigned:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/upload-artifact@v7
            with: {name: signed, path: dist/*.attestation, if-no-files-found: error}
    """
    code, output = run(tmp_path, workflow)
    assert code == 1, output
    assert (
        "a token of the local index in place of OIDC; step 2 (actions/upload-artifact)"
        " not run here: dist/*.publish.attestation is what OIDC signing makes (the "
        "token that stands in for OIDC signs nothing)" in output
    )
    assert "publish                                  passed" in output
    assert sorted(p.name for p in (tmp_path / "work" / "artifacts").iterdir()) == [
        "dist"
    ]
    assert (
        "unsigned                                 failed: step 1 (actions/upload-"
        "artifact@v7): no files found at dist/*.attestation" in output
    )
