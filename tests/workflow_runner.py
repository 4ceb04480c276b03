"""Run a project's .github/workflows/ci.yml on this machine, job by job, as
GitHub would for one event: `push` (to main), `pull_request` or `tag` (a push
of the tag at HEAD).

    python tests/workflow_runner.py PROJECT EVENT [--stand-in JOB=COMMAND]
        [--index-url URL --index-token TOKEN]

It honours `on:`, each job's `if:` (GitHub's expression language, the part
workflows use), `needs` order and matrices (one may come from an earlier job's
output by fromJSON). It knows five actions, and refuses any other step before
anything runs: actions/checkout (a fresh clone at the event's commit, with its
fetch-depth and persist-credentials), actions/setup-python (an interpreter of
this machine, or the job fails), astral-sh/setup-uv (uv.lock's uv, or the one
here), actions/upload-artifact and actions/download-artifact. `run:` steps run
in bash with the job's and the step's env and $GITHUB_OUTPUT.

A job that may ask for an OIDC token (`id-token: write`) gets a token of a local
index instead (pypiserver, started here unless --index-url names one). That
token signs nothing, so such a job's upload-artifact step of only what OIDC
signing makes (`*.attestation`, PEP 740) is not run, and its job's line says so.
`--stand-in JOB=COMMAND` runs COMMAND in place of each of JOB's `run:` steps:
for what cannot run here, such as cibuildwheel without a container engine.
`--assume-passed JOB` does not run JOB and takes it as passed (for tests that
are about the jobs after it). `--rerun` then runs every job again in the same
run, as GitHub's "Re-run all jobs" does: the first attempt's artifacts are kept,
so an upload of the same name fails (409) unless it says `overwrite: true`.
Jobs whose runner is another OS are listed as not run here. One line per job;
the exit code is 1 when a job that ran failed.
"""

from __future__ import annotations

import argparse
import fnmatch
import itertools
import json
import operator
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EVENTS = ("push", "pull_request", "tag")
HERE = {"ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04"}  # runner labels of this host
# What this runner knows: the keys it reads, and each action with its inputs.
WORKFLOW_KEYS = {"name", "on", "permissions", "concurrency", "env", "jobs"}
JOB_KEYS = {
    "name",
    "needs",
    "runs-on",
    "permissions",
    "strategy",
    "steps",
    "outputs",
    "env",
    "if",
    "environment",
    "timeout-minutes",
    "concurrency",
}
STEP_KEYS = {
    "id",
    "name",
    "uses",
    "with",
    "run",
    "env",
    "if",
    "shell",
    "working-directory",
}
ACTIONS = {
    "actions/checkout": {"fetch-depth", "persist-credentials"},
    "actions/setup-python": {"python-version"},
    "astral-sh/setup-uv": {"version-file", "version", "enable-cache"},
    "actions/upload-artifact": {"name", "path", "if-no-files-found", "overwrite"},
    "actions/download-artifact": {"name", "pattern", "path", "merge-multiple"},
}
SIGNED = "*.attestation"  # what only OIDC signing makes (PEP 740, by Sigstore)


class Refused(Exception):
    """The workflow holds something this runner does not know."""


class StepFailed(Exception):
    """A step failed; the message says why."""


# --- expressions --------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|'(?P<str>(?:[^']|'')*)'|(?P<op>==|!=|<=|>=|&&"
    r"|\|\||[!<>()\[\].,])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
