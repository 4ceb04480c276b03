"""The inner loop, side by side: wheelwright's generated projects against
scientific-python/cookie's (hatch backend, editable install), in one run.

Renders a default wheelwright project per variant (pure, C, C abi3) from this
repository and cookie's project from --cookie, both with copier, commits each,
then, after one warm-up round, times rounds in which every measure runs for
every project back to back, the order turning each round (paired samples):

  cold    `nox -s test-3.11` with no .nox        cookie: `nox -s tests`
  edit    `nox -R` of it after a source edit     (pure: a .py in src; C: _core.c)
  rerun   `nox -R` of it with nothing changed

Both test sessions run pytest without coverage (ours measure it in their
`coverage` session). The parts of a run are timed alone: nox start, the lock
re-sync as a session meets it (and as a pure no-op), a full wheel build and the
install as tools/install.py does them, pytest, and for C the compile. A ratio
to cookie is the median of the per-round ratios.

Writes a Markdown table, benchmarks/results/latest.json and latest.png.
Run it with `nox -s bench`; `nox -s bench -- --help` lists the options.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import copier

Answers = dict[str, Any]
Samples = dict[str, list[float]]  # by measure (or ratio) name
Ratios = dict[str, Samples]  # by project
ROOT = Path(__file__).resolve().parent.parent
PYTHON = "3.11"
VARIANTS: dict[str, dict[str, Any]] = {
    "pure": {"variant": "pure"},
    "c": {"variant": "c-extension", "limited_api": False},
    "c-abi3": {"variant": "c-extension", "limited_api": True},
}
COOKIE_ANSWERS: dict[str, Any] = {
    "project_name": "cookie-demo", "org": "bench", "full_name": "Bench",
    "email": "bench@example.com", "license": "MIT", "backend": "hatch",
    "docs": "sphinx", "vcs": True,
}  # fmt: skip
# key: (who runs it, label), in the order a round runs them: each leaves the
# project as the next one needs it.
MEASURES = {
    "cold": ("both", "`nox -s test-3.11` (cookie: `tests`), no .nox"),
    "edit": ("both", "`nox -R` of it after a source edit"),
    "rerun": ("both", "`nox -R` of it, nothing changed"),
    "start": ("both", "part: nox start (`nox --list`)"),
    "pytest": ("both", "part: `pytest`"),
    "sync": ("ours", "part: lock re-sync, as the session meets it"),
    "resync": ("ours", "part: lock re-sync again, a pure no-op"),
    "install": ("ours", "part: reinstall of the wheel (uninstall, then install)"),
    "build": ("ours", "part: a full `uv build --wheel` in the kept build venv"),
    "compile": ("c", "part: compile `_core.c` alone (build_ext.run)"),
}
# Paired ratios to cookie: name: (our measure, cookie's measure).
RATIOS = {
    "cold": ("cold", "cold"),
    "edit": ("edit", "edit"),
    "rerun": ("rerun", "rerun"),
}
# Issue 15, point 6: (projects, target, a ratio's name (x) or a measure (s), limit).
TARGETS = [
    (("pure",), "warm after an edit <= 1.3x cookie's", "edit", "x", 1.3),
    (("c", "c-abi3"), "warm after a C edit <= 1.3 s", "edit", "s", 1.3),
    # Like for like: cookie's project is pure. The C projects run 72 tests to its
    # one (0.05-0.1 s more of pytest): the table gives their ratio, no target.
    (("pure",), "no-change rerun <= 1.1x cookie's", "rerun", "x", 1.1),
    (tuple(VARIANTS), "lock re-sync, nothing changed < 0.1 s", "sync", "s", 0.1),
]
# Timed inside: setuptools' build_ext.run() on _core.c, as hatch_build.py runs it.
COMPILE = """\
import sys, time
from setuptools import Distribution, Extension
from setuptools.command.build_ext import build_ext
name, source, out, limited = sys.argv[1:]
macros = [("Py_LIMITED_API", limited)] if limited else []
ext = Extension(name, [source], py_limited_api=bool(limited), define_macros=macros)
cmd = build_ext(Distribution({"ext_modules": [ext]}))
cmd.build_lib = cmd.build_temp = out
cmd.force = True
cmd.ensure_finalized()
start = time.perf_counter()
cmd.run()
print(time.perf_counter() - start)
"""


@dataclass
class Project:
    name: str
    path: Path
    answers: Answers
    samples: Samples = field(default_factory=dict)

    @property
    def ours(self) -> bool:
        return self.name != "cookie"

    @property
    def is_c(self) -> bool:
        return self.answers.get("variant") == "c-extension"

    def runs(self, key: str) -> bool:
        who = MEASURES[key][0]
        return (
            who == "both"
            or who == ("ours" if self.ours else "cookie")
            or (who == "c" and self.is_c)
        )

    @property
    def session(self) -> list[str]:
        if self.ours:
            return ["-s", f"test-{PYTHON}"]
        return ["-s", "tests", "--force-python", PYTHON]  # it has no python=

    @property
    def venv(self) -> Path:
        session = "test" if self.ours else "tests"
        return self.path / ".nox" / f"{session}-{PYTHON.replace('.', '-')}"

    @property
    def package(self) -> str:
        return next(self.path.glob("src/*/__init__.py")).parent.name

    def median(self, key: str) -> float:
        return statistics.median(self.samples[key])


def clean_env() -> dict[str, str]:
    """The environment of a user's shell: nothing of the bench session's venv
    or of nox, and Python allowed to write bytecode, as on users' machines."""
    drop = {"VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT", "CI", "PYTHONPATH"}
    drop |= {"GITHUB_ACTIONS", "PYTHONDONTWRITEBYTECODE", "CONDA_PREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env = {k: v for k, v in env.items() if not k.startswith(("NOX_", "PYTEST_"))}
    # nox puts the bench session's venv first on PATH; a user's shell does not.
    own_bin = str(Path(sys.executable).parent) if sys.prefix != sys.base_prefix else ""
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p != own_bin]
    identity = {
        "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
    }  # fmt: skip
    return env | identity | {"NO_COLOR": "1", "PATH": os.pathsep.join(path)}


