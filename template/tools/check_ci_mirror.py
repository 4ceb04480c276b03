"""Check that the GitHub Actions CI jobs mirror the nox sessions.

The promise: every CI job *is* a nox session.

* A job's only work is one step ``nox -s <session>``, and the job is named after
  the session's base name (``nox -s test-${{ matrix.python }}`` is job ``test``;
  the matrix must list exactly the noxfile's parametrizations of ``test``).
* Beside that step a job may only check out the code, set up Python or uv,
  install nox (``pipx install nox``, ``uv tool install nox``, ...) and upload or
  download artifacts. The nox step may also say ``python -m nox``, ``uvx nox``
  or ``pipx run nox``.
* Every session has a job, unless it is tagged ``local-only``; then it has none.

Usage: python tools/check_ci_mirror.py [--root DIR]

Prints a one-line summary and exits 0 when CI mirrors nox; otherwise prints one
line per mismatch and exits 1. Needs PyYAML, and nox either importable by this
Python or on PATH.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

try:
    import yaml
except ImportError:
    sys.exit("check_ci_mirror: needs PyYAML; install it with 'pip install pyyaml'")

LOCAL_ONLY = "local-only"
PLUMBING_ACTIONS = {
    "actions/checkout",
    "actions/setup-python",
    "astral-sh/setup-uv",
    "actions/upload-artifact",
    "actions/download-artifact",
}
NOX_LAUNCHERS = [
    ("nox",),
    ("python", "-m", "nox"),
    ("python3", "-m", "nox"),
    ("uvx", "nox"),
    ("pipx", "run", "nox"),
]
NOX_INSTALLERS = [
    ("pipx", "install"),
    ("pip", "install"),
    ("pip3", "install"),
    ("python", "-m", "pip", "install"),
    ("python3", "-m", "pip", "install"),
    ("uv", "tool", "install"),
    ("uv", "pip", "install"),
]
INSTALL_OPTIONS_WITH_VALUE = {"--python", "--pip-args", "--index-url", "-i"}
SESSION_FLAGS = {"-s", "--session", "--sessions"}
NOX_REQUIREMENT = re.compile(r"nox(\[[\w,-]+\])?([<>=!~@].*)?", re.IGNORECASE)
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
MATRIX_KEY = re.compile(r"matrix\.([\w-]+)")
# Environment variables that would make nox list only some of the sessions.
NOX_SELECTION_ENV = {"NOXSESSION", "NOXPYTHON", "NOXEXTRAPYTHON", "NOXFORCEPYTHON"}


class CheckError(Exception):
    """A problem that stops the check of one job (or of the whole run)."""


@dataclass(frozen=True)
class Sessions:
    """The noxfile's sessions, as ``nox --list --json`` reports them."""

    name_of: dict[str, str]  # session id -> base name: "test-3.10" -> "test"
    local_only: frozenset[str]  # ids of sessions tagged local-only

    def ids(self, name: str) -> set[str]:
        return {sid for sid, base in self.name_of.items() if base == name}

    def resolve(self, token: str) -> set[str]:
        """The ids ``nox -s <token>`` runs: one id, or every id of a base name."""
        return {token} if token in self.name_of else self.ids(token)

    def ci_ids(self, name: str) -> set[str]:
        return self.ids(name) - self.local_only

    def names(self) -> list[str]:
        return sorted(set(self.name_of.values()))


@dataclass(frozen=True)
class RunStep:
    """A ``run:`` step, read as plumbing, a nox call, or other work."""

    kind: Literal["install", "nox", "other"]
    text: str  # the step's commands on one line, for messages
    session: str | None = None  # the argument of -s, for a nox call
    exact: bool = False  # the nox command is exactly "nox -s <session>"
    alone: bool = True  # the step runs that one command and nothing else


def nox_command() -> list[str]:
    if importlib.util.find_spec("nox") is not None:
        return [sys.executable, "-m", "nox"]
    if shutil.which("nox"):  # e.g. run from a nox session's virtualenv
        return ["nox"]
    raise CheckError(
        f"cannot list the sessions: nox is neither importable by {sys.executable}"
        " nor on PATH; install nox and rerun"
    )


