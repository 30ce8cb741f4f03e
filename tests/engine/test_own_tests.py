"""Tests the strategy writes itself, best-of-n, and the ceilings: through the real SDKs against
local protocol servers.

The tester (Claude Haiku, on an Anthropic server) answers with canned tests; the worker
(gpt-4o-mini, on an OpenAI server) answers each problem from a list of function bodies.
"""

from __future__ import annotations

import threading

import pytest

from koderz import Strategy, analyze, experiment_story
from koderz.engine import prompts
from koderz.engine.benchmark import run_benchmark
from koderz.engine.own_tests import check_source, own_tests, parse_tests
from koderz.problems import load_problems
from koderz.sandbox import run_tests
from koderz.testing import Answer, Recorded

WORKER, TESTER = "gpt-4o-mini", "claude-haiku-4-5"
OVERFIT = "    return numbers == [1.0, 2.8, 3.0, 4.0, 5.0, 2.0]\n"
# Right tests of has_close_elements, none of them the docstring's examples or a hidden test.
RIGHT_0 = [
    "assert has_close_elements([1.0, 1.1], 0.2) == True",
    "assert has_close_elements([1.0, 5.0], 0.5) == False",
    "assert has_close_elements([], 1.0) == False",
]
WRONG_0 = "assert has_close_elements([1.0, 2.0], 0.5) == True"  # 1.0 apart: False
RIGHT_32 = [
    "assert abs(poly([1, 2], find_zero([1, 2]))) < 1e-4",
    "assert abs(poly([-6, 11, -6, 1], find_zero([-6, 11, -6, 1]))) < 1e-4",
]


@pytest.fixture(scope="module")
def humaneval():
    return load_problems("humaneval")


class Scripted:
    """The worker answers a problem's attempts from a list of bodies (the last repeats);
    the tester answers every problem's tests from ``tests``."""

    def __init__(self, problems, bodies, tests=None) -> None:
        self.problems = list(problems)
        self.bodies = bodies
        self.tests = tests or {}
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Answer:
        text = request.prompt
        problem = next(p for p in self.problems if p.prompt.strip() in text)
        if prompts.TESTER_SYSTEM in text:
            block = "\n".join(self.tests[problem.task_id])
            return Answer(f"Here are tests:\n```python\n{block}\n```", 1000, 100)
        with self._lock:
            n = self.calls[problem.task_id] = self.calls.get(problem.task_id, 0) + 1
        bodies = self.bodies[problem.task_id]
        body = bodies[min(n, len(bodies)) - 1]
        return Answer(f"```python\n{problem.prompt}{body}```", 1000, 100)


def bodies_0(p0):
    return ["    return None\n", OVERFIT, p0.canonical_solution]


def test_right_tests_catch_an_answer_that_only_fits_the_examples(serve, humaneval, tmp_path):
    p0 = humaneval["HumanEval/0"]
    coder = Scripted([p0], {p0.task_id: bodies_0(p0)}, {p0.task_id: RIGHT_0})
    worker, tester = serve("openai", respond=coder), serve("anthropic", respond=coder)
    strategy = Strategy("tested", worker=WORKER, tester=TESTER, tests_per_problem=3)
    result = run_benchmark(strategies=[strategy], problems=[p0], data_dir=tmp_path, progress=False)
    assert len(tester.requests) == 1 and len(worker.requests) == 3
    assert "Write 3 tests" in tester.requests[0].prompt
    steps = result.steps
    assert list(steps["role"]) == ["tests", "attempt", "attempt", "attempt", "end"]
    written = steps.iloc[0]
    assert (written["own_total"], written["own_dropped"], written["tier"]) == (
        3,
        0,
        "small_frontier",
    )
    assert written["cost_usd"] > 0  # the tester's call is a row with its own cost
    second = steps.iloc[2]
    # The overfit answer passed both docstring examples and failed a test of the tester's.
    assert (second["public_passed"], second["own_passed"], second["own_total"]) == (2, 2, 3)
    assert (second["visible_passed"], second["visible_total"]) == (4, 5)
    assert second["own_failed"] == "0"
    assert "Tests written for this problem" not in second["feedback"]  # the public ones pass
    assert "has_close_elements([1.0, 1.1], 0.2)" in worker.requests[2].prompt
    end = steps.iloc[-1]
    assert (end["status"], end["submitted"], end["passed"], end["false_stop"]) == (
        "stopped",
        3,
        True,
        False,
    )
    quality = analyze(steps, baseline=None).testers.iloc[0]
    assert (quality["tests_written"], quality["tests_judged"], quality["tests_wrong"]) == (3, 3, 0)
    story = experiment_story(steps, written["experiment_id"])
    assert "TESTS written (3 kept, 0 dropped) - claude-haiku-4-5" in story
    assert RIGHT_0[0] in story


