"""Bad answers are refused with one line that names the question and the fix,
and every question, message and refusal fits an 80-column terminal."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import jinja2
import pexpect
import pytest
import yaml
from helpers import (
    needs_a_pty,
    run,
)
from questionnaire import (
    PREFIX,
    TOOLBAR_WIDTH,
    WIDTH,
    copier_yml,
    message_after_copy,
    numbered_steps,
    questions,
)

# (question, answer, the line copier ends with). Each is an answer that used to
# render a broken project (issue 12), or an old refusal kept working.
BAD_ANSWERS = {
    "project_name": [
        ("-leading-dash", "letters, digits, inner . _ - only"),
        ("has space", "letters, digits, inner . _ - only"),
        ("trailing.", "letters, digits, inner . _ - only"),
        ("my-package\n", "letters, digits, inner . _ - only"),  # `$` took it
        ("a" * 101, "at most 100 characters (GitHub's)"),
        ("pytest", "nox -s test needs it: rename"),  # test: --cov unrecognized
        ("typing-extensions", "nox -s test needs it: rename"),
        ("Nox", "nox -s typecheck needs it: rename"),  # compared normalized
    ],
    "module_name": [
        ("1abc", "a-z, 0-9 and _, not 0-9 first"),
        ("My-Module", "a-z, 0-9 and _, not 0-9 first"),
        ("my_package\n", "a-z, 0-9 and _, not 0-9 first"),
        ("a" * 41, "at most 40 characters: shorten it"),
        ("class", "a Python keyword: pick another"),
        ("json", "a standard-library module: rename"),
        ("__future__", "a standard-library module: rename"),
        ("__main__", "a standard-library module: rename"),
        ("typing_extensions", "nox -s typecheck needs it: rename"),
        ("yaml", "nox -s lint needs it: rename"),
        ("noxfile", "named like a project file: rename"),
        ("sitecustomize", "Python runs it at startup: rename"),
        # check-wheel-contents' W005 fails the build; the test session imports
        # the project's tests/ for `tests` ("cannot import name 'slugify'").
        ("tests", "a common top-level name: rename"),
        ("test", "a common top-level name: rename"),
        ("app", "a common top-level name: rename"),
    ],
    "description": [
        ("   ", "empty: say what the package does"),
        ("two\nlines", "must be one line of printable text"),
        ("carriage\rreturn", "must be one line of printable text"),
        ("a\ttab", "must be one line of printable text"),
        ("right\u202eto left", "must be one line of printable text"),
        (" padded", "remove the spaces at either end"),
        ("x" * 513, "at most 512 characters (PyPI's)"),
    ],
    "author_name": [
        ("", "empty: give a name for the license"),
        ("Ada\nLovelace", "must be one line of printable text"),
        ("Lovelace, Ada", "drop the commas (PEP 621)"),
    ],
    "author_email": [
        ("not-an-email", "use name@example.com, ASCII only"),
        ("two@@example.com", "use name@example.com, ASCII only"),
        ("josé@example.com", "use name@example.com, ASCII only"),
        ('quote"d@example.com', "use name@example.com, ASCII only"),
        ("back\\slash@example.com", "use name@example.com, ASCII only"),
        ("you@example.com\n", "use name@example.com, ASCII only"),
    ],
    "github_owner": [
        ("-owner", "letters, digits, single -, max 39"),
        ("a" * 40, "letters, digits, single -, max 39"),
        ("owner\n", "letters, digits, single -, max 39"),
    ],
    "github_repo": [
        ("my repo", "letters, digits, . _ -, max 100"),
        ("..", "not . or .. (GitHub refuses them)"),
    ],
    "copyright_year": [
        ("next year", "a year like 2026, or 2024-2026"),
        ("2026\n", "a year like 2026, or 2024-2026"),
    ],
}
CASES = [
    pytest.param(question, value, why, id=f"{question}={value[:16]!r}")
    for question, cases in BAD_ANSWERS.items()
    for value, why in cases
]
# A project_name whose default module_name is refused: the line names the
# question to answer (module_name), so `--data module_name=...` is the fix.
TOO_COMMON_PROJECT_NAMES = ["app", "cli", "lib", "data", "scripts", "examples",
                            "docs", "src", "Tests"]  # fmt: skip
CHOICE_CASES = [
    ("license", "WTFPL", "'WTFPL' is not in"),
    ("min_python", "3.9", "'3.9' is not in"),
]


def copier_copy(template: Path, destination: Path, *args: str) -> Any:
    return run(
        sys.executable, "-m", "copier", "copy", "--defaults", *args, template,
        destination, cwd=destination.parent, check=False,
    )  # fmt: skip


def assert_refused(result: Any, destination: Path, question: str, why: str) -> None:
    """copier stopped, rendering nothing, and its last line names the question
    and the fix (copier 9.x prints its own traceback before it for bad --data)."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert output.strip().splitlines()[-1].endswith(PREFIX.format(question) + why)
    assert not (destination / "pyproject.toml").exists()


