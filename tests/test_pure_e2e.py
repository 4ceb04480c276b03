"""The pure-Python variant end to end: render, commit, run its nox sessions."""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path

import pytest
from helpers import nox, output, run

pytestmark = pytest.mark.e2e


def test_sessions_pass_in_a_fresh_project(committed_project) -> None:
    # Every interpreter's test session: test_interpreters.py.
    project = committed_project()
    result = nox(project, "-s", "lint", "test-3.11", "typecheck", "build")
    assert "Session test-3.11 was successful" in result.stdout + result.stderr
    dist = sorted(p.name for p in (project / "dist").iterdir())
    assert len(dist) == 3, dist
    assert dist[0] == "manifest-build.json"
    assert dist[1].endswith("-py3-none-any.whl")
    assert dist[2].endswith(".tar.gz")


def test_reused_venv_tests_the_edited_source(committed_project) -> None:
    project = committed_project()
    session = "test-3.11"
    nox(project, "-s", session)
    text_py = project / "src" / "my_package" / "text.py"
    text_py.write_text(
        text_py.read_text().replace(
            "return _NOT_WORD.sub(separator, ascii_text.lower()).strip(separator)",
            'return "edited"',
        )
    )
    result = nox(project, "-R", "-s", session, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "AssertionError: assert 'edited' == 'hello-world'" in output


def test_coverage_has_its_own_session_and_reports_against_src(
    committed_project,
) -> None:
    # Measured on src/ (the sessions install it editable); the inner loop
    # (test-<python>) runs pytest alone.
    project = committed_project()
    text_py = project / "src" / "my_package" / "text.py"
    lines = text_py.read_text().splitlines()
    text_py.write_text(
        "\n".join([*lines, "", "", "def untested() -> int:", "    return 1", ""])
    )
    unrun = len(lines) + 4  # the `return 1`
    result = nox(project, "-s", "test-3.11")
    assert "Cover" not in output(result)
    result = nox(project, "-s", "coverage")
    report = output(result)
    (row,) = (
        line
        for line in report.splitlines()
        # the report's row, not the progress line of the doctests in text.py
        if re.match(r"src/my_package/text\.py +\d", line)
    )
    assert row.split()[-1] == str(unrun), report  # the Missing column
    assert "site-packages" not in report


def test_bare_nox_runs_lint_test_typecheck_but_never_build(committed_project) -> None:
    project = committed_project()
    listing = nox(project, "--list").stdout
    selected = {
        line.split()[1] for line in listing.splitlines() if line.startswith("* ")
    }
    skipped = {
        line.split()[1] for line in listing.splitlines() if line.startswith("- ")
    }
    assert {"lint", "coverage", "typecheck"} <= selected
    assert {s for s in selected if s.startswith("test-")} == {
        "test-3.11",
        "test-3.12",
        "test-3.13",
        "test-3.14",
        "test-3.15",
        "test-3.14t",
        "test-3.15t",
    }
    assert {"build", "publish_test", "publish"} <= skipped
    assert not any(s.startswith(("build", "publish", "wheels")) for s in selected)


def test_the_sdist_holds_the_package_its_tests_and_docs_not_the_machinery(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    run(sys.executable, "-m", "uv", "build", "--sdist", "--quiet", "--out-dir",
        tmp_path, cwd=project)  # fmt: skip
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.partition("/")[2] for n in archive.getnames()}
    tops = {name.split("/")[0] for name in names if name}
    assert {"src", "tests", "docs", "pyproject.toml", "README.md", "LICENSE",
            "CHANGELOG.md", "PKG-INFO"} <= tops  # fmt: skip
    machinery = {".github", "tools", "noxfile.py", "uv.lock", ".copier-answers.yml",
                 ".pre-commit-config.yaml", ".readthedocs.yaml"}  # fmt: skip
    assert not tops & machinery
    assert sdist.stat().st_size < 40_000  # it was 198 kB with uv.lock in it
