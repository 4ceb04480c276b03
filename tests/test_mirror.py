"""The mirror, proved: the workflows are held to an allowlist, so any edit that
makes CI differ from nox fails `nox -s lint` with one line naming it, and the
edits a user reasonably makes (or declares in [tool.wheelwright.ci]) pass.

Each case runs the real `nox -s lint` (ruff, the checker, zizmor --persona
pedantic, check-jsonschema) in a project rendered and warmed once per worker
and variant, reset with git between cases, with `-R` so no case reinstalls.
"""

from __future__ import annotations

import importlib.util
import random
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import copier
import pytest
from helpers import ROOT, git, git_commit_all, nox, run, tool

CHECKER = ROOT / "template" / "tools" / "check_ci_mirror.py"
CI = ".github/workflows/ci.yml"
# A line the checker prints: file[:line]: [job 'x': ]key: what to do.
FINDING = re.compile(
    r"^(?:\.github/workflows/[\w.-]+\.ya?ml:\d+|noxfile\.py|pyproject\.toml): "
)

ANSWER_SETS = [
    {},
    {"min_python": "3.11", "versioning": "static"},
    {"min_python": "3.15", "license": "GPL-3.0-or-later"},
    {"variant": "c-extension"},
    {"variant": "c-extension", "limited_api": True, "min_python": "3.12"},
]


def answer_id(answers: dict[str, object]) -> str:
    return "-".join(f"{k}={v}" for k, v in answers.items()) or "defaults"


def test_template_repository_mirrors_its_own_noxfile() -> None:
    result = run(sys.executable, CHECKER, "--root", ROOT, cwd=ROOT)
    assert result.stdout.startswith("CI mirrors nox: 3 jobs, 4 sessions (1 local-only)")


@pytest.mark.parametrize("answers", ANSWER_SETS, ids=answer_id)
def test_every_answer_set_passes_the_checker_zizmor_pedantic_and_the_schemas(
    render, answers: dict[str, object]
) -> None:
    project = render(**answers)
    result = run(sys.executable, "tools/check_ci_mirror.py", cwd=project)
    assert result.stdout.startswith("CI mirrors nox:"), result.stdout
    zizmor = run(
        tool("zizmor"), "--offline", "--persona", "pedantic", ".github", cwd=project
    )
    assert "No findings to report" in zizmor.stdout + zizmor.stderr
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        *workflows,
        cwd=project,
    )
    run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.dependabot",
        ".github/dependabot.yml",
        cwd=project,
    )


# --- the corpus ---------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    file: str
    old: str  # "": append `new` to the file (creating it)
    new: str

    def apply(self, project: Path) -> None:
        path = project / self.file
        text = path.read_text() if path.exists() else ""
        assert self.old in text, f"{self.old!r} not in {path}"
        path.write_text(
            text.replace(self.old, self.new, 1) if self.old else text + self.new
        )


def ci(old: str, new: str) -> Change:
    return Change(CI, old, new)


@dataclass(frozen=True)
class Case:
    changes: tuple[Change, ...]
    expect: str  # a line of lint's output holds it (a finding, or what passed)
    variant: str = "pure"
    by: str = "the checker"  # or the tool after it in lint that must catch it


def case(*changes: Change, expect: str, variant: str = "pure", by: str = "") -> Case:
    return Case(changes, expect, variant, by or "the checker")


