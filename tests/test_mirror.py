"""The mirror, proved: CI's check jobs come from the noxfile, and what else the
workflow may hold is a schema (tools/ci.schema.yml) that tools/check_ci.py
applies with a few checks no schema can make. Any edit that makes CI differ
from nox fails `nox -s lint` with one line naming it; the edits a user
reasonably makes (or declares in [tool.wheelwright.ci]) pass.

The corpus was written against the hand-written workflow the checker used to
allow (68 mutations, 11 legitimate edits). Each is kept, rewritten against the
derived workflow, unless the new shape makes it impossible: DROPPED says why.

Each case runs the real `nox -s lint` (ruff, the checker, zizmor --persona
pedantic, check-jsonschema) in a project rendered and warmed once per worker
and variant, reset with git between cases, with `-R` so no case reinstalls.
"""

from __future__ import annotations

import importlib.util
import json
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

CHECKER = ROOT / "template" / "tools" / "check_ci.py"
CI = ".github/workflows/ci.yml"
# A line the checker prints: file: [job 'x': ]key: what is wrong, or what to do.
FINDING = re.compile(
    r"^(?:\.github/workflows/[\w.-]+\.ya?ml|noxfile\.py|pyproject\.toml"
    r"|\.readthedocs\.yaml|\.pre-commit-config\.yaml)(?::\d+)?: "
)
PASSED = "CI runs the noxfile: "

ANSWER_SETS = [
    {},
    {"min_python": "3.11", "versioning": "static"},
    {"min_python": "3.15", "license": "GPL-3.0-or-later"},
    {"variant": "c-extension"},
    {"variant": "c-extension", "limited_api": True, "min_python": "3.12"},
]


def answer_id(answers: dict[str, object]) -> str:
    return "-".join(f"{k}={v}" for k, v in answers.items()) or "defaults"


@pytest.mark.parametrize("answers", ANSWER_SETS, ids=answer_id)
def test_every_answer_set_passes_the_checker_zizmor_pedantic_and_the_schemas(
    render, answers: dict[str, object]
) -> None:
    project = render(**answers)
    result = run(sys.executable, "tools/check_ci.py", cwd=project)
    assert result.stdout.startswith(PASSED + "0 allowed"), result.stdout
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


def allow(**entry: str) -> Change:
    fields = ", ".join(f'{key} = "{value}"' for key, value in entry.items())
    return Change("pyproject.toml", "allow = []", f"allow = [{{ {fields} }}]")