def test_the_tester_makes_a_problem_with_nothing_public_iterate(serve, humaneval, tmp_path):
    p32 = humaneval["HumanEval/32"]
    assert not p32.tests.public_test
    coder = Scripted([p32], {p32.task_id: ["    return 0.0\n", p32.canonical_solution]},
                     {p32.task_id: RIGHT_32})  # fmt: skip
    worker = serve("openai", respond=coder)
    serve("anthropic", respond=coder)
    strategy = Strategy("tested", worker=WORKER, tester=TESTER, max_iterations=4)
    result = run_benchmark(strategies=[strategy], problems=[p32], data_dir=tmp_path, progress=False)
    assert len(worker.requests) == 2  # without the tester: 1 (nothing visible)
    end = result.steps.iloc[-1]
    assert (end["status"], end["submitted"], end["passed"], end["visible_total"]) == (
        "stopped",
        2,
        True,
        2,
    )


def test_a_wrong_testers_tests_are_measured_as_wrong(serve, humaneval, tmp_path):
    p0 = humaneval["HumanEval/0"]
    tests = [*RIGHT_0[:2], WRONG_0]
    coder = Scripted([p0], {p0.task_id: [p0.canonical_solution]}, {p0.task_id: tests})
    worker = serve("openai", respond=coder)
    serve("anthropic", respond=coder)
    strategy = Strategy("tested", worker=WORKER, tester=TESTER, max_iterations=2)
    result = run_benchmark(strategies=[strategy], problems=[p0], data_dir=tmp_path, progress=False)
    # The right answer fails the wrong test every time: the attempts run out, and the best
    # answer by the visible tests is submitted (it passes the hidden ones).
    assert len(worker.requests) == 2
    end = result.steps.iloc[-1]
    assert (end["status"], end["passed"], end["false_stop"]) == ("exhausted", True, False)
    analysis = analyze(result.steps, baseline=None)
    quality = analysis.testers.iloc[0]
    assert (quality["tests_judged"], quality["tests_wrong"]) == (3, 1)
    assert quality["wrong_share"] == pytest.approx(1 / 3)
    assert "3 tests kept, 0 dropped; of 3 judged against the hidden tests, 1 wrong" in (
        analysis.text()
    )
    # Measured after the run, never fed back: no prompt says which tests are wrong.
    assert not any("wrong" in r.prompt.lower() for r in worker.requests)


def test_tests_that_do_not_parse_or_run_are_dropped_and_the_row_says_why(humaneval):
    p0 = humaneval["HumanEval/0"]
    reply = (
        "```python\n"
        + "\n".join(
            [
                RIGHT_0[0],
                "assert has_close_elements([1.0], ==",  # does not parse
                "assert undefined_helper(3) == 1",  # fails by itself
                "assert 1 + 1 == 2",  # never calls the function
                RIGHT_0[1],
            ]
        )
        + "\n```"
    )
    code, dropped = parse_tests(reply)
    assert code.count("assert") == 4 and dropped == [
        "test 2 does not parse: assert has_close_elements([1.0], =="
    ]
    got = own_tests(p0, reply, limit=10)
    assert got.total == 2 and got.source == check_source([RIGHT_0[0], RIGHT_0[1]])
    assert len(got.dropped) == 3
    assert "fails by itself (NameError" in got.dropped[1]
    assert "never calls has_close_elements" in got.dropped[2]


