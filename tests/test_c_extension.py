"""The C-extension variant end to end: build hook, sessions, wheels, cibuildwheel."""

from __future__ import annotations

import re
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from helpers import (
    git_commit_all,
    linux_only,
    nox,
    project_env,
    require_python,
    run,
    tool,
    venv_python,
)

pytestmark = pytest.mark.e2e

CORE_C = Path("src/my_package/_core.c")


def uv(*args: str | Path, cwd: Path) -> str:
    return run(sys.executable, "-m", "uv", *args, cwd=cwd).stdout


def fresh_venv(where: Path, python: str = "3.11") -> Path:
    """A new virtualenv with pip; returns its python."""
    venv = where / "venv"
    uv("venv", "--quiet", "--seed", "--python", require_python(python), venv, cwd=where)
    return venv_python(venv)


def host_wheel(project: Path, out: Path, python: str = "3.11") -> Path:
    """Build this machine's wheel, as `pip install .` would."""
    uv("build", "--wheel", "--quiet", "--python", require_python(python),
       "--out-dir", out, cwd=project)  # fmt: skip
    (wheel,) = out.glob("*.whl")
    return wheel


# Every interpreter's test session: test_interpreters.py.
@pytest.mark.parametrize("limited_api", [False, True], ids=["cp", "abi3"])
def test_sessions_pass_in_a_fresh_c_project(
    committed_project, limited_api: bool
) -> None:
    project = committed_project(variant="c-extension", limited_api=limited_api)
    result = nox(project, "-s", "lint", "test-3.11", "typecheck", "build")
    output = result.stdout + result.stderr
    assert "python -m mypy.stubtest my_package._core" in output
    assert "Success: no issues found in 1 module" in output
    # Only the sdist lands in dist/: a host wheel (linux_x86_64, say) is for
    # this machine; the wheels to publish come from cibuildwheel.
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        "manifest-build.json",
        "my_package-0.0.1.dev1.tar.gz",
    ]
    tag = "cp311-abi3" if limited_api else "cp311-cp311"
    assert re.search(rf"my_package-0\.0\.1\.dev1-{tag}-\S+\.whl: OK", output), output


@pytest.mark.parametrize("limited_api", [False, True], ids=["cp", "abi3"])
def test_wheel_is_tagged_and_holds_the_module_not_the_source(
    committed_project, tmp_path: Path, limited_api: bool
) -> None:
    project = committed_project(
        variant="c-extension", limited_api=limited_api, min_python="3.11"
    )
    wheel = host_wheel(project, tmp_path / "wheel", python="3.12")
    tag = "cp311-abi3" if limited_api else "cp312-cp312"
    assert f"-{tag}-" in wheel.name, wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    # The file name the building Python gives an extension: version-specific
    # (_core.cpython-312-x86_64-linux-gnu.so), or abi3's (_core.abi3.so; on
    # Windows every extension is a plain .pyd).
    suffixes = run(require_python("3.12"), "-c", "import importlib.machinery as m;"
                   " print(*m.EXTENSION_SUFFIXES)", cwd=tmp_path).stdout.split()  # fmt: skip
    abi3 = ".abi3.so" if ".abi3.so" in suffixes else ".pyd"
    suffix = abi3 if limited_api else suffixes[0]
    assert f"my_package/_core{suffix}" in names, names
    assert {"my_package/_core.pyi", "my_package/py.typed"} <= set(names)
    assert not [n for n in names if n.endswith((".c", ".h"))]
    assert (
        "Root-Is-Purelib: false"
        in zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/WHEEL")))
        .decode()
    )


def test_sdist_has_the_sources_and_no_build_products(
    committed_project, tmp_path: Path
) -> None:
    project = committed_project(variant="c-extension")
    # A stale in-place build (from an editable install) must not leak into the sdist.
    (project / "src/my_package/_core.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    uv("build", "--sdist", "--quiet", "--out-dir", tmp_path, cwd=project)
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"src/my_package/_core.c", "src/my_package/_core.pyi", "hatch_build.py",
            "src/my_package/py.typed", "pyproject.toml"} <= names  # fmt: skip
    assert not [n for n in names if n.endswith((".so", ".o", ".pyd"))]


def test_wheel_built_from_the_sdist_works(committed_project, tmp_path: Path) -> None:
    project = committed_project(variant="c-extension")
    uv("build", "--sdist", "--quiet", "--out-dir", tmp_path / "sdist", cwd=project)
    (sdist,) = (tmp_path / "sdist").glob("*.tar.gz")
    python = fresh_venv(tmp_path)
    # What a user without a matching wheel gets: pip compiles the sdist.
    run(python, "-m", "pip", "install", "--quiet", sdist, "pytest", cwd=tmp_path)
    run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        project / "tests", cwd=tmp_path)  # fmt: skip


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_editable_install_imports_the_compiled_extension(
    committed_project, tmp_path: Path, installer: str
) -> None:
    project = committed_project(variant="c-extension")
    python = fresh_venv(tmp_path)
    if installer == "pip":
        run(python, "-m", "pip", "install", "--quiet", "-e", project, cwd=tmp_path)
    else:
        uv("pip", "install", "--quiet", "--python", python, "-e", project, cwd=tmp_path)
    where = run(python, "-c", "import my_package._core as c; print(c.__file__); "
                "print(c.adler32(b'Wikipedia'))", cwd=tmp_path).stdout.split()  # fmt: skip
    assert where[0].startswith(str(project / "src" / "my_package" / "_core."))
    assert where[0].endswith(".so")
    assert where[1] == "300286872"


