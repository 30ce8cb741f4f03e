"""The problem formats Koderz reads, one module each, in one registry.

A format turns one row of a file, as its publisher ships it, into a
:class:`~koderz.records.Problem` of the test shape its tests have. The loader asks each
format in :data:`FORMATS`, in order, whether it claims a row (by the fields the row has) and
lets the first that does read it. Adding a format is one module and one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from koderz.problems import apps, custom, evalplus, humaneval, livecodebench, multiple
from koderz.problems.rows import Where
from koderz.records import Problem

__all__ = ["FORMATS", "Format", "format_of"]


class Format(Protocol):
    """One problem format as its publisher ships it."""

    name: str
    """A short name, for messages."""

    def claims(self, row: Mapping[str, Any]) -> bool:
        """Whether the row is of this format (by the fields it has)."""
        ...

    def task_id(self, row: Mapping[str, Any], where: Where) -> str:
        """The id the row's problem will have (read before the row is, to skip it)."""
        ...

    def problem(self, row: Mapping[str, Any], where: Where) -> Problem:
        """The row as a problem.

        Raises:
            ProblemFileError: The row is malformed (the message names the field).
        """
        ...


FORMATS: tuple[Format, ...] = (
    multiple.FORMAT,  # first: its rows have ``tests``, which Koderz's own format claims
    livecodebench.FORMAT,
    apps.FORMAT,
    evalplus.FORMAT,
    custom.FORMAT,
    humaneval.FORMAT,
)
"""Every row format, in the order they are asked."""


def format_of(row: Mapping[str, Any], where: Where) -> Format:
    """The first format of :data:`FORMATS` that claims the row.

    Raises:
        ProblemFileError: None does (the message lists the row's fields and the formats).
    """
    for fmt in FORMATS:
        if fmt.claims(row):
            return fmt
    fields = ", ".join(sorted(map(str, row))[:12]) or "none"
    names = ", ".join(f.name for f in FORMATS)
    raise where.error(
        f"is in no problem format Koderz reads (its fields: {fields}); the formats are "
        f"{names} (see docs/problems.md)"
    )