# HumanEval/32: find_zero returns *a* root, so a right test checks a property, in a loop.
PROPERTY_32 = """\
import math

POLYS = [[1, 2], [-6, 11, -6, 1], [2, -3], [-10, -2], [8, 3, 0, -4][:2]]


def check(candidate):
    def close_to_zero(coeffs, x):
        return math.fabs(poly(coeffs, x)) < 1e-4

    for coeffs in POLYS:
        assert close_to_zero(coeffs, candidate(coeffs))
"""


def test_a_testers_loop_helpers_and_imports_are_planned_into_cases(humaneval):
    p32 = humaneval["HumanEval/32"]
    got = own_tests(p32, f"Property tests:\n```python\n{PROPERTY_32}```", limit=10)
    assert (got.total, got.dropped) == (5, ())  # one case per polynomial, as the planner counts
    right = p32.prompt + p32.canonical_solution
    wrong = p32.prompt + "    return 0.0\n"
    ran = {
        name: run_tests(got.problem(p32), code)
        for name, code in [("right", right), ("wrong", wrong)]
    }
    assert (ran["right"].passed, ran["right"].tests_total) == (True, 5)
    assert not ran["wrong"].passed and ran["wrong"].tests_total == 5
    # Past the limit a loop keeps its first iterations: 3 cases of it.
    cut = own_tests(p32, f"```python\n{PROPERTY_32}```", limit=3)
    assert cut.total == 3 and run_tests(cut.problem(p32), right).tests_total == 3


def test_test_functions_are_cases_and_a_broken_setup_step_is_left_out(humaneval):
    p2 = humaneval["HumanEval/2"]
    reply = """```python
from solution import truncate_number
import math


def truncate_number(number):  # the tester's own: left out, the candidate's is tested
    return 0.0


def test_fraction():
    assert math.isclose(truncate_number(7.25), 0.25)


def test_whole_number():
    assert truncate_number(4.0) == 0.0


def test_nothing_asked():
    assert math.pi > 3
```"""
    got = own_tests(p2, reply, limit=10)
    assert got.total == 2
    assert any("own truncate_number was left out" in d for d in got.dropped)
    assert any(
        "never calls truncate_number" in d and "test_nothing_asked" in d for d in got.dropped
    )
    setup = """```python
def check(candidate):
    table = load_table()  # no such helper: fails by itself
    assert candidate(table[0]) == 0.5
    assert candidate(1.5) == 0.5
```"""
    got = own_tests(p2, setup, limit=10)
    assert got.total == 1
    assert got.dropped[0].startswith("set-up step fails by itself (NameError")
    assert "fails by itself" in got.dropped[1]  # table is gone: the case using it fails alone
    assert run_tests(got.problem(p2), p2.prompt + p2.canonical_solution).passed
    # A case after a step that calls the function may use what it made: kept.
    uses = "```python\ndef check(candidate):\n    got = candidate(2.5)\n    assert got == 0.5\n```"
    assert own_tests(p2, uses, limit=10).total == 1


def test_with_right_property_tests_find_zero_iterates_past_a_wrong_answer(
    serve, humaneval, tmp_path
):
    p32 = humaneval["HumanEval/32"]
    coder = Scripted([p32], {p32.task_id: ["    return 0.0\n", p32.canonical_solution]},
                     {p32.task_id: [PROPERTY_32]})  # fmt: skip
    worker = serve("openai", respond=coder)
    serve("anthropic", respond=coder)
    strategy = Strategy(
        "tested", worker=WORKER, tester=TESTER, max_iterations=4, tests_per_problem=5
    )
    result = run_benchmark(strategies=[strategy], problems=[p32], data_dir=tmp_path, progress=False)
    assert len(worker.requests) == 2
    steps = result.steps
    written = steps.iloc[0]
    assert (written["own_total"], written["own_dropped"]) == (5, 0)
    first = steps.iloc[1]
    assert (first["own_passed"], first["own_total"], first["passed"]) == (0, 5, False)
    assert "close_to_zero" in worker.requests[1].prompt  # the failing property, fed back
    end = steps.iloc[-1]
    assert (end["status"], end["submitted"], end["passed"], end["false_stop"]) == (
        "stopped",
        2,
        True,
        False,
    )


