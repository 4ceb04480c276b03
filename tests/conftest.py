"""Fixtures that render the template and run what it generates.

Projects are rendered with copier's Python API from a snapshot of the working
tree, so uncommitted template changes are what gets tested.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import copier
import package_index
import pytest
from helpers import ROOT, SNAPSHOT_IGNORE, git_commit_all, lock_project


def render_project(template: Path, destination: Path, **answers: Any) -> Path:
    """Render a project with copier's API: the answers given, defaults for the rest."""
    copier.run_copy(str(template), destination, data=answers, defaults=True, quiet=True)
    return destination


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
        return render_project(template_snapshot, tmp_path / name, **answers)

    return _render


@pytest.fixture
def committed_project(render: Render) -> Callable[..., Path]:
    """Render a project and commit it to a fresh git repository, as a user would
    after the post-copy steps: with the uv.lock that its first nox run writes
    (`lock=False` leaves it out, as before that first run)."""

    def _committed_project(*, lock: bool = True, **answers: Any) -> Path:
        project = render(**answers)
        if lock:
            lock_project(project)
        git_commit_all(project)
        return project

    return _committed_project


@pytest.fixture
def index(tmp_path: Path) -> Iterator[package_index.PackageIndex]:
    """A real local package index (pypiserver on 127.0.0.1), stopped afterwards."""
    server, running = package_index.start(tmp_path / "index", tmp_path / "index.log")
    yield running
    server.terminate()
    server.wait(timeout=10)
