"""What every figure shares: the house style, one colour per tier and per strategy, one money
format on every axis (:data:`USD`, the text's :func:`~koderz.analysis.text.formats.usd`),
money axes that start at zero, and :class:`NoFigure`, the sentence that stands where a figure
would have nothing to draw."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from koderz.analysis.text.formats import usd

__all__ = [
    "STYLE",
    "TIER_COLORS",
    "TIER_LABELS",
    "USD",
    "NoFigure",
    "by_strategy",
    "done",
    "from_zero",
    "new_figure",
    "strategy_colors",
    "styled",
]

TIER_COLORS = {"local": "#009E73", "small_frontier": "#E69F00", "frontier": "#0072B2"}
"""One colour per tier, in every figure: green (local), orange (small frontier), blue."""

TIER_LABELS = {"local": "local", "small_frontier": "small frontier", "frontier": "frontier"}

STRATEGY_PALETTE = ("#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999")
STYLE: dict[str, Any] = {
    "figure.dpi": 110,
    "savefig.dpi": 300,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


USD = FuncFormatter(lambda v, _: usd(v))
"""Tick labels in :func:`~koderz.analysis.text.formats.usd`'s format."""


def strategy_colors(strategies: Sequence[str]) -> dict[str, str]:
    """A fixed colour per strategy, in the order given (sorted names give stable colours).

    Examples:
        >>> strategy_colors(["a", "b"])
        {'a': '#CC79A7', 'b': '#56B4E9'}
    """
    return {s: STRATEGY_PALETTE[i % len(STRATEGY_PALETTE)] for i, s in enumerate(strategies)}


_F = TypeVar("_F", bound=Callable[..., Any])


def styled(draw: _F) -> _F:
    """Draw the figure under the house style, leaving the caller's rcParams alone."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plt.rc_context(STYLE):  # type: ignore[arg-type]
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(width: float = 6.4, height: float = 3.6) -> tuple[Figure, Any]:
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def by_strategy(curve: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame, str]]:
    """Each strategy's rows of a line plot's table with its colour, strategies sorted."""
    colors = strategy_colors(sorted(curve["strategy"].unique()))
    for strategy, g in curve.groupby("strategy", sort=True):
        yield str(strategy), g, colors[str(strategy)]


def done(fig: Figure) -> Figure:
    # Closed so pyplot does not show it a second time; Jupyter still displays the return value.
    plt.close(fig)
    return fig


def from_zero(ax: Any, axis: str = "y") -> None:
    """Start a money or count axis at 0 (never a negative dollar or count), keeping its top;
    an axis with nothing above 0 runs to 1."""
    get, set_ = (ax.get_ylim, ax.set_ylim) if axis == "y" else (ax.get_xlim, ax.set_xlim)
    top = get()[1]
    set_(0, top if top > 0 else 1)


class NoFigure(str):
    """The sentence shown instead of a figure that would be empty, saying why.

    Jupyter (and so a rendered report) shows it as a paragraph;
    :func:`~koderz.analysis.figures.charts.save_figures` skips it.

    Examples:
        >>> NoFigure("No strategy solved a problem.")._repr_html_()
        '<p><em>No strategy solved a problem.</em></p>'
    """

    def _repr_html_(self) -> str:
        import html

        return f"<p><em>{html.escape(str(self))}</em></p>"
