"""The io and calls shapes give LiveCodeBench's grader's verdicts (``testing_util.py``):
its output comparison, its standard input, its prelude, its time limits, exit after
printing, the first failure ending the run."""

from __future__ import annotations

from dataclasses import replace

import pytest

from koderz.problems.livecodebench import RULES
from koderz.records import CallTests, ExecResult, IOCase, IOTests, Problem
from koderz.sandbox import Limits, run_tests


def io_problem(*cases: tuple[str, str], rules: object = RULES) -> Problem:
    tests = tuple(IOCase(i, o) for i, o in cases)
    return Problem("io/1", "", IOTests(tests, tests[:1], rules))  # type: ignore[arg-type]


def run_io(code: str, expected: str, given: str = "", **kw: object) -> ExecResult:
    return run_tests(io_problem((given, expected)), code, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("printed", "expected", "passed"),
    [
        ("3", "3", True),
        ("  3  \n\n", "3\n", True),  # the whole text and each line are stripped
        ("1 2\r\n3", "1 2\n3", True),
        ("1  2", "1 2", True),  # tokens compared as decimals when the lines differ
        ("1.50", "1.5", True),
        ("1.5000000001", "1.5", False),  # decimals are exact: no tolerance
        ("1e3", "1000", True),
        ("50000000000000001", "50000000000000000", False),
        ("3\n\n4", "3\n4", False),  # an empty line inside counts
        ("3 4", "3\n4", False),  # as many lines as expected
        ("abc", "ABC", False),
        ("nan", "nan", True),  # equal lines, before any decimal
        ("NaN ", "nan", False),  # decimal NaNs are never equal
        ("", "", True),
    ],
)
def test_output_is_compared_as_the_grader_compares_it(
    printed: str, expected: str, passed: bool
) -> None:
    r = run_io(f"import sys\nsys.stdout.write({printed!r})\n", expected)
    assert r.passed is passed, r


def test_standard_input_is_the_graders() -> None:
    given = "3\n1 2 3\n\nlast"
    code = (
        f"given = {given!r}\n"
        "n = int(input())\n"
        "line = sys.stdin.readline()\n"  # the next line, with its newline
        "empty = input()\n"  # an empty line is no end of input
        "print(n, repr(line), repr(empty), sys.stdin.readlines() == given.split(chr(10)))\n"
        "print(sys.stdin.read() == given, sys.stdin.buffer.read() == given.encode())\n"
        "print(repr(sys.stdin.buffer.readline()))\n"  # always the first line, as there
    )
    r = run_io(code, "3 '1 2 3\\n' '' True\nTrue True\nb'3\\n'", given)
    assert r.passed, r


def test_the_stream_the_process_had_reads_lines_without_newlines() -> None:
    # What `from sys import stdin` (or the prelude's `stdin`) names: the grader patches it
    # to give the input a line at a time, without newlines, and to end with StopIteration.
    code = "from sys import stdin\nrl = stdin.readline\nprint(repr(rl()), repr(rl()))\nrl()\n"
    r = run_io(code, "'a' 'b'", "a\nb")
    assert not r.passed and "StopIteration" in r.outcomes[0].message
    assert run_io("from sys import stdin\nprint(repr(stdin.readline()))", "'a'", "a\nb").passed


def test_standard_input_cannot_be_iterated_as_there() -> None:
    r = run_io("for line in sys.stdin:\n    print(line)", "a", "a")
    assert not r.passed and "not iterable" in r.outcomes[0].message


def test_the_prelude_names_need_no_import() -> None:
    code = "print(gcd(12, 18), Counter('aab')['a'], heappop([3]), list(accumulate([1, 2])))"
    assert run_io(code, "6 2 3 [1, 3]").passed


def test_candidates_draw_their_own_random_numbers() -> None:
    # The prelude's modules are loaded once, in the sandbox's zygote, before the candidates
    # are forked from it: each must still draw numbers of its own.
    drawn = set()
    for _ in range(3):
        r = run_io("print(getrandbits(64), random.getrandbits(64))", "-")
        assert not r.passed and "got" in r.outcomes[0].message, r
        drawn.add(r.outcomes[0].message)
    assert len(drawn) == 3


def test_the_zygote_loads_only_side_effect_free_standard_modules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc
    import importlib
    import sys

    from koderz.sandbox.judge import zygote

    loaded: list[str] = []
    monkeypatch.setattr(importlib, "import_module", loaded.append)
    monkeypatch.setattr(gc, "freeze", lambda: loaded.append("(frozen)"))  # not this process
    monkeypatch.delitem(sys.modules, "statistics", raising=False)
    zygote.preload(["antigravity", "this", "os", 3, "statistics", "koderz", "json.decoder"])
    assert loaded == ["statistics", "(frozen)"]
    zygote.preload("statistics")  # not a list: nothing
    zygote.preload(["json"])  # loaded already: nothing to import, nothing to freeze
    assert loaded == ["statistics", "(frozen)"]


