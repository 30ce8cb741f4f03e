"""The cost/quality plane reads at a glance: money tick labels in one format that never
overlap, point labels that cover no other point and no other label, and room for $0 only
when a strategy cost nothing. Every box is measured with the renderer, as the PNG is drawn."""

from __future__ import annotations

import math
import re
from itertools import combinations

import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

from koderz.analysis.figures.labels import box_overlaps, marker_boxes, renderer, text_boxes
from koderz.analysis.figures.plane import plot_cost_quality
from koderz.analysis.figures.scales import cost_scale
from koderz.analysis.figures.style import usd

MODELS = "qwen2.5-coder:7b, advised by claude-opus-4-5"
# Costs per problem: a range narrower than 10x (the minor ticks were labelled 2x10^-3 ...),
# one wider, one of many decades, and strategies crowded close together.
RANGES = {
    "narrow (2x)": [0.0021, 0.0035, 0.0042],
    "narrow (1.3x)": [0.0031, 0.0035, 0.004],
    "wide (900x)": [0.0004, 0.012, 0.35],
    "very wide (1e5x)": [0.00001, 0.002, 0.04, 1.2],
    "crowded": [0.01, 0.011, 0.012, 0.0125, 0.0126],
}


def summary(costs: list[float], *, free: bool) -> pd.DataFrame:
    costs = ([0.0] if free else []) + costs
    rates = [0.1 + 0.8 * i / max(len(costs) - 1, 1) for i in range(len(costs))]
    if len(costs) > 4:  # crowded: nearly the same pass rate too
        rates = [0.5 + 0.01 * (i % 3) for i in range(len(costs))]
    return pd.DataFrame(
        {
            "strategy": [f"strategy-{i}" for i in range(len(costs))],
            "pass_rate": rates,
            "pass_rate_ci95": [(max(r - 0.15, 0), min(r + 0.15, 1)) for r in rates],
            "cost_per_problem": costs,
            "cost_per_problem_ci95": [(c * 0.8, c * 1.25) for c in costs],
        }
    )


def drawn(costs: list[float], *, free: bool) -> tuple[Figure, pd.DataFrame]:
    s = summary(costs, free=free)
    fig = plot_cost_quality(s, models=dict.fromkeys(s["strategy"], MODELS))
    assert isinstance(fig, Figure)
    renderer(fig)
    fig.canvas.draw()
    return fig, s


def overlapping(boxes: list[Bbox]) -> list[tuple[int, int]]:
    return [(i, j) for (i, a), (j, b) in combinations(enumerate(boxes), 2) if box_overlaps(a, b)]


@pytest.mark.parametrize("free", [False, True], ids=["no $0 strategy", "a $0 strategy"])
@pytest.mark.parametrize("costs", list(RANGES.values()), ids=list(RANGES))
def test_no_two_labels_overlap(costs: list[float], free: bool) -> None:
    fig, s = drawn(costs, free=free)
    ax = fig.axes[0]
    measure = renderer(fig)
    ticks = text_boxes(ax.xaxis.get_ticklabels(), measure)
    assert len(ticks) >= 2 and overlapping(ticks) == []
    assert overlapping(text_boxes(ax.yaxis.get_ticklabels(), measure)) == []
    labels = [t for t in ax.texts if isinstance(t, Annotation)]
    assert len(labels) == len(s)
    boxes = text_boxes(labels, measure)
    assert overlapping(boxes) == []
    # No label covers another strategy's point.
    anchors = [label.xy for label in labels]
    markers = marker_boxes(ax, anchors, 7.0)
    for i, box in enumerate(boxes):
        covered = [j for j, m in enumerate(markers) if j != i and box_overlaps(box, m)]
        assert covered == [], f"{labels[i].get_text()!r} covers {covered}"
    # ... nor sits outside the axes, nor on a tick label.
    inside = ax.get_window_extent(measure)
    assert all(inside.x0 <= b.x0 and b.x1 <= inside.x1 for b in boxes)
    assert all(not box_overlaps(b, t) for b in boxes for t in ticks)


@pytest.mark.parametrize("costs", list(RANGES.values()), ids=list(RANGES))
def test_cost_ticks_are_money_in_one_format(costs: list[float]) -> None:
    fig, _ = drawn(costs, free=True)
    shown = [t.get_text() for t in fig.axes[0].xaxis.get_ticklabels() if t.get_text()]
    assert shown[0] == "$0"
    for text in shown:  # no 2x10^-3, no $0.0500
        assert re.fullmatch(r"\$(0|0\.\d*[1-9]\d?|0\.\d0|[1-9][\d,]*(\.\d\d)?)", text), text
    minor = [t.get_text() for t in fig.axes[0].xaxis.get_minorticklabels()]
    assert not any(minor)


