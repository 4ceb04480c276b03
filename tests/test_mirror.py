"""The mirror, proved: workflows and noxfile agree, and drift fails `nox -s lint`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import ROOT, nox, run, tool

CHECKER = ROOT / "template" / "tools" / "check_ci_mirror.py"

ANSWER_SETS = [
    {},
    {"min_python": "3.11", "versioning": "static"},
    {"min_python": "3.15", "license": "GPL-3.0-or-later"},
    {"variant": "c-extension"},
    {"variant": "c-extension", "limited_api": True, "min_python": "3.12"},
]


def answer_id(answers: dict[str, object]) -> str:
    return "-".join(f"{k}={v}" for k, v in answers.items()) or "defaults"


def test_template_repository_mirrors_its_own_noxfile() -> None:
    result = run(sys.executable, CHECKER, "--root", ROOT, cwd=ROOT)
    assert result.stdout.startswith("CI mirrors nox: 3 jobs, 4 sessions (1 local-only)")


@pytest.mark.parametrize("answers", ANSWER_SETS, ids=answer_id)
def test_every_answer_set_passes_the_checker_zizmor_and_the_schemas(
    render, answers: dict[str, object]
) -> None:
    project = render(**answers)
    result = run(sys.executable, "tools/check_ci_mirror.py", cwd=project)
    assert result.stdout.startswith("CI mirrors nox:"), result.stdout
    run(tool("zizmor"), "--offline", ".github", cwd=project)
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows,
        cwd=project)  # fmt: skip
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot",
        ".github/dependabot.yml", cwd=project)  # fmt: skip


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


NEW_SESSION = '''

@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation."""
    session.run("python", "-c", "print('docs')")
'''

MISMATCHES = {
    "a new session without a job": (
        lambda p: (p / "noxfile.py").write_text(
            (p / "noxfile.py").read_text() + NEW_SESSION
        ),
        "session 'docs' has no CI job",
    ),
    "a job whose command is changed": (
        lambda p: edit(
            p / ".github/workflows/ci.yml",
            "run: nox -s typecheck",
            "run: nox -s typecheck -- --no-incremental",
        ),
        (
            "ci.yml: job 'typecheck' runs 'nox -s typecheck -- --no-incremental' — the step "
            "must be exactly 'nox -s typecheck'"
        ),
    ),
    "an extra run step": (
        lambda p: edit(
            p / ".github/workflows/ci.yml",
            "      - run: nox -s build\n",
            "      - run: pip install build && python -m build\n"
            "      - run: nox -s build\n",
        ),
        (
            "ci.yml: job 'build' runs 'pip install build && python -m build' — a job's only "
            "work is 'nox -s build'"
        ),
    ),
    "a renamed job": (
        lambda p: edit(p / ".github/workflows/ci.yml", "  typecheck:\n", "  mypy:\n"),
        (
            "ci.yml: job 'mypy' runs session 'typecheck' — a job is named after its "
            "session; rename the job to 'typecheck'"
        ),
    ),
    "a matrix that drifts from the noxfile": (
        lambda p: edit(p / ".github/workflows/ci.yml", '"3.14t", "3.15t"]', '"3.14t"]'),
        "ci.yml: job 'test' never runs 'test-3.15t', which the noxfile defines",
    ),
    "a noxfile that drifts from the matrix": (
        lambda p: edit(
            p / "pyproject.toml", '    "Programming Language :: Python :: 3.12",\n', ""
        ),
        (
            "ci.yml: job 'test' runs 'test-3.12' (from its strategy.matrix), which the "
            "noxfile does not define"
        ),
    ),
}


@pytest.mark.e2e
@pytest.mark.parametrize("kind", MISMATCHES)
def test_mismatch_fails_lint_with_a_message_naming_it(
    committed_project, kind: str
) -> None:
    project = committed_project()
    introduce, message = MISMATCHES[kind]
    introduce(project)
    result = nox(project, "-s", "lint", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in output, output
    assert "Traceback" not in output


@pytest.mark.e2e
def test_a_local_only_session_needs_no_job(committed_project) -> None:
    project = committed_project()
    (project / "noxfile.py").write_text((project / "noxfile.py").read_text()
        + NEW_SESSION.replace("@nox.session\n", '@nox.session(tags=["local-only"])\n'))  # fmt: skip
    result = nox(project, "-s", "lint")
    assert "(1 local-only)" in result.stdout
