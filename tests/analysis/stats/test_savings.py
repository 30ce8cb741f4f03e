"""Savings against the measured baseline and against the estimate, and their bootstrap
intervals, on the worked example (:mod:`tests.analysis.worked`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from koderz.analysis.stats.metrics import experiments
from koderz.analysis.stats.savings import bootstrap_ci, savings
from koderz.store import StepWriter, load_steps
from tests.analysis.worked import experiment


def test_bootstrap_of_a_constant_is_that_constant() -> None:
    assert bootstrap_ci([np.full(5, 2.5)], lambda x: x.mean(axis=1)) == (2.5, 2.5)


def test_bootstrap_is_reproducible_and_empty_safe() -> None:
    x = np.arange(10.0)
    one = bootstrap_ci([x], lambda a: a.mean(axis=1), seed=3)
    assert one == bootstrap_ci([x], lambda a: a.mean(axis=1), seed=3)
    assert one[0] < 4.5 < one[1]
    assert all(math.isnan(v) for v in bootstrap_ci([np.array([])], lambda a: a.sum(axis=1)))


def test_savings_against_measured_baseline(steps: pd.DataFrame) -> None:
    row = savings(experiments(steps), baseline="frontier").set_index("strategy").loc["cheap"]
    assert row["problems_compared"] == 3
    assert row["savings_usd"] == pytest.approx(0.80)
    assert row["savings_pct"] == pytest.approx(200 / 3)
    assert row["cost_ratio"] == pytest.approx(3.0)
    assert row["pass_rate_pct_of_baseline"] == pytest.approx(200 / 3)
    # Per problem (strategy, baseline): (.10, .30), (.15, .60), (.15, .30). The lowest saving
    # is all P3 (1 - .45/.90 = 50%), the highest all P2 (1 - .45/1.8 = 75%); each resample has
    # chance 1/27 > 2.5%, so they are the interval's ends.
    assert row["savings_pct_ci95"] == pytest.approx((50.0, 75.0))
    assert row["savings_usd_ci95"] == pytest.approx((0.45, 1.35))  # 3 x P3 .15, 3 x P2 .45
    assert row["cost_ratio_ci95"] == pytest.approx((2.0, 4.0))
    assert row["pass_rate_pct_of_baseline_ci95"] == pytest.approx((0.0, 100.0))


def test_savings_compare_only_common_problems(steps: pd.DataFrame, tmp_path: Path) -> None:
    extra = experiment("cheap", "P4", [("spec", 5.0), (True, 1, 1, 0.0)])
    StepWriter(tmp_path, "r1").write_many(extra)
    row = savings(experiments(load_steps(tmp_path)), baseline="frontier")
    row = row.set_index("strategy").loc["cheap"]
    assert row["problems_compared"] == 3
    assert row["compared_cost_usd"] == pytest.approx(0.40)  # P4's $5 is left out


def test_savings_against_the_estimate(steps: pd.DataFrame, estimate_model: str) -> None:
    e = experiments(steps, estimate_model=estimate_model)
    assert e["estimate_usd"].sum() == pytest.approx(17 * 0.10)  # 13 + 4 calls
    row = savings(e).set_index("strategy").loc["cheap"]
    assert row["frontier_only_estimate_usd"] == pytest.approx(1.30)
    assert row["estimate_savings_usd"] == pytest.approx(0.90)
    assert row["estimate_savings_pct"] == pytest.approx(90 / 1.3)
    assert "savings_usd" not in row.index  # no measured baseline was named


def test_estimate_and_baseline_savings_are_one_definition() -> None:
    # The estimate re-prices cheap's tokens to exactly what frontier measured on each
    # problem, so the savings against either are the same numbers.
    exps = pd.DataFrame(
        {
            "strategy": ["cheap"] * 2 + ["frontier"] * 2,
            "problem_id": ["a", "b"] * 2,
            "finished": True,
            "solved": True,
            "cost_usd": [1.0, 1.0, 2.0, 4.0],
            "estimate_usd": [2.0, 4.0, 2.0, 4.0],
        }
    )
    row = savings(exps, baseline="frontier").set_index("strategy").loc["cheap"]
    for key in ("savings_usd", "savings_pct", "cost_ratio"):
        assert row[f"estimate_{key}"] == pytest.approx(row[key]), key
        assert row[f"estimate_{key}_ci95"] == pytest.approx(row[f"{key}_ci95"]), key
