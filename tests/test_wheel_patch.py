"""An edit is tested without a rebuild, and never a stale build.

When all that changed since the last build are files the wheel holds as they
are, a test session writes them into the kept wheel (`install.patch`) instead
of running the backend. The invariant: that wheel is, byte for byte, the one
hatchling builds from the tree as it is now. Each test here checks exactly
that, against a real build, after edits a user or an attacker would make.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from helpers import git, git_commit_all, nox, output, run, set_hatch_version
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.e2e

SESSION = "test-3.11"
PATCHED = "as hatchling would), not rebuilding"


def venv_of(project: Path) -> Path:
    return project / ".nox" / "test-3-11"


def fresh_build(project: Path, out: Path) -> Path:
    """The wheel hatchling builds from the tree now, with the session's backend."""
    shutil.rmtree(out, ignore_errors=True)
    run(sys.executable, "-m", "uv", "build", "--quiet", "--wheel",
        "--no-build-isolation", "--python", venv_of(project) / "build-venv",
        "--out-dir", out, cwd=project)  # fmt: skip
    (wheel,) = out.glob("*.whl")
    return wheel


def assert_tested_the_fresh_build(project: Path, tmp_path: Path) -> None:
    (kept,) = (venv_of(project) / "wheel").glob("*.whl")
    fresh = fresh_build(project, tmp_path / "fresh")
    assert kept.name == fresh.name
    assert kept.read_bytes() == fresh.read_bytes(), f"{kept} is not {fresh}"


def rerun(project: Path) -> str:
    result = nox(project, "-R", "-s", SESSION, check=False)
    assert "Traceback (most recent call last)" not in output(result), output(result)
    return output(result)


def test_each_rerun_tests_the_wheel_hatchling_builds_now(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    git(project, "tag", "v1.0.0")  # clean: 1.0.0; dirty: 1.0.1.dev0
    package = project / "src" / "my_package"
    nox(project, "-s", SESSION)
    steps = [
        # (what a user does, whether the wheel may be patched rather than built)
        ("edit a module: the tree turns dirty, a new version", False,
         lambda: (package / "text.py").write_text("X = 1\n")),
        ("edit it again: same version, one member", True,
         lambda: (package / "text.py").write_text("X = 2\n")),
        ("two files at once", True, lambda: [
            (package / "py.typed").write_text("partial\n"),
            (package / "text.py").write_text("X = 3\n")]),
        ("an empty file", True, lambda: (package / "py.typed").write_text("")),
        ("bytes that are not text", True,
         lambda: (package / "py.typed").write_bytes(b"\xff\x00\r\n")),
        ("make a module executable: its mode is in the wheel", False,
         lambda: (package / "text.py").chmod(0o755)),
        ("a new module", False, lambda: (package / "more.py").write_text("Y = 1\n")),
        ("delete it", False, lambda: (package / "more.py").unlink()),
        ("the readme, which the metadata holds", False,
         lambda: (project / "README.md").write_text("# Changed\n")),
        ("back to the commit: a clean tree, the version changes back", False,
         lambda: git(project, "checkout", "--", ".")),
    ]  # fmt: skip
    for what, may_patch, step in steps:
        step()
        said = rerun(project)
        assert (PATCHED in said) == may_patch, f"{what}:\n{said}"
        assert_tested_the_fresh_build(project, tmp_path)


def test_a_version_read_from_a_module_is_rebuilt_when_it_changes(
    committed_project, tmp_path: Path
) -> None:
    # The module is in the wheel as it is, yet hatchling reads the version
    # from it into METADATA and the wheel's name: never a patch.
    project = committed_project()
    set_hatch_version(project, 'path = "src/my_package/about.py"')
    module = project / "src" / "my_package" / "about.py"
    module.write_text('__version__ = "1.0"\n')
    git_commit_all(project, "Version from a module")
    nox(project, "-s", SESSION)
    for version in ("1.1", "1.2"):  # the second after a dirty tree's build
        module.write_text(f'__version__ = "{version}"\n')
        assert PATCHED not in rerun(project)
        assert_tested_the_fresh_build(project, tmp_path)
        (kept,) = (venv_of(project) / "wheel").glob("*.whl")
        assert kept.name.startswith(f"my_package-{version}-")


def test_a_wheel_with_a_build_hook_is_always_built(
    committed_project, tmp_path: Path
) -> None:
    # A hook may make anything from any file: hatchling must run.
    project = committed_project()
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write(
            "\n[tool.hatch.build.targets.wheel.hooks.custom]\npath = 'hooks.py'\n"
        )
    (project / "hooks.py").write_text(
        "import os\nimport tempfile\n\n"
        "from hatchling.builders.hooks.plugin.interface import BuildHookInterface\n\n\n"
        "class SizeHook(BuildHookInterface):\n"
        "    def initialize(self, version, build_data):\n"
        "        size = os.path.getsize('src/my_package/text.py')\n"
        "        made = os.path.join(tempfile.mkdtemp(), 'size.txt')\n"
        "        with open(made, 'w') as file:\n"
        "            file.write(str(size))\n"
        "        build_data['force_include'][made] = 'my_package/size.txt'\n"
    )
    git_commit_all(project, "A hook")
    nox(project, "-s", SESSION)
    for line in ("# one\n", "# two\n"):
        with (project / "src" / "my_package" / "text.py").open("a") as text_py:
            text_py.write(line)
        assert PATCHED not in rerun(project)
        assert_tested_the_fresh_build(project, tmp_path)


def load_install(project: Path) -> ModuleType:
    """The project's own tools/install.py, as its noxfile imports it."""
    spec = importlib.util.spec_from_file_location(
        f"install_{id(project)}", project / "tools" / "install.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclass
    spec.loader.exec_module(module)
    return module


def test_a_patched_wheel_is_byte_for_byte_the_built_one(
    committed_project, tmp_path: Path
) -> None:
    """Property: from any state, after any edits of files the wheel holds,
    the patch either makes exactly the wheel hatchling builds, or declines
    because the version's sources changed (never for anything else)."""
    project = committed_project()
    git(project, "tag", "v1.0.0")  # clean: 1.0.0; dirty: 1.0.1.dev0
    nox(project, "-s", SESSION)
    install = load_install(project)
    package = project / "src" / "my_package"
    files = sorted(p for p in package.iterdir() if p.is_file())
    wheel = tmp_path / "kept" / "kept.whl"
    wheel.parent.mkdir()
    shutil.copy(fresh_build(project, tmp_path / "out"), wheel)
    state = {"inputs": install.build_inputs()}
    patched = []

    contents = st.binary(max_size=300) | st.text(max_size=300).map(str.encode)

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        st.lists(st.tuples(st.sampled_from(files), contents), min_size=1, max_size=3)
    )
    def edits_are_patched_exactly(edits: list[tuple[Path, bytes]]) -> None:
        for path, data in edits:
            path.write_bytes(data)
        before, now = state["inputs"], install.build_inputs()
        did = install.patch(wheel, before, now)
        fresh = fresh_build(project, tmp_path / "out")
        note(f"patched: {did}")
        if did:
            assert wheel.read_bytes() == fresh.read_bytes()
            patched.append(True)
        else:  # only when the version may have changed: the tree turned clean/dirty
            assert before.rest != now.rest
            shutil.copy(fresh, wheel)
        state["inputs"] = now

    edits_are_patched_exactly()
    assert len(patched) >= 20, f"the patch ran {len(patched)} times of 40"
