"""Same tools, same versions, everywhere: every session installs what uv.lock pins.

A generated project keeps a committed uv.lock (its first nox run writes it):
each session syncs its venv to the lock with `uv sync` (added, upgraded,
downgraded, removed), on `nox -R` too; CI stops on a missing or stale lock;
the build backend is locked too. (What the daily loop tests after an edit:
test_daily_loop.py.)
"""

from __future__ import annotations

import email
import json
import os
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import (
    git,
    git_commit_all,
    interpreters,
    lock_project,
    needs_symlinks,
    nox,
    output,
    project_env,
    require_python,
    run,
    set_hatch_version,
)

pytestmark = pytest.mark.e2e

PYTHON = "3.11"
SESSION = f"test-{PYTHON}"


def locked_versions(project: Path) -> dict[str, str]:
    lock = tomllib.loads((project / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"] if "version" in p}


def venv_versions(venv: Path) -> dict[str, str]:
    listing = run(sys.executable, "-m", "uv", "pip", "list", "--format=json",
                  "--python", venv, cwd=venv).stdout  # fmt: skip
    return {p["name"]: p["version"] for p in json.loads(listing)}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def ci_env(**extra: str) -> dict[str, str]:
    return project_env(CI="true", **extra)


@pytest.fixture
def locked_project(committed_project) -> Path:
    """A fresh project with the lock its first nox run writes, committed."""
    return committed_project()


def test_first_nox_run_writes_a_lock_of_every_group_and_the_backend(
    committed_project,
) -> None:
    project = committed_project(lock=False)
    result = nox(project, "-s", "lint")
    assert "uv.lock was created: commit it" in output(result)
    locked = locked_versions(project)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    groups = pyproject["dependency-groups"]
    wanted = {"pytest", "pytest-cov", "mypy", "ruff", "zizmor", "twine",
              "check-wheel-contents", "pypi-attestations", "hatchling", "hatch-vcs"}  # fmt: skip
    assert wanted <= set(locked), sorted(wanted - set(locked))
    assert set(groups["build-system"]) == set(pyproject["build-system"]["requires"])


def test_each_session_holds_exactly_the_locked_versions(locked_project: Path) -> None:
    nox(locked_project, "-s", "lint", SESSION)
    locked = locked_versions(locked_project)
    for venv in ("lint", "test-3-11"):
        installed = venv_versions(locked_project / ".nox" / venv)
        drift = {
            name: (version, locked.get(name))
            for name, version in installed.items()
            if name != "my-package" and locked.get(name) != version
        }
        assert not drift, f"{venv}: installed vs locked {drift}"
    assert "ruff" not in venv_versions(locked_project / ".nox" / "test-3-11")


def test_a_reused_venv_follows_the_lock_up_down_and_out(locked_project: Path) -> None:
    nox(locked_project, "-s", SESSION)
    venv = locked_project / ".nox" / "test-3-11"
    newest = venv_versions(venv)["pytest"]
    # Down: the lock moves pytest back a major version; -R skips installs, yet
    # the venv follows the lock.
    run(sys.executable, "-m", "uv", "lock", "--upgrade-package", "pytest==8.4.2",
        cwd=locked_project, env=project_env())  # fmt: skip
    assert newest != "8.4.2"
    result = nox(locked_project, "-R", "-s", SESSION)
    assert "pytest-8.4.2" in output(result)  # pytest's own header
    assert venv_versions(venv)["pytest"] == "8.4.2"
    # In and out: a package added to the group arrives, and leaves with it.
    pyproject = locked_project / "pyproject.toml"
    edit(pyproject, 'test = ["pytest>=8.3"', 'test = ["six", "pytest>=8.3"')
    nox(locked_project, "-R", "-s", SESSION)
    assert "six" in venv_versions(venv)
    edit(pyproject, 'test = ["six", "pytest>=8.3"', 'test = ["pytest>=8.3"')
    nox(locked_project, "-R", "-s", SESSION)
    assert "six" not in venv_versions(venv)


def test_locally_a_stale_lock_is_updated_and_said(locked_project: Path) -> None:
    edit(locked_project / "pyproject.toml", '"pytest>=8.3"', '"pytest>=8.4"')
    result = nox(locked_project, "-s", "lint")
    assert "uv.lock was updated to match pyproject.toml: commit it" in output(result)
    lock = (locked_project / "uv.lock").read_text()
    assert '{ name = "pytest", specifier = ">=8.4" }' in lock


def test_a_lock_updated_by_a_sync_that_then_fails_is_said(
    locked_project: Path,
) -> None:
    # uv locks, then cannot install: pywin32 has wheels for Windows only.
    edit(locked_project / "pyproject.toml", 'build = ["twine>=6.1"',
         'build = ["pywin32", "twine>=6.1"')  # fmt: skip
    result = nox(locked_project, "-s", "build", SESSION, check=False)
    assert "pywin32" in (locked_project / "uv.lock").read_text()
    assert "uv.lock was updated to match pyproject.toml: commit it" in output(result)


def test_ci_stops_at_once_on_a_stale_lock(locked_project: Path) -> None:
    edit(locked_project / "pyproject.toml", '"pytest>=8.3"', '"pytest>=8.4"')
    lock_before = (locked_project / "uv.lock").read_bytes()
    result = nox(locked_project, "-s", SESSION, check=False, env=ci_env())
    assert result.returncode != 0
    # uv's own words, with the fix.
    assert (
        "The lockfile at `uv.lock` needs to be updated, but `--locked` was provided. "
        "hint: To update the lockfile, run `uv lock`."
    ) in " ".join(output(result).split()), output(result)
    assert "nox > pytest" not in output(result)  # stopped before anything ran
    assert (locked_project / "uv.lock").read_bytes() == lock_before


# GitHub Actions sets both; either one alone means CI, as for tools/publish.py.
@pytest.mark.parametrize("flag", ["CI", "GITHUB_ACTIONS"])
def test_ci_stops_at_once_without_a_lock(committed_project, flag: str) -> None:
    project = committed_project(lock=False)
    env = project_env(**{flag: "true"})
    result = nox(project, "-s", "lint", check=False, env=env)
    assert result.returncode != 0
    assert (
        "Unable to find lockfile at `uv.lock`, but `--locked` was provided. To "
        "create a lockfile, run `uv lock` or `uv sync` without the flag."
    ) in " ".join(output(result).split()), output(result)
    assert not (project / "uv.lock").exists()


@pytest.mark.parametrize("ci", ["false", "0", "", "off"])
def test_ci_set_to_false_is_not_ci(committed_project, ci: str) -> None:
    project = committed_project(lock=False)
    result = nox(project, "-s", "lint", env=project_env(CI=ci))
    assert "uv.lock was created" in output(result)


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def test_a_build_system_group_that_differs_from_requires_is_refused(
    locked_project: Path,
) -> None:
    edit(
        locked_project / "pyproject.toml",
        '    "hatch-vcs>=0.5",\n]\n# What CI',
        "]\n# What CI",
    )
    result = nox(locked_project, "-s", "lint", check=False)
    assert result.returncode != 0
    assert (
        "pyproject.toml: [dependency-groups] build-system: list what [build-system] "
        "requires"
    ) in output(result), output(result)
    assert "Traceback" not in output(result)


def test_published_metadata_keeps_ranges_not_the_locks_pins(
    locked_project: Path,
) -> None:
    edit(locked_project / "pyproject.toml", "dependencies = []",
         'dependencies = ["packaging>=24"]')  # fmt: skip
    nox(locked_project, "-s", "build")
    assert "packaging" in locked_versions(locked_project)
    for wheel in (locked_project / "dist").glob("*.whl"):
        assert wheel_metadata(wheel).get_all("Requires-Dist") == ["packaging>=24"]


def test_a_python_pin_never_moves_a_test_session(locked_project: Path) -> None:
    # `uv python pin` writes .python-version; uv would move the venv to it.
    require_python("3.12")
    (locked_project / ".python-version").write_text("3.12\n")
    for args in (("-s", SESSION), ("-R", "-s", SESSION)):
        result = nox(locked_project, *args)
        assert f"platform {sys.platform} -- Python 3.11." in output(result), output(
            result
        )


def test_a_version_read_from_a_variable_named_in_the_cache_keys_is_rebuilt(
    locked_project: Path,
) -> None:
    # hatchling's env version source reads a variable of the user's: as the
    # comment over [tool.uv] cache-keys says, it goes there too.
    set_hatch_version(locked_project, 'source = "env"\nvariable = "RELEASE_NUMBER"')
    edit(locked_project / "pyproject.toml", "cache-keys = [\n",
         'cache-keys = [\n    { env = "RELEASE_NUMBER" },\n')  # fmt: skip
    (locked_project / "tests" / "test_version.py").write_text(
        "import os\n\nimport my_package\n\n\ndef test_version() -> None:\n"
        "    assert my_package.__version__ == os.environ['RELEASE_NUMBER']\n"
    )
    git_commit_all(locked_project, "Version from the environment")
    for number in ("1.0", "2.0"):
        env = project_env(RELEASE_NUMBER=number)
        assert "test_version.py ." in output(
            nox(locked_project, "-R", "-s", SESSION, env=env)
        )


def test_a_repository_without_a_commit_yet_is_built_and_tested(render) -> None:
    project = render()
    git(project, "init", "--quiet", "--initial-branch=main")
    result = nox(project, "-s", SESSION, check=False)
    assert result.returncode == 0, output(result)
    assert "Traceback" not in output(result)


def test_a_version_tag_beside_another_tag_is_built_and_tested(
    locked_project: Path,
) -> None:
    git(locked_project, "tag", "latest")  # no version: setuptools-scm skips it
    nox(locked_project, "-s", SESSION)
    git(locked_project, "tag", "v3.0.0")
    (locked_project / "tests" / "test_version.py").write_text(
        "import my_package\n\n\ndef test_version() -> None:\n"
        "    assert my_package.__version__ == '3.0.0'\n"
    )
    assert "test_version.py ." in output(nox(locked_project, "-R", "-s", SESSION))


# Files a package ships from odd places: hatchling reads the root .gitignore
# only, ships artifacts, follows links, and force-includes what it is told to.
# Each makes a data file the package ships as my_package/data/x.txt, and
# returns it. The editable loop reads the ones below src/ live; `nox -s build`
# tests the wheel, which holds them all.
def hidden_by_a_nested_gitignore(project: Path) -> Path:
    (project / "src" / "my_package" / "data").mkdir()
    (project / "src" / "my_package" / "data" / ".gitignore").write_text("x.txt\n")
    return project / "src" / "my_package" / "data" / "x.txt"


def hidden_by_git_info_exclude(project: Path) -> Path:
    (project / "src" / "my_package" / "data").mkdir()
    with (project / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("/src/my_package/data/x.txt\n")
    return project / "src" / "my_package" / "data" / "x.txt"


def in_a_linked_folder(project: Path) -> Path:
    (project / "docs" / "data").mkdir()
    (project / "src" / "my_package" / "data").symlink_to("../../docs/data")
    return project / "docs" / "data" / "x.txt"


def in_a_submodule(project: Path) -> Path:
    vendored = project.parent / "vendored"
    vendored.mkdir()
    (vendored / "x.txt").write_text("0\n")
    git_commit_all(vendored, "Data")
    git(project, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet",
        str(vendored), "src/my_package/data")  # fmt: skip
    return project / "src" / "my_package" / "data" / "x.txt"


def ignored_and_shipped_as_an_artifact(project: Path) -> Path:
    # hatchling's way to ship a generated file that git ignores.
    (project / "src" / "my_package" / "data").mkdir()
    with (project / ".gitignore").open("a") as gitignore:
        gitignore.write("/src/my_package/data/\n")
    edit(project / "pyproject.toml", "[tool.hatch.build.targets.wheel]\n",
         '[tool.hatch.build.targets.wheel]\nartifacts = ["/src/my_package/data/"]\n')  # fmt: skip
    return project / "src" / "my_package" / "data" / "x.txt"


def forced_in_from_tests(project: Path) -> Path:
    (project / "tests" / "data").mkdir()
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write(
            "\n[tool.hatch.build.targets.wheel.force-include]\n"
            '"tests/data" = "my_package/data"\n'
        )
    return project / "tests" / "data" / "x.txt"


IN_SRC = (
    hidden_by_a_nested_gitignore,
    hidden_by_git_info_exclude,
    pytest.param(in_a_linked_folder, marks=needs_symlinks),
    in_a_submodule,
    ignored_and_shipped_as_an_artifact,
)
SHIPPED_DATA = (*IN_SRC, forced_in_from_tests)


def name_of(place: Any) -> str:
    return getattr(place, "__name__", None) or place.values[0].__name__


def data_test(project: Path, data: Path) -> None:
    """A test that the installed package's data is the source's, byte for byte."""
    source = data.relative_to(project).as_posix()
    (project / "tests" / "test_data.py").write_text(
        "from importlib.resources import files\nfrom pathlib import Path\n\n\n"
        "def test_data_is_the_source() -> None:\n"
        f"    source = Path(__file__).parents[1] / {source!r}\n"
        "    installed = files('my_package') / 'data' / 'x.txt'\n"
        "    assert installed.read_text() == source.read_text()\n"
    )


@pytest.mark.parametrize("place", IN_SRC, ids=name_of)
def test_an_edit_to_a_file_below_src_is_what_the_loop_tests(
    locked_project: Path, place: Any
) -> None:
    data = place(locked_project)
    data.write_text("0\n")
    data_test(locked_project, data)
    git_commit_all(locked_project, "Data")
    nox(locked_project, "-s", SESSION)
    for edited in ("1\n", "2\n"):
        data.write_text(edited)
        assert "test_data.py ." in output(nox(locked_project, "-R", "-s", SESSION))


# Built from the sdist, as pip builds it: two of these never reach that wheel.
# A linked folder is not a folder in the sdist, and a wheel-only artifact that
# git ignores is not in the sdist at all: `nox -s build` catches both.
LOST_IN_THE_SDIST = {"in_a_linked_folder", "ignored_and_shipped_as_an_artifact"}


@pytest.mark.parametrize("place", SHIPPED_DATA, ids=name_of)
def test_build_tests_the_wheel_users_get_with_every_file_it_ships(
    locked_project: Path, place: Any
) -> None:
    data = place(locked_project)
    data.write_text("shipped\n")
    data_test(locked_project, data)
    git_commit_all(locked_project, "Data")
    result = nox(locked_project, "-s", "build", check=False)
    if name_of(place) in LOST_IN_THE_SDIST:
        assert result.returncode != 0, output(result)
        assert "FAILED ../../../tests/test_data.py::test_data_is_the_source" in output(
            result
        )
        assert "The tests fail on my_package-" in output(result)
        assert not (locked_project / "dist").exists()
    else:
        assert "test_data.py ." in output(result), output(result)


def test_an_unpacked_archive_is_tested_as_it_is(render) -> None:
    # No git here (a downloaded archive): the version is hatch-vcs's fallback.
    project = render()
    lock_project(project)
    (project / "tests" / "test_version.py").write_text(
        "import my_package\n\n\ndef test_version() -> None:\n"
        "    assert my_package.__version__ == '0.0.0'\n"
    )
    assert "test_version.py ." in output(nox(project, "-s", SESSION))


def test_a_wheel_with_files_outside_the_package_is_installed_and_tested(
    locked_project: Path,
) -> None:
    # hatchling's shared-data puts a file in the wheel's .data directory, which
    # the installer moves to the venv's share/: only the wheel has it.
    (locked_project / "share").mkdir()
    (locked_project / "share" / "x.txt").write_text("shared\n")
    with (locked_project / "pyproject.toml").open("a") as pyproject:
        pyproject.write(
            "\n[tool.hatch.build.targets.wheel.shared-data]\n"
            '"share/x.txt" = "share/my_package/x.txt"\n'
        )
    (locked_project / "tests" / "test_shared.py").write_text(
        "import sys\nfrom pathlib import Path\n\nimport pytest\n\n\n"
        "def test_shared() -> None:\n"
        "    shared = Path(sys.prefix, 'share', 'my_package', 'x.txt')\n"
        "    if 'site-packages' not in __import__('my_package').__file__:\n"
        "        pytest.skip('an editable install has no shared data')\n"
        "    assert shared.read_text() == 'shared\\n'\n"
    )
    git_commit_all(locked_project, "Shared data")
    assert "test_shared.py ." in output(nox(locked_project, "-s", "build"))


def test_dependabot_keeps_the_lock_and_the_hooks_fresh_together(render) -> None:
    config = yaml.safe_load((render() / ".github/dependabot.yml").read_text())
    by_ecosystem = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(by_ecosystem) == {"github-actions", "uv", "pre-commit"}
    cooldowns = {e: u["cooldown"] for e, u in by_ecosystem.items()}
    assert len({json.dumps(c, sort_keys=True) for c in cooldowns.values()}) == 1
    # uv.lock and the pre-commit revs in one pull request: they stay the same.
    assert by_ecosystem["uv"]["multi-ecosystem-group"] == "tools"
    assert by_ecosystem["pre-commit"]["multi-ecosystem-group"] == "tools"
    assert "tools" in config["multi-ecosystem-groups"]


# --- missing interpreters, as a user sees them (bare `nox`) -----------------------


def pythons_only(where: Path, *versions: str) -> dict[str, str]:
    """An environment whose PATH holds only these interpreters (and git), so the
    others are missing, as on a user's machine."""
    where.mkdir()
    for version in versions:
        (where / f"python{version}").symlink_to(interpreters()[version])
    git_exe = shutil.which("git")
    assert git_exe
    (where / "git").symlink_to(git_exe)
    return project_env(PATH=str(where), PYENV_ROOT=str(where / "no-pyenv"))


@needs_symlinks
def test_bare_nox_says_which_pythons_were_skipped_and_how_to_get_them(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    result = nox(project, check=False, env=pythons_only(tmp_path / "bin", "3.11"))
    assert result.returncode == 0, output(result)
    assert (
        "Tested on 3.11; not found here, so not tested: 3.12, 3.13, 3.14, 3.15, "
        "3.14t, 3.15t (CI tests every one). Get them with: uv python install "
        "3.12 3.13 3.14 3.15 3.14t 3.15t"
    ) in output(result), output(result)
    assert "Downloading" not in output(result)  # never tried: seconds each offline


@pytest.mark.parametrize("ci", ["false", "0", ""])
@needs_symlinks
def test_ci_set_to_false_skips_missing_pythons_as_anywhere_else(
    committed_project, tmp_path: Path, ci: str
) -> None:
    project = committed_project()
    env = pythons_only(tmp_path / "bin", "3.11") | {"CI": ci}
    result = nox(project, check=False, env=env)  # a bare nox
    assert result.returncode == 0, output(result)
    assert "* test-3.12: skipped" in output(result)
    assert "Tested on 3.11; not found here, so not tested: 3.12" in output(result)


@needs_symlinks
def test_a_session_asked_for_by_name_fails_when_its_python_is_missing(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    env = pythons_only(tmp_path / "bin", "3.11")
    for asked in (
        ["-s", "test-3.12"],
        ["-s", SESSION, "test-3.12"],
        ["-t", "ci-every-os"],
    ):
        result = nox(project, *asked, check=False, env=env)
        assert result.returncode != 0, output(result)
        assert "Python interpreter 3.12 not found" in output(result)


@needs_symlinks
def test_an_unselected_pyenv_python_is_found_and_tested(
    committed_project, tmp_path: Path
) -> None:
    # pyenv's shim of a version it has not selected fails; the project finds
    # the version in pyenv's versions directory, as this suite does.
    python = require_python("3.12")
    pyenv = tmp_path / "pyenv"
    (pyenv / "versions" / "3.12.99" / "bin").mkdir(parents=True)
    (pyenv / "versions" / "3.12.99" / "bin" / "python3.12").symlink_to(python)
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "python3.12").write_text(
        "#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n"
    )
    (shims / "python3.12").chmod(0o755)
    project = committed_project()
    env = pythons_only(tmp_path / "bin", "3.11")
    env |= {"PATH": f"{shims}{os.pathsep}{env['PATH']}", "PYENV_ROOT": str(pyenv)}
    result = nox(project, "-s", "test-3.12", env=env)
    assert f"platform {sys.platform} -- Python 3.12." in output(result), output(result)


@needs_symlinks
def test_ci_fails_a_session_whose_python_is_missing(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project()
    env = pythons_only(tmp_path / "bin", "3.11") | {"CI": "true"}
    result = nox(project, "-s", "test-3.12", check=False, env=env)
    assert result.returncode != 0
    missing = "Session test-3.12 failed: Python interpreter 3.12 not found"
    assert missing in output(result)


@needs_symlinks
def test_bare_nox_where_no_test_ran_is_a_failure(
    committed_project, tmp_path: Path
) -> None:
    # Only 3.11 here, and the project needs 3.15: every session that needs a
    # supported Python fails or is skipped, and the run says so, failing. No
    # lock: making one needs a 3.15, which this machine may not have at all.
    project = committed_project(min_python="3.15", lock=False)
    result = nox(project, check=False, env=pythons_only(tmp_path / "bin", "3.11"))
    assert result.returncode != 0
    assert (
        "No test session ran: no Python 3.15, 3.15t here. Get them with: "
        "uv python install 3.15 3.15t"
    ) in output(result), output(result)
    assert "* pythons: aborted" in output(result)
    # ...and the tool sessions say why they cannot run (uv's own words).
    assert "No interpreter found for Python >=3.15" in output(result)


@needs_symlinks
def test_pythons_never_calls_a_python_here_missing(
    committed_project, tmp_path: Path
) -> None:
    # 3.12 is here, but this run leaves it out (as `nox -s pythons` alone, or
    # `nox --force-python`, leaves out all of them): it is not missing.
    require_python("3.12")
    project = committed_project()
    env = pythons_only(tmp_path / "bin", "3.11", "3.12")
    get_them = "Get them with: uv python install 3.13 3.14 3.15 3.14t 3.15t"
    result = nox(project, "-s", SESSION, "pythons", env=env)
    assert (
        "Tested on 3.11; not found here, so not tested: 3.13, 3.14, 3.15, 3.14t, "
        f"3.15t (CI tests every one). {get_them}; not run this time: 3.12"
    ) in output(result), output(result)
    alone = nox(project, "-s", "pythons", check=False, env=env)
    assert alone.returncode != 0
    assert (
        "No test session ran: no Python 3.13, 3.14, 3.15, 3.14t, 3.15t here. "
        f"{get_them}; not run this time: 3.11, 3.12"
    ) in output(alone), output(alone)


# --- a rerun that would change nothing skips the sync and the install ----------


def test_a_rerun_resyncs_a_venv_changed_behind_its_back(locked_project: Path) -> None:
    nox(locked_project, "-s", SESSION)
    venv = locked_project / ".nox" / "test-3-11"
    pinned = venv_versions(venv)["pytest"]
    uv_pip = (sys.executable, "-m", "uv", "pip", "install", "--python", venv)
    run(*uv_pip, "six", "pytest==8.4.2", cwd=locked_project, env=project_env())
    nox(locked_project, "-R", "-s", SESSION)
    assert "six" not in venv_versions(venv)
    assert venv_versions(venv)["pytest"] == pinned


def test_ci_syncs_locked_on_every_run(locked_project: Path) -> None:
    nox(locked_project, "-s", SESSION, env=ci_env())
    result = nox(locked_project, "-R", "-s", SESSION, env=ci_env())
    assert "uv sync --no-default-groups --group=test" in output(result)
    assert "--locked" in output(result)
