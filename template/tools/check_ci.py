"""Check that CI runs the noxfile's sessions and nothing else (`nox -s lint`): the
check jobs come from `nox --list --json`, tools/ci.schema.yml says what else the
workflow may hold, and this applies it and checks what no schema sees (SAYS). A
shape you need goes in pyproject.toml, [tool.wheelwright.ci] allow."""

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
from jsonschema import Draft202012Validator

CI = ".github/workflows/ci.yml"
NOX = "uv run --locked --only-group=nox nox"
# The derived jobs: each runs the sessions of a tag, as listed into an output.
CHECKS = {"check": ("ci", "linux"), "check-every-os": ("ci-every-os", "every-os")}
LISTS = f'{{v}}=$({NOX} --list --json --tags {{t}})\necho "{{o}}=${{v}}" >> "$GITHUB_OUTPUT"\n'
SHALLOW = {"sessions"}  # it only lists; every other job computes the version
AFTER_ALL = {"publish_test", "publish"}  # they wait for every other job
BACKEND = ("dependency-groups", "build-system")  # uv.lock pins the backend here
RTD = {"html": [f"{NOX} -s docs"]}  # how Read the Docs builds: as CI does
# Hooks that run a lint tool, by id (a repository URL has many spellings).
HOOKS = {"ruff": "ruff", "ruff-check": "ruff", "ruff-format": "ruff", "zizmor": "zizmor",
         "codespell": "codespell", "check-github-workflows": "check-jsonschema",
         "check-dependabot": "check-jsonschema", "check-readthedocs": "check-jsonschema"}  # fmt: skip
SAYS = {  # what each finding says
    "key": "is not the template's (tools/ci.schema.yml): delete it",
    "list": "write exactly %r: the matrix is what nox lists",
    "depth": "fetch-depth: 0: a shallow clone has no tags, so no version nox has",
    "needs": "lacks '{}': publish only once every other job passed",
    "missing": "lacks '{}', where session '{}' runs: add it",
    "no job": "noxfile.py: session '{}': no job: tag it ci, ci-every-os or local-only",
    "docs": f".readthedocs.yaml: build.jobs.build: write {RTD}, and no other way",
    "rev": ".pre-commit-config.yaml: {}: rev {}: set it to {}{}, as uv.lock pins {}",
    "backend": "pyproject.toml: [dependency-groups] build-system: list what [build-system] requires",
    "workflow": ".github/workflows/{}: a workflow beside ci.yml: make it sessions",
    "allow": "pyproject.toml: [tool.wheelwright.ci] allow[{}]: covers no finding (it needs a key and a reason): fix it or delete it",
}


