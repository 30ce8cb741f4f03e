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
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from koderz import sandbox
from koderz.errors import ConfigError
from koderz.extract import (
    build_program,
    extract_code,
    listing,
    whole_files,
    without_reasoning,
)
from koderz.records import (
    BuildTests,
    CallTests,
    ExecResult,
    IOCase,
    IOTests,
    Problem,
    TestOutcome,
)

__all__ = ["OwnTests", "case_listing", "check_source", "own_tests", "parse_cases", "parse_tests"]

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
        tests = problem.tests
        if isinstance(tests, IOTests | CallTests):
            cases = tuple(parse_cases(self.source)[0])
            return replace(problem, tests=replace(tests, cases=cases, public=()))
        if isinstance(tests, BuildTests):  # the tester's test file in place of the exercise's
            own = tuple(whole_files(self.source).items())
            return replace(problem, tests=replace(tests, own_test=own, build_only=False))
        function = replace(problem.function_tests, test=self.source, public_test="")
        return replace(problem, tests=function)


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
    """The tests of a tester's reply that run as tests, as :class:`OwnTests`: a function's
    planned and probed, a program's or a method's input/output pairs read.

    Raises:
        KoderzError: The sandbox itself cannot run (the probe is a sandbox run).
    """
    if isinstance(problem.tests, IOTests | CallTests):
        return _own_cases(problem, reply, limit=limit)
    if isinstance(problem.tests, BuildTests):
        return _own_test_file(problem.tests, reply)
    tests = problem.function_tests  # testers write a function's tests
    entry_point = tests.entry_point
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
        probing = replace(problem, tests=replace(tests, test=source))
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


# --------------------------------------------------------------- programs and methods

_BLOCK = re.compile(r"```[ \t]*(input|output)[^\n]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_cases(reply: str) -> tuple[list[IOCase], list[str]]:
    """The test cases of a tester's reply for a program or a method: each an ```input block
    followed by an ```output block. What is left out is said.

    Examples:
        >>> reply = "```input\\n1 2\\n```\\n```output\\n3\\n```\\n```output\\n9\\n```"
        >>> parse_cases(reply)
        ([IOCase(input='1 2\\n', output='3\\n')], ['an output block without its input: 9'])
    """
    cases: list[IOCase] = []
    dropped: list[str] = []
    pending: str | None = None
    for kind, body in _BLOCK.findall(without_reasoning(reply)):
        if kind.lower() == "input":
            if pending is not None:
                dropped.append(f"an input block without its output: {_short(pending)}")
            pending = body
        elif pending is None:
            dropped.append(f"an output block without its input: {_short(body)}")
        else:
            cases.append(IOCase(pending, body))
            pending = None
    if pending is not None:
        dropped.append(f"an input block without its output: {_short(pending)}")
    return cases, dropped


def _short(text: str) -> str:
    text = text.strip().replace("\n", "\\n")
    return text if len(text) <= 80 else text[:77] + "..."


def _own_cases(problem: Problem, reply: str, *, limit: int) -> OwnTests:
    """A tester's input/output pairs for a program (``io``) or a method (``calls``): each
    pair one case; a method's that are not JSON, or give another number of arguments than
    its signature takes, are dropped."""
    cases, dropped = parse_cases(reply)
    arity = _arity(problem)
    kept: list[IOCase] = []
    for number, case in enumerate(cases, start=1):
        why = _malformed(problem, case, arity)
        if why:
            dropped.append(f"test {number} {why}: {_short(case.input)}")
        elif len(kept) < limit:
            kept.append(case)
    if not cases:
        dropped.append("no test in the reply (no ```input and ```output blocks)")
    return OwnTests(case_listing(kept), len(kept), tuple(dropped))


def case_listing(cases: Sequence[IOCase]) -> str:
    """Cases as a tester writes them (and :func:`parse_cases` reads them)."""
    return "".join(
        f"```input\n{_ended(c.input)}```\n```output\n{_ended(c.output)}```\n" for c in cases
    )


def _ended(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def _arity(problem: Problem) -> int | None:
    """How many arguments the method of a ``calls`` problem takes (None: unknown)."""
    tests = problem.tests
    if not isinstance(tests, CallTests):
        return None
    try:
        tree = ast.parse(tests.starter_code + "\n        pass\n")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == tests.func_name:
            params = node.args.posonlyargs + node.args.args
            return len(params) - (1 if params and params[0].arg == "self" else 0)
    return None


def _malformed(problem: Problem, case: IOCase, arity: int | None) -> str:
    """Why a case cannot be a test of the problem ('' if it can)."""
    if problem.shape != "calls":
        return ""
    lines = [line for line in case.input.splitlines() if line.strip()]
    try:
        for line in lines:
            json.loads(line)
    except ValueError:
        return "has an argument that is not JSON"
    try:
        json.loads(case.output)
    except ValueError:
        return "expects a value that is not JSON"
    if arity is not None and len(lines) != arity:
        return f"gives {len(lines)} arguments where the method takes {arity}"
    return ""


# --------------------------------------------------------------------------- exercises


def _own_test_file(tests: BuildTests, reply: str) -> OwnTests:
    """A tester's test file for an exercise, in its language: laid in place of the
    exercise's main test file and run by its test command. Its tests are counted by their
    declarations (``def test_...``, ``func Test...``, ``#[test]`` ...) and all kept: a file
    in another language is not cut; the runner's own counts are what each run reports."""
    path = tests.main_test
    written = whole_files(reply)
    text = written.get(path)
    if text is None:  # a bare block: the test file all the same
        blocks = re.findall(r"```[^\n]*\n(.*?)```", without_reasoning(reply), re.DOTALL)
        text = max(blocks, key=len) if blocks else ""
    others = sorted(p for p in written if p != path)
    dropped = [f"files other than {path} were left out: {', '.join(others)}"] * bool(others)
    total = sandbox.declared_tests(tests.language, text)
    if not total:
        return OwnTests("", 0, (*dropped, f"no test declared in the reply's {path}"))
    return OwnTests(listing({path: text}, tests.language), total, tuple(dropped))
