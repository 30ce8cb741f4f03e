"""LiveCodeBench's problems in the experiment: stdin programs and ``class Solution`` methods,
asked in LiveCodeBench's words, steered by their public tests alone, judged by every test.

Through the real SDKs against local protocol servers: the worker (gpt-4o-mini, on an OpenAI
server) answers each problem from a list of replies; the tester and the reviewer (Claude, on
an Anthropic server) from canned texts.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from koderz import Strategy
from koderz.engine import prompts
from koderz.engine.benchmark import run_benchmark
from koderz.engine.own_tests import own_tests, parse_cases
from koderz.problems import load_problems
from koderz.testing import Answer, Recorded

DATA = Path(__file__).parents[1] / "data" / "livecodebench"
WORKER, TESTER, REVIEWER = "gpt-4o-mini", "claude-haiku-4-5", "claude-sonnet-4-6"

SUM_WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
SUM_RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
# Passes the public example (1 2 -> 3) and nothing else.
SUM_FITS = "input()\nprint(3)\n"
TWO_SUM_WRONG = "class Solution:\n    def twoSum(self, nums, target):\n        return [0, 0]\n"
TWO_SUM_RIGHT = (
    "class Solution:\n"
    "    def twoSum(self, nums, target):\n"
    "        seen = {}\n"
    "        for i, n in enumerate(nums):\n"
    "            if target - n in seen:\n"
    "                return [seen[target - n], i]\n"
    "            seen[n] = i\n"
)


@pytest.fixture(scope="module")
def lcb():
    return load_problems(str(DATA))


class Scripted:
    """The worker answers a problem's attempts from a list of programs (the last repeats);
    the tester with ``tests``; everyone else with a line of advice."""

    def __init__(self, problems, programs, tests=None) -> None:
        self.problems = list(problems)
        self.programs = programs
        self.tests = tests or {}
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Answer:
        text = request.prompt
        problem = next(p for p in self.problems if p.prompt.strip() in text)
        ask = prompts.ask_of(problem)
        if ask.tester in text:
            return Answer(self.tests[problem.task_id], 1000, 100)
        if ask.worker not in text:
            return Answer("- Add the two numbers; mind negative ones.", 1000, 100)
        with self._lock:
            n = self.calls[problem.task_id] = self.calls.get(problem.task_id, 0) + 1
        programs = self.programs[problem.task_id]
        code = programs[min(n, len(programs)) - 1]
        return Answer(f"Here is my program.\n```python\n{code}```", 1000, 100)


def _run(serve, problems, programs, tmp_path, tests=None, **settings):
    coder = Scripted(problems, programs, tests)
    worker = serve("openai", respond=coder)
    other = serve("anthropic", respond=coder)
    strategy = Strategy("s", worker=WORKER, **settings)
    result = run_benchmark(
        strategies=[strategy], problems=problems, data_dir=tmp_path, progress=False
    )
    return result.steps, worker, other


def _asked(server, ask) -> list[str]:
    return [r.prompt for r in server.requests if ask.worker in r.prompt]


def test_a_stdin_program_is_asked_in_livecodebench_words_and_fixed_on_its_public_test(
    serve, lcb, tmp_path
):
    p = lcb["abc900_a"]
    steps, worker, _ = _run(serve, [p], {p.task_id: [SUM_WRONG, SUM_RIGHT]}, tmp_path)
    first, second = _asked(worker, prompts.PROGRAM_ASK)
    assert "### Question:\nRead two integers A and B" in first
    assert prompts.LCB_STDIN_FORMAT in first and prompts.LCB_ANSWER in first
    # The public test's failure comes back: its input, what was expected, what was printed.
    assert "input: 1 2" in second and "expected: 3" in second and "got: -1" in second
    assert "Fix the program." in second
    for prompt in (first, second):  # a private test never reaches a prompt
        assert "10 20" not in prompt and "-5 5" not in prompt
    attempts = steps[steps["role"] == "attempt"]
    assert list(attempts["visible_passed"]) == [0, 1]
    assert list(attempts["tests_total"]) == [3, 3]
    end = steps.iloc[-1]
    assert (end["status"], end["submitted"], end["passed"]) == ("stopped", 2, True)
    assert end["problem_shape"] == "io" and end["problem_platform"] == "atcoder"


def test_the_hidden_tests_judge_an_answer_fitted_to_the_example_and_never_steer_it(
    serve, lcb, tmp_path
):
    p = lcb["abc900_a"]
    steps, worker, _ = _run(serve, [p], {p.task_id: [SUM_FITS, SUM_RIGHT]}, tmp_path)
    assert len(_asked(worker, prompts.PROGRAM_ASK)) == 1  # the public test passed: submitted
    end = steps.iloc[-1]
    assert (end["submitted"], end["passed"], end["false_stop"]) == (1, False, True)


TESTS_SUM = (
    "Cases:\n```input\n10 20\n```\n```output\n30\n```\n"
    "```input\n-4 4\n```\n```output\n0\n```\n```output\n7\n```\n"
)


def test_a_testers_input_output_pairs_catch_the_fitted_answer(serve, lcb, tmp_path):
    p = lcb["abc900_a"]
    steps, worker, tester = _run(
        serve,
        [p],
        {p.task_id: [SUM_FITS, SUM_RIGHT]},
        tmp_path,
        tests={p.task_id: TESTS_SUM},
        tester=TESTER,
        tests_per_problem=4,
    )
    asked = [r.prompt for r in tester.requests]
    assert len(asked) == 1 and prompts.IO_TESTER in asked[0]
    assert "Write 4 test cases for this program" in asked[0]
    written = steps.iloc[0]
    assert (written["role"], written["own_total"], written["own_dropped"]) == ("tests", 2, 1)
    assert "an output block without its input: 7" in written["error"]
    second = _asked(worker, prompts.PROGRAM_ASK)[1]
    assert "input: 10 20" in second and "expected: 30" in second and "got: 3" in second
    end = steps.iloc[-1]
    assert (end["submitted"], end["passed"], end["false_stop"]) == (2, True, False)


def test_a_method_completes_the_starter_code_and_sees_its_public_calls(serve, lcb, tmp_path):
    p = lcb["9001"]
    assert p.shape == "calls" and p.tests.hidden  # packed private tests, unpacked
    steps, worker, _ = _run(serve, [p], {p.task_id: [TWO_SUM_WRONG, TWO_SUM_RIGHT]}, tmp_path)
    first, second = _asked(worker, prompts.METHOD_ASK)
    assert prompts.LCB_STARTER_FORMAT in first and "def twoSum(self, nums: List[int]" in first
    assert "input: [2, 7, 11, 15]\n9" in second and "got [0, 0], expected [0, 1]" in second
    for hidden in p.tests.hidden:
        assert hidden.input not in first + second
    end = steps.iloc[-1]
    assert (end["status"], end["submitted"], end["passed"]) == ("stopped", 2, True)


def test_a_testers_calls_that_do_not_fit_the_signature_are_dropped(lcb):
    p = lcb["9001"]
    reply = (
        "```input\n[3, 2, 4]\n6\n```\n```output\n[1, 2]\n```\n"
        "```input\n[3, 3]\n```\n```output\n[0, 1]\n```\n"
        "```input\n[1, 2]\nthree\n```\n```output\n[0, 1]\n```\n"
    )
    own = own_tests(p, reply, limit=5)
    assert own.total == 1
    assert own.dropped == (
        "test 2 gives 1 arguments where the method takes 2: [3, 3]",
        "test 3 has an argument that is not JSON: [1, 2]\\nthree",
    )
    (case,) = own.problem(p).tests.cases
    assert (case.input, case.output) == ("[3, 2, 4]\n6\n", "[1, 2]\n")
    assert parse_cases(own.source)[0] == [case]


@pytest.mark.parametrize(
    "settings",
    [
        {"kind": "sample", "samples": 2},
        {"kind": "cascade", "rungs": (WORKER, REVIEWER), "rung_attempts": 1},
        {"kind": "architect", "architect": REVIEWER},
        {"kind": "repair", "repairer": REVIEWER, "repair_after": 1, "max_iterations": 3},
        {"spec_model": REVIEWER, "reviewer": REVIEWER, "checkpoint_interval": 1},
    ],
    ids=["sample", "cascade", "architect", "repair", "spec and reviews"],
)
def test_every_strategy_kind_runs_on_a_program(serve, lcb, tmp_path, settings):
    p = lcb["abc900_a"]
    coder = Scripted([p], {p.task_id: [SUM_WRONG, SUM_RIGHT]})
    serve("openai", respond=coder)
    frontier = serve("anthropic", respond=coder)
    strategy = Strategy("s", worker=WORKER, **settings)
    result = run_benchmark(strategies=[strategy], problems=[p], data_dir=tmp_path, progress=False)
    end = result.steps.iloc[-1]
    assert end["status"] in ("stopped", "exhausted") and end["passed"]
    for prompt in (r.prompt for r in frontier.requests):
        assert "### Question:" in prompt and "10 20" not in prompt
        assert "function" not in prompt.split("[user]")[0]  # each role asked about a program