@pytest.mark.parametrize(("question", "value", "why"), CASES)
def test_bad_answer_is_refused_with_one_line_naming_question_and_fix(
    template_snapshot: Path, tmp_path: Path, question: str, value: str, why: str
) -> None:
    destination = tmp_path / "project"
    result = copier_copy(
        template_snapshot, destination, "--data", f"{question}={value}"
    )
    assert_refused(result, destination, question, why)


@pytest.mark.parametrize("project_name", TOO_COMMON_PROJECT_NAMES)
def test_a_project_name_whose_module_name_is_too_common_is_refused_on_module_name(
    template_snapshot: Path, tmp_path: Path, project_name: str
) -> None:
    destination = tmp_path / "project"
    result = copier_copy(
        template_snapshot, destination, "--data", f"project_name={project_name}"
    )
    why = "a common top-level name: rename"
    assert_refused(result, destination, "module_name", why)
    # Another module_name is the way through.
    renamed = copier_copy(
        template_snapshot, destination, "--data", f"project_name={project_name}",
        "--data", f"module_name={project_name.lower()}_tools",
    )  # fmt: skip
    assert renamed.returncode == 0, renamed.stdout + renamed.stderr


@pytest.mark.parametrize(("question", "value", "message"), CHOICE_CASES)
def test_answer_outside_the_choices_is_refused(
    template_snapshot: Path, tmp_path: Path, question: str, value: str, message: str
) -> None:
    result = copier_copy(
        template_snapshot, tmp_path / "p", "--data", f"{question}={value}"
    )
    assert result.returncode != 0
    assert message in (result.stdout + result.stderr).strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("answers", "question", "why"),
    [
        ({"author_name": "Ada\nLovelace"}, "author_name", "must be one line of printable text"),
        ({"description": "ends with a carriage return\r"}, "description",
         "must be one line of printable text"),
        ({"project_name": "surrogate\udcff"}, "project_name", "letters, digits, inner . _ - only"),
        ({"description": "a lone surrogate \ud800"}, "description",
         "must be one line of printable text"),
    ],
    ids=["newline-in-name", "carriage-return", "surrogate-name", "surrogate-description"],
)  # fmt: skip
def test_answers_from_a_data_file_meet_the_same_rules(
    template_snapshot: Path, tmp_path: Path, answers: dict[str, str], question: str,
    why: str,
) -> None:  # fmt: skip
    data_file = tmp_path / "answers.yml"
    # Double-quoted YAML: the escapes (\n, \r, \ud800) reach copier as characters.
    data_file.write_text(yaml.safe_dump(answers, allow_unicode=False))
    destination = tmp_path / "project"
    result = copier_copy(template_snapshot, destination, "--data-file", str(data_file))
    assert_refused(result, destination, question, why)


# --- 80 columns ----------------------------------------------------------------


def test_every_refusal_fits_copiers_one_line_toolbar_at_80_columns() -> None:
    """Every `why` of every rule and reserved list, after copier's prefix."""
    config = copier_yml()
    rules = config["answer_rules"]["default"]
    reserved = config["reserved_names"]["default"]
    assert set(rules) <= set(questions())
    for question, question_rules in rules.items():
        whys = [rule["why"] for rule in question_rules if "why" in rule]
        whys += [
            group["why"]
            for rule in question_rules
            if "reserved" in rule
            for group in reserved[rule["reserved"]]
        ]
        assert whys, question
        for why in whys:
            line = PREFIX.format(question) + why
            assert len(line) <= TOOLBAR_WIDTH, f"{len(line)} columns: {line}"
            assert line.isascii()
            assert "\n" not in why


def render_help(text: str, **answers: str) -> str:
    return (
        jinja2.Environment(undefined=jinja2.StrictUndefined)
        .from_string(text)
        .render(**answers)
    )


# The prompt puts "🎤 " (three columns) before a help text's first line.
QMARK_COLUMNS = 3


def test_every_help_text_and_choice_fits_80_columns() -> None:
    for name, spec in questions().items():
        help_text = render_help(spec["help"], min_python="3.11")
        assert help_text.isascii(), name
        for line in help_text.splitlines():
            assert QMARK_COLUMNS + len(line) <= WIDTH, f"{name}: {line!r}"
        for label in spec.get("choices", {}):
            assert len("   » ") + len(label) <= WIDTH, f"{name}: {label!r}"