LINT_STEP = "      - run: nox -s lint\n"
TEST_STEP = "          NOXSESSION: test-${{ matrix.python }}\n"
LINT_JOB = "  lint:\n    name: lint\n"
TEST_JOB = "  test:\n    name: test-${{ matrix.python }} on ${{ matrix.os }}\n"
INSTALL = '      - run: python -m pip install "nox[uv]>=2025.10.14"\n'
CHECKOUT = "        with:\n          persist-credentials: false\n"  # the lint job's
PYTHONS = '"3.11", "3.12", "3.13", "3.14", "3.15", "3.14t", "3.15t"'
WITHOUT_315T = PYTHONS.removesuffix(', "3.15t"')
WITHOUT_311 = PYTHONS.removeprefix('"3.11", ')
PUBLISH_IF = "if: github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
DOWNLOAD = "          merge-multiple: true\n"
SHA = "@3d3c42e5aac5ba805825da76410c181273ba90b1"
REFUSED = "not allowed: {}; delete it, or add it to pyproject.toml [tool.wheelwright.ci] allow"
AUDIT_SESSION = '''

@nox.session{}
def audit(session: nox.Session) -> None:
    """Audit the dependencies (CI job: audit)."""
    session.run("python", "-c", "print('audit')")
'''
AUDIT_JOB = (
    LINT_JOB.replace("lint", "audit")
    + """\
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0
        with:
          python-version: "3.14"
      - run: python -m pip install "nox[uv]>=2025.10.14"
      - run: nox -s audit
"""
)
EXTRA_YAML = """\
name: Extra

on:
  pull_request:

permissions: {}

concurrency:
  group: ${{ github.workflow }}-${{ github.event.pull_request.number || github.run_id }}
  cancel-in-progress: ${{ github.event_name == 'pull_request' }}

jobs:
""" + AUDIT_JOB.replace("audit", "lint").replace(
    "    name: lint\n", "    name: lint\n    bogus: 1\n"
)


def allow(**entry: str) -> Change:
    fields = ", ".join(f'{key} = "{value}"' for key, value in entry.items())
    return Change("pyproject.toml", "allow = []", f"allow = [{{ {fields} }}]")


BAD_YAML_JOB = (
    "name: extra\non:\n  push:\npermissions: {}\njobs:\n  lint:\n    bogus: 1\n"
)

