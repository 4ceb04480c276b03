"""An edit is tested without a rebuild, and never a stale build.

When all that changed since the last build are files the wheel holds as they
are, a test session writes them into the kept wheel (`install.patch`) instead
of running the backend. The invariant: that wheel is, byte for byte, the one
hatchling builds from the tree as it is now. Each test here checks exactly
that, against a real build, after edits a user or an attacker would make.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from helpers import (
    git,
    git_commit_all,
    lock_project,
    nox,
    output,
    project_env,
    run,
    set_hatch_version,
)
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


def edits_test_the_fresh_build(
    project: Path, file: Path, texts: tuple[str, ...], tmp_path: Path
) -> list[str]:
    """Write each text in turn, rerun, and check the wheel tested is a fresh
    build (the first edit may turn the tree dirty: a build; then a patch)."""
    said = []
    for text in texts:
        file.write_text(text)
        said.append(rerun(project))
        assert_tested_the_fresh_build(project, tmp_path)
    return said


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
    because the version's sources changed or the old bytes are not one file's
    (never for anything else)."""
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
        else:  # only when the version may have changed (the tree turned clean or
            # dirty), or when a changed file's old bytes are another file's too
            # (which member held which cannot be told)
            old = [digest.split()[0] for digest in before.files.values()]
            shared = any(
                old.count(before.files[p].split()[0]) > 1
                for p in now.files
                if now.files[p] != before.files[p]
            )
            assert before.rest != now.rest or shared
            shutil.copy(fresh, wheel)
        state["inputs"] = now

    edits_are_patched_exactly()
    print(f"the patch ran {len(patched)} times of 40")
    assert len(patched) >= 20, f"the patch ran {len(patched)} times of 40"


# Found by an adversarial review: each was red before its fix.


