"""What the attempts show, drawn: which problems each strategy solved, at which attempt and by
which tier (the problems x strategies grid), and the test cases passed by attempt (partial
credit), from the tables of :mod:`koderz.analysis.stats.attempts`.

Each returns a matplotlib ``Figure``, or a :class:`~koderz.analysis.figures.style.NoFigure`
sentence saying why there is nothing to draw.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from koderz.analysis.figures.style import (
    TIER_COLORS,
    TIER_LABELS,
    NoFigure,
    by_strategy,
    done,
    new_figure,
    styled,
)
from koderz.models.registry import TIERS

__all__ = ["plot_solve_grid", "plot_tests_by_attempt"]

_FAILED = "#D9D9D9"
_GRID_ROWS = 60  # more problems than this: only those where the strategies differ are drawn


def _grid_codes(grid: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The grid as colour codes (0 failed, 1.. a tier) and cell labels, problems x strategies."""
    codes = grid["tier"].map({t: i + 1 for i, t in enumerate(TIERS)}).fillna(0)
    codes = codes.where(grid["c"] > 0, 0)
    label = np.where(
        grid["n"] > 1,
        grid["c"].astype(str) + "/" + grid["n"].astype(str),
        np.where(grid["c"] > 0, grid["solved_at"].astype(str), "x"),
    )
    frame = grid.assign(code=codes.to_numpy(dtype=float), label=label)
    wide = frame.pivot(index="problem_id", columns="strategy", values="code")
    wide = wide.loc[sorted(wide.index, key=_natural)]  # HumanEval/2 before HumanEval/10
    text = frame.pivot(index="problem_id", columns="strategy", values="label")
    return wide, text.reindex_like(wide).fillna("")


def _natural(name: str) -> list[Any]:
    """A sort key that orders the numbers in a name by value.

    Examples:
        >>> sorted(["HumanEval/10", "HumanEval/2"], key=_natural)
        ['HumanEval/2', 'HumanEval/10']
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(name))]


@styled
def plot_solve_grid(grid: pd.DataFrame) -> Figure | NoFigure:
    """Which problems need the frontier: problems x strategies, each cell coloured by the
    tier of the model whose code first passed (grey: failed) and labelled with the attempt
    that solved it (``x``: failed; ``c/n`` when a problem was run several times).

    With more than 60 problems only those where the strategies' outcomes differ are drawn,
    and of those at most 60: the ones most strategies failed.

    Args:
        grid: :func:`koderz.analysis.stats.attempts.solve_grid` of the experiments.

    Examples:
        >>> g = pd.DataFrame({"problem_id": ["p", "p"], "strategy": ["a", "b"], "n": 1,
        ...     "c": [1, 0], "solved_at": [2, None], "tier": ["local", ""]})
        >>> plot_solve_grid(g).axes[0].get_xlabel()
        'strategy'
    """
    import seaborn as sns

    if grid.empty:
        return NoFigure("No finished experiments, so there is no problem to show.")
    wide, text = _grid_codes(grid)
    title = "Problems solved: at which attempt, by which tier"
    if len(wide) > _GRID_ROWS:
        differ = wide.nunique(axis=1) > 1
        if not differ.any():
            return NoFigure(
                f"Every strategy had the same outcome on each of the {len(wide)} problems."
            )
        wide, text = wide[differ], text[differ]
        title = f"The {len(wide)} problems where the strategies differ"
        if len(wide) > _GRID_ROWS:  # the hardest: where the most strategies failed
            hardest = (wide == 0).sum(axis=1).sort_values(ascending=False, kind="stable")
            keep = sorted(hardest.index[:_GRID_ROWS])
            wide, text = wide.loc[keep], text.loc[keep]
            title = (
                f"The {_GRID_ROWS} problems most strategies failed (of {differ.sum()} that differ)"
            )
    # A column as wide as its strategy's label needs (names may carry their feedback level).
    longest = [max(map(len, str(c).splitlines()), default=0) for c in wide.columns]
    width = 1.6 + sum(max(1.3, 0.09 * n) for n in longest)
    fig, ax = new_figure(width, 1.6 + 0.22 * len(wide))
    cmap = ListedColormap([_FAILED, *(TIER_COLORS[t] for t in TIERS)])
    sns.heatmap(
        wide,
        ax=ax,
        cmap=cmap,
        vmin=-0.5,
        vmax=len(TIERS) + 0.5,
        cbar=False,
        annot=text.to_numpy(),
        fmt="",
        annot_kws={"fontsize": 7},
        linewidths=0.5,
        linecolor="white",
    )
    handles = [Patch(color=_FAILED, label="failed")]
    handles += [Patch(color=TIER_COLORS[t], label=f"solved by {TIER_LABELS[t]}") for t in TIERS]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1, 1), fontsize=8)
    ax.set_xlabel("strategy")
    ax.set_xticks(ax.get_xticks(), ax.get_xticklabels(), rotation=20, ha="right")
    ax.set_ylabel("problem")
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=7)
    return done(fig)


@styled
def plot_tests_by_attempt(curve: pd.DataFrame) -> Figure | NoFigure:
    """Partial credit: the share of test cases passed after n attempts, one line per strategy,
    so a run that solves nothing still shows whether its worker improves.

    Args:
        curve: :func:`koderz.analysis.stats.attempts.tests_by_attempt` of the steps.

    Examples:
        >>> c = pd.DataFrame({"strategy": "a", "iteration": [1, 2],
        ...     "tests_passed_share": [0.2, 0.5], "experiments": 3})
        >>> plot_tests_by_attempt(c).axes[0].get_ylabel()
        'test cases passed (%)'
    """
    if curve.empty:
        return NoFigure("No attempt was judged against test cases, so there is no partial credit.")
    fig, ax = new_figure()
    for strategy, g, color in by_strategy(curve):
        ax.plot(
            g["iteration"],
            g["tests_passed_share"] * 100,
            marker="o",
            ms=4,
            color=color,
            label=strategy,
        )
    ax.set_xticks(sorted(int(i) for i in curve["iteration"].unique()))
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("attempts made (n)")
    ax.set_ylabel("test cases passed (%)")
    ax.set_title("Test cases passed by the latest attempt")
    ax.legend(title="strategy", loc="upper left", bbox_to_anchor=(1, 1))
    return done(fig)
