"""Pass rates side by side: per group of problems (``split_by``: difficulty, platform, month
...), and before and after each strategy's models' cutoff. One bar per strategy in each
group, in the strategy's colour, with its 95% bootstrap interval and its number of
problems."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from koderz.analysis.figures.style import NoFigure, done, new_figure, strategy_colors, styled

__all__ = ["plot_before_after", "plot_pass_rate_by_group"]

# (pass rate, interval low, interval high, problems) of a strategy in a group.
_Bar = tuple[float, float, float, int]


def _bars(ax: Axes, groups: Sequence[str], bars: Mapping[str, Mapping[str, _Bar]]) -> None:
    """Grouped bars: ``bars[strategy][group]``; a strategy absent from a group leaves a gap."""
    strategies = sorted(bars)
    colors = strategy_colors(strategies)
    width = 0.8 / max(len(strategies), 1)
    for i, strategy in enumerate(strategies):
        label: str | None = strategy  # once per strategy, in the legend
        for x, group in enumerate(groups):
            if group not in bars[strategy]:
                continue
            rate, lo, hi, n = bars[strategy][group]
            at = x - 0.4 + width * (i + 0.5)
            ax.bar(at, 100 * rate, width=width * 0.9, color=colors[strategy], label=label)
            label = None
            if math.isfinite(lo) and math.isfinite(hi):
                ax.errorbar(
                    at,
                    100 * rate,
                    yerr=[[max(100 * (rate - lo), 0)], [max(100 * (hi - rate), 0)]],
                    fmt="none",
                    ecolor="black",
                    capsize=3,
                    lw=1,
                )
            ax.annotate(f"n={n}", (at, 2), ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(np.arange(len(groups)), list(groups))
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_ylabel("pass rate (% of problems)")
    ax.legend(title="strategy", loc="upper left", bbox_to_anchor=(1, 1))


@styled
def plot_pass_rate_by_group(
    by: str | None, summaries: Mapping[str, pd.DataFrame]
) -> Figure | NoFigure:
    """Pass rate per group of problems and strategy, with 95% bootstrap intervals.

    Args:
        by: What the problems are grouped by (``GroupedAnalysis.by``); None: not grouped.
        summaries: Each group's ``Analysis.summary`` (``GroupedAnalysis.summaries()``).

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a"], "pass_rate": [0.5],
        ...     "pass_rate_ci95": [(0.2, 0.8)], "problems": [4]})
        >>> plot_pass_rate_by_group("difficulty", {"easy": s, "hard": s}).axes[0].get_xlabel()
        'difficulty'
        >>> plot_pass_rate_by_group(None, {})
        'Not split by group: set split_by in the notebook, or give koderz report --by KEY.'
    """
    if by is None or not summaries:
        return NoFigure(
            "Not split by group: set split_by in the notebook, or give koderz report --by KEY."
        )
    bars: dict[str, dict[str, _Bar]] = {}
    for group, summary in summaries.items():
        for r in summary.to_dict("records"):
            lo, hi = r["pass_rate_ci95"]
            bars.setdefault(str(r["strategy"]), {})[group] = (
                float(r["pass_rate"]),
                float(lo),
                float(hi),
                int(r["problems"]),
            )
    fig, ax = new_figure()
    _bars(ax, list(summaries), bars)
    ax.set_xlabel(by)
    ax.set_title(f"Pass rate by {by} (95% bootstrap CI)")
    return done(fig)


@styled
def plot_before_after(after_cutoff: pd.DataFrame) -> Figure | NoFigure:
    """Each strategy's pass rate on the problems released before its models' cutoff and on
    those released after it, with 95% bootstrap intervals; a strategy with a model of unknown
    cutoff is left out (the table beside says which).

    Args:
        after_cutoff: ``Analysis.after_cutoff``.

    Examples:
        >>> t = pd.DataFrame({"strategy": ["a"], "cutoff": ["2025-01-31"], "dated": [3],
        ...     "before_pass_rate": [1.0], "before_pass_rate_ci95": [(1.0, 1.0)],
        ...     "before_problems": [1], "after_pass_rate": [0.5],
        ...     "after_pass_rate_ci95": [(0.0, 1.0)], "after_problems": [2]})
        >>> plot_before_after(t).axes[0].get_title()
        "Before and after the models' cutoff (95% bootstrap CI)"
    """
    known = after_cutoff[after_cutoff["cutoff"].notna() & (after_cutoff["dated"] > 0)]
    if known.empty:
        why = (
            "no problem has a release date"
            if after_cutoff.empty or not after_cutoff["dated"].any()
            else "no strategy's models all have a known cutoff"
        )
        return NoFigure(f"Nothing to draw before and after the cutoffs: {why}.")
    sides = {"before": "released on or before its cutoff", "after": "released after it"}
    bars: dict[str, dict[str, _Bar]] = {}
    for r in known.to_dict("records"):
        for side, group in sides.items():
            if r[f"{side}_problems"]:
                lo, hi = r[f"{side}_pass_rate_ci95"]
                bars.setdefault(str(r["strategy"]), {})[group] = (
                    float(r[f"{side}_pass_rate"]),
                    float(lo),
                    float(hi),
                    int(r[f"{side}_problems"]),
                )
    if not bars:
        return NoFigure("Nothing to draw before and after the cutoffs: no problem counts.")
    fig, ax = new_figure()
    _bars(ax, list(sides.values()), bars)
    ax.set_xlabel("problems")
    ax.set_title("Before and after the models' cutoff (95% bootstrap CI)")
    return done(fig)
