"""The function shape's judge: what only tests that call a Python function can be fooled by,
and how it reports each case.

Tricks on how the judge compares (``__eq__``, patched builtins, shadowed builtins, a
redefined prompt helper, a tampered or forged names table), then the verdict's details:
partial credit, exceptions, loop iterations as cases, tests that do not compile or assert
nothing, syntax errors and the traceback the worker model is shown. The attacks any shape
must withstand are in ``test_hostile.py``.
"""

from __future__ import annotations

import textwrap

import pytest

from koderz.errors import ConfigError
from koderz.records import FunctionTests, Problem
from koderz.sandbox import format_feedback, run_tests
from tests.sandbox.hostile import ADAPTERS, FUNCTION_FAKES, PLANTED

# Many sandboxed programs; the fake passes are hostile and run as the battery does.
pytestmark = [pytest.mark.slow, PLANTED]

FUNCTION = ADAPTERS["function"]


def problem(test: str, entry_point: str = "f") -> Problem:
    return Problem("hostile/1", "", FunctionTests(entry_point, textwrap.dedent(test)))


# --------------------------------------------------------------------- fake passes


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(FUNCTION_FAKES))
def test_fake_pass_tricks_fail(name: str) -> None:
    # Must: fail, whatever the trick; the judge compares plain values with its own builtins.
    FUNCTION.attack(FUNCTION_FAKES[name])


@pytest.mark.timeout(60)
def test_eq_trick_is_explained() -> None:
    r = FUNCTION.attack(FUNCTION_FAKES["eq_always_true"])
    assert "plain values" in r.outcomes[0].message


def test_shadowing_builtins_the_tests_use_does_not_fake_a_pass():
    # Tries: top-level `abs` and `range` that the tests call, so that
    # `abs(candidate(x) - y) < 1e-6` always holds and a `for i in range(...)` loop of
    # asserts runs zero times. Must: fail every case; the tests use the real builtins.
    problem = Problem(
        "T/shadow",
        "def f(x):\n    '''Doc.'''\n",
        FunctionTests(
            "f",
            "def check(candidate):\n    assert abs(candidate(1.33) - 0.33) < 1e-6\n"
            "    for i in range(10):\n        assert candidate(i) == i + 1\n",
        ),
    )
    code = "def abs(v):\n    return 0\n\ndef range(n):\n    return []\n\ndef f(x):\n    return 42\n"
    result = run_tests(problem, code)
    assert (result.passed, result.tests_passed, result.tests_total) == (False, 0, 11)


def test_redefining_a_prompt_helper_the_tests_trust_does_not_fake_a_pass():
    # Tries: HumanEval/32's test checks `poly(xs, candidate(xs))` is about 0, with `poly`
    # from the prompt; the candidate redefines `poly` to always return 0 and answers
    # nonsense. Must: fail; the tests get the prompt's own `poly`.
    from koderz.problems import load_problems

    problem = load_problems("humaneval")["HumanEval/32"]
    fake = problem.prompt.split("def find_zero")[0] + (
        "def poly(xs, x):\n    return 0\n\ndef find_zero(xs):\n    return 12345.0\n"
    )
    result = run_tests(problem, fake)
    assert not result.passed and result.tests_passed == 0
    assert run_tests(problem, problem.prompt + problem.canonical_solution).passed


def test_the_judge_ignores_dunder_names_a_tampered_describe_sends():
    # Tries: replace the judge's own describe (it runs in the candidate's process) so that
    # the names sent to the judge include `__builtins__`, swapping out the builtins the tests
    # run with. Must: the judge drops it; the tests keep the real builtins (here `len`).
    problem = Problem(
        "T/dunder",
        "def f(x):\n    '''Doc.'''\n",
        FunctionTests(
            "f",
            "def check(candidate):\n    assert len([candidate(1)]) == 1 and candidate(1) == 2\n",
        ),
    )
    code = (
        "import sys\n"
        "_judge = sys.modules['judge.function']\n"
        "_real = _judge.describe\n"
        "def _tampered(ns):\n"
        "    names = _real(ns)\n"
        "    names['__builtins__'] = ('value', {})\n"
        "    return names\n"
        "_judge.describe = _tampered\n"
        "def f(x):\n"
        "    return x + 1\n"
    )
    result = run_tests(problem, code)
    assert (result.passed, result.tests_passed) == (True, 1), result.outcomes


