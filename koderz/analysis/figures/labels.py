"""Labels beside the points of a figure, placed where they cover nothing: no other point, no
other label, not the legend, and inside the axes.

Any list of points can be labelled (strategies on the cost/quality plane today; more marks
tomorrow): :func:`place_labels` measures each candidate position with the renderer, as the
figure will be drawn, and takes the first that is free, nearest first. Positions are offsets
in points from the anchor, so they hold at any dpi the figure is saved at.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

__all__ = ["box_overlaps", "marker_boxes", "place_labels", "renderer", "text_boxes"]

# Directions to try, nearest first: right, left, above, below, then the diagonals.
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
_RINGS = (6.0, 16.0, 30.0, 48.0, 72.0)  # offsets in points; past the first, a line leads back
_ALIGN = {-1: "right", 0: "center", 1: "left"}
_VALIGN = {-1: "top", 0: "center", 1: "bottom"}


def box_overlaps(a: Bbox, b: Bbox, *, margin: float = 0.0) -> bool:
    """Whether two boxes (display pixels) share area, ``margin`` pixels apart counting as touching.

    Examples:
        >>> box_overlaps(Bbox.from_extents(0, 0, 10, 10), Bbox.from_extents(5, 5, 20, 20))
        True
        >>> box_overlaps(Bbox.from_extents(0, 0, 10, 10), Bbox.from_extents(10, 0, 20, 10))
        False
    """
    across = a.x0 < b.x1 + margin and b.x0 < a.x1 + margin
    return bool(across and a.y0 < b.y1 + margin and b.y0 < a.y1 + margin)


def renderer(fig: Figure) -> Any:
    """A renderer that measures ``fig`` as it will be drawn, whatever the backend (a closed
    figure's canvas has none of its own: it gets Agg's, which measures as the PNGs are drawn)."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)  # becomes fig.canvas
    return fig.canvas.get_renderer()  # type: ignore[attr-defined]


def text_boxes(texts: Sequence[Text], measure: Any) -> list[Bbox]:
    """The drawn boxes (display pixels) of the visible, non-empty texts among ``texts``: of
    the text alone, without an annotation's leader line."""
    return [_text_box(t, measure) for t in texts if t.get_visible() and t.get_text().strip()]


def marker_boxes(ax: Any, anchors: Sequence[tuple[float, float]], size: float) -> list[Bbox]:
    """The boxes (display pixels) of markers ``size`` points across at ``anchors`` (data)."""
    half = size * ax.figure.dpi / 72 / 2 + 1
    boxes = []
    for x, y in anchors:
        px, py = ax.transData.transform((x, y))
        boxes.append(Bbox.from_extents(px - half, py - half, px + half, py + half))
    return boxes


def place_labels(
    ax: Any,
    anchors: Sequence[tuple[float, float]],
    texts: Sequence[str],
    *,
    marker_size: float = 7.0,
    avoid: Sequence[Any] = (),
    marks: Sequence[tuple[float, float]] = (),
    fontsize: float = 8.0,
) -> list[Annotation]:
    """Label each anchor (data coordinates) with its text where the label covers no marker,
    no label placed before it and nothing in ``avoid`` (display boxes: the legend ...), and
    stays inside the axes. Where no position is free, the one that covers least is taken.

    Call it once the figure's limits, ticks and legend are set: it draws the figure (without
    rendering) to measure. The labels take no part in the layout.

    Args:
        ax: The axes.
        anchors: The points, in data coordinates.
        texts: One label per point.
        marker_size: The markers' size in points, the area a label must leave free.
        avoid: Further artists (the legend ...) that no label may cover.
        marks: Further points (data coordinates) with a marker of their own but no label
            (a ceiling above a strategy's point ...): no label covers them either.
        fontsize: The labels' size in points.

    Examples:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots()
        >>> _ = ax.plot([1, 2], [1, 1], "o")
        >>> labels = place_labels(ax, [(1, 1), (2, 1)], ["one", "two"])
        >>> [label.get_text() for label in labels]
        ['one', 'two']
        >>> plt.close(fig)
    """
    fig: Figure = ax.figure
    fig.draw_without_rendering()  # the final layout, so that the boxes are where they will be
    measure = renderer(fig)
    inside = ax.get_window_extent(measure)
    markers = marker_boxes(ax, anchors, marker_size)
    taken: list[Bbox] = [artist.get_window_extent(measure) for artist in avoid]
    taken += marker_boxes(ax, marks, marker_size)
    placed = []
    for i, (anchor, text) in enumerate(zip(anchors, texts, strict=True)):
        others = [m for j, m in enumerate(markers) if j != i]
        best: tuple[float, Annotation] | None = None
        for ring, (dx, dy) in itertools.product(_RINGS, _DIRECTIONS):
            label = _label(ax, anchor, text, dx * ring, dy * ring, fontsize, ring > _RINGS[0])
            box = _text_box(label, measure)
            cost = _covered(box, [*others, *taken]) + _outside(box, inside)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, label)
            else:
                label.remove()
            if cost == 0:
                break
        assert best is not None
        label = best[1]
        taken.append(_text_box(label, measure))
        placed.append(label)
    return placed


def _label(
    ax: Any,
    anchor: tuple[float, float],
    text: str,
    dx: float,
    dy: float,
    fontsize: float,
    lead: bool,
) -> Annotation:
    sx = (dx > 0) - (dx < 0)
    sy = (dy > 0) - (dy < 0)
    label: Annotation = ax.annotate(
        text,
        anchor,
        xytext=(dx, dy),
        textcoords="offset points",
        ha=_ALIGN[sx],
        va=_VALIGN[sy],
        fontsize=fontsize,
        annotation_clip=False,
        # Lines it sits on (intervals, the front) show through faintly, not across the words.
        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        arrowprops={"arrowstyle": "-", "color": "#888888", "lw": 0.6} if lead else None,
    )
    label.set_in_layout(False)
    return label


def _text_box(text: Text, measure: Any) -> Bbox:
    """The box of a text alone (an annotation's own box takes in its leader line)."""
    if isinstance(text, Annotation):
        text.update_positions(measure)  # where the offset puts it, before it is drawn
    return Text.get_window_extent(text, measure)


def _covered(box: Bbox, obstacles: Sequence[Bbox]) -> float:
    """The area of ``box`` that the obstacles cover (pixels squared, overlaps counted each)."""
    total = 0.0
    for other in obstacles:
        w = min(box.x1, other.x1) - max(box.x0, other.x0)
        h = min(box.y1, other.y1) - max(box.y0, other.y0)
        if w > 0 and h > 0:
            total += w * h
    return total


def _outside(box: Bbox, inside: Bbox) -> float:
    """The area of ``box`` that lies outside ``inside``."""
    w = min(box.x1, inside.x1) - max(box.x0, inside.x0)
    h = min(box.y1, inside.y1) - max(box.y0, inside.y0)
    return float(box.width * box.height - max(w, 0) * max(h, 0))
