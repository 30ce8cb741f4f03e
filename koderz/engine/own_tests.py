"""Tests a strategy writes itself: the tester's reply as test cases the sandbox runs.

The tester writes ``assert`` statements (or a ``check(candidate)`` of them) from the problem's
prompt alone. Each becomes one test case, visible to the experiment beside the problem's
public tests. A test is dropped, with the reason in the row, when it does not parse, or when
it does not run: run against a stand-in for the function that only raises, a test that fails
with anything but that stand-in's error never reached the function (an undefined helper, a
mistake in the test itself), and one that passes never asks anything of it. Whether a kept
test is *right* is known only after the run, against the hidden verdict
(:func:`koderz.analysis.testers.wrong_tests`); it is never fed back.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from koderz import sandbox
from koderz.extract import build_program, extract_code
from koderz.records import Problem

__all__ = ["OwnTests", "check_source", "own_tests", "parse_tests"]

_PROBE = "koderz-probe"


@dataclass(frozen=True)
class OwnTests:
    """The tests kept of those the tester wrote, and why the others were dropped."""

    cases: tuple[str, ...]
    """One ``assert`` statement per test case, in order (indexes of ``own_failed``)."""
    dropped: tuple[str, ...] = ()
    """Why each dropped test was dropped, in words."""

    @property
    def source(self) -> str:
        """The cases as a ``check(candidate)`` the sandbox splits into one case each."""
        return check_source(self.cases)

    def problem(self, problem: Problem) -> Problem | None:
        """``problem`` with these tests as its tests; None when none was kept."""
        return replace(problem, test=self.source) if self.cases else None


def check_source(cases: tuple[str, ...] | list[str]) -> str:
    """Assert statements as a ``check(candidate)`` function.

    Examples:
        >>> print(check_source(["assert f(1) == 2", "assert f(0) == 1"]), end="")
        def check(candidate):
            assert f(1) == 2
            assert f(0) == 1
    """
    return "def check(candidate):\n" + "".join(f"    {c}\n" for c in cases)


def parse_tests(reply: str, *, limit: int) -> tuple[list[str], list[str]]:
    """The assert statements of a tester's reply (at most ``limit``), and why the lines that
    look like tests but do not parse were dropped.

    The code is found as in any reply (:func:`~koderz.extract.extract_code`); asserts are
    taken at the top level or inside a ``check`` (or any test) function.

    Examples:
        >>> reply = "```python\\nassert f(1) == 2\\nassert f(2) ==\\nassert f(3) == 4\\n```"
        >>> parse_tests(reply, limit=5)
        (['assert f(1) == 2', 'assert f(3) == 4'], ['test 2 does not parse: assert f(2) =='])
    """
    code = extract_code(reply)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return _line_by_line(code, limit)
    cases = [ast.unparse(node) for node in _asserts(tree)]
    return cases[:limit], []


def _asserts(tree: ast.Module) -> list[ast.Assert]:
    found: list[ast.Assert] = []
    for node in tree.body:
        if isinstance(node, ast.Assert):
            found.append(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [n for n in node.body if isinstance(n, ast.Assert)]
    return found


def _line_by_line(code: str, limit: int) -> tuple[list[str], list[str]]:
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
        if len(cases) < limit:
            cases.append(ast.unparse(node))
    return cases, dropped


def own_tests(
    problem: Problem, reply: str, *, limit: int, timeout_s: float | None = None
) -> OwnTests:
    """The tests of a tester's reply that parse and run, as :class:`OwnTests`.

    Raises:
        KoderzError: The sandbox itself cannot run (the probe is a sandbox run).
    """
    cases, dropped = parse_tests(reply, limit=limit)
    if not cases:
        return OwnTests((), tuple(dropped) or ("no assert statement in the reply",))
    stand_in = (
        f"def {problem.entry_point}(*args, **kwargs):\n    raise NotImplementedError({_PROBE!r})\n"
    )
    program = build_program(problem.prompt, stand_in, problem.entry_point)
    probed = sandbox.run_tests(
        replace(problem, test=check_source(cases)), program, timeout_s=timeout_s
    )
    by_index = {o.index: o for o in probed.outcomes}
    kept: list[str] = []
    for i, case in enumerate(cases):
        outcome = by_index.get(i)
        if outcome is None:
            dropped.append(f"test {i + 1} did not run ({probed.status}): {case[:200]}")
        elif outcome.passed:
            dropped.append(f"test {i + 1} never calls {problem.entry_point}: {case[:200]}")
        elif _PROBE not in outcome.message:
            why = outcome.message or outcome.kind
            dropped.append(f"test {i + 1} fails by itself ({why[:200]}): {case[:200]}")
        else:
            kept.append(case)
    return OwnTests(tuple(kept), tuple(dropped))