def test_a_forged_names_table_makes_the_judge_import_nothing_and_rename_nothing():
    # Tries: the candidate's forged table asks the trusted judge to import an installed
    # third-party package (its top-level code would run beside the result pipe), and points
    # the entry point's name at a plain value. Must: the judge imports only what it has or
    # the standard library has, and calls the real function under its own name.
    problem = Problem(
        "T/forged",
        "def f(x):\n    '''Doc.'''\n",
        FunctionTests(
            "f",
            "def check(candidate):\n"
            "    assert f(1) == 2\n"
            "    assert 'tqdm' not in __import__('sys').modules\n",
        ),
    )
    code = (
        "import sys\n"
        "_judge = sys.modules['judge.function']\n"
        "_real = _judge.describe\n"
        "def _forged(ns):\n"
        "    names = _real(ns)\n"
        "    names['tq'] = ('module', 'tqdm')\n"
        "    names['f'] = ('value', 2)\n"
        "    return names\n"
        "_judge.describe = _forged\n"
        "def f(x):\n"
        "    return x + 1\n"
    )
    result = run_tests(problem, code)
    assert (result.passed, result.tests_passed) == (True, 2), result.outcomes


# --------------------------------------------------------------------- verdict details


def test_partial_credit_and_first_failure() -> None:
    prob = problem(
        """
        def check(candidate):
            assert candidate(1) == 2
            assert candidate(2) == 3, "two"
            assert candidate(-1) == 0
        """
    )
    r = run_tests(prob, "def f(x):\n    return x + 1 if x != 2 else 0\n")
    assert (r.passed, r.status, r.tests_passed, r.tests_total) == (False, "failed", 2, 3)
    first = r.first_failure
    assert first is not None and first.index == 1 and first.kind == "assertion"
    assert first.source == 'assert candidate(2) == 3, "two"'
    assert first.message == "AssertionError: two"


def test_exception_in_candidate_is_reported_and_later_tests_still_run() -> None:
    prob = problem(
        """
        def check(candidate):
            assert candidate(0) == 0
            assert candidate(1) == 1
        """
    )
    r = run_tests(prob, "def f(x):\n    return 1 // x * x\n")
    assert [o.kind for o in r.outcomes] == ["exception", "passed"]
    assert r.outcomes[0].message.startswith("ZeroDivisionError")


def test_loop_iterations_are_test_cases_and_helpers_are_reachable() -> None:
    # HumanEval+ style: a loop over inputs calling an assertion helper; and a helper of the
    # program (like HumanEval/32's poly) used by the test under its own name.
    prob = problem(
        """
        def assertion(out, exp):
            assert out == exp

        def check(candidate):
            inputs = [[1], [2], [3]]
            results = [2, 4, 7]
            for inp, exp in zip(inputs, results):
                assertion(candidate(*inp), exp)
            assert helper(2) == 4
        """
    )
    r = run_tests(prob, "def helper(x):\n    return 2 * x\ndef f(x):\n    return helper(x)\n")
    assert [o.passed for o in r.outcomes] == [True, True, False, True]
    assert r.tests_total == 4


def test_tests_run_as_their_own_source_says_not_as_the_host_compiles() -> None:
    # The host compiles each problem's tests once and the judge runs the code objects; they
    # must keep the test's own semantics: annotations evaluated (the host's modules use
    # `from __future__ import annotations`), loop bodies and prompt helpers intact.
    prob = problem(
        """
        def typed(a: int) -> str:
            return str(a)

        def check(candidate):
            assert typed.__annotations__ == {"a": int, "return": str}
            for x in [1, 2]:
                assert candidate(x) == x + 1
        """
    )
    r = run_tests(prob, "def f(x):\n    return x + 1\n")
    assert [o.passed for o in r.outcomes] == [True, True, True], r


def test_a_test_snippet_that_cannot_compile_alone_fails_its_case_not_the_judge() -> None:
    from koderz.sandbox import function

    code = function._compile("return 1")
    with pytest.raises(SyntaxError, match="'return' outside function"):
        exec(code, {})


def test_syntax_error() -> None:
    r = FUNCTION.run("def f(:\n")
    assert r.status == "syntax_error" and not r.passed


def test_tests_without_an_assertion_are_refused():
    # A check with nothing to check would pass any program: a mistake of the problem's.
    problem = Problem(
        "T/empty", "def f():\n    pass\n", FunctionTests("f", "def check(candidate):\n    pass\n")
    )
    with pytest.raises(ConfigError, match="no assertion"):
        run_tests(problem, "def f():\n    return 1\n")


def test_full_feedback_shows_the_candidates_lines_not_the_judges():
    # What the worker model is shown of an exception: its own code, line by line; the
    # sandbox's internals are noise to it and would leak how the tests are run.
    problem = Problem(
        "T/tb",
        "def f(x):\n    '''Doc.'''\n",
        FunctionTests("f", "def check(candidate):\n    assert candidate(1) == 2\n"),
    )
    crash = run_tests(problem, "def f(x):\n    return g(x)\n\ndef g(x):\n    return 1 / 0\n")
    text = format_feedback(crash, "full")
    assert 'File "<candidate>", line 5, in g' in text and "return 1 / 0" in text
    syntax = format_feedback(run_tests(problem, "def f(x):\n    return x[]\n"), "full")
    assert "return x[]" in syntax
    for shown in (text, syntax):
        assert "judge/" not in shown and "serve" not in shown