# Places in the rendered workflow; each is the first of its kind in the file.
SHA = "@3d3c42e5aac5ba805825da76410c181273ba90b1"
UV_NOX = "uv run --locked --only-group=nox nox"
CHECK_JOB = "  check:\n    name: ${{ matrix.nox.session }}\n"
CHECK_RUNS = "    needs: sessions\n    runs-on: ubuntu-latest\n"  # the check job's
CHECK_PERMISSIONS = CHECK_RUNS + "    permissions:\n      contents: read\n"
CHECK_STEP = f"      - run: {UV_NOX}\n"  # the check job's session step
NOXSESSION = "          NOXSESSION: ${{ matrix.nox.session }}\n"
EVERY_OS = "        os: [ubuntu-latest, macos-latest, windows-latest]\n"
LISTING = f"          linux=$({UV_NOX} --list --json --tags ci)\n"
CHECKOUT = "        with:\n          persist-credentials: false\n"  # the sessions job's
TOOL_PYTHON = '          python-version: "3.14"\n'  # the sessions job's
UV_STEP = "          enable-cache: false\n"  # the sessions job's
BUILD_STEP = f"      - run: {UV_NOX} -s build\n"
BUILD_DEPTH = "          fetch-depth: 0 # all tags: the version and the release checks read them\n"
PUBLISH_DEPTH = (
    "          fetch-depth: 0 # the release checks compare HEAD with its tag\n"
)
CHECK_DEPTH = "          fetch-depth: 0 # all tags: the version comes from them\n"
PUBLISH_IF = "if: github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
PURE_NEEDS = "needs: [check, check-every-os, build]"  # publish_test's, then publish's
C_NEEDS = "needs: [check, build, wheels]"
WHEELS_CHECKOUT = (  # the C variant's: the only job whose runner is the matrix's
    "    runs-on: ${{ matrix.os }}\n    permissions:\n      contents: read\n    steps:\n"
    f"      - uses: actions/checkout{SHA} # v7.0.1\n        with:\n"
)
DOWNLOAD = "          merge-multiple: true\n"
RELEASE_DOWNLOAD = DOWNLOAD + f"      - run: {UV_NOX} -s release\n"
OVERWRITE = "          overwrite: true # a re-run of the job is the same run: its name is taken\n"
ATTESTATIONS = (  # the publish job's last step
    "      # The attestations publish.py signed, for the release job's files.\n"
    "      - uses: actions/upload-artifact@043fb46d1a93c77aae656e7c1c64a875d1fc6a0a"
    " # v7.0.1\n        with:\n          name: attestations\n"
    "          path: dist/*.publish.attestation\n"
    "          if-no-files-found: error # PyPI's upload is always trusted, so signed\n"
    + OVERWRITE
)
PUBLISH_TEST_STEP = f"      - run: {UV_NOX} -s publish_test\n"
HOOK = "https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.17.6\n"
KEY = "is not the template's"  # a key or a job the schema does not have
AUDIT_SESSION = '''

@nox.session{}
def audit(session: nox.Session) -> None:
    """Audit the dependencies."""
    session.run("python", "-c", "print('audit')")
'''
AUDIT_JOB = """\
  audit:
    name: audit
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          fetch-depth: 0
          persist-credentials: false
      - run: uv run --locked --only-group=nox nox -s audit

"""
BAD_YAML_JOB = (
    "name: extra\non:\n  push:\npermissions: {}\njobs:\n  lint:\n    bogus: 1\n"
)
POSTGRES = "postgres@sha256:" + "0" * 64  # pinned, or zizmor refuses it
SERVICES = f"    services:\n      db:\n        image: {POSTGRES}\n"

