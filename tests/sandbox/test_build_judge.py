"""The build and script shapes on the small exercises and rows of Koderz's own
(tests/data/polyglot, tests/data/multiple), in every language whose toolchain is here: the
benchmark's verdicts (references pass, shipped stubs fail, programs that do not build
fail), its edits (every test runs: xtest, @Disabled, #[ignore], EXERCISM_RUN_ALL_TESTS),
and test files laid afresh whatever a candidate writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from koderz.extract import listing, program_of, whole_files
from koderz.problems import load_problems
from koderz.problems.multiple import program
from koderz.records import BuildTests, Problem
from koderz.sandbox import run_tests, runnable
from koderz.sandbox.languages import missing

DATA = Path(__file__).parent.parent / "data"
LANGUAGES = ["cpp", "go", "java", "javascript", "python", "rust"]
BROKEN = {
    "cpp": '#include "add_two.h"\nnamespace add_two { int add_two(int n) { return n + } }\n',
    "go": "package addtwo\n\nfunc AddTwo(n int) int { return n + }\n",
    "java": "class AddTwo { static int addTwo(int n) { return n + } }\n",
    "javascript": "export const addTwo = (n) => n + ;\n",
    "python": "def add_two(n):\n    return n +\n",
    "rust": "pub fn add_two(n: i64) -> i64 { n + }\n",
}
"""A solution file that does not build (or, for JavaScript, parse) in each language."""

pytestmark = pytest.mark.slow


def _exercise(language: str) -> Problem:
    why = missing(language)
    if why is not None:
        pytest.skip(why)
    return load_problems(DATA / "polyglot")[f"{language}/add-two"]


def _tests(problem: Problem) -> BuildTests:
    assert isinstance(problem.tests, BuildTests)
    return problem.tests


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_reference_passes_every_test_disabled_ones_included(language: str) -> None:
    problem = _exercise(language)
    assert runnable(problem) is None
    r = run_tests(problem, listing(dict(_tests(problem).example)))
    assert r.passed, (r.outcomes, r.stdout)
    # The second test of each is shipped disabled (xtest, @Disabled, #[ignore], only with
    # EXERCISM_RUN_ALL_TESTS); the benchmark runs it, and so does Koderz.
    assert (r.status, r.tests_passed, r.tests_total) == ("passed", 2, 2)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_stub_fails(language: str) -> None:
    problem = _exercise(language)
    r = run_tests(problem, "")  # nothing written: the shipped stub runs
    assert not r.passed and r.status == "failed", r.outcomes
    assert r.tests_passed == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_that_does_not_build_fails_as_such(language: str) -> None:
    problem = _exercise(language)
    r = run_tests(problem, BROKEN[language])
    assert not r.passed
    # JavaScript has no build: jest fails the suite that does not parse.
    assert r.status == ("failed" if language == "javascript" else "syntax_error"), r.outcomes
    assert r.outcomes[0].message  # the compiler's words, for feedback


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_candidate_that_writes_the_test_file_changes_nothing(language: str) -> None:
    problem = _exercise(language)
    tests = _tests(problem)
    stub = {path: tests.file(path) for path in tests.solution}
    # Its own test file, which would pass anything, is not laid: the exercise's is.
    r = run_tests(problem, listing({**stub, tests.test[0]: "// nothing to test\n"}))
    assert not r.passed and r.tests_passed == 0


def test_the_whole_file_answer_is_what_runs() -> None:
    problem = _exercise("go")
    reply = (
        "Here it is.\n\nadd_two.go\n```go\npackage addtwo\n\n"
        "func AddTwo(n int) int { return n + 2 }\n```\n\n"
        "add_two_test.go\n```go\npackage addtwo\n```\n"
    )
    program = program_of(problem, reply)  # the files it may write, as their listing
    assert list(whole_files(program)) == ["add_two.go"]  # the test file is not the worker's
    assert run_tests(problem, program).passed


@pytest.mark.parametrize(
    ("code", "right", "wrong", "broken", "broken_status"),
    [
        ("cpp", "    return n + 2;\n", "    return 0;\n", "    return\n", "syntax_error"),
        ("go", "    return n + 2\n", "    return 0\n", "    return +\n", "syntax_error"),
        ("java", "        return n + 2;\n", "        return 0;\n", "  return", "syntax_error"),
        ("js", "  return n + 2;\n", "  return 0;\n", "  return (\n", "syntax_error"),
        ("rs", "    n + 2\n", "    0\n", "    n +\n", "syntax_error"),
        ("py", "    return n + 2\n", "    return 0\n", "    return (\n", "syntax_error"),
    ],
)
def test_multiple_verdicts(
    code: str, right: str, wrong: str, broken: str, broken_status: str
) -> None:
    problem = load_problems(DATA / "multiple" / f"humaneval-{code}.jsonl")["Koderz_0_add_two"]
    why = missing(problem.language)
    if why is not None:
        pytest.skip(why)
    ok = run_tests(problem, program(problem, right))
    assert ok.passed, (ok.outcomes, ok.stdout)
    failed = run_tests(problem, program(problem, wrong))
    assert (failed.passed, failed.status) == (False, "failed")  # MultiPL-E: Exception
    syntax = run_tests(problem, program(problem, broken))
    assert syntax.status == broken_status, syntax.outcomes  # MultiPL-E: SyntaxError
