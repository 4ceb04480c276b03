"""The daily loop, side by side: wheelwright's generated projects against
scientific-python/cookie's, in one run, each through the nox its README says.

Renders a default wheelwright project per variant (pure, C, C abi3) from this
repository's working tree, and cookie's project from --cookie twice (hatch,
the like-for-like of pure; scikit-build-core, beside the C variants), all with
copier, commits each, installs nox as each README says (ours: `uv sync
--only-group=nox`, then `.venv/bin/nox`; cookie's: its CONTRIBUTING's `uv tool
install nox`, here a venv of its own holding the same nox), then, after one
warm-up round, times rounds in which every measure runs for every project
back to back, the order turning each round (paired samples):

  cold       `nox -s test-3.11` with no .nox       cookie: `nox -s tests`
  first edit `nox -R` of it after a source edit    (pure: a .py; C: _core.c),
             the first in that fresh venv: for C the build backend's first
             import there, which writes its bytecode
  edit       the same after the next edit: the daily loop's edit -> tested
  rerun      `nox -R` of it with nothing changed
  elsewhere  the rerun with nox installed elsewhere (the entry point's cost)
  uv run     the rerun as CI starts nox: `uv run --locked --only-group=nox nox`

The parts of a run are timed alone: nox start, pytest, the `uv sync` of a
session with nothing changed, and for C the rebuild `uv sync` makes after a
`_core.c` edit. A ratio to cookie is the median of the per-round ratios.

Writes a Markdown table, benchmarks/results/latest.json and latest.png.
Run it with `nox -s bench`; `nox -s bench -- --help` lists the options.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
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
ROOT = Path(__file__).resolve().parent.parent
PYTHON = "3.11"
OURS: dict[str, Answers] = {
    "pure": {"variant": "pure"},
    "c": {"variant": "c-extension", "limited_api": False},
    "c-abi3": {"variant": "c-extension", "limited_api": True},
}
COOKIE: Answers = {
    "project_name": "cookie-demo", "org": "bench", "full_name": "Bench",
    "email": "bench@example.com", "license": "MIT", "docs": "sphinx", "vcs": True,
}  # fmt: skip
COOKIES = {"cookie": {"backend": "hatch"}, "cookie-skbuild": {"backend": "skbuild"}}
# key: label, in the order a round runs them: each leaves the project as the
# next one needs it.
MEASURES = {
    "cold": "`nox -s test-3.11` cold, no `.nox` (cookie: `nox -s tests`)",
    "first_edit": "`nox -R` of it after an edit, the first in that fresh venv",
    "edit": "`nox -R` of it after the next edit (pure: a `.py`; C: `_core.c`)",
    "rerun": "`nox -R` of it, nothing changed",
    "elsewhere": "the same, nox installed elsewhere",
    "uv_run": "the same, `uv run --locked --only-group=nox nox` (CI's)",
    "start": "part: nox start (`nox --list`)",
    "pytest": "part: `pytest` alone",
    "resync": "part: `uv sync` of the session, nothing changed",
    "rebuild": "part: `uv sync` rebuilding C after a `_core.c` edit",
}
# What each kind of project runs; cookie's skbuild project is there for one
# figure, its run after an edit of its C++ source (which it does not rebuild).
RUNS = {
    "pure": [key for key in MEASURES if key != "rebuild"],
    "c": list(MEASURES),
    "cookie": ["cold", "first_edit", "edit", "rerun", "start", "pytest"],
    "cookie-skbuild": ["edit", "rerun"],
}  # fmt: skip
RATIOS = ("cold", "edit", "rerun")  # paired with cookie's (hatch) same measure
# Paired differences, seconds: name: (a measure, minus this one, same project).
DELTAS = {"elsewhere": ("rerun", "elsewhere"), "uv_run": ("uv_run", "rerun")}
# (projects, target, a ratio (x), a measure (s) or a delta (d), limit)
TARGETS = [
    (("pure",), "after an edit <= 1.0x cookie's", "edit", "x", 1.0),
    (("pure",), "nothing changed <= 1.0x cookie's", "rerun", "x", 1.0),
    (("pure",), "cold <= 0.9x cookie's", "cold", "x", 0.9),
    (("c", "c-abi3"), "after a _core.c edit <= 1.1 s", "edit", "s", 1.1),
    (tuple(OURS), "uv sync, nothing changed < 0.1 s", "resync", "s", 0.1),
    (tuple(OURS), ".venv/bin/nox <= +0.1 s over nox elsewhere", "elsewhere", "d", 0.1),
]


@dataclass
class Project:
    name: str
    path: Path
    answers: Answers
    nox: Path  # the nox its README recommends
    samples: Samples = field(default_factory=dict)

    @property
    def ours(self) -> bool:
        return self.name in OURS

    @property
    def is_c(self) -> bool:
        return self.answers.get("variant") == "c-extension"

    @property
    def kind(self) -> str:
        return ("c" if self.is_c else "pure") if self.ours else self.name

    def runs(self, key: str) -> bool:
        return key in RUNS[self.kind]

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
    """The uv beside the bench's Python, else PATH's."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv") or sys.exit("uv is not installed here nor on PATH")
    return find_uv_bin()


