"""What users of the best templates expect: sp-repo-review clean, a noxfile that
runs with only uv, pre-commit at the locked versions, and source archives of a
tag that build with the tag's version."""

from __future__ import annotations

import json
import re
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from helpers import (
    ROOT,
    git,
    nox,
    run,
    tool,
)

RENDERS = {
    "pure": {},
    "c": {"variant": "c-extension"},
    "c-abi3": {"variant": "c-extension", "limited_api": True},
    "static": {"versioning": "static", "min_python": "3.13"},
}
MOST_IGNORES = 3  # per render, each with its reason beside it


def repo_review(path: Path) -> dict[str, dict[str, object]]:
    result = run(tool("repo-review"), path, "--format", "json", cwd=path, check=False)
    return dict(json.loads(result.stdout)["checks"])


@pytest.mark.parametrize("answers", RENDERS.values(), ids=RENDERS.keys())
def test_sp_repo_review_finds_no_failure(committed_project, answers) -> None:
    project = committed_project(**answers)
    checks = repo_review(project)
    failed = {name: c["err_msg"] for name, c in checks.items() if c["result"] is False}
    assert not failed, failed
    ignored = tomllib.loads((project / "pyproject.toml").read_text())["tool"][
        "repo-review"
    ]["ignore"]
    assert len(ignored) <= MOST_IGNORES
    text = (project / "pyproject.toml").read_text()
    for name in ignored:  # each ignore has its reason on the lines above it
        before = text[: text.index(f'"{name}"')].rstrip().splitlines()[-1]
        assert before.strip().startswith("#"), f"{name} has no reason beside it"


def test_sp_repo_review_finds_no_failure_in_the_template_repository() -> None:
    checks = repo_review(ROOT)
    failed = {name: c["err_msg"] for name, c in checks.items() if c["result"] is False}
    assert not failed, failed


@pytest.mark.parametrize("variant", ["pure", "c-extension"])
def test_nox_list_gives_each_session_a_whole_sentence(render, variant: str) -> None:
    # `nox --list` shows a docstring's first line: it must not stop mid-sentence.
    project = render(variant=variant)
    listing = nox(project, "--list").stdout
    described = re.findall(r"(?m)^[*-] (\S+)(?: \[.*\])? -> (.*)$", listing)
    assert {"lint", "build", "publish", "pythons"} <= {name for name, _ in described}
    for name, description in described:
        assert description.endswith("."), (name, description)
        assert len(description) <= 80, (name, description)


def test_pre_commit_runs_the_tools_at_the_locked_versions(committed_project) -> None:
    project = committed_project()
    lock = tomllib.loads((project / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    revs = {r["repo"].rsplit("/", 1)[-1]: r.get("rev") for r in config["repos"]}
    assert revs["ruff-pre-commit"] == f"v{locked['ruff']}"
    assert revs["zizmor-pre-commit"] == f"v{locked['zizmor']}"
    assert revs["check-jsonschema"] == locked["check-jsonschema"]
    assert revs["codespell"] == f"v{locked['codespell']}"


def test_template_repository_pre_commit_runs_its_lint_versions() -> None:
    pins = {
        r.split("==")[0]: r.split("==")[1]
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())[
            "dependency-groups"
        ]["lint"]
        if "==" in r
    }
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    revs = {r["repo"].rsplit("/", 1)[-1]: r["rev"] for r in config["repos"]}
    assert revs["ruff-pre-commit"] == f"v{pins['ruff']}"
    assert revs["zizmor-pre-commit"] == f"v{pins['zizmor']}"
    assert revs["check-jsonschema"] == pins["check-jsonschema"]
    assert revs["codespell"] == f"v{pins['codespell']}"


@pytest.mark.e2e
def test_lint_fails_when_a_pre_commit_rev_leaves_the_lock(committed_project) -> None:
    project = committed_project()
    config = project / ".pre-commit-config.yaml"
    locked = tomllib.loads((project / "uv.lock").read_text())
    ruff = next(p["version"] for p in locked["package"] if p["name"] == "ruff")
    config.write_text(config.read_text().replace(f"rev: v{ruff}", "rev: v0.12.0"))
    result = nox(project, "-s", "lint", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # One line names the file, the hook's repository, the rev and the fix.
    (line,) = [
        l for l in output.splitlines() if l.startswith(".pre-commit-config.yaml:")
    ]
    for part in ("https://github.com/astral-sh/ruff-pre-commit", "v0.12.0", f"v{ruff}"):
        assert part in line, line


def test_a_source_archive_of_a_tag_builds_with_the_tags_version(
    committed_project, tmp_path: Path
) -> None:
    # What GitHub serves as "Source code (tar.gz)" of a release: `git archive`.
    project = committed_project()
    git(project, "tag", "v1.2.3")
    archive = tmp_path / "source.tar"
    run("git", "archive", "--format=tar", "--prefix=src/", "--output", archive,
        "v1.2.3", cwd=project)  # fmt: skip
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    assert not (tmp_path / "src" / ".git").exists()
    run(sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--out-dir",
        tmp_path / "out", cwd=tmp_path / "src")  # fmt: skip
    assert [p.name for p in (tmp_path / "out").glob("*.whl")] == [
        "my_package-1.2.3-py3-none-any.whl"
    ]


def test_contributing_guide_points_at_the_sessions(render) -> None:
    project = render()
    text = (project / "CONTRIBUTING.md").read_text()
    for needle in ("uv sync --only-group=nox", ".venv/bin/nox", '"nox[uv]"', "uv.lock"):
        assert needle in text
    readme = (project / "README.md").read_text()
    assert "### Dependencies" in readme
    assert "[project] dependencies" in text
