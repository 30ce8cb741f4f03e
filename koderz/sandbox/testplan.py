"""Split a problem's test source into test cases, on the host, before anything runs.

HumanEval's ``check(candidate)`` is one function; for partial credit each of its top-level
statements becomes one item of a plan the sandbox's judge runs in order:

* a top-level ``assert`` is one test case;
* a top-level ``for`` loop whose body asserts (``assert ...`` or a call to a function named
  ``assert*``, as HumanEval+/MBPP+'s ``assertion(candidate(*inp), exp, atol)``) is one test
  case **per iteration**: HumanEval+ checks hundreds of inputs in one loop, and "k of n inputs
  passed" says more than "the loop failed";
* any other compound statement containing an ``assert`` (``if``, ``while``, ``with``,
  ``try``, a ``for`` with ``else``) is one test case;
* everything else (assignments, imports, helper ``def`` s) is set-up, run in order; a set-up
  statement that raises fails the candidate even when every test case passes.

Statements around ``check`` (imports, ``METADATA``, helpers such as HumanEval+'s
``assertion``) form the prelude; a trailing ``check(entry_point)`` call is dropped. A test
source without ``check`` (MBPP's bare ``assert f(x) == y`` lines) is split the same way at
module level, with the candidate's functions reachable under their own names.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

from koderz.errors import ConfigError

__all__ = ["TestPlan", "plan_tests"]


@dataclass(frozen=True)
class TestPlan:
    """What the judge runs: a prelude and the items of ``check``'s body, as source."""

    prelude: str
    """Module-level statements of the test, ``check`` excluded."""
    items: tuple[tuple[str, ...], ...]
    """``("setup", src)``, ``("test", src)`` or ``("loop", target, iterable, body)``."""
    labels: tuple[str, ...]
    """Per item, the source line shown in results (the loop header for a loop)."""
    param: str = "candidate"
    """The name ``check`` calls the function under test."""

    @property
    def static_total(self) -> int:
        """Test cases known before running (each loop counted once)."""
        return sum(1 for item in self.items if item[0] != "setup")


def _asserts(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assert):
            return True
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name.startswith("assert"):
                return True
    return False


def _label(source: str, node: ast.stmt) -> str:
    segment = ast.get_source_segment(source, node) or ast.unparse(node)
    first = segment.strip().splitlines()[0] if segment.strip() else ""
    return first if len(first) <= 300 else first[:297] + "..."


def _is_check_call(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "check"
    )


@functools.lru_cache(maxsize=1024)
def plan_tests(test: str) -> TestPlan:
    """Split a test source into a :class:`TestPlan`.

    Args:
        test: The problem's test source (HumanEval ``check`` style or bare asserts).

    Returns:
        The plan.

    Raises:
        ConfigError: The test source does not parse.

    Examples:
        >>> plan = plan_tests("def check(candidate):\\n    x = 1\\n    assert candidate(x) == 2\\n")
        >>> [item[0] for item in plan.items], plan.labels[1]
        (['setup', 'test'], 'assert candidate(x) == 2')
    """
    try:
        tree = ast.parse(test)
    except SyntaxError as e:
        raise ConfigError(
            f"The problem's test source does not parse ({e.msg}, line {e.lineno}); "
            "fix the problem file."
        ) from e
    check = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None
    )
    param = "candidate"
    if check is not None:
        body = check.body
        prelude = [n for n in tree.body if n is not check and not _is_check_call(n)]
        if check.args.args:
            param = check.args.args[0].arg
    else:
        body, prelude = tree.body, []
    items: list[tuple[str, ...]] = []
    labels: list[str] = []
    for node in body:
        labels.append(_label(test, node))
        if isinstance(node, ast.Assert):
            items.append(("test", ast.unparse(node)))
        elif isinstance(node, ast.For) and not node.orelse and _asserts(node):
            header = f"for {ast.unparse(node.target)} in {ast.unparse(node.iter)}:"
            labels[-1] = header
            body_src = ast.unparse(ast.Module(body=node.body, type_ignores=[]))
            items.append(("loop", ast.unparse(node.target), ast.unparse(node.iter), body_src))
        elif _asserts(node) and not isinstance(node, ast.FunctionDef | ast.ClassDef):
            items.append(("test", ast.unparse(node)))
        else:
            items.append(("setup", ast.unparse(node)))
    return TestPlan(
        prelude=ast.unparse(ast.Module(body=prelude, type_ignores=[])),
        items=tuple(items),
        labels=tuple(labels),
        param=param,
    )
