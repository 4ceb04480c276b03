"""Check that the GitHub Actions workflows mirror the nox sessions.

The promise this project keeps: every CI job *is* a nox session.

* A job's only work is one step `nox -s <session>`, and the job is named after
  the session (`nox -s test-${{ matrix.python }}` is the job `test`, and its
  matrix must list exactly the noxfile's parametrizations of `test`).
* Around that step a job may only check out the code, set up Python or uv,
  install nox and upload or download artifacts.
* Every session has a job, unless it is tagged local-only:
  `@nox.session(tags=["local-only"])`.

Usage: python tools/check_ci_mirror.py [--root DIR]

Prints one line per mismatch and exits 1, or a one-line summary and exits 0.
The sessions come from nox itself (`nox --list --json`), not from reading the
noxfile as text.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

LOCAL_ONLY = "local-only"
PLUMBING_ACTIONS = (
    "actions/checkout",
    "actions/setup-python",
    "astral-sh/setup-uv",
    "actions/upload-artifact",
    "actions/download-artifact",
)
# `python -m pip install "nox[uv]>=2025.5.1"`, `pipx install nox`, `uv tool install nox`
INSTALL_NOX = re.compile(
    r"(python3? -m pip|pip3?|pipx|uv tool) install (--?\S+ )*"
    r"""(["']?)nox(\[[\w,-]+\])?([<>=!~][^\s"']*)?\3"""
)
NOX_STEP = re.compile(r"nox -s ((?:\$\{\{[^}]*\}\}|\S)+)")  # ${{ }} may hold spaces
MATRIX_VALUE = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")


class Mismatch(Exception):
    """A job the checker cannot read any further."""


def load_sessions(root: Path) -> dict[str, dict[str, Any]]:
    """Every session, by id ("test-3.12"). `-k True` selects all of them: a
    plain `nox --list --json` would leave out those not run by default."""
    command = [sys.executable, "-m", "nox", "--list", "--json", "-k", "True"]
    result = subprocess.run(
        command, cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        sys.exit(
            f"check_ci_mirror: nox could not list the sessions in {root} (above);"
            " fix the noxfile, then rerun"
        )
    entries = json.loads(result.stdout.strip().splitlines()[-1])
    return {entry["session"]: entry for entry in entries}


def matrix_session_ids(template: str, job: dict[str, Any]) -> set[str]:
    """Expand `test-${{ matrix.python }}` over the job's matrix (and its include)."""
    keys = sorted(set(MATRIX_VALUE.findall(template)))
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    columns = []
    for key in keys:
        values = matrix.get(key, [])
        if not isinstance(values, list):
            raise Mismatch(f"computes matrix.{key}; list its values literally")
        values = values + [e[key] for e in matrix.get("include", []) if key in e]
        if not values:
            raise Mismatch(f"uses matrix.{key}, which strategy.matrix does not list")
        if any(isinstance(value, float) for value in values):
            raise Mismatch(f"lists matrix.{key} as numbers; quote them (3.10 is 3.1)")
        columns.append([str(value) for value in values])
    ids = set()
    for combination in itertools.product(*columns):
        session_id = template
        for key, value in zip(keys, combination, strict=True):
            expression = r"\$\{\{\s*matrix\." + re.escape(key) + r"\s*\}\}"
            session_id = re.sub(expression, value, session_id)
        ids.add(session_id)
    return ids


def check_job(
    where: str, job_id: str, job: dict[str, Any], sessions: dict[str, Any]
) -> tuple[list[str], set[str]]:
    """The job's mismatches, and the session ids it runs."""
    problems, nox_steps = [], []
    for step in job.get("steps", []):
        if "uses" in step:
            if not str(step["uses"]).startswith(PLUMBING_ACTIONS):
                problems.append(
                    f"{where} uses '{step['uses'].split('@')[0]}' — around 'nox -s "
                    f"{job_id}' a job only checks out, sets up Python or uv, installs "
                    f"nox and moves artifacts; do that work in the {job_id} session"
                )
            continue
        command = " ".join(str(step.get("run", "")).split())
        if not command or INSTALL_NOX.fullmatch(command):
            continue
        if command.startswith("nox "):
            nox_steps.append(command)
        else:
            problems.append(
                f"{where} runs '{command}' — a job's only work is 'nox -s {job_id}';"
                f" move that command into the {job_id} session"
            )
    if len(nox_steps) != 1:
        runs = f"runs nox {len(nox_steps)} times" if nox_steps else "never runs nox"
        problems.append(f"{where} {runs} — its one piece of work is 'nox -s {job_id}'")
        return problems, set()
    match = NOX_STEP.match(nox_steps[0])
    if match is None or match.group(0) != nox_steps[0]:
        problems.append(
            f"{where} runs '{nox_steps[0]}' — the step must be exactly 'nox -s "
            f"{match.group(1) if match else job_id}'; move anything else into the noxfile"
        )
        if match is None:
            return problems, set()
    try:
        requested_ids = matrix_session_ids(match.group(1), job)
    except Mismatch as error:
        return [*problems, f"{where} {error}"], set()
    ids, unknown = set(), set()
    for requested in requested_ids:  # `nox -s test` runs every test-* session
        matched = {i for i, s in sessions.items() if requested in (i, s["name"])}
        ids |= matched
        unknown |= set() if matched else {requested}
    names = {sessions[i]["name"] for i in ids}
    for session_id in sorted(unknown):
        problems.append(
            f"{where} runs '{session_id}' (from its strategy.matrix), which the noxfile "
            "does not define — drop it from the matrix or add it to the noxfile"
            if names
            else f"{where} runs '{session_id}', which the noxfile does not define — add "
            "the session or delete the job"
        )
    if names and names != {job_id}:
        problems.append(
            f"{where} runs session {', '.join(map(repr, sorted(names)))} — a job is "
            f"named after its session; rename the job to '{min(names)}'"
        )
    for name in names:
        for missing in sorted(ids_of(sessions, name) - ids):
            problems.append(
                f"{where} never runs '{missing}', which the noxfile defines — add it "
                "to the job's strategy.matrix or drop it from the noxfile"
            )
    for local in sorted(i for i in ids if is_local(sessions[i])):
        problems.append(
            f"{where} runs '{local}', which the noxfile tags {LOCAL_ONLY} — delete "
            "the job, or drop the tag"
        )
    return problems, ids


def is_local(session: dict[str, Any]) -> bool:
    return LOCAL_ONLY in session["tags"]


def ids_of(sessions: dict[str, Any], name: str) -> set[str]:
    """The ids of a session's parametrizations: test -> {test-3.12, test-3.13}."""
    return {i for i, session in sessions.items() if session["name"] == name}


def check(root: Path) -> tuple[list[str], str]:
    sessions = load_sessions(root)
    problems, covered, jobs = [], set(), 0
    for path in sorted((root / ".github" / "workflows").glob("*.y*ml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for job_id, job in (workflow.get("jobs") or {}).items():
            jobs += 1
            found, ran = check_job(
                f"{path.name}: job '{job_id}'", job_id, job, sessions
            )
            problems += found
            # A job claims its name, so a broken job is not also a missing one.
            covered |= ran | ids_of(sessions, job_id)
    names = sorted({s["name"] for s in sessions.values()})
    local = [
        n for n in names if all(is_local(sessions[i]) for i in ids_of(sessions, n))
    ]
    for name in names:
        if name not in local and not ids_of(sessions, name) & covered:
            problems.append(
                f"session '{name}' has no CI job — add a job '{name}' whose only work"
                f" is 'nox -s {name}', or tag the session {LOCAL_ONLY}"
                f' (@nox.session(tags=["{LOCAL_ONLY}"]))'
            )
    return problems, (
        f"CI mirrors nox: {jobs} jobs, {len(names)} sessions ({len(local)} {LOCAL_ONLY})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="default: .")
    root = parser.parse_args().root.resolve()
    problems, summary = check(root)
    print("\n".join(problems) or summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