def load_sessions(root: Path) -> Sessions:
    # Plain `nox --list` shows only the default sessions; `-k True` selects every
    # session (default=False ones too) and overrides nox.options.sessions.
    command = [*nox_command(), "--list", "--json", "-k", "True"]
    env = {k: v for k, v in os.environ.items() if k not in NOX_SELECTION_ENV}
    result = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, check=False
    )
    lines = result.stdout.strip().splitlines()
    try:
        entries = json.loads(lines[-1]) if result.returncode == 0 and lines else None
    except json.JSONDecodeError:
        entries = None
    if not isinstance(entries, list):
        sys.stderr.write(result.stderr)
        raise CheckError(
            f"'{' '.join(command)}' failed in {root} (exit {result.returncode});"
            " fix the noxfile so that nox can list its sessions, then rerun"
        )
    return Sessions(
        name_of={e["session"]: e["name"] for e in entries},
        local_only=frozenset(e["session"] for e in entries if LOCAL_ONLY in e["tags"]),
    )


def split_command(line: str) -> list[str]:
    """Split a shell line into words, keeping each ``${{ ... }}`` as one word."""
    expressions: list[str] = []

    def hide(match: re.Match[str]) -> str:
        expressions.append(match.group(0))
        return f"\0{len(expressions) - 1}\0"

    try:
        words = shlex.split(EXPRESSION.sub(hide, line))
    except ValueError:  # unbalanced quotes: leave it as one unknown word
        return [line]
    return [re.sub(r"\0(\d+)\0", lambda m: expressions[int(m[1])], w) for w in words]


def installs_nox(words: list[str]) -> bool:
    for installer in NOX_INSTALLERS:
        if tuple(words[: len(installer)]) == installer:
            args = iter(words[len(installer) :])
            requirements = []
            for arg in args:
                if arg in INSTALL_OPTIONS_WITH_VALUE:
                    next(args, None)
                elif not arg.startswith("-"):
                    requirements.append(arg)
            return bool(requirements) and all(
                NOX_REQUIREMENT.fullmatch(r) for r in requirements
            )
    return False


def nox_call(words: list[str]) -> tuple[str | None, bool] | None:
    """For a nox command: the session it names and whether that is all it says."""
    for launcher in NOX_LAUNCHERS:
        if tuple(words[: len(launcher)]) == launcher:
            args = words[len(launcher) :]
            break
    else:
        return None
    if args and "=" in args[0] and args[0].split("=")[0] in SESSION_FLAGS:
        args = [*args[0].split("=", 1), *args[1:]]
    if len(args) >= 2 and args[0] in SESSION_FLAGS:
        return args[1], len(args) == 2
    return None, False


def read_run(script: str) -> RunStep:
    joined = script.replace("\\\n", " ")
    lines = [s for line in joined.splitlines() if (s := line.strip())]
    lines = [line for line in lines if not line.startswith("#")]
    words = [split_command(line) for line in lines]
    text = "; ".join(lines)
    if words and all(installs_nox(w) for w in words):
        return RunStep("install", text)
    calls = [call for w in words if (call := nox_call(w)) is not None]
    if not calls:
        return RunStep("other", text)
    session, exact = calls[0]
    return RunStep("nox", text, session, exact, alone=len(lines) == 1)


def is_plumbing(action: str) -> bool:
    owner_repo = "/".join(action.split("/")[:2])
    return owner_repo.lower() in PLUMBING_ACTIONS


def is_session_of(session: str, job_id: str) -> bool:
    return session == job_id or session.startswith(f"{job_id}-")