@pytest.mark.parametrize("costs", list(RANGES.values()), ids=list(RANGES))
def test_room_for_zero_only_when_a_strategy_is_free(costs: list[float]) -> None:
    fig, _ = drawn(costs, free=False)
    ax = fig.axes[0]
    left = ax.get_xlim()[0]
    lowest = min(costs) * 0.8  # the lowest interval end
    assert lowest / left < 10**0.5  # the axis starts just left of the lowest cost
    assert "$0" not in [t.get_text() for t in ax.xaxis.get_ticklabels()]
    fig, _ = drawn(costs, free=True)
    ax = fig.axes[0]
    zero = [t for t in ax.xaxis.get_ticklabels() if t.get_text() == "$0"]
    assert len(zero) == 1 and ax.get_xlim()[0] < zero[0].get_position()[0] < lowest


def test_every_strategy_free_is_one_tick_at_zero() -> None:
    s = summary([], free=True)
    fig = plot_cost_quality(s)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear"
    assert [t.get_text() for t in ax.xaxis.get_ticklabels() if t.get_text()] == ["$0"]
    assert ax.get_xlabel() == r"cost per problem (US\$): every strategy cost \$0"


@pytest.mark.parametrize(
    ("lo", "hi"), [(0.002, 0.004), (0.0031, 0.0033), (0.001, 0.1), (1e-6, 10.0)]
)
def test_cost_scale_ticks_stay_few_and_inside(lo: float, hi: float) -> None:
    scale = cost_scale([lo, hi], zero=False)
    assert 2 <= len(scale.ticks) <= 6
    assert all(scale.lo <= t <= scale.hi for t in scale.ticks)
    assert scale.lo < lo and scale.hi > hi
    labels = [usd(t) for t in scale.ticks]
    assert len(set(labels)) == len(labels)  # no two ticks read the same
    assert math.isclose(scale.place(lo), lo)


def test_over_one_strategy_the_plane_draws_no_router_star() -> None:
    # A router over one strategy is that strategy: its star would sit on the point.
    s = summary([0.002], free=False)
    router = {"problems": 10, "strategies": list(s["strategy"]), "pass_rate": 0.4,
              "cost_usd": 0.002}  # fmt: skip
    fig = plot_cost_quality(s, models=dict.fromkeys(s["strategy"], MODELS), router=router)
    ax = fig.axes[0]
    assert not [line for line in ax.lines if line.get_gid() == "router-ceiling"]
    assert ax.get_legend() is None  # nothing else to explain on this plane


def test_the_plane_marks_ceilings_and_the_router_and_labels_cover_none() -> None:
    # A strategy that chose its own answers (visible) with an oracle ceiling above it, one
    # that stopped on the hidden tests (oracle), and the router ceiling.
    s = summary([0.002, 0.01, 0.04], free=False).assign(
        stop=["visible", "visible", "oracle"], oracle_pass_rate=[0.45, 0.5, 0.9]
    )
    fig = plot_cost_quality(
        s, models=dict.fromkeys(s["strategy"], MODELS), router={"problems": 10,
        "strategies": list(s["strategy"][:2]), "pass_rate": 0.95, "cost_usd": 0.005},
    )  # fmt: skip
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "oracle ceiling (hidden tests pick)" in legend and "router ceiling" in legend
    labels = [t for t in ax.texts if isinstance(t, Annotation)]
    assert sum("(stop oracle: upper bound)" in t.get_text() for t in labels) == 1
    # The first strategy's ceiling (45% over 10%) is drawn; the second's (50%) equals its
    # rate and is not.
    ceilings = [line for line in ax.lines if line.get_gid() == "oracle-ceiling"]
    assert [round(line.get_ydata()[0]) for line in ceilings] == [45]
    # No label covers a ceiling or the router's star.
    measure = renderer(fig)
    marks = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ceilings]
    marks += [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines
              if line.get_gid() == "router-ceiling"]  # fmt: skip
    assert len(marks) == 2
    boxes = text_boxes(labels, measure)
    for box in boxes:
        assert not any(box_overlaps(box, m) for m in marker_boxes(ax, marks, 7.0))
