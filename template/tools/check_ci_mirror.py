"""Check that the GitHub Actions workflows mirror the nox sessions.

The promise: every CI job *is* the nox session of the same name, and nothing in
a workflow changes what that session does. So this is an allowlist: GRAMMAR is
every key a wheelwright workflow, job and step may have and the values each may
take; anything else is refused. One function, `mirror`, checks the meaning: a
job runs the session it is named after, its matrix expands to exactly the
noxfile's parametrizations, and every session has a job unless it is tagged
local-only (`@nox.session(tags=["local-only"])`).

A shape you truly need is declared in pyproject.toml, [tool.wheelwright.ci]
`allow`; every run prints each one, so CI never differs from nox silently.

Usage: python tools/check_ci_mirror.py [--root DIR]
Prints one line per finding (file:line: job: key: what to do) and exits 1, or a
summary and exits 0. The sessions come from nox itself (`nox --list --json`).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nox.project
import yaml

LOCAL_ONLY = "local-only"
TABLE = "[tool.wheelwright.ci] allow"
ALLOW = f"pyproject.toml {TABLE}"
Problems = Iterator[tuple[int, str, str]]  # line, key, what is wrong and what to do


def matrix(dimension: str) -> str:
    """The regex of `${{ matrix.<dimension> }}`, the only expressions allowed."""
    return r"\$\{\{ *matrix\." + dimension + r" *\}\}"


# --- the kinds of value a key may take ---------------------------------------


class Lined(dict[Any, Any]):
    """A YAML mapping that knows its line and its keys' lines."""

    line: int
    lines: dict[Any, int]


@dataclass(frozen=True)
class Text:
    """A string matching `pattern`; a `${{ matrix.x }}` in it must be in the matrix."""

    pattern: str
    hint: str

    def check(self, value: Any, key: str, line: int, dims: frozenset[str]) -> Problems:
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            yield line, key, f"{value!r} is not allowed: use {self.hint}"
            return
        for dim in sorted(set(re.findall(r"matrix\.(\w+)", value)) - dims):
            yield line, key, f"uses matrix.{dim}, which strategy.matrix does not list"


@dataclass(frozen=True)
class Exactly:
    value: Any

    @property
    def hint(self) -> str:
        return json.dumps(self.value)

    def check(self, value: Any, key: str, line: int, dims: frozenset[str]) -> Problems:
        if not same(value, self.value):
            shown = json.dumps(value, default=str)
            yield line, key, f"{shown} is not allowed: write {self.hint}"


def same(value: Any, expected: Any) -> bool:
    """Equal, and of the same types all the way down: 1 is not true, "1" not 1."""
    if isinstance(value, dict) and isinstance(expected, dict):
        pairs = [(value[k], expected[k]) for k in expected if k in value]
        return value.keys() == expected.keys() and all(same(*pair) for pair in pairs)
    return type(value) is type(expected) and value == expected


@dataclass(frozen=True)
class Typed:
    """A literal of one type: `true`, `20`, never an expression."""

    type: type
    hint: str

    def check(self, value: Any, key: str, line: int, dims: frozenset[str]) -> Problems:
        if type(value) is not self.type:
            yield line, key, f"{value!r} is not allowed: use {self.hint}"


@dataclass(frozen=True)
class ListOf:
    item: Any  # a Text or a Map
    hint: str

    def check(self, value: Any, key: str, line: int, dims: frozenset[str]) -> Problems:
        if not isinstance(value, list):
            yield line, key, f"{value!r} is not allowed: use {self.hint}"
            return
        for index, item in enumerate(value):
            yield from self.item.check(item, f"{key}[{index}]", line, dims)


@dataclass(frozen=True)
class Map:
    """These keys and no other; the `required` ones must be there."""

    keys: dict[str, Any]  # name: a Text, Exactly, Typed, ListOf, Map or Steps
    required: tuple[str, ...] = ()
    hint: str = "a mapping, as the template writes it"

    def check(self, value: Any, key: str, line: int, dims: frozenset[str]) -> Problems:
        if value is None and not self.required:
            return  # `pull_request:` with nothing under it
        if not isinstance(value, Lined):
            yield line, key, f"{value!r} is not allowed: use {self.hint}"
            return
        for name in self.required:
            if name not in value:
                hint = self.keys[name].hint
                yield line, join(key, name), f"is missing: add it ({hint})"
        for name, item in value.items():
            path, item_line = join(key, name), value.lines[name]
            if name in self.keys:
                yield from self.keys[name].check(item, path, item_line, dims)
            else:
                why = WHY.get(name) or WHY.get(key.rpartition(".")[2]) or WHY[""]
                yield item_line, path, SAYS["refused"].format(why, ALLOW)


