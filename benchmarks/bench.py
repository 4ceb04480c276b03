"""Time to green: how long a wheelwright project takes from `copier copy` to tests.

Renders each variant of the template, then times, as a median of N runs after
one warm-up run (so the uv cache is warm and nothing is downloaded):

* `copier copy` of a default project: the API call in this process (imports
  already paid) and the CLI in a new process (what a user types);
* the generated `test-<python>` session cold (no .nox) and warm (`nox -R`
  after a source edit), against a bare baseline in the same project: cold =
  `uv venv` + `uv pip install . --group test` + `pytest`, warm = `pytest` alone;
* `nox -s build`, `uv build --wheel`, and for the C variants the compile alone
  (setuptools' build_ext of `_core.c`, outside any build frontend).

Writes a table to stdout, benchmarks/results/latest.json (every sample) and
benchmarks/results/latest.png. Run it with `nox -s bench` from the repository
root; `nox -s bench -- --help` lists the options.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import copier
from copier.errors import DirtyLocalWarning

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "wheelwright bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "wheelwright bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


@dataclass(frozen=True)
class Variant:
    name: str
    answers: Mapping[str, Any]

    @property
    def is_c(self) -> bool:
        return bool(self.answers["variant"] == "c-extension")


VARIANTS = {
    v.name: v
    for v in (
        Variant("pure", {"variant": "pure"}),
        Variant("c", {"variant": "c-extension", "limited_api": False}),
        Variant("c-abi3", {"variant": "c-extension", "limited_api": True}),
    )
}

# What each measure times, as printed and stored (key: label).
LABEL_TEMPLATES = {
    "copier_api": "copier copy: run_copy() API call, in-process",
    "copier_cli": "copier copy: CLI, new process",
    "nox_cold": "nox -s test-{python}, no .nox",
    "nox_warm": "nox -R -s test-{python} after a source edit",
    "bare_cold": "bare: uv venv + uv pip install . --group test + pytest",
    "bare_warm": "bare: pytest alone in the ready venv",
    "bare_rebuild": "bare: uv pip install --reinstall-package + pytest (info)",
    "nox_build": "nox -s build (its venv reused, as the noxfile does)",
    "uv_build": "uv build --wheel (build frontend + hook + compile)",
    "compile": "compile alone: setuptools build_ext of _core.c",
}


# Set in some containers, unusual on developer machines and CI runners: every
# Python process then recompiles all it imports (pytest, coverage, nox,
# hatchling), which taxes the multi-process nox session far more than a bare
# `pytest`, so it would skew the ratios. Its removal is recorded in the JSON.
REMOVED_ENV = {"PYTHONDONTWRITEBYTECODE"}


class CommandFailed(Exception):
    """A timed command exited non-zero: its timing would be meaningless."""


class VariantMissing(Exception):
    """The template cannot render this variant (yet)."""


@dataclass
class Measure:
    samples: list[float] = field(default_factory=list)
    warmup: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class VariantResult:
    variant: Variant
    status: str = "ok"  # ok, skipped or failed
    note: str = ""
    measures: dict[str, Measure] = field(default_factory=dict)
    # Other work on the machine inflates timings: say how busy it was.
    load_before: float | None = None
    load_after: float | None = None

    def median(self, key: str) -> float | None:
        measure = self.measures.get(key)
        return measure.median if measure and measure.samples else None

    def ratio(self, nox_key: str, bare_key: str) -> float | None:
        nox_time, bare_time = self.median(nox_key), self.median(bare_key)
        return nox_time / bare_time if nox_time and bare_time else None


@dataclass(frozen=True)
class Target:
    variant: str
    text: str
    value: float
    limit: float
    inclusive: bool

    @property
    def passed(self) -> bool:
        return self.value <= self.limit if self.inclusive else self.value < self.limit


def clean_env() -> dict[str, str]:
    """This process's environment minus what would leak the bench session's
    virtualenv or nox/pytest/coverage settings into the projects' commands.

    nox points UV_PYTHON and UV_PROJECT_ENVIRONMENT at the bench session's venv,
    and UV_PYTHON beats VIRTUAL_ENV: left in, the bare baseline would install
    into the wrong environment. PYTHONDONTWRITEBYTECODE goes too (see
    REMOVED_ENV).
    """
    leaks = {"VIRTUAL_ENV", "CONDA_PREFIX", "CI", "GITHUB_ACTIONS", "PYTHONPATH"}
    leaks |= {"UV_PYTHON", "UV_PROJECT_ENVIRONMENT", "UV_SYSTEM_PYTHON"}
    leaks |= REMOVED_ENV
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in leaks and not key.startswith(("NOX_", "PYTEST_", "COVERAGE_"))
    }
    return env | GIT_IDENTITY | {"NO_COLOR": "1"}


class Runner:
    """Runs commands in one environment, failing loudly with their output."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def __call__(
        self, *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None
    ) -> str:
        result = subprocess.run(
            [str(arg) for arg in args],
            cwd=cwd,
            env=self.env | dict(env or {}),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip().splitlines()
            tail = "\n    ".join(output[-25:])
            raise CommandFailed(
                f"`{' '.join(map(str, args))}` exited {result.returncode} in {cwd}:"
                f"\n    {tail}"
            )
        return result.stdout


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def find_python(version: str) -> Path:
    """The interpreter nox's `test-<version>` would pick: `python<version>` on PATH.

    The bare baseline gets the same absolute path, so both sides run the same
    Python and uv never goes looking for (or downloading) another one.
    """
    found = shutil.which(f"python{version}")
    if found is None or subprocess.run([found, "-c", ""], check=False).returncode:
        sys.exit(
            f"python{version} is not on PATH (or does not run): put a directory "
            f"holding it on PATH, or pick another one with --python."
        )
    return Path(found)


def find_uv() -> Path:
    """The uv that nox uses too: the one installed beside nox, else PATH's."""
    try:
        from uv import find_uv_bin
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            sys.exit("uv is neither installed beside this Python nor on PATH.")
        return Path(found)
    return Path(find_uv_bin())


def render(destination: Path, variant: Variant) -> dict[str, Any]:
    """Render the template at HEAD (plus uncommitted changes, as copier does
    for a dirty local template) with the variant's answers, defaults for the rest.

    Returns every answer, the defaults included.
    """
    with warnings.catch_warnings():
        # Said once, in the JSON's "template" entry, rather than at every render.
        warnings.simplefilter("ignore", DirtyLocalWarning)
        worker = copier.run_copy(
            str(ROOT),
            destination,
            data=dict(variant.answers),
            defaults=True,
            quiet=True,
            vcs_ref="HEAD",
        )
    return dict(worker.answers.combined)


class Bench:
    """One variant's rendered project and the commands timed in it."""

    def __init__(
        self, variant: Variant, workdir: Path, python: str, python_exe: Path, uv: Path
    ) -> None:
        self.variant = variant
        self.workdir = workdir
        self.project = workdir / "project"
        self.python = python
        self.python_exe = python_exe
        self.uv = uv
        self.run = Runner(clean_env())
        self.edits = 0

    def setup(self) -> None:
        try:
            answers = render(self.project, self.variant)
        except ValueError as error:  # how copier refuses an answer
            raise VariantMissing(f"copier refused the answers: {error}") from error
        self.module = str(answers["module_name"])
        self.name = str(answers["project_name"])
        self.min_python = str(answers["min_python"])
        self.core_c = self.project / "src" / self.module / "_core.c"
        if self.variant.is_c and not self.core_c.is_file():
            # Copier already knew the question before the C sources landed.
            raise VariantMissing(
                "copier accepted the answers but rendered no "
                f"src/{self.module}/_core.c: the C variant is not in the template yet"
            )
        # hatch-vcs takes the version from git, so the project must be a repository.
        for git_args in (
            ("init", "--quiet", "--initial-branch=main"),
            ("add", "--all"),
            ("commit", "--quiet", "--message=bench"),
        ):
            self.run("git", *git_args, cwd=self.project)
        if self.variant.is_c:
            # A throwaway venv with setuptools for the compile-alone measure.
            self.helper = self.workdir / "helper-venv"
            self.uv_venv(self.helper)
            self.uv_pip("install", "setuptools>=77", venv=self.helper)

    # Commands -------------------------------------------------------------

    def nox(self, *args: str) -> None:
        # The nox of this environment, as `nox -s bench` installed it.
        self.run(sys.executable, "-m", "nox", *args, cwd=self.project)

    def uv_venv(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)
        python = ("--python", self.python_exe)
        self.run(self.uv, "venv", "--quiet", *python, path, cwd=self.project)

    def uv_pip(self, command: str, *args: str, venv: Path) -> None:
        python = venv / "bin" / "python"
        self.run(self.uv, "pip", command, "--python", python, *args, cwd=self.project)

    def edit_sources(self) -> None:
        """Change what the tests exercise, the way a developer does: append a
        comment, so a stale install would be a real (if harmless) staleness."""
        self.edits += 1
        sources = [self.project / "src" / self.module / "text.py"]
        comment = "# bench edit {}\n"
        if self.variant.is_c:
            # In the C variants the compiled file is the one worth touching.
            sources = [self.core_c]
            comment = "/* bench edit {} */\n"
        for source in sources:
            with source.open("a") as file:
                file.write(comment.format(self.edits))

    # Measures -------------------------------------------------------------

    def copier_api(self) -> float:
        destination = self.workdir / "copy-api"
        shutil.rmtree(destination, ignore_errors=True)
        return timed(lambda: render(destination, self.variant))

    def copier_cli(self) -> float:
        destination = self.workdir / "copy-cli"
        shutil.rmtree(destination, ignore_errors=True)
        data = [f"--data={key}={value}" for key, value in self.variant.answers.items()]
        # `python -m copier` is the `copier` command, found without guessing
        # where this environment keeps its scripts.
        args: list[str | Path] = [sys.executable, "-m", "copier", "copy", "--quiet"]
        args += ["--defaults", "--vcs-ref=HEAD", *data, ROOT, destination]
        return timed(lambda: self.run(*args, cwd=self.workdir))

    def nox_cold(self) -> float:
        shutil.rmtree(self.project / ".nox", ignore_errors=True)
        return timed(lambda: self.nox("-s", f"test-{self.python}"))

    def nox_warm(self) -> float:
        self.edit_sources()
        return timed(lambda: self.nox("-R", "-s", f"test-{self.python}"))

    @property
    def venv(self) -> Path:
        return self.project / ".venv"

    def pytest(self) -> None:
        self.run(self.venv / "bin" / "pytest", "--quiet", cwd=self.project)

    def bare_cold(self) -> float:
        shutil.rmtree(self.venv, ignore_errors=True)

        def steps() -> None:
            self.uv_venv(self.venv)
            self.uv_pip("install", ".", "--group", "test", venv=self.venv)
            self.pytest()

        return timed(steps)

    def bare_warm(self) -> float:
        self.edit_sources()
        return timed(self.pytest)

    def bare_rebuild(self) -> float:
        """Not a target: the bare floor of what `nox -R` has to do so that it
        never tests a stale build (rebuild and reinstall, then test)."""
        self.edit_sources()

        def steps() -> None:
            args = ("install", "--reinstall-package", self.name, ".")
            self.uv_pip(*args, venv=self.venv)
            self.pytest()

        return timed(steps)

    def nox_build(self) -> float:
        return timed(lambda: self.nox("-s", "build"))

    def uv_build(self) -> float:
        out = self.workdir / "wheelhouse"
        shutil.rmtree(out, ignore_errors=True)
        build = (self.uv, "build", "--quiet", "--wheel", "--out-dir", out)
        return timed(lambda: self.run(*build, cwd=self.project))

    def compile(self) -> float:
        """setuptools' build_ext on _core.c alone, forced: the compiler's share
        of a build, without build frontends, isolation or hatchling."""
        build = self.workdir / "build-ext"
        shutil.rmtree(build, ignore_errors=True)
        major, minor = map(int, self.min_python.split("."))
        limited = bool(self.variant.answers.get("limited_api"))
        script = COMPILE_SCRIPT.format(
            name=f"{self.module}._core",
            source=str(self.core_c),
            build=str(build),
            limited=limited,
            hex_version=f"0x{major:02X}{minor:02X}0000",
        )
        python = self.helper / "bin" / "python"
        return timed(lambda: self.run(python, "-c", script, cwd=self.workdir))

    def measures(self) -> dict[str, Callable[[], float]]:
        # Round-robin order: each round runs every measure once, so slow drifts
        # of the machine spread over all of them instead of skewing one.
        order = [
            self.copier_api,
            self.copier_cli,
            self.nox_cold,
            self.nox_warm,
            self.bare_cold,
            self.bare_warm,
            self.bare_rebuild,
            self.nox_build,
            self.uv_build,
        ]
        if self.variant.is_c:
            order.append(self.compile)
        return {method.__name__: method for method in order}


# The same build_ext call, flags and macros as the template's hatch_build.py.
COMPILE_SCRIPT = """\
from setuptools import Distribution, Extension
from setuptools.command.build_ext import build_ext

macros = [("Py_LIMITED_API", {hex_version!r})] if {limited!r} else []
extension = Extension(
    {name!r}, [{source!r}], py_limited_api={limited!r}, define_macros=macros
)
command = build_ext(Distribution({{"ext_modules": [extension]}}))
command.build_lib = command.build_temp = {build!r}
command.force = True
command.ensure_finalized()
command.run()
"""


def bench_variant(
    variant: Variant, workroot: Path, args: argparse.Namespace, uv: Path
) -> VariantResult:
    result = VariantResult(variant)
    bench = Bench(variant, workroot / variant.name, args.python, args.python_exe, uv)
    try:
        bench.setup()
    except VariantMissing as error:
        result.status, result.note = "skipped", str(error)
        print(f"[{variant.name}] SKIPPED: {error}", file=sys.stderr)
        return result
    measures = bench.measures()
    result.measures = {key: Measure() for key in measures}
    result.load_before = load_average()
    if result.load_before is not None and result.load_before > (os.cpu_count() or 1):
        print(
            f"[{variant.name}] note: load average {result.load_before:.1f} on "
            f"{os.cpu_count()} CPUs: something else is running, timings will suffer",
            file=sys.stderr,
        )
    started = time.perf_counter()
    try:
        for run in range(args.runs + 1):  # run 0 is the warm-up
            if run == 1 and args.offline:
                # The warm-up filled uv's cache: from now on uv may not ask the
                # index whether its cached pages are still current.
                bench.run.env["UV_OFFLINE"] = "1"
            for key, measure in measures.items():
                seconds = measure()
                if run == 0:
                    result.measures[key].warmup = seconds
                else:
                    result.measures[key].samples.append(seconds)
            elapsed = time.perf_counter() - started
            what = "warm-up" if run == 0 else f"run {run}/{args.runs}"
            print(f"[{variant.name}] {what} done ({elapsed:.0f} s)", file=sys.stderr)
    except CommandFailed as error:
        result.status, result.note = "failed", str(error)
        print(f"[{variant.name}] FAILED: {error}", file=sys.stderr)
    result.load_after = load_average()
    return result


def load_average() -> float | None:
    """The 1-minute load average, where the platform has one."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def targets(results: Sequence[VariantResult]) -> list[Target]:
    """The issue's targets, for each variant that has the figures."""
    found = []
    for result in results:
        if result.status != "ok":
            continue
        name = result.variant.name
        nox_cold, bare_cold = result.median("nox_cold"), result.median("bare_cold")
        nox_warm, bare_warm = result.median("nox_warm"), result.median("bare_warm")
        if result.variant.is_c and nox_cold is not None:
            found.append(Target(name, "cold nox test < 6 s", nox_cold, 6.0, False))
        elif nox_cold is not None and bare_cold is not None:
            limit = 1.15 * bare_cold
            text = "cold nox test <= 1.15 x bare cold"
            found.append(Target(name, text, nox_cold, limit, True))
        if nox_warm is not None and bare_warm is not None:
            limit = 1.3 * bare_warm
            text = "warm nox test <= 1.3 x bare warm"
            found.append(Target(name, text, nox_warm, limit, True))
        for key, how in (("copier_api", "API"), ("copier_cli", "CLI")):
            if (copy_time := result.median(key)) is not None:
                text = f"copier copy ({how}) < 1 s"
                found.append(Target(name, text, copy_time, 1.0, False))
    return found


def labels(python: str) -> dict[str, str]:
    return {key: text.format(python=python) for key, text in LABEL_TEMPLATES.items()}


def report(
    results: Sequence[VariantResult],
    found: Sequence[Target],
    args: argparse.Namespace,
    label: Mapping[str, str],
) -> None:
    print(
        f"\nTime to green: median [min - max] of {args.runs} runs after a warm-up, "
        f"seconds; Python {args.python} ({args.python_exe})"
    )
    notes = []
    if args.offline:
        notes.append("uv ran with UV_OFFLINE=1 after the warm-up")
    if removed := sorted(key for key in REMOVED_ENV if key in os.environ):
        notes.append(f"removed from the commands' environment: {', '.join(removed)}")
    if template_state()["dirty"]:
        notes.append("the template has uncommitted changes (copier commits them first)")
    for note in notes:
        print(f"Note: {note}")
    for result in results:
        print(f"\n{result.variant.name}  {dict(result.variant.answers)}")
        if result.status != "ok":
            print(f"  {result.status.upper()}: {result.note}")
            if result.status == "skipped":
                continue
        for key, measure in result.measures.items():
            if not measure.samples:
                continue
            spread = f"[{min(measure.samples):.2f} - {max(measure.samples):.2f}]"
            print(f"  {label[key]:<60} {measure.median:6.2f}  {spread}")
        for kind in ("cold", "warm"):
            ratio = result.ratio(f"nox_{kind}", f"bare_{kind}")
            if ratio is not None:
                print(f"  {'ratio nox / bare, ' + kind:<60} {ratio:6.2f}x")
    print("\nTargets")
    for target in found:
        verdict = "PASS" if target.passed else "MISS"
        print(
            f"  {verdict}  {target.variant:<7} {target.text:<36}"
            f"{target.value:6.2f} s (limit {target.limit:.2f} s)"
        )


def tool_version(*command: str | Path) -> str:
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or result.stderr.strip()


BASE_PYTHON = "import sys, platform; print(platform.python_version(), sys.base_prefix)"


def template_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        return tool_version("git", "-C", ROOT, *args)

    return {
        "commit": git("rev-parse", "HEAD"),
        # A dirty template makes copier commit the working tree into its clone
        # first, which the copier timings then include.
        "dirty": bool(git("status", "--porcelain")),
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
    }


def save_json(
    path: Path,
    results: Sequence[VariantResult],
    found: Sequence[Target],
    args: argparse.Namespace,
    uv: Path,
    label: Mapping[str, str],
) -> None:
    data = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": {
            "uv": tool_version(uv, "--version"),
            "nox": importlib.metadata.version("nox"),
            "copier": importlib.metadata.version("copier"),
            "git": tool_version("git", "--version"),
            "bench_python": platform.python_version(),
            # The python3.X on PATH may be a venv's (nox puts the bench session's
            # first): its base installation is the interpreter really timed.
            "test_python": tool_version(args.python_exe, "-c", BASE_PYTHON),
        },
        "template": template_state(),
        "options": {
            "runs": args.runs,
            "warmup_runs": 1,
            "offline": args.offline,
            "python": args.python,
            "python_exe": str(args.python_exe),
            "uv_cache": tool_version(uv, "cache", "dir"),
            "removed_env": sorted(key for key in REMOVED_ENV if key in os.environ),
        },
        "labels": label,
        "variants": {
            result.variant.name: {
                "answers": dict(result.variant.answers),
                "status": result.status,
                "note": result.note,
                "measures": {
                    key: {
                        "label": label[key],
                        "warmup": measure.warmup,
                        "samples": measure.samples,
                        "median": measure.median if measure.samples else None,
                    }
                    for key, measure in result.measures.items()
                },
                "load_average": {
                    "before": result.load_before,
                    "after": result.load_after,
                },
                "ratios": {
                    kind: result.ratio(f"nox_{kind}", f"bare_{kind}")
                    for kind in ("cold", "warm")
                },
            }
            for result in results
        },
        "targets": [
            {
                "variant": t.variant,
                "target": t.text,
                "value": t.value,
                "limit": t.limit,
                "pass": t.passed,
            }
            for t in found
        ],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


