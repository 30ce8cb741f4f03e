"""The calls shape on the host: tests that call one method of a program's
``class Solution`` with JSON arguments (LiveCodeBench's ``functional`` problems, APPS and
TACO rows with ``fn_name``), judged as LiveCodeBench's grader judges them.

The judge's half (``judge/calls.py``) has the rules. Here: each test's input (one JSON value
a line) becomes the call's arguments and its output the expected value, parsed once per
problem; the limits are the io shape's (``io.whole_limits``).
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import functools
import json
from typing import Any

from koderz.errors import ConfigError
from koderz.records import CallTests, Problem
from koderz.sandbox.io import ProgramShape

__all__ = ["SHAPE", "CallsShape", "parsed_cases"]


class CallsShape(ProgramShape):
    """Calls of a ``class Solution`` method, compared with JSON expected values."""

    name = "calls"

    def tests(self, plan: CallTests, problem: Problem) -> dict[str, Any]:
        return {"cases": parsed_cases(plan, problem.task_id)}

    def program(self, problem: Problem, code: str) -> dict[str, Any]:
        tests = problem.tests
        assert isinstance(tests, CallTests)
        return {
            "shape": self.name,
            "code": code,
            "func_name": tests.func_name,
            "prelude": list(tests.rules.prelude),
        }


@functools.lru_cache(maxsize=256)
def parsed_cases(tests: CallTests, task_id: str) -> list[tuple[list[Any], Any, str]]:
    """Each case as (arguments, expected value, input text), parsed from JSON once.

    Raises:
        ConfigError: A test's input or output is not JSON (naming the problem and test).
    """
    cases = []
    for number, case in enumerate(tests.cases, start=1):
        try:
            args = [json.loads(line) for line in case.input.split("\n")]
            expected = json.loads(case.output)
        except ValueError as e:
            raise ConfigError(
                f"{task_id}: test {number}'s input or output is not JSON ({e}); a calls "
                "test gives one JSON value a line of input and a JSON output."
            ) from None
        cases.append((args, expected, case.input))
    return cases


SHAPE = CallsShape()