@dataclass(frozen=True)
class Steps:
    """Steps of the kinds in STEPS, in the order `order` (a regex over kinds) says."""

    order: str
    hint: str

    def check(self, value: Any, key: str, line: int, dims: frozenset[str]) -> Problems:
        if not isinstance(value, list):
            yield line, key, f"{value!r} is not allowed: use a list of steps"
            return
        kinds = [step_kind(step) for step in value]
        for index, (step, kind) in enumerate(zip(value, kinds, strict=True)):
            path, step_line = f"{key}[{index}]", getattr(step, "line", line)
            if kind:
                yield from STEPS[kind].check(step, path, step_line, dims)
            elif isinstance(step, dict) and "uses" in step:
                yield step_line, f"{path}.uses", SAYS["action"].format(step["uses"])
            else:
                command = step.get("run") if isinstance(step, dict) else step
                yield step_line, f"{path}.run", SAYS["command"].format(command)
        runs = sum(str(kind).startswith("nox") for kind in kinds)
        order = " ".join(map(str, kinds))
        if runs != 1:
            yield line, key, SAYS["runs"].format(runs)
        elif None not in kinds and not re.fullmatch(self.order, order):
            yield line, key, SAYS["order"].format(order, self.hint)


def join(key: str, name: Any) -> str:
    return f"{key}.{name}" if key else str(name)


def step_kind(step: Any) -> str | None:
    """Which of STEPS a step is, by its action or its command (None: neither)."""
    if not isinstance(step, dict):
        return None
    if "uses" in step:
        return ACTIONS.get(str(step["uses"]).partition("@")[0])
    command = str(step.get("run"))
    if command == "nox":
        return "nox-from-matrix"
    if command.startswith("nox "):
        return "nox"
    return "install-nox" if command.startswith("python -m pip install ") else None


# --- the grammar -------------------------------------------------------------
# fmt: off
LITERAL = r"(?:[^$\n]|\$(?!\{\{))*"  # one line, no expression
LABEL = r"(?:[^$\n]|\$(?!\{\{)|" + matrix("(?:python|os)") + ")*"
RUNNER = (r"ubuntu-(?:latest|\d\d\.\d\d)(?:-arm)?|ubuntu-slim|windows-(?:latest|\d{4})"
          r"|windows-11-arm|macos-(?:latest|\d\d)(?:-intel|-large|-xlarge)?")
VERSION = r"3\.\d+t?"
NAME = Text(LABEL, "one line; its only expressions ${{ matrix.python }}, ${{ matrix.os }}")
MINUTES = Typed(int, "a whole number of minutes, not an expression")
TEXTS = ListOf(Text(LITERAL, "text without expressions"), "a list")


def action(name: str, inputs: dict[str, Any], required: tuple[str, ...]) -> Map:
    pinned = Text(re.escape(name) + "@[0-9a-f]{40}", f"{name}@<full commit SHA>")
    return Map({"name": NAME, "timeout-minutes": MINUTES, "uses": pinned,
                "with": Map(inputs, required)}, required=("with",))


def command(run: Any, env: dict[str, Any] | None = None) -> Map:
    extra = {"env": Map(env, tuple(env), hint="NOXSESSION only")} if env else {}
    return Map({"name": NAME, "timeout-minutes": MINUTES, "run": run, **extra},
               required=tuple(extra))


