"""Check that CI runs the noxfile's sessions and nothing else (`nox -s lint`).

tools/ci.schema.yml says what .github/workflows/ci.yml may hold; this applies
it, then checks what no schema sees: each session has a job (by its tags), the
publish jobs wait for all others, Read the Docs and pre-commit run what the
noxfile and uv.lock do. A shape you need goes in [tool.wheelwright.ci] allow.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError
from packaging.requirements import Requirement

CI = ".github/workflows/ci.yml"
TAG_JOBS = {"ci": "check", "ci-every-os": "check-every-os"}  # a tag's job
OWN_JOBS = {"build", "wheels", "publish_test", "publish", "release"}  # written out
DOCS = ["uv run --locked --only-group=nox nox -s docs"]
# fmt: off
# Hooks that run a lint tool, by id (a repository URL has many spellings).
HOOKS = {"ruff-check": "ruff", "ruff-format": "ruff", "zizmor": "zizmor",
         "codespell": "codespell", "check-github-workflows": "check-jsonschema",
         "check-dependabot": "check-jsonschema", "check-readthedocs": "check-jsonschema"}
SAYS = {  # what each finding of the checks below says
    "no job": "noxfile.py: session '{}': has no job: tag it ci, ci-every-os or local-only",
    "no tag job": CI + ": job '{}': is missing, and session '{}' runs there: add it",
    "no session": CI + ": job '{}': runs a session the noxfile lacks: add it, or delete the job",
    "needs": CI + ": job '{}': needs: lacks '{}': publish only once all else passed",
    "docs": f".readthedocs.yaml: build.jobs.build.html: build with {DOCS} alone, as CI",
    "rev": ".pre-commit-config.yaml: {}: rev {}: set it to {}{}, as uv.lock pins {}",
    "backend": "pyproject.toml: [dependency-groups] build-system: list what [build-system] requires",
    "workflow": ".github/workflows/{}: a workflow beside ci.yml: make its jobs sessions",
    "allow": "pyproject.toml: [tool.wheelwright.ci] allow[{}]: covers no finding: fix it or delete it",
}
# fmt: on


def load(path: Path) -> Any:
    """YAML as GitHub reads it: the key `on` is "on", not True."""
    data = yaml.safe_load(path.read_text("utf-8")) if path.is_file() else {}
    return (
        {"on" if k is True else k: v for k, v in data.items()}
        if type(data) is dict
        else data
    )


def against_schema(root: Path) -> Iterator[str]:
    schema, workflow = load(Path(__file__).with_name("ci.schema.yml")), load(root / CI)
    tree = yaml.compose((root / CI).read_text("utf-8"))
    for error in sorted(Draft202012Validator(schema).iter_errors(workflow), key=str):
        path, value = list(error.absolute_path), error.instance
        if error.validator.startswith("unevaluated"):  # a key or a step too many
            more = re.findall(r"'([^']*)'", error.message)[-1]
            path, what = [*path, more if type(value) is dict else len(value) - 1], ""
        elif error.validator == "required":
            what = f"lacks {error.message.split()[0]}: "
        else:
            shown = "it" if isinstance(value, dict | list) else json.dumps(value)
            what = f"{shown} is not the template's: "
        key = "".join(f"[{p}]" if type(p) is int else f".{p}" for p in path).lstrip(".")
        key = re.sub(r"^jobs\.([^.[]+)\.?", r"job '\1': ", key)
        yield f"{CI}:{line_of(tree, path)}: {key}{': ' * (key[-2:] != ': ')}{what}{fix(schema, error)}"


def line_of(node: Any, path: list[Any]) -> int:
    """The line of the value at a path, or of the nearest part of it there is."""
    for part in path:
        pairs = [(k.value, v) for k, v in node.value] if node.id == "mapping" else []
        found = dict(pairs).get(part) if pairs else None
        if node.id == "sequence" and type(part) is int and part < len(node.value):
            found = node.value[part]
        if found is None:
            break
        node = found
    return int(node.start_mark.line) + 1


def fix(schema: dict[str, Any], error: ValidationError) -> str:
    """The description nearest the failing part of the schema: what to do."""

    def chain(part: Any) -> Iterator[Any]:  # a subschema, then those it $refs
        while isinstance(part, dict | list):
            yield part
            ref = part.get("$ref", "") if isinstance(part, dict) else ""
            part = schema["$defs"].get(ref.rsplit("/", 1)[-1]) if ref else None

    parts, found = [schema], schema["description"]
    for step in error.absolute_schema_path:
        parts = [c[step] for p in parts for c in chain(p) if step in keys(c)]
        said = [c.get("description") for p in parts for c in chain(p) if keys(c) is c]
        found = next((s for s in said if isinstance(s, str)), found)
    return str(found)


def keys(part: dict[str, Any] | list[Any]) -> Any:
    return part if isinstance(part, dict) else range(len(part))


def meaning(root: Path, pyproject: dict[str, Any]) -> Iterator[str]:
    jobs = dig(load(root / CI), "jobs") or {}
    listing = [sys.executable, "-m", "nox", "--list", "--json", "-k", "True"]
    listed = subprocess.run(
        listing, cwd=root, capture_output=True, text=True, check=False
    )
    if listed.returncode:
        sys.exit(f"{listed.stderr}check_ci.py: nox lists no session: fix the noxfile")
    tags = {
        s["name"]: set(s["tags"]) for s in json.loads(listed.stdout.splitlines()[-1])
    }
    for name, tagged in sorted(tags.items()):
        job = next((TAG_JOBS[t] for t in TAG_JOBS if t in tagged), "")
        if not (job := job or (name if name in OWN_JOBS else "")):
            yield "" if "local-only" in tagged else SAYS["no job"].format(name)
        elif job not in jobs:
            yield SAYS["no tag job"].format(job, name)
    yield from (
        SAYS["no session"].format(j) for j in sorted(set(jobs) & OWN_JOBS - set(tags))
    )
    for job in sorted(j for j in jobs if j.startswith("publish")):
        done = {
            "sessions",
            "publish_test",
            "publish",
            "release",
            *(dig(jobs, job, "needs") or ()),
        }
        yield from (
            SAYS["needs"].format(job, need) for need in sorted(set(jobs) - done)
        )
    rtd = load(root / ".readthedocs.yaml")
    html = dig(rtd, "build", "jobs", "build", "html")
    if rtd and (html != DOCS or {"sphinx", "commands"} & {*rtd, *rtd.get("build", {})}):
        yield SAYS["docs"]
    lock = root / "uv.lock"
    packages = tomllib.loads(lock.read_text())["package"] if lock.is_file() else []
    locked = {p["name"]: p.get("version") for p in packages}
    for repo in dig(load(root / ".pre-commit-config.yaml"), "repos") or []:
        for tool in {HOOKS.get(hook.get("id")) for hook in repo.get("hooks", [])} - {
            None
        }:
            rev, want, v = (
                str(repo.get("rev")),
                locked.get(tool),
                "v" * repo.get("rev", "").startswith("v"),
            )
            if want and rev.removeprefix("v") != want:
                yield SAYS["rev"].format(repo["repo"], rev, v, want, tool)
    wanted = [
        dig(pyproject, "build-system", "requires"),
        dig(pyproject, "dependency-groups", "build-system"),
    ]
    if (
        len({frozenset(Requirement(r).name.lower() for r in w or []) for w in wanted})
        > 1
    ):
        yield SAYS["backend"]


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    pyproject = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    try:
        findings = [f for f in (*against_schema(root), *meaning(root, pyproject)) if f]
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", -1) + 1
        findings = [f"{CI}:{line}: not YAML: {getattr(error, 'problem', error)}"]
    others = sorted(root.glob(".github/workflows/*.y*ml"))
    findings += [SAYS["workflow"].format(p.name) for p in others if p.name != "ci.yml"]
    # An entry: { job = "check", key = "steps[2]", reason = "why" }: a job "*" is
    # any job, and a key covers those below it (no job: a key of the workflow).
    allow = dig(pyproject, "tool", "wheelwright", "ci", "allow") or []
    shapes = [
        f"*: job '{a.get('job')}': {a.get('key')}*"
        if a.get("job")
        else f"*: {a.get('key')}*"
        for a in allow
    ]
    used: set[int] = set()
    failed = 0
    for finding in findings:
        covering = [
            i
            for i, s in enumerate(shapes)
            if allow[i].get("reason") and fnmatch.fnmatchcase(finding, s)
        ]
        print(
            finding
            + (f" (allowed: {allow[covering[0]]['reason']})" if covering else "")
        )
        used, failed = used | set(covering), failed + (not covering)
    unused = [SAYS["allow"].format(i) for i in range(len(allow)) if i not in used]
    print(
        "\n".join(unused)
        or (f"CI runs the noxfile: {len(findings) - failed} allowed" * (not failed))
    )
    return 1 if failed or unused else 0


if __name__ == "__main__":
    sys.exit(main())