# Right tests of HumanEval/0-2 in three shapes, none of them the docstring's examples; and an
# answer per problem that only fits the docstring's examples (its public tests).
RIGHT_BY_SHAPE = {
    "HumanEval/0": [
        "for numbers, threshold, expected in [([1.0, 1.1], 0.2, True), ([1.0, 5.0], 0.5, False),",
        "                                     ([0.0, 0.5, 3.0], 0.6, True)]:",
        "    assert has_close_elements(numbers, threshold) == expected",
    ],
    "HumanEval/1": [
        "def check(candidate):",
        "    def flat(groups):",
        "        return ''.join(groups)",
        "    assert candidate('(()) ()') == ['(())', '()']",
        "    assert flat(candidate('((()))')) == '((()))'",
    ],
    "HumanEval/2": [
        "import math",
        "def test_quarter():",
        "    assert math.isclose(truncate_number(2.25), 0.25)",
        "def test_integer():",
        "    assert truncate_number(5.0) == 0.0",
    ],
}
FITS_THE_EXAMPLES = {
    "HumanEval/0": OVERFIT,
    "HumanEval/1": "    return ['()', '(())', '(()())']\n",
    "HumanEval/2": "    return 0.5\n",
}


def test_answers_the_testers_tests_catch_are_never_submitted(serve, humaneval, tmp_path):
    chosen = [humaneval[f"HumanEval/{i}"] for i in range(3)]
    bodies = {p.task_id: [FITS_THE_EXAMPLES[p.task_id], p.canonical_solution] for p in chosen}
    coder = Scripted(chosen, bodies, RIGHT_BY_SHAPE)
    serve("openai", respond=coder)
    serve("anthropic", respond=coder)
    strategy = Strategy("tested", worker=WORKER, tester=TESTER, max_iterations=3)
    steps = run_benchmark(
        strategies=[strategy], problems=chosen, data_dir=tmp_path, progress=False
    ).steps
    written = steps[steps["role"] == "tests"].set_index("problem_id")
    assert written["own_total"].to_dict() == {"HumanEval/0": 3, "HumanEval/1": 2, "HumanEval/2": 2}
    assert set(written["own_dropped"]) == {0}
    attempts = steps[steps["role"] == "attempt"]
    fitting = attempts[attempts["iteration"] == 1].set_index("problem_id")
    # Each example-fitting answer passed its public tests and failed a tester's test ...
    assert (fitting["public_passed"] == fitting["public_total"]).all()
    assert (fitting["own_passed"] < fitting["own_total"]).all()
    assert not fitting["passed"].any()
    # ... so none was submitted: no false stop.
    ends = steps[steps["role"] == "end"].set_index("problem_id")
    assert ends["submitted"].to_dict() == {p.task_id: 2 for p in chosen}
    assert ends["passed"].all() and not ends["false_stop"].any()


def test_best_of_n_draws_n_answers_and_submits_one(serve, humaneval, tmp_path):
    p0, p2 = humaneval["HumanEval/0"], humaneval["HumanEval/2"]
    bodies = {p0.task_id: bodies_0(p0), p2.task_id: ["    return None\n"]}
    worker = serve("openai", respond=Scripted([p0, p2], bodies))
    best = Strategy("best", kind="sample", worker=WORKER, samples=3)
    result = run_benchmark(strategies=[best], problems=[p0, p2], data_dir=tmp_path, progress=False)
    assert len(worker.requests) == 6  # 3 per problem, whatever they passed
    assert not any("Your previous attempt" in r.prompt for r in worker.requests)  # independent
    ends = result.steps[result.steps["role"] == "end"].set_index("problem_id")
    # HumanEval/0: answers 2 and 3 pass both examples; the latest of the equals, the right
    # one, is submitted. HumanEval/2: none passes; the latest is submitted.
    assert ends.loc["HumanEval/0", ["status", "submitted", "passed"]].tolist() == [
        "stopped",
        3,
        True,
    ]
    assert ends.loc["HumanEval/2", ["submitted", "passed"]].tolist() == [3, False]
    assert set(result.steps["samples"].dropna()) == {3}