FUNCTIONS = {
    "fromjson": lambda s: json.loads(s),
    "tojson": lambda v: json.dumps(v, indent=2),
    "startswith": lambda s, p: str(s).lower().startswith(str(p).lower()),
    "endswith": lambda s, p: str(s).lower().endswith(str(p).lower()),
    "contains": lambda h, n: (
        (n in h) if isinstance(h, list) else str(n).lower() in str(h).lower()
    ),
    "format": lambda f, *a: re.sub(r"\{(\d+)\}", lambda m: str(a[int(m[1])]), f),
}
STATUS = {"success", "failure", "always", "cancelled"}
COMPARE = {
    "==": lambda a, b: loose_equal(a, b),
    "!=": lambda a, b: not loose_equal(a, b),
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def tokens(text: str) -> list[tuple[str, Any]]:
    found, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if not match:
            raise Refused(f"cannot read the expression {text!r} at {text[position:]!r}")
        kind = match.lastgroup
        value = match[kind]
        found.append(
            ("lit", float(value) if "." in value else int(value))
            if kind == "num"
            else ("lit", value.replace("''", "'"))
            if kind == "str"
            else (kind, value)
        )
        position = match.end()
    return [*found, ("end", None)]


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", -0.0)


def loose_equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()  # GitHub compares strings ignoring case
    return bool(a == b)


class Expression:
    """A recursive-descent evaluator: literals, contexts, a.b and a['b'], calls,
    !, comparisons, && and || (which return an operand, as GitHub's do)."""

    def __init__(self, text: str, context: dict[str, Any]) -> None:
        self.tokens, self.at, self.context = tokens(text), 0, context
        self.status_used = False

    def evaluate(self) -> Any:
        value = self.either()
        if self.peek() != ("end", None):
            raise Refused(f"unexpected {self.peek()[1]!r} in an expression")
        return value

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.at]

    def take(self, op: str | None = None) -> tuple[str, Any]:
        token = self.tokens[self.at]
        if op is not None and token != ("op", op):
            raise Refused(f"expected {op!r}, found {token[1]!r} in an expression")
        self.at += 1
        return token

    def either(self) -> Any:
        value = self.both()
        while self.peek() == ("op", "||"):
            self.take()
            other = self.both()
            value = value if truthy(value) else other
        return value

    def both(self) -> Any:
        value = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            other = self.comparison()
            value = other if truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in COMPARE:
            op = self.take()[1]
            value = COMPARE[op](value, self.unary())
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix(self.primary())

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "lit":
            return value
        if (kind, value) == ("op", "("):
            inner = self.either()
            self.take(")")
            return inner
        if kind != "name":
            raise Refused(f"unexpected {value!r} in an expression")
        lowered = value.lower()
        if lowered in {"true", "false", "null"}:
            return {"true": True, "false": False, "null": None}[lowered]
        if self.peek() == ("op", "("):
            self.take()
            args = []
            while self.peek() != ("op", ")"):
                args.append(self.either())
                if self.peek() == ("op", ","):
                    self.take()
            self.take(")")
            if lowered in STATUS:
                self.status_used = True
                return self.context["_status"](lowered)
            if lowered not in FUNCTIONS:
                raise Refused(f"unknown function {value}() in an expression")
            return FUNCTIONS[lowered](*args)
        if value not in self.context:
            raise Refused(f"unknown context {value!r} in an expression")
        return self.context[value]

    def postfix(self, value: Any) -> Any:
        while self.peek() in {("op", "."), ("op", "[")}:
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.either()
                self.take("]")
            if isinstance(value, list) and isinstance(key, int):
                value = value[key] if -len(value) <= key < len(value) else None
            else:
                value = value.get(key) if isinstance(value, dict) else None
        return value


def evaluate(text: str, context: dict[str, Any]) -> tuple[Any, bool]:
    """An expression's value, and whether it called a status function."""
    expression = Expression(text, context)
    return expression.evaluate(), expression.status_used


EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def interpolate(value: Any, context: dict[str, Any]) -> Any:
    """Evaluate each ${{ }} in value (strings inside lists and dicts too). A
    string that is one expression keeps its value's type, as fromJSON needs."""
    if isinstance(value, dict):
        return {k: interpolate(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    if not isinstance(value, str):
        return value
    if (whole := EMBEDDED.fullmatch(value.strip())) and "${{" not in whole[1]:
        return evaluate(whole[1], context)[0]

    def text(match: re.Match[str]) -> str:
        result = evaluate(match[1], context)[0]
        if isinstance(result, bool):
            return str(result).lower()
        return "" if result is None else str(result)

    return EMBEDDED.sub(text, value)


def condition(text: Any, context: dict[str, Any]) -> bool:
    """A job's or step's `if:`: success() is implied unless a status function
    is called; ${{ }} around it is optional."""
    if text is None:
        return bool(context["_status"]("success"))
    text = str(text).strip()
    if (whole := EMBEDDED.fullmatch(text)) is not None:
        text = whole[1]
    value, status_used = evaluate(text, context)
    return truthy(value) and (status_used or context["_status"]("success"))


# --- the event, and what the workflow holds ---------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def github_context(project: Path, event: str) -> dict[str, Any]:
    sha = git(project, "rev-parse", "HEAD")
    if event == "tag":
        tags = git(project, "tag", "--points-at", "HEAD").split()
        if not tags:
            raise Refused("the event `tag` needs a tag at HEAD, and HEAD has none")
        ref = f"refs/tags/{max(tags)}"
    else:
        ref = "refs/heads/main" if event == "push" else "refs/pull/1/merge"
    event_name = "pull_request" if event == "pull_request" else "push"
    payload = {"pull_request": {"number": 1}} if event == "pull_request" else {}
    return {
        "event_name": event_name,
        "ref": ref,
        "sha": sha,
        "workflow": "CI",
        "run_id": "1",
        "repository": f"local/{project.name}",
        "token": "a-local-run-has-no-github-token",
        "ref_name": ref.split("/")[-1],
        "event": payload,
    }


def triggered(on: Any, github: dict[str, Any]) -> bool:
    """Whether the `on:` filters start the workflow for this event."""
    on = (
        {on: None}
        if isinstance(on, str)
        else dict.fromkeys(on)
        if isinstance(on, list)
        else on
    )
    if github["event_name"] not in on:
        return False
    filters = on[github["event_name"]] or {}
    if github["event_name"] == "pull_request":
        return True  # the base branch, unknown here, is all a filter could name
    is_tag = github["ref"].startswith("refs/tags/")
    patterns = filters.get("tags" if is_tag else "branches")
    if patterns is None:  # a filter on the other kind only excludes this one
        return not filters.get("branches" if is_tag else "tags")
    return any(fnmatch.fnmatchcase(github["ref_name"], p) for p in patterns)


def check_known(workflow: dict[str, Any]) -> None:
    """Refuse, before anything runs, what this runner would have to guess."""
    for key in set(workflow) - WORKFLOW_KEYS:
        raise Refused(f"the workflow's key {key!r} is not known here")
    for job_id, job in workflow["jobs"].items():
        for key in set(job) - JOB_KEYS:
            raise Refused(f"job {job_id}: the key {key!r} is not known here")
        for number, step in enumerate(job.get("steps", []), 1):
            what = step.get("name") or step.get("uses") or step.get("id") or "run"
            where = f"job {job_id}, step {number} ({what})"
            for key in set(step) - STEP_KEYS:
                raise Refused(f"{where}: the key {key!r} is not known here")
            if "uses" in step:
                action = step["uses"].split("@")[0]
                if action not in ACTIONS:
                    raise Refused(
                        f"{where}: the action {step['uses']} is not known "
                        "here, so the workflow cannot run here"
                    )
                for key in set(step.get("with", {})) - ACTIONS[action]:
                    raise Refused(f"{where}: {action}'s input {key!r} is not known")
            elif step.get("shell", "bash") != "bash":
                raise Refused(f"{where}: only bash runs here, not {step['shell']}")


def job_order(jobs: dict[str, Any]) -> list[str]:
    """The jobs in an order where each comes after those it needs."""
    order: list[str] = []

    def visit(job_id: str, path: tuple[str, ...]) -> None:
        if job_id in path:
            raise Refused(f"the jobs need each other in a cycle: {' -> '.join(path)}")
        if job_id not in jobs:
            raise Refused(f"job {path[-1]} needs {job_id}, which does not exist")
        for needed in needs_of(jobs[job_id]):
            visit(needed, (*path, job_id))
        if job_id not in order:
            order.append(job_id)

    for job_id in jobs:
        visit(job_id, ())
    return order


def needs_of(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def expand_matrix(matrix: Any) -> list[dict[str, Any]]:
    """The combinations of a strategy.matrix: its product, with include/exclude."""
    if not matrix:
        return [{}]
    if not isinstance(matrix, dict):
        raise StepFailed(f"the matrix is not a mapping: {matrix!r}")
    include, exclude = matrix.get("include", []), matrix.get("exclude", [])
    axes = {k: v for k, v in matrix.items() if k not in {"include", "exclude"}}
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise StepFailed(f"the matrix's {key} is not a list of values: {values!r}")
    combos = [
        dict(zip(axes, c, strict=True)) for c in itertools.product(*axes.values())
    ]
    combos = (
        [
            c
            for c in combos
            if not any(all(c.get(k) == v for k, v in e.items()) for e in exclude)
        ]
        if axes
        else []
    )
    for extra in include:
        matching = [
            c for c in combos if all(c[k] == v for k, v in extra.items() if k in axes)
        ]
        for combo in matching:
            combo.update(extra)
        if not matching:
            combos.append(dict(extra))
    return combos


# --- the run ----------------------------------------------------------------


@dataclass
class Run:
    project: Path
    github: dict[str, Any]
    workflow: dict[str, Any]
    work: Path
    stand_ins: dict[str, str]
    assumed: set[str]
    index: dict[str, str]  # env for jobs allowed an OIDC token
    results: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: bool = False
    attempt: int = 1  # a re-run's jobs work apart; the run's artifacts are shared

    @property
    def artifacts(self) -> Path:
        return self.work / "artifacts"

    @property
    def jobs_dir(self) -> Path:
        return self.work if self.attempt == 1 else self.work / f"attempt-{self.attempt}"

    def base_env(self) -> dict[str, str]:
        """This machine's environment, without what a nox or venv around the
        runner would leak into the jobs."""
        venv = os.environ.get("VIRTUAL_ENV")
        path = [
            p
            for p in os.environ["PATH"].split(os.pathsep)
            if not venv or not p.startswith(venv)
        ]
        env = {
            k: v
            for k, v in os.environ.items()
            if k
            not in {
                "VIRTUAL_ENV",
                "PYTHONPATH",
                "CONDA_PREFIX",
                "GITHUB_ACTIONS",
                "NO_COLOR",
                "FORCE_COLOR",
            }
            and not k.startswith(
                ("NOX_", "PYTEST_", "TWINE_", "UV_", "COVERAGE_", "GITHUB_", "RUNNER_")
            )
        }
        # Not GITHUB_ACTIONS: the project's tools take it for a runner that
        # has trusted publishing, which is what this runner replaces. Colour is
        # the workflow's to set, as on GitHub's runners.
        return env | {"PATH": os.pathsep.join(path), "CI": "true"}

    def job(self, job_id: str) -> None:
        job = self.workflow["jobs"][job_id]
        needs = needs_of(job)
        context = {
            "github": self.github,
            "inputs": {},
            "vars": {},
            "secrets": {},
            "needs": {
                n: {"result": self.results[n], "outputs": self.outputs.get(n, {})}
                for n in needs
            },
        }
        results = [self.results[n] for n in needs]
        context["_status"] = lambda status: {
            "success": all(r == "success" for r in results),
            "failure": any(r == "failure" for r in results),
            "always": True,
            "cancelled": False,
        }[status]
        if not condition(job.get("if"), context):
            unmet = [
                f"{n} {self.results[n]}" for n in needs if self.results[n] != "success"
            ]
            implied = "if" in job and condition(
                job["if"], context | {"_status": lambda _: True}
            )
            why = (
                f"needs {', '.join(unmet)}"
                if unmet and (implied or "if" not in job)
                else f"`if: {job['if']}` is false"
            )
            report(job_id, "skipped", why)
            self.results[job_id] = "skipped"
            return
        if job_id in self.assumed:
            report(job_id, "not run (--assume-passed)", "taken as passed")
            self.results[job_id] = "success"
            return
        try:
            strategy = interpolate(job.get("strategy", {}), context)
            combos = expand_matrix(strategy.get("matrix"))
        except (StepFailed, Refused, json.JSONDecodeError, TypeError) as error:
            report(job_id, "failed", f"its matrix: {error}")
            self.results[job_id], self.failed = "failure", True
            return
        outcomes = []
        for number, matrix in enumerate(combos):
            named = f"{job_id}-{number}" if len(combos) > 1 else job_id
            where = self.jobs_dir / named
            outcomes.append(
                self.instance(job_id, job, context | {"matrix": matrix}, where)
            )
        elsewhere = [
            c for c, o in zip(combos, outcomes, strict=True) if o == "not run here"
        ]
        if elsewhere:
            where_ = sorted(
                {
                    str(interpolate(job.get("runs-on"), context | {"matrix": c}))
                    for c in elsewhere
                }
            )
            report(
                job_id,
                "not run here",
                f"{len(elsewhere)} of {len(combos)} run on {', '.join(where_)}",
            )
        ran = [o for o in outcomes if o != "not run here"]
        self.results[job_id] = "failure" if "failure" in ran else "success"

    def instance(
        self, job_id: str, job: dict[str, Any], context: dict[str, Any], where: Path
    ) -> str:
        name = str(interpolate(job.get("name", job_id), context))
        label = job_id if name == job_id else f"{job_id} ({name})"
        runs_on = interpolate(job.get("runs-on"), context)
        if runs_on not in HERE or platform.machine() not in {"x86_64", "AMD64"}:
            return "not run here"
        notes = []
        if "environment" in job:
            env_ = interpolate(job["environment"], context)
            env_ = env_ if isinstance(env_, dict) else {"name": env_}
            notes.append(
                f"environment {env_.get('name')}"
                + (f" ({env_['url']})" if env_.get("url") else "")
            )
        permissions = job.get("permissions", self.workflow.get("permissions", {}))
        notes.append(
            "permissions "
            + (", ".join(f"{k}: {v}" for k, v in (permissions or {}).items()) or "none")
        )
        env = dict(interpolate(self.workflow.get("env", {}), context))
        env |= interpolate(job.get("env", {}), context)
        token_for_oidc = (permissions or {}).get("id-token") == "write"
        if token_for_oidc:
            env |= self.index
            notes.append("a token of the local index in place of OIDC")
        if job_id in self.stand_ins:
            notes.append(f"stand-in for its run steps: {self.stand_ins[job_id]}")
        job_run = Job(self, job_id, where, env, context, token_for_oidc)
        started = time.monotonic()
        try:
            job_run.steps(job.get("steps", []))
            outputs = interpolate(job.get("outputs", {}), job_run.context())
            self.outputs.setdefault(job_id, {}).update(outputs)
        except StepFailed as failure:
            self.failed = True
            notes += job_run.notes
            report(label, "failed", f"{failure}; log: {job_run.log}", *notes)
            return "failure"
        notes += job_run.notes
        report(label, "passed", f"{time.monotonic() - started:.0f} s", *notes)
        return "success"


class Job:
    """One job (one matrix combination): a workspace, a PATH, its steps."""

    def __init__(
        self,
        run: Run,
        job_id: str,
        where: Path,
        env: dict[str, str],
        context: dict[str, Any],
        token_for_oidc: bool = False,
    ) -> None:
        self.run, self.job_id, self.env, self.base = run, job_id, env, context
        self.token_for_oidc = token_for_oidc  # the local index's, which signs nothing
        self.notes: list[str] = []  # for the job's line: what was not run here
        self.workspace = where / "workspace"
        self.temp = where / "temp"
        for path in (self.workspace, self.temp):
            path.mkdir(parents=True)
        self.log = where / "log.txt"
        self.path: list[str] = []
        self.steps_context: dict[str, Any] = {}
        self.outcome = "success"

    def context(self) -> dict[str, Any]:
        return self.base | {
            "env": self.env,
            "steps": self.steps_context,
            "_status": lambda s: {
                "success": self.outcome == "success",
                "failure": self.outcome == "failure",
                "always": True,
                "cancelled": False,
            }[s],
        }

    def steps(self, steps: list[dict[str, Any]]) -> None:
        for number, step in enumerate(steps, 1):
            context = self.context()
            what = step.get("name") or step.get("uses") or step["run"].split("\n")[0]
            if not condition(step.get("if"), context):
                continue
            step_env = self.env | {  # GitHub renders an env value as text
                k: "" if v is None else str(v)
                for k, v in interpolate(step.get("env", {}), context).items()
            }
            env = self.run.base_env() | step_env | self.github_env()
            env["PATH"] = os.pathsep.join([*self.path, env["PATH"]])
            outputs = self.temp / f"output-{number}"
            outputs.touch()
            env["GITHUB_OUTPUT"] = str(outputs)
            try:
                if "uses" in step:
                    action = step["uses"].split("@")[0]
                    inputs = interpolate(step.get("with", {}), context)
                    if why := self.not_here(action, inputs):
                        self.notes.append(
                            f"step {number} ({action}) not run here: {why}"
                        )
                        self.say(self.notes[-1])
                        if "id" in step:
                            skipped = {"outputs": {}, "outcome": "skipped"}
                            self.steps_context[step["id"]] = skipped
                        continue
                    ACTION_RUNNERS[action](self, inputs, env)
                else:
                    self.shell(step, context, env)
            except StepFailed as failure:
                self.outcome = "failure"
                raise StepFailed(f"step {number} ({what}): {failure}") from None
            if "id" in step:
                self.steps_context[step["id"]] = {
                    "outputs": read_outputs(outputs),
                    "outcome": "success",
                }

    def not_here(self, action: str, inputs: dict[str, Any]) -> str:
        """Why a step cannot do here what it does on GitHub ("" if it can)."""
        lines = str(inputs.get("path", "")).splitlines()  # a pattern a line
        paths = [p.strip() for p in lines if p.strip()]
        signed = bool(paths) and all(fnmatch.fnmatchcase(p, SIGNED) for p in paths)
        if action == "actions/upload-artifact" and self.token_for_oidc and signed:
            return (
                f"{inputs['path']} is what OIDC signing makes (the token that "
                "stands in for OIDC signs nothing)"
            )
        return ""

    def github_env(self) -> dict[str, str]:
        github = self.run.github
        return {
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_EVENT_NAME": github["event_name"],
            "GITHUB_REF": github["ref"],
            "GITHUB_REF_NAME": github["ref_name"],
            "GITHUB_SHA": github["sha"],
            "GITHUB_JOB": self.job_id,
            "RUNNER_OS": "Linux",
        }

    def say(self, line: str) -> None:
        with self.log.open("a") as log:
            log.write(f"[runner] {line}\n")

    def execute(
        self, command: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> None:
        with self.log.open("a") as log:
            log.write(f"[runner] $ {' '.join(command)}\n")
            log.flush()
            result = subprocess.run(
                command,
                cwd=cwd or self.workspace,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            raise StepFailed(f"exit code {result.returncode}")

    def shell(
        self, step: dict[str, Any], context: dict[str, Any], env: dict[str, str]
    ) -> None:
        script = self.run.stand_ins.get(self.job_id)
        script = script or interpolate(step["run"], context)
        cwd = self.workspace / step.get("working-directory", ".")
        path = self.temp / "step.sh"
        path.write_text(script)
        self.execute(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], env, cwd
        )


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT's name=value lines and name<<EOF blocks."""
    outputs, lines = {}, iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            outputs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


# --- the actions --------------------------------------------------------------


def checkout(job: Job, inputs: dict[str, Any], env: dict[str, str]) -> None:
    """A fresh clone at the event's commit: fetch-depth 1 (the default) fetches
    that commit alone, without tags; 0 fetches every branch and tag."""
    github, depth = job.run.github, int(inputs.get("fetch-depth", 1))
    ref, url = github["ref"], job.run.project.resolve().as_uri()
    git_ = ["git", "-C", str(job.workspace)]
    job.execute([*git_, "init", "--quiet"], env)
    job.execute([*git_, "remote", "add", "origin", url], env)
    if depth == 0:
        refspecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
        job.execute([*git_, "fetch", "--quiet", "--prune", "origin", *refspecs], env)
    else:
        local = (
            ref
            if ref.startswith("refs/tags/")
            else f"refs/remotes/origin/{github['ref_name']}"
        )
        source = ref if not ref.startswith("refs/pull/") else github["sha"]
        job.execute(
            [
                *git_,
                "fetch",
                "--quiet",
                "--no-tags",
                f"--depth={depth}",
                "origin",
                f"+{source}:{local}",
            ],
            env,
        )
    if ref.startswith("refs/heads/"):
        branch = ref.removeprefix("refs/heads/")
        job.execute([*git_, "checkout", "--quiet", "-B", branch, github["sha"]], env)
    else:
        job.execute([*git_, "checkout", "--quiet", "--detach", github["sha"]], env)
    persist = str(inputs.get("persist-credentials", True)).lower() != "false"
    if persist:  # what actions/checkout leaves in .git/config: a token for git
        job.execute(
            [
                *git_,
                "config",
                "--local",
                "http.https://github.com/.extraheader",
                "AUTHORIZATION: basic bG9jYWw6bm90LWEtcmVhbC10b2tlbg==",
            ],
            env,
        )
    job.say(
        f"checked out {ref} at {github['sha'][:12]}, fetch-depth {depth}, "
        f"credentials {'persisted' if persist else 'not persisted'}"
    )


PROBE = (
    "import sys, sysconfig; print(f'{sys.version_info[0]}.{sys.version_info[1]}'"
    " + ('t' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''),"
    " sys.executable)"
)


def find_python(version: str) -> Path | None:
    """An interpreter of this version on this machine (PATH, pyenv, uv's)."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    dirs += map(str, sorted(Path.home().glob(".pyenv/versions/*/bin")))
    uv_dir = (
        subprocess.run(
            ["uv", "python", "dir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if shutil.which("uv")
        else ""
    )
    dirs += map(str, sorted(Path(uv_dir).glob("*/bin"))) if uv_dir else []
    for directory in dirs:
        candidate = Path(directory, f"python{version}")
        if not candidate.is_file():
            continue
        probe = subprocess.run(
            [candidate, "-c", PROBE], capture_output=True, text=True, check=False
        )
        found, _, executable = probe.stdout.strip().partition(" ")
        if probe.returncode == 0 and found == version:
            return Path(executable)
    return None


def setup_python(job: Job, inputs: dict[str, Any], env: dict[str, str]) -> None:
    version = str(inputs.get("python-version", "")).strip()
    if not re.fullmatch(r"3\.\d+t?", version):
        raise StepFailed(f"python-version {version!r}: only 3.X or 3.Xt is known here")
    python = find_python(version)
    if python is None:
        raise StepFailed(f"no Python {version} on this machine")
    bin_dir = job.temp / f"python-{version}"
    bin_dir.mkdir(exist_ok=True)
    for name in ("python", "python3", f"python{version}"):
        (bin_dir / name).unlink(missing_ok=True)
        (bin_dir / name).symlink_to(python)
    job.path.insert(0, str(bin_dir))
    job.say(f"Python {version}: {python}")


def setup_uv(job: Job, inputs: dict[str, Any], env: dict[str, str]) -> None:
    """uv.lock's uv (installed once into ~/.cache if it differs from this
    machine's), or this machine's uv when the lock names none."""
    local = shutil.which("uv", path=env["PATH"])
    here = (
        subprocess.run(
            [local, "--version"], capture_output=True, text=True, check=False
        ).stdout.split()[1]
        if local
        else None
    )
    wanted = inputs.get("version")
    if (
        not wanted
        and (lock := job.workspace / inputs.get("version-file", "")).is_file()
    ):
        packages = tomllib.loads(lock.read_text()).get("package", [])
        wanted = next((p["version"] for p in packages if p["name"] == "uv"), None)
    if not wanted or wanted == here:
        if local is None:
            raise StepFailed("no uv on this machine")
        why = "as uv.lock pins it" if wanted else "uv.lock pins none"
        job.say(f"uv {here}, this machine's ({why}): {local}")
        job.path.insert(0, str(Path(local).parent))
        return
    target = Path.home() / ".cache" / "wheelwright-workflow" / f"uv-{wanted}"
    if not (target / "bin" / "uv").is_file():
        job.execute(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--target",
                str(target),
                f"uv=={wanted}",
            ],
            env,
        )
    job.say(
        f"uv {wanted}, as uv.lock pins it (this machine has {here or 'none'}): {target}"
    )
    job.path.insert(0, str(target / "bin"))


def upload_artifact(job: Job, inputs: dict[str, Any], env: dict[str, str]) -> None:
    name = inputs.get("name", "artifact")
    store = job.run.artifacts / name
    overwrite = str(inputs.get("overwrite", False)).lower() == "true"  # a boolean input
    if store.exists() and overwrite:
        shutil.rmtree(store)  # GitHub deletes the earlier one, then uploads
    elif store.exists():  # GitHub's words: artifacts of a run are its attempts'
        raise StepFailed(
            "Failed to CreateArtifact: (409) Conflict: an artifact with this "
            f"name ({name}) already exists on the workflow run"
        )
    files = []
    for pattern in str(inputs["path"]).split("\n"):
        if pattern.strip():
            matched = sorted(job.workspace.glob(pattern.strip().rstrip("/")))
            for path in matched:
                files += [
                    (p, p.relative_to(path if path.is_dir() else path.parent))
                    for p in ([*path.rglob("*")] if path.is_dir() else [path])
                    if p.is_file()
                ]
    if not files:
        behaviour = inputs.get("if-no-files-found", "warn")
        message = f"no files found at {inputs['path']} for the artifact {name}"
        if behaviour == "error":
            raise StepFailed(message)
        job.say(f"{'warning: ' if behaviour == 'warn' else ''}{message}")
        return
    for path, relative in files:
        (store / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, store / relative)
    job.say(f"uploaded {name}: {len(files)} files")


def download_artifact(job: Job, inputs: dict[str, Any], env: dict[str, str]) -> None:
    target = job.workspace / inputs.get("path", ".")
    stored = (
        sorted(p.name for p in job.run.artifacts.glob("*"))
        if job.run.artifacts.is_dir()
        else []
    )
    if "name" in inputs:
        if inputs["name"] not in stored:
            raise StepFailed(f"no artifact named {inputs['name']}")
        names, merge = [inputs["name"]], True
    else:
        pattern = inputs.get("pattern", "*")
        names = [n for n in stored if fnmatch.fnmatchcase(n, pattern)]
        merge = str(inputs.get("merge-multiple", False)).lower() == "true"
    for name in names:
        shutil.copytree(
            job.run.artifacts / name,
            target if merge else target / name,
            dirs_exist_ok=True,
        )
    job.say(f"downloaded {', '.join(names) or 'no artifacts'} into {target}")


ACTION_RUNNERS = {
    "actions/checkout": checkout,
    "actions/setup-python": setup_python,
    "astral-sh/setup-uv": setup_uv,
    "actions/upload-artifact": upload_artifact,
    "actions/download-artifact": download_artifact,
}


def report(job: str, result: str, why: str = "", *notes: str) -> None:
    details = "; ".join(filter(None, [why, *notes]))
    print(f"{job:<40} {result}" + (f": {details}" if details else ""), flush=True)


def run_workflow(
    project: Path,
    event: str,
    work: Path,
    stand_ins: dict[str, str],
    assumed: set[str],
    index: dict[str, str],
    rerun: bool = False,
) -> int:
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    workflow["on"] = workflow.pop(
        True, workflow.get("on")
    )  # YAML 1.1 reads on: as true
    github = github_context(project, event)
    check_known(workflow)
    for job_id in [*stand_ins, *assumed]:
        if job_id not in workflow["jobs"]:
            raise Refused(f"--stand-in or --assume-passed names {job_id}, not a job")
    print(f"{event}: {github['ref']} at {github['sha'][:12]} ({project})")
    if not triggered(workflow["on"], github):
        print("The workflow's `on:` does not start it for this event: no job runs.")
        return 0
    failed = False
    for attempt in (1, 2) if rerun else (1,):
        if attempt > 1:
            print(f"Re-run all jobs (attempt {attempt}), the run's artifacts kept:")
        run = Run(project, github, workflow, work, stand_ins, assumed, index)
        run.attempt = attempt
        for job_id in job_order(workflow["jobs"]):
            run.job(job_id)
        failed = failed or run.failed
    for job_id, command in stand_ins.items():
        print(f"Note: {job_id} ran `{command}` in place of its run steps here.")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("event", choices=EVENTS)
    parser.add_argument("--stand-in", action="append", default=[], metavar="JOB=CMD")
    parser.add_argument(
        "--assume-passed",
        action="append",
        default=[],
        metavar="JOB",
        help="do not run JOB; take it as passed",
    )
    parser.add_argument("--index-url", help="an index to publish to (else pypiserver)")
    parser.add_argument("--index-token", default="local-token")
    parser.add_argument("--work", type=Path, help="where jobs run (else a temp dir)")
    parser.add_argument(
        "--rerun", action="store_true", help="then re-run all jobs in the same run"
    )
    args = parser.parse_args(argv)
    stand_ins = dict(s.split("=", 1) for s in args.stand_in)
    work = args.work or Path(tempfile.mkdtemp(prefix="workflow-"))
    server, url = None, args.index_url
    if url is None:
        sys.path.insert(0, str(Path(__file__).parent))
        import package_index

        server, local = package_index.start(work / "index", work / "index.log")
        url = local.url
    url = url.rstrip("/") + "/"
    index = {
        "TWINE_REPOSITORY_URL": url,
        "TWINE_USERNAME": "__token__",
        "TWINE_PASSWORD": args.index_token,
        "PUBLISH_SIMPLE_URL": f"{url}simple/",
        "UV_PUBLISH_URL": url,
        "UV_PUBLISH_TOKEN": args.index_token,
    }
    print(f"Jobs run in {work}; publishing goes to {url}")
    try:
        return run_workflow(
            args.project.resolve(),
            args.event,
            work,
            stand_ins,
            set(args.assume_passed),
            index,
            rerun=args.rerun,
        )
    except Refused as refused:
        print(f"Not run: {refused}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            held = sorted(p.name for p in (work / "index").iterdir())
            print(f"The local index holds: {', '.join(held) or 'nothing'}")
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