ENV = clean_env()


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; a failure stops the bench with its output's tail."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=ENV | (env or {}), check=False,
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        tail = "\n  ".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        sys.exit(f"`{' '.join(map(str, args))}` failed in {cwd}:\n  {tail}")
    return done.stdout


def timed(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    run(*args, cwd=cwd, env=env)
    return time.perf_counter() - start


def find_uv() -> str:
    """The uv nox uses: the one installed beside it, else PATH's."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv") or sys.exit("uv is not installed here nor on PATH")
    return find_uv_bin()


UV = find_uv()


def render(source: str, dest: Path, answers: dict[str, Any], **options: Any) -> Answers:
    """Render with copier as a user would, then commit (hatch-vcs needs git)."""
    with warnings.catch_warnings():  # a dirty local template: the JSON says so
        warnings.simplefilter("ignore")
        worker = copier.run_copy(
            source, dest, data=answers, defaults=True, quiet=True, **options
        )
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "x"]):
        run("git", *args, cwd=dest)
    return dict(worker.answers.combined)


def setup(workdir: Path, args: argparse.Namespace) -> list[Project]:
    """cookie first (it is the one that can fail: network, --cookie), then ours."""
    try:  # cookie's template loads its own Jinja extensions: --trust
        answers = render(args.cookie, workdir / "cookie", COOKIE_ANSWERS, unsafe=True)
    except Exception as error:  # noqa: BLE001  # copier's, git's, the network's
        why = str(error).strip().splitlines()[-1].split("| ")[-1]  # git's last words
        sys.exit(
            f"Could not render scientific-python/cookie from {args.cookie} ({why}). "
            "Pass --cookie PATH to a local clone (git clone "
            "https://github.com/scientific-python/cookie)."
        )
    cookie = Project("cookie", workdir / "cookie", answers)
    ours = [
        Project(name, workdir / name,
                render(str(ROOT), workdir / name, VARIANTS[name], vcs_ref="HEAD"))
        for name in args.variants
    ]  # fmt: skip
    return [*ours, cookie]


def nox(project: Project, *args: str) -> float:
    return timed(sys.executable, "-m", "nox", "--error-on-missing-interpreters",
                 *args, cwd=project.path)  # fmt: skip


def edit(project: Project) -> None:
    """Append a comment: the content changes, and a stale test would pass too."""
    name, comment = ("_core.c", "/**/\n") if project.is_c else ("", "#\n")
    name = name or ("text.py" if project.ours else "__init__.py")
    with (project.path / "src" / project.package / name).open("a") as file:
        file.write(comment)


def measure(project: Project, key: str, workdir: Path) -> float:
    cwd, venv = project.path, project.venv
    if key == "cold":
        shutil.rmtree(cwd / ".nox", ignore_errors=True)
        return nox(project, *project.session)
    if key == "edit":
        edit(project)
    if key in ("edit", "rerun"):
        return nox(project, "-R", *project.session)
    if key == "start":
        return nox(project, "--list")
    if key == "pytest":
        return timed(venv / "bin" / "pytest", cwd=cwd)
    if key in ("sync", "resync"):  # as sync() runs it; the first removes the project
        sync = ("sync", "--no-install-project", "--no-default-groups", "--group=test")
        return timed(UV, *sync, cwd=cwd, env={"UV_PROJECT_ENVIRONMENT": str(venv)})
    (wheel,) = (venv / "wheel").glob("*.whl")
    if key == "install":  # over the installed one, as after an edit
        uninstall = ("pip", "uninstall", "--quiet", "--python", venv, project.package)
        install = ("pip", "install", "--quiet", "--no-deps", "--link-mode=copy")
        return timed(UV, *uninstall, cwd=cwd) + timed(
            UV, *install, "--python", venv, wheel, cwd=cwd
        )
    build_python, out = venv / "build-venv" / "bin" / "python", workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    if key == "build":
        return timed(UV, "build", "--quiet", "--wheel", "--no-build-isolation",
                     "--python", build_python, "--out-dir", out, cwd=cwd)  # fmt: skip
    limited = ""
    if project.answers.get("limited_api"):
        major, minor = map(int, str(project.answers["min_python"]).split("."))
        limited = f"0x{major:02X}{minor:02X}0000"
    source = cwd / "src" / project.package / "_core.c"
    printed = run(build_python, "-c", COMPILE, f"{project.package}._core", source,
                  out, limited, cwd=cwd)  # fmt: skip
    return float(printed.split()[-1])


def bench(projects: list[Project], runs: int, workdir: Path) -> list[float]:
    """A warm-up round, then `runs` rounds; returns the load average after each."""
    loads = []
    for round_ in range(runs + 1):
        turn = round_ % len(projects)
        for key in MEASURES:
            for project in projects[turn:] + projects[:turn]:
                if project.runs(key):
                    seconds = measure(project, key, workdir)
                    if round_:
                        project.samples.setdefault(key, []).append(seconds)
        if round_ == 0:  # commit the lock the first run wrote, as a user does
            for project in (p for p in projects if p.ours):
                run("git", "add", "-A", cwd=project.path)
                run("git", "commit", "-qm", "lock", cwd=project.path)
        loads.append(os.getloadavg()[0])
        done = f"round {round_}/{runs}" if round_ else "warm-up"
        print(f"{done} done, load average {loads[-1]:.1f}", file=sys.stderr)
    return loads


def paired(project: Project, cookie: Project) -> Samples:
    return {
        name: [a / b for a, b in zip(project.samples[ours], cookie.samples[theirs],
                                     strict=True)]
        for name, (ours, theirs) in RATIOS.items()
    }  # fmt: skip


def parts(project: Project) -> dict[str, float]:
    """A warm run after an edit, split into the parts timed alone (medians) and
    the rest: the noxfile's own work (git, hashing, the pure variant's patch of
    the wheel, the RECORD check) and nox's session set-up. After an edit the
    venv needs no re-sync, and only the C variant runs the build."""
    found = {"nox start": project.median("start"), "pytest": project.median("pytest")}
    if project.ours:
        found["install"] = project.median("install")
    if project.is_c:
        found["build"] = project.median("build")
    return found | {"rest": project.median("edit") - sum(found.values())}


def spread(values: list[float], unit: str = "") -> str:
    return (
        f"{statistics.median(values):.2f}{unit} [{min(values):.2f}-{max(values):.2f}]"
    )


def targets(projects: list[Project], ratios: Ratios) -> list[dict[str, Any]]:
    found = []
    for names, text, key, unit, limit in TARGETS:
        for project in (p for p in projects if p.name in names):
            values = ratios[project.name][key] if unit == "x" else project.samples[key]
            value = statistics.median(values)
            found.append({"project": project.name, "target": text, "value": value,
                          "min": min(values), "max": max(values), "unit": unit,
                          "limit": limit, "pass": value <= limit})  # fmt: skip
    return found


def report(
    projects: list[Project], ratios: Ratios, found: list[dict[str, Any]], runs: int
) -> None:
    """The table, in Markdown (README's "How fast" shows it), then the targets."""
    print(f"\nSeconds, median [min-max] of {runs} rounds after a warm-up; "
          f"Python {PYTHON}, bytecode writing allowed\n")  # fmt: skip
    rows = [["", *(p.name for p in projects)], ["---"] * (len(projects) + 1)]
    for key, (_, label) in MEASURES.items():
        cells = [spread(p.samples[key]) if p.runs(key) else "" for p in projects]
        rows.append([label, *cells])
    rows.append(["rest of the run after an edit", *(f"{parts(p)['rest']:.2f}"
                                                     for p in projects)])  # fmt: skip
    for name in RATIOS:
        cells = [spread(ratios[p.name][name], "x") for p in projects if p.ours]
        rows.append([f"**ratio to cookie's: {name}**", *cells, ""])
    print("\n".join("| " + " | ".join(row) + " |" for row in rows))
    print("\nTargets (issue 15, point 6)")
    for t in found:
        verdict = "PASS" if t["pass"] else "MISS"
        print(f"  {verdict}  {t['project']:<7} {t['target']:<38} {t['value']:.2f}"
              f"{t['unit']} [{t['min']:.2f}-{t['max']:.2f}]")  # fmt: skip


def version_of(*command: str | Path) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          check=False)  # fmt: skip
    return (done.stdout or done.stderr).strip()


