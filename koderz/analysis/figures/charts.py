"""The charts of a summary: pass rate and cost per solved problem by strategy (bars), cost
against problems solved and pass rate by attempts allowed (lines), the attempts that solved
problems; and :func:`save_figures`, which writes any of the figures to files.

Every figure function returns a matplotlib ``Figure`` (so a notebook shows it and a script can
``fig.savefig("x.pdf")``), labels its axes with units, starts money and count axes at zero,
and colours tiers the same way everywhere (:data:`~koderz.analysis.figures.style.TIER_COLORS`,
the colour-blind-safe Okabe-Ito palette). Where there is nothing to draw it returns a
:class:`~koderz.analysis.figures.style.NoFigure`: a sentence saying why. Intervals are the 95%
bootstrap intervals of the analysis.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from koderz.analysis.figures.style import (
    TIER_COLORS,
    TIER_LABELS,
    USD,
    NoFigure,
    by_strategy,
    done,
    from_zero,
    new_figure,
    strategy_colors,
    styled,
)
from koderz.analysis.text.formats import usd
from koderz.models.registry import TIERS

__all__ = [
    "plot_attempts",
    "plot_cost_by_tier",
    "plot_cost_frontier",
    "plot_pass_at_iteration",
    "plot_pass_rate",
    "save_figures",
]

_NOTHING = "No finished experiments in the data, so there is nothing to draw."


@styled
def plot_pass_rate(summary: pd.DataFrame) -> Figure | NoFigure:
    """Pass rate by strategy, with 95% bootstrap intervals over problems.

    Args:
        summary: ``Analysis.summary`` (needs ``strategy``, ``pass_rate``, ``pass_rate_ci95``,
            ``problems``).

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a", "b"], "pass_rate": [0.5, 0.8],
        ...     "pass_rate_ci95": [(0.3, 0.7), (0.6, 0.9)], "problems": [10, 10]})
        >>> plot_pass_rate(s).axes[0].get_ylabel()
        'pass rate (% of problems)'
    """
    title = "Pass rate by strategy"
    if summary.empty:
        return NoFigure(_NOTHING)
    fig, ax = new_figure()
    names = summary["strategy"].tolist()
    rate = summary["pass_rate"].to_numpy(dtype=float) * 100
    lo = np.array([c[0] for c in summary["pass_rate_ci95"]], dtype=float) * 100
    hi = np.array([c[1] for c in summary["pass_rate_ci95"]], dtype=float) * 100
    colors = list(strategy_colors(names).values())
    ax.bar(names, rate, color=colors, width=0.6)
    ax.errorbar(
        names,
        rate,
        yerr=[np.maximum(rate - lo, 0), np.maximum(hi - rate, 0)],
        fmt="none",
        ecolor="black",
        capsize=4,
        lw=1,
    )
    for x, (r, n) in enumerate(zip(rate, summary["problems"], strict=True)):
        ax.annotate(f"{r:.0f}%\nn={n}", (x, 2), ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_ylabel("pass rate (% of problems)")
    ax.set_xlabel("strategy")
    ax.set_title(title + " (95% bootstrap CI)")
    return done(fig)


@styled
def plot_cost_by_tier(summary: pd.DataFrame) -> Figure | NoFigure:
    """Cost per solved problem by strategy, stacked by the tier that spent it.

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a"], "solved": [2], "cost_local": [0.0],
        ...     "cost_small_frontier": [0.0], "cost_frontier": [1.0]})
        >>> plot_cost_by_tier(s).axes[0].get_ylabel()
        'US$ per solved problem'
    """
    title = "Cost per solved problem, by tier"
    if summary.empty:
        return NoFigure(_NOTHING)
    if not (summary["solved"] > 0).any():
        return NoFigure("No strategy solved a problem, so there is no cost per solved problem.")
    fig, ax = new_figure()
    names = summary["strategy"].tolist()
    solved = summary["solved"].to_numpy(dtype=float)
    bottom = np.zeros(len(names))
    for tier in TIERS:
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(solved > 0, summary[f"cost_{tier}"].to_numpy(dtype=float) / solved, 0)
        ax.bar(names, per, bottom=bottom, color=TIER_COLORS[tier], label=TIER_LABELS[tier])
        bottom += per
    for x, (total, n) in enumerate(zip(bottom, solved, strict=True)):
        label = usd(total) if n else "none solved"
        ax.annotate(label, (x, total), ha="center", va="bottom", fontsize=8)
    ax.yaxis.set_major_formatter(USD)
    from_zero(ax)
    ax.set_ylabel("US$ per solved problem")
    ax.set_xlabel("strategy")
    ax.set_title(title)
    ax.legend(title="tier", loc="upper left", bbox_to_anchor=(1, 1))
    return done(fig)


@styled
def plot_cost_frontier(curve: pd.DataFrame) -> Figure | NoFigure:
    """Cumulative cost against problems solved, one line per strategy: the cost/quality
    frontier. Lower and further right is better.

    Args:
        curve: :func:`koderz.cost_curve` of the experiments.

    Examples:
        >>> c = pd.DataFrame({"strategy": "a", "cumulative_cost_usd": [1.0, 2.0],
        ...     "solved": [1.0, 1.0]})
        >>> plot_cost_frontier(c).axes[0].get_xlabel()
        'problems solved (cumulative)'
    """
    title = "Cost against problems solved"
    if curve.empty:
        return NoFigure(_NOTHING)
    if not (curve["solved"] > 0).any():
        return NoFigure("No strategy solved a problem, so cost against problems solved is empty.")
    fig, ax = new_figure()
    for strategy, g, color in by_strategy(curve):
        x = np.concatenate([[0.0], g["solved"].to_numpy(dtype=float)])
        y = np.concatenate([[0.0], g["cumulative_cost_usd"].to_numpy(dtype=float)])
        ax.step(x, y, where="post", color=color, label=strategy, lw=1.6)
        ax.plot(x[-1], y[-1], "o", color=color, ms=4)
    ax.yaxis.set_major_formatter(USD)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # problems come whole
    from_zero(ax)
    from_zero(ax, "x")
    ax.set_xlabel("problems solved (cumulative)")
    ax.set_ylabel("cumulative cost (US$)")
    ax.set_title(title + " (in run order)")
    ax.legend(title="strategy")
    return done(fig)


@styled
def plot_attempts(exps: pd.DataFrame) -> Figure | NoFigure:
    """How many attempts solved problems took: the share of each strategy's solved
    experiments per attempt number.

    Examples:
        >>> e = pd.DataFrame({"strategy": "a", "finished": True, "solved": [True, True],
        ...     "solved_at": [1, 3]})
        >>> plot_attempts(e).axes[0].get_xlabel()
        'attempt that solved the problem'
    """
    title = "Attempts to solve"
    won = exps[exps["finished"] & exps["solved"]] if len(exps) else exps
    if won.empty:
        return NoFigure(
            "No strategy solved a problem, so there is no attempt that solved one to count."
        )
    fig, ax = new_figure()
    at = pd.to_numeric(won["solved_at"], errors="coerce")
    table = pd.crosstab(won["strategy"], at, normalize="index") * 100
    names = table.index.tolist()
    colors = strategy_colors(names)
    width = 0.8 / len(names)
    for i, strategy in enumerate(names):
        xs = table.columns.to_numpy(dtype=float) + (i - (len(names) - 1) / 2) * width
        n = int((won["strategy"] == strategy).sum())
        label = f"{strategy} (n={n})"
        ax.bar(xs, table.loc[strategy].to_numpy(), width=width, color=colors[strategy], label=label)
    ax.set_xticks(table.columns.to_numpy(dtype=float))
    ax.set_xticklabels([str(int(c)) for c in table.columns])
    ax.yaxis.set_major_formatter(PercentFormatter())
    from_zero(ax)
    ax.set_xlabel("attempt that solved the problem")
    ax.set_ylabel("% of solved experiments")
    ax.set_title(title)
    ax.legend(title="strategy")
    return done(fig)


@styled
def plot_pass_at_iteration(curve: pd.DataFrame) -> Figure | NoFigure:
    """Pass rate within 1, 2, ... attempts, one line per strategy.

    Args:
        curve: ``Analysis.pass_at_iteration``.

    Examples:
        >>> c = pd.DataFrame({"strategy": "a", "iteration": [1, 2], "pass_rate": [0.4, 0.6]})
        >>> plot_pass_at_iteration(c).axes[0].get_ylabel()
        'solved within n attempts (%)'
    """
    title = "Pass rate by attempts allowed"
    if curve.empty:
        return NoFigure(_NOTHING)
    fig, ax = new_figure()
    for strategy, g, color in by_strategy(curve):
        ax.plot(g["iteration"], g["pass_rate"] * 100, marker="o", ms=4, color=color, label=strategy)
    ax.set_xticks(sorted(curve["iteration"].unique()))
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("attempts allowed (n)")
    ax.set_ylabel("solved within n attempts (%)")
    ax.set_title(title)
    # Outside the axes: the lines span the whole plot, so no corner is free.
    ax.legend(title="strategy", loc="upper left", bbox_to_anchor=(1, 1))
    return done(fig)


def save_figures(
    figures: Mapping[str, Figure | NoFigure],
    folder: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("pdf", "png"),
) -> list[Path]:
    """Save each figure as ``folder/NAME.pdf`` and ``.png`` (300 dpi); returns the paths.

    Examples:
        >>> import tempfile
        >>> c = pd.DataFrame({"strategy": "a", "iteration": [1], "pass_rate": [0.5]})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     [p.name for p in save_figures({"curve": plot_pass_at_iteration(c)}, d)]
        ['curve.pdf', 'curve.png']
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        if isinstance(fig, NoFigure):  # a sentence, not a figure: nothing to save
            continue
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            fig.savefig(path, dpi=300, bbox_inches="tight")
            paths.append(path)
    return paths
