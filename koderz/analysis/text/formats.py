"""The one money format of every label, table and axis: :func:`usd`. Plain Python, so the
tables and the text use it without importing matplotlib; the figures' axes format their
ticks with it too (:data:`koderz.analysis.figures.style.USD`)."""

from __future__ import annotations

import math

__all__ = ["usd"]


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
