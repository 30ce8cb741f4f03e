"""The figure that answers the question at a glance: the cost/quality plane, each strategy a
point with its intervals on both axes, the Pareto front through the strategies no other
beats, the oracle ceilings and the router ceiling.

It returns a matplotlib ``Figure``, or a :class:`~koderz.analysis.figures.style.NoFigure`
sentence saying why there is nothing to draw.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from koderz.analysis.figures.labels import place_labels
from koderz.analysis.figures.scales import CostScale, cost_scale, draw_cost_axis
from koderz.analysis.figures.style import (
    NoFigure,
    done,
    new_figure,
    strategy_colors,
    styled,
)
from koderz.analysis.stats.compare import pareto_front

__all__ = ["PlanePoint", "plane_points", "plot_cost_quality"]

_MARKER = 7.0  # the plane's markers, points across
_LABEL_WIDTH = 30  # characters per line of a point's models


@dataclass(frozen=True)
class PlanePoint:
    """A strategy on the cost/quality plane."""

    name: str
    """The strategy."""
    cost: float
    """Cost per problem, US$ (0 for a free strategy)."""
    cost_ci: tuple[float, float]
    """Its 95% interval."""
    rate: float
    """Pass rate, percent."""
    rate_ci: tuple[float, float]
    """Its 95% interval, percent."""
    label: str
    """What the point is labelled with."""
    ceiling: float | None = None
    """The oracle pass rate, percent (some attempt passed the hidden tests), drawn above the
    point of a strategy that chose its own answers; None for none."""
    oracle: bool = False
    """The strategy stopped on the hidden tests: its point is an upper bound."""


def plane_points(
    summary: pd.DataFrame, models: Mapping[str, str] | None = None
) -> list[PlanePoint]:
    """The strategies of ``Analysis.summary`` as points, labelled with their name and models.

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a"], "pass_rate": [0.5],
        ...     "pass_rate_ci95": [(0.3, 0.7)], "cost_per_problem": [0.01],
        ...     "cost_per_problem_ci95": [(0.008, 0.012)]})
        >>> p = plane_points(s, {"a": "qwen"})[0]
        >>> p.rate, p.rate_ci, p.label
        (50.0, (30.0, 70.0), 'a\\nqwen')
    """
    points = []
    for r in summary.to_dict("records"):
        name = str(r["strategy"])
        described = (models or {}).get(name)
        label = name + ("\n" + textwrap.fill(described, _LABEL_WIDTH) if described else "")
        cost_ci, rate_ci = r["cost_per_problem_ci95"], r["pass_rate_ci95"]
        stop = str(r.get("stop") or "")
        oracle = "oracle" in stop.split("+")
        ceiling = r.get("oracle_pass_rate")
        if oracle:
            label += "\n(stop oracle: upper bound)"
        points.append(
            PlanePoint(
                name=name,
                cost=float(r["cost_per_problem"]),
                cost_ci=(float(cost_ci[0]), float(cost_ci[1])),
                rate=float(r["pass_rate"]) * 100,
                rate_ci=(float(rate_ci[0]) * 100, float(rate_ci[1]) * 100),
                label=label,
                ceiling=float(ceiling) * 100
                if stop == "visible" and isinstance(ceiling, float) and ceiling == ceiling
                else None,
                oracle=oracle,
            )
        )
    return points


@styled
def plot_cost_quality(
    summary: pd.DataFrame,
    *,
    models: Mapping[str, str] | None = None,
    router: Mapping[str, Any] | None = None,
) -> Figure | NoFigure:
    """The cost/quality plane: each strategy a point, cost per problem (log scale) against
    pass rate, with 95% bootstrap intervals on both axes, and the Pareto front through the
    strategies no other beats on both. Up and to the left is better.

    Above the point of a strategy that chose its own answers (stop ``visible``), a dash marks
    its oracle ceiling (the pass rate had the hidden tests picked its answers); a strategy
    with the oracle stop is drawn hollow and labelled an upper bound; a star marks the router
    ceiling (a perfect per-problem router over the strategies).

    A strategy that cost nothing cannot sit on a log axis: it is drawn at a "$0" position
    set apart from the rest by a break in the axis (and no room is kept for one where no
    strategy is free). The labels sit where they cover no other point
    (:func:`koderz.analysis.figures.labels.place_labels`).

    Args:
        summary: ``Analysis.summary`` (``strategy, pass_rate, pass_rate_ci95,
            cost_per_problem, cost_per_problem_ci95``).
        models: Per strategy, the models it used, for its label (e.g. from
            :func:`koderz.analysis.text.methods.strategy_models`).
        router: ``Analysis.router_ceiling`` (``pass_rate``, ``cost_usd``), or None.

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a", "b"], "pass_rate": [0.5, 0.8],
        ...     "pass_rate_ci95": [(0.3, 0.7), (0.6, 0.9)], "cost_per_problem": [0.01, 0.2],
        ...     "cost_per_problem_ci95": [(0.008, 0.012), (0.1, 0.3)]})
        >>> plot_cost_quality(s).axes[0].get_xscale()
        'log'
    """
    if summary.empty:
        return NoFigure("No finished experiments, so there is no strategy to place.")
    points = plane_points(summary, models)
    routed = _router_point(router)
    costs = [c for p in points for c in (p.cost, *p.cost_ci)]
    costs += [routed[0]] if routed else []
    scale = cost_scale(costs, zero=any(c == 0 for c in costs))
    fig, ax = new_figure(7.2, 4.4)
    colors = strategy_colors([p.name for p in points])
    marks: list[tuple[float, float]] = []
    for p in points:
        _draw_point(ax, p, scale, colors[p.name])
        marks += _draw_ceiling(ax, p, scale, colors[p.name], first=not marks)
    if routed is not None:
        x = scale.place(routed[0])
        ax.plot(
            [x], [routed[1]], "*", ms=12, color="#333333", label="router ceiling", zorder=4,
            gid="router-ceiling",
        )  # fmt: skip
        marks.append((x, routed[1]))
    front = _draw_front(ax, points, scale)
    if scale.log:
        axis_label = "cost per problem (US$, log scale)"
    else:
        axis_label = r"cost per problem (US\$): every strategy cost \$0"  # \$: not TeX
    draw_cost_axis(ax, scale, label=axis_label)
    ax.set_ylim(0, 105)
    ax.set_yticks(range(0, 101, 20))
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_ylabel("pass rate (% of problems)")
    ax.set_title("Cost against pass rate (95% bootstrap CIs)")
    legend = ax.legend(loc="best", fontsize=8) if front or marks else None
    place_labels(
        ax,
        [(scale.place(p.cost), p.rate) for p in points],
        [p.label for p in points],
        marker_size=_MARKER,
        avoid=[legend] if legend else [],
        marks=marks,
    )
    return done(fig)


def _router_point(router: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """The router ceiling as (cost per problem, pass rate percent), when there is one: over
    two strategies or more (over one it is that strategy's own point)."""
    if not router or not router.get("problems") or len(router.get("strategies", ())) < 2:
        return None
    return float(router["cost_usd"]), float(router["pass_rate"]) * 100


def _draw_ceiling(
    ax: Any, p: PlanePoint, scale: CostScale, color: str, *, first: bool
) -> list[tuple[float, float]]:
    """A dash at the strategy's oracle ceiling, joined to its point by a dotted line (once in
    the legend); the mark's position, or none where it sits on the point."""
    if p.ceiling is None or p.ceiling <= p.rate:
        return []
    x = scale.place(p.cost)
    ax.plot([x, x], [p.rate, p.ceiling], ":", color=color, lw=1, zorder=2)
    ax.plot(
        [x],
        [p.ceiling],
        "_",
        ms=12,
        mew=2,
        color=color,
        zorder=3,
        label="oracle ceiling (hidden tests pick)" if first else None,
        gid="oracle-ceiling",
    )
    return [(x, p.ceiling)]


def _draw_point(ax: Any, p: PlanePoint, scale: CostScale, color: str) -> None:
    x = scale.place(p.cost)
    lo, hi = scale.place(p.cost_ci[0]), scale.place(p.cost_ci[1])
    ax.errorbar(
        x,
        p.rate,
        xerr=[[max(x - lo, 0)], [max(hi - x, 0)]],
        yerr=[[max(p.rate - p.rate_ci[0], 0)], [max(p.rate_ci[1] - p.rate, 0)]],
        fmt="o",
        ms=_MARKER,
        color=color,
        mfc="white" if p.oracle else color,  # hollow: an upper bound
        ecolor=color,
        elinewidth=1,
        capsize=3,
        clip_on=False,  # a point at 0% shows whole, over the axis
        zorder=3,
    )


def _draw_front(ax: Any, points: list[PlanePoint], scale: CostScale) -> bool:
    """The dashed Pareto front, where it joins two strategies or more."""
    front = pareto_front([p.cost for p in points], [p.rate for p in points])
    on = sorted((p for p, f in zip(points, front, strict=True) if f), key=lambda p: p.cost)
    if len(on) < 2:
        return False
    ax.plot(
        [scale.place(p.cost) for p in on],
        [p.rate for p in on],
        "--",
        color="#555555",
        lw=1,
        label="Pareto front",
    )
    return True