MUTATIONS = {  # each must fail lint with a line naming it
    # What the issue lists
    "a shell on a step": case(
        ci(CHECK_STEP, CHECK_STEP + "        shell: bash\n"),
        expect=f"job 'check': steps[3].shell: {KEY}",
    ),
    "a job's defaults.run.shell": case(
        ci(CHECK_JOB, CHECK_JOB + "    defaults:\n      run:\n        shell: bash\n"),
        expect=f"job 'check': defaults: {KEY}",
    ),
    "the workflow's defaults.run.shell": case(
        ci("jobs:\n", "defaults:\n  run:\n    shell: pwsh\n\njobs:\n"),
        expect=f"{CI}: defaults: {KEY}",
    ),
    "a working-directory": case(
        ci(CHECK_STEP, CHECK_STEP + "        working-directory: src\n"),
        expect=f"job 'check': steps[3].working-directory: {KEY}",
    ),
    "NOXSESSION on a plain nox step": case(
        ci(BUILD_STEP, BUILD_STEP + "        env:\n          NOXSESSION: typecheck\n"),
        expect=f"job 'build': steps[3].env: {KEY}",
    ),
    "NOXFORCEPYTHON beside NOXSESSION": case(
        ci(NOXSESSION, NOXSESSION + '          NOXFORCEPYTHON: "3.14"\n'),
        expect="job 'check': steps[3].env: {'NOXSESSION': '${{ matrix.nox.session }}'}"
        " was expected",
    ),
    "NOX_DEFAULT_VENV_BACKEND in the workflow's env": case(
        ci(
            '  FORCE_COLOR: "1"\n',
            '  FORCE_COLOR: "1"\n  NOX_DEFAULT_VENV_BACKEND: venv\n',
        ),
        expect=f"{CI}: env: {{'FORCE_COLOR': '1'}} was expected",
    ),
    "PYTHONPATH in a job's env": case(
        ci(CHECK_JOB, CHECK_JOB + "    env:\n      PYTHONPATH: src\n"),
        expect=f"job 'check': env: {KEY}",
    ),
    "UV_INDEX_URL on the setup-uv step (was: PIP_INDEX_URL on the install step)": case(
        ci(
            UV_STEP,
            UV_STEP + "        env:\n          UV_INDEX_URL: https://evil.example\n",
        ),
        expect=f"job 'sessions': steps[2].env: {KEY}",
    ),
    "if: false on a job": case(
        ci(CHECK_JOB, CHECK_JOB + "    if: false\n"),
        expect=f"job 'check': if: {KEY}",
    ),
    "if: on a step": case(
        ci(CHECK_STEP, CHECK_STEP + "        if: github.event_name == 'push'\n"),
        expect=f"job 'check': steps[3].if: {KEY}",
    ),
    "continue-on-error on a job": case(
        ci(CHECK_JOB, CHECK_JOB + "    continue-on-error: true\n"),
        expect=f"job 'check': continue-on-error: {KEY}",
    ),
    "continue-on-error on a step": case(
        ci(CHECK_STEP, CHECK_STEP + "        continue-on-error: true\n"),
        expect=f"job 'check': steps[3].continue-on-error: {KEY}",
    ),
    "an exclude that drops an OS (was: a Python)": case(
        ci(EVERY_OS, EVERY_OS + "        exclude:\n          - os: windows-latest\n"),
        expect=f"job 'check-every-os': strategy.matrix.exclude: {KEY}",
    ),
    "a container": case(
        ci(CHECK_JOB, CHECK_JOB + "    container: python:3.14\n"),
        expect=f"job 'check': container: {KEY}",
    ),
    "a self-hosted runner": case(
        ci(CHECK_RUNS, CHECK_RUNS.replace("ubuntu-latest", "self-hosted")),
        expect="job 'check': runs-on: 'ubuntu-latest' was expected",
    ),
    "a runner picked by labels": case(
        ci(CHECK_RUNS, CHECK_RUNS.replace("ubuntu-latest", "[self-hosted, linux]")),
        expect="job 'check': runs-on: 'ubuntu-latest' was expected",
    ),
    "a checkout of another repository": case(
        ci(CHECKOUT, CHECKOUT + "          repository: evil/project\n"),
        expect=f"job 'sessions': steps[0].with.repository: {KEY}",
    ),
    "a checkout of another ref": case(
        ci(CHECKOUT, CHECKOUT + "          ref: refs/heads/unreviewed\n"),
        expect=f"job 'sessions': steps[0].with.ref: {KEY}",
    ),
    "a requirements file on the nox step (was: the install step)": case(
        ci(
            CHECK_STEP,
            CHECK_STEP.replace("nox\n", "--with-requirements evil.txt nox\n"),
        ),
        expect=f"job 'check': steps[3].run: '{UV_NOX}' was expected",
    ),
    "another index on the nox step (was: the install step)": case(
        ci(
            BUILD_STEP,
            BUILD_STEP.replace("--locked", "--locked --index-url https://e.example"),
        ),
        expect=f"job 'build': steps[3].run: '{UV_NOX} -s build' was expected",
    ),
    "a publish job that always runs": case(
        ci(PUBLISH_IF, "if: always()"),
        expect="job 'publish': if: \"github.event_name == 'push' && startsWith(",
    ),
    "a renamed publish environment": case(
        ci("      name: pypi\n", "      name: release\n"),
        expect="job 'publish': environment.name: 'pypi' was expected",
    ),
    "artifacts of another run": case(
        ci(DOWNLOAD, DOWNLOAD + "          run-id: 1234567890\n"),
        expect="job 'publish_test': steps[3].with: {'path': 'dist/', 'merge-multiple'",
    ),
    "an action named like an allowed one": case(
        ci(f"actions/checkout{SHA}", f"actions/checkoutx{SHA}"),
        expect=f"job 'sessions': steps[0].uses: 'actions/checkoutx{SHA}' does not match",
    ),
    "a computed matrix": case(
        ci(EVERY_OS, "        os: ${{ fromJSON(vars.OSES) }}\n"),
        expect="job 'check-every-os': strategy.matrix.os: '${{ fromJSON(vars.OSES) }}'"
        " is not of type 'array'",
    ),
    "a .yaml workflow with a bad key": case(
        Change(".github/workflows/extra.yaml", "", BAD_YAML_JOB),
        expect=".github/workflows/extra.yaml: a workflow beside ci.yml",
    ),
    "a workflow that is not YAML": case(
        Change(".github/workflows/broken.yml", "", "name: broken\non: [push\n"),
        expect=".github/workflows/broken.yml: a workflow beside ci.yml",
    ),
    # And more
    "a local action": case(
        ci(CHECK_STEP, "      - uses: ./.github/actions/nox\n"),
        expect=f"job 'check': steps[3].uses: {KEY}",
    ),
    "a docker action": case(
        ci(BUILD_STEP, BUILD_STEP + "      - uses: docker://alpine:3.20\n"),
        expect="job 'build': steps[4].uses: 'docker://alpine:3.20' does not match",
    ),
    "an unpinned action": case(
        ci(f"actions/checkout{SHA}", "actions/checkout@v7"),
        expect="job 'sessions': steps[0].uses: 'actions/checkout@v7' does not match",
    ),
    "pull_request_target": case(
        ci("  pull_request:\n", "  pull_request_target:\n"),
        expect=f"{CI}: on.pull_request_target: {KEY}",
    ),
    "paths-ignore, so some changes skip CI": case(
        ci("  pull_request:\n", "  pull_request:\n    paths-ignore: [docs/**]\n"),
        expect=f"{CI}: on.pull_request.paths-ignore: {KEY}",
    ),
    "permissions: write-all": case(
        ci("permissions: {}\n", "permissions: write-all\n"),
        expect=f"{CI}: permissions: {{}} was expected",
    ),
    "an OIDC token for a check job": case(
        ci(CHECK_PERMISSIONS, CHECK_PERMISSIONS + "      id-token: write\n"),
        expect="job 'check': permissions: {'contents': 'read'} was expected",
    ),
    "a second nox step": case(
        ci(NOXSESSION, NOXSESSION + f"      - run: {UV_NOX} -s typecheck\n"),
        expect="job 'check': steps: Unevaluated items are not allowed",
    ),
    "options after the session": case(
        ci(BUILD_STEP, BUILD_STEP.replace("build\n", "build -- --no-isolation\n")),
        expect=f"job 'build': steps[3].run: '{UV_NOX} -s build' was expected",
    ),
    "an extra command": case(
        ci(
            BUILD_STEP,
            "      - run: pip install build && python -m build\n" + BUILD_STEP,
        ),
        expect=f"job 'build': steps[3].run: '{UV_NOX} -s build' was expected",
    ),
    "the matrix back in run (template injection)": case(
        ci(CHECK_STEP, f"      - run: {UV_NOX} -s ${{{{ matrix.nox.session }}}}\n"),
        expect=f"job 'check': steps[3].run: '{UV_NOX}' was expected",
    ),
    "two sessions through NOXSESSION": case(
        ci(NOXSESSION, NOXSESSION.replace("}}\n", "}},lint\n")),
        expect="job 'check': steps[3].env: {'NOXSESSION': '${{ matrix.nox.session }}'}",
    ),
    "a matrix include that adds an unknown session": case(
        ci(
            "        nox: ${{ fromJSON(needs.sessions.outputs.linux) }}\n",
            "        nox: ${{ fromJSON(needs.sessions.outputs.linux) }}\n"
            "        include:\n          - nox: {session: evil}\n",
        ),
        expect="job 'check': strategy.matrix: {'nox': '${{ fromJSON(needs.sessions.",
    ),
    "a Python filtered out of the listing (was: dropped from the matrix)": case(
        ci(LISTING, LISTING.replace("--tags ci)", "--tags ci -k 'not test-3.11')")),
        expect="job 'sessions': steps[3].run: write exactly",
    ),
    "a Python the sessions lack (was: only the matrix has)": case(
        ci(
            "python-version: ${{ matrix.nox.python || '3.14' }}",
            'python-version: "3.16"',
        ),
        expect="job 'check': steps[1].with.python-version: '3.16' does not match",
    ),
    "an unquoted version": case(
        ci(TOOL_PYTHON, "          python-version: 3.10\n"),
        expect="job 'sessions': steps[1].with.python-version: 3.1 is not of type 'string'",
    ),
    "an OS dimension runs-on ignores": case(
        ci("    runs-on: ${{ matrix.os }}\n", "    runs-on: ubuntu-latest\n"),
        expect="job 'check-every-os': runs-on: '${{ matrix.os }}' was expected",
    ),
    "a renamed job": case(
        ci("  check:\n", "  lint:\n"),
        expect=f"job 'lint': {KEY}",
    ),
    "a new session without a job": case(
        Change("noxfile.py", "", AUDIT_SESSION.format("")),
        expect="noxfile.py: session 'audit': no job: tag it ci, ci-every-os or local-only",
    ),
    "a job for a local-only session": case(
        Change("noxfile.py", "", AUDIT_SESSION.format('(tags=["local-only"])')),
        ci("\n  build:\n", "\n" + AUDIT_JOB + "  build:\n"),
        expect=f"job 'audit': {KEY}",
    ),
    "a publish job that does not wait for the tests": case(
        ci(PURE_NEEDS, "needs: [check, build]"),
        expect="job 'publish_test': needs: lacks 'check-every-os': publish only once",
    ),
    "credentials kept on the runner": case(
        ci(CHECKOUT, CHECKOUT.replace("false", "true")),
        expect="job 'sessions': steps[0].with.persist-credentials: False was expected",
    ),
    "an upload before the session": case(
        ci(BUILD_STEP, ""),
        ci(
            "          if-no-files-found: error\n" + OVERWRITE,
            "          if-no-files-found: error\n" + OVERWRITE + BUILD_STEP,
        ),
        expect=f"job 'build': steps[3].uses: {KEY}",
    ),
    "an upload of files nox did not build": case(
        ci(
            "          path: dist/\n          if-no",
            "          path: vendored/\n          if-no",
        ),
        expect="job 'build': steps[4].with: {'name': 'dist', 'path': 'dist/'",
    ),
    "a cache in a publish job": case(
        ci(
            "          enable-cache: false\n      - uses: actions/download-artifact",
            "          enable-cache: true\n      - uses: actions/download-artifact",
        ),
        expect="job 'publish_test': steps[2].with: {'version-file': 'uv.lock', 'enable-"
        "cache': False} was expected",
    ),
    "a key given twice": case(
        ci(CHECK_JOB, CHECK_JOB + "    name: other\n"),
        expect="job 'check': name: '${{ matrix.nox.session }}' was expected",
    ),
    "a YAML merge key": case(
        ci(CHECK_JOB, CHECK_JOB + "    <<: {if: false}\n"),
        expect=f"job 'check': if: {KEY}",
    ),
    "a services block": case(
        ci(CHECK_JOB, CHECK_JOB + SERVICES),
        expect=f"job 'check': services: {KEY}",
    ),
    "a timeout from an expression": case(
        ci(CHECK_JOB, CHECK_JOB + "    timeout-minutes: ${{ vars.TIMEOUT }}\n"),
        expect="job 'check': timeout-minutes: '${{ vars.TIMEOUT }}' is not of type",
    ),
    "a reusable workflow as a job": case(
        ci("jobs:\n", "jobs:\n  audit:\n    uses: ./.github/workflows/audit.yml\n\n"),
        expect=f"job 'audit': {KEY}",
    ),
    "a declared exception that matches nothing": case(
        allow(job="check", key="services", reason="a database"),
        expect="pyproject.toml: [tool.wheelwright.ci] allow[0]: covers no finding",
    ),
    "a declared exception without a reason": case(
        allow(job="check", key="if"),
        ci(CHECK_JOB, CHECK_JOB + "    if: false\n"),
        expect="allow[0]: covers no finding (it needs a key and a reason)",
    ),
    # What a declared exception lets through the checker, the tools after it catch
    "a key the workflow schema refuses (was: in a .yaml workflow)": case(
        allow(job="check", key="bogus", reason="a test"),
        ci(CHECK_JOB, CHECK_JOB + "    bogus: 1\n"),
        expect="$.jobs.check",
        by="check-jsonschema",
    ),
    "an unpinned service image": case(
        allow(job="check", key="services", reason="the tests need a database"),
        ci(CHECK_JOB, CHECK_JOB + SERVICES.replace(POSTGRES, "postgres")),
        expect="unpinned-images",
        by="zizmor",
    ),
    "a job without a name": case(
        ci(CHECK_JOB, "  check:\n"),
        expect="job 'check': 'name' is a required property",
    ),
    # The release's files: the build's, and the attestations only publish signs
    "a publish job that keeps its attestations": case(
        ci(ATTESTATIONS, ""),
        expect="job 'publish': steps: lacks the upload of the attestations",
    ),
    "a release without the publish job's attestations": case(
        ci(RELEASE_DOWNLOAD, "          name: dist\n" + RELEASE_DOWNLOAD),
        expect="job 'release': steps[3].with: download every artifact",
    ),
    "attestations missing without an error": case(
        ci("if-no-files-found: error # PyPI", "if-no-files-found: warn # PyPI"),
        expect="job 'publish': steps[5].with: {'name': 'attestations', 'path': "
        "'dist/*.publish.attestation', 'if-no-files-found': 'error', 'overwrite': "
        "True} was expected",
    ),
    # GitHub keeps a run's artifacts across its attempts: a re-run job's upload
    # of the same name fails (409) unless it may overwrite it.
    "a build whose re-run cannot upload its dist/": case(
        ci(
            "error\n          overwrite: true # a re-run", "error\n          # a re-run"
        ),
        expect="job 'build': steps[4].with: {'name': 'dist', 'path': 'dist/', "
        "'if-no-files-found': 'error', 'overwrite': True} was expected",
    ),
    "attestations a re-run cannot upload again": case(
        ci(
            "so signed\n          overwrite: true",
            "so signed\n          overwrite: false",
        ),
        expect="job 'publish': steps[5].with: {'name': 'attestations', 'path': "
        "'dist/*.publish.attestation', 'if-no-files-found': 'error', 'overwrite': "
        "True} was expected",
    ),
    # The C variant's own jobs
    "a self-hosted runner among the wheels": case(
        ci(
            "          - windows-11-arm\n",
            "          - windows-11-arm\n          - gpu-box\n",
        ),
        expect="job 'wheels': strategy.matrix.os[6]: 'gpu-box' does not match",
        variant="c-extension",
    ),
    "publishing without the wheels": case(
        ci(C_NEEDS, "needs: [check, build]"),
        expect="job 'publish_test': needs: lacks 'wheels'",
        variant="c-extension",
    ),
    "wheels uploaded from elsewhere": case(
        ci("path: dist/ # the wheels and their manifest", "path: wheelhouse/"),
        expect="job 'wheels': steps[4].with: {'name': 'wheels-${{ matrix.os }}'",
        variant="c-extension",
    ),
    "a C session filtered out of the listing (was: a C test job drops a Python)": case(
        ci(LISTING, LISTING.replace("--tags ci)", "--tags ci -k 'not test-3.11')")),
        expect="job 'sessions': steps[3].run: write exactly",
        variant="c-extension",
    ),
    # The issue's three cases, each in the jobs that compute a version
    "a shallow build checkout": case(
        ci(BUILD_DEPTH, ""),
        expect="job 'build': steps[0].with: fetch-depth: 0: a shallow clone has no tags",
    ),
    "a shallow build checkout, fetch-depth 1": case(
        ci(BUILD_DEPTH, "          fetch-depth: 1\n"),
        expect="job 'build': steps[0].with: fetch-depth: 0: a shallow clone has no tags",
    ),
    "a shallow checkout where docs is built": case(
        ci(CHECK_DEPTH, ""),
        expect="job 'check': steps[0].with: fetch-depth: 0: a shallow clone",
    ),
    "a shallow publish checkout": case(
        ci(PUBLISH_DEPTH, ""),
        expect="job 'publish_test': steps[0].with: fetch-depth: 0: a shallow clone",
    ),
    "a shallow wheels checkout": case(
        ci(WHEELS_CHECKOUT + CHECK_DEPTH, WHEELS_CHECKOUT),
        expect="job 'wheels': steps[0].with: fetch-depth: 0: a shallow clone",
        variant="c-extension",
    ),
    "docs built another way on Read the Docs": case(
        Change(
            ".readthedocs.yaml",
            f"        - {UV_NOX} -s docs\n",
            "        - python -m sphinx docs $READTHEDOCS_OUTPUT/html\n",
        ),
        expect=".readthedocs.yaml: build.jobs.build: write",
    ),
    "docs built by Read the Docs' own Sphinx": case(
        Change(".readthedocs.yaml", "", "sphinx:\n  configuration: docs/conf.py\n"),
        expect=".readthedocs.yaml: build.jobs.build: write",
    ),
    "docs built by build.commands": case(
        Change(
            ".readthedocs.yaml", "  jobs:\n", "  commands:\n    - make html\n  jobs:\n"
        ),
        expect=".readthedocs.yaml: build.jobs.build: write",
    ),
    "a pre-commit rev off the lock, its URL with .git": case(
        Change(
            ".pre-commit-config.yaml",
            HOOK,
            HOOK.replace("-commit\n", "-commit.git\n").replace("v0.17.6", "v0.12.0"),
        ),
        expect=".pre-commit-config.yaml: https://github.com/astral-sh/ruff-pre-commit.git:"
        " rev v0.12.0: set it to v0.17.6",
    ),
    "a pre-commit rev off the lock, on another host alias": case(
        Change(
            ".pre-commit-config.yaml",
            HOOK,
            "git@github.com:astral-sh/ruff-pre-commit\n    rev: v0.12.0\n",
        ),
        expect=".pre-commit-config.yaml: git@github.com:astral-sh/ruff-pre-commit: rev v0.12.0",
    ),
}