MUTATIONS = {  # each must fail lint with a line naming it
    # What the issue lists
    "a shell on a step": case(
        ci(LINT_STEP, LINT_STEP + "        shell: bash\n"),
        expect="job 'lint': steps[3].shell: "
        + REFUSED.format("CI would run nox in another shell than yours"),
    ),
    "a job's defaults.run.shell": case(
        ci(LINT_JOB, LINT_JOB + "    defaults:\n      run:\n        shell: bash\n"),
        expect="job 'lint': defaults: not allowed: it sets the shell or directory",
    ),
    "the workflow's defaults.run.shell": case(
        ci("jobs:\n", "defaults:\n  run:\n    shell: pwsh\n\njobs:\n"),
        expect="defaults: not allowed: it sets the shell or directory of every step",
    ),
    "a working-directory": case(
        ci(LINT_STEP, LINT_STEP + "        working-directory: src\n"),
        expect="job 'lint': steps[3].working-directory: not allowed",
    ),
    "NOXSESSION on a plain nox step": case(
        ci(LINT_STEP, LINT_STEP + "        env:\n          NOXSESSION: typecheck\n"),
        expect="job 'lint': steps[3].env: "
        + REFUSED.format("variables change what nox, pip, uv and Python do"),
    ),
    "NOXFORCEPYTHON beside NOXSESSION": case(
        ci(TEST_STEP, TEST_STEP + '          NOXFORCEPYTHON: "3.14"\n'),
        expect="job 'test': steps[3].env.NOXFORCEPYTHON: not allowed: variables change",
    ),
    "NOX_DEFAULT_VENV_BACKEND in the workflow's env": case(
        ci(
            '  FORCE_COLOR: "1"\n',
            '  FORCE_COLOR: "1"\n  NOX_DEFAULT_VENV_BACKEND: venv\n',
        ),
        expect="env.NOX_DEFAULT_VENV_BACKEND: not allowed: variables change",
    ),
    "PYTHONPATH in a job's env": case(
        ci(LINT_JOB, LINT_JOB + "    env:\n      PYTHONPATH: src\n"),
        expect="job 'lint': env: not allowed: variables change",
    ),
    "PIP_INDEX_URL on the install step": case(
        ci(
            INSTALL,
            INSTALL + "        env:\n          PIP_INDEX_URL: https://evil.example\n",
        ),
        expect="job 'lint': steps[2].env: not allowed: variables change",
    ),
    "if: false on a job": case(
        ci(LINT_JOB, LINT_JOB + "    if: false\n"),
        expect="job 'lint': if: not allowed: a condition lets CI skip what nox runs",
    ),
    "if: on a step": case(
        ci(LINT_STEP, LINT_STEP + "        if: github.event_name == 'push'\n"),
        expect="job 'lint': steps[3].if: not allowed: a condition lets CI skip",
    ),
    "continue-on-error on a job": case(
        ci(TEST_JOB, TEST_JOB + "    continue-on-error: true\n"),
        expect="job 'test': continue-on-error: not allowed: a failure would pass",
    ),
    "continue-on-error on a step": case(
        ci(LINT_STEP, LINT_STEP + "        continue-on-error: true\n"),
        expect="job 'lint': steps[3].continue-on-error: not allowed",
    ),
    "an exclude that drops a Python": case(
        ci(
            f"python: [{PYTHONS}]\n",
            f'python: [{PYTHONS}]\n        exclude:\n          - python: "3.11"\n',
        ),
        expect="job 'test': strategy.matrix.exclude: not allowed: it drops jobs",
    ),
    "a container": case(
        ci(LINT_JOB, LINT_JOB + "    container: python:3.14\n"),
        expect="job 'lint': container: not allowed: CI would run in another system",
    ),
    "a self-hosted runner": case(
        ci(
            LINT_JOB + "    runs-on: ubuntu-latest\n",
            LINT_JOB + "    runs-on: self-hosted\n",
        ),
        expect="job 'lint': runs-on: 'self-hosted' is not allowed: use a GitHub-hosted",
    ),
    "a runner picked by labels": case(
        ci(
            LINT_JOB + "    runs-on: ubuntu-latest\n",
            LINT_JOB + "    runs-on: [self-hosted, linux]\n",
        ),
        expect="job 'lint': runs-on: ['self-hosted', 'linux'] is not allowed",
    ),
    "a checkout of another repository": case(
        ci(CHECKOUT, CHECKOUT + "          repository: evil/project\n"),
        expect="job 'lint': steps[0].with.repository: not allowed: an input the "
        "template does not set changes what the action does",
    ),
    "a checkout of another ref": case(
        ci(CHECKOUT, CHECKOUT + "          ref: refs/heads/unreviewed\n"),
        expect="job 'lint': steps[0].with.ref: not allowed",
    ),
    "a requirements file on the install step": case(
        ci(INSTALL, INSTALL.replace("install", "install -r requirements-evil.txt")),
        expect="job 'lint': steps[2].run: 'python -m pip install -r requirements-evil"
        '.txt "nox[uv]>=2025.10.14"\' is not allowed: use python -m pip install '
        '"nox[uv]>=<version>", nothing more',
    ),
    "another index on the install step": case(
        ci(INSTALL, INSTALL.replace('"nox', '--index-url https://evil.example "nox')),
        expect="job 'lint': steps[2].run: 'python -m pip install --index-url",
    ),
    "a publish job that always runs": case(
        ci(PUBLISH_IF, "if: always()"),
        expect="""job 'publish': if: "always()" is not allowed: write "github.event_name\
 == 'push' && startsWith(github.ref, 'refs/tags/v')\"""",
    ),
    "a renamed publish environment": case(
        ci("      name: pypi\n", "      name: release\n"),
        expect='job \'publish\': environment.name: "release" is not allowed: write "pypi"',
    ),
    "artifacts of another run": case(
        ci(DOWNLOAD, DOWNLOAD + "          run-id: 1234567890\n"),
        expect="job 'publish_test': steps[2].with.run-id: not allowed",
    ),
    "an action named like an allowed one": case(
        ci(f"actions/checkout{SHA}", f"actions/checkoutx{SHA}"),
        expect=f"job 'lint': steps[0].uses: 'actions/checkoutx{SHA}' is not allowed: "
        "around its nox session a job only checks out, sets up Python, installs nox "
        "and moves artifacts",
    ),
    "a computed matrix": case(
        ci(f"python: [{PYTHONS}]", "python: ${{ fromJSON(vars.PYTHONS) }}"),
        expect="job 'test': strategy.matrix.python: '${{ fromJSON(vars.PYTHONS) }}' is "
        "not allowed: use a literal list",
    ),
    "a .yaml workflow with a bad key": case(
        Change(".github/workflows/extra.yaml", "", BAD_YAML_JOB),
        expect="job 'lint': bogus: not allowed: it is not part of a wheelwright workflow",
    ),
    "a workflow that is not YAML": case(
        Change(".github/workflows/broken.yml", "", "name: broken\non: [push\n"),
        expect="invalid YAML: expected ',' or ']', but got '<stream end>'",
    ),
    # And more
    "a local action": case(
        ci(LINT_STEP, "      - uses: ./.github/actions/lint\n"),
        expect="job 'lint': steps[3].uses: './.github/actions/lint' is not allowed",
    ),
    "a docker action": case(
        ci(LINT_STEP, LINT_STEP + "      - uses: docker://alpine:3.20\n"),
        expect="job 'lint': steps[4].uses: 'docker://alpine:3.20' is not allowed",
    ),
    "an unpinned action": case(
        ci(f"actions/checkout{SHA}", "actions/checkout@v7"),
        expect="job 'lint': steps[0].uses: 'actions/checkout@v7' is not allowed: use "
        "actions/checkout@<full commit SHA>",
    ),
    "pull_request_target": case(
        ci("  pull_request:\n", "  pull_request_target:\n"),
        expect="on.pull_request_target: not allowed: it runs a fork's code",
    ),
    "paths-ignore, so some changes skip CI": case(
        ci("  pull_request:\n", "  pull_request:\n    paths-ignore: [docs/**]\n"),
        expect="on.pull_request.paths-ignore: not allowed",
    ),
    "permissions: write-all": case(
        ci("permissions: {}\n", "permissions: write-all\n"),
        expect='permissions: "write-all" is not allowed: write {}',
    ),
    "an OIDC token for a check job": case(
        ci(
            LINT_JOB
            + "    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n",
            LINT_JOB
            + "    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n"
            "      id-token: write\n",
        ),
        expect='job \'lint\': permissions: {"contents": "read", "id-token": "write"} is '
        'not allowed: write {"contents": "read"}',
    ),
    "a second nox step": case(
        ci(LINT_STEP, LINT_STEP + "      - run: nox -s typecheck\n"),
        expect="job 'lint': steps: run nox 2 times: a job runs exactly one nox session",
    ),
    "options after the session": case(
        ci("run: nox -s typecheck", "run: nox -s typecheck -- --no-incremental"),
        expect="job 'typecheck': steps[3].run: 'nox -s typecheck -- --no-incremental' "
        "is not allowed: use nox -s <session>, nothing more",
    ),
    "an extra command": case(
        ci(
            "      - run: nox -s build\n",
            "      - run: pip install build && python -m build\n      - run: nox -s build\n",
        ),
        expect="job 'build': steps[3].run: 'pip install build && python -m build' is not "
        "allowed: a job's one piece of work is its nox session",
    ),
    "the matrix back in run (template injection)": case(
        ci(
            "      - run: nox\n        env:\n",
            "      - run: nox -s test-${{ matrix.python }}\n        env:\n",
        ),
        expect="job 'test': steps[3].run: 'nox -s test-${{ matrix.python }}' is not allowed",
    ),
    "two sessions through NOXSESSION": case(
        ci(TEST_STEP, TEST_STEP.replace("}}\n", "}},lint\n")),
        expect="job 'test': steps[3].env.NOXSESSION: 'test-${{ matrix.python }},lint' is "
        "not allowed",
    ),
    "a matrix include that adds an unknown session": case(
        ci(
            f"python: [{PYTHONS}]\n",
            f'python: [{PYTHONS}]\n        include:\n          - python: "3.16"\n',
        ),
        expect="job 'test': strategy.matrix.include: not allowed: it adds jobs",
    ),
    "a Python dropped from the matrix": case(
        ci(f"python: [{PYTHONS}]", f"python: [{WITHOUT_315T}]"),
        expect="job 'test': strategy.matrix.python: never runs 'test-3.15t', which the "
        "noxfile defines: add it to the matrix, or drop it from the noxfile",
    ),
    "a Python only the matrix has": case(
        ci(f"python: [{PYTHONS}]", f'python: [{PYTHONS}, "3.16"]'),
        expect="job 'test': strategy.matrix.python: runs 'test-3.16', which the noxfile "
        "does not define",
    ),
    "a Python dropped from the classifiers only": case(
        Change("pyproject.toml", '    "Programming Language :: Python :: 3.12",\n', ""),
        expect="job 'test': strategy.matrix.python: runs 'test-3.12', which the noxfile "
        "does not define",
    ),
    "an unquoted version": case(
        ci('python: ["3.11"', "python: [3.10"),
        expect="job 'test': strategy.matrix.python[0]: 3.1 is not allowed: use a quoted "
        'version: "3.10", "3.14t"',
    ),
    "an OS dimension runs-on ignores": case(
        ci("    runs-on: ${{ matrix.os }}\n", "    runs-on: ubuntu-latest\n"),
        expect="job 'test': strategy.matrix.os: is not used by runs-on",
    ),
    "a renamed job": case(
        ci("  typecheck:\n", "  mypy:\n"),
        expect="job 'mypy': steps[3].run: runs session 'typecheck': a job is named after "
        "its session; rename the job to 'typecheck'",
    ),
    "a new session without a job": case(
        Change("noxfile.py", "", AUDIT_SESSION.format("")),
        expect="session 'audit': has no CI job: add a job 'audit' whose only work is "
        "'nox -s audit', or tag the session local-only",
    ),
    "a job for a local-only session": case(
        Change("noxfile.py", "", AUDIT_SESSION.format('(tags=["local-only"])')),
        ci("jobs:\n", "jobs:\n" + AUDIT_JOB + "\n"),
        expect="job 'audit': steps[3].run: runs 'audit', which the noxfile tags "
        "local-only",
    ),
    "a publish job that does not wait for the tests": case(
        ci(
            "    needs: [lint, test, coverage, typecheck, docs, build]\n"
            "    runs-on: ubuntu-latest\n"
            "    environment:\n      name: pypi",
            "    needs: [lint, coverage, typecheck, docs, build]\n"
            "    runs-on: ubuntu-latest\n    environment:\n      name: pypi",
        ),
        expect="job 'publish': needs: lacks 'test': a publish job runs only once every "
        "check passed; add it",
    ),
    "credentials kept on the runner": case(
        ci(CHECKOUT, CHECKOUT.replace("false", "true")),
        expect="job 'lint': steps[0].with.persist-credentials: true is not allowed: "
        "write false",
    ),
    "an upload before the session": case(
        ci("      - run: nox -s build\n", ""),
        ci(
            "          if-no-files-found: error\n",
            "          if-no-files-found: error\n      - run: nox -s build\n",
        ),
        expect="job 'build': steps: are checkout setup-python install-nox upload-artifact "
        "nox: order them checkout, setup-python, install-nox, nox, then any "
        "upload-artifact",
    ),
    "an upload of files nox did not build": case(
        ci(
            "          path: dist/\n          if-no",
            "          path: vendored/\n          if-no",
        ),
        expect="job 'build': steps[4].with.path: 'vendored/' is not allowed: use dist/",
    ),
    "a cache in a publish job": case(
        ci(
            '          python-version: "3.14"\n      - uses: actions/download-artifact',
            '          python-version: "3.14"\n          cache: pip\n'
            "      - uses: actions/download-artifact",
        ),
        expect="job 'publish_test': steps[1].with.cache: not allowed",
    ),
    "a key given twice": case(
        ci(LINT_JOB, LINT_JOB + "    name: other\n"),
        expect="invalid YAML: 'name' is given twice",
    ),
    "a YAML merge key": case(
        ci(LINT_JOB, LINT_JOB + "    <<: {if: false}\n"),
        expect="invalid YAML: GitHub reads no merge key (<<): write the keys out",
    ),
    "a services block": case(
        ci(LINT_JOB, LINT_JOB + "    services:\n      db:\n        image: postgres\n"),
        expect="job 'lint': services: not allowed: the sessions would see services",
    ),
    "a timeout from an expression": case(
        ci(LINT_JOB, LINT_JOB + "    timeout-minutes: ${{ vars.TIMEOUT }}\n"),
        expect="job 'lint': timeout-minutes: '${{ vars.TIMEOUT }}' is not allowed: use "
        "a whole number of minutes, not an expression",
    ),
    "a reusable workflow as a job": case(
        ci("jobs:\n", "jobs:\n  audit:\n    uses: ./.github/workflows/audit.yml\n\n"),
        expect="job 'audit': uses: not allowed: a reusable workflow runs what the "
        "noxfile cannot see",
    ),
    "a declared exception that matches nothing": case(
        allow(job="test", key="services", reason="a database"),
        expect="pyproject.toml: [tool.wheelwright.ci] allow[0]: matches no finding: "
        "give the job and key as a finding names them, or delete it",
    ),
    "a declared exception without a reason": case(
        allow(job="test", key="if"),
        expect='allow[0]: write { job = "<job>", key = "<key>", reason = "<why>" }',
    ),
    # What a declared exception lets through the checker, the tools after it catch
    "a .yaml workflow the schema refuses": case(
        allow(file="extra.yaml", job="lint", key="bogus", reason="a test"),
        Change(".github/workflows/extra.yaml", "", EXTRA_YAML),
        expect="$.jobs.lint: Additional properties are not allowed ('bogus' was unexpected)",
        by="check-jsonschema",
    ),
    "an unpinned service image": case(
        allow(job="test", key="services", reason="the tests need a database"),
        ci(TEST_JOB, TEST_JOB + "    services:\n      db:\n        image: postgres\n"),
        expect="error[unpinned-images]: unpinned image references",
        by="zizmor",
    ),
    "a job without a name": case(
        ci(LINT_JOB, "  lint:\n"),
        expect="info[anonymous-definition]: workflow or action definition without a name",
        by="zizmor --persona pedantic",
    ),
    # The C variant's own jobs
    "a self-hosted runner among the wheels": case(
        ci(
            "          - windows-11-arm\n",
            "          - windows-11-arm\n          - gpu-box\n",
        ),
        expect="job 'wheels': strategy.matrix.os[6]: 'gpu-box' is not allowed: use a "
        "GitHub-hosted runner label",
        variant="c-extension",
    ),
    "publishing without the wheels": case(
        ci(
            "needs: [lint, test, coverage, typecheck, docs, build, wheels]",
            "needs: [lint, test, coverage, typecheck, docs, build]",
        ),
        expect="job 'publish_test': needs: lacks 'wheels'",
        variant="c-extension",
    ),
    "wheels uploaded from elsewhere": case(
        ci(
            "path: dist/ # the wheels and their manifest",
            "path: wheelhouse/ # the wheels and their manifest",
        ),
        expect="job 'wheels': steps[4].with.path: 'wheelhouse/' is not allowed",
        variant="c-extension",
    ),
    "a C test job that drops a Python": case(
        ci(f"python: [{PYTHONS}]", f"python: [{WITHOUT_311}]"),
        expect="job 'test': strategy.matrix.python: never runs 'test-3.11'",
        variant="c-extension",
    ),
}