def scalar(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def matrix_combinations(strategy: Any) -> list[dict[str, Any]]:
    """The job's matrix combinations, honouring include and exclude."""
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if matrix is None:
        return [{}]
    if not isinstance(matrix, dict):
        raise CheckError(
            f"has a computed strategy.matrix ({matrix!r}) — list its values"
            " literally so they can be compared with the noxfile"
        )
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    for key, values in axes.items():
        if not isinstance(values, list):
            raise CheckError(
                f"has a computed strategy.matrix.{key} ({values!r}) — list its"
                " values literally so they can be compared with the noxfile"
            )
    product = itertools.product(*axes.values()) if axes else []
    combos = [dict(zip(axes, values, strict=True)) for values in product]
    for excluded in matrix.get("exclude") or []:
        combos = [c for c in combos if any(c.get(k) != v for k, v in excluded.items())]
    added: list[dict[str, Any]] = []
    for extra in matrix.get("include") or []:
        fits = [
            c for c in combos if all(c[k] == v for k, v in extra.items() if k in axes)
        ]
        for combo in fits:
            combo.update(extra)
        if not fits:
            added.append(dict(extra))
    return combos + added


def expand(template: str, strategy: Any) -> tuple[set[str], list[str]]:
    """Expand ``${{ matrix.KEY }}`` in a session name over the job's matrix.

    Returns the session ids, and the matrix keys whose values are YAML numbers
    (unquoted 3.10 is the number 3.1).
    """
    # "test-${{ matrix.python }}" splits into ["test-", "matrix.python", ""].
    parts = EXPRESSION.split(template)
    keys = parts[1::2]
    for expression in keys:
        if not MATRIX_KEY.fullmatch(expression):
            raise CheckError(
                f"names its session with '${{{{ {expression} }}}}' — spell the"
                " session out, or take its parametrization from ${{ matrix.<key> }}"
            )
    if not keys:
        return {template}, []
    ids = set()
    numbers: dict[str, set[str]] = {}
    for combo in matrix_combinations(strategy):
        words = []
        for i, part in enumerate(parts):
            key = part.removeprefix("matrix.")
            if i % 2 == 0:
                words.append(part)
            elif key not in combo:
                raise CheckError(
                    f"uses matrix.{key}, which its strategy.matrix lacks — add"
                    f" '{key}' to strategy.matrix with the session's values"
                )
            else:
                words.append(scalar(combo[key]))
                if isinstance(combo[key], float):
                    numbers.setdefault(key, set()).add(str(combo[key]))
        ids.add("".join(words))
    return ids, [f"{key}: [{', '.join(sorted(v))}]" for key, v in numbers.items()]


def quoted(items: Any) -> str:
    return ", ".join(f"'{item}'" for item in sorted(items))


def check_sessions(
    where: str, job_id: str, step: RunStep, ids: set[str], sessions: Sessions
) -> tuple[list[str], set[str]]:
    """Compare the session ids a job runs with the noxfile."""
    problems = []
    resolved = {sid for token in ids for sid in sessions.resolve(token)}
    if not resolved:
        problems.append(
            f"{where} runs '{step.text}', but the noxfile has no session"
            f" {quoted(ids)} — add the session to the noxfile or delete the job"
        )
        return problems, set()
    names = {sessions.name_of[sid] for sid in resolved}
    if names != {job_id}:
        problems.append(
            f"{where} runs session {quoted(names)} — a job is named after its"
            f" session; rename the job to {quoted(names)}"
            if len(names) == 1
            else f"{where} runs sessions {quoted(names)} — one job runs one"
            " session; give each its own job named after it"
        )
    for token in sorted(t for t in ids if not sessions.resolve(t)):
        problems.append(
            f"{where} runs '{token}' (from its strategy.matrix), which the noxfile"
            f" does not define — drop that value from the matrix or add it to the"
            f" noxfile's parametrization of {quoted(names)}"
        )
    local = resolved & sessions.local_only
    if local:
        problems.append(
            f"{where} runs {quoted(local)}, which the noxfile tags {LOCAL_ONLY} —"
            " delete the job, or drop the tag if the session belongs in CI"
        )
    if len(names) == 1:
        for sid in sorted(sessions.ci_ids(next(iter(names))) - resolved):
            problems.append(
                f"{where} never runs '{sid}', which the noxfile defines — add its"
                f" value to the job's strategy.matrix or drop it from the noxfile"
            )
    return problems, resolved


def check_job(
    where: str, job_id: str, job: Any, sessions: Sessions
) -> tuple[list[str], set[str]]:
    """Check one job; return its mismatches and the session ids it runs."""
    if not isinstance(job, dict):
        return [f"{where} is not a mapping — give it steps ending in a nox step"], set()
    if "uses" in job:
        return [
            (
                f"{where} calls the reusable workflow '{job['uses']}' — a job's only"
                f" work is 'nox -s {job_id}'; give it its own steps"
            )
        ], set()
    problems = []
    nox_steps = []
    for step in job.get("steps") or []:
        if not isinstance(step, dict):
            continue
        if "uses" in step:
            action = str(step["uses"]).split("@")[0]
            if not is_plumbing(action):
                problems.append(
                    f"{where} uses '{action}' — beside 'nox -s {job_id}' a job"
                    " may only use checkout, setup-python, setup-uv and"
                    f" upload/download-artifact; do that work in the {job_id} session"
                )
            continue
        if "run" not in step:
            continue
        run = read_run(str(step["run"]))
        if run.kind == "other":
            problems.append(
                f"{where} runs '{run.text}' — a job's only work is 'nox -s {job_id}';"
                f" move that command into the {job_id} session"
            )
        elif run.kind == "nox":
            nox_steps.append(run)
    if not nox_steps:
        problems.append(
            f"{where} never runs nox — its one piece of work must be a step"
            f" 'run: nox -s {job_id}'"
        )
        return problems, set()
    if len(nox_steps) > 1:
        problems.append(
            f"{where} runs nox {len(nox_steps)} times"
            f" ({quoted(s.text for s in nox_steps)}) — one job runs one session;"
            " split it into one job per session"
        )
    # With several nox steps, check the one for the job's own session.
    own = [s for s in nox_steps if s.session and is_session_of(s.session, job_id)]
    main = (own or nox_steps)[0]
    if main.session is None:
        problems.append(
            f"{where} runs '{main.text}' without '-s <session>' — make the step"
            f" exactly 'nox -s {job_id}'"
        )
        return problems, set()
    if not main.alone:
        problems.append(
            f"{where} runs '{main.text}' in one step — give 'nox -s {main.session}'"
            " a step of its own"
        )
    elif not main.exact:
        problems.append(
            f"{where} runs '{main.text}' — the step must be exactly"
            f" 'nox -s {main.session}'; move extra arguments and commands into the"
            " noxfile"
        )
    try:
        ids, warnings = expand(main.session, job.get("strategy"))
    except CheckError as error:
        problems.append(f"{where} {error}")
        return problems, set()
    for warning in warnings:
        problems.append(
            f"{where} has unquoted numbers in strategy.matrix ({warning}) — quote"
            ' them ("3.10"): YAML reads 3.10 as the number 3.1'
        )
    more, resolved = check_sessions(where, job_id, main, ids, sessions)
    return problems + more, resolved


def workflow_files(root: Path) -> list[Path]:
    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file()
    )


