"""Polyglot exercises and MultiPL-E rows in the experiment: the worker answers whole files in
Aider's format, sees whether its program builds (and the compiler's output when it does not),
and the exercise's own tests judge the submitted answer; Aider's own protocol is the oracle
stop with full feedback and two tries.

Through the real SDKs against local protocol servers, on the small exercises of
``tests/data/polyglot`` (made for these tests) and a MultiPL-E-shaped row.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from koderz import Strategy
from koderz.engine import prompts
from koderz.engine.benchmark import run_benchmark
from koderz.errors import ConfigError
from koderz.problems import load_problems
from koderz.records import Problem, ScriptTests
from koderz.sandbox import runnable
from koderz.testing import Answer, Recorded

POLYGLOT = Path(__file__).parents[1] / "data" / "polyglot"
WORKER = "gpt-4o-mini"

BROKEN = "add_two.py\n```python\ndef add_two(n)\n    return n + 2\n```\n"
WRONG = "add_two.py\n```python\ndef add_two(n):\n    return n + 1\n```\n"
RIGHT = "add_two.py\n```python\ndef add_two(n):\n    return n + 2\n```\n"
CHEAT = "add_two_test.py\n```python\ndef test_nothing():\n    pass\n```\n"


@pytest.fixture(scope="module")
def exercise() -> Problem:
    problem = load_problems(str(POLYGLOT), only={"python/add-two"})["python/add-two"]
    why = runnable(problem)
    if why:
        pytest.skip(why)
    return problem


class Scripted:
    """The worker answers from a list of replies (the last repeats)."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Answer:
        with self._lock:
            self.calls += 1
            n = self.calls
        return Answer(f"Here:\n\n{self.replies[min(n, len(self.replies)) - 1]}", 1000, 100)


def _run(serve, problem, replies, tmp_path, **settings):
    worker = serve("openai", respond=Scripted(replies))
    strategy = Strategy("s", worker=WORKER, **settings)
    result = run_benchmark(
        strategies=[strategy], problems=[problem], data_dir=tmp_path, progress=False
    )
    return result.steps, [r.prompt for r in worker.requests]


def test_a_program_that_does_not_build_gets_the_compilers_output(serve, exercise, tmp_path):
    steps, asked = _run(serve, exercise, [BROKEN + CHEAT, RIGHT], tmp_path)
    first, second = asked
    assert prompts.FILES_SYSTEM in first
    assert "Write `add_two(n)`" in first  # the instructions
    assert "Use the above instructions to modify the supplied files: add_two.py" in first
    assert "add_two.py\n```python\ndef add_two(n):\n    pass\n```" in first  # the stub, whole
    assert "test_negative" not in first  # the exercise's tests stay hidden
    assert "SyntaxError" in second and "The tests are correct" in second
    assert "add_two(-5)" not in second  # what it sees of the tests: whether it builds
    attempts = steps[steps["role"] == "attempt"]
    assert list(attempts["visible_passed"]) == [0, 1]
    assert "ignored files the worker may not write: add_two_test.py" in attempts.iloc[0]["notes"]
    assert attempts.iloc[1]["code"] == RIGHT
    end = steps.iloc[-1]
    assert (end["status"], end["submitted"], end["passed"]) == ("stopped", 2, True)
    assert (end["problem_shape"], end["problem_language"]) == ("build", "python")


def test_a_program_that_builds_is_submitted_and_the_tests_judge_it(serve, exercise, tmp_path):
    steps, asked = _run(serve, exercise, [WRONG, RIGHT], tmp_path)
    assert len(asked) == 1  # it builds: nothing more can be seen
    end = steps.iloc[-1]
    assert (end["submitted"], end["passed"], end["false_stop"]) == (1, False, True)


def test_aiders_protocol_feeds_the_tests_output_back_for_a_second_try(serve, exercise, tmp_path):
    steps, asked = _run(
        serve, exercise, [WRONG, RIGHT], tmp_path, stop="oracle", feedback="full",
        max_iterations=2,
    )  # fmt: skip
    assert len(asked) == 2
    assert "a test failed" in asked[1] and "test_zero" in asked[1]
    attempts = steps[steps["role"] == "attempt"]
    assert list(attempts["passed"]) == [False, True]  # pass_rate_1 and pass_rate_2 of Aider's
    assert steps.iloc[-1]["passed"]


TESTER_FILE = (
    "add_two_test.py\n```python\nimport unittest\n\nfrom add_two import add_two\n\n\n"
    "class Own(unittest.TestCase):\n    def test_zero(self):\n"
    "        self.assertEqual(add_two(0), 2)\n\n    def test_ten(self):\n"
    "        self.assertEqual(add_two(10), 12)\n```\n"
)


def test_a_testers_test_file_in_the_exercises_language_catches_what_builds(
    serve, exercise, tmp_path
):
    worker = serve("openai", respond=Scripted([WRONG, RIGHT]))
    tester = serve("anthropic", respond=Scripted([TESTER_FILE]))
    strategy = Strategy("t", worker=WORKER, tester="claude-haiku-4-5", tests_per_problem=2)
    result = run_benchmark(
        strategies=[strategy], problems=[exercise], data_dir=tmp_path, progress=False
    )
    (asked,) = [r.prompt for r in tester.requests]
    assert prompts.FILES_TESTER in asked and "Write 2 tests for this solution" in asked
    assert "Write the tests as the file add_two_test.py, which opens with:" in asked
    assert "from add_two import add_two" in asked and "test_negative" not in asked
    steps = result.steps
    written = steps.iloc[0]
    assert (written["role"], written["own_total"], written["own_dropped"]) == ("tests", 2, 0)
    assert written["code"] == TESTER_FILE
    first = steps[steps["role"] == "attempt"].iloc[0]
    assert (first["own_passed"], first["own_total"]) == (0, 2)  # WRONG builds, fails both
    assert "test_zero" in worker.requests[1].prompt
    end = steps.iloc[-1]
    assert (end["submitted"], end["passed"], end["false_stop"]) == (2, True, False)


def test_a_tester_on_a_multiple_row_is_refused_before_any_call(serve, tmp_path):
    row = Problem("HumanEval_0_x", "def x():\n", ScriptTests("python", "\nassert x()\n"))
    worker = serve("openai", respond=Scripted([RIGHT]))
    tester = serve("anthropic", respond=Scripted([RIGHT]))
    strategy = Strategy("t", worker=WORKER, tester="claude-haiku-4-5")
    with pytest.raises(ConfigError, match=r"script problem.*run it without --tester"):
        run_benchmark(strategies=[strategy], problems=[row], data_dir=tmp_path)
    assert worker.requests == tester.requests == []


def test_a_multiple_row_is_asked_in_its_language(serve, tmp_path):
    row = Problem(
        "HumanEval_0_add_two",
        "def add_two(n):\n",
        ScriptTests("python", "\nassert add_two(1) == 3\n"),
        language="python",
    )
    reply = "```python\ndef add_two(n):\n    return n + 2\n```\n"
    steps, asked = _run(serve, row, [reply], tmp_path)
    assert prompts.COMPLETION_SYSTEM in asked[0] and "Complete this function:" in asked[0]
    end = steps.iloc[-1]
    assert (end["status"], end["passed"]) == ("stopped", True)