# Tick labels for the chart, where the table's labels would not fit.
SHORT_LABELS = {
    "copier_api": "copier\nAPI",
    "copier_cli": "copier\nCLI",
    "nox_cold": "nox test\ncold",
    "nox_warm": "nox -R test\nwarm",
    "bare_cold": "bare\ncold",
    "bare_warm": "bare\nwarm",
    "bare_rebuild": "bare\nrebuild",
    "nox_build": "nox -s\nbuild",
    "uv_build": "uv build\n--wheel",
    "compile": "compile\nalone",
}


def save_chart(path: Path, results: Sequence[VariantResult], python: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on CI or over SSH
    import matplotlib.pyplot as plt

    shown = [r for r in results if r.status == "ok"]
    keys = [k for k in SHORT_LABELS if any(r.median(k) for r in shown)]
    figure, axes = plt.subplots(figsize=(10, 4.2))
    width = 0.8 / max(len(shown), 1)
    for index, result in enumerate(shown):
        medians = [result.median(key) for key in keys]
        ratios = ", ".join(
            f"{kind} {ratio:.2f}x"
            for kind in ("cold", "warm")
            if (ratio := result.ratio(f"nox_{kind}", f"bare_{kind}"))
        )
        bars = axes.bar(
            [k + (index - (len(shown) - 1) / 2) * width for k in range(len(keys))],
            [median or 0.0 for median in medians],
            width,
            label=f"{result.variant.name} (nox/bare: {ratios})",
        )
        values = [f"{median:.2f}" if median else "" for median in medians]
        axes.bar_label(bars, labels=values, fontsize=6, padding=1, rotation=90)
    axes.set_xticks(range(len(keys)), [SHORT_LABELS[k] for k in keys], fontsize=8)
    axes.set_ylabel("seconds (median)")
    axes.margins(y=0.15)
    axes.set_title(f"wheelwright: time to green (Python {python})", fontsize=10)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs per measure (default: 5)"
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated, from {', '.join(VARIANTS)} (default: all)",
    )
    parser.add_argument(
        "--python",
        default="3.11",
        help="the Python of the timed test-<python> session (default: 3.11)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help="where latest.json and latest.png go (default: benchmarks/results)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="after the warm-up, run uv with UV_OFFLINE=1: as if the index pages "
        "in uv's cache were fresh (PyPI sends max-age=600, but some proxies strip "
        "it, and then every resolution asks the index again)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the rendered projects and print where"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown or not names:
        parser.error(f"unknown variant(s) {unknown}: pick from {', '.join(VARIANTS)}")
    args.variants = [VARIANTS[name] for name in names]
    args.python_exe = find_python(args.python)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    uv = find_uv()
    workroot = Path(tempfile.mkdtemp(prefix="wheelwright-bench-"))
    try:
        results = [
            bench_variant(variant, workroot, args, uv) for variant in args.variants
        ]
    finally:
        if args.keep:
            print(f"Rendered projects kept in {workroot}", file=sys.stderr)
        else:
            shutil.rmtree(workroot, ignore_errors=True)
    found = targets(results)
    label = labels(args.python)
    report(results, found, args, label)
    args.output.mkdir(parents=True, exist_ok=True)
    save_json(args.output / "latest.json", results, found, args, uv, label)
    save_chart(args.output / "latest.png", results, args.python)
    print(f"\nWrote {args.output / 'latest.json'} and {args.output / 'latest.png'}")
    # Missed targets are findings, not errors; a failed command is an error.
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