def test_messages_after_copy_and_update_fit_80_columns(
    template_snapshot: Path, tmp_path: Path
) -> None:
    for variant in ("pure", "c-extension"):
        for line in message_after_copy(
            template_snapshot, tmp_path, variant
        ).splitlines():
            assert len(line) <= WIDTH, f"{variant}: {line!r}"
    config = copier_yml()
    update_message = render_help(
        config["_message_after_update"],
        project_name="my-package",
        retired_files=config["retired_files"]["default"],
    )
    for line in update_message.splitlines():
        assert len(line) <= WIDTH, line


# The questions in the order copier asks them, each by a phrase of its help text.
PROMPTS = {
    "project_name": "The distribution name",
    "module_name": "The import name",
    "description": "A one-line summary",
    "author_name": "Your name",
    "author_email": "Your email address",
    "github_owner": "The GitHub user or organization",
    "github_repo": "The GitHub repository name",
}


def spawn_copier(template: Path, tmp_path: Path) -> pexpect.spawn:
    """copier in an 80-column terminal, as a user runs it."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "copier", "copy", str(template), str(tmp_path / "project")],
        encoding="utf-8",
        timeout=30,
        dimensions=(24, WIDTH),
        env={"TERM": "dumb", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


# Per question, the refusal with the longest line (every one is measured above).
INTERACTIVE_CASES = [
    pytest.param(question, *max(typeable, key=lambda case: len(case[1])), id=question)
    for question in PROMPTS
    if (typeable := [c for c in BAD_ANSWERS[question] if c[0].isprintable() and c[0]])
]


@pytest.mark.parametrize(("question", "value", "why"), INTERACTIVE_CASES)
@needs_a_pty
def test_interactive_refusal_shows_whole_at_80_columns_and_asks_again(
    template_snapshot: Path, tmp_path: Path, question: str, value: str, why: str
) -> None:
    child = spawn_copier(template_snapshot, tmp_path)
    try:
        for name, prompt in PROMPTS.items():
            child.expect(prompt)
            if name == question:
                break
            child.send("\r")  # accept the default
        erase = "\x7f" * 80  # the prompt is prefilled with the default
        child.send(erase + value + "\r")
        # Whole: a line cut at 80 columns would not contain its end.
        child.expect(re.escape(PREFIX.format(question) + why))
        child.send(erase + "\x03")  # Ctrl-C: the user gives up
        child.expect(pexpect.EOF)
        assert "Traceback" not in child.before
    finally:
        child.close(force=True)
    assert not (tmp_path / "project" / "pyproject.toml").exists()


@needs_a_pty
def test_every_question_shows_its_whole_help_at_80_columns(
    template_snapshot: Path, tmp_path: Path
) -> None:
    """Walk through every question of the C variant (limited_api included),
    accepting the defaults, and find each help line whole on the screen."""
    child = spawn_copier(template_snapshot, tmp_path)
    seen: list[str] = []
    try:
        for name, spec in questions().items():
            if name in {"earlier_answers", "min_python_end_of_life"}:
                continue  # asked only about an old project's answers
            for line in render_help(spec["help"], min_python="3.11").splitlines():
                child.expect(re.escape(line))
            seen.append(name)
            if name == "variant":
                child.send("\x1b[B")  # down: "With a C extension"
            child.send("\r")
        child.expect("Your package my-package is ready")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "limited_api" in seen
    assert (tmp_path / "project" / "hatch_build.py").is_file()


def test_message_after_copy_says_what_each_variants_build_makes(
    template_snapshot: Path, tmp_path: Path
) -> None:
    pure = message_after_copy(template_snapshot, tmp_path, "pure")
    c_extension = message_after_copy(template_snapshot, tmp_path, "c-extension")
    assert "`nox -s build` puts the sdist and the wheel" in pure
    assert "nox -s wheels" not in pure
    # The C variant's build keeps its one-machine wheel out of dist/.
    assert "`nox -s build` puts the sdist in dist/" in c_extension
    assert "`nox -s wheels`" in c_extension
    for message in (pure, c_extension):
        # nox into .venv, with uv or with only Python; then nox itself, started
        # once (test_render runs these steps as written).
        steps = numbered_steps(message)
        assert steps[2:4] == ["uv sync --only-group=nox", ".venv/bin/nox"]
        assert (
            'python3 -m venv .venv && .venv/bin/python -m pip install "nox[uv]"'
            in message
        )
        # Commit after the first nox run, so that the uv.lock it writes is in
        # the first push.
        assert [s.split()[0] for s in steps] == [
            "cd",
            "git",
            "uv",
            ".venv/bin/nox",
            "git",
            "Push",
        ]
        assert steps[4].startswith("git add -A && git commit")
