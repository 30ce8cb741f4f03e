"""The io shape on the host: whole programs that read standard input and write standard
output (LiveCodeBench's ``stdin`` problems, APPS and TACO), judged as LiveCodeBench's
grader judges them; and what the ``calls`` shape shares with it.

The judge's half (``judge/io.py``) has the rules. Here: each test becomes a case, public
ones first; every test judges; each has its own time limit (the problem's
``Rules.case_timeout_s``, 6 s for LiveCodeBench, or the run's ``--timeout``), and the whole
program is bounded as the grader bounds it, ``(t + 1) * tests + 5`` seconds.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import functools
import math
from dataclasses import replace
from typing import Any

from koderz.records import CallTests, IOTests, Problem
from koderz.sandbox.cases import Cases, SandboxSpec
from koderz.sandbox.limits import Limits

__all__ = ["SHAPE", "IOShape", "ProgramShape", "case_labels", "whole_limits"]


class ProgramShape:
    """What the io and calls shapes share: the publisher's tests as the plan, one case per
    test, the default limits, and the grader's bounds on a sample."""

    sandbox = SandboxSpec()

    def default_limits(self) -> Limits:
        return Limits()

    def plan(self, problem: Problem) -> Any:
        return problem.tests

    def cases(self, plan: IOTests | CallTests) -> Cases:
        return case_labels(len(plan.cases), len(plan.public))

    def sample_limits(
        self, plan: IOTests | CallTests, problem: Problem, limits: Limits, *, chosen: bool
    ) -> tuple[Limits, dict[str, Any]]:
        return whole_limits(plan, limits, chosen=chosen)


class IOShape(ProgramShape):
    """Programs given each test's standard input, judged on what they print."""

    name = "io"

    def tests(self, plan: IOTests, problem: Problem) -> dict[str, Any]:
        return {"cases": [(case.input, case.output) for case in plan.cases]}

    def program(self, problem: Problem, code: str) -> dict[str, Any]:
        tests = problem.tests
        assert isinstance(tests, IOTests)
        return {"shape": self.name, "code": code, "prelude": list(tests.rules.prelude)}


@functools.lru_cache(maxsize=1024)
def case_labels(total: int, public: int) -> Cases:
    """One case per test, labelled by its number and whether it is public."""
    return Cases(
        kinds=("test",) * total,
        labels=tuple(
            f"test {i + 1} ({'public' if i < public else 'hidden'})" for i in range(total)
        ),
    )


def whole_limits(
    tests: IOTests | CallTests, limits: Limits, *, chosen: bool
) -> tuple[Limits, dict[str, Any]]:
    """The sample's limits under its grader's rules, and what the judge must know of them:
    each test's limit (the run's timeout if the caller chose one, else the rules'), and
    the whole program's bound, ``(t + 1) * tests + 5`` seconds, with CPU time to match."""
    case_s = limits.timeout_s if chosen else tests.rules.case_timeout_s
    whole_s = (case_s + 1) * len(tests.cases) + 5
    cpu_s = max(limits.cpu_s, math.ceil(whole_s * limits.timeout_factor) + 1)
    extra = {
        "case_timeout": case_s * limits.timeout_factor,
        "first_failure_ends": tests.rules.first_failure_ends,
    }
    return replace(limits, timeout_s=whole_s, cpu_s=cpu_s), extra


SHAPE = IOShape()
