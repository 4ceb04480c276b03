"""Every answer is refused in one line, or renders a project that is sound.

Property-based (hypothesis): each free-text question gets generated answers
that mix letters, digits, any Unicode, words codespell takes for typos and the
special characters of every format an answer can reach (TOML, Python strings
and docstrings, reStructuredText, YAML, Markdown and MyST, the plain-text
LICENSE, and Jinja itself). Each answer must be either

- refused by copier with one line, "Validation error for question '<name>':
  <why>", that fits copier's 80-column toolbar, rendering nothing; or
- rendered into a project in which every TOML, YAML and Python file parses,
  `ruff check`, `ruff format --check` and codespell pass, pyproject.toml is
  valid, and the answer reads back exactly as given from each place it went
  (the docstring as autodoc reads it).

Rendering is in-process (copier's API) to keep each example well under a
second. At the end, whole answer sets, a few generated and a few fixed
adversarial ones, run the real session of every CI job (the docs included).

The examples are drawn from a seed: fixed in CI (so a failure reproduces), new
on each local run, printed either way; WHEELWRIGHT_HYPOTHESIS_SEED=<n> replays one.
"""

from __future__ import annotations

import json
import operator
import os
import random
import re
import shutil
import tempfile
import traceback
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from conftest import Render
from helpers import IN_CI, git_commit_all, nox, output, require_python
from hypothesis import HealthCheck, Phase, event, given, note, reject, seed, settings
from hypothesis import strategies as st
from questionnaire import (
    PREFIX,
    TOOLBAR_WIDTH,
    assert_sound,
    codespell_misspellings,
    questions,
)
from test_docs import page_text

SEED = int(
    os.environ.get("WHEELWRIGHT_HYPOTHESIS_SEED")
    or (12 if IN_CI else random.SystemRandom().randrange(2**32))
)
# Per question. Each example renders a project or is refused (about 0.5 s or
# 0.15 s here): eight questions, about 300 examples, a minute on two cores.
EXAMPLES = int(os.environ.get("WHEELWRIGHT_HYPOTHESIS_EXAMPLES", "40"))

# --- what an answer is made of ----------------------------------------------------

SPECIALS = {
    "toml": ['"', "\\", "'", "'''", '"""', "#", "=", "[", "]", "{", "}", "\b", "\f",
             "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "\\u00e9", "\\n"],
    "python": ['"', "'", '"""', "'''", "\\", "\\N", "\\N{DASH}", "\\x", "\\u", "\\0",
               "{", "}", "%s", "#", "\\\n", "\x00", "\x0c"],
    "yaml": [": ", "- ", "? ", "#", "&a", "*a", "!tag", "|", ">", "%", "@", "`", "---",
             "...", "yes", "null", "~", ",", "\x85", "\u2028", "\u2029", "\ufeff",
             "\ufffe", "\uffff"],
    "markdown": ["*", "_", "__", "`", "```", "#", "# ", "<b>", "</b>", ">", "[", "]",
                 "](x)", "!", "&amp;", "&", "~~", "|", "- ", "+ ", "=", "1. ", "1) ",
                 "\\", "$", "    ", "<!--", "http://x.y", "  "],
    # MyST (the docs read the README with it), and reStructuredText (autodoc
    # reads the docstring with it).
    "myst": ["% ", "(x)=", "+++", "{x}`y`", ":::", "[^1]", "$$"],
    "rest": ["::", ".. ", "..", ":x:`y`", "|x|", "[x]_", "x_", "_`x`", "``", "#. ",
             "a) ", "(1) ", ">>> ", "--x", "-v ", "/V ", ":x: ", "----", "===",
             "+--+", "\u2022 ", "* "],
    "text": ["\n", "\r\n", "\r", "\x0b", "\x0c", "\t", " ", "\u00a0", "\u3000"],
    "unicode": ["\u00e9", "\u2019", "\u2013", "\u201c", "\uff26", "\u0430", "\u202e",
                "\u2066", "\u200b", "\u0301", "\U0001f680", "\ud800", "\udcff",
                "\U0001d400", "\u65e5\u672c"],
    "jinja": ["{{", "}}", "{%", "%}", "{#", "#}", "{{ project_name }}", "{% raw %}"],
}  # fmt: skip
# Every answer may reach several formats, so every strategy mixes them all.
SPECIALS_FLAT = sorted({s for group in SPECIALS.values() for s in group})
special = st.sampled_from(SPECIALS_FLAT)
any_character = st.characters(codec=None)  # any code point but surrogates
# A word codespell takes for a typo (a real name, often), in any case.
typo = st.sampled_from(codespell_misspellings()).flatmap(
    lambda word: st.sampled_from([word, word.capitalize(), word.upper()])
)
text = st.lists(
    st.one_of(
        special, st.text(any_character, max_size=3), st.sampled_from("aZ09 .-_"), typo
    ),
    max_size=10,
).map("".join)
# Text a user may well type: printable, the format's specials among it; most
# of it is accepted, so it exercises the escaping.
printable = st.lists(
    st.one_of(
        st.sampled_from(sorted(s for s in SPECIALS_FLAT if s.isprintable())),
        st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=3),
        typo,
        st.just(" "),
    ),
    min_size=1,
    max_size=10,
).map(lambda parts: "".join(parts).strip())