def test_without_a_prelude_the_names_are_missing() -> None:
    problem = io_problem(("", "6"), rules=replace(RULES, prelude=()))
    r = run_tests(problem, "print(gcd(12, 18))")
    assert not r.passed and "NameError" in r.outcomes[0].message


def test_a_program_that_exits_after_printing_is_judged_on_what_it_printed() -> None:
    assert run_io("print(1)\nexit()\nprint(2)", "1").passed
    assert run_io("import sys\nprint(1)\nsys.exit(3)", "1").passed
    r = run_io("print(1)\nraise ValueError('late')", "1")
    assert not r.passed and r.outcomes[0].kind == "exception"


def test_a_last_main_block_runs() -> None:
    code = "def main():\n    print(7)\n\nif __name__ == '__main__':\n    main()\n"
    assert run_io(code, "7").passed


def test_each_test_has_its_own_time_limit_and_the_first_failure_ends_the_run() -> None:
    problem = io_problem(("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"))
    code = "import time\nn = int(input())\ntime.sleep(0.6 if n == 2 else 0)\nprint(n)"
    # 0.6 s is within a 1 s limit per test, though the four take longer than one test's
    assert run_tests(problem, code, timeout_s=1.0).passed
    slow = "import time\nn = int(input())\nif n == 2:\n    time.sleep(30)\nprint(n)"
    r = run_tests(problem, slow, timeout_s=0.5)
    assert [o.kind for o in r.outcomes] == ["passed", "timeout", "not_run", "not_run"], r
    assert r.status == "timeout" and r.tests_passed == 1 and r.tests_total == 4
    wrong = "n = int(input())\nprint(n if n != 2 else 0)"
    r = run_tests(problem, wrong)
    assert [o.kind for o in r.outcomes] == ["passed", "assertion", "not_run", "not_run"], r
    assert "input: 2" in r.outcomes[1].message


def test_the_default_limit_is_the_rules_and_the_whole_program_is_bounded() -> None:
    from koderz.sandbox.io import whole_limits

    tests = io_problem(("1", "1"), ("2", "2")).tests
    assert isinstance(tests, IOTests)
    limits, told = whole_limits(tests, Limits(timeout_factor=1.0), chosen=False)
    assert told["case_timeout"] == 6.0 and limits.timeout_s == (6 + 1) * 2 + 5
    limits, told = whole_limits(tests, Limits(timeout_s=2.0, timeout_factor=1.0), chosen=True)
    assert told["case_timeout"] == 2.0 and limits.timeout_s == 11


def test_a_syntax_error_fails_every_test() -> None:
    r = run_io("print(1", "1")
    assert not r.passed and r.status == "syntax_error"


def calls_problem(*cases: tuple[str, str]) -> Problem:
    tests = tuple(IOCase(i, o) for i, o in cases)
    return Problem("calls/1", "", CallTests("pair", tests, tests[:1], "", RULES))


def test_a_method_is_called_with_one_json_argument_a_line() -> None:
    problem = calls_problem(('[1, 2]\n"x"', '[[1, 2], "x"]'), ('[]\n""', '[[], ""]'))
    code = "class Solution:\n    def pair(self, a: List[int], b: str):\n        return (a, b)\n"
    assert run_tests(problem, code).passed  # a tuple is taken for a list


def test_one_instance_serves_every_test() -> None:
    problem = calls_problem(("0", "1"), ("0", "2"))
    code = (
        "class Solution:\n    n = 0\n    def pair(self, x):\n"
        "        self.n += 1\n        return self.n\n"
    )
    assert run_tests(problem, code).passed


def test_a_method_must_return_plain_data_and_equal_values() -> None:
    problem = calls_problem(("1", "1"), ("2", "4"))
    fooled = (
        "class Yes(int):\n    def __eq__(self, o):\n        return True\n"
        "class Solution:\n    def pair(self, x):\n        return Yes(0)\n"
    )
    assert not run_tests(problem, fooled).passed
    wrong = "class Solution:\n    def pair(self, x):\n        return x\n"
    r = run_tests(problem, wrong)
    assert [o.kind for o in r.outcomes] == ["passed", "assertion"], r
    assert "expected 4" in r.outcomes[1].message


def test_a_function_without_a_solution_class_is_called_directly() -> None:
    problem = calls_problem(("3", "9"))
    assert run_tests(problem, "def pair(n):\n    return n * n\n").passed
    r = run_tests(problem, "class Solution:\n    def other(self, n):\n        return 9\n")
    assert not r.passed and r.status == "error"
