"""The daily loop: `nox -R -s test-<python>` always tests the tree as it is now.

Sessions install the package editable with `uv sync` (src/ on sys.path, the
C extension compiled in place), and uv builds it again when a [tool.uv]
cache key changes: pyproject.toml, the commit and tags (the version), the
version's variables, the C sources and their names. Each case below edits
the tree the way a user does, then reruns the reused venv and checks that
what the tests see is the tree, not an earlier build. The wheel users get is
tested by `nox -s build` (test_build_tests_the_wheel_*).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from helpers import git, git_commit_all, nox, output, project_env, run

pytestmark = pytest.mark.e2e

SESSION = "test-3.11"
PACKAGE = Path("src/my_package")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def add_test(project: Path, name: str, body: str) -> None:
    """A test file in the project whose assertions are `body`."""
    write(project / "tests" / f"test_{name}.py", f"def test_{name}() -> None:\n{body}")


def passes(project: Path, name: str, env: dict[str, str] | None = None) -> str:
    """The rerun passes, and ran tests/test_<name>.py (nox checks the exit)."""
    printed = output(nox(project, "-R", "-s", SESSION, env=env))
    assert f"tests/test_{name}.py ." in printed, printed
    return printed


def fails(project: Path) -> str:
    result = nox(project, "-R", "-s", SESSION, check=False)
    assert result.returncode != 0, output(result)
    return output(result)


def test_the_tests_import_the_source_tree(committed_project) -> None:
    project = committed_project()
    add_test(project, "where", (
        "    import my_package\n"
        "    assert my_package.__file__.endswith('src/my_package/__init__.py')\n"
    ))  # fmt: skip
    nox(project, "-s", SESSION)


def test_a_module_added_deleted_and_renamed_is_seen_at_once(committed_project) -> None:
    project = committed_project()
    nox(project, "-s", SESSION)
    write(project / PACKAGE / "extra.py", "ANSWER = 42\n")
    add_test(
        project,
        "extra",
        "    from my_package.extra import ANSWER\n    assert ANSWER == 42\n",
    )
    passes(project, "extra")
    (project / PACKAGE / "extra.py").rename(project / PACKAGE / "renamed.py")
    assert "No module named 'my_package.extra'" in fails(project)  # its .pyc stays
    (project / "tests" / "test_extra.py").unlink()
    add_test(
        project,
        "renamed",
        "    from my_package.renamed import ANSWER\n    assert ANSWER == 42\n",
    )
    passes(project, "renamed")
    (project / PACKAGE / "renamed.py").unlink()
    assert "No module named 'my_package.renamed'" in fails(project)


def test_an_edit_is_what_gets_tested(committed_project) -> None:
    project = committed_project()
    nox(project, "-s", SESSION)
    text_py = project / PACKAGE / "text.py"
    slug = "return _NOT_WORD.sub(separator, ascii_text.lower()).strip(separator)"
    text_py.write_text(text_py.read_text().replace(slug, 'return "edited"'))
    assert "AssertionError: assert 'edited' == 'hello-world'" in fails(project)


def version_test(project: Path, expected: str) -> None:
    add_test(project, "version", (
        "    import importlib.metadata\n\n    import my_package\n"
        f"    assert importlib.metadata.version('my-package') == {expected!r}\n"
        f"    assert my_package.__version__ == {expected!r}\n"
    ))  # fmt: skip


def test_a_commit_a_tag_and_the_version_variable_change_the_version(
    committed_project,
) -> None:
    project = committed_project()
    nox(project, "-s", SESSION)
    git(project, "tag", "v1.0.0")  # a tag: the version is the tag's
    version_test(project, "1.0.0")
    passes(project, "version")
    git_commit_all(project, "After the release")  # a commit: the next dev version
    version_test(project, "1.0.1.dev1")
    passes(project, "version")
    env = project_env(SETUPTOOLS_SCM_PRETEND_VERSION="7.7.7")
    version_test(project, "7.7.7")
    passes(project, "version", env)
    version_test(project, "1.0.1.dev1")  # and back once the variable is gone
    passes(project, "version")


def test_changes_left_uncommitted_at_a_tag_change_the_version(
    committed_project,
) -> None:
    # hatch-vcs counts a dirty tree as the next development version.
    project = committed_project()
    git(project, "tag", "v1.0.0")
    version_test(project, "1.0.0")
    passes(project, "version")
    changelog = project / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "\n- Not committed yet.\n")
    version_test(project, "1.0.1.dev0")
    passes(project, "version")
    git(project, "checkout", "CHANGELOG.md")  # clean again: the tag's version
    version_test(project, "1.0.0")
    passes(project, "version")


def test_a_tag_that_is_no_version_rebuilds_nothing_on_an_edit(
    committed_project,
) -> None:
    # hatch-vcs reads tags with a digit only: "nightly" on HEAD is not a version.
    project = committed_project()
    git(project, "tag", "nightly")
    nox(project, "-s", SESSION)
    text_py = project / PACKAGE / "text.py"
    text_py.write_text(text_py.read_text() + "# an edit\n")
    assert "Building my-package" not in output(nox(project, "-R", "-s", SESSION))


def test_a_run_without_git_leaves_no_fallback_version_behind(
    committed_project, tmp_path: Path
) -> None:
    # Without git, hatch-vcs falls back to 0.0.0; once git is back, the version.
    project = committed_project()
    git_commit_all(project, "Past the first commit")
    no_git = tmp_path / "no-git"
    no_git.mkdir()
    env = project_env()
    for directory in env["PATH"].split(os.pathsep):
        for found in Path(directory).glob("*") if Path(directory).is_dir() else []:
            link = no_git / found.name
            if not found.name.startswith("git") and not link.exists():
                link.symlink_to(found)
    nox(project, "-s", SESSION, env=env | {"PATH": str(no_git)})
    version_test(project, "0.0.1.dev2")
    passes(project, "version")


def test_a_static_version_bump_changes_the_version(committed_project) -> None:
    project = committed_project(versioning="static")
    nox(project, "-s", SESSION)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('version = "0.1.0"', 'version = "0.2.0"')
    )
    version_test(project, "0.2.0")
    passes(project, "version")


CLAMP = "return PyFloat_FromDouble(x < lo ? lo : (x > hi ? hi : x));"


def test_an_edit_of_the_c_source_is_compiled_and_tested(committed_project) -> None:
    project = committed_project(variant="c-extension")
    nox(project, "-s", SESSION)
    core = project / PACKAGE / "_core.c"
    core.write_text(core.read_text().replace(CLAMP, "return PyFloat_FromDouble(42.0);"))
    assert "assert 42.0 == " in fails(project)


def test_a_header_edited_added_and_deleted_is_compiled_again(committed_project) -> None:
    # A header changes what _core.c compiles to; deleting it (a change that
    # moves no file's time, the trap of uv's file keys) must rebuild, and fail.
    project = committed_project(variant="c-extension")
    core = project / PACKAGE / "_core.c"
    header = project / PACKAGE / "clamp_value.h"
    write(header, "#define CLAMP_VALUE 42.0\n")
    core.write_text(
        core.read_text()
        .replace(
            "#include <Python.h>\n",
            '#include <Python.h>\n#include "clamp_value.h"\n',
            1,
        )
        .replace(CLAMP, "return PyFloat_FromDouble(CLAMP_VALUE);")
    )
    assert "assert 42.0 == " in output(nox(project, "-s", SESSION, check=False))
    write(header, "#define CLAMP_VALUE 43.0\n")
    assert "assert 43.0 == " in fails(project)
    core.write_text(core.read_text() + "/* the newest file now */\n")
    assert "assert 43.0 == " in fails(project)
    header.unlink()  # the newest change time stays _core.c's
    assert "clamp_value.h: No such file or directory" in fails(project)


def test_a_python_path_left_in_the_shell_never_changes_what_is_tested(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    foreign = tmp_path / "elsewhere" / "my_package"
    write(foreign / "__init__.py", "FOREIGN = True\n")
    add_test(project, "not_foreign", (
        "    import my_package\n"
        "    assert not hasattr(my_package, 'FOREIGN'), my_package.__file__\n"
    ))  # fmt: skip
    env = project_env(PYTHONPATH=str(foreign.parent), PYTHONSAFEPATH="1",
                      PYTHONNOUSERSITE="1", VIRTUAL_ENV=str(tmp_path))  # fmt: skip
    printed = output(nox(project, "-s", SESSION, env=env))
    assert "tests/test_not_foreign.py ." in printed, printed


# uv's settings that change what `uv sync` installs, or where from: the
# sessions clear them (tools/install.py), as CI has none of them. UV_FROZEN
# first, while uv.lock lacks the new dependency.
UV_SETTINGS = ["UV_FROZEN", "UV_NO_EDITABLE", "UV_NO_INSTALL_PROJECT", "UV_NO_GROUP",
               "UV_PROJECT", "UV_WORKING_DIR"]  # fmt: skip


def test_uv_settings_left_in_the_shell_never_change_what_is_tested(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    decoy = tmp_path / "decoy"  # another my-package, which UV_PROJECT would test
    shutil.copytree(project, decoy, ignore=shutil.ignore_patterns(".git", ".nox"))
    write(decoy / PACKAGE / "__init__.py", "FOREIGN = True\n")
    pyproject = project / "pyproject.toml"  # a new dependency, which UV_FROZEN skips
    pyproject.write_text(pyproject.read_text().replace(
        "dependencies = [", 'dependencies = [\n    "codespell",', 1))  # fmt: skip
    add_test(project, "exact", (
        "    import sys\n\n    import codespell_lib\n    import my_package\n\n"
        "    assert my_package.__file__.endswith('/src/my_package/__init__.py')\n"
        "    assert not hasattr(my_package, 'FOREIGN'), my_package.__file__\n"
        "    assert sys.prefix.endswith('test-3-11'), sys.prefix  # nox's pytest\n"
    ))  # fmt: skip
    values = {"UV_NO_GROUP": "test", "UV_PROJECT": str(decoy),
              "UV_WORKING_DIR": str(decoy)}  # fmt: skip
    changed = {}
    for name in UV_SETTINGS:
        shutil.rmtree(project / ".nox", ignore_errors=True)  # installed with it
        env = project_env(**{name: values.get(name, "1")})
        result = nox(project, "-s", SESSION, env=env, check=False)
        if "tests/test_exact.py ." not in output(result):
            changed[name] = output(result)[-600:]
    assert not changed, changed


def test_an_index_set_in_the_shell_is_honoured(committed_project) -> None:
    # A company mirror is set on purpose: the sessions resolve through it. An
    # index nobody answers at proves that uv was pointed at it.
    project = committed_project()
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml")
        .read_text()
        .replace('test = ["pytest>=8.3"', 'test = ["pytest>=8.3", "iniconfig>=2"')
    )
    env = project_env(UV_DEFAULT_INDEX="http://127.0.0.1:9/simple", UV_OFFLINE="0")
    result = nox(project, "-R", "-s", SESSION, env=env, check=False)
    assert result.returncode != 0
    assert "127.0.0.1:9" in output(result)


BROKEN_PYPROJECT = {  # what `copier update` (or a hasty edit) may leave there
    "conflict markers": (
        "dependencies = []",
        (
            "<<<<<<< before updating\ndependencies = []\n=======\n"
            'dependencies = ["attrs"]\n>>>>>>> after updating'
        ),
        "pyproject.toml: Invalid statement (at line",
    ),
    "no [project] table": ("[project]\n", "[projects]\n", "pyproject.toml: No Python"),
    "no Python classifiers": (
        '"Programming Language :: Python :: 3.',
        '"Programming Language :: Python :: Implementation',
        'No Python version classifiers found in "project.classifiers"',
    ),
}


@pytest.mark.parametrize("broken", BROKEN_PYPROJECT)
def test_a_broken_pyproject_is_one_line_naming_it(committed_project, broken) -> None:
    # The file every session reads first, before anything can name the fault.
    project = committed_project()
    before, after, said = BROKEN_PYPROJECT[broken]
    pyproject = project / "pyproject.toml"
    assert before in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(before, after))
    result = nox(project, "-s", "lint", check=False)
    assert result.returncode != 0
    assert "Traceback" not in output(result), output(result)
    assert said in output(result), output(result)
    assert "resolve what `copier update` left" in output(result)


def test_a_renamed_extension_leaves_no_compiled_module_behind(
    committed_project,
) -> None:
    # The old name's module, compiled in place in src/, would still import.
    project = committed_project(variant="c-extension")
    nox(project, "-s", SESSION)
    write(project / PACKAGE / "libs" / "libhelper.so", "")  # yours: not a module
    core = project / PACKAGE / "_core.c"
    core.write_text(core.read_text() + "/* built again */\n")
    assert "libhelper" not in output(nox(project, "-R", "-s", SESSION))
    hook = project / "hatch_build.py"
    hook.write_text(hook.read_text().replace("_core", "_fast"))
    git(project, "mv", "src/my_package/_core.c", "src/my_package/_fast.c")
    printed = " ".join(fails(project).split())  # as uv wraps the backend's lines
    assert "src/my_package/_core.cpython-311" in printed, printed
    assert "which no extension of hatch_build.py makes any more" in printed, printed
    for stale in (project / PACKAGE).glob("_core.*"):
        stale.unlink()  # as the line says
    assert "ModuleNotFoundError: No module named 'my_package._core'" in fails(project)


def test_a_traceback_names_the_source_file(committed_project) -> None:
    project = committed_project()
    text_py = project / PACKAGE / "text.py"
    write(
        text_py,
        text_py.read_text() + '\n\ndef boom() -> None:\n    raise ValueError("boom")\n',
    )
    add_test(project, "boom", "    from my_package.text import boom\n\n    boom()\n")
    printed = output(nox(project, "-s", SESSION, check=False))
    assert (
        f"{project / PACKAGE / 'text.py'}:" in printed
        or "src/my_package/text.py:" in printed
    ), printed
    assert "site-packages/my_package" not in printed


def test_a_wrong_docstring_example_fails_the_test_session(committed_project) -> None:
    project = committed_project()
    text_py = project / PACKAGE / "text.py"
    text_py.write_text(
        text_py.read_text().replace("    'hello-world'\n", "    'Hello-World'\n", 1)
    )
    printed = output(nox(project, "-s", SESSION, check=False))
    assert "[doctest] my_package.text.slugify" in printed, printed
    assert "Expected:\n    'Hello-World'\nGot:\n    'hello-world'" in printed


# --- the wheel, tested where it is built ----------------------------------------


def test_build_tests_the_wheel_from_outside_the_tree(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    where = tmp_path / "where.txt"
    add_test(project, "where", (
        "    import os\n\n    import my_package\n"
        "    with open(os.environ['WHERE_FILE'], 'a') as where:\n"
        "        where.write(my_package.__file__ + '\\n')\n"
    ))  # fmt: skip
    git_commit_all(project, "Say where")
    result = nox(project, "-s", "build", env=project_env(WHERE_FILE=str(where)))
    (imported,) = where.read_text().splitlines()
    assert "/site-packages/my_package/__init__.py" in imported, imported
    assert str(project / "src") not in imported
    assert "twine check --strict" in output(result)
    assert "check-wheel-contents" in output(result)
    assert "--validate-record=all" in output(result)


def test_build_names_a_module_the_tests_need_and_the_wheel_lacks(
    committed_project,
) -> None:
    project = committed_project()
    with (project / ".gitignore").open("a") as gitignore:
        gitignore.write("/src/my_package/generated.py\n")  # hatchling leaves it out
        gitignore.write("/src/my_package/*.json\n")  # data, as a test reads it
    write(project / PACKAGE / "generated.py", "VALUE = 1\n")
    write(project / PACKAGE / "words.json", "[]\n")
    add_test(project, "generated", (
        "    from importlib.resources import files\n\n"
        "    from my_package.generated import VALUE\n\n    assert VALUE == 1\n"
        "    assert files('my_package').joinpath('words.json').read_text()\n"
    ))  # fmt: skip
    git_commit_all(project, "A generated module")
    nox(project, "-s", SESSION)  # the editable tree has it
    result = nox(project, "-s", "build", check=False)
    assert result.returncode != 0
    assert (
        "it lacks src/my_package/generated.py, src/my_package/words.json (hatchling "
        "leaves out what .gitignore names)"
    ) in output(result), output(result)
    assert not (project / "dist").exists()


def test_build_uses_the_locked_backend(committed_project) -> None:
    project = committed_project()
    run(sys.executable, "-m", "uv", "lock", "--upgrade-package", "hatchling==1.27.0",
        cwd=project, env=project_env())  # fmt: skip
    git_commit_all(project, "Pin hatchling back")
    nox(project, "-s", "build")
    (wheel,) = (project / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))
        assert "Generator: hatchling 1.27.0" in archive.read(name).decode()


# nox as a terminal starts it: Ctrl-C raises KeyboardInterrupt (a process
# started in the background inherits SIGINT ignored).
NOX_IN_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
    "runpy.run_module('nox', run_name='__main__')"
)


@pytest.mark.parametrize("session", [SESSION, "build"])
def test_ctrl_c_ends_with_noxs_own_line(committed_project, session: str) -> None:
    # Ctrl-C reaches the whole foreground process group, as a terminal sends it:
    # here while the tests run (in `build`, on the wheel, inside our own code).
    project = committed_project()
    add_test(project, "slow", "    import time\n\n    time.sleep(60)\n")
    git_commit_all(project, "A slow test")
    child = subprocess.Popen(
        [sys.executable, "-c", NOX_IN_A_TERMINAL, "-s", session],
        cwd=project, env=project_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    assert child.stdout
    printed = b""
    while b"test_slow.py " not in printed:  # pytest is in the slow test
        chunk = os.read(child.stdout.fileno(), 4096)
        assert chunk, printed.decode()
        printed += chunk
    time.sleep(1)
    os.killpg(child.pid, signal.SIGINT)
    printed += child.stdout.read()
    child.stdout.close()
    assert child.wait(timeout=120) != 0
    said = printed.decode()
    assert f"nox > Session {session} interrupted." in said, said
    assert "Traceback" not in said, said