def near(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid answer: as is, with a special character after it (a trailing
    newline, say), or with special characters put in anywhere."""
    edit = st.tuples(st.integers(min_value=0), special)

    def insert(value: str, edits: list[tuple[int, str]]) -> str:
        for position, piece in edits:
            at = position % (len(value) + 1)
            value = value[:at] + piece + value[at:]
        return value

    return st.one_of(
        valid,
        # After the end: where `$` (not \Z) let a newline through.
        st.builds(
            operator.add,
            valid,
            st.one_of(st.sampled_from(["\n", "\r\n", " "]), special),
        ),
        st.builds(insert, valid, st.lists(edit, min_size=1, max_size=2)),
    )


def reserved_module_names() -> list[str]:
    from test_answers import reserved

    return sorted(reserved("modules"))


ANSWERS: dict[str, st.SearchStrategy[str]] = {
    "project_name": st.one_of(
        near(
            st.from_regex(
                r"[A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9])?", fullmatch=True
            )
        ),
        st.sampled_from(["pytest", "Typing_Extensions", "a" * 100, "a" * 101, "Nox"]),
        # Named like a typo: ignored by codespell, not refused.
        typo.filter(re.compile(r"[A-Za-z0-9]+").fullmatch),
        # Long names, in every line of code they reach.
        st.from_regex(r"[a-z][a-z0-9-]{25,98}[a-z0-9]", fullmatch=True),
        text,
    ),
    "module_name": st.one_of(
        near(st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True)),
        st.sampled_from(reserved_module_names()),
        st.from_regex(r"[a-z][a-z0-9_]{30,45}", fullmatch=True),
        # Names of the project's own and of its tools' directories and files.
        st.sampled_from(
            [
                "tests",
                "src",
                "tools",
                "text",
                "_core",
                "conftest",
                "test",
                "_",
                "__init__",
            ]
        ),
        st.sampled_from(["__pycache__", "match", "type", "case"]),
        text,
    ),
    "description": st.one_of(
        text, printable, near(st.text(any_character, min_size=1, max_size=40))
    ),
    "author_name": st.one_of(
        text, printable, near(st.text(any_character, min_size=1, max_size=40))
    ),
    "author_email": st.one_of(
        near(
            st.from_regex(
                r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[A-Za-z0-9'+_-]{1,4})?"
                r"@[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?(\.[a-z]{2,4}){1,2}",
                fullmatch=True,
            )
        ),
        text,
    ),
    "github_owner": st.one_of(
        near(st.from_regex(r"[A-Za-z0-9](-?[A-Za-z0-9]){0,38}", fullmatch=True)), text
    ),
    "github_repo": st.one_of(
        near(st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True)), text
    ),
    "copyright_year": st.one_of(
        near(st.from_regex(r"[0-9]{4}(-[0-9]{4})?", fullmatch=True)), text
    ),
}

# --- what a sound project is -----------------------------------------------------


def refused_or_sound(template: Path, question: str, value: str) -> str:
    """Render one answer (defaults for the rest); check the outcome; name it."""
    note(f"seed {SEED}: {question}={value!r}")
    destination = Path(tempfile.mkdtemp(prefix="answer-")) / "project"
    try:
        try:
            copier.run_copy(
                str(template), destination, data={question: value}, defaults=True,
                quiet=True, unsafe=False,
            )  # fmt: skip
        except ValueError as error:
            message = str(error)
            # One line, naming a question (another one's default may be the
            # one refused: project_name "Nox" makes module_name "nox").
            found = re.fullmatch(
                r"Validation error for question '(\w+)': (.+)", message
            )
            # ascii(): a lone surrogate in a report would crash pytest-xdist.
            assert found, ascii(message)
            assert found[1] in questions(), ascii(message)
            assert len(PREFIX.format(found[1]) + found[2]) <= TOOLBAR_WIDTH, ascii(
                message
            )
            assert not (destination / "pyproject.toml").exists()
            event(f"refused: {found[2]}")
            return "refused"
        assert_sound(destination, {question: value})
        event("rendered")
        return "rendered"
    except AssertionError:
        raise
    # Any other error is a bug too; ascii(), as above.
    except Exception:  # noqa: BLE001
        raise AssertionError(ascii(traceback.format_exc())) from None
    finally:
        shutil.rmtree(destination.parent, ignore_errors=True)


@pytest.mark.parametrize("question", ANSWERS)
@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ in the repository: the seed replays a run
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_answer_is_refused_in_one_line_or_renders_sound_files(
    template_snapshot: Path, question: str, data: st.DataObject
) -> None:
    print(f"hypothesis seed {SEED} (WHEELWRIGHT_HYPOTHESIS_SEED={SEED} replays it)")
    value = data.draw(ANSWERS[question], label=question)
    refused_or_sound(template_snapshot, question, value)


def test_every_free_text_question_has_a_property() -> None:
    free_text = {name for name, spec in questions().items() if "choices" not in spec}
    free_text -= {"earlier_answers", "min_python_end_of_life", "limited_api"}  # bools
    assert set(ANSWERS) == free_text


# --- the real session of every CI job, for whole answer sets ------------------------

# The CI jobs not run here, and where they are tested instead.
NOT_RUN_HERE = {
    "publish_test": "uploads: tests/test_publish.py runs it against a local index",
    "publish": "uploads: tests/test_publish.py runs it against a local index",
    "wheels": "cibuildwheel needs containers: tests/test_c_extension.py runs it",
}


def ci_sessions(project: Path, python: str) -> list[str]:
    """The session of each CI job (the test ones on one Python): those CI
    derives from the noxfile's tags, and the jobs the workflow writes out."""
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    listing = nox(project, "--list", "--json", "--tags", "ci", "ci-every-os").stdout
    derived = [s["session"] for s in json.loads(listing.splitlines()[-1])]
    own = set(workflow["jobs"]) - {"sessions", "check", "check-every-os"}
    return [
        s
        for s in [*derived, *sorted(own - set(NOT_RUN_HERE))]
        if not s.startswith("test-") or s == f"test-{python}"
    ]


# What Sphinx's smart quotes make of text, undone on both sides of a comparison.
SMART = {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2014": "---",
         "\u2013": "--", "\u2026": "..."}  # fmt: skip


def as_sphinx_shows(text: str) -> str:
    for smart, plain in SMART.items():
        text = text.replace(smart, plain)
    return " ".join(text.split())


def assert_every_ci_session_passes(project: Path, python: str) -> None:
    """Commit the project, run the session of every CI job in one nox run, and
    find the description in the docs, from the README and from the docstring."""
    git_commit_all(project)
    sessions = ci_sessions(project, python)
    assert {"lint", f"test-{python}", "coverage", "typecheck", "docs", "build"} <= set(
        sessions
    )
    result = nox(project, "-s", *sessions)
    for session in sessions:
        assert f"Session {session} was successful" in output(result)
    description = yaml.safe_load((project / ".copier-answers.yml").read_text())[
        "description"
    ]
    html = project / "docs" / "_build" / "html"
    for page in ("index.html", "api.html"):
        shown = as_sphinx_shows(page_text(html / page))
        assert as_sphinx_shows(description) in shown, (page, ascii(description))


AWKWARD = {
    # Markup of every format, reStructuredText and MyST's too (a comment, a
    # trailing literal-block marker).
    "description": '% Say "hi" \\ \\x \\N{DASH} \u2014 \u201cit\u2019s\u201d \uff26ull \U0001f680'
                   " *b* _i_ `c` <b>&amp; [a](b) ~~s~~ $x$ | {{ x }} {% raw %} : # - 1."
                   " |x| [x]_ :x:`y` .. x_ __init__ \u2022 +++ (x)= ends::",
    "author_name": "Ada \"Countess\" O'Lovelace (n\u00e9e Byron) <a@b>; \\o/ & co",
    "author_email": "o'neil+tag.x_y!#$%&*/=?^`{|}~-@mail.example-domain.co.uk",
    "github_owner": "a-b-c",
    "github_repo": "x.y_z-w",
    "copyright_year": "2024-2026",
}  # fmt: skip
FULL_SESSION_SETS = [
    # The cases of issue 22: real names that codespell takes for typos, a
    # project named like one, and reStructuredText in the description.
    pytest.param(
        {"project_name": "Thier", "author_name": "Claus Nielsen",  # codespell:ignore
         "author_email": "ane@example.com", "github_owner": "ned",  # codespell:ignore
         "description": "Utilities for *nix shells"}, "3.11",
        id="issue-22",
    ),
    pytest.param(
        {**AWKWARD, "project_name": "A.b-c_d9", "module_name": "ab_c9"}, "3.11",
        id="pure",
    ),
    # min_python stays at 3.11: the C variant's typecheck session installs the
    # package into nox's own Python, which the package must then support.
    pytest.param(
        {**AWKWARD, "description": "- " + AWKWARD["description"], "project_name": "Zz-9",
         "variant": "c-extension", "limited_api": True, "versioning": "static"},
        "3.13",
        id="c-extension",
    ),
]  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize(("answers", "python"), FULL_SESSION_SETS)
def test_awkward_answers_pass_every_ci_session(
    render: Render, answers: dict[str, Any], python: str
) -> None:
    require_python(python)
    assert_every_ci_session_passes(render(**answers), python)


@pytest.mark.e2e
def test_a_myst_target_as_description_shows_in_the_docs(render: Render) -> None:
    """A line "(x)=" alone is a MyST target, which shows nothing."""
    project = render(description="(x)=")
    git_commit_all(project)
    nox(project, "-s", "docs")
    assert "(x)=" in page_text(project / "docs" / "_build" / "html" / "index.html")


# Whole answer sets for the real sessions: free text of printable characters,
# the formats' specials and codespell's typos; names as their rules allow. An
# answer set with a refused answer is drawn again (the property above checks
# each refusal).
E2E_EXAMPLES = int(os.environ.get("WHEELWRIGHT_HYPOTHESIS_E2E_EXAMPLES", "2"))
WHOLE_ANSWERS = st.fixed_dictionaries(
    {
        "project_name": st.one_of(
            typo.filter(re.compile(r"[A-Za-z0-9]+").fullmatch),
            st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,20}[A-Za-z0-9]", fullmatch=True),
        ),
        "description": printable,
        "author_name": printable.map(lambda name: name.replace(",", "")),
        "author_email": st.from_regex(
            r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}@[a-z0-9]{1,8}\.[a-z]{2,4}",
            fullmatch=True,
        ),
        "github_owner": st.one_of(
            typo.filter(re.compile(r"[A-Za-z0-9]{1,39}").fullmatch),
            st.from_regex(r"[A-Za-z0-9](-?[A-Za-z0-9]){0,38}", fullmatch=True),
        ),
        "github_repo": st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True),
        "copyright_year": st.from_regex(r"[0-9]{4}(-[0-9]{4})?", fullmatch=True),
        "license": st.sampled_from(["MIT", "Apache-2.0", "BSD-3-Clause",
                                    "GPL-3.0-or-later"]),
        "versioning": st.sampled_from(["vcs", "static"]),
    }
)  # fmt: skip


@pytest.mark.e2e
@seed(SEED)
@settings(
    max_examples=E2E_EXAMPLES,
    deadline=None,
    database=None,
    # No shrinking: each example is a minute of sessions. The failure shows
    # the answers as drawn.
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(answers=WHOLE_ANSWERS)
def test_generated_answer_sets_pass_every_ci_session(
    template_snapshot: Path, answers: dict[str, str]
) -> None:
    print(f"hypothesis seed {SEED} (WHEELWRIGHT_HYPOTHESIS_SEED={SEED} replays it)")
    note(f"seed {SEED}: {answers!a}")
    python = "3.11"  # min_python's default, the oldest: test-3.11
    require_python(python)
    destination = Path(tempfile.mkdtemp(prefix="answers-")) / "project"
    try:
        try:
            copier.run_copy(
                str(template_snapshot), destination, data=answers, defaults=True,
                quiet=True, unsafe=False,
            )  # fmt: skip
        except ValueError:
            reject()
        assert_sound(destination, answers)
        assert_every_ci_session_passes(destination, python)
    finally:
        shutil.rmtree(destination.parent, ignore_errors=True)
