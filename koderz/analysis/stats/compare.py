"""Comparisons between strategies that are tested, not just shown: the difference in pass
rate on the problems two strategies both ran, with an interval and a test that agree; the
Pareto front of the cost/quality plane; and which strategy is the measured baseline when none
is named.

Pure functions of plain numbers (the statistics and the front need no pandas, nor scipy);
the baseline choice reads the :func:`~koderz.analysis.stats.metrics.experiments` table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

__all__ = [
    "AUTO",
    "PAIRED_T",
    "SCORE",
    "PairedDifference",
    "choose_baseline",
    "frontier_only_strategies",
    "mcnemar_p",
    "paired_difference",
    "paired_t",
    "pareto_front",
    "tango_interval",
    "tango_score",
]

AUTO = "auto"
"""``baseline=AUTO``: the strategy whose model calls are all frontier tier, if there is one."""

_OFF = ("none", "")


@dataclass(frozen=True)
class PairedDifference:
    """The difference in pass rate between two strategies on the problems both ran, with an
    interval and a test that agree: the interval leaves out 0 exactly when p < 0.05."""

    diff: float
    """Strategy minus baseline, as a share (0.1 is ten points)."""
    ci95: tuple[float, float]
    """95% interval of ``diff``."""
    p: float
    """Two-sided p-value of "no difference"."""
    method: str
    """:data:`SCORE` (one run per problem) or :data:`PAIRED_T` (several runs)."""


SCORE = "Tango score interval, McNemar test"
"""One run of each problem by each strategy: Tango's (1998) asymptotic score interval for a
paired difference of proportions, with the McNemar test it inverts (the score test, no
continuity correction): both rest on the same statistic, so they cannot disagree. Fagerland,
Lydersen and Laake (Stat Med 2014) recommend both for paired binomial data."""
PAIRED_T = "paired t interval and test"
"""Several runs of a problem: the pass shares c/n are no longer yes/no, and their paired
differences are compared with the t interval and the t test on the same statistic."""

_Z95 = NormalDist().inv_cdf(0.975)


def paired_difference(rates: Iterable[float], baseline: Iterable[float]) -> PairedDifference:
    """The pass-rate difference of two strategies over the same problems (one pass share per
    problem each, in the same order), with its 95% interval and test.

    With every share 0 or 1 (one run per problem) the pairs are yes/no and the method is
    :data:`SCORE`; otherwise :data:`PAIRED_T`.

    Examples:
        4 problems only the baseline solved, none only the strategy did, 10 problems: the
        McNemar statistic is (0 - 4) / sqrt(4) = -2, so p = 0.046 and the interval stops short
        of 0.

        >>> d = paired_difference([0] * 4 + [1] * 2 + [0] * 4, [1] * 4 + [1] * 2 + [0] * 4)
        >>> round(d.diff, 2), round(d.p, 3), [round(x, 3) for x in d.ci95], d.method == SCORE
        (-0.4, 0.046, [-0.687, -0.011], True)
    """
    s, b = list(map(float, rates)), list(map(float, baseline))
    if len(s) != len(b):
        raise ValueError("paired_difference needs one baseline share per problem")
    n = len(s)
    if n == 0:
        return PairedDifference(math.nan, (math.nan, math.nan), math.nan, SCORE)
    if all(v in (0.0, 1.0) for v in (*s, *b)):
        better = sum(x > y for x, y in zip(s, b, strict=True))
        worse = sum(x < y for x, y in zip(s, b, strict=True))
        return PairedDifference(
            (better - worse) / n, tango_interval(better, worse, n), mcnemar_p(better, worse), SCORE
        )
    diffs = [x - y for x, y in zip(s, b, strict=True)]
    ci, p = paired_t(diffs)
    return PairedDifference(sum(diffs) / n, ci, p, PAIRED_T)


def mcnemar_p(better: int, worse: int) -> float:
    """Two-sided McNemar test (the score test, no continuity correction) of ``better``
    against ``worse`` discordant problems: the statistic (better - worse) / sqrt(better +
    worse) against the standard normal.

    Examples:
        >>> round(mcnemar_p(1, 5), 4)
        0.1025
        >>> mcnemar_p(0, 0)  # no discordant problem: no evidence of a difference
        1.0
    """
    if better < 0 or worse < 0:
        raise ValueError(f"mcnemar_p needs counts >= 0 (got {better}, {worse})")
    if better + worse == 0:
        return 1.0
    z = (better - worse) / math.sqrt(better + worse)
    return math.erfc(abs(z) / math.sqrt(2))


def tango_score(delta: float, better: int, worse: int, n: int) -> float:
    """Tango's score statistic for "the difference in pass rate is ``delta``": the observed
    difference of discordant counts against its standard error under the restricted maximum
    likelihood estimate of the discordant probabilities (Tango 1998, equation 5).

    At ``delta = 0`` it is the McNemar statistic.

    Examples:
        >>> tango_score(0.0, 5, 1, 20) == (5 - 1) / math.sqrt(5 + 1)
        True
    """
    # q: the restricted MLE of P(only the baseline solves it); P(only the strategy) = q + delta.
    a = 2 * n
    b_ = -better - worse + (2 * n - better + worse) * delta
    c = -worse * delta * (1 - delta)
    q = (-b_ + math.sqrt(max(b_ * b_ - 4 * a * c, 0.0))) / (2 * a)
    variance = n * (2 * q + delta * (1 - delta))
    observed = better - worse - n * delta
    if variance <= 0:
        return 0.0 if observed == 0 else math.copysign(math.inf, observed)
    return observed / math.sqrt(variance)


def tango_interval(better: int, worse: int, n: int) -> tuple[float, float]:
    """Tango's 95% score interval for a paired difference of proportions: every ``delta``
    that :func:`tango_score` does not reject at 5%, found by bisection (the statistic falls
    as ``delta`` grows).

    Examples:
        No discordant problem among 10: the difference is 0, give or take 28 points.

        >>> [round(x, 3) for x in tango_interval(0, 0, 10)]
        [-0.278, 0.278]
    """
    if n <= 0 or better < 0 or worse < 0 or better + worse > n:
        raise ValueError(
            f"tango_interval needs 0 <= better + worse <= n (got {better}, {worse}, {n})"
        )

    def bound(target: float, lo: float, hi: float) -> float:
        """The ``delta`` in [lo, hi] where the statistic crosses ``target``."""
        for _ in range(100):
            mid = (lo + hi) / 2
            if tango_score(mid, better, worse, n) > target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    estimate = (better - worse) / n
    edge = 1 - 1e-12
    low = -1.0 if tango_score(-edge, better, worse, n) <= _Z95 else bound(_Z95, -edge, estimate)
    high = 1.0 if tango_score(edge, better, worse, n) >= -_Z95 else bound(-_Z95, estimate, edge)
    return low, high


def paired_t(diffs: Sequence[float]) -> tuple[tuple[float, float], float]:
    """The 95% t interval of the mean of paired differences and the two-sided p of the t
    test on the same statistic; NaNs with fewer than two pairs.

    Examples:
        >>> ci, p = paired_t([0.5, 0.0, 0.5, 1.0])
        >>> [round(x, 3) for x in ci], round(p, 3)
        ([-0.15, 1.15], 0.092)
    """
    n = len(diffs)
    if n < 2:
        return (math.nan, math.nan), math.nan
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    if sd == 0:
        return (mean, mean), 1.0 if mean == 0 else 0.0
    se = sd / math.sqrt(n)
    half = _t_quantile(0.975, n - 1) * se
    t = mean / se
    return (mean - half, mean + half), 2 * (1 - _t_cdf(abs(t), n - 1))


def _t_cdf(t: float, df: int) -> float:
    """Student's t distribution function, through the regularised incomplete beta."""
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return 1 - tail if t >= 0 else tail


def _t_quantile(prob: float, df: int) -> float:
    lo, hi = 0.0, 1e3
    for _ in range(200):
        mid = (lo + hi) / 2
        if _t_cdf(mid, df) < prob:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) (continued fraction, Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast on this side only
        return 1 - _betainc(b, a, 1 - x)
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 300):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return front * f / a


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
    :func:`~koderz.analysis.stats.metrics.experiments` table of finished experiments."""
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
