"""Fixtures that render the template and run what it generates.

Projects are rendered with copier's Python API from a snapshot of the working
tree, so uncommitted template changes are what gets tested.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest
from helpers import ROOT, SNAPSHOT_IGNORE, git_commit_all


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template's working tree, uncommitted changes included."""
    snapshot = tmp_path_factory.mktemp("template") / "wheelwright"
    shutil.copytree(ROOT, snapshot, ignore=SNAPSHOT_IGNORE)
    return snapshot


Render = Callable[..., Path]


@pytest.fixture
def render(template_snapshot: Path, tmp_path: Path) -> Render:
    """Render a project from answers (defaults for the rest) and return its path."""

    def _render(name: str = "project", /, **answers: Any) -> Path:
        destination = tmp_path / name
        copier.run_copy(
            str(template_snapshot),
            destination,
            data=answers,
            defaults=True,
            unsafe=False,
            quiet=True,
        )
        return destination

    return _render


@pytest.fixture
def committed_project(render: Render) -> Callable[..., Path]:
    """Render a project and commit it to a fresh git repository, as a user would."""

    def _committed_project(**answers: Any) -> Path:
        project = render(**answers)
        git_commit_all(project)
        return project

    return _committed_project