POSTGRES = "postgres@sha256:" + "0" * 64  # pinned, or zizmor refuses it
LEGITIMATE = {  # each must pass lint
    "a timeout on a job": case(
        ci(TEST_JOB, TEST_JOB + "    timeout-minutes: 30\n"),
        expect="8 jobs, 9 sessions",
    ),
    "a job's display name": case(
        ci(LINT_JOB, "  lint:\n    name: Lint and check the workflows\n"),
        expect="8 jobs, 9 sessions",
    ),
    "a step's name": case(
        ci(LINT_STEP, "      - name: Run the lint session\n        run: nox -s lint\n"),
        expect="8 jobs, 9 sessions",
    ),
    "a Python added to the classifiers and the matrix": case(
        Change(
            "pyproject.toml",
            '    "Programming Language :: Python :: 3.15",\n',
            '    "Programming Language :: Python :: 3.15",\n'
            '    "Programming Language :: Python :: 3.16",\n',
        ),
        # nox adds 3.16t too: the classifiers say free-threading is supported
        ci(f"python: [{PYTHONS}]", f'python: [{PYTHONS}, "3.16", "3.16t"]'),
        expect="8 jobs, 9 sessions",
    ),
    "a declared exception": case(
        allow(job="test", key="services", reason="the tests need a database"),
        ci(
            TEST_JOB,
            TEST_JOB + f"    services:\n      db:\n        image: {POSTGRES}\n",
        ),
        expect="pyproject.toml [tool.wheelwright.ci] allow: job 'test': services: "
        "allowed: the tests need a database",
    ),
    "a new session with its job": case(
        Change("noxfile.py", "", AUDIT_SESSION.format("")),
        ci("jobs:\n", "jobs:\n" + AUDIT_JOB + "\n"),
        ci(
            "needs: [lint, test, coverage, typecheck, docs, build]",
            "needs: [lint, test, coverage, typecheck, docs, build, audit]",
        ),
        ci(
            "needs: [lint, test, coverage, typecheck, docs, build]",
            "needs: [lint, test, coverage, typecheck, docs, build, audit]",
        ),
        expect="9 jobs, 10 sessions (1 local-only)",
    ),
    "a local-only session without a job": case(
        Change("noxfile.py", "", AUDIT_SESSION.format('(tags=["local-only"])')),
        expect="8 jobs, 10 sessions (2 local-only)",
    ),
    "a weekly run and a merge queue": case(
        ci(
            "  workflow_dispatch:\n",
            "  workflow_dispatch:\n  merge_group:\n  schedule:\n"
            '    - cron: "0 6 * * 1"\n',
        ),
        expect="8 jobs, 9 sessions",
    ),
    "the tests stopping at the first failure": case(
        ci("      fail-fast: false\n", "      fail-fast: true\n"),
        expect="8 jobs, 9 sessions",
    ),
    "a shallow clone made full": case(
        ci(CHECKOUT, CHECKOUT + "          fetch-depth: 0\n"),
        expect="8 jobs, 9 sessions",
    ),
    "a timeout on the wheels": case(
        ci("  wheels:\n", "  wheels:\n    timeout-minutes: 60\n"),
        expect="9 jobs, 10 sessions",
        variant="c-extension",
    ),
}


