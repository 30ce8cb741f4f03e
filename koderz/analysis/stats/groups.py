"""Groups of problems by what the set says of them: difficulty, platform, the month of
release, the source and the language (``koderz analyze --by KEY``, the report's
``split_by``, the explorer's filters). Every row of an experiment carries its problem's
``problem_*`` columns, so a group is a filter of the steps table."""

from __future__ import annotations

import difflib

import pandas as pd

from koderz.errors import ConfigError

__all__ = [
    "GROUP_KEYS",
    "NO_VALUE",
    "check_group_key",
    "group_labels",
    "group_values",
    "groups_in",
    "split_steps",
]

GROUP_KEYS: dict[str, str] = {
    "difficulty": "problem_difficulty",
    "platform": "problem_platform",
    "month": "problem_released",
    "source": "problem_source",
    "language": "problem_language",
}
"""Each key ``--by`` takes, and the column of the steps table it groups by (``month``: the
release date's ``YYYY-MM``)."""

NO_VALUE = "(none)"
"""The group of the problems the set says nothing of (no difficulty, no date ...)."""

# Difficulties in the order a reader expects; other labels follow, sorted.
_ORDER = {"easy": 0, "medium": 1, "hard": 2}


def check_group_key(by: str) -> str:
    """``by`` if it is a key of :data:`GROUP_KEYS`.

    Raises:
        ConfigError: It is not; the message lists the keys.
    """
    if by not in GROUP_KEYS:
        close = difflib.get_close_matches(str(by), list(GROUP_KEYS), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"Cannot group by {by!r}{hint}; use one of {', '.join(GROUP_KEYS)}.")
    return by


def group_values(frame: pd.DataFrame, by: str) -> pd.Series:
    """Each row's group under ``by`` (:data:`NO_VALUE` where the problem has none).

    Examples:
        >>> rows = pd.DataFrame({"problem_released": ["2025-01-31", None, "2025-02-01"]})
        >>> group_values(rows, "month").tolist()
        ['2025-01', '(none)', '2025-02']
    """
    column = GROUP_KEYS[check_group_key(by)]
    if column not in frame.columns:
        return pd.Series(NO_VALUE, index=frame.index, dtype=object)
    values = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    if by == "month":
        values = values.str.slice(0, 7)
    return values.str.strip().replace("", NO_VALUE)


def group_labels(values: pd.Series | list[str]) -> list[str]:
    """The distinct groups in reading order: easy, medium, hard, then the others sorted (a
    month's ``YYYY-MM`` sorts by time), :data:`NO_VALUE` last.

    Examples:
        >>> group_labels(["hard", "(none)", "easy", "medium", "easy"])
        ['easy', 'medium', 'hard', '(none)']
    """
    distinct = set(pd.Series(values, dtype=object).dropna().astype(str))
    return sorted(distinct, key=lambda v: (v == NO_VALUE, _ORDER.get(v, len(_ORDER)), v))


def split_steps(steps: pd.DataFrame, by: str) -> dict[str, pd.DataFrame]:
    """The steps of each group under ``by``, in :func:`group_labels` order.

    Examples:
        >>> rows = pd.DataFrame({"problem_difficulty": ["hard", "easy", "hard"], "x": [1, 2, 3]})
        >>> {k: v["x"].tolist() for k, v in split_steps(rows, "difficulty").items()}
        {'easy': [2], 'hard': [1, 3]}
    """
    values = group_values(steps, by)
    return {label: steps[values == label] for label in group_labels(values)}


def groups_in(steps: pd.DataFrame) -> dict[str, list[str]]:
    """The keys of :data:`GROUP_KEYS` the data has a value of, each with its groups (for the
    explorer's filters).

    Examples:
        >>> rows = pd.DataFrame({"problem_platform": ["atcoder", None],
        ...                      "problem_released": ["2025-03-01", "2025-01-09"]})
        >>> groups_in(rows)
        {'platform': ['atcoder', '(none)'], 'month': ['2025-01', '2025-03']}
    """
    out = {}
    for by in GROUP_KEYS:
        labels = group_labels(group_values(steps, by))
        if labels and labels != [NO_VALUE]:
            out[by] = labels
    return out
