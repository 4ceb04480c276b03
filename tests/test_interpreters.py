"""Every interpreter this machine has: generated projects pass their tests on it.

For each variant (pure, C, C with the limited API) one project is rendered and
committed per test module, then its real `test-<python>` session runs once per
interpreter: each supported CPython, and each free-threaded build found. A
project's noxfile lists 3.14t and later; 3.13t (experimental free threading)
runs through `nox --force-python 3.13t -s test`, which nox names `test-3.13t`.

With CI=true an interpreter that cannot be found fails its test (see
helpers.require_python), so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from conftest import Render, render_project
from helpers import (
    FREE_THREADED_PYTHONS,
    SUPPORTED_PYTHONS,
    git_commit_all,
    interpreters,
    nox,
    project_env,
    require_python,
    run,
)

pytestmark = pytest.mark.e2e

VARIANTS = {
    "pure": {},
    "c": {"variant": "c-extension"},
    "c-abi3": {"variant": "c-extension", "limited_api": True},
}
# Free-threaded builds: those found here, or the oldest one, so that a machine
# without any still gets a test that skips (or fails, in CI) saying so.
FOUND_FREE_THREADED = [v for v in FREE_THREADED_PYTHONS if v in interpreters()]
PYTHONS = [*SUPPORTED_PYTHONS, *(FOUND_FREE_THREADED or FREE_THREADED_PYTHONS[:1])]
# pytest's summary lists every outcome (-rA), so a test that was skipped
# instead of run shows as SKIPPED, not PASSED.
REPORT_ALL = ("--", "-rA")
GIL_TEST = "tests/test_core.py::test_importing_the_extension_leaves_the_gil_disabled"


@pytest.fixture(scope="module", params=VARIANTS)
def project(
    request: pytest.FixtureRequest,
    template_snapshot: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, Path]:
    variant = request.param
    where = tmp_path_factory.mktemp(f"interpreters-{variant}") / "project"
    render_project(template_snapshot, where, min_python="3.11", **VARIANTS[variant])
    git_commit_all(where)
    return variant, where


def session_for(python: str) -> list[str]:
    """The nox arguments that run the test session on this interpreter."""
    if python == "3.13t":
        return ["--force-python", "3.13t", "-s", "test"]
    return ["-s", f"test-{python}"]


@pytest.mark.parametrize("python", PYTHONS)
def test_tests_pass_on_every_interpreter(
    project: tuple[str, Path], python: str
) -> None:
    variant, path = project
    require_python(python)
    result = nox(path, *session_for(python), *REPORT_ALL)
    output = result.stdout + result.stderr
    assert f"Session test-{python} was successful" in output, output
    free_threaded = python.endswith("t")
    compiled = variant != "pure"
    # Nothing skipped but the GIL test, which needs a free-threaded build.
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    expected_skips = 1 if compiled and not free_threaded else 0
    assert len(skipped) == expected_skips, skipped
    assert all("needs free-threaded Python" in line for line in skipped), skipped
    if not compiled:
        return
    if free_threaded:
        assert f"PASSED {GIL_TEST}" in output, output
    # The compiler said nothing: every interpreter's headers, both ABIs.
    assert "warning:" not in output, output
    # The editable install compiled the module for this interpreter, in src/:
    # one abi3 module serves every GIL build; free-threaded builds cannot load
    # abi3 and get their own.
    if variant == "c-abi3" and not free_threaded:
        suffix = "abi3"
    else:
        suffix = f"cpython-{python.replace('.', '')}"
    compiled_here = [p.name for p in (path / "src" / "my_package").glob("_core.*")]
    assert any(
        re.fullmatch(rf"_core\.{suffix}(-[\w-]+)?\.(so|pyd)", n) for n in compiled_here
    ), compiled_here


def test_the_project_finds_every_python_this_suite_finds(render: Render) -> None:
    # The suite's discovery (helpers.interpreters: PATH, pyenv's versions, uv's
    # Pythons) and the project's (nox on PATH, tools/install.py's pyenv links,
    # uv) held equal: run without the suite's folder of links on PATH.
    path = render()
    git_commit_all(path)
    env = project_env()
    env["PATH"] = env["PATH"].split(os.pathsep, 1)[1]  # drop pythons_dir()
    result = run(
        sys.executable, "-m", "nox", "-s", "test", "--", "--collect-only", "-q",
        cwd=path, env=env, check=False,
    )  # fmt: skip
    ran = set(re.findall(r"(?m)^nox > \* test-(\S+): success", result.stderr))
    wanted = {v for v in SUPPORTED_PYTHONS + FREE_THREADED_PYTHONS if v != "3.13t"}
    assert ran == wanted & set(interpreters()), result.stderr