UV = find_uv()


def render(source: str, dest: Path, answers: Answers, **options: Any) -> Answers:
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
    """cookie first (it is the one that can fail: network, --cookie), then ours,
    each with its nox; ours commit the uv.lock that `uv sync` writes, as the
    post-copy message says."""
    cookies = []
    for name, answers in COOKIES.items():
        try:  # cookie's template loads its own Jinja extensions: --trust
            done = render(args.cookie, workdir / name, COOKIE | answers, unsafe=True)
        except Exception as error:  # noqa: BLE001  # copier's, git's, the network's
            why = str(error).strip().splitlines()[-1].split("| ")[-1]  # git's words
            sys.exit(
                f"Could not render scientific-python/cookie from {args.cookie} "
                f"({why}). Pass --cookie PATH to a local clone (git clone "
                "https://github.com/scientific-python/cookie)."
            )
        cookies.append(Project(name, workdir / name, done, workdir / "tool/bin/nox"))
    ours = []
    for name in args.variants:
        path = workdir / name
        answers = render(str(ROOT), path, OURS[name], vcs_ref="HEAD")
        run(UV, "sync", "--only-group=nox", cwd=path)
        run("git", "add", "uv.lock", cwd=path)
        run("git", "commit", "-qm", "lock", cwd=path)
        ours.append(Project(name, path, answers, path / ".venv" / "bin" / "nox"))
    # "Elsewhere": a venv of its own holding the nox and uv our lock pins, as
    # `uv tool install nox` makes one. Cookie runs it: the same nox for both.
    pins = [f"{p}=={version_in(ours[0].nox, p)}" for p in ("nox", "uv")]
    run(UV, "venv", "-q", "-p", PYTHON, workdir / "tool", cwd=workdir)
    run(UV, "pip", "install", "-q", "-p", workdir / "tool", *pins, cwd=workdir)
    skbuild = cookies[1]  # warmed here: its rounds time only the loop after an edit
    run(skbuild.nox, *skbuild.session, cwd=skbuild.path)
    return [*ours, *cookies]


