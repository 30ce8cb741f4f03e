"""What every figure shares: the house style, one colour per tier and per strategy, one money
format (:func:`usd`) on every axis, money axes that start at zero, and :class:`NoFigure`, the
sentence that stands where a figure would have nothing to draw."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

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
    "usd",
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


def usd(value: float) -> str:
    """A dollar amount in the one money format of every axis and figure label: ``$0``; cents
    from a cent up (more digits only where the value has them, up to three significant);
    below a cent, the digits it takes (up to three significant); whole dollars from $100.

    Examples:
        >>> [usd(v) for v in (0, 0.002, 0.0025, 0.01, 0.015, 0.05, 0.1, 0.01234)]
        ['$0', '$0.002', '$0.0025', '$0.01', '$0.015', '$0.05', '$0.10', '$0.0123']
        >>> usd(1.5), usd(1234)
        ('$1.50', '$1,234')
        >>> usd(0.30000000000000004), usd(-0.05)
        ('$0.30', '-$0.05')
    """
    sign, v = ("-" if value < 0 else ""), abs(float(value))
    if v == 0 or not math.isfinite(v):
        return "$0" if v == 0 else f"{sign}${v}"
    if v >= 100:
        return f"{sign}${v:,.0f}"
    magnitude = math.floor(math.log10(v))
    digits = max(2, -magnitude)  # two decimals, or down to the first significant digit
    most = max(digits, 2 - magnitude)  # three significant digits
    while digits < most and abs(round(v, digits) - v) > 1e-9 * v:
        digits += 1
    return f"{sign}${v:,.{digits}f}"


USD = FuncFormatter(lambda v, _: usd(v))
"""Tick labels in :func:`usd`'s format."""


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

    Jupyter (and so a rendered report) shows it as a paragraph; :func:`save_figures` skips it.

    Examples:
        >>> NoFigure("No strategy solved a problem.")._repr_html_()
        '<p><em>No strategy solved a problem.</em></p>'
    """

    def _repr_html_(self) -> str:
        import html

        return f"<p><em>{html.escape(str(self))}</em></p>"