def test_a_cascade_by_tests_accepts_a_rung_whose_best_passes_enough(serve, humaneval, tmp_path):
    p0 = humaneval["HumanEval/0"]
    # The first rung's answers pass 4 of 5 visible tests (the overfit one): at 0.8 it is
    # kept; at 0.9 the second rung is asked.
    local = serve("ollama", respond=Scripted([p0], {p0.task_id: [OVERFIT]}, {p0.task_id: RIGHT_0}))
    serve("anthropic", respond=Scripted([p0], {}, {p0.task_id: RIGHT_0}))
    small = serve("openai", respond=Scripted([p0], {p0.task_id: [p0.canonical_solution]}))
    rungs = ("qwen2.5-coder:7b", WORKER)
    for threshold, calls in ((0.8, (2, 0)), (0.9, (4, 1))):
        ladder = Strategy(
            f"ladder-{threshold}", kind="cascade", rungs=rungs, rung_attempts=2, tester=TESTER,
            escalate_below=threshold,
        )  # fmt: skip
        result = run_benchmark(
            strategies=[ladder], problems=[p0], data_dir=tmp_path / str(threshold), progress=False
        )
        assert (len(local.requests), len(small.requests)) == calls
        end = result.steps.iloc[-1]
        if threshold == 0.8:
            assert (end["status"], end["rung"], end["passed"], end["false_stop"]) == (
                "stopped",
                1,
                False,
                False,
            )
        else:
            assert (end["status"], end["rung"], end["passed"]) == ("stopped", 2, True)


def test_router_ceiling_and_heldout_front_agree_with_the_hand_worked_numbers(
    serve, humaneval, tmp_path
):
    chosen = [humaneval[f"HumanEval/{i}"] for i in (0, 2, 4, 7)]
    # cheap (local, free) solves the first two at once and never the others; big (Sonnet,
    # 1000 + 100 tokens a call = $0.0045) solves each at once.
    cheap = {p.task_id: [p.canonical_solution if i < 2 else "    return None\n"]
             for i, p in enumerate(chosen)}  # fmt: skip
    big = {p.task_id: [p.canonical_solution] for p in chosen}
    serve("ollama", respond=Scripted(chosen, cheap))
    serve("anthropic", respond=Scripted(chosen, big))
    strategies = [
        Strategy("cheap", worker="qwen2.5-coder:7b", max_iterations=2),
        Strategy("big", worker="claude-sonnet-4-5", max_iterations=2),
    ]
    steps = run_benchmark(
        strategies=strategies, problems=chosen, data_dir=tmp_path, progress=False
    ).steps
    call = 1000 * 3 / 1e6 + 100 * 15 / 1e6
    data = analyze(steps, baseline=None, heldout=0.5, heldout_seed=3).to_dict()
    ceiling = data["router_ceiling"]
    assert ceiling["strategies"] == ["big", "cheap"] and ceiling["problems"] == 4
    # 0 and 2: cheap passes, for nothing; 4 and 7: only big passes.
    routed = {p["problem_id"]: (p["strategy"], p["pass_rate"]) for p in ceiling["per_problem"]}
    assert routed == {
        "HumanEval/0": ("cheap", 1.0),
        "HumanEval/2": ("cheap", 1.0),
        "HumanEval/4": ("big", 1.0),
        "HumanEval/7": ("big", 1.0),
    }
    assert ceiling["pass_rate"] == 1.0
    assert ceiling["cost_usd"] == pytest.approx(2 * call / 4)
    # The held-out split: cheap's pass rate on a part is the share of 0 and 2 in it.
    test = set(data["heldout_problems"])
    validation = {p.task_id for p in chosen} - test
    assert len(test) == len(validation) == 2
    easy = {"HumanEval/0", "HumanEval/2"}

    def cheap_rate(part):
        return len(part & easy) / len(part)

    expected = [("cheap", cheap_rate(validation), 0.0, cheap_rate(test), 0.0)]
    if cheap_rate(validation) < 1:  # big passes more on the validation part: on the front too
        expected.insert(0, ("big", 1.0, call, 1.0, call))
    got = [
        (r["strategy"], r["validation_pass_rate"], r["validation_cost_usd"],
         r["test_pass_rate"], r["test_cost_usd"])
        for r in data["heldout_front"]
    ]  # fmt: skip
    assert got == [pytest.approx(e) for e in expected]
    assert len(got) == 2  # seed 3 holds out one easy and one hard problem: both on the front