def check(root: Path) -> tuple[list[str], str]:
    """Return the mismatches, and the summary line for when there are none."""
    sessions = load_sessions(root)
    problems: list[str] = []
    covered: set[str] = set()
    jobs_seen = 0
    unreadable = False  # then sessions without jobs may just be unseen
    for path in workflow_files(root):
        try:
            workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            reason = " ".join(str(error).split())
            problems.append(f"{path.name}: is not valid YAML ({reason}) — fix it")
            unreadable = True
            continue
        jobs = workflow.get("jobs") if isinstance(workflow, dict) else None
        if not isinstance(jobs, dict):
            problems.append(f"{path.name}: has no 'jobs:' mapping — add the jobs")
            continue
        for job_id, job in jobs.items():
            jobs_seen += 1
            where = f"{path.name}: job '{job_id}'"
            found, ran = check_job(where, str(job_id), job, sessions)
            problems += found
            covered |= ran | sessions.ids(str(job_id))  # a job claims its name
    local_names = []
    for name in sessions.names():
        if not sessions.ci_ids(name):
            local_names.append(name)
        elif not unreadable and not sessions.ids(name) & covered:
            problems.append(
                f"session '{name}' has no CI job — add a job '{name}' whose only"
                f" work is 'nox -s {name}', or tag the session {LOCAL_ONLY}"
                f' (@nox.session(tags=["{LOCAL_ONLY}"]))'
            )
    summary = (
        f"CI mirrors nox: {jobs_seen} jobs, {len(sessions.names())} sessions"
        f" ({len(local_names)} {LOCAL_ONLY})"
    )
    return problems, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--root", type=Path, default=Path(), help="project directory (default: .)"
    )
    args = parser.parse_args(argv)
    try:
        problems, summary = check(args.root.resolve())
    except CheckError as error:
        print(f"check_ci_mirror: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem)
    if not problems:
        print(summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
