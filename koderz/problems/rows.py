"""What every problem format shares: where a row was read, and the problems of the
``function`` shape that several formats make."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from koderz.errors import ConfigError, ProblemFileError
from koderz.records import FunctionTests, Problem
from koderz.sandbox import check_test_source

__all__ = ["Where", "function_problem", "test_string"]


@dataclass(frozen=True)
class Where:
    """Where a row was read, for the messages of what is wrong with it."""

    path: str
    """The file."""
    line: int
    """Its 1-based line."""
    origin: str
    """What the problems' ``source`` is when the format knows no better (the path, or
    ``humaneval`` for the bundled set)."""
    public_tests: bool = True
    """Whether to derive the public tests (``koderz evaluate`` needs none)."""

    def error(self, message: str, field: str | None = None) -> ProblemFileError:
        return ProblemFileError(message, path=self.path, line=self.line, field=field)


_FUNCTION_FIELDS = ("task_id", "prompt", "entry_point")


def function_problem(
    row: Mapping[str, Any],
    where: Where,
    *,
    test: str,
    public_test: str,
    source: str,
) -> Problem:
    """A problem of the ``function`` shape from a row's ``task_id``, ``prompt``,
    ``entry_point`` and ``canonical_solution``, with the test sources its format made.

    Raises:
        ProblemFileError: A field is missing or malformed, or a test source does not parse
            or asserts nothing.
    """
    for name in _FUNCTION_FIELDS:
        if name not in row:
            raise where.error("missing", name)
        if not isinstance(row[name], str) or (name != "prompt" and not row[name].strip()):
            raise where.error("must be a non-empty string", name)
    if not row["entry_point"].isidentifier():
        raise where.error("must be a Python function name", "entry_point")
    try:
        # Planned (and cached) while checked: the run of this problem needs the plan.
        check_test_source(test, row["entry_point"])
    except ConfigError as e:
        raise where.error(str(e), "test") from e
    solution = row.get("canonical_solution", "")
    if not isinstance(solution, str):
        raise where.error("must be a string", "canonical_solution")
    return Problem(
        task_id=row["task_id"],
        prompt=row["prompt"],
        tests=FunctionTests(row["entry_point"], test, public_test),
        canonical_solution=solution,
        source=source,
    )


def test_string(row: Mapping[str, Any], where: Where) -> str:
    """The row's ``test`` source (a ``check(candidate)`` or bare asserts)."""
    test = row.get("test")
    if not isinstance(test, str) or not test.strip():
        raise where.error("must be a non-empty string of test code", "test")
    return test  # check_test_source parses it, and says where it does not