def add_wheel_settings(project: Path, lines: str) -> None:
    """Append lines to [tool.hatch.build.targets.wheel] (after `packages`)."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    anchor = 'packages = ["src/my_package"]\n'
    assert anchor in text
    pyproject.write_text(text.replace(anchor, anchor + lines))


def test_an_artifact_named_like_bytecode_is_rebuilt(
    committed_project, tmp_path: Path
) -> None:
    # hatchling ships an artifact even if it matches its default *.py[cdo]
    # exclusion (a prebuilt .pyd, a .pyc): then bytecode is a build input.
    project = committed_project()
    add_wheel_settings(project, 'artifacts = ["*.pyd"]\n')
    native = project / "src" / "my_package" / "_native.pyd"
    native.write_bytes(b"v1")
    git_commit_all(project, "A prebuilt module")
    git(project, "tag", "v1.0.0")
    nox(project, "-s", SESSION)
    native.write_bytes(b"v2")
    rerun(project)
    assert_tested_the_fresh_build(project, tmp_path)


def test_a_license_file_inside_the_package_is_patched_everywhere(
    committed_project, tmp_path: Path
) -> None:
    # A glob in license-files (vendored code's licenses) puts a package file in
    # the wheel twice: in the package and in .dist-info/licenses/. The glob
    # does not name the path; the patch must not update one copy only.
    project = committed_project()
    vendored = project / "src" / "my_package" / "_vendor" / "foo"
    vendored.mkdir(parents=True)
    (vendored / "LICENSE.txt").write_text("foo v1\n")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'license-files = ["LICENSE"]',
            'license-files = ["LICENSE", "src/my_package/_vendor/*/LICENSE*"]',
        )
    )
    git_commit_all(project, "Vendored")
    git(project, "tag", "v1.0.0")
    nox(project, "-s", SESSION)
    licence = vendored / "LICENSE.txt"
    edits_test_the_fresh_build(project, licence, ("foo v2\n", "foo v3\n"), tmp_path)


def test_a_version_that_code_reads_from_another_file_is_rebuilt(
    committed_project, tmp_path: Path
) -> None:
    # hatchling's `code` version source runs a module, which may read any file:
    # only the module's path is in the settings.
    project = committed_project()
    set_hatch_version(project, 'source = "code"\npath = "src/my_package/_version.py"')
    package = project / "src" / "my_package"
    (package / "_version.py").write_text(
        "from pathlib import Path\n\n"
        '__version__ = (Path(__file__).parent / "VERSION").read_text().strip()\n'
    )
    (package / "VERSION").write_text("1.0\n")
    git_commit_all(project, "Version from a file")
    nox(project, "-s", SESSION)
    edits_test_the_fresh_build(
        project, package / "VERSION", ("1.1\n", "1.2\n"), tmp_path
    )


def test_a_version_from_a_repository_above_the_project_is_rebuilt(
    render, tmp_path: Path
) -> None:
    # A monorepo: the project is a folder of a repository, and hatch-vcs is
    # told where the root is. The project has no .git of its own; a new tag
    # must be built, and an edit that turns the tree dirty never patched into
    # the clean version's wheel.
    repository = tmp_path / "mono"
    project = render("mono/pkg")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'raw-options = { local_scheme = "no-local-version" }',
            'raw-options = { local_scheme = "no-local-version", root = ".." }',
        )
    )
    lock_project(project)
    git_commit_all(repository)
    git(repository, "tag", "v1.0.0")
    nox(project, "-s", SESSION)
    (repository / "NEWS").write_text("elsewhere in the monorepo\n")
    git_commit_all(repository, "Elsewhere")
    git(repository, "tag", "v2.0.0")
    rerun(project)
    assert_tested_the_fresh_build(project, tmp_path)  # 1.0.0 tested, 2.0.0 built
    with (project / "src" / "my_package" / "text.py").open("a") as text_py:
        text_py.write("# dirty\n")
    rerun(project)
    assert_tested_the_fresh_build(project, tmp_path)


def test_a_flat_layout_artifact_that_git_ignores_is_rebuilt(
    committed_project, tmp_path: Path
) -> None:
    # With the package at the root (or under lib/, python/...), a generated
    # file that git ignores and the wheel ships as an artifact is an input too.
    project = committed_project()
    (project / "src" / "my_package").rename(project / "my_package")
    (project / "src").rmdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'packages = ["src/my_package"]',
            'packages = ["my_package"]\nartifacts = ["my_package/generated.json"]',
        )
    )
    with (project / ".gitignore").open("a") as gitignore:
        gitignore.write("my_package/generated.json\n")
    generated = project / "my_package" / "generated.json"
    generated.write_text('{"v": 1}\n')
    git_commit_all(project, "Flat layout")
    git(project, "tag", "v1.0.0")
    nox(project, "-s", SESSION)
    generated.write_text('{"v": 2}\n')
    rerun(project)
    assert_tested_the_fresh_build(project, tmp_path)


def test_an_edit_of_a_copy_outside_the_wheel_is_never_written_into_it(
    committed_project, tmp_path: Path
) -> None:
    # A copy of a module elsewhere (a benchmark's baseline, an example) has the
    # same name below its folder and the same bytes: it is not the member.
    project = committed_project()
    baseline = project / "benchmarks" / "baseline" / "my_package"
    baseline.mkdir(parents=True)
    (baseline / "text.py").write_bytes(
        (project / "src" / "my_package" / "text.py").read_bytes()
    )
    git_commit_all(project, "A baseline to benchmark against")
    git(project, "tag", "v1.0.0")
    nox(project, "-s", SESSION)
    with (project / "README.md").open("a") as readme:  # dirty: a build
        readme.write("\n")
    rerun(project)
    with (baseline / "text.py").open("a") as text_py:
        text_py.write('X = "only the baseline"\n')
    rerun(project)
    assert_tested_the_fresh_build(project, tmp_path)


def a_stray_name_that_is_not_utf8(project: Path) -> None:
    # git prints names as bytes: read strictly as UTF-8, one stops every session
    os.close(os.open(bytes(project) + b"/notes-caf\xe9.txt", os.O_CREAT | os.O_WRONLY))


def a_package_file_named_with_a_line_separator(project: Path) -> None:
    # str.splitlines() splits at U+2028 (and \x0c, \x1c-\x1e, \x85, U+2029),
    # which csv does not quote: a RECORD read so has rows of one field
    (project / "src" / "my_package" / "a\u2028b.txt").write_text("data\n")
    git_commit_all(project, "Odd name")


@pytest.mark.parametrize(
    "odd_name",
    [
        pytest.param(
            a_stray_name_that_is_not_utf8,
            marks=pytest.mark.skipif(
                sys.platform != "linux", reason="other systems refuse such names"
            ),
        ),
        a_package_file_named_with_a_line_separator,
    ],
    ids=lambda odd_name: odd_name.__name__,
)
def test_an_odd_file_name_is_no_traceback(
    committed_project, tmp_path: Path, odd_name
) -> None:
    project = committed_project()
    odd_name(project)
    result = nox(project, "-s", SESSION, check=False)
    assert "Traceback (most recent call last)" not in output(result), output(result)
    assert_tested_the_fresh_build(project, tmp_path)


def test_an_edit_saved_during_the_build_then_undone_is_rebuilt(
    committed_project, tmp_path: Path
) -> None:
    # The inputs are read before hatchling reads the files: an edit saved
    # while it builds may be in the wheel. Undo it, and the rerun must not find
    # "nothing changed".
    project = committed_project()
    git(project, "tag", "v1.0.0")
    nox(project, "-s", SESSION)
    text_py = project / "src" / "my_package" / "text.py"
    with text_py.open("a") as file:  # dirty: the next run builds
        file.write('A = "saved before the run"\n')
    before = text_py.read_bytes()
    running = subprocess.Popen(
        [sys.executable, "-m", "nox", "-R", "-s", SESSION],
        cwd=project, env=project_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    kept = project / ".nox" / "test-3-11" / "wheel"
    deadline = time.monotonic() + 120
    while (
        kept.is_dir() and time.monotonic() < deadline
    ):  # removed just before the build
        time.sleep(0.001)
    with text_py.open("a") as file:
        file.write('B = "saved while it built"\n')
    assert running.wait(timeout=600) == 0
    text_py.write_bytes(before)  # undo
    said = rerun(project)
    assert PATCHED not in said
    assert_tested_the_fresh_build(project, tmp_path)
