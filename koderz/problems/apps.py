"""APPS and TACO problems as their publishers ship them: a row with ``question``,
``input_output`` (JSON ``{inputs, outputs, fn_name}``), ``difficulty``, ``url`` and
``starter_code`` (APPS adds ``problem_id``; TACO ``source``, ``date`` ...).

Without ``fn_name`` the tests are a program's standard input and expected output (the ``io``
shape; an input or output given as a list of lines is joined by newlines). With it they call
that function, or that method of a ``class Solution``, with the input's arguments (the
``calls`` shape). Both are judged by LiveCodeBench's rules, which grew out of APPS's grader
(one difference: APPS's grader also passes a result equal to the first item of an expected
value that is a list). The sets mark no tests public.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from koderz.problems.livecodebench import RULES
from koderz.problems.rows import Where
from koderz.records import CallTests, IOCase, IOTests, Problem

__all__ = ["FORMAT"]


class AppsFormat:
    name = "apps"

    def claims(self, row: Mapping[str, Any]) -> bool:
        return "input_output" in row and "question" in row

    def task_id(self, row: Mapping[str, Any], where: Where) -> str:
        if row.get("problem_id") not in (None, ""):
            return f"apps/{row['problem_id']}"
        return f"{Path(where.path).stem}/{where.line}"

    def problem(self, row: Mapping[str, Any], where: Where) -> Problem:
        spec = row["input_output"]
        if isinstance(spec, str):
            try:
                spec = json.loads(spec) if spec.strip() else {}
            except ValueError:
                raise where.error("is not JSON", "input_output") from None
        if not isinstance(spec, dict):
            raise where.error("must be a JSON object", "input_output")
        inputs, outputs = spec.get("inputs") or [], spec.get("outputs") or []
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            raise where.error("inputs and outputs must be lists", "input_output")
        if not inputs or len(inputs) != len(outputs):
            raise where.error("needs as many outputs as inputs, and one at least", "input_output")
        fn_name = spec.get("fn_name")
        tests: IOTests | CallTests
        if fn_name:
            if not isinstance(fn_name, str) or not fn_name.isidentifier():
                raise where.error("fn_name must be a Python name", "input_output")
            cases = tuple(_call_case(i, o, where) for i, o in zip(inputs, outputs, strict=True))
            starter = str(row.get("starter_code") or "")
            tests = CallTests(fn_name, cases, (), starter, RULES)
        else:
            cases = tuple(IOCase(_text(i), _text(o)) for i, o in zip(inputs, outputs, strict=True))
            tests = IOTests(cases, (), RULES)
        origin = "apps" if "problem_id" in row else "taco"
        return Problem(
            task_id=self.task_id(row, where),
            prompt=str(row.get("question") or ""),
            tests=tests,
            source=origin,
            released=_day(row.get("date")),
            difficulty=str(row.get("difficulty") or "").lower(),
            platform=_platform(row),
            language="python",
        )


def _text(value: Any) -> str:
    """An input or output as text: a list is its lines."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _call_case(args: Any, expected: Any, where: Where) -> IOCase:
    if not isinstance(args, list):
        raise where.error("a call's inputs must be a list of arguments", "input_output")
    return IOCase("\n".join(json.dumps(a) for a in args), json.dumps(expected))


def _day(value: Any) -> str:
    text = str(value or "")
    return text[:10] if len(text) >= 10 and text[4] == "-" and text[7] == "-" else ""


def _platform(row: Mapping[str, Any]) -> str:
    """Where the problem was posed: TACO's ``source``, else the host of its ``url``."""
    source = row.get("source")
    if isinstance(source, str) and source:
        return source.lower()
    host = urlparse(str(row.get("url") or "")).hostname or ""
    parts = host.split(".")
    return parts[-2] if len(parts) >= 2 else host


FORMAT = AppsFormat()
