"""The tests between strategies, against numbers worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from koderz.analysis.stats.compare import (
    PAIRED_T,
    SCORE,
    choose_baseline,
    mcnemar_p,
    paired_difference,
    pareto_front,
    tango_interval,
    tango_score,
)


@pytest.mark.parametrize(
    ("better", "worse", "p"),
    [
        (0, 0, 1.0),  # no discordant problem
        (3, 3, 1.0),  # balanced: z = 0
        (4, 0, 0.0455),  # z = 4 / sqrt(4) = 2: 2 * (1 - Phi(2))
        (0, 4, 0.0455),  # symmetric
        (1, 5, 0.1025),  # z = -4 / sqrt(6) = -1.633
        (9, 16, 0.1615),  # z = -7 / 5 = -1.4
    ],
)
def test_mcnemar_by_hand(better: int, worse: int, p: float) -> None:
    assert mcnemar_p(better, worse) == pytest.approx(p, abs=5e-5)


def test_mcnemar_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        mcnemar_p(-1, 2)


def _profiled_score(delta: float, better: int, worse: int, n: int) -> float:
    """Tango's statistic with the restricted MLE found by brute force: the discordant
    probability q (baseline only) that maximises the likelihood with q + delta for the
    strategy only, on a fine grid, instead of the closed form."""
    lo, hi = max(0.0, -delta), (1 - delta) / 2
    if hi <= lo:
        return math.nan
    grid = [lo + (hi - lo) * (i + 0.5) / 20000 for i in range(20000)]

    def loglik(q: float) -> float:
        total = 0.0
        for count, prob in (
            (better, q + delta),
            (worse, q),
            (n - better - worse, 1 - 2 * q - delta),
        ):
            if count:
                total += count * math.log(max(prob, 1e-300))
        return total

    q = max(grid, key=loglik)
    return (better - worse - n * delta) / math.sqrt(n * (2 * q + delta * (1 - delta)))


@pytest.mark.parametrize(("better", "worse", "n"), [(0, 4, 10), (5, 1, 20), (2, 2, 8), (7, 0, 12)])
def test_the_score_statistic_is_tangos_profile_statistic(better: int, worse: int, n: int) -> None:
    for delta in (-0.5, -0.2, 0.0, 0.15, 0.4):
        expected = _profiled_score(delta, better, worse, n)
        if not math.isnan(expected):
            assert tango_score(delta, better, worse, n) == pytest.approx(expected, abs=2e-3)
    # At a difference of 0 it is the McNemar statistic.
    if better + worse:
        assert tango_score(0.0, better, worse, n) == pytest.approx(
            (better - worse) / math.sqrt(better + worse)
        )


@pytest.mark.parametrize("n", [1, 2, 5, 10, 17, 30])
def test_the_interval_and_the_test_never_disagree(n: int) -> None:
    # Every table of n problems: 0 is outside the interval exactly when p < 0.05.
    for better in range(n + 1):
        for worse in range(n + 1 - better):
            lo, hi = tango_interval(better, worse, n)
            estimate = (better - worse) / n
            assert -1 <= lo <= estimate <= hi <= 1
            assert (lo > 0 or hi < 0) == (mcnemar_p(better, worse) < 0.05), (better, worse)


def test_the_interval_ends_where_the_statistic_reaches_its_critical_value() -> None:
    lo, hi = tango_interval(0, 4, 10)
    assert tango_score(lo, 0, 4, 10) == pytest.approx(1.959964, abs=1e-6)
    assert tango_score(hi, 0, 4, 10) == pytest.approx(-1.959964, abs=1e-6)


def test_several_runs_of_a_problem_use_the_paired_t() -> None:
    d = paired_difference([0.5, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.5])
    assert d.method == PAIRED_T and d.diff == pytest.approx(0.25)
    # Differences 0.5, 0, 0, 0.5: mean 0.25, sd 0.2887, se 0.1443, t = 1.732 on 3 df.
    assert d.p == pytest.approx(0.1817, abs=1e-4)
    assert d.ci95[0] == pytest.approx(0.25 - 3.18245 * 0.144338, abs=1e-4)
    assert (d.ci95[0] > 0) == (d.p < 0.05)
    yes_no = paired_difference([1, 0, 1], [0, 0, 1])
    assert yes_no.method == SCORE and yes_no.p == pytest.approx(mcnemar_p(1, 0))


@pytest.mark.parametrize(
    ("costs", "rates", "front"),
    [
        ([1.0], [0.5], [True]),
        ([1.0, 2.0], [0.5, 0.5], [True, False]),  # same rate, dearer: beaten
        ([1.0, 1.0], [0.5, 0.5], [True, True]),  # equal points beat neither
        ([1.0, 2.0], [0.5, 0.9], [True, True]),  # a trade-off: both on the front
        ([0.0, 1.0, 3.0], [0.0, 0.6, 0.5], [True, True, False]),
        ([math.nan, 1.0], [0.5, 0.5], [False, True]),  # no data is never on the front
    ],
)
def test_pareto_front(costs: list[float], rates: list[float], front: list[bool]) -> None:
    assert pareto_front(costs, rates) == front


def _exps(calls: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    """strategy -> (problems, calls per problem, of them frontier)."""
    rows = [
        {"strategy": s, "problem_id": f"p{i}", "finished": True, "calls": c, "calls_frontier": f}
        for s, (n, c, f) in calls.items()
        for i in range(n)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("calls", "asked", "chosen", "why"),
    [
        ({"cheap": (3, 4, 1), "opus": (3, 2, 2)}, "auto", "opus", "every one of its model calls"),
        ({"cheap": (3, 4, 0)}, "auto", None, "no strategy made only frontier-tier calls"),
        ({"a": (2, 1, 1), "b": (3, 1, 1)}, "auto", "b", "a also is; b ran the most problems"),
        ({"a": (3, 1, 1), "b": (3, 1, 1)}, "auto", "a", "b also is; a ran the most problems"),
        ({"cheap": (3, 4, 1), "opus": (3, 2, 2)}, "none", None, "turned off"),
        ({"cheap": (3, 4, 1), "opus": (3, 2, 2)}, None, None, "turned off"),
        ({"cheap": (3, 4, 1), "opus": (3, 2, 2)}, "cheap", "cheap", "as asked"),
        ({"free": (3, 0, 0)}, "auto", None, "no strategy made only"),  # no calls: not frontier
    ],
)
def test_choose_baseline(
    calls: dict[str, tuple[int, int, int]], asked: str | None, chosen: str | None, why: str
) -> None:
    got, reason = choose_baseline(asked, _exps(calls))
    assert got == chosen and why in reason
