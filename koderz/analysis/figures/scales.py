"""The cost axis of the cost/quality plane: dollars on a log scale, with a place for $0 only
when a strategy cost nothing.

Costs per problem run from fractions of a cent to dollars, hence the log scale. $0 has no
place on one, so a free strategy gets a "$0" position left of the rest, set apart by a break
mark on the axis; without one, no room is kept for it. The labelled ticks come from the 1-2-5
series (finer for a narrow range, whole decades for a wide one), all in the one money format
of :func:`koderz.analysis.text.formats.usd`; once drawn, ticks whose labels would touch are thinned
out, so the labels never overlap whatever the range, the font or the size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from koderz.analysis.figures.labels import box_overlaps, renderer, text_boxes
from koderz.analysis.text.formats import usd

__all__ = ["CostScale", "cost_scale", "draw_cost_axis"]

# Multiples of a power of ten to label, coarse to fine; the first with enough ticks is used.
_SERIES = (
    (1.0,),
    (1.0, 3.0),
    (1.0, 2.0, 5.0),
    (1.0, 2.0, 3.0, 5.0),
    (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0),
)
_MIN_TICKS = 3
_LABEL_GAP_PX = 6.0  # the least room between two tick labels


@dataclass(frozen=True)
class CostScale:
    """Where costs go on the axis."""

    lo: float
    """The axis' left end."""
    hi: float
    """The axis' right end."""
    ticks: tuple[float, ...]
    """The labelled positions, ``zero`` among them when there is one."""
    zero: float | None
    """Where $0 is drawn; None when no cost is $0 (no room is kept for it)."""
    log: bool = True
    """False when every cost is $0: a plain axis with the one tick."""
    low_end: float = 0.0
    """The lowest positive cost's side of the break, when there is a $0."""

    def place(self, cost: float) -> float:
        """Where ``cost`` is drawn: $0 at :attr:`zero` (or the left end, for an interval
        reaching $0 where no strategy cost nothing), anything else at itself.

        Examples:
            >>> cost_scale([0.01, 0.1], zero=False).place(0.02)
            0.02
            >>> s = cost_scale([0.0, 0.01], zero=True)
            >>> s.place(0.0) == s.zero
            True
        """
        if cost > 0 or not self.log:
            return cost
        return self.zero if self.zero is not None else self.lo


def cost_scale(costs: Iterable[float], *, zero: bool, max_ticks: int = 6) -> CostScale:
    """The axis for ``costs`` (points and interval ends), with a $0 position if ``zero``.

    Examples:
        >>> s = cost_scale([0.002, 0.004], zero=False)
        >>> s.zero is None and s.lo < 0.002 and s.hi > 0.004
        True
        >>> s.ticks
        (0.002, 0.003, 0.005)
        >>> cost_scale([0.0], zero=True).ticks
        (0.0,)
    """
    positive = sorted(c for c in costs if c > 0 and math.isfinite(c))
    if not positive:
        return CostScale(lo=-1.0, hi=1.0, ticks=(0.0,), zero=0.0, log=False)
    width = math.log10(positive[-1] / positive[0])
    margin = max(0.08 * width, 0.12)  # decades beyond the outermost costs
    left, right = positive[0] / 10**margin, positive[-1] * 10**margin
    ticks = _log_ticks(left, right, max_ticks)
    if not zero:
        return CostScale(lo=left, hi=right, ticks=tuple(ticks), zero=None)
    gap = max(0.12 * math.log10(right / left), 0.25)  # decades between $0 and the rest
    at = left / 10**gap
    return CostScale(lo=at / 10 ** (gap / 2), hi=right, ticks=(at, *ticks), zero=at, low_end=left)


def _log_ticks(left: float, right: float, max_ticks: int) -> list[float]:
    """Ticks from the coarsest series that gives at least three between ``left`` and
    ``right`` (whole decades thinned where even they are too many)."""
    first, last = math.floor(math.log10(left)), math.ceil(math.log10(right))
    chosen: list[float] = []
    for series in _SERIES:
        ticks = [
            float(f"{m:g}e{e}")
            for e in range(first, last + 1)
            for m in series
            if left <= float(f"{m:g}e{e}") <= right
        ]
        if len(ticks) > max_ticks:
            if not chosen:  # whole decades, too many: every n-th
                step = math.ceil(len(ticks) / max_ticks)
                chosen = ticks[::step]
            break
        chosen = ticks
        if len(ticks) >= _MIN_TICKS:
            break
    if len(chosen) < 2:  # narrower than any series: evenly spaced round values
        chosen = [float(t) for t in MaxNLocator(nbins=3).tick_values(left, right)]
        chosen = [t for t in chosen if left <= t <= right]
    return chosen


def draw_cost_axis(ax: Any, scale: CostScale, *, label: str) -> None:
    """Set the x axis to ``scale``: limits, money ticks, the $0 break mark, the label; then
    thin out ticks whose labels would touch."""
    if scale.log:
        ax.set_xscale("log")
    ax.set_xlim(scale.lo, scale.hi)
    ax.xaxis.set_major_locator(FixedLocator(list(scale.ticks)))
    zero = scale.zero
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: "$0" if zero is not None and math.isclose(v, zero) else usd(v))
    )
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(FixedLocator(_minor_ticks(scale)))
    if scale.zero is not None and scale.log:
        # The break between $0 and the lowest cost: the axis is not continuous there.
        split = math.sqrt(scale.zero * scale.low_end)
        ax.plot(
            [split],
            [0],
            marker="$//$",
            ms=9,
            color="#333333",
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            zorder=5,
        )
    ax.set_xlabel(label)
    _thin_ticks(ax, scale)


def _minor_ticks(scale: CostScale) -> list[float]:
    """Unlabelled ticks at 2..9 of each decade, on the positive side of any break."""
    if not scale.log:
        return []
    start = scale.low_end if scale.zero is not None else scale.lo
    first, last = math.floor(math.log10(start)), math.ceil(math.log10(scale.hi))
    return [
        m * 10.0**e
        for e in range(first, last + 1)
        for m in range(2, 10)
        if start <= m * 10.0**e <= scale.hi
    ]


def _thin_ticks(ax: Any, scale: CostScale) -> None:
    """Drop every other tick (never $0) until no two tick labels touch."""
    ticks = list(scale.ticks)
    while len(ticks) > 2:
        ax.figure.draw_without_rendering()
        boxes = text_boxes(ax.xaxis.get_ticklabels(), renderer(ax.figure))
        if not _any_touch(boxes):
            return
        kept = [t for t in ticks if t == scale.zero]
        rest = [t for t in ticks if t != scale.zero]
        ticks = sorted(kept + rest[::2])
        ax.xaxis.set_major_locator(FixedLocator(ticks))


def _any_touch(boxes: Sequence[Any]) -> bool:
    return any(
        box_overlaps(a, b, margin=_LABEL_GAP_PX)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
    )