STEPS = {  # every step a job may have, by kind
    "checkout": action("actions/checkout", {
        "persist-credentials": Exactly(False), "fetch-depth": Typed(int, "0, or a depth")},
        required=("persist-credentials",)),
    "setup-python": action("actions/setup-python", {
        "python-version": Text(f"{matrix('python')}|{VERSION}|(?:{VERSION}\n)+",
                               '"3.14", versions one a line, or ${{ matrix.python }}'),
        "allow-prereleases": Typed(bool, "true or false")}, required=("python-version",)),
    "download-artifact": action("actions/download-artifact", {
        "path": Exactly("dist/"), "merge-multiple": Exactly(True)},
        required=("path", "merge-multiple")),
    "install-nox": command(Text(r'python -m pip install "nox\[uv\](?:>=|==)[\d.]+"',
                                'python -m pip install "nox[uv]>=<version>", nothing more')),
    "nox": command(Text(r"nox -s [\w.-]+", "nox -s <session>, nothing more: options "
                        "belong in the noxfile")),
    "nox-from-matrix": command(Exactly("nox"), {"NOXSESSION": Text(
        r"(?:[\w.-]|" + matrix("python") + ")+", "<session>-${{ matrix.python }}")}),
    "upload-artifact": action("actions/upload-artifact", {
        "name": Text(LABEL, "a name, which may hold ${{ matrix.os }}"),
        "path": Text(r"dist/(?:\*\.whl)?", "dist/, what the session built"),
        "if-no-files-found": Exactly("error"), "retention-days": Typed(int, "days")},
        required=("name", "path")),
}
ACTIONS = {f"actions/{kind}": kind for kind in (
    "checkout", "setup-python", "download-artifact", "upload-artifact")}
JOB = {  # the keys every job may have
    "name": NAME, "timeout-minutes": MINUTES,
    "needs": ListOf(Text(r"[\w-]+", "a job id"), "a list of job ids"),
    "runs-on": Text(f"{RUNNER}|{matrix('os')}", "a GitHub-hosted runner label "
                    "(ubuntu-latest, macos-latest, windows-latest, ...) or ${{ matrix.os }}"),
}
MATRIX = {
    "python": ListOf(Text(VERSION, 'a quoted version: "3.10", "3.14t"'), "a literal list"),
    "os": ListOf(Text(RUNNER, "a GitHub-hosted runner label"), "a literal list"),
}
CHECK_JOB = Map({
    **JOB,
    "permissions": Exactly({"contents": "read"}),
    "strategy": Map({
        "fail-fast": Typed(bool, "true or false"), "max-parallel": Typed(int, "a number"),
        "matrix": Map(MATRIX, hint="literal lists (python: [...], os: [...]), which the "
                      "checker can compare with the noxfile")}, required=("matrix",)),
    "steps": Steps(r"checkout setup-python install-nox nox\S*(?: upload-artifact)*",
                   "checkout, setup-python, install-nox, nox, then any upload-artifact"),
}, required=("runs-on", "permissions", "steps"))


def publish(condition: str, index: str, url: str) -> Map:
    return Map({
        **JOB,
        "if": Exactly(condition),
        "environment": Map({"name": Exactly(index), "url": Text(re.escape(url) + r"[\w.-]+",
                                                                url + "<project>")}, ("name",)),
        "permissions": Exactly({"contents": "read", "id-token": "write"}),
        "steps": Steps("checkout setup-python download-artifact install-nox nox",
                       "checkout, setup-python, download-artifact, install-nox, nox"),
    }, required=("if", "needs", "runs-on", "environment", "permissions", "steps"))