def save(path: Path, projects: list[Project], ratios: Ratios,
         found: list[dict[str, Any]], args: argparse.Namespace,
         loads: list[float]) -> None:  # fmt: skip
    git = ("git", "-C", ROOT)
    data = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_after_each_round": loads},
        "versions": {"uv": version_of(UV, "--version"), "python": args.tested_python,
                     "nox": importlib.metadata.version("nox"),
                     "copier": importlib.metadata.version("copier")},
        "template": {"commit": version_of(*git, "rev-parse", "HEAD"),
                     "dirty": bool(version_of(*git, "status", "--porcelain"))},
        "cookie": {"source": args.cookie, "ref": projects[-1].answers.get("_commit")},
        "runs": args.runs,
        "removed_from_env": ["PYTHONDONTWRITEBYTECODE"],
        "labels": {key: label for key, (_, label) in MEASURES.items()},
        "samples": {p.name: p.samples for p in projects},
        "parts_of_the_run_after_an_edit": {p.name: parts(p) for p in projects},
        "ratios_to_cookie": ratios,
        "targets": found,
    }  # fmt: skip
    path.write_text(json.dumps(data, indent=2) + "\n")


def chart(path: Path, projects: list[Project], ratios: Ratios) -> None:
    """Left, the three runs side by side; right, where a run after an edit goes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (runs, split) = plt.subplots(1, 2, figsize=(13, 4.5), width_ratios=[3, 2])
    series: list[tuple[str, Samples, Project]]
    series = [(p.name, p.samples, p) for p in projects]
    width = 0.8 / len(series)
    for i, (name, samples, project) in enumerate(series):
        keys = [k for k in ("cold", "edit", "rerun") if k in samples]
        xs = [("cold", "edit", "rerun").index(k) + (i - len(series) / 2 + 0.5) * width
              for k in keys]  # fmt: skip
        meds = [statistics.median(samples[k]) for k in keys]
        low = [min(samples[k]) for k in keys]
        high = [max(samples[k]) for k in keys]
        errors = [[m - lo for m, lo in zip(meds, low, strict=True)],
                  [hi - m for m, hi in zip(meds, high, strict=True)]]  # fmt: skip
        bars = runs.bar(xs, meds, width, yerr=errors, capsize=2, label=name)
        labels = [f"{m:.2f}" for m in meds]
        if project.ours:
            labels = [f"{m:.2f}\n{statistics.median(ratios[name][k]):.1f}x"
                      for m, k in zip(meds, keys, strict=True)]  # fmt: skip
        runs.bar_label(bars, labels=labels, fontsize=6, padding=2)
    runs.set_xticks(range(3), ["cold", "after an edit (nox -R)", "no change (nox -R)"])
    runs.set_ylabel("seconds: median, whiskers min-max")
    runs.set_title(f"nox test session, Python {PYTHON} (ratio to cookie's as is)",
                   fontsize=9)  # fmt: skip
    runs.margins(y=0.2)
    runs.legend(fontsize=7)
    left = [0.0] * len(projects)
    for part in ("nox start", "build", "install", "pytest", "rest"):
        widths = [max(parts(p).get(part, 0.0), 0.0) for p in projects]  # noise: < 0
        split.barh([p.name for p in projects], widths, left=left, label=part)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    split.invert_yaxis()
    split.set_xlabel("seconds (medians)")
    split.set_title("a run after an edit, part by part", fontsize=9)
    split.legend(fontsize=7, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="timed rounds (default 9)")
    parser.add_argument("--cookie", default="gh:scientific-python/cookie",
                        help="cookie's copier source: gh:... or a clone")  # fmt: skip
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"of {', '.join(VARIANTS)} (default: all)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--keep", action="store_true", help="keep the projects")
    args = parser.parse_args()
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if args.runs < 1 or not args.variants or not set(args.variants) <= set(VARIANTS):
        parser.error(f"--runs must be >= 1 and --variants from {', '.join(VARIANTS)}")
    if not shutil.which(f"python{PYTHON}", path=ENV["PATH"]):
        sys.exit(f"python{PYTHON} is not on PATH: nox needs it for test-{PYTHON}.")
    args.tested_python = run(f"python{PYTHON}", "-VV", cwd=ROOT).strip()
    workdir = Path(tempfile.mkdtemp(prefix="wheelwright-bench-"))
    try:
        projects = setup(workdir, args)
        loads = bench(projects, args.runs, workdir)
    finally:
        if args.keep:
            print(f"Projects kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    ratios = {p.name: paired(p, projects[-1]) for p in projects if p.ours}
    found = targets(projects, ratios)
    report(projects, ratios, found, args.runs)
    args.output.mkdir(parents=True, exist_ok=True)
    save(args.output / "latest.json", projects, ratios, found, args, loads)
    chart(args.output / "latest.png", projects, ratios)
    print(f"\nWrote {args.output / 'latest.json'} and latest.png")


if __name__ == "__main__":
    main()
