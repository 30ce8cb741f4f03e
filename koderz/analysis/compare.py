"""Comparisons between strategies that are tested, not just shown: the exact McNemar test on
the problems two strategies both ran, the Pareto front of the cost/quality plane, and which
strategy is the measured baseline when none is named.

Pure functions of plain numbers (the McNemar test and the front need no pandas); the
baseline choice reads the :func:`~koderz.analysis.metrics.experiments` table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "AUTO",
    "choose_baseline",
    "frontier_only_strategies",
    "mcnemar_exact",
    "pareto_front",
]

AUTO = "auto"
"""``baseline=AUTO``: the strategy whose model calls are all frontier tier, if there is one."""

_OFF = ("none", "")


def mcnemar_exact(better: int, worse: int) -> float:
    """Two-sided exact McNemar test: the p-value of ``better`` against ``worse`` discordant
    pairs under "either strategy is as likely to win a discordant problem".

    ``better`` counts the problems only the strategy solved, ``worse`` those only the baseline
    solved; problems both or neither solved say nothing about the difference and are left
    out. The p-value is the two-sided binomial test of ``min(better, worse)`` successes in
    ``better + worse`` trials at 1/2: twice the smaller tail, at most 1.

    Examples:
        1 against 5 discordant problems: P(X <= 1) for X ~ Bin(6, 1/2) is (1 + 6) / 64, so
        p = 14 / 64.

        >>> mcnemar_exact(1, 5)
        0.21875
        >>> mcnemar_exact(0, 0)  # no discordant problem: no evidence of a difference
        1.0
    """
    if better < 0 or worse < 0:
        raise ValueError(f"mcnemar_exact needs counts >= 0 (got {better}, {worse})")
    n, k = better + worse, min(better, worse)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return float(min(1.0, 2 * tail))


def pareto_front(costs: Sequence[float], rates: Sequence[float]) -> list[bool]:
    """Which points of the cost/quality plane no other point beats: a point is on the front
    unless another costs no more *and* passes no less, and is better in one of the two.

    NaN points (a strategy with no finished experiment) are never on the front.

    Examples:
        Costs and pass rates of four strategies; (2.0, 0.5) is beaten by (1.0, 0.6):

        >>> pareto_front([1.0, 2.0, 4.0, 0.0], [0.6, 0.5, 0.9, 0.1])
        [True, False, True, True]
    """
    points = list(zip(costs, rates, strict=True))

    def beats(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return a[0] <= b[0] and a[1] >= b[1] and (a[0] < b[0] or a[1] > b[1])

    return [
        not any(math.isnan(v) for v in p) and not any(beats(q, p) for q in points if q != p)
        for p in points
    ]


def frontier_only_strategies(exps: Any) -> list[str]:
    """The strategies whose every model call was frontier tier (sorted), from the
    :func:`~koderz.analysis.metrics.experiments` table of finished experiments."""
    done = exps[exps["finished"]]
    sums = done.groupby("strategy", sort=True)[["calls", "calls_frontier"]].sum()
    only = sums[(sums["calls"] > 0) & (sums["calls_frontier"] == sums["calls"])]
    return [str(s) for s in only.index]


def choose_baseline(baseline: str | None, exps: Any) -> tuple[str | None, str]:
    """The measured baseline and why, in words for the report.

    ``baseline`` is a strategy's name (taken as given), ``None`` or ``"none"`` (no baseline),
    or :data:`AUTO`: the strategy whose model calls are all frontier tier; of several, the
    one that ran the most problems (then the first by name).

    Examples:
        >>> import pandas as pd
        >>> exps = pd.DataFrame({"strategy": ["cheap", "opus"], "finished": True,
        ...     "problem_id": "p", "calls": [3, 2], "calls_frontier": [1, 2]})
        >>> choose_baseline("auto", exps)
        ('opus', 'opus is the measured baseline: every one of its model calls is frontier tier.')
        >>> choose_baseline("none", exps)
        (None, 'No measured baseline: turned off (--baseline none).')
    """
    if baseline is None or baseline.lower() in _OFF:
        return None, "No measured baseline: turned off (--baseline none)."
    if baseline != AUTO:
        return baseline, f"{baseline} is the measured baseline, as asked (--baseline)."
    candidates = frontier_only_strategies(exps)
    if not candidates:
        return None, (
            "No measured baseline: no strategy made only frontier-tier calls "
            "(name one with --baseline STRATEGY)."
        )
    done = exps[exps["finished"]]
    problems = done.groupby("strategy")["problem_id"].nunique()
    chosen = min(candidates, key=lambda s: (-int(problems.get(s, 0)), s))
    why = f"{chosen} is the measured baseline: every one of its model calls is frontier tier."
    if len(candidates) > 1:
        others = ", ".join(c for c in candidates if c != chosen)
        why += f" ({others} also is; {chosen} ran the most problems.)"
    return chosen, why