JOBS = {  # the publish jobs; any other job is a CHECK_JOB
    "publish_test": publish("github.event_name == 'workflow_dispatch' || (github.event_name"
                            " == 'push' && github.ref == 'refs/heads/main')",
                            "testpypi", "https://test.pypi.org/p/"),
    "publish": publish("github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')",
                       "pypi", "https://pypi.org/p/"),
}
GRAMMAR = Map({
    "name": Text(LITERAL, "one line of text"),
    "on": Map({
        "push": Map({"branches": TEXTS, "tags": TEXTS}),
        "pull_request": Map({"branches": TEXTS}),
        "workflow_dispatch": Exactly(None), "merge_group": Exactly(None),
        "schedule": ListOf(Map({"cron": Text(LITERAL, "a cron line")}, ("cron",)), "a list"),
    }),
    "permissions": Exactly({}),
    "concurrency": Exactly({
        "group": "${{ github.workflow }}-${{ github.event.pull_request.number || github.run_id }}",
        "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    }),
    "env": Map({"FORCE_COLOR": Exactly("1")}, hint="FORCE_COLOR only"),
    "jobs": Typed(Lined, "a mapping of job ids to jobs"),  # each job: JOBS or CHECK_JOB
}, required=("on", "permissions", "jobs"))
WHY = {  # why the keys people reach for first are refused, by key or parent key
    "": "it is not part of a wheelwright workflow",
    "with": "an input the template does not set changes what the action does",
    "env": "variables change what nox, pip, uv and Python do",
    "shell": "CI would run nox in another shell than yours",
    "defaults": "it sets the shell or directory of every step",
    "working-directory": "nox runs from the project root, in CI as on your machine",
    "if": "a condition lets CI skip what nox runs",
    "continue-on-error": "a failure would pass",
    "container": "CI would run in another system than the runner's",
    "services": "the sessions would see services that nox does not start",
    "environment": "only the publish jobs deploy, each to its own environment",
    "uses": "a reusable workflow runs what the noxfile cannot see",
    "include": "it adds jobs beside the lists' product, which mirrors the noxfile",
    "exclude": "it drops jobs the noxfile runs",
    "pull_request_target": "it runs a fork's code with this repository's secrets",
}
SAYS = {  # every other message, by what it is about
    "refused": "not allowed: {}; delete it, or add it to {}",
    "action": "{!r} is not allowed: around its nox session a job only checks out, sets up Python, installs nox and moves artifacts",
    "command": "{!r} is not allowed: a job's one piece of work is its nox session; move that command into the noxfile",
    "runs": "run nox {} times: a job runs exactly one nox session",
    "order": "are {}: order them {}",
    "unused": "is not used by {}: use it there, or a job repeats the same session",
    "extra id": "runs '{}', which the noxfile does not define: drop it from the matrix, or add its Python to pyproject.toml's classifiers",
    "no session": "runs '{}', which the noxfile does not define: add the session, or delete the job",
    "rename": "runs session '{}': a job is named after its session; rename the job to '{}'",
    "missing id": "never runs '{}', which the noxfile defines: add it to the matrix, or drop it from the noxfile",
    "local": "runs '{}', which the noxfile tags local-only: delete the job, or drop the tag",
    "needs": "lacks '{}': a publish job runs only once every check passed; add it",
    "no job": "has no CI job: add a job '{0}' whose only work is 'nox -s {0}', or tag the session local-only",
    "bad allow": 'write { job = "<job>", key = "<key>", reason = "<why>" }',
    "unused allow": "matches no finding: give the job and key as a finding names them, or delete it",
}
# fmt: on


# --- the meaning -------------------------------------------------------------


def mirror(job_id: str, job: Lined, sessions: dict[str, Any]) -> Problems:
    """What a job the grammar accepts runs, against the noxfile.

    It runs exactly the sessions named after it (`nox -s test` runs every
    test-*); its matrix expands to all their ids and no other; each matrix
    dimension changes what it does; a publish job needs every check job.
    """
    steps = job["steps"] if isinstance(job.get("steps"), list) else []
    runs = [(i, s) for i, s in enumerate(steps) if str(step_kind(s)).startswith("nox")]
    if len(runs) != 1:  # possible only where an allowance covers it
        return
    ((index, step),) = runs
    if step_kind(step) == "nox":
        requested, key = str(step["run"]).removeprefix("nox -s "), f"steps[{index}].run"
    else:
        requested, key = str(dig(step, "env", "NOXSESSION")), f"steps[{index}].env"
    line, matrix_line = step.line, job.lines.get("strategy", step.line)
    setup = {dig(s, "with", "python-version") for s in steps} - {None}
    uses = {  # a dimension must change what runs, or it repeats the same session
        "python": ("NOXSESSION and setup-python's python-version", [requested, *setup]),
        "os": ("runs-on", [job.get("runs-on")]),
    }
    for dim, (where, places) in uses.items():
        if dig(job, "strategy", "matrix", dim) is not None and not all(
            re.search(matrix(dim), str(place)) for place in places
        ):
            yield matrix_line, f"strategy.matrix.{dim}", SAYS["unused"].format(where)
    pythons = dig(job, "strategy", "matrix", "python")
    if re.search(matrix("python"), requested) and isinstance(pythons, list):
        requested_ids = {re.sub(matrix("python"), str(v), requested) for v in pythons}
    else:
        requested_ids = {requested}
    ids: set[str] = set()
    for each in sorted(requested_ids):
        matched = {i for i, s in sessions.items() if each in (i, s["name"])}
        ids |= matched
        if not matched and each != requested:  # from the matrix
            yield matrix_line, "strategy.matrix.python", SAYS["extra id"].format(each)
        elif not matched:
            yield line, key, SAYS["no session"].format(each)
    names = {sessions[i]["name"] for i in ids}
    if names and names != {job_id}:
        yield line, key, SAYS["rename"].format(", ".join(sorted(names)), min(names))
    for missing in sorted(i for name in names for i in ids_of(sessions, name) - ids):
        yield matrix_line, "strategy.matrix.python", SAYS["missing id"].format(missing)
    for local in sorted(i for i in ids if is_local(sessions[i])):
        yield line, key, SAYS["local"].format(local)
    if job_id in JOBS:  # publish only what passed every check
        checks = {s["name"] for s in sessions.values() if not is_local(s)} - set(JOBS)
        for missing in sorted(checks - set(map(str, job.get("needs") or []))):
            yield job.lines.get("needs", line), "needs", SAYS["needs"].format(missing)


def dimensions(job: Any) -> frozenset[str]:
    """The job's matrix dimensions; all of them for a computed matrix, which is
    refused once rather than again at each use."""
    listed = dig(job, "strategy", "matrix")
    return frozenset(MATRIX if not isinstance(listed, dict | None) else listed or ())


def dig(value: Any, *keys: str) -> Any:
    """value[k1][k2]..., or None where a level is missing or not a mapping."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def is_local(session: dict[str, Any]) -> bool:
    return LOCAL_ONLY in session["tags"]


def sessions_of(sessions: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [sessions[i] for i in ids_of(sessions, name)]


def ids_of(sessions: dict[str, Any], name: str) -> set[str]:
    """The ids of a session's parametrizations: test -> {test-3.12, test-3.13}."""
    return {i for i, session in sessions.items() if session["name"] == name}


# --- reading the files -------------------------------------------------------


class WorkflowLoader(yaml.SafeLoader):
    """YAML as GitHub reads it: `on` is a key, not True (YAML 1.2 booleans), and
    no key twice or merged in (<<); mappings keep their lines for the messages."""

    def construct_lined(self, node: yaml.MappingNode) -> Lined:
        mapping = Lined()
        mapping.line, mapping.lines = node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            problem = "GitHub reads no merge key (<<): write the keys out"
            if key_node.tag != "tag:yaml.org,2002:merge":
                key = self.construct_object(key_node, deep=True)
                problem = "" if isinstance(key, Hashable) else "this cannot be a key"
                problem = f"{key!r} is given twice" if key in mapping else problem
            if problem:
                raise yaml.MarkedYAMLError(
                    problem=problem, problem_mark=key_node.start_mark
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.lines[key] = key_node.start_mark.line + 1
        return mapping


BOOL = "tag:yaml.org,2002:bool"
WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
WorkflowLoader.add_implicit_resolver(
    BOOL, re.compile("^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
WorkflowLoader.add_constructor("tag:yaml.org,2002:map", WorkflowLoader.construct_lined)


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


@dataclass(frozen=True)
class Finding:
    file: str
    line: int  # 0: none
    job: str  # "": the workflow itself
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        job = f"job '{self.job}'" if self.job else ""
        return ": ".join(part for part in (where, job, self.key, self.message) if part)


@dataclass(frozen=True)
class Allowance:
    """An entry of [tool.wheelwright.ci] allow: a refused shape, kept on purpose."""

    key: str  # as a finding names it, and all it holds; `*` matches in one part
    reason: str
    job: str = ""  # "": the workflow itself; "*": any job
    file: str = "*"  # a workflow's file name

    def covers(self, finding: Finding) -> bool:
        def glob(pattern: str, part: str = "[^/]") -> str:  # `*`: any run of `part`
            return re.escape(pattern).replace(r"\*", part + "*")

        return all(
            re.fullmatch(pattern, text)
            for pattern, text in (
                (glob(self.file), Path(finding.file).name),
                (glob(self.job), finding.job),
                (glob(self.key, "[^.]") + r"(?:[.\[].*)?", finding.key),
            )
        )

    def __str__(self) -> str:
        where = [
            self.file if self.file != "*" else "",
            f"job '{self.job}'" if self.job else "",
        ]
        parts = (ALLOW, *where, self.key, f"allowed: {self.reason}")
        return ": ".join(part for part in parts if part)


def load_allowances(root: Path) -> tuple[list[Allowance], list[Finding]]:
    path = root / "pyproject.toml"
    try:
        config = nox.project.load_toml(path) if path.is_file() else {}
    except ValueError as error:  # not TOML
        return [], [Finding("pyproject.toml", 0, "", "", f"invalid TOML: {error}")]
    entries = dig(config, "tool", "wheelwright", "ci", "allow") or []
    allowances, problems = [], []
    for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        try:
            allowance = Allowance(**entry)
            if all(isinstance(v, str) for v in vars(allowance).values()) and (
                allowance.key.strip() and allowance.reason.strip()
            ):
                allowances.append(allowance)
                continue
        except TypeError:
            pass
        where = f"{TABLE}[{index}]"
        problems.append(Finding("pyproject.toml", 0, "", where, SAYS["bad allow"]))
    return allowances, problems


# --- the check ---------------------------------------------------------------


def check(root: Path) -> tuple[list[Finding], list[Allowance], str]:
    """The findings no allowance covers, the allowances, and a summary."""
    sessions = load_sessions(root)
    allowances, findings = load_allowances(root)
    used: set[Allowance] = set()

    def unexcused(file: str, job: Any, problems: Problems) -> list[Finding]:
        found = [Finding(file, n, str(job), key, text) for n, key, text in problems]
        covering = {f: {a for a in allowances if a.covers(f)} for f in found}
        used.update(*covering.values())
        return [finding for finding in found if not covering[finding]]

    workflows = [*root.glob(".github/workflows/*.yml")]
    workflows += root.glob(".github/workflows/*.yaml")
    covered, jobs, unreadable = set(), 0, False
    for path in sorted(workflows):
        file = path.relative_to(root).as_posix()
        try:
            workflow = yaml.load(path.read_text(encoding="utf-8"), WorkflowLoader)
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            mark, unreadable = getattr(error, "problem_mark", None), True
            problem = getattr(error, "problem", None) or error
            line = mark.line + 1 if mark else 0
            findings.append(Finding(file, line, "", "", f"invalid YAML: {problem}"))
            continue
        findings += unexcused(file, "", GRAMMAR.check(workflow, "", 1, frozenset()))
        listed = dig(workflow, "jobs")
        for job_id, job in listed.items() if isinstance(listed, Lined) else ():
            jobs += 1
            spec, line = JOBS.get(job_id, CHECK_JOB), listed.lines[job_id]
            found = unexcused(file, job_id, spec.check(job, "", line, dimensions(job)))
            if not found:
                found = unexcused(file, job_id, mirror(job_id, job, sessions))
            covered.add(job_id)  # a broken job is not also a missing one
            findings += found
    names = sorted({s["name"] for s in sessions.values()})
    local = {n for n in names if all(map(is_local, sessions_of(sessions, n)))}
    missing = [] if unreadable else sorted(set(names) - local - covered)
    no_job = ((0, f"session '{n}'", SAYS["no job"].format(n)) for n in missing)
    findings += unexcused("noxfile.py", "", no_job)
    findings += [
        Finding("pyproject.toml", 0, "", f"{TABLE}[{index}]", SAYS["unused allow"])
        for index, allowance in enumerate(allowances)
        if allowance not in used
    ]
    summary = f"CI mirrors nox: {jobs} jobs, {len(names)} sessions"
    return findings, allowances, f"{summary} ({len(local)} {LOCAL_ONLY})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="default: .")
    root = parser.parse_args().root.resolve()
    findings, allowances, summary = check(root)
    for line in [*allowances, *findings] if findings else [*allowances, summary]:
        print(line)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
