"""Koderz's own problem format, for problems of your own::

    {"task_id": "mine/add", "prompt": "def add(a, b):\\n    \\"\\"\\"Sum.\\"\\"\\"\\n",
     "entry_point": "add", "tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}

``tests`` is a list of assert statements (each one test case; they may call the function by
its name or as ``candidate``); instead of ``tests`` a ``test`` string with a
``check(candidate)`` function (or bare asserts) works too. ``canonical_solution`` is
optional; ``public_tests`` (asserts, as ``tests``) are the examples the worker may be shown
the results of (without it they come from the prompt's examples).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Mapping
from typing import Any

from koderz.errors import ConfigError
from koderz.problems.public_tests import check_of, from_prompt
from koderz.problems.rows import Where, function_problem, test_string
from koderz.records import Problem
from koderz.sandbox import check_test_source

__all__ = ["FORMAT"]


class CustomFormat:
    name = "koderz"

    def task_id(self, row: Mapping[str, Any], where: Where) -> str:
        return str(row.get("task_id", ""))

    def claims(self, row: Mapping[str, Any]) -> bool:
        # Also a function problem with no tests at all: this format says what to give.
        return (
            "tests" in row or "public_tests" in row or ("entry_point" in row and "test" not in row)
        )

    def problem(self, row: Mapping[str, Any], where: Where) -> Problem:
        test = _test_source(row, where)
        public = _public(row, where) if where.public_tests else ""
        return function_problem(row, where, test=test, public_test=public, source=where.origin)


def _test_source(row: Mapping[str, Any], where: Where) -> str:
    if "test" in row:
        return test_string(row, where)
    if "tests" not in row:
        raise where.error(
            "missing (give 'test' with check(candidate), or 'tests' as asserts)", "test"
        )
    tests = row["tests"]
    if not isinstance(tests, list) or not tests:
        raise where.error("must be a non-empty list of assert statements", "tests")
    body = []
    for i, case in enumerate(tests):
        if not isinstance(case, str):
            raise where.error(f"item {i} must be a string", "tests")
        try:
            tree = ast.parse(textwrap.dedent(case))
        except SyntaxError as e:
            raise where.error(f"item {i} does not parse ({e.msg})", "tests") from e
        if not tree.body:
            raise where.error(f"item {i} is empty", "tests")
        body.append(textwrap.indent(textwrap.dedent(case).strip(), "    "))
    return "def check(candidate):\n" + "\n".join(body) + "\n"


def _public(row: Mapping[str, Any], where: Where) -> str:
    given = row.get("public_tests")
    entry_point = row.get("entry_point")
    if given is None:
        if not isinstance(entry_point, str):
            return ""
        return from_prompt(str(row.get("prompt", "")), entry_point)
    if isinstance(given, list) and given and all(isinstance(t, str) for t in given):
        public = check_of([textwrap.dedent(t).strip() for t in given])
    elif isinstance(given, str) and given.strip():
        public = given
    else:
        raise where.error("must be a non-empty list of assert statements", "public_tests")
    try:
        check_test_source(public)
    except ConfigError as e:
        raise where.error(str(e), "public_tests") from e
    return public


FORMAT = CustomFormat()
