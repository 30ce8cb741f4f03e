"""LiveCodeBench's code generation problems as its ``code_generation_lite`` files ship them
(``test.jsonl`` ... ``test6.jsonl``; a folder of them reads as one set).

A row has ``question_title``, ``question_content``, ``platform``, ``question_id``,
``contest_id``, ``contest_date``, ``starter_code``, ``difficulty``, ``public_test_cases`` (a
JSON list of ``{input, output, testtype}``), ``private_test_cases`` (the same, as JSON or
packed: :mod:`koderz.problems.packed`) and ``metadata`` (JSON; ``func_name`` for a
method's tests). As LiveCodeBench's grader decides, a row with a ``func_name`` is judged by
calls of that method of ``class Solution`` (the ``calls`` shape), any other as a program on
standard input (``io``); every test judges, public ones first. The task id is the
``question_id``, the release date ``contest_date``'s day.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from koderz.problems.packed import unpack
from koderz.problems.rows import Where
from koderz.records import CallTests, IOCase, IOTests, Problem, Rules

__all__ = ["FORMAT", "PRELUDE", "RULES"]

PRELUDE = (
    "string",
    "re",
    "datetime",
    "collections",
    "heapq",
    "bisect",
    "copy",
    "math",
    "random",
    "statistics",
    "itertools",
    "functools",
    "operator",
    "io",
    "sys",
    "json",
    "builtins",
    "typing",
)
"""The modules whose names LiveCodeBench's grader makes available before every program,
in its order (``testing_util.py``'s import block)."""

RULES = Rules(prelude=PRELUDE, case_timeout_s=6.0, first_failure_ends=True)
"""How LiveCodeBench's grader judges."""

_FIELDS = ("question_id", "question_content", "public_test_cases", "private_test_cases")


class LiveCodeBenchFormat:
    name = "livecodebench"

    def claims(self, row: Mapping[str, Any]) -> bool:
        return "question_id" in row and "public_test_cases" in row

    def task_id(self, row: Mapping[str, Any], where: Where) -> str:
        return str(row.get("question_id", ""))

    def problem(self, row: Mapping[str, Any], where: Where) -> Problem:
        for name in _FIELDS:
            if name not in row:
                raise where.error("missing", name)
        task_id = self.task_id(row, where)
        if not task_id.strip():
            raise where.error("must be a non-empty id", "question_id")
        public = _cases(row["public_test_cases"], where, "public_test_cases", task_id)
        hidden = _cases(row["private_test_cases"], where, "private_test_cases", task_id)
        if not public + hidden:
            raise where.error("no tests (public or private)", "public_test_cases")
        func_name = _metadata(row, where).get("func_name")
        starter = row.get("starter_code") or ""
        if not isinstance(starter, str):
            raise where.error("must be a string", "starter_code")
        tests: IOTests | CallTests
        if func_name:
            if not isinstance(func_name, str) or not func_name.isidentifier():
                raise where.error("func_name must be a Python name", "metadata")
            tests = CallTests(func_name, public + hidden, public, starter, RULES)
        else:
            tests = IOTests(public + hidden, public, RULES)
        return Problem(
            task_id=task_id,
            prompt=str(row["question_content"]),
            tests=tests,
            source="livecodebench",
            released=_day(row.get("contest_date"), where),
            difficulty=str(row.get("difficulty") or "").lower(),
            platform=str(row.get("platform") or "").lower(),
            language="python",
        )


def _cases(value: Any, where: Where, field: str, task_id: str) -> tuple[IOCase, ...]:
    """A test field's cases: a JSON list (or, for private tests, packed)."""
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        try:
            items = json.loads(value) if value.strip() else []
        except ValueError:
            if field != "private_test_cases":
                raise where.error("is not a JSON list of tests", field) from None
            text = unpack(value, where=f"{where.path}, line {where.line}, question_id {task_id}")
            try:
                items = json.loads(text)
            except ValueError:
                raise where.error("unpacks to no JSON list of tests", field) from None
    else:
        raise where.error("must be a JSON list of tests", field)
    if not isinstance(items, list):
        raise where.error("must be a JSON list of tests", field)
    cases = []
    for item in items:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("input"), str)
            and isinstance(item.get("output"), str)
        ):
            raise where.error("each test must have string 'input' and 'output'", field)
        cases.append(IOCase(item["input"], item["output"]))
    return tuple(cases)


def _metadata(row: Mapping[str, Any], where: Where) -> dict[str, Any]:
    value = row.get("metadata") or {}
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            raise where.error("is not JSON", "metadata") from None
    if not isinstance(value, dict):
        raise where.error("must be a JSON object", "metadata")
    return value


def _day(value: Any, where: Where) -> str:
    """``contest_date``'s day, ``YYYY-MM-DD`` (it ships as ``2023-08-21T00:00:00``)."""
    if value in (None, ""):
        return ""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value)).date().isoformat()
    except ValueError:
        raise where.error("must be an ISO date", "contest_date") from None


FORMAT = LiveCodeBenchFormat()
