"""A function problem's public tests: the examples a person given the problem would see.

With feedback ``public`` the worker is shown only how its code fares on these, never on the
hidden tests that decide the verdict, so the feedback loop cannot teach the grader. Each
format picks its source (``koderz/problems/``): a ``public_tests`` field of a custom problem
file (asserts, as ``tests``); EvalPlus's base inputs, when the verdict runs the plus inputs
too: the same test code on the first ``len(base_input)`` inputs only
(:func:`from_evalplus`; EvalPlus lists the base inputs first); else the examples in the
prompt (:func:`from_prompt`): doctest lines (``>>> f(1)`` and the line after), and lines such
as ``f(1) == 2``, ``f(1) => 2``, ``f(1) -> 2`` or ``assert f(1) == 2`` (MBPP's prompt shows its
first test so). Only examples whose arguments and expected value are literals are kept:
``is_happy(a) => False`` in a docstring is prose, not a test.

A problem may have none; the experiment then says so to the worker instead of leaking the
hidden tests.
"""

from __future__ import annotations

import ast
import re
import textwrap

__all__ = ["check_of", "from_evalplus", "from_prompt"]

_ARROW = re.compile(r"^(?P<call>.+?\))\s*(?:==|=>|->|➞|→)\s*(?P<expected>.+)$")


def from_evalplus(test: str, n_base: int) -> str:
    """EvalPlus's test code run on its first ``n_base`` inputs (the base inputs) only.

    EvalPlus's ``check`` assigns ``inputs = [...]`` and ``results = [...]`` and loops over
    both; both are cut to the base inputs right before the loop. '' if the code is not of
    that shape.

    Examples:
        >>> test = ("def check(candidate):\\n    inputs = [[1], [2], [3]]\\n"
        ...         "    results = [2, 3, 4]\\n"
        ...         "    for inp, exp in zip(inputs, results):\\n"
        ...         "        assert candidate(*inp) == exp\\n")
        >>> print(from_evalplus(test, 2), end="")
        def check(candidate):
            inputs = [[1], [2], [3]]
            results = [2, 3, 4]
            inputs = inputs[:2]
            results = results[:2]
            for inp, exp in zip(inputs, results):
                assert candidate(*inp) == exp
    """
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return ""
    check = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None
    )
    if check is None:
        return ""
    assigned = {
        t.id
        for n in check.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    loop = next((i for i, n in enumerate(check.body) if isinstance(n, ast.For)), None)
    if loop is None or not {"inputs", "results"} <= assigned:
        return ""
    cut = ast.parse(f"inputs = inputs[:{n_base}]\nresults = results[:{n_base}]").body
    check.body[loop:loop] = cut
    return ast.unparse(tree) + "\n"


def from_prompt(prompt: str, entry_point: str) -> str:
    """The literal examples the prompt shows, as asserts ('' if it shows none).

    Examples:
        >>> p = "def f(s):\\n  '''\\n  f('ab') => 2\\n  f(x) => 1\\n  >>> f('')\\n  0\\n  '''"
        >>> print(from_prompt(p, "f"), end="")
        def check(candidate):
            assert f('ab') == 2
            assert f('') == 0
    """
    cases: list[str] = []
    lines = [line.strip() for line in prompt.splitlines()]
    for i, line in enumerate(lines):
        if line.startswith(">>>"):
            expected = lines[i + 1] if i + 1 < len(lines) else ""
            case = _case(line[3:].strip(), expected or "None", entry_point)
        elif line.startswith("assert "):
            case = _assert_case(line, entry_point)
        else:
            arrow = _ARROW.match(line)
            case = arrow and _case(arrow["call"], arrow["expected"], entry_point)
        if case and case not in cases:
            cases.append(case)
    return _check(cases) if cases else ""


def _case(call: str, expected: str, entry_point: str) -> str | None:
    """``assert call == expected`` if ``call`` calls the entry point with literal arguments
    and ``expected`` is a literal; None otherwise."""
    if expected.startswith(">>>"):
        expected = "None"  # doctest: a call printing nothing returned None
    try:
        node = ast.parse(call, mode="eval").body
        ast.literal_eval(expected)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == entry_point
        and not node.keywords
    ):
        return None
    try:
        for arg in node.args:
            ast.literal_eval(arg)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return f"assert {ast.unparse(node)} == {expected.strip()}"


# Pure builtins a shown assert may wrap the call in (MBPP+: ``assert set(f(x)) == set(y)``).
_PURE = frozenset({"set", "sorted", "list", "tuple", "dict", "abs", "round", "len", "str"})
# What such an assert may be made of: calls, names, literals, comparisons and arithmetic; no
# attribute, subscript, lambda or comprehension that could mean something else in the judge.
_PLAIN_NODES = (
    ast.expr_context,
    ast.cmpop,
    ast.operator,
    ast.unaryop,
    ast.Name,
    ast.Call,
    ast.Constant,
    ast.Compare,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.UnaryOp,
    ast.BinOp,
)


def _assert_case(line: str, entry_point: str) -> str | None:
    """The assert as it stands, if it only calls the entry point and pure builtins on
    literals (so it means the same in the judge as on the page); None otherwise."""
    try:
        (node,) = ast.parse(line).body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if not isinstance(node, ast.Assert) or node.msg is not None:
        return None
    calls = [n for n in ast.walk(node.test) if isinstance(n, ast.Call)]
    called = {n.func.id for n in calls if isinstance(n.func, ast.Name)}
    names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
    allowed = _PURE | {entry_point}
    safe = all(isinstance(n, _PLAIN_NODES) for n in ast.walk(node.test))
    if not safe or entry_point not in called or names - called or called - allowed:
        return None
    if any(n.keywords for n in calls):
        return None
    return ast.unparse(node)


def check_of(cases: list[str]) -> str:
    """Assert statements as a ``check(candidate)`` function."""
    return _check(cases)


def _check(cases: list[str]) -> str:
    body = "\n".join(textwrap.indent(case, "    ") for case in cases)
    return f"def check(candidate):\n{body}\n"
