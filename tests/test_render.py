"""Rendering: every answer set gives a clean, valid, consistent project."""

from __future__ import annotations

import email
import itertools
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import Render
from helpers import ROOT, SUPPORTED_PYTHONS, git_commit_all, run

LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0-or-later")
LICENSE_FIRST_LINES = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "GPL-3.0-or-later": "GNU GENERAL PUBLIC LICENSE",
}
# Jinja that survived rendering; GitHub's own `${{ ... }}` expressions are fine.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|#\}")

# Every license, versioning and min_python value at least once, in few renders.
ANSWER_SETS = [
    {"license": license, "versioning": versioning, "min_python": min_python}
    for (license, versioning), min_python in zip(
        itertools.cycle(itertools.product(LICENSES, ("vcs", "static"))),
        SUPPORTED_PYTHONS * 2,
    )
]


def answer_id(answers: dict[str, str]) -> str:
    return "-".join(answers.values())


def rendered_from_jinja(project: Path, module_name: str = "my_package") -> list[Path]:
    """The project's files that came from `.jinja` templates (others are verbatim)."""
    return [
        project
        / str(t.relative_to(ROOT / "template").with_suffix(""))
        .replace("{{ module_name }}", module_name)
        .replace("{{ _copier_conf.answers_file }}", ".copier-answers.yml")
        for t in (ROOT / "template").rglob("*.jinja")
        if "{%" not in str(t)  # conditional names: whether they render is tested apart
    ]


def project_files(project: Path) -> list[Path]:
    return [p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts]


def wheel_metadata(project: Path, tmp_path: Path) -> email.message.Message:
    """Build the project's wheel with uv and read its METADATA."""
    # Any local Python builds a pure wheel, whatever requires-python says.
    run(
        sys.executable, "-m", "uv", "build", "--wheel", "--python", sys.executable,
        "--out-dir", tmp_path, "--quiet", cwd=project,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def test_default_render_has_the_expected_files(render: Render) -> None:
    project = render()
    files = {p.relative_to(project).as_posix() for p in project_files(project)}
    assert {
        ".copier-answers.yml",
        ".github/dependabot.yml",
        ".github/workflows/ci.yml",
        ".gitignore",
        "CHANGELOG.md",
        "LICENSE",
        "README.md",
        "noxfile.py",
        "pyproject.toml",
        "src/my_package/__init__.py",
        "src/my_package/py.typed",
        "src/my_package/text.py",
        "tests/test_package.py",
        "tests/test_text.py",
        "tools/check_ci_mirror.py",
    } <= files
    assert not any(f.endswith(".jinja") for f in files)


@pytest.mark.parametrize("answers", ANSWER_SETS, ids=answer_id)
def test_answer_set_renders_a_valid_consistent_project(
    render: Render, tmp_path: Path, answers: dict[str, str]
) -> None:
    project = render(**answers)

    for path in rendered_from_jinja(project):
        assert not LEFTOVER_JINJA.search(path.read_text()), f"leftover Jinja in {path}"
    for path in project_files(project):
        text = path.read_text()
        # Two blank lines separate Python definitions; nothing needs more.
        most_blank_lines = 2 if path.suffix == ".py" else 1
        assert "\n" * (most_blank_lines + 2) not in text, f"stray blank lines in {path}"

    run(sys.executable, "-m", "validate_pyproject", "pyproject.toml", cwd=project)

    assert (
        (project / "LICENSE")
        .read_text()
        .lstrip()
        .startswith(LICENSE_FIRST_LINES[answers["license"]])
    )

    supported = SUPPORTED_PYTHONS[SUPPORTED_PYTHONS.index(answers["min_python"]) :]
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    free_threaded = [f"{v}t" for v in supported if v in {"3.14", "3.15"}]
    assert workflow["jobs"]["test"]["strategy"]["matrix"]["python"] == [
        *supported,
        *free_threaded,
    ]

    if answers["versioning"] == "vcs":
        git_commit_all(project)
        run("git", "tag", "v1.2.3", cwd=project)
        expected_version = "1.2.3"
    else:
        expected_version = "0.1.0"
    metadata = wheel_metadata(project, tmp_path / "wheel")
    assert metadata["Name"] == "my-package"
    assert metadata["Version"] == expected_version
    assert metadata["Requires-Python"] == f">={answers['min_python']}"
    assert metadata["License-Expression"] == answers["license"]
    assert metadata["Summary"] == "A Python package built with wheelwright."
    python_classifiers = [
        c.removeprefix("Programming Language :: Python :: ")
        for c in metadata.get_all("Classifier", [])
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert python_classifiers == list(supported)


def test_vcs_version_outside_git_is_the_fallback(
    render: Render, tmp_path: Path
) -> None:
    project = render(versioning="vcs")
    assert wheel_metadata(project, tmp_path / "wheel")["Version"] == "0.0.0"


def test_vcs_dev_versions_have_no_local_part(render: Render, tmp_path: Path) -> None:
    project = render(versioning="vcs")
    git_commit_all(project)
    run("git", "tag", "v0.3.0", cwd=project)
    (project / "NEWS").write_text("more\n")
    git_commit_all(project, "another commit")
    version = wheel_metadata(project, tmp_path / "wheel")["Version"]
    assert re.fullmatch(r"0\.3\.1\.dev1", version), version


def test_answers_with_quotes_still_give_valid_toml(render: Render) -> None:
    project = render(
        description='Says "hello" \\ politely', author_name='Ada "Countess" Lovelace'
    )
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == 'Says "hello" \\ politely'
    assert pyproject["project"]["authors"][0]["name"] == 'Ada "Countess" Lovelace'


def test_answers_file_records_the_answers(render: Render) -> None:
    project = render(project_name="Fancy.Name", license="Apache-2.0")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Fancy.Name"
    assert answers["module_name"] == "fancy_name"
    assert answers["license"] == "Apache-2.0"
    # Computed values are not answers: they must not freeze into the file.
    assert "python_versions" not in answers
    assert "stdlib_module_names" not in answers


def test_copy_works_without_trust(template_snapshot: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet",
         str(template_snapshot), str(tmp_path / "project")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "project" / "pyproject.toml").is_file()