# The old corpus' mutations the derived workflow makes impossible, and why.
DROPPED = {
    "a Python dropped from the classifiers only": "the sessions, so the matrix, come "
    "from the classifiers: CI follows them, nothing differs",
}

LEGITIMATE = {  # each must pass lint
    "a timeout on a job": case(
        ci(CHECK_JOB, CHECK_JOB + "    timeout-minutes: 30\n"),
        expect=PASSED + "0 allowed",
    ),
    "a job's display name": case(
        ci(
            "  build:\n    name: build\n",
            "  build:\n    name: Build the distributions\n",
        ),
        expect=PASSED + "0 allowed",
    ),
    "a step's name": case(
        ci(BUILD_STEP, f"      - name: Build\n        run: {UV_NOX} -s build\n"),
        expect=PASSED + "0 allowed",
    ),
    "a Python added to the classifiers (and so to the matrix)": case(
        Change(
            "pyproject.toml",
            '    "Programming Language :: Python :: 3.15",\n',
            '    "Programming Language :: Python :: 3.15",\n'
            '    "Programming Language :: Python :: 3.16",\n',
        ),
        expect=PASSED + "0 allowed",
    ),
    "a declared exception": case(
        allow(job="check", key="services", reason="the tests need a database"),
        ci(CHECK_JOB, CHECK_JOB + SERVICES),
        expect=f"job 'check': services: {KEY}",
    ),
    "a new session tagged ci, with no workflow edit": case(
        Change("noxfile.py", "", AUDIT_SESSION.format('(tags=["ci"])')),
        expect=PASSED + "0 allowed",
    ),
    "a local-only session without a job": case(
        Change("noxfile.py", "", AUDIT_SESSION.format('(tags=["local-only"])')),
        expect=PASSED + "0 allowed",
    ),
    "a weekly run and a merge queue": case(
        ci(
            "  workflow_dispatch:\n",
            "  workflow_dispatch:\n  merge_group:\n  schedule:\n"
            '    - cron: "0 6 * * 1"\n',
        ),
        expect=PASSED + "0 allowed",
    ),
    "the checks stopping at the first failure": case(
        ci("      fail-fast: false\n", "      fail-fast: true\n"),
        expect=PASSED + "0 allowed",
    ),
    "a shallow clone made full": case(
        ci(CHECKOUT, CHECKOUT + "          fetch-depth: 0\n"),
        expect=PASSED + "0 allowed",
    ),
    "a timeout on the wheels": case(
        ci("  wheels:\n", "  wheels:\n    timeout-minutes: 60\n"),
        expect=PASSED + "0 allowed",
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
            assert "CI runs the noxfile: 0 allowed" in result.stdout, result.stdout
            git_commit_all(project, "The lock the first run wrote")
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
        assert FINDING.match(finding), f"not file: ...: {finding}"
    assert "Traceback" not in output


@pytest.mark.e2e
@pytest.mark.parametrize("name", LEGITIMATE)
def test_a_reasonable_workflow_edit_passes_lint(
    lint_after: Callable[[Case], tuple[int, str]], name: str
) -> None:
    returncode, output = lint_after(LEGITIMATE[name])
    assert returncode == 0, output
    assert line_with(LEGITIMATE[name].expect, output), output


def test_the_corpus_keeps_the_old_one() -> None:
    """The old corpus' 68 mutations: each kept (rewritten) or dropped, with why;
    its 11 legitimate edits all kept; the issue's three cases added, and the
    release's attestations, and the uploads a re-run needs."""
    added = len(ISSUE_CASES) + len(ATTESTATION_CASES) + len(RERUN_CASES)
    assert len(MUTATIONS) - added + len(DROPPED) == 68
    assert all(DROPPED.values())
    assert len(LEGITIMATE) == 11
    assert {c.variant for c in MUTATIONS.values()} == {"pure", "c-extension"}


ISSUE_CASES = [
    name
    for name in MUTATIONS
    if name.startswith(("a shallow", "docs built", "a pre-commit rev"))
]

ATTESTATION_CASES = [name for name in MUTATIONS if "attestations" in name]

RERUN_CASES = [
    name for name in MUTATIONS if "re-run" in name and name not in ATTESTATION_CASES
]


# --- odd input ---------------------------------------------------------------

ODD_VALUES = ["[]", "{}", "[a, {b: 1}]", "3.10", "2024-01-01", "~", "yes", "on", "1: 2",
              "'${{ github.event.issue.title }}'", "!!binary aGk=", "&x y", "*x", "- z",
              "? [a]\n  : b", "{on: 1}", '"\\u00e9"', "${{ fromJSON(vars.X) }}"]  # fmt: skip


def load_checker(project: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_ci", project / "tools" / "check_ci.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_any_edit_gets_one_line_per_finding_and_never_a_traceback(render) -> None:
    """Property: 300 seeded random edits of a rendered workflow (lines dropped,
    duplicated, re-indented, values replaced by odd YAML) are refused with
    one-line findings or accepted; the checker itself never raises."""
    project = render()
    checker = load_checker(project)
    listed = run(
        sys.executable, "-m", "nox", "--list", "--json", "-k", "True", cwd=project
    )
    sessions = {
        s["name"]: set(s["tags"]) for s in json.loads(listed.stdout.splitlines()[-1])
    }
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
            findings = [f for f in checker.check(project, sessions) if f]
        except SystemExit as stop:  # a file that does not parse: one line, too
            findings = [str(stop.code)]
        except Exception as error:  # the failure we look for: say how to replay it
            error.add_note(f"seed {seed}, trial {trial}:\n{workflow.read_text()}")
            raise
        refused += bool(findings)
        for finding in findings:
            assert "\n" not in finding
            assert FINDING.match(finding), finding
    assert refused > 250, f"only {refused} of 300 random edits were refused"


# --- the template repository ---------------------------------------------------


def test_template_repository_mirrors_its_own_noxfile() -> None:
    result = run(sys.executable, CHECKER, ROOT, cwd=ROOT)
    assert result.stdout.startswith(PASSED + "0 allowed"), result.stdout


@pytest.fixture(scope="session")
def template_copy(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of this repository, which the checker passes."""
    copy = tmp_path_factory.mktemp("root") / "wheelwright"
    shutil.copytree(template_snapshot, copy)
    assert PASSED in run(sys.executable, CHECKER, copy, cwd=copy).stdout
    return copy


ROOT_MUTATIONS = {
    "a shell on the check step": case(
        ci(CHECK_STEP, CHECK_STEP + "        shell: bash\n"),
        expect=f"job 'check': steps[3].shell: {KEY}",
    ),
    "a job for the local-only bench session": case(
        ci("\n  wheels:\n", "\n" + AUDIT_JOB.replace("audit", "bench") + "  wheels:\n"),
        expect=f"job 'bench': {KEY}",
    ),
    "the tests on a self-hosted runner": case(
        ci(EVERY_OS, "        os: [ubuntu-latest, self-hosted]\n"),
        expect="job 'check-every-os': strategy.matrix.os[1]: 'self-hosted' does not match",
    ),
    "a shallow wheels checkout": case(
        ci("          fetch-depth: 0 # the wheels' version comes from the tags\n", ""),
        expect="job 'wheels': steps[0].with: fetch-depth: 0: a shallow clone",
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
        result = run(
            sys.executable, CHECKER, template_copy, cwd=template_copy, check=False
        )
    finally:
        (template_copy / CI).write_text(backup)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    finding = line_with(ROOT_MUTATIONS[name].expect, output)
    assert finding, output
    assert FINDING.match(finding), finding
    assert "Traceback" not in output
