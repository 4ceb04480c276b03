"""`copier update`: existing projects follow the template, safely.

In the style of copier's own tests/test_updatediff.py: build the template as a
git repository in a temporary directory, tag a version, render a project from
it and commit, change the template and tag again, edit the project as a user
would, update, and check what arrived and what survived.

The template repository is the working tree (uncommitted changes included),
tagged v1.0.0, plus a synthetic v1.1.0 (see `make_v1_1_0`) that adds a file
driven by a new question, a new ruff rule, a changed CHANGELOG line and a
comment at the top of the noxfile and of the CI workflow.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tarfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pexpect
import pytest
import yaml
from helpers import (
    ROOT,
    git,
    git_commit_all,
    needs_a_pty,
    nox,
    project_env,
    require_python,
    run,
    tool,
)
from questionnaire import load_copier_yml

OLD, NEW = "v1.0.0", "v1.1.0"
PYTHON = "3.11"  # the default min_python, and the Python every machine here has
MODULE = "my_package"  # the default module_name

# What v1.1.0 changes in the template.
MARK = "# Kept in step with wheelwright 1.1."
NEW_RULE = "FLY"
NEW_QUESTION = "contributing_contact"
CHANGELOG_SUFFIX = " Kept in step with wheelwright 1.1."
NEW_QUESTION_YAML = f"""
{NEW_QUESTION}:
  type: str
  help: Who answers contributors' questions (an email address or a URL)
  default: "{{{{ author_email }}}}"
"""
SUPPORT_JINJA = f"""\
# Getting help with {{{{ project_name }}}}

Questions and patches: {{{{ {NEW_QUESTION} }}}}.
Run `nox` before you open a pull request: it runs what CI runs.
"""


# --- building blocks ------------------------------------------------------------


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file, failing loudly if it is not there."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}: the test needs updating"
    path.write_text(text.replace(old, new, 1))


def last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


def make_v1_1_0(template: Path) -> None:
    """The synthetic template change between v1.0.0 and v1.1.0."""
    # A new question, and a new file that uses it.
    copier_yml = template / "copier.yml"
    copier_yml.write_text(
        copier_yml.read_text().rstrip("\n") + "\n" + NEW_QUESTION_YAML
    )
    (template / "template" / "SUPPORT.md.jinja").write_text(SUPPORT_JINJA)
    # A new ruff rule, in the file where users add their dependencies.
    pyproject = template / "template" / "pyproject.toml.jinja"
    text = pyproject.read_text()
    section = re.search(r"(?m)^\[tool\.ruff\.lint\]\nextend-select = \[", text)
    assert section, f"no [tool.ruff.lint] extend-select in {pyproject}"
    pyproject.write_text(
        f'{text[: section.end()]}"{NEW_RULE}", {text[section.end() :]}'
    )
    # A changed line: the last line of the changelog (test 2 edits it too).
    changelog = template / "template" / "CHANGELOG.md.jinja"
    line = last_line(changelog.read_text())
    assert "{" not in line, f"the last line of {changelog} is Jinja: {line!r}"
    edit(changelog, line, line + CHANGELOG_SUFFIX)
    # A comment near the top of the files whose bottom users extend (in the
    # noxfile after its shebang and script block, which must come first).
    ci = template / "template" / ".github" / "workflows" / "ci.yml.jinja"
    ci.write_text(f"{MARK}\n{ci.read_text()}")
    noxfile = template / "template" / "noxfile.py.jinja"
    edit(noxfile, "# ///\n", f"# ///\n{MARK}\n")


@pytest.fixture(scope="module")
def template_repo(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The template as a git repository: the working tree tagged v1.0.0, then v1.1.0."""
    repo = tmp_path_factory.mktemp("template-repo") / "wheelwright"
    shutil.copytree(template_snapshot, repo)
    git_commit_all(repo, "wheelwright 1.0.0")
    git(repo, "tag", OLD)
    make_v1_1_0(repo)
    git_commit_all(repo, "wheelwright 1.1.0")
    git(repo, "tag", NEW)
    return repo


def render_at(template: Path, destination: Path, ref: str, **answers: Any) -> Path:
    """Render a project from a tag of the template repository and commit it."""
    copier.run_copy(
        str(template), destination, data=answers, vcs_ref=ref, defaults=True, quiet=True
    )
    git_commit_all(destination, f"Start from wheelwright {ref}")
    return destination


def copier_cli(
    project: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the copier CLI in a project, with no terminal to answer a prompt on."""
    return run(tool("copier"), *args, cwd=project, check=check)


def timed_update(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    start = time.perf_counter()
    result = copier_cli(project, "update", "--defaults", *args)
    print(f"copier update {' '.join(args)}: {time.perf_counter() - start:.2f}s")
    return result


def answers(project: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def tree(project: Path) -> dict[str, bytes]:
    """The project's files that git would see (tracked or not, never ignored)."""
    listed = git(
        project, "ls-files", "-z", "--cached", "--others", "--exclude-standard"
    )
    paths = (project / name for name in listed.split("\0") if name)
    # --cached still lists a file the update deleted (until it is staged).
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in paths
        if path.is_file()
    }


