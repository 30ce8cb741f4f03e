"""The tests between strategies, against numbers worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from koderz.analysis.compare import choose_baseline, mcnemar_exact, pareto_front
from koderz.analysis.headlines import headline, strategy_sentence


@pytest.mark.parametrize(
    ("better", "worse", "p"),
    [
        (0, 0, 1.0),  # no discordant problem
        (1, 0, 1.0),  # 2 * P(X <= 0), X ~ Bin(1, 1/2) = 2 * 1/2
        (3, 3, 1.0),  # balanced: twice a tail above 1/2, capped at 1
        (5, 0, 0.0625),  # 2 * (1/2)^5 = 2/32
        (0, 5, 0.0625),  # symmetric
        (1, 5, 0.21875),  # 2 * (1 + 6) / 64
        (2, 8, 0.109375),  # 2 * (1 + 10 + 45) / 1024 = 112/1024
        (10, 0, 2 / 1024),
    ],
)
def test_mcnemar_exact_by_hand(better: int, worse: int, p: float) -> None:
    assert mcnemar_exact(better, worse) == pytest.approx(p)


def test_mcnemar_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        mcnemar_exact(-1, 2)


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


BASE = {
    "strategy": "a",
    "baseline": "b",
    "problems_compared": 10,
    "cost_ratio": 4.0,
    "cost_ratio_ci95": (3.0, 5.0),
    "pass_rate_pct_of_baseline": 50.0,
    "pass_rate_pct_of_baseline_ci95": (20.0, 80.0),
    "baseline_pass_rate": 0.8,
    "pass_rate_diff": -40.0,
    "pass_rate_diff_ci95": (-70.0, -10.0),
    # Hand-set, not derived: headline() only formats the p it is given (4 against 8 solved
    # of 10 allow at most 4 discordant problems, so no real run gives this p with them).
    "mcnemar_p": 2 / 1024,
    "solved_compared": 4.0,
    "baseline_solved_compared": 8.0,
}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({}, "is 4.0 times cheaper than b (95% CI 3.0-5.0) at 50% of b's pass rate"),
        ({}, "-40.0 points (95% CI -70.0 to -10.0), is significant (exact McNemar p = 0.002"),
        ({"mcnemar_p": 0.38}, "is not significant (exact McNemar p = 0.38, 10 problems)."),
        ({"cost_ratio": 0.5, "cost_ratio_ci95": (0.25, 1.0)}, "2.0 times as expensive as b"),
        ({"cost_ratio_ci95": (3.0, math.inf)}, "(95% CI at least 3.0)"),
        ({"baseline_pass_rate": 0.0}, "where b solved none of them"),
        ({"solved_compared": 9.0}, "b solved fewer of these problems than a (8 against 9 of 10)."),
        ({"solved": 0, "problems": 10, "savings_note": "x"}, "a solved none of its 10 problems"),
    ],
)
def test_headline_says_what_the_numbers_support(change: dict[str, object], says: str) -> None:
    assert says in headline(BASE | change)


def test_a_headline_never_claims_fewer_for_the_baseline_unless_it_solved_fewer() -> None:
    assert "solved fewer" not in headline(BASE)
    assert "times cheaper" not in headline(BASE | {"solved": 0, "problems": 10})


def test_strategy_sentence_with_several_runs() -> None:
    row = {"strategy": "s", "problems": 5, "experiments": 15, "solved": 9, "pass_rate": 0.6}
    row |= {"pass_rate_ci95": (0.2, 1.0), "cost_per_problem": 0.5}
    assert strategy_sentence(row) == (
        "s solved 9 of 15 experiments on 5 problems (pass rate 60%, 95% CI 20-100%) at "
        "$0.5000 per problem."
    )