@pytest.fixture(scope="session")
def warm_project(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """A committed project of a variant with its lint venv made, one per worker."""
    projects: dict[str, Path] = {}

    def _warm_project(variant: str) -> Path:
        if variant not in projects:
            project = tmp_path_factory.mktemp(variant) / "project"
            copier.run_copy(
                str(template_snapshot),
                project,
                data={"variant": variant},
                defaults=True,
                quiet=True,
            )
            git_commit_all(project)
            result = nox(project, "-s", "lint")  # the untouched render passes, too
            assert "CI mirrors nox:" in result.stdout, result.stdout
            projects[variant] = project
        return projects[variant]

    return _warm_project


@pytest.fixture
def lint_after(
    warm_project: Callable[[str], Path],
) -> Iterator[Callable[[Case], tuple[int, str]]]:
    """Apply a case's changes to a warm project, run its real lint, then reset it."""
    touched: list[Path] = []

    def _lint_after(case: Case) -> tuple[int, str]:
        project = warm_project(case.variant)
        touched.append(project)
        for change in case.changes:
            change.apply(project)
        start = time.perf_counter()
        result = nox(project, "-R", "-s", "lint", check=False)
        print(f"nox -R -s lint: {time.perf_counter() - start:.2f}s")
        return result.returncode, result.stdout + result.stderr

    yield _lint_after
    for project in touched:  # the venv in .nox is ignored, so it stays
        git(project, "checkout", "--quiet", "--", ".")
        git(project, "clean", "--quiet", "--force", "-d")


def line_with(expect: str, output: str) -> str | None:
    return next((line for line in output.splitlines() if expect in line), None)


@pytest.mark.e2e
@pytest.mark.parametrize("name", MUTATIONS)
def test_a_workflow_edit_that_makes_ci_differ_fails_lint_naming_it(
    lint_after: Callable[[Case], tuple[int, str]], name: str
) -> None:
    returncode, output = lint_after(MUTATIONS[name])
    assert returncode != 0, output
    finding = line_with(MUTATIONS[name].expect, output)
    assert finding, f"no line holds {MUTATIONS[name].expect!r}:\n{output}"
    if MUTATIONS[name].by == "the checker":
        assert FINDING.match(finding), f"not file[:line]: ...: {finding}"
    assert "Traceback" not in output


@pytest.mark.e2e
@pytest.mark.parametrize("name", LEGITIMATE)
def test_a_reasonable_workflow_edit_passes_lint(
    lint_after: Callable[[Case], tuple[int, str]], name: str
) -> None:
    returncode, output = lint_after(LEGITIMATE[name])
    assert returncode == 0, output
    assert line_with(LEGITIMATE[name].expect, output), output


def test_the_corpus_is_large_enough() -> None:
    """The issue asks for at least 30 mutations and 5 legitimate edits."""
    assert len(MUTATIONS) >= 30
    assert len(LEGITIMATE) >= 5
    assert {c.variant for c in MUTATIONS.values()} == {"pure", "c-extension"}


# --- odd input ---------------------------------------------------------------

ODD_VALUES = ["[]", "{}", "[a, {b: 1}]", "3.10", "2024-01-01", "~", "yes", "on", "1: 2",
              "'${{ github.event.issue.title }}'", "!!binary aGk=", "&x y", "*x", "- z",
              "? [a]\n  : b", "{on: 1}", '"\\u00e9"', "${{ fromJSON(vars.X) }}"]  # fmt: skip


def load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_ci_mirror", CHECKER)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_any_edit_gets_one_line_per_finding_and_never_a_traceback(
    render, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Property: 300 seeded random edits of a rendered workflow (lines dropped,
    duplicated, re-indented, values replaced by odd YAML) are refused with
    one-line findings or accepted; the checker itself never raises."""
    checker, project = load_checker(), render()
    sessions = checker.load_sessions(project)
    monkeypatch.setattr(checker, "load_sessions", lambda root: sessions)
    workflow = project / CI
    original = workflow.read_text().splitlines()
    seed = 11
    rng, refused = random.Random(seed), 0
    for trial in range(300):
        lines = list(original)
        for _ in range(rng.randint(1, 4)):
            i, roll = rng.randrange(len(lines)), rng.random()
            if roll < 0.3:
                del lines[i]
            elif roll < 0.7 and ":" in lines[i]:
                lines[i] = lines[i].split(":", 1)[0] + ": " + rng.choice(ODD_VALUES)
            elif roll < 0.85:
                lines.insert(i, rng.choice(lines))
            else:
                lines[i] = lines[i].replace("  ", " ", 1)
        workflow.write_text("\n".join(lines) + "\n")
        try:
            findings, _, _ = checker.check(project)
        except Exception as error:  # the failure we look for: say how to replay it
            error.add_note(f"seed {seed}, trial {trial}:\n{workflow.read_text()}")
            raise
        refused += bool(findings)
        for finding in map(str, findings):
            assert "\n" not in finding
            assert FINDING.match(finding), finding
    assert refused > 250, f"only {refused} of 300 random edits were refused"


# --- the template repository ---------------------------------------------------


@pytest.fixture(scope="session")
def template_copy(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of this repository whose real lint passed once, venv kept."""
    copy = tmp_path_factory.mktemp("root") / "wheelwright"
    shutil.copytree(template_snapshot, copy)
    result = nox(copy, "-s", "lint")
    assert "CI mirrors nox: 3 jobs, 4 sessions (1 local-only)" in result.stdout
    return copy


ROOT_MUTATIONS = {
    "a shell on the tests step": case(
        ci(
            "      - run: nox -s tests\n",
            "      - run: nox -s tests\n        shell: bash\n",
        ),
        expect="job 'tests': steps[3].shell: not allowed",
    ),
    "a job for the local-only bench session": case(
        ci(
            "  wheels:\n",
            "  bench:\n    name: bench\n    runs-on: ubuntu-latest\n"
            "    permissions:\n      contents: read\n    steps:\n"
            f"      - uses: actions/checkout{SHA}\n        with:\n"
            "          persist-credentials: false\n"
            "      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97\n"
            '        with:\n          python-version: "3.14"\n'
            '      - run: python -m pip install "nox[uv]>=2025.10.14"\n'
            "      - run: nox -s bench\n\n  wheels:\n",
        ),
        expect="job 'bench': steps[3].run: runs 'bench', which the noxfile tags local-only",
    ),
    "a tests job on a self-hosted runner": case(
        ci(
            "os: [ubuntu-latest, macos-latest, windows-latest]",
            "os: [ubuntu-latest, self-hosted]",
        ),
        expect="job 'tests': strategy.matrix.os[1]: 'self-hosted' is not allowed",
    ),
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", ROOT_MUTATIONS)
def test_the_template_repository_is_held_to_the_same_checker(
    template_copy: Path, name: str
) -> None:
    backup = (template_copy / CI).read_text()
    try:
        for change in ROOT_MUTATIONS[name].changes:
            change.apply(template_copy)
        result = nox(template_copy, "-R", "-s", "lint", check=False)
    finally:
        (template_copy / CI).write_text(backup)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    finding = line_with(ROOT_MUTATIONS[name].expect, output)
    assert finding, output
    assert FINDING.match(finding), finding