def assert_same_tree(project: Path, expected: Path) -> None:
    """The project has exactly the files of `expected`, with the same contents,
    but for uv.lock, which the project's nox runs write and copier never does."""
    got, want = tree(project), tree(expected)
    got.pop("uv.lock", None)
    assert sorted(got) == sorted(want), f"{project} vs {expected}"
    differing = sorted(name for name in got if got[name] != want[name])
    assert not differing, f"files that differ from {expected}: {differing}"


def assert_merged_cleanly(project: Path) -> None:
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    assert not re.search(r"(?m)^(UU|AA|DU|UD|AU|UA|DD) ", status), status
    assert ".rej" not in status, status
    check = run("git", "diff", "--check", cwd=project, check=False)
    assert check.returncode == 0, check.stdout


def sdist_members(project: Path) -> set[str]:
    """The files in the sdist that `nox -s build` left in dist/, top folder removed."""
    (sdist,) = (project / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        return {name.partition("/")[2] for name in archive.getnames()}


def pyproject(project: Path) -> dict[str, Any]:
    return tomllib.loads((project / "pyproject.toml").read_text())


def python_classifiers(project: Path) -> list[str]:
    prefix = "Programming Language :: Python :: 3."
    return [
        c.removeprefix("Programming Language :: Python :: ")
        for c in pyproject(project)["project"]["classifiers"]
        if c.startswith(prefix)
    ]


def nox_test_sessions(project: Path) -> set[str]:
    listing = nox(project, "--list", "--json", "-k", "True").stdout
    entries = json.loads(listing.strip().splitlines()[-1])
    return {e["session"] for e in entries if e["name"] == "test"}


def ci_matrix(project: Path) -> set[str]:
    """The test jobs CI derives: the sessions tagged for it."""
    listing = nox(project, "--list", "--json", "--tags", "ci", "ci-every-os").stdout
    entries = json.loads(listing.strip().splitlines()[-1])
    return {e["session"] for e in entries if e["name"] == "test"}


# --- user edits -------------------------------------------------------------------

USER_FUNCTION = '''

def snake_slug(text: str) -> str:
    """A user's own addition: slugify with underscores."""
    return slugify(text, separator="_")
'''

USER_TEST = f'''\
"""A user's own test."""

from {MODULE}.text import snake_slug


def test_snake_slug() -> None:
    assert snake_slug("Hello, World!") == "hello_world"
'''

USER_DEPENDENCY = "packaging>=24"

USER_SESSION = '''

@nox.session(tags=["ci"])
def audit(session: nox.Session) -> None:
    """Audit the dependencies (a CI job, by its tag)."""
    session.run("python", "-c", "print('audit')")
'''


def add_user_edits(project: Path) -> None:
    """Edit code, add a runtime dependency, and add a session CI runs (its
    tag is all it takes: the workflow derives its jobs from the noxfile)."""
    text_py = project / "src" / MODULE / "text.py"
    text_py.write_text(text_py.read_text() + USER_FUNCTION)
    (project / "tests" / "test_user.py").write_text(USER_TEST)
    edit(project / "pyproject.toml", "dependencies = []",
         f'dependencies = ["{USER_DEPENDENCY}"]')  # fmt: skip
    noxfile = project / "noxfile.py"
    noxfile.write_text(noxfile.read_text() + USER_SESSION)
    git_commit_all(project, "User edits")


# --- the tests --------------------------------------------------------------------


@pytest.mark.e2e
def test_update_brings_template_changes_and_keeps_user_edits(
    template_repo: Path,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    project = render_at(template_repo, tmp_path / "project", OLD)
    add_user_edits(project)

    start = time.perf_counter()
    copier.run_update(
        project, defaults=True, overwrite=True, unsafe=False, vcs_ref=NEW, quiet=True
    )
    elapsed = time.perf_counter() - start
    print(f"copier update {OLD} -> {NEW} (API, with user edits): {elapsed:.2f}s")
    record_property("update_seconds", round(elapsed, 2))

    assert_merged_cleanly(project)
    assert answers(project)["_commit"] == NEW
    # The template change arrived...
    assert (project / "SUPPORT.md").is_file()
    assert NEW_RULE in pyproject(project)["tool"]["ruff"]["lint"]["extend-select"]
    assert last_line((project / "CHANGELOG.md").read_text()).endswith(CHANGELOG_SUFFIX)
    noxfile = (project / "noxfile.py").read_text()
    ci = (project / ".github" / "workflows" / "ci.yml").read_text()
    assert f"# ///\n{MARK}\n" in noxfile
    assert ci.startswith(MARK + "\n")
    # ...and every user edit survived it.
    assert (project / "src" / MODULE / "text.py").read_text().endswith(USER_FUNCTION)
    assert (project / "tests" / "test_user.py").read_text() == USER_TEST
    assert pyproject(project)["project"]["dependencies"] == [USER_DEPENDENCY]
    assert noxfile.endswith(USER_SESSION)

    git_commit_all(project, f"Update to wheelwright {NEW}")
    # lint runs the CI checker: the user's audit session gets its CI job.
    result = nox(project, "-s", "lint", f"test-{PYTHON}")
    output = result.stdout + result.stderr
    assert "CI runs the noxfile:" in output
    listed = nox(project, "--list", "--json", "--tags", "ci").stdout
    assert "audit" in {s["name"] for s in json.loads(listed.splitlines()[-1])}
    assert f"Session test-{PYTHON} was successful" in output


def test_conflicting_edit_leaves_markers_that_git_flags(
    template_repo: Path, tmp_path: Path
) -> None:
    project = render_at(template_repo, tmp_path / "project", OLD)
    changelog = project / "CHANGELOG.md"
    template_line = last_line(changelog.read_text())
    user_line = "- slugify(), for URLs and file names (the user's words)."
    edit(changelog, template_line, user_line)
    git_commit_all(project, "User edits the changelog")

    result = timed_update(project, "--conflict", "inline")
    # copier 9.19 exits 0 on a conflict: its exit status is not the signal. What
    # the user sees is the template's after-update message, then git.
    print(f"copier update exit status with a conflict: {result.returncode}")
    assert "conflict markers (<<<<<<<)" in result.stderr, result.stderr

    # Nothing silently overwritten: both sides are in the file, between markers.
    text = changelog.read_text()
    assert re.search(
        rf"(?m)^<<<<<<< .*\n{re.escape(user_line)}\n=======\n"
        rf"{re.escape(template_line + CHANGELOG_SUFFIX)}\n>>>>>>> .*$",
        text,
    ), text
    # git lists the file as unmerged ("both modified")...
    status = run("git", "status", cwd=project).stdout
    assert "Unmerged paths:" in status, status
    assert re.search(r"both modified:\s+CHANGELOG\.md", status), status
    assert git(project, "diff", "--name-only", "--diff-filter=U") == "CHANGELOG.md"
    # ...`git diff --check` fails on the markers...
    check = run("git", "diff", "--check", cwd=project, check=False)
    assert check.returncode != 0
    assert "CHANGELOG.md:" in check.stdout
    assert "leftover conflict marker" in check.stdout
    # ...and a plain commit is refused until the conflict is resolved.
    commit = run("git", "commit", "--message", "Update", cwd=project, check=False)
    assert commit.returncode != 0
    assert "unmerged files" in commit.stdout + commit.stderr
    # ...and the project's own lint session names the marker, in any file.
    lint = nox(project, "-s", "lint", check=False)
    assert lint.returncode != 0
    assert "Resolve what the update left, then rerun:" in lint.stdout + lint.stderr
    assert "CHANGELOG.md:" in lint.stdout + lint.stderr
    # The rest of the update merged: the new file is there, the answers moved on.
    assert (project / "SUPPORT.md").is_file()
    assert answers(project)["_commit"] == NEW


def conflicting_changelog(template_repo: Path, tmp_path: Path) -> Path:
    """A project at OLD whose CHANGELOG line the user changed, as v1.1.0 does."""
    project = render_at(template_repo, tmp_path / "project", OLD)
    changelog = project / "CHANGELOG.md"
    edit(changelog, last_line(changelog.read_text()), "- The user's words.")
    git_commit_all(project, "User edits the changelog")
    return project


def test_rejected_hunks_fail_lint_first_naming_the_file(
    template_repo: Path, tmp_path: Path
) -> None:
    # --conflict rej takes the template's side in the file and writes the
    # user's hunk to an untracked *.rej: `git diff --check` sees nothing.
    project = conflicting_changelog(template_repo, tmp_path)
    timed_update(project, "--conflict", "rej")
    assert (project / "CHANGELOG.md.rej").is_file()
    assert run("git", "diff", "--check", cwd=project, check=False).returncode == 0
    lint = nox(project, "-s", "lint", check=False)
    output = lint.stdout + lint.stderr
    assert lint.returncode != 0
    assert "Resolve what the update left, then rerun:\nCHANGELOG.md.rej" in output
    assert "nox > ruff" not in output  # before any tool, which would only confuse


def test_inline_markers_fail_lint_before_any_tool_runs(
    template_repo: Path, tmp_path: Path
) -> None:
    project = conflicting_changelog(template_repo, tmp_path)
    pyproject_toml = project / "pyproject.toml"
    edit(pyproject_toml, "[tool.ruff]\n", "[tool.ruff]\n# the user's ruff note\n")
    git_commit_all(project, "A note")
    timed_update(project, "--conflict", "inline")
    lint = nox(project, "-s", "lint", check=False)
    output = lint.stdout + lint.stderr
    assert lint.returncode != 0
    assert "CHANGELOG.md:" in output
    assert "nox > ruff" not in output, output
    assert "Found " not in output, output


def test_markers_in_the_noxfile_are_named_by_the_message_after_the_update(
    template_repo: Path, tmp_path: Path
) -> None:
    # nox cannot even load a noxfile with markers: the message says what can.
    project = render_at(template_repo, tmp_path / "project", OLD)
    edit(project / "noxfile.py", "# ///\n", "# ///\n# The user's note at the top.\n")
    git_commit_all(project, "A note in the noxfile")
    result = timed_update(project, "--conflict", "inline")
    assert (
        "noxfile.py" in run("git", "diff", "--check", cwd=project, check=False).stdout
    )
    said = " ".join(result.stderr.split())
    assert "`git diff --check` lists each file with conflict markers" in said
    assert "unless the noxfile itself holds markers: then only git can" in said
    assert nox(project, "--list", check=False).returncode != 0


@pytest.mark.e2e
def test_switching_variant_on_update_both_ways_keeps_sessions_green(
    template_repo: Path, tmp_path: Path
) -> None:
    project = render_at(template_repo, tmp_path / "project", NEW)
    fresh_pure = render_at(template_repo, tmp_path / "fresh-pure", NEW)
    fresh_c = render_at(template_repo, tmp_path / "fresh-c", NEW, variant="c-extension")
    sessions = ("-s", "lint", f"test-{PYTHON}", "typecheck", "build")

    timed_update(project, "--data", "variant=c-extension")
    assert answers(project)["variant"] == "c-extension"
    assert_merged_cleanly(project)
    # Exactly what a fresh C-extension project has: nothing missing, nothing left over.
    assert_same_tree(project, fresh_c)
    assert (project / "src" / MODULE / "_core.c").is_file(), (
        f"a c-extension project has no src/{MODULE}/_core.c: is the C variant in"
        " the template yet?"
    )
    git_commit_all(project, "Switch to the C extension")
    nox(project, *sessions)
    assert f"src/{MODULE}/_core.c" in sdist_members(project)
    git_commit_all(project, "Lock")  # the uv.lock that nox wrote, as it says to
    lock = (project / "uv.lock").read_bytes()

    timed_update(project, "--data", "variant=pure")
    assert answers(project)["variant"] == "pure"
    assert_merged_cleanly(project)
    assert_same_tree(project, fresh_pure)
    # copier leaves the lock alone; the next nox run brings it up to date.
    assert (project / "uv.lock").read_bytes() == lock
    assert not [name for name in tree(project) if "/_core" in name]
    git_commit_all(project, "Back to pure Python")
    nox(project, *sessions)
    assert not [name for name in sdist_members(project) if "/_core" in name]
    wheels = [p.name for p in (project / "dist").glob("*.whl")]
    assert len(wheels) == 1, wheels
    assert wheels[0].endswith("-py3-none-any.whl"), wheels


@pytest.mark.e2e
def test_raising_min_python_on_update_moves_metadata_sessions_and_ci_together(
    template_repo: Path, tmp_path: Path
) -> None:
    old, new = PYTHON, "3.12"
    require_python(new)
    project = render_at(template_repo, tmp_path / "project", NEW, min_python=old)
    assert pyproject(project)["project"]["requires-python"] == f">={old}"
    assert python_classifiers(project)[0] == old
    assert f"test-{old}" in nox_test_sessions(project)
    assert nox_test_sessions(project) == ci_matrix(project)

    timed_update(project, "--data", f"min_python={new}")
    assert answers(project)["min_python"] == new
    assert_merged_cleanly(project)
    assert pyproject(project)["project"]["requires-python"] == f">={new}"
    assert pyproject(project)["tool"]["mypy"]["python_version"] == new
    classifiers = python_classifiers(project)
    assert old not in classifiers
    assert classifiers[0] == new
    sessions = nox_test_sessions(project)
    assert f"test-{old}" not in sessions
    assert f"test-{new}" in sessions
    assert {f"test-{v}" for v in classifiers} <= sessions
    assert ci_matrix(project) == sessions
    # And it is exactly a project started at the new min_python.
    fresh = render_at(template_repo, tmp_path / "fresh", NEW, min_python=new)
    assert_same_tree(project, fresh)

    git_commit_all(project, f"Require Python {new}")
    nox(project, "-s", "lint", f"test-{new}", "typecheck")


def test_check_update_reports_a_newer_tag_until_the_project_is_updated(
    template_repo: Path, tmp_path: Path
) -> None:
    project = render_at(template_repo, tmp_path / "project", OLD)

    def check_update() -> tuple[dict[str, Any], str, int]:
        as_json = copier_cli(project, "check-update", "--output-format", "json").stdout
        plain = copier_cli(project, "check-update").stdout
        quiet = copier_cli(project, "check-update", "--quiet", check=False)
        assert quiet.stdout == "", quiet.stdout
        return json.loads(as_json.strip().splitlines()[-1]), plain, quiet.returncode

    report, plain, status = check_update()
    assert report == {
        "update_available": True,
        "current_version": OLD.removeprefix("v"),
        "latest_version": NEW.removeprefix("v"),
    }
    assert "New template version available." in plain
    assert "Current version is 1.0.0, latest version is 1.1.0." in plain
    assert status == 2  # --quiet: "exit with status 2 when a new version is available"

    timed_update(project)  # no --vcs-ref: the newest tag
    git_commit_all(project, f"Update to wheelwright {NEW}")

    report, plain, status = check_update()
    assert report == {
        "update_available": False,
        "current_version": NEW.removeprefix("v"),
        "latest_version": NEW.removeprefix("v"),
    }
    assert "Project is up-to-date!" in plain
    assert status == 0


def test_old_answers_file_gets_new_question_default_without_prompting(
    template_repo: Path, tmp_path: Path
) -> None:
    email = "ada@example.org"
    project = render_at(template_repo, tmp_path / "project", OLD, author_email=email)
    old_answers = answers(project)
    assert NEW_QUESTION not in old_answers

    # stdin is /dev/null: a prompt would fail the update instead of waiting.
    result = timed_update(project)
    assert "Who answers contributors' questions" not in result.stdout + result.stderr

    new_answers = answers(project)
    assert new_answers[NEW_QUESTION] == email  # the default, computed from old answers
    assert new_answers["_commit"] == NEW
    assert {
        k: v for k, v in new_answers.items() if k not in {NEW_QUESTION, "_commit"}
    } == {k: v for k, v in old_answers.items() if k != "_commit"}
    assert f"Questions and patches: {email}." in (project / "SUPPORT.md").read_text()
    assert_merged_cleanly(project)


# --- earlier versions, from this repository's own history -------------------------


def copier_yml_at(commit: str) -> dict[str, Any]:
    """A commit's copier.yml, its documents merged (includes left out)."""
    return load_copier_yml(git(ROOT, "show", f"{commit}:copier.yml"))


def offers(commit: str, question: str, choice: str) -> bool:
    """Whether a commit's copier.yml offers a choice. A value kept only so that
    old answers stop with a message has "refused" in its label: not offered."""
    choices = copier_yml_at(commit).get(question, {}).get("choices", {})
    pairs = (
        choices.items()
        if isinstance(choices, dict)
        else zip(choices, choices, strict=True)
    )
    return any(value == choice and "refused" not in label for label, value in pairs)


def template_commits() -> list[str]:
    """Every commit of this repository that changed the template, newest first."""
    commits = git(ROOT, "rev-list", "HEAD", "--", "copier.yml", "template").split()
    if not commits:
        pytest.fail(f"no history in {ROOT}: the update tests need a full clone")
    return commits


def newest_commit_offering(choice: str) -> str:
    """The newest commit of this repository whose copier.yml offered a
    min_python choice: the template a user's old project came from."""
    for commit in template_commits():
        if offers(commit, "min_python", choice):
            return commit
    pytest.fail(f"no commit of {ROOT} offers min_python {choice}: is its history here?")


def oldest_commit_with(fragment: str) -> str:
    """The oldest commit whose template has a file with `fragment` in its path."""
    for commit in reversed(template_commits()):
        if fragment in git(ROOT, "ls-tree", "-r", "--name-only", commit, "template"):
            return commit
    pytest.fail(f"no commit of {ROOT} has a template file named like {fragment}")


def extract(commit: str, destination: Path) -> Path:
    """A commit's files, as `git archive` gives them."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", commit], capture_output=True,
                             check=True).stdout  # fmt: skip
    destination.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return destination


def history_repo(template_snapshot: Path, tmp_path: Path, old_commit: str) -> Path:
    """A template repository: an earlier commit of this one tagged v0.1.0, then
    the working tree (uncommitted changes included) tagged v0.2.0."""
    repo = extract(old_commit, tmp_path / "wheelwright")
    git_commit_all(repo, "wheelwright 0.1.0")
    git(repo, "tag", "v0.1.0")
    for old in (p for p in repo.iterdir() if p.name != ".git"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    shutil.copytree(template_snapshot, repo, dirs_exist_ok=True)
    git_commit_all(repo, "wheelwright 0.2.0")
    git(repo, "tag", "v0.2.0")
    return repo


def test_a_project_on_python_3_10_stops_the_update_with_the_fix(
    template_snapshot: Path, tmp_path: Path
) -> None:
    # The template as it was when it offered 3.10, tagged v0.1.0; then today's.
    repo = history_repo(template_snapshot, tmp_path, newest_commit_offering("3.10"))
    project = render_at(repo, tmp_path / "project", "v0.1.0", min_python="3.10")

    result = copier_cli(project, "update", "--defaults", check=False)
    assert result.returncode != 0
    # copier prints a traceback of its own first (upstream); its last line is ours.
    assert last_line(result.stderr).endswith(
        "min_python 3.10 reached its end of life in October 2026 and wheelwright no "
        "longer supports it: rerun with --data min_python=3.11 (or newer)."
    ), result.stderr
    assert git(project, "status", "--porcelain") == ""  # nothing touched
    assert answers(project)["_commit"] == "v0.1.0"

    timed_update(project, "--data", "min_python=3.11")
    assert_merged_cleanly(project)
    assert answers(project)["min_python"] == "3.11"
    assert answers(project)["_commit"] == "v0.2.0"
    assert pyproject(project)["project"]["requires-python"] == ">=3.11"
    assert "test-3.10" not in nox_test_sessions(project)


# --- earlier answers the rules now refuse ----------------------------------------


@pytest.mark.parametrize(
    ("question", "old_answer", "new_answer"),
    [
        # The first version's validator took both; each renders a broken project.
        ("author_email", "josé@example.com", "jose@example.com"),
        ("module_name", "__future__", "future_tools"),
    ],
)
def test_an_answer_the_rules_now_refuse_stops_the_update_instead_of_being_replaced(
    template_snapshot: Path,
    tmp_path: Path,
    question: str,
    old_answer: str,
    new_answer: str,
) -> None:
    first_version = template_commits()[-1]
    repo = history_repo(template_snapshot, tmp_path, first_version)
    project = render_at(repo, tmp_path / "project", "v0.1.0", **{question: old_answer})
    before = answers(project)
    assert before[question] == old_answer

    # copier drops a stored answer its validator refuses and, with --defaults,
    # renders the default instead (the package renamed, the email changed).
    result = copier_cli(project, "update", "--defaults", check=False)
    assert result.returncode != 0
    line = last_line(result.stderr)
    assert "Validation error for question 'earlier_answers': " in line
    assert f"{question}={json.dumps(old_answer, ensure_ascii=False)} (" in line
    assert f"rerun with --data {question}=<new value>." in line
    assert git(project, "status", "--porcelain") == ""  # nothing touched
    assert answers(project) == before

    timed_update(project, "--data", f"{question}={new_answer}")
    after = answers(project)
    assert (after[question], after["_commit"]) == (new_answer, "v0.2.0")
    # Every other answer is the one it was.
    unchanged = set(before) - {question, "_commit"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


# --- every edit survives an update from every earlier version ---------------------

# Files users do not edit: copier owns the answers file.
NOT_EDITED = {".copier-answers.yml"}
COMMENT = {".py": "# ", ".toml": "# ", ".yml": "# ", ".c": "// ", ".pyi": "# ", "": ""}


def edit_every_file(project: Path) -> dict[str, list[str]]:
    """Add a line in the middle and one at the end of every file a user may
    edit, as a user would; return the lines each file got."""
    edits: dict[str, list[str]] = {}
    for name in tree(project):
        if name in NOT_EDITED:
            continue
        path = project / name
        lines = path.read_text().splitlines(keepends=True)
        comment = COMMENT.get(path.suffix, "# " if name == ".gitignore" else "")
        mine = [f"{comment}the user's line in the middle of {name}\n",
                f"{comment}the user's line at the end of {name}\n"]  # fmt: skip
        middle = len(lines) // 2
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        path.write_text("".join([*lines[:middle], mine[0], *lines[middle:], mine[1]]))
        edits[name] = mine
    git_commit_all(project, "The user's edits, in every file")
    return edits


def conflicted_files(project: Path) -> set[str]:
    markers = re.compile(rb"(?m)^(<{7}|>{7}) ")
    return {name for name, content in tree(project).items() if markers.search(content)}


@pytest.mark.parametrize(
    ("variant", "which"),
    [("pure", "first"), ("c-extension", "first"), ("pure", "last-with-3.10"),
     ("c-extension", "last-with-3.10")],
)  # fmt: skip
def test_every_edit_survives_an_update_from_an_earlier_version_or_stands_as_a_conflict(
    template_snapshot: Path, tmp_path: Path, variant: str, which: str
) -> None:
    first = (
        oldest_commit_with("_core.c") if variant != "pure" else template_commits()[-1]
    )
    old = first if which == "first" else newest_commit_offering("3.10")
    repo = history_repo(template_snapshot, tmp_path, old)
    answers_at_old = {"variant": variant} if variant != "pure" else {}
    project = render_at(repo, tmp_path / "project", "v0.1.0", **answers_at_old)
    edits = edit_every_file(project)
    assert len(edits) >= 10

    timed_update(project)  # the newest tag: the working tree
    assert answers(project)["_commit"] == "v0.2.0"

    after = tree(project)
    conflicted = conflicted_files(project)
    print(f"from {old[:8]} ({variant}): conflicts in {sorted(conflicted)}")
    retired = retired_files()  # deleted, and named by the message
    for name, lines in edits.items():
        if name in retired:
            assert name not in after, f"{name} is retired, yet still here"
            continue
        assert name in after, f"the update deleted {name}, which the user edited"
        text = after[name].decode()
        for line in lines:
            assert line in text, f"the update lost {line!r} from {name}"
    # A conflict is visible: git lists the file as unmerged, and so does
    # `git diff --check` (the project's lint session fails on it too).
    unmerged = set(git(project, "diff", "--name-only", "--diff-filter=U").split())
    assert conflicted <= unmerged
    if conflicted:
        check = run("git", "diff", "--check", cwd=project, check=False)
        assert {
            line.split(":")[0] for line in check.stdout.splitlines() if ":" in line
        } >= conflicted
    assert not [name for name in after if name.endswith(".rej")]


# --- files: only the template's machinery is ever retired -------------------------

# What a template version may stop rendering: its own machinery. copier deletes
# such a file on update, edits and all (exit 0, a clean `git diff --check`), so
# a file of the user's (src, tests, docs, README, CHANGELOG, ...) never may be.
RETIRABLE = ("tools/",)


def rendered_paths(template: Path, destination: Path, **answers: Any) -> set[str]:
    copier.run_copy(str(template), destination, data=answers, defaults=True, quiet=True)
    return {
        p.relative_to(destination).as_posix()
        for p in destination.rglob("*")
        if p.is_file()
    }


def retired_files() -> dict[str, str]:
    return load_copier_yml((ROOT / "copier.yml").read_text())["retired_files"][
        "default"
    ]


def test_only_machinery_is_retired_and_each_retired_file_is_named(
    template_snapshot: Path, tmp_path: Path
) -> None:
    """Checked against every commit of this repository's history: what an
    earlier version rendered and this one does not is under tools/, and the
    message after an update names it (copier.yml's retired_files)."""
    now = {
        variant: rendered_paths(template_snapshot, tmp_path / f"now-{variant}", variant=variant)
        for variant in ("pure", "c-extension")
    }  # fmt: skip
    named, checked = set(retired_files()), 0
    for commit in template_commits():
        template = extract(commit, tmp_path / commit)
        for variant in ("pure", "c-extension"):
            answers_then = {"variant": variant}
            if variant != "pure" and not offers(commit, "variant", variant):
                continue
            if not offers(commit, "variant", "pure"):
                answers_then = {}  # before the variant question: pure only
            then = rendered_paths(
                template, tmp_path / f"{commit}-{variant}", **answers_then
            )
            dropped = then - now[variant]
            mine = sorted(d for d in dropped if not d.startswith(RETIRABLE))
            assert not mine, (
                f"{commit[:8]} rendered {mine} for variant={variant}; the working tree "
                "does not, so `copier update` would delete them with the user's edits"
            )
            unnamed = sorted(dropped - named)
            assert not unnamed, f"{commit[:8]}: retired but not named: {unnamed}"
            checked += 1
    assert checked >= len(template_commits())
    assert all(path.startswith(RETIRABLE) for path in named)


def newest_commit_with(path: str) -> str:
    """The newest commit whose template renders a file at this path."""
    for commit in template_commits():
        if (
            path
            in git(ROOT, "ls-tree", "-r", "--name-only", commit, "template").split()
        ):
            return commit
    pytest.fail(f"no commit of {ROOT} has template/{path}")


# The release before CI was derived from the noxfile: the last with this file.
PREVIOUS_RELEASE_FILE = "tools/check_ci_mirror.py"


@pytest.mark.e2e
@pytest.mark.parametrize("variant", ["pure", "c-extension"])
def test_an_update_from_the_previous_release_arrives_green(
    template_snapshot: Path, tmp_path: Path, variant: str
) -> None:
    old = newest_commit_with(f"template/{PREVIOUS_RELEASE_FILE}")
    repo = history_repo(template_snapshot, tmp_path, old)
    project = render_at(repo, tmp_path / "project", "v0.1.0", variant=variant)
    nox(project, "-s", f"test-{PYTHON}")  # its first run writes uv.lock
    git_commit_all(project, "The lock")
    result = timed_update(project)
    for path, why in retired_files().items():
        assert f"  {path}: {why}" in result.stderr, result.stderr
        assert not (project / path).exists()
    assert_merged_cleanly(project)
    git_commit_all(project, "Update to wheelwright 0.2.0")
    nox(project, "-s", "lint", f"test-{PYTHON}", "typecheck", "docs", "build")


def test_an_edited_file_the_update_retires_is_named_and_its_edit_shown(
    template_snapshot: Path, tmp_path: Path
) -> None:
    old = newest_commit_with(f"template/{PREVIOUS_RELEASE_FILE}")
    repo = history_repo(template_snapshot, tmp_path, old)
    project = render_at(repo, tmp_path / "project", "v0.1.0")
    retired = project / PREVIOUS_RELEASE_FILE
    user_line = "# The user's own rule, which they will want to move."
    retired.write_text(retired.read_text() + user_line + "\n")
    git_commit_all(project, "The user's own rule")
    result = timed_update(project)
    assert not retired.exists()  # copier deletes it, edited or not...
    assert PREVIOUS_RELEASE_FILE in result.stderr  # ...and the message names it,
    command = "`git log -p -- <file>` shows any change you had made to one."
    assert command in " ".join(result.stderr.split())  # ...with how to see the edit,
    shown = git(project, "log", "-p", "--", PREVIOUS_RELEASE_FILE)
    assert f"+{user_line}" in shown  # ...which git still has.


def test_an_answer_change_keeps_the_users_lines_in_gitattributes(
    template_repo: Path, tmp_path: Path
) -> None:
    project = render_at(template_repo, tmp_path / "project", NEW)
    gitattributes = project / ".gitattributes"
    user_line = "*.psd filter=lfs diff=lfs merge=lfs -text"
    gitattributes.write_text(gitattributes.read_text() + user_line + "\n")
    git_commit_all(project, "git lfs track *.psd")
    # The user's line stays, merged or beside the template's change as a
    # conflict; the file is never deleted with it.
    timed_update(project, "--data", "versioning=static")
    text = gitattributes.read_text()
    assert user_line in text
    assert "export-subst" not in text or "<<<<<<<" in text, text


def test_an_answer_change_that_deletes_a_users_file_names_it_and_its_lines(
    template_repo: Path, tmp_path: Path
) -> None:
    project = render_at(template_repo, tmp_path / "project", NEW, variant="c-extension")
    core = project / "src" / MODULE / "_core.c"
    core.write_text(core.read_text() + "/* the user's own line */\n")
    git_commit_all(project, "My C code")
    result = timed_update(project, "--data", "variant=pure")
    said = " ".join(result.stderr.split())
    deleted = run("git", "status", "--porcelain", cwd=project).stdout
    # The message says how to see each deleted file and its lines; git does.
    assert "`git status` lists each as deleted" in said, said
    assert f" D src/{MODULE}/_core.c" in deleted.splitlines(), deleted
    assert "`git diff HEAD -- <file>` shows its lines" in said, said
    lines = run("git", "diff", "HEAD", "--", f"src/{MODULE}/_core.c", cwd=project)
    assert "-/* the user's own line */" in lines.stdout


# --- the README's own commands ------------------------------------------------------


def readme_lines(section: str, first: str) -> list[str]:
    """The commands of the README's sh block in `section` that holds `first`,
    from `first` on, comments dropped."""
    readme = (ROOT / "README.md").read_text()
    body = readme.split(f"\n{section}\n", 1)[1]
    for block in re.findall(r"```sh\n(.*?)```", body, re.DOTALL):
        lines = [line.split("  #")[0].strip() for line in block.splitlines()]
        lines = [line for line in lines if line and not line.startswith("#")]
        matching = [i for i, line in enumerate(lines) if line.startswith(first)]
        if matching:
            return lines[matching[0] :]
    pytest.fail(f"no sh block in README.md's {section!r} starts a line with {first!r}")


@pytest.mark.e2e
@needs_a_pty
def test_the_readmes_render_command_makes_a_project_its_update_commands_update(
    template_snapshot: Path, tmp_path: Path
) -> None:
    # The clone a user makes; its upstream gets the template's next change.
    upstream = tmp_path / "upstream"
    shutil.copytree(template_snapshot, upstream)
    git_commit_all(upstream, "wheelwright")
    run("git", "clone", "--quiet", upstream, "wheelwright", cwd=tmp_path)
    clone = tmp_path / "wheelwright"

    # The render command, verbatim, answering each question with Enter.
    (render_command,) = readme_lines("From a clone of this repository, with only Python and git:", "python3 -m venv .venv && .venv/bin/python -m pip install --quiet \"copier")[:1]  # fmt: skip
    child = pexpect.spawn(
        "bash", ["-c", render_command], cwd=clone, env=project_env(TERM="dumb"),
        encoding="utf-8", timeout=600, dimensions=(24, 80),
    )  # fmt: skip
    try:
        while child.expect(["\U0001f3a4", pexpect.EOF]) == 0:  # copier's prompt mark
            child.send("\r")
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    project = tmp_path / "my-package"
    # The answers file names the clone where `copier update` can find it.
    assert answers(project)["_src_path"] == str(clone)
    git(project, "init", "--quiet", "--initial-branch=main")
    git_commit_all(project, "Start from wheelwright")
    # The issue: both failed with a traceback, "Unknown revision".
    run(clone / ".venv" / "bin" / "copier", "check-update", cwd=project)

    make_v1_1_0(upstream)  # a new question and file, a changed line, ...
    git_commit_all(upstream, "wheelwright, a little better")

    for line in readme_lines("## Updating a project", "git -C ../wheelwright pull"):
        run("bash", "-c", line, cwd=project)
    assert (project / "SUPPORT.md").is_file()
    assert last_line((project / "CHANGELOG.md").read_text()).endswith(CHANGELOG_SUFFIX)
    assert answers(project)["_commit"] != git(clone, "rev-parse", "--short", "HEAD~1")
    assert_merged_cleanly(project)