def load(root: Path, name: str) -> Any:
    """A file as GitHub reads it ({} if none); if it does not parse, one line."""
    try:
        text = (root / name).read_text("utf-8") if (root / name).is_file() else ""
        data: Any = tomllib.loads(text) if name[-5:] in (".toml", ".lock") else None
        data = yaml.safe_load(text) if data is None else data
    except (yaml.YAMLError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        line = getattr(getattr(error, "problem_mark", None), "line", 0) + 1
        sys.exit(f"{name}:{line}: not readable: {getattr(error, 'problem', error)}")
    if not isinstance(data, dict):
        return data if text else {}
    return {"on" if k is True else k: v for k, v in data.items()}


def dig(value: Any, *keys: Any) -> Any:  # None where there is no mapping to look in
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def check(root: Path, sessions: dict[str, set[str]]) -> Iterator[str]:
    data, schema = load(root, CI), load(Path(__file__).parent, "ci.schema.yml")
    found: list[tuple[list[Any], str]] = []  # in the workflow: where, and what
    for error in Draft202012Validator(schema).iter_errors(data):
        path, message = list(error.absolute_path), error.message
        message = dig(error.schema, "says") or message  # the schema's own words
        extra = re.findall(r"'([^']*)'", message.rsplit("(", 1)[-1])
        extra *= error.validator[-10:] == "Properties"  # a key too many: one each
        found += [([*path, key], SAYS["key"]) for key in extra] or [(path, message)]
    jobs = j if isinstance(j := dig(data, "jobs"), dict) else {}
    steps = {j: s if type(s := dig(jobs, j, "steps")) is list else [] for j in jobs}
    derived = [CHECKS[j] for j in CHECKS if j in jobs]
    runs = "".join(LISTS.format(t=t, o=o, v=o.replace("-", "_")) for t, o in derived)
    if dig((steps.get("sessions", []) + [{}] * 4)[3], "run") not in (None, runs):
        found += [(["jobs", "sessions", "steps", 3, "run"], SAYS["list"] % runs)]
    for job, i, step in [(j, i, s) for j in jobs for i, s in enumerate(steps[j])]:
        depth = 0 if job in SHALLOW else dig(step, "with", "fetch-depth")
        if str(dig(step, "uses")).startswith("actions/checkout") and depth != 0:
            found += [(["jobs", job, "steps", i, "with"], SAYS["depth"])]
    for job in [j for j in jobs if j in AFTER_ALL]:
        needs = n if type(n := dig(jobs, job, "needs")) is list else [n]
        lack = [j for j in jobs if j not in [*AFTER_ALL, *SHALLOW, *needs, "release"]]
        found += [(["jobs", job, "needs"], SAYS["needs"].format(j)) for j in lack]
    explicit = set(schema["properties"]["jobs"]["properties"]) - SHALLOW - set(CHECKS)
    for name, tags in sorted(sessions.items()):
        job = next((j for j in CHECKS if CHECKS[j][0] in tags), None)
        if (job := job or (name if name in explicit else None)) and job not in jobs:
            found += [(["jobs"], SAYS["missing"].format(job, name))]
        yield "" if job or "local-only" in tags else SAYS["no job"].format(name)
    for path, what in found:
        key = "".join(f"[{p}]" if type(p) is int else f".{p}" for p in path)
        key = re.sub(r"^jobs\.([^.[]+)\.?", r"job '\1': ", key.lstrip(".")) or "it"
        yield f"{CI}: {key}{': ' * (key[-2:] != ': ')}{what}"
    rtd = r if isinstance(r := load(root, ".readthedocs.yaml"), dict) else {"?": r}
    other = "sphinx" in rtd or "mkdocs" in rtd or dig(rtd, "build", "commands")
    if rtd and (other or dig(rtd, "build", "jobs", "build") != RTD):
        yield SAYS["docs"]
    lock = dig(load(root, "uv.lock"), "package") or []
    locked = {dig(p, "name"): dig(p, "version") for p in lock}
    repos = dig(load(root, ".pre-commit-config.yaml"), "repos")
    for repo in repos if type(repos) is list else []:
        hooks = h if type(h := dig(repo, "hooks")) is list else []
        for tool in sorted(filter(None, {HOOKS.get(str(dig(h, "id"))) for h in hooks})):
            rev, want = str(dig(repo, "rev")), locked.get(tool)
            if want and rev.removeprefix("v") != want:
                v = "v" * rev.startswith("v")
                yield SAYS["rev"].format(dig(repo, "repo"), rev, v, want, tool)
    toml = load(root, "pyproject.toml")
    wants = [dig(toml, "build-system", "requires"), dig(toml, *BACKEND)]
    names = [{re.split(r"[^\w.-]", str(r))[0].lower() for r in w or []} for w in wants]
    yield SAYS["backend"] * (names[0] != names[1])
    for other_file in sorted(root.glob(".github/workflows/*.y*ml")):
        yield SAYS["workflow"].format(other_file.name) * (other_file.name != "ci.yml")


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    nox = [sys.executable, "-m", "nox", "--list", "--json", "-k", "True"]
    out = subprocess.run(nox, cwd=root, capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(f"noxfile.py: nox lists no session: {out.stderr.strip()[-300:]!r}")
    listed = json.loads(out.stdout.splitlines()[-1])
    found = check(root, {s["name"]: set(s["tags"]) for s in listed})
    findings = [" ".join(f.split()) for f in found if f]
    # An entry: { job = "check", key = "steps[2]", reason = "why" }: a job "*" is
    # any job, and a key covers those below it (no job: a key of the workflow).
    allow = dig(load(root, "pyproject.toml"), "tool", "wheelwright", "ci", "allow")
    allow = [a if dig(a, "key") and dig(a, "reason") else {} for a in allow or []]
    shapes = [f"*: job '{a['job']}': " if a.get("job") else "*: " for a in allow]
    shapes = [f"{shapes[i]}{a['key']}*" if a else "" for i, a in enumerate(allow)]
    used, failed = set[int](), 0
    for f in findings:
        covers = [i for i, s in enumerate(shapes) if s and fnmatch.fnmatchcase(f, s)]
        print(f + (f" (allowed: {allow[covers[0]]['reason']})" if covers else ""))
        used, failed = used | set(covers), failed + (not covers)
    unused = [SAYS["allow"].format(i) for i in range(len(allow)) if i not in used]
    done = [f"CI runs the noxfile: {len(findings)} allowed"] * (not failed)
    sys.stdout.write("".join(f"{line}\n" for line in unused or done))
    return 1 if failed or unused else 0


if __name__ == "__main__":
    sys.exit(main())
