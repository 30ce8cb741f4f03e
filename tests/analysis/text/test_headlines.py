"""The sentences: each says what the numbers support and no more."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from koderz.analysis.analyze import analyze
from koderz.analysis.stats.compare import PAIRED_T, SCORE
from koderz.analysis.text.headlines import gap_sentence, headline, strategy_sentence

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
    "pass_rate_diff_p": 2 / 1024,
    "pass_rate_diff_method": SCORE,
    "solved_compared": 4.0,
    "baseline_solved_compared": 8.0,
}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({}, "is 4.0 times cheaper than b (95% CI 3.0-5.0) at 50% of b's pass rate"),
        ({}, "-40.0 points (95% CI -70.0 to -10.0), is significant (McNemar p = 0.002"),
        ({"pass_rate_diff_p": 0.38}, "is not significant (McNemar p = 0.38, 10 problems)."),
        ({"pass_rate_diff_method": PAIRED_T}, "is significant (paired t p = 0.002, 10 problems)"),
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


def test_headline_in_the_literature_form(steps: pd.DataFrame) -> None:
    a = analyze(steps, baseline="frontier")
    text = headline(a.summary.set_index("strategy").loc["cheap"].to_dict() | {"strategy": "cheap"})
    # Per problem cheap solved (1, 1, 0), frontier (1, 1, 1): the difference is -1/3. One
    # discordant problem, against cheap: McNemar's statistic is -1, p = 0.32, and Tango's
    # interval (-79.2 to +41.5 points) includes 0 as the test says.
    assert text == (
        "cheap is 3.0 times cheaper than frontier (95% CI 2.0-4.0) at 67% of frontier's pass "
        "rate (95% CI 0-100%); the difference in pass rate, -33.3 points (95% CI -79.2 to "
        "+41.5), is not significant (McNemar p = 0.32, 3 problems)."
    )
    assert headline({"strategy": "frontier"}) == ""


def test_headline_when_the_baseline_was_free_in_some_resamples() -> None:
    row = {
        "strategy": "a",
        "baseline": "b",
        "problems_compared": 2,
        "cost_ratio": 0.5,
        "cost_ratio_ci95": (0.0, 0.8),  # 1 / 0.8 = 1.25, 1 / 0 = unbounded
        "pass_rate_pct_of_baseline": 100.0,
        "pass_rate_pct_of_baseline_ci95": (50.0, 150.0),
    }
    assert headline(row) == (
        "a is 2.0 times as expensive as b (95% CI at least 1.2) at 100% of b's pass rate "
        "(95% CI 50-150%)."
    )


@pytest.mark.parametrize(
    ("ci", "verdict"),
    [
        ((0.05, 0.25), "what seeing the hidden tests is worth"),
        ((-0.1, 0.3), "no measurable leakage: the interval includes 0"),
        ((-0.3, -0.1), "did worse than the public tests'"),
    ],
)
def test_the_sentence_claims_only_what_the_interval_allows(ci, verdict):
    row = {"strategy": "s@full", "feedback_level": "full", "public_strategy": "s"}
    row |= {"problems": 9, "pass_rate": 0.5, "public_pass_rate": 0.4, "gap": 0.1, "gap_ci95": ci}
    assert gap_sentence(row).endswith(verdict + ".")
