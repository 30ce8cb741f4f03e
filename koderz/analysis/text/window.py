"""The window of a report's problems: the release dates the runs were asked for (their
manifests, ``runs/<run_id>.json``), or the span of the problems' dates where none was; and
the warning a report gives when it starts before a model's cutoff."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from koderz.analysis.text.cutoffs import window_warnings
from koderz.analysis.text.pages import Html

__all__ = ["Window", "problem_window", "run_manifests", "window_html"]


def run_manifests(data_dir: str | os.PathLike[str] | None, runs: list[str]) -> list[dict[str, Any]]:
    """The manifests of ``runs`` that can be read (``runs/<run_id>.json``)."""
    if data_dir is None:
        return []
    found = []
    for run in runs:
        path = Path(data_dir) / "runs" / f"{run}.json"
        try:
            found.append(dict(json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return found


@dataclass(frozen=True)
class Window:
    """The release dates of a report's problems: the window the runs were asked for, or the
    span of the problems' dates where none was."""

    start: str | None
    """Its first day (``--since``, else the earliest release date); None: no start."""
    end: str | None
    """Its last day (``--until``, else the latest release date); None: no end."""
    words: str
    """The window as the methods section states it."""


def problem_window(
    steps: pd.DataFrame, data_dir: str | os.PathLike[str] | None = None
) -> Window | None:
    """The window of the runs' problems: as the runs' manifests record it (``--since``,
    ``--until`` and the slices), else from the rows' release dates; None when there is
    neither.

    Examples:
        >>> steps = pd.DataFrame({"run_id": "r", "problem_id": ["a", "b", "c"],
        ...     "problem_released": ["2025-03-02", None, "2025-01-09"]})
        >>> problem_window(steps).words
        'the problems were released 2025-01-09 to 2025-03-02 (their dates; no window was given); 1 has none'
    """  # noqa: E501
    runs = sorted(str(r) for r in steps["run_id"].dropna().unique())
    given = [m["window"] for m in run_manifests(data_dir, runs) if m.get("window")]
    if given:
        words = sorted({str(w.get("described") or "") for w in given} - {""})
        starts = [str(w["since"]) for w in given if w.get("since")]
        ends = [str(w["until"]) for w in given if w.get("until")]
        return Window(
            min(starts) if len(starts) == len(given) else None,
            max(ends) if len(ends) == len(given) else None,
            "; ".join(words) + " (as the runs were asked: --since, --until and the slices)",
        )
    if "problem_released" not in steps.columns:
        return None
    days = steps.drop_duplicates("problem_id")["problem_released"].fillna("").astype(str)
    dated = sorted(d[:10] for d in days if d)
    if not dated:
        return None
    undated = len(days) - len(dated)
    return Window(
        dated[0],
        dated[-1],
        f"the problems were released {dated[0]} to {dated[-1]} (their dates; no window was "
        "given)" + (f"; {undated} {'has' if undated == 1 else 'have'} none" if undated else ""),
    )


def window_html(
    steps: pd.DataFrame,
    data_dir: str | os.PathLike[str] | None,
    cutoffs: Mapping[str, str | None],
) -> Html:
    """The report's warning when its window starts before a model's cutoff (the problems
    released up to then may be in its training data), else a sentence saying it does not.

    Examples:
        >>> steps = pd.DataFrame({"run_id": "r", "problem_id": ["a"],
        ...     "problem_released": ["2025-03-02"]})
        >>> str(window_html(steps, None, {"m": "2025-06-30"})).startswith("<p><strong>Before a")
        True
    """
    window = problem_window(steps, data_dir)
    if window is None:
        return Html("<p>The problems have no release dates, so no window to compare.</p>")
    warnings = window_warnings(window.start, cutoffs)
    if not warnings:
        return Html(
            f"<p>The window ({html.escape(window.words)}) starts after the cutoff of every "
            "model with a known one.</p>"
        )
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    return Html(f"<p><strong>Before a cutoff:</strong></p><ul>{items}</ul>")