def version_in(nox: Path, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return run(nox.parent / "python", "-c", code, cwd=nox.parent).strip()


def nox(project: Project, *args: str, nox: Path | None = None) -> float:
    return timed(nox or project.nox, "--error-on-missing-interpreters", *args,
                 cwd=project.path)  # fmt: skip


def edit(project: Project) -> None:
    """Append a comment: the content changes, and a stale test would pass too."""
    if project.name == "cookie-skbuild":
        target, comment = project.path / "src" / "main.cpp", "//\n"
    elif project.is_c:
        target, comment = project.path / "src" / project.package / "_core.c", "/**/\n"
    else:
        name = "text.py" if project.ours else "__init__.py"
        target, comment = project.path / "src" / project.package / name, "#\n"
    with target.open("a") as file:
        file.write(comment)


def uv_sync(project: Project) -> float:
    """The test session's `uv sync`, with the environment install.sync() gives it
    (WHEELWRIGHT_BUILD, a cache key: the session's Python, the release tag at
    HEAD if any, and the C sources' names; any other value makes uv rebuild the
    project here). The bench's projects have no tag."""
    root, uv = project.path, project.nox.parent / "uv"  # the uv the lock pins
    sources = sorted(p.relative_to(root).as_posix() for p in root.glob("src/**/*.[ch]"))
    env = {"UV_PROJECT_ENVIRONMENT": str(project.venv)}
    env["WHEELWRIGHT_BUILD"] = str([PYTHON, "", *sources])
    name = re.sub(r"[-_.]+", "-", project.answers["project_name"]).lower()
    sync = ("sync", "--no-default-groups", "--group=test", "--group=build-system")
    return timed(uv, *sync, f"--no-build-isolation-package={name}", cwd=root, env=env)


def measure(project: Project, key: str, workdir: Path) -> float:
    if key == "cold":
        shutil.rmtree(project.path / ".nox", ignore_errors=True)
        return nox(project, *project.session)
    if key in ("first_edit", "edit"):
        edit(project)
    if key in ("first_edit", "edit", "rerun"):
        return nox(project, "-R", *project.session)
    if key == "elsewhere":
        return nox(project, "-R", *project.session, nox=workdir / "tool/bin/nox")
    if key == "uv_run":
        return timed(UV, "run", "--locked", "--only-group=nox", "nox", "-R",
                     *project.session, cwd=project.path)  # fmt: skip
    if key == "start":
        return nox(project, "--list")
    if key == "pytest":
        return timed(project.venv / "bin" / "pytest", cwd=project.path)
    if key == "rebuild":
        edit(project)
    return uv_sync(project)  # resync, rebuild


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
        loads.append(os.getloadavg()[0])
        done = f"round {round_}/{runs}" if round_ else "warm-up"
        print(f"{done} done, load average {loads[-1]:.1f}", file=sys.stderr)
    return loads


def paired(project: Project, cookie: Project) -> Samples:
    """Per-round ratios to cookie's, and per-round differences within one."""
    mine, theirs = project.samples, cookie.samples
    found = {
        key: [a / b for a, b in zip(mine[key], theirs[key], strict=True)]
        for key in RATIOS
    }
    for name, (a, b) in DELTAS.items():
        found[name] = [x - y for x, y in zip(mine[a], mine[b], strict=True)]
    return found


def parts(project: Project) -> dict[str, float]:
    """A run after an edit, split into the parts timed alone (medians) and the
    rest: nox's session set-up and the noxfile's own work. For C the rebuild is
    its `uv sync`; for pure, the no-op `uv sync` (an edit of a .py rebuilds
    nothing: the install is editable)."""
    found = {"nox start": project.median("start"), "pytest": project.median("pytest")}
    if project.ours:
        found["uv sync"] = project.median("rebuild" if project.is_c else "resync")
    return found | {"rest": project.median("edit") - sum(found.values())}


def spread(values: list[float], unit: str = "") -> str:
    med, low, high = statistics.median(values), min(values), max(values)
    return f"{med:.2f}{unit} [{low:.2f}-{high:.2f}]"


def targets(projects: list[Project], paired_: dict[str, Samples]) -> list[Answers]:
    found = []
    for names, text, key, unit, limit in TARGETS:
        for project in (p for p in projects if p.name in names):
            values = project.samples[key] if unit == "s" else paired_[project.name][key]
            value = statistics.median(values)
            found.append({"project": project.name, "target": text, "value": value,
                          "min": min(values), "max": max(values), "unit": unit,
                          "limit": limit, "pass": value <= limit})  # fmt: skip
    return found


def report(projects: list[Project], paired_: dict[str, Samples],
           found: list[Answers], runs: int, loads: list[float]) -> None:  # fmt: skip
    """The table, in Markdown (README's "How fast" shows it), then the targets."""
    print(f"\nSeconds, median [min-max] of {runs} rounds after a warm-up; load "
          f"average {min(loads):.1f} to {max(loads):.1f}; Python {PYTHON}, "
          "bytecode writing allowed\n")  # fmt: skip
    rows = [["", *(p.name for p in projects)], ["---"] * (len(projects) + 1)]
    for key, label in MEASURES.items():
        cells = [spread(p.samples[key]) if p.runs(key) else "" for p in projects]
        rows.append([label, *cells])
    rows.append(["rest of the run after an edit",
                 *(f"{parts(p)['rest']:.2f}" if p.runs("start") else ""
                   for p in projects)])  # fmt: skip
    for name in RATIOS:
        cells = [spread(paired_[p.name][name], "x") if p.ours else "" for p in projects]
        rows.append([f"**ratio to cookie's: {name}**", *cells])
    for name, (a, b) in DELTAS.items():
        cells = [spread(paired_[p.name][name]) if p.ours else "" for p in projects]
        rows.append([f"difference: {a} - {b}, paired", *cells])
    print("\n".join("| " + " | ".join(row) + " |" for row in rows))
    print("\nTargets")
    for t in found:
        verdict = "PASS" if t["pass"] else "MISS"
        unit = {"x": "x", "s": " s", "d": " s"}[t["unit"]]
        print(f"  {verdict}  {t['project']:<7} {t['target']:<44} {t['value']:.2f}"
              f"{unit} [{t['min']:.2f}-{t['max']:.2f}]")  # fmt: skip
    skbuild = [p for p in projects if p.name == "cookie-skbuild"]
    if skbuild:
        print(
            f"  (beside the C target: cookie's scikit-build-core project, "
            f"{skbuild[0].median('edit'):.2f} s after an edit of main.cpp, which "
            "`nox -R` does not rebuild: its tests run the old build)"
        )


def version_of(*command: str | Path) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          check=False)  # fmt: skip
    return (done.stdout or done.stderr).strip()


