"""Bad answers are refused with a message that names the problem and the fix."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pexpect
import pytest
from helpers import run

BAD_ANSWERS = {
    "project_name": [
        ("-leading-dash", "is not a valid distribution name"),
        ("has space", "is not a valid distribution name"),
        ("trailing.", "is not a valid distribution name"),
    ],
    "module_name": [
        ("1abc", "is not a valid module name"),
        ("My-Module", "is not a valid module name"),
        ("class", "is a Python keyword"),
        ("json", "is the name of a standard-library module"),
        ("asyncio", "is the name of a standard-library module"),
    ],
    "description": [("   ", "The description is empty")],
    "author_name": [("", "The author name is empty")],
    "author_email": [
        ("not-an-email", "is not an email address"),
        ("two@@example.com", "is not an email address"),
    ],
    "github_owner": [
        ("-owner", "is not a GitHub user or organization name"),
        ("a" * 40, "is not a GitHub user or organization name"),
    ],
    "github_repo": [("my repo", "is not a GitHub repository name")],
    "license": [("WTFPL", "'WTFPL' is not in")],
    "min_python": [("3.9", "'3.9' is not in")],
    "copyright_year": [("next year", "is not a year")],
}
CASES = [
    pytest.param(question, value, message, id=f"{question}={value[:12]}")
    for question, cases in BAD_ANSWERS.items()
    for value, message in cases
]


@pytest.mark.parametrize(("question", "value", "message"), CASES)
def test_bad_answer_is_refused_with_its_message(
    template_snapshot: Path, tmp_path: Path, question: str, value: str, message: str
) -> None:
    destination = tmp_path / "project"
    result = run(
        sys.executable, "-m", "copier", "copy", "--defaults",
        "--data", f"{question}={value}", template_snapshot, destination,
        cwd=tmp_path, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # copier (9.x) prints its own traceback for bad --data; the message it ends
    # with, the line a user reads, is ours.
    assert message in output.strip().splitlines()[-1]
    assert not (destination / "pyproject.toml").exists()


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
INTERACTIVE_CASES = [
    pytest.param(question, *BAD_ANSWERS[question][0], id=question)
    for question in PROMPTS
]


@pytest.mark.parametrize(("question", "value", "message"), INTERACTIVE_CASES)
def test_interactive_bad_answer_shows_its_message_and_asks_again(
    template_snapshot: Path, tmp_path: Path, question: str, value: str, message: str
) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "copier", "copy", str(template_snapshot), str(tmp_path / "project")],
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 250),
        env={"TERM": "dumb", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    try:
        for name, prompt in PROMPTS.items():
            child.expect(prompt)
            if name == question:
                break
            child.send("\r")  # accept the default
        erase = "\x7f" * 80  # the prompt is prefilled with the default
        child.send(erase + value + "\r")
        child.expect(re.escape(message))
        child.send(erase + "\x03")  # Ctrl-C: the user gives up
        child.expect(pexpect.EOF)
        assert "Traceback" not in child.before
    finally:
        child.close(force=True)
    assert not (tmp_path / "project" / "pyproject.toml").exists()
