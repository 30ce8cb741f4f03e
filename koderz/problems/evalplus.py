"""HumanEval+ and MBPP+ as EvalPlus publishes them (``HumanEvalPlus.jsonl``,
``MbppPlus.jsonl``).

The fields of HumanEval, with ``test`` again a ``check(candidate)`` (looping over the inputs
with an ``assertion(out, exp, atol)`` helper); ``base_input``, ``plus_input``, ``atol``,
``contract`` and other extra fields are accepted. The public tests are the same test code on
the base inputs only (:func:`koderz.problems.public_tests.from_evalplus`), when the hidden
tests run the plus inputs too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from koderz.problems.public_tests import from_evalplus, from_prompt
from koderz.problems.rows import Where, function_problem, test_string
from koderz.records import Problem

__all__ = ["FORMAT"]


class EvalPlusFormat:
    name = "evalplus"

    def task_id(self, row: Mapping[str, Any], where: Where) -> str:
        return str(row.get("task_id", ""))

    def claims(self, row: Mapping[str, Any]) -> bool:
        return "plus_input" in row or "base_input" in row

    def problem(self, row: Mapping[str, Any], where: Where) -> Problem:
        test = test_string(row, where)
        public = _public(row, test) if where.public_tests else ""
        task_id = str(row.get("task_id", ""))
        source = (
            "humaneval+"
            if task_id.startswith("HumanEval/")
            else "mbpp+"
            if task_id.startswith("Mbpp/")
            else where.origin
        )
        return function_problem(row, where, test=test, public_test=public, source=source)


def _public(row: Mapping[str, Any], test: str) -> str:
    base = row.get("base_input")
    if isinstance(base, list) and base and row.get("plus_input"):
        return from_evalplus(test, len(base))
    entry_point = row.get("entry_point")
    if not isinstance(entry_point, str):
        return ""
    return from_prompt(str(row.get("prompt", "")), entry_point)


FORMAT = EvalPlusFormat()
