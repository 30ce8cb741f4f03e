"""Tests a strategy writes itself: the tester's reply as test cases the sandbox runs.

The tester writes tests from the problem's prompt alone, in any shape a hidden test takes:
bare ``assert`` statements, a ``check(candidate)`` with loops, helpers and imports,
module-level helpers, ``def test_*()`` functions. The reply is planned into cases by the
sandbox's own planner (:func:`koderz.sandbox.plan_tests`), so a case is what it is for the
hidden tests: an assert, a call of an asserting helper, or one iteration of a test loop.
They are visible to the experiment beside the problem's public tests, at most
``tests_per_problem`` cases (a loop past the limit keeps its first iterations).

A case is dropped, with the reason in the row, when it does not run as a test: run against a
stand-in for the function that only raises, a case that fails with anything but that
stand-in's error never reached the function (an undefined helper, a mistake in the test
itself), and one that passes never asks anything of it. A set-up step that fails by itself
is left out and the rest probed again. Whether a kept case is *right* is known only after
the run, against the hidden verdict (:func:`koderz.analysis.stats.testers.wrong_tests`); it is
never fed back.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, replace

from koderz import sandbox
from koderz.errors import ConfigError
from koderz.extract import build_program, extract_code
from koderz.records import ExecResult, Problem, TestOutcome

__all__ = ["OwnTests", "check_source", "own_tests", "parse_tests"]

_PROBE = "koderz-probe"


@dataclass(frozen=True)
class OwnTests:
    """The tests kept of those the tester wrote, and why the others were dropped."""

    source: str
    """The kept tests as a test source the sandbox plans into ``total`` cases ('' if none)."""
    total: int = 0
    """Test cases kept, counted as the planner counts them (a loop's iterations each)."""
    dropped: tuple[str, ...] = ()
    """Why each dropped test was dropped, in words."""

    def problem(self, problem: Problem) -> Problem | None:
        """``problem`` with these tests as its tests; None when none was kept."""
        if not self.total:
            return None
        tests = replace(problem.function_tests, test=self.source, public_test="")
        return replace(problem, tests=tests)


def check_source(cases: tuple[str, ...] | list[str]) -> str:
    """Assert statements as a ``check(candidate)`` function.

    Examples:
        >>> print(check_source(["assert f(1) == 2", "assert f(0) == 1"]), end="")
        def check(candidate):
            assert f(1) == 2
            assert f(0) == 1
    """
    return "def check(candidate):\n" + "".join(f"    {c}\n" for c in cases)


def parse_tests(reply: str, entry_point: str = "") -> tuple[str, list[str]]:
    """The test code of a tester's reply, and what of it was left out before it runs.

    The code is found as in any reply (:func:`~koderz.extract.extract_code`). The reply's
    own definition or import of ``entry_point`` is left out (the tests must call the
    candidate's). A block that does not parse as a whole keeps its ``assert`` lines that
    parse alone, as a ``check(candidate)``.

    Examples:
        >>> reply = "```python\\nassert f(1) == 2\\nassert f(2) ==\\nassert f(3) == 4\\n```"
        >>> code, dropped = parse_tests(reply)
        >>> print(code, end=""); dropped
        def check(candidate):
            assert f(1) == 2
            assert f(3) == 4
        ['test 2 does not parse: assert f(2) ==']
    """
    code = extract_code(reply)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return _line_by_line(code)
    if entry_point and _defines(tree, entry_point):
        tree.body = [_without(node, entry_point) for node in tree.body if _keeps(node, entry_point)]
        why = f"the reply's own {entry_point} was left out (the tests call the candidate's)"
        return ast.unparse(tree) + "\n", [why]
    return code, []


def _keeps(node: ast.stmt, name: str) -> bool:
    """Whether a top-level statement stays: not a definition of ``name``, nor an import of
    nothing else."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name != name
    if isinstance(node, ast.ImportFrom):
        return any((a.asname or a.name) != name for a in node.names)
    return True


def _without(node: ast.stmt, name: str) -> ast.stmt:
    if isinstance(node, ast.ImportFrom):
        node.names = [a for a in node.names if (a.asname or a.name) != name]
    return node


def _defines(tree: ast.Module, name: str) -> bool:
    """Whether the module defines or imports ``name`` at its top level."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return True
        if isinstance(node, ast.ImportFrom) and any(
            (a.asname or a.name) == name for a in node.names
        ):
            return True
    return False


def _line_by_line(code: str) -> tuple[str, list[str]]:
    """A block that does not parse as a whole: each ``assert`` line on its own."""
    cases: list[str] = []
    dropped: list[str] = []
    tests = [line.strip() for line in code.splitlines() if line.strip().startswith("assert")]
    for n, line in enumerate(tests, start=1):
        try:
            (node,) = ast.parse(line).body
        except (SyntaxError, ValueError):
            dropped.append(f"test {n} does not parse: {line[:200]}")
            continue
        cases.append(ast.unparse(node))
    return (check_source(cases) if cases else ""), dropped


def own_tests(
    problem: Problem, reply: str, *, limit: int, timeout_s: float | None = None
) -> OwnTests:
    """The tests of a tester's reply that run as tests, as :class:`OwnTests`.

    Raises:
        KoderzError: The sandbox itself cannot run (the probe is a sandbox run).
    """
    entry_point = problem.function_tests.entry_point
    code, dropped = parse_tests(reply, entry_point)
    try:
        plan = sandbox.plan_tests(code, entry_point) if code.strip() else None
    except ConfigError:
        plan = None
    if plan is None or not plan.cases:
        return OwnTests("", 0, (*dropped, "no test in the reply (nothing asserts)"))
    stand_in = f"def {entry_point}(*args, **kwargs):\n    raise NotImplementedError({_PROBE!r})\n"
    program = build_program(problem.prompt, stand_in, entry_point)
    keep: dict[int, int | None] = {i: None for i in range(len(plan.items))}
    # Each round leaves out the set-up steps that failed by themselves, and probes again.
    while True:
        source = plan.source(keep)
        probing = replace(problem, tests=replace(problem.function_tests, test=source))
        probed = sandbox.run_tests(probing, program, timeout_s=timeout_s)
        items = _steps_in(plan, keep)
        broken = [f for f in probed.setup_failures if not _reached(f)]
        if any(f.item < 0 for f in broken):
            why = next(f.message for f in broken if f.item < 0)
            return OwnTests("", 0, (*dropped, f"the tests' set-up fails by itself ({why[:200]})"))
        if not broken:
            break
        for failure in broken:
            original = items[failure.item]
            del keep[original]
            dropped.append(
                f"set-up step fails by itself ({failure.message[:200]}): {failure.source}"
            )
    counts = _kept_cases(plan, keep, probed, dropped, entry_point)
    kept, total = _within(counts, limit)
    if not kept:
        return OwnTests("", 0, tuple(dropped))
    setup = {i: None for i in keep if plan.items[i][0] == "setup"}
    return OwnTests(plan.source({**setup, **kept}), total, tuple(dropped))


def _steps_in(plan: sandbox.TestPlan, keep: dict[int, int | None]) -> list[int]:
    """Per item of the probed source, the item of ``plan`` it came from."""
    return [i for i in range(len(plan.items)) if i in keep]


def _reached(outcome: TestOutcome) -> bool:
    """Whether a step failed because it called the stand-in (it reached the function)."""
    return _PROBE in outcome.message


def _kept_cases(
    plan: sandbox.TestPlan,
    keep: dict[int, int | None],
    probed: ExecResult,
    dropped: list[str],
    entry_point: str,
) -> dict[int, int]:
    """The cases that reached the function and nothing else (item -> its case count); the
    others are dropped, each with its reason."""
    items = _steps_in(plan, keep)
    by_item: dict[int, list[TestOutcome]] = defaultdict(list)
    for outcome in probed.outcomes:
        if 0 <= outcome.item < len(items):
            by_item[items[outcome.item]].append(outcome)
    # A case after a set-up step that called the stand-in may use what that step would have
    # made: any failure of it counts as reaching the function.
    reaching_setup = sorted(items[f.item] for f in probed.setup_failures if f.item >= 0)
    name = plan.labels
    counts: dict[int, int] = {}
    for number, i in enumerate((i for i in items if plan.items[i][0] != "setup"), start=1):
        outcomes = by_item.get(i, [])
        label = name[i][:200]
        after_call = any(s < i for s in reaching_setup)
        if not outcomes:
            dropped.append(f"test {number} did not run ({probed.status}): {label}")
        elif any(o.passed for o in outcomes):
            dropped.append(f"test {number} never calls {entry_point}: {label}")
        elif not after_call and not all(_reached(o) for o in outcomes):
            why = next(o.message or o.kind for o in outcomes if not _reached(o))
            dropped.append(f"test {number} fails by itself ({why[:200]}): {label}")
        else:
            counts[i] = len(outcomes)
    return counts


def _within(counts: dict[int, int], limit: int) -> tuple[dict[int, int | None], int]:
    """The cases in order up to ``limit`` of them (a loop past it keeps its first iterations),
    and how many that is."""
    kept: dict[int, int | None] = {}
    total = 0
    for i, n in counts.items():
        if total >= limit:
            break
        take = min(n, limit - total)
        kept[i] = None if take == n else take
        total += take
    return kept, total