def test_a_broken_c_file_fails_the_build_with_the_compilers_message(
    committed_project,
) -> None:
    project = committed_project(variant="c-extension")
    core = project / CORE_C
    core.write_text(
        core.read_text().replace("return (b << 16) | a;", "return (b << 16) | a")
    )
    result = nox(project, "-s", "test-3.11", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "_core.c:" in output, output
    assert "error: expected" in output
    assert "error: could not compile my_package._core" in output
    assert "Traceback" not in output
    assert "Session test-3.11 failed" in output


def test_reused_venv_tests_the_edited_c_code(committed_project) -> None:
    project = committed_project(variant="c-extension")
    nox(project, "-s", "test-3.11")
    core = project / CORE_C
    core.write_text(core.read_text().replace(
        "return PyFloat_FromDouble(x < lo ? lo : (x > hi ? hi : x));",
        "return PyFloat_FromDouble(42.0);",
    ))  # fmt: skip
    result = nox(project, "-R", "-s", "test-3.11", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "assert 42.0 == " in output


@pytest.mark.parametrize(
    ("min_python", "limited_api", "expected"),
    [
        (
            "3.11",
            False,
            {"cp311", "cp312", "cp313", "cp314", "cp315", "cp314t", "cp315t"},
        ),
        ("3.12", True, {"cp312", "cp314t", "cp315t"}),
    ],
)
def test_cibuildwheel_builds_the_expected_identifiers(
    render, min_python: str, limited_api: bool, expected: set[str]
) -> None:
    project = render(
        variant="c-extension", min_python=min_python, limited_api=limited_api
    )
    output = run(tool("cibuildwheel"), "--print-build-identifiers", "--platform",
                 "linux", cwd=project).stdout  # fmt: skip
    identifiers = set(output.split())
    pythons = {i.split("-")[0] for i in identifiers}
    # cibuildwheel may also know newer CPythons than this template lists (3.15+),
    # which a project gets wheels for too; older ones than min_python never.
    assert expected <= pythons, pythons
    oldest = int(min_python.split(".")[1])
    assert all(int(p[3:].rstrip("t")) >= oldest for p in pythons), pythons
    if limited_api:  # one abi3 build; free-threaded Pythons cannot load abi3
        assert {p for p in pythons if not p.endswith("t")} == {f"cp3{oldest}"}
    assert {"manylinux_x86_64", "musllinux_x86_64"} <= {
        i.split("-", 1)[1] for i in identifiers
    }


@linux_only
def test_wheels_session_stops_at_once_without_a_container_engine(
    committed_project,
) -> None:
    project = committed_project(variant="c-extension")
    env = project_env(CIBW_CONTAINER_ENGINE="docker-that-is-not-here")
    result = nox(project, "-s", "wheels", check=False, env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert ("cibuildwheel builds Linux wheels in containers, and "
            "docker-that-is-not-here is not installed or not running here") in output  # fmt: skip
    assert "`nox -s build` tests a wheel.\n" in output  # one period: nox adds it
    assert "Traceback" not in output
    assert not (project / "dist").exists()


@pytest.mark.parametrize("limited_api", [False, True], ids=["cp", "abi3"])
@linux_only
def test_repaired_host_wheel_installs_and_passes_the_tests(
    committed_project, tmp_path: Path, limited_api: bool
) -> None:
    project = committed_project(variant="c-extension", limited_api=limited_api)
    wheel = host_wheel(project, tmp_path / "wheel")
    # A plain gcc build of this small module needs no libc symbol versions, so
    # auditwheel cannot infer the policy from it: name the oldest one.
    run(tool("auditwheel"), "repair", "--plat", "manylinux_2_17_x86_64",
        "--wheel-dir", tmp_path / "repaired", wheel, cwd=tmp_path)  # fmt: skip
    (repaired,) = (tmp_path / "repaired").glob("*.whl")
    assert "manylinux_2_17_x86_64" in repaired.name
    assert ("-cp311-abi3-" if limited_api else "-cp311-cp311-") in repaired.name
    if limited_api:
        report = run(tool("abi3audit"), "--strict", "--verbose", repaired, cwd=tmp_path)
        assert "0 ABI violations found" in report.stdout + report.stderr
    python = fresh_venv(tmp_path, "3.12" if limited_api else "3.11")
    run(python, "-m", "pip", "install", "--quiet", repaired, "pytest", cwd=tmp_path)
    shutil.copytree(project / "tests", tmp_path / "tests")
    shutil.copy(project / "pyproject.toml", tmp_path)
    run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=tmp_path)


@linux_only
def test_template_wheels_session_renders_the_c_variant_and_runs_its_wheels(
    template_snapshot: Path, tmp_path: Path
) -> None:
    # The template's own `wheels` CI job: here, with no container engine, it must
    # end with the generated project's clear message, not a traceback.
    repo = tmp_path / "wheelwright"
    shutil.copytree(template_snapshot, repo)
    git_commit_all(repo, "template")
    env = project_env(CIBW_CONTAINER_ENGINE="docker-that-is-not-here")
    result = nox(repo, "-s", "wheels", check=False, env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "copier copy --defaults --vcs-ref=HEAD --data variant=c-extension" in output
    assert "docker-that-is-not-here is not installed or not running here" in output
    assert "Traceback" not in output


def test_a_stub_that_differs_from_the_module_names_the_stub_file(
    committed_project,
) -> None:
    project = committed_project(variant="c-extension")
    stub = project / "src" / "my_package" / "_core.pyi"
    # A name the stub promises and the module lacks: mypy is content, stubtest not.
    stub.write_text(stub.read_text() + "\n\ndef crc32(data: bytes, /) -> int: ...\n")
    result = nox(project, "-s", "typecheck", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "my_package._core.crc32 is not present at runtime" in output, output
    assert "src/my_package/_core.pyi:" in output, output