def save(path: Path, projects: list[Project], paired_: dict[str, Samples],
         found: list[Answers], args: argparse.Namespace,
         loads: list[float]) -> None:  # fmt: skip
    git = ("git", "-C", ROOT)
    data = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_after_each_round": loads},
        "versions": {"uv (bench)": version_of(UV, "--version"),
                     "python": args.tested_python, "nox": args.nox_version,
                     "copier": importlib.metadata.version("copier")},
        "template": {"commit": version_of(*git, "rev-parse", "HEAD"),
                     "dirty": bool(version_of(*git, "status", "--porcelain"))},
        "cookie": {"source": args.cookie, "ref": projects[-1].answers.get("_commit")},
        "runs": args.runs,
        "removed_from_env": ["PYTHONDONTWRITEBYTECODE"],
        "labels": MEASURES,
        "samples": {p.name: p.samples for p in projects},
        "parts_of_the_run_after_an_edit": {p.name: parts(p) for p in projects
                                           if p.runs("start")},
        "paired_to_cookie": paired_,
        "targets": found,
    }  # fmt: skip
    path.write_text(json.dumps(data, indent=2) + "\n")


def chart(path: Path, projects: list[Project], paired_: dict[str, Samples]) -> None:
    """Left, the three runs side by side; right, where a run after an edit goes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (runs, split) = plt.subplots(1, 2, figsize=(13, 4.5), width_ratios=[3, 2])
    width = 0.8 / len(projects)
    for i, project in enumerate(projects):
        keys = [k for k in RATIOS if project.runs(k)]
        xs = [RATIOS.index(k) + (i - len(projects) / 2 + 0.5) * width for k in keys]
        samples = [project.samples[k] for k in keys]
        meds = [statistics.median(s) for s in samples]
        errors = [[m - min(s) for m, s in zip(meds, samples, strict=True)],
                  [max(s) - m for m, s in zip(meds, samples, strict=True)]]  # fmt: skip
        bars = runs.bar(xs, meds, width, yerr=errors, capsize=2, label=project.name)
        labels = [f"{m:.2f}" for m in meds]
        if project.ours:
            labels = [f"{m:.2f}\n{statistics.median(paired_[project.name][k]):.2f}x"
                      for m, k in zip(meds, keys, strict=True)]  # fmt: skip
        runs.bar_label(bars, labels=labels, fontsize=6, padding=2)
    runs.set_xticks(range(3), ["cold", "after an edit (nox -R)", "no change (nox -R)"])
    runs.set_ylabel("seconds: median, whiskers min-max")
    runs.set_title(f"nox test session, Python {PYTHON} (ratio to cookie's)", fontsize=9)
    runs.margins(y=0.2)
    runs.legend(fontsize=7)
    shown = [p for p in projects if p.runs("start")]
    left = [0.0] * len(shown)
    for part in ("nox start", "uv sync", "pytest", "rest"):
        widths = [max(parts(p).get(part, 0.0), 0.0) for p in shown]  # noise: < 0
        split.barh([p.name for p in shown], widths, left=left, label=part)
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
    parser.add_argument("--variants", default=",".join(OURS),
                        help=f"of {', '.join(OURS)} (default: all)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--keep", action="store_true", help="keep the projects")
    args = parser.parse_args()
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if args.runs < 1 or not args.variants or not set(args.variants) <= set(OURS):
        parser.error(f"--runs must be >= 1 and --variants from {', '.join(OURS)}")
    if not shutil.which(f"python{PYTHON}", path=ENV["PATH"]):
        sys.exit(f"python{PYTHON} is not on PATH: nox needs it for test-{PYTHON}.")
    args.tested_python = run(f"python{PYTHON}", "-VV", cwd=ROOT).strip()
    workdir = Path(tempfile.mkdtemp(prefix="wheelwright-bench-"))
    try:
        projects = setup(workdir, args)
        args.nox_version = version_in(projects[0].nox, "nox")
        loads = bench(projects, args.runs, workdir)
    finally:
        if args.keep:
            print(f"Projects kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    cookie = next(p for p in projects if p.name == "cookie")
    paired_ = {p.name: paired(p, cookie) for p in projects if p.ours}
    found = targets(projects, paired_)
    report(projects, paired_, found, args.runs, loads)
    args.output.mkdir(parents=True, exist_ok=True)
    save(args.output / "latest.json", projects, paired_, found, args, loads)
    chart(args.output / "latest.png", projects, paired_)
    print(f"\nWrote {args.output / 'latest.json'} and latest.png")


if __name__ == "__main__":
    main()
