"""The words for the pass rates before and after the models' cutoffs
(:mod:`koderz.analysis.stats.cutoffs`): a sentence per strategy, its JSON, the report's table,
and the warning a report gives when its window starts before a model's cutoff."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from koderz.analysis.text.pages import Note

__all__ = [
    "NO_DATES",
    "after_cutoff_json",
    "cutoff_note",
    "cutoff_sentence",
    "cutoff_table",
    "window_warnings",
]

NO_DATES = (
    "No problem has a release date, so there is no pass rate after the models' cutoffs "
    "(a dated set, e.g. LiveCodeBench's, has one)."
)
"""What the output says when no problem has a date."""


def _p(share: Any) -> str:
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "-"
    return f"{100 * share:.1f}%"


def _ci(pair: Any) -> str:
    if not isinstance(pair, tuple | list) or any(_p(v) == "-" for v in pair):
        return ""
    return f" (95% CI {_p(pair[0])}-{_p(pair[1])})"


def _whose(row: Mapping[str, Any]) -> str:
    models = list(row.get("cutoff_models") or ())
    return f"{', '.join(models)}'s" if models else "its models'"


def cutoff_note(row: Mapping[str, Any]) -> str | None:
    """Why a strategy has no pass rate after its cutoff, or None when it has one.

    Examples:
        >>> cutoff_note({"unknown": ("qwen2.5-coder:7b",), "dated": 4})
        'the cutoff of qwen2.5-coder:7b is unknown: give it with --cutoff qwen2.5-coder:7b=YYYY-MM-DD'
        >>> cutoff_note({"unknown": (), "dated": 0, "cutoff": "2025-01-31"})
        'no problem has a release date'
    """  # noqa: E501
    unknown = list(row.get("unknown") or ())
    if unknown:
        flags = " ".join(f"--cutoff {m}=YYYY-MM-DD" for m in unknown)
        verb = "is" if len(unknown) == 1 else "are"
        return f"the cutoff of {', '.join(unknown)} {verb} unknown: give it with {flags}"
    if not row.get("dated"):
        return "no problem has a release date"
    if not row.get("cutoff"):
        return "it called no model"
    return None


def cutoff_sentence(row: Mapping[str, Any]) -> str:
    """A strategy's pass rates after its cutoff and before it, in a sentence (a row of
    :func:`~koderz.analysis.stats.cutoffs.after_cutoff`'s table).

    Examples:
        >>> print(cutoff_sentence({"strategy": "s", "cutoff": "2025-01-31",
        ...     "cutoff_models": ("m",), "unknown": (), "dated": 3, "after_problems": 2,
        ...     "after_pass_rate": 0.5, "after_pass_rate_ci95": (0.0, 1.0),
        ...     "before_problems": 1, "before_pass_rate": 1.0}))
        On the 2 problems released after 2025-01-31 (m's cutoff), pass rate 50.0% (95% CI 0.0%-100.0%); 100.0% on the 1 released before.
    """  # noqa: E501
    note = cutoff_note(row)
    if note is not None:
        return f"No pass rate after the cutoff: {note}."
    cutoff, whose = row["cutoff"], _whose(row)
    before = (
        f"{_p(row['before_pass_rate'])} on the {row['before_problems']} released before"
        if row.get("before_problems")
        else "none was released before it"
    )
    if not row.get("after_problems"):
        return f"No problem was released after {cutoff} ({whose} cutoff); {before}."
    return (
        f"On the {row['after_problems']} problems released after {cutoff} ({whose} cutoff), "
        f"pass rate {_p(row['after_pass_rate'])}{_ci(row.get('after_pass_rate_ci95'))}; "
        f"{before}."
    )


def _side(row: Mapping[str, Any], side: str) -> dict[str, Any] | None:
    if cutoff_note(row) is not None and row.get("unknown"):
        return None
    rate = row.get(f"{side}_pass_rate")
    ci = row.get(f"{side}_pass_rate_ci95")
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        rate = ci = None
    return {
        "cutoff": row.get("cutoff"),
        "models": list(row.get("cutoff_models") or ()),
        "problems": int(row.get(f"{side}_problems") or 0),
        "pass_rate": None if rate is None else float(rate),
        "pass_rate_ci95": [float(v) for v in ci] if isinstance(ci, tuple | list) else None,
    }


def after_cutoff_json(row: Mapping[str, Any] | None) -> dict[str, Any]:
    """A strategy's ``after_cutoff`` and ``before_cutoff`` objects (``{cutoff, models,
    problems, pass_rate, pass_rate_ci95}``; null when a model's cutoff is unknown) and
    ``after_cutoff_note`` (why there is no pass rate after it; null when there is one).

    Examples:
        >>> after_cutoff_json({"unknown": ("q",), "dated": 2})["after_cutoff"] is None
        True
    """
    if row is None:
        return {"after_cutoff": None, "before_cutoff": None, "after_cutoff_note": None}
    return {
        "after_cutoff": _side(row, "after"),
        "before_cutoff": _side(row, "before"),
        "after_cutoff_note": cutoff_note(row),
    }


def cutoff_table(after_cutoff: pd.DataFrame) -> pd.DataFrame | str:
    """The report's table: per strategy, its cutoff and whose it is, and its pass rate on
    the problems released before and after it, with their 95% intervals; a sentence when no
    problem has a date.

    Examples:
        >>> cutoff_table(pd.DataFrame({"strategy": ["s"], "dated": [0]}))
        "No problem has a release date, so there is no pass rate after the models' cutoffs (a dated set, e.g. LiveCodeBench's, has one)."
    """  # noqa: E501
    if after_cutoff.empty or not after_cutoff["dated"].any():
        return Note(NO_DATES)
    rows = []
    for record in after_cutoff.to_dict("records"):
        r = {str(k): v for k, v in record.items()}
        note = cutoff_note(r)
        unknown = " ".join(f"--cutoff {m}=YYYY-MM-DD" for m in r["unknown"])
        rows.append(
            {
                "strategy": r["strategy"],
                "cutoff": r["cutoff"] or "unknown",
                "whose": ", ".join(r["cutoff_models"]) or (f"give {unknown}" if unknown else note),
                "problems before": r["before_problems"] if r["cutoff"] else "-",
                "pass rate before": _p(r["before_pass_rate"]) + _ci(r["before_pass_rate_ci95"]),
                "problems after": r["after_problems"] if r["cutoff"] else "-",
                "pass rate after": _p(r["after_pass_rate"]) + _ci(r["after_pass_rate_ci95"]),
            }
        )
    return pd.DataFrame(rows).set_index("strategy")


def window_warnings(start: str | None, cutoffs: Mapping[str, str | None]) -> list[str]:
    """A warning for each model whose cutoff is on or after the window's first day: the
    problems released up to its cutoff may be in its training data.

    Examples:
        >>> window_warnings("2025-01-01", {"a": "2025-03-31", "b": "2024-06-30", "c": None})
        ['The window starts 2025-01-01, before the cutoff of a (2025-03-31): the problems released up to then may be in its training data; only the pass rates after the cutoff are free of it.']
    """  # noqa: E501
    if not start:
        return []
    return [
        f"The window starts {start}, before the cutoff of {model} ({cutoff}): the problems "
        "released up to then may be in its training data; only the pass rates after the "
        "cutoff are free of it."
        for model, cutoff in sorted(cutoffs.items())
        if cutoff and cutoff >= start
    ]
