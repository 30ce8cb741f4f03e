"""Analysis against small tables whose answers are worked by hand, intervals included.

The fixture (written with the real StepWriter and read back with load_steps), costs in $:

=========  ==========================================  ==============================
problem    cheap (local worker, frontier spec/review)  frontier (frontier worker only)
=========  ==========================================  ==============================
P1         spec .10, fail 2/4, pass 4/4 -> solved @2   pass (.30) -> solved @1
P2         spec .10, fail, fail, review .05, pass @3   fail (.30), pass (.30) -> @2
P3         spec .10, 0/5, 2/5, review .05, 3/5: fails  pass (.30) -> @1
total      .40, 2 of 3 solved                          1.20, 3 of 3 solved
=========  ==========================================  ==============================

Every model call has 1000 prompt and 100 generated tokens; the estimate model is priced at
$100 per million prompt tokens and nothing for output, so each call re-prices at $0.10.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from koderz import ConfigError, UnknownModelError
from koderz.analysis import analyze as analysis
from koderz.analysis.analyze import analyze
from koderz.analysis.stats.estimators import pass_at_k
from koderz.analysis.stats.metrics import (
    ANALYSIS_COLUMNS,
    cost_breakdown,
    cost_curve,
    experiments,
    pass_at_iteration,
    reprice,
    summarize,
)
from koderz.analysis.stats.savings import bootstrap_ci, savings
from koderz.analysis.text.headlines import headline
from koderz.models import prices
from koderz.models.registry import register_model
from koderz.records import Usage
from koderz.store import StepWriter, load_steps
from tests.rows import FRONTIER, LOCAL, experiment_rows, write_steps
from tests.rows import attempt as attempt_row
from tests.rows import end as end_row

ESTIMATE = "test-estimate-model"

# The documented fields of each strategy in Analysis.to_dict() and `koderz analyze --json`.
JSON_FIELDS = (
    "strategy",
    "problems",
    "solved",
    "pass_rate",
    "pass@1",
    "cost_usd",
    "cost_by_tier",
    "calls_by_tier",
    "cost_per_solved",
    "frontier_only_estimate_usd",
    "savings_usd",
    "savings_pct",
    "savings_pct_ci95",
)


CHEAP = {
    "P1": [("spec", 0.10), (False, 2, 4, 0.0), (True, 4, 4, 0.0)],
    "P2": [
        ("spec", 0.10),
        (False, 1, 4, 0.0),
        (False, 1, 4, 0.0),
        ("review", 0.05),
        (True, 4, 4, 0.0),
    ],
    "P3": [
        ("spec", 0.10),
        (False, 0, 5, 0.0),
        (False, 2, 5, 0.0),
        ("review", 0.05),
        (False, 3, 5, 0.0),
    ],
}
FRONT = {
    "P1": [(True, 4, 4, 0.30)],
    "P2": [(False, 3, 4, 0.30), (True, 4, 4, 0.30)],
    "P3": [(True, 5, 5, 0.30)],
}


def _experiment(strategy: str, problem: str, script: list[Any], max_iter: int = 3) -> list[dict]:
    """The cheap strategy's worker is local, the other's frontier."""
    worker = LOCAL if strategy == "cheap" else FRONTIER
    return experiment_rows(strategy, problem, script, worker=worker, max_iterations=max_iter)


def _write(data_dir: Path) -> pd.DataFrame:
    rows = [
        row
        for strategy, scripts in (("cheap", CHEAP), ("frontier", FRONT))
        for problem, script in scripts.items()
        for row in _experiment(strategy, problem, script)
    ]
    return write_steps(data_dir, rows)


@pytest.fixture
def steps(tmp_path: Path) -> pd.DataFrame:
    return _write(tmp_path)


@pytest.fixture
def estimate_model() -> str:
    register_model(ESTIMATE, provider="openai", tier="frontier")
    prices.set_price(ESTIMATE, input_usd_per_mtok=100.0, output_usd_per_mtok=0.0)
    return ESTIMATE


# --------------------------------------------------------------------------- estimators


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 0, 1, 0.0),
        (1, 1, 1, 1.0),
        (10, 3, 1, 0.3),  # pass@1 = c / n
        (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (5, 4, 2, 1.0),  # n - c < k: any 2 samples include a correct one
        (200, 0, 100, 0.0),
    ],
)
def test_pass_at_k(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 0), (3, 1, 4), (3, -1, 1)])
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_bootstrap_of_a_constant_is_that_constant() -> None:
    assert bootstrap_ci([np.full(5, 2.5)], lambda x: x.mean(axis=1)) == (2.5, 2.5)


def test_bootstrap_is_reproducible_and_empty_safe() -> None:
    x = np.arange(10.0)
    one = bootstrap_ci([x], lambda a: a.mean(axis=1), seed=3)
    assert one == bootstrap_ci([x], lambda a: a.mean(axis=1), seed=3)
    assert one[0] < 4.5 < one[1]
    assert all(math.isnan(v) for v in bootstrap_ci([np.array([])], lambda a: a.sum(axis=1)))


def test_reprice_matches_price_call_cache_aware() -> None:
    # (300 uncached * $5 + 600 read * $0.5 + 100 written * $6.25 + 200 out * $25) / 1M
    rows = pd.DataFrame(
        {
            "role": ["attempt", "spec", "end"],
            "model": [LOCAL, FRONTIER, ""],
            "spec_reused": [None, True, None],
            "input_tokens": [1000, 1000, 0],
            "output_tokens": [200, 200, 0],
            "cache_read_tokens": [600, 600, 0],
            "cache_write_tokens": [100, 100, 0],
        }
    )
    got = reprice(rows, FRONTIER).tolist()
    assert got == pytest.approx([0.007425, 0.0, 0.0])  # a reused spec was no call
    usage = Usage(1000, 200, 600, 100)
    assert got[0] == pytest.approx(prices.price_call(FRONTIER, usage).usd)


def test_reprice_long_prompts_exactly() -> None:
    rows = pd.DataFrame(
        {
            "role": ["attempt"],
            "model": [LOCAL],
            "spec_reused": [None],
            "input_tokens": [300_000],
            "output_tokens": [1000],
            "cache_read_tokens": [0],
            "cache_write_tokens": [0],
        }
    )
    expected = prices.price_call("claude-sonnet-4-5", Usage(300_000, 1000)).usd
    assert reprice(rows, "claude-sonnet-4-5").iloc[0] == pytest.approx(expected)


def test_reprice_unknown_price_says_how_to_fix() -> None:
    register_model("no-price-model", provider="openai", tier="frontier")
    with pytest.raises(ConfigError, match="set_price"):
        reprice(pd.DataFrame({"role": [], "model": []}), "no-price-model")


# --------------------------------------------------------------------------- experiments


def test_experiments_one_row_each_with_outcomes(steps: pd.DataFrame) -> None:
    e = experiments(steps).set_index("experiment_id")
    assert len(e) == 6
    assert e.loc["cheap:P1", ["solved", "attempts", "solved_at"]].tolist() == [True, 2, 2]
    assert e.loc["cheap:P2", ["solved", "attempts", "solved_at"]].tolist() == [True, 3, 3]
    p3 = e.loc["cheap:P3"]
    assert (p3["solved"], p3["attempts"], p3["status"]) == (False, 3, "exhausted")
    assert pd.isna(p3["solved_at"])
    assert (p3["tests_passed"], p3["tests_total"]) == (3, 5)  # the last attempt
    assert p3["cost_usd"] == pytest.approx(0.15)
    assert (p3["calls"], p3["calls_local"], p3["calls_frontier"]) == (5, 3, 2)
    assert p3["cost_checkpoint"] == pytest.approx(0.05)
    assert p3["wall_s"] == pytest.approx(5 * 1.0 + 3 * 0.5)


def test_summary_by_hand(steps: pd.DataFrame) -> None:
    s = summarize(experiments(steps)).set_index("strategy")
    cheap, front = s.loc["cheap"], s.loc["frontier"]
    assert (cheap["problems"], cheap["solved"], cheap["experiments"]) == (3, 2, 3)
    assert cheap["pass_rate"] == pytest.approx(2 / 3)
    # Per-problem rates (1, 1, 0): the extreme resamples (all 0, all 1) each have chance >= 1/27.
    assert cheap["pass_rate_ci95"] == (0.0, 1.0)
    assert front["pass_rate_ci95"] == (1.0, 1.0)
    assert cheap["pass@1"] == pytest.approx(2 / 3)
    assert cheap["mean_attempts_to_solve"] == pytest.approx(2.5)
    assert front["mean_attempts_to_solve"] == pytest.approx(4 / 3)
    assert cheap["tests_passed_share"] == pytest.approx((1 + 1 + 3 / 5) / 3)
    assert cheap["cost_usd"] == pytest.approx(0.40)
    assert cheap["cost_per_solved"] == pytest.approx(0.20)
    assert front["cost_per_solved"] == pytest.approx(0.40)
    assert (cheap["calls_local"], cheap["calls_frontier"], cheap["calls_spec"]) == (8, 5, 3)
    assert cheap["cost_spec"] == pytest.approx(0.30)
    assert cheap["wall_s"] == pytest.approx(13 * 1.0 + 8 * 0.5)


def test_cost_breakdown_by_tier_and_role(steps: pd.DataFrame) -> None:
    e = experiments(steps)
    tiers = cost_breakdown(e, by="tier").set_index(["strategy", "tier"])
    assert tiers.loc[("cheap", "local"), "calls"] == 8
    assert tiers.loc[("cheap", "frontier"), "cost_usd"] == pytest.approx(0.40)
    assert tiers.loc[("cheap", "small_frontier"), "calls"] == 0
    assert tiers.loc[("frontier", "frontier"), ["calls", "share"]].tolist() == [4, 1.0]
    roles = cost_breakdown(e, by="role").set_index(["strategy", "role"])
    assert roles.loc[("cheap", "checkpoint"), "cost_usd"] == pytest.approx(0.10)
    assert roles.loc[("cheap", "spec"), "share"] == pytest.approx(0.75)
    with pytest.raises(ConfigError):
        cost_breakdown(e, by="model")


def test_pass_at_iteration_by_hand(steps: pd.DataFrame) -> None:
    curve = pass_at_iteration(experiments(steps))
    by = {s: g["pass_rate"].tolist() for s, g in curve.groupby("strategy")}
    assert by["cheap"] == pytest.approx([0.0, 1 / 3, 2 / 3])
    assert by["frontier"] == pytest.approx([2 / 3, 1.0, 1.0])


def test_cost_curve_accumulates_in_run_order(steps: pd.DataFrame) -> None:
    curve = cost_curve(experiments(steps))
    cheap = curve[curve["strategy"] == "cheap"]
    assert cheap["cumulative_cost_usd"].tolist() == pytest.approx([0.10, 0.25, 0.40])
    assert cheap["solved"].tolist() == [1, 2, 2]


# --------------------------------------------------------------------------- savings


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
    extra = _experiment("cheap", "P4", [("spec", 5.0), (True, 1, 1, 0.0)])
    StepWriter(tmp_path, "r1").write_many(extra)
    row = savings(experiments(load_steps(tmp_path)), baseline="frontier")
    row = row.set_index("strategy").loc["cheap"]
    assert row["problems_compared"] == 3
    assert row["compared_cost_usd"] == pytest.approx(0.40)  # P4's $5 is left out


def test_several_runs_average_per_problem(tmp_path: Path) -> None:
    # P1 run twice by cheap (solved once, $.10 and $.30): mean cost $.20, c/n = 1/2.
    for run, passed, cost in (("a", True, 0.10), ("b", False, 0.30)):
        w = StepWriter(tmp_path, run)
        w.write_many(_experiment("cheap", "P1", [("spec", cost), (passed, 1, 1, 0.0)]))
        w.write_many(_experiment("frontier", "P1", [(True, 1, 1, 0.40)]))
    a = analyze(load_steps(tmp_path), baseline="frontier", ks=(1, 2))
    cheap = a.summary.set_index("strategy").loc["cheap"]
    assert (cheap["runs"], cheap["problems"], cheap["experiments"]) == (2, 1, 2)
    assert cheap["pass@1"] == pytest.approx(0.5)
    assert cheap["pass@2"] == pytest.approx(1.0)
    assert cheap["compared_cost_usd"] == pytest.approx(0.20)
    assert cheap["savings_usd"] == pytest.approx(0.20)


def test_savings_against_the_estimate(steps: pd.DataFrame, estimate_model: str) -> None:
    e = experiments(steps, estimate_model=estimate_model)
    assert e["estimate_usd"].sum() == pytest.approx(17 * 0.10)  # 13 + 4 calls
    row = savings(e).set_index("strategy").loc["cheap"]
    assert row["frontier_only_estimate_usd"] == pytest.approx(1.30)
    assert row["estimate_savings_usd"] == pytest.approx(0.90)
    assert row["estimate_savings_pct"] == pytest.approx(90 / 1.3)
    assert "savings_usd" not in row.index  # no measured baseline was named


def test_analysis_columns_are_all_it_reads(tmp_path: Path, estimate_model: str) -> None:
    _write(tmp_path)
    lean_steps = load_steps(tmp_path, columns=ANALYSIS_COLUMNS)
    assert "code" not in lean_steps.columns
    full = analyze(load_steps(tmp_path), baseline="frontier", estimate_model=estimate_model)
    lean = analyze(lean_steps, baseline="frontier", estimate_model=estimate_model)
    pd.testing.assert_frame_equal(lean.summary, full.summary)
    pd.testing.assert_frame_equal(lean.experiments, full.experiments)
    assert lean.to_dict() == full.to_dict()


def test_missing_baseline_names_the_strategies(steps: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"'opus_only'.*cheap, frontier"):
        analyze(steps, baseline="opus_only")


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"baseline": "opus_only"}, ConfigError, r"'opus_only'.*cheap, frontier"),
        ({"estimate_model": "no-price-model"}, ConfigError, "set_price"),
        ({"estimate_model": "no-such-model-anywhere"}, UnknownModelError, "no-such-model"),
    ],
)
def test_analyze_checks_its_arguments_before_any_work(
    steps: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    arguments: dict[str, str],
    error: type[Exception],
    message: str,
) -> None:
    register_model("no-price-model", provider="openai", tier="frontier")

    def no_work(*_: Any, **__: Any) -> pd.DataFrame:
        raise AssertionError("analyze() started work before checking its arguments")

    monkeypatch.setattr(analysis, "experiments", no_work)
    with pytest.raises(error, match=message):
        analyze(steps, **arguments)


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


def write_free_baseline(data_dir: Path) -> pd.DataFrame:
    """The fixture plus ``local_only``: the same three problems, each solved at once, free."""
    _write(data_dir)
    writer = StepWriter(data_dir, "r1")
    for problem in ("P1", "P2", "P3"):
        writer.write_many(_experiment("local_only", problem, [(True, 1, 1, 0.0)]))
    return load_steps(data_dir)


def test_a_free_baseline_has_no_times_cheaper(tmp_path: Path) -> None:
    a = analyze(write_free_baseline(tmp_path), baseline="local_only")
    cheap = a.summary.set_index("strategy").loc["cheap"]
    assert math.isnan(cheap["cost_ratio"])
    assert all(math.isnan(v) for v in cheap["cost_ratio_ci95"])
    assert math.isnan(cheap["savings_pct"])  # a percent of nothing, and so its interval
    assert all(math.isnan(v) for v in cheap["savings_pct_ci95"])
    assert cheap["savings_usd"] == pytest.approx(-0.40)  # it costs $0.40 more
    line = headline(cheap.to_dict() | {"strategy": "cheap"})
    assert line.startswith(
        "cheap is compared with local_only, which costs nothing (times cheaper: undefined), "
        "at 67% of local_only's pass rate (95% CI "
    )
    assert line.endswith("(McNemar p = 0.32, 3 problems).")
    assert line in a.text()
    data = a.to_dict()
    json.dumps(data, allow_nan=False)
    by = {s["strategy"]: s for s in data["strategies"]}
    assert by["cheap"]["cost_ratio"] is None and by["cheap"]["cost_ratio_ci95"] == [None, None]
    assert "costs nothing (times cheaper: undefined)" in by["frontier"]["headline"]


def test_to_dict_without_a_baseline_has_every_field(steps: pd.DataFrame) -> None:
    # Worked by hand from the table at the top; with no baseline and no estimate model the
    # savings fields are still there, as nulls.
    data = analyze(steps, baseline=None).to_dict()
    json.dumps(data, allow_nan=False)
    assert (data["baseline"], data["estimate_model"], data["estimate_note"]) == (None,) * 3
    assert data["baseline_reason"] == "No measured baseline: turned off (--baseline none)."
    no_savings = dict.fromkeys(
        (
            "frontier_only_estimate_usd",
            "savings_usd",
            "savings_pct",
            "savings_pct_ci95",
            "cost_ratio",
            "cost_ratio_ci95",
            "headline",
        )
    )
    cheap = {
        "strategy": "cheap",
        "runs": 1,
        "problems": 3,
        "experiments": 3,
        "unfinished": 0,
        "solved": 2,
        "pass_rate": 2 / 3,
        "pass_rate_ci95": [0.0, 1.0],
        "feedback": "",  # the rows of this table name no feedback level
        # No stop rule in these rows: they read as an oracle's, whose ceiling is its rate.
        "stop": "oracle",
        "oracle_pass_rate": 2 / 3,
        "oracle_gap": 0.0,
        "false_stops": 0,
        "nothing_visible": 0,
        "epochs": 1,
        "epoch_pass_rate_range": None,  # one epoch: no spread of repeats
        "pass@1": 2 / 3,
        "mean_attempts_to_solve": 2.5,  # P1 at 2, P2 at 3
        "tests_passed_share": (1 + 1 + 3 / 5) / 3,  # the last attempts: 4/4, 4/4, 3/5
        "calls": 13,
        "token_cost_usd": 0.40,
        "hardware_cost_usd": 0.0,
        "wall_s": 13 * 1.0 + 8 * 0.5,  # 13 calls of 1 s, 8 attempts run for 0.5 s
        "cost_usd": 0.40,
        "cost_by_tier": {"local": 0.0, "small_frontier": 0.0, "frontier": 0.40},
        "calls_by_tier": {"local": 8, "small_frontier": 0, "frontier": 5},
        "cost_by_role": {"spec": 0.30, "plan": 0.0, "tests": 0.0, "attempt": 0.0, "advice": 0.0}
        | {"repair": 0.0, "checkpoint": 0.10},
        "calls_by_role": {"spec": 3, "plan": 0, "tests": 0, "attempt": 8, "advice": 0}
        | {"repair": 0, "checkpoint": 2},
        # P1, P2, P3 cost .10, .15, .15 (a spec each, a review on P2 and P3): a resample's
        # mean runs from .10 (all P1: 1/27 of resamples, more than 2.5%) to .15.
        "cost_per_problem": 0.40 / 3,
        "cost_per_problem_ci95": [0.10, 0.15],
        "cost_per_solved": 0.20,
    } | no_savings
    frontier = cheap | {
        "strategy": "frontier",
        "solved": 3,
        "pass_rate": 1.0,
        "pass_rate_ci95": [1.0, 1.0],
        "oracle_pass_rate": 1.0,
        "pass@1": 1.0,
        "mean_attempts_to_solve": 4 / 3,
        "tests_passed_share": 1.0,
        "calls": 4,
        "token_cost_usd": 1.20,
        "wall_s": 4 * 1.0 + 4 * 0.5,
        "cost_usd": 1.20,
        "cost_by_tier": {"local": 0.0, "small_frontier": 0.0, "frontier": 1.20},
        "calls_by_tier": {"local": 0, "small_frontier": 0, "frontier": 4},
        "cost_by_role": {"spec": 0.0, "plan": 0.0, "tests": 0.0, "attempt": 1.20, "advice": 0.0}
        | {"repair": 0.0, "checkpoint": 0.0},
        "calls_by_role": {"spec": 0, "plan": 0, "tests": 0, "attempt": 4, "advice": 0}
        | {"repair": 0, "checkpoint": 0},
        "cost_per_problem": 0.40,  # P1 .30, P2 .60, P3 .30
        "cost_per_problem_ci95": [0.30, 0.60],
        "cost_per_solved": 0.40,
    }
    assert [s["strategy"] for s in data["strategies"]] == ["cheap", "frontier"]
    for got, want in zip(data["strategies"], (cheap, frontier), strict=True):
        assert list(got) == list(want)  # every field, in the documented order
        for key, value in want.items():
            numbers = isinstance(value, dict | float | list)
            assert got[key] == (pytest.approx(value) if numbers else value), key
        for key in JSON_FIELDS:
            assert key in got, key


def test_cost_ratio_is_in_the_json(steps: pd.DataFrame) -> None:
    by = {s["strategy"]: s for s in analyze(steps, baseline="frontier").to_dict()["strategies"]}
    assert by["cheap"]["cost_ratio"] == pytest.approx(3.0)
    assert by["cheap"]["cost_ratio_ci95"] == pytest.approx([2.0, 4.0])
    assert by["frontier"]["cost_ratio"] is None  # the baseline is not compared to itself


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


def test_failed_calls_are_not_calls(tmp_path: Path) -> None:
    # A spec, then the worker's call fails (after the retries) and the experiment ends.
    spec, attempt, end = _experiment("cheap", "P1", [("spec", 0.10), (False, 0, 1, 0.0)])
    attempt |= {"status": "provider_error", "input_tokens": 0, "output_tokens": 0}
    attempt |= {"passed": None, "tests_passed": None, "tests_total": None}
    StepWriter(tmp_path, "r").write_many([spec, attempt, end | {"status": "error"}])
    e = experiments(load_steps(tmp_path)).iloc[0]
    assert (e["calls"], e["calls_local"], e["calls_frontier"]) == (1, 0, 1)
    assert (e["calls_spec"], e["calls_attempt"]) == (1, 0)
    assert e["cost_usd"] == pytest.approx(0.10)
    row = summarize(experiments(load_steps(tmp_path))).iloc[0]
    assert (row["calls"], row["calls_local"]) == (1, 0)


# --------------------------------------------------------------------------- edge cases


def test_empty_frame(tmp_path: Path) -> None:
    a = analyze(load_steps(tmp_path))
    assert a.summary.empty and a.by_tier.empty and a.pass_at_iteration.empty
    assert a.to_dict()["strategies"] == []
    with pytest.raises(ConfigError, match=r"\(none\)"):
        analyze(load_steps(tmp_path), baseline="x")


def test_zero_solved_is_no_crash(tmp_path: Path) -> None:
    StepWriter(tmp_path, "r").write_many(_experiment("cheap", "P1", [(False, 0, 1, 0.5)]))
    a = analyze(load_steps(tmp_path))
    row = a.summary.iloc[0]
    assert row["solved"] == 0 and math.isinf(row["cost_per_solved"])
    assert math.isnan(row["mean_attempts_to_solve"])
    data = a.to_dict()["strategies"][0]
    assert data["cost_per_solved"] is None
    json.dumps(a.to_dict(), allow_nan=False)  # strict JSON: no NaN or Infinity


def test_unfinished_experiments_are_counted_apart(steps: pd.DataFrame, tmp_path: Path) -> None:
    rows = _experiment("cheap", "P9", [("spec", 1.0), (False, 0, 1, 0.0)])[:-1]  # no end row
    StepWriter(tmp_path, "r1").write_many(rows)
    s = summarize(experiments(load_steps(tmp_path))).set_index("strategy").loc["cheap"]
    assert (s["unfinished"], s["problems"]) == (1, 3)
    assert s["cost_usd"] == pytest.approx(0.40)


def test_to_dict_has_the_documented_keys(steps: pd.DataFrame, estimate_model: str) -> None:
    data = analyze(steps, baseline="frontier", estimate_model=estimate_model).to_dict()
    json.dumps(data, allow_nan=False)
    cheap = next(s for s in data["strategies"] if s["strategy"] == "cheap")
    for key in JSON_FIELDS:
        assert key in cheap, key
    assert cheap["calls_by_tier"] == {"local": 8, "small_frontier": 0, "frontier": 5}
    assert cheap["frontier_only_estimate_usd"] == pytest.approx(1.30)
    assert cheap["savings_pct_ci95"] == pytest.approx([50.0, 75.0])
    assert data["estimate_note"].startswith("an estimate")


def test_an_experiment_stopped_in_flight_is_unfinished_until_a_resumed_run_ends_it(
    tmp_path: Path,
) -> None:
    # The engine writes an end row with status "interrupted" (or "budget") when it stops an
    # experiment in flight; a resumed run goes on with it and writes its final end row. The
    # store gives rows back in no particular order. A was stopped, resumed and solved at
    # its second attempt; B was stopped and never resumed.
    from koderz.analysis.text.methods import methods_text, strategy_settings
    from koderz.analysis.text.story import runs_table

    base = {"strategy": "s", "worker_model": LOCAL, "max_iterations": 3}

    def attempt(exp: str, problem: str, iteration: int, ok: bool) -> dict[str, Any]:
        ids = {"experiment_id": exp, "problem_id": problem}
        return base | ids | attempt_row(iteration, ok, int(ok), 1)

    def end(exp: str, problem: str, status: str, ok: bool) -> dict[str, Any]:
        return base | {"experiment_id": exp, "problem_id": problem} | end_row(status, passed=ok)

    writer = StepWriter(tmp_path, "r1")
    for row in [
        attempt("A", "P1", 1, False),
        end("A", "P1", "interrupted", False),
        attempt("B", "P2", 1, False),
        end("B", "P2", "budget", False),
        attempt("A", "P1", 2, True),
        end("A", "P1", "solved", True),
    ]:
        writer.write(row)
    steps = load_steps(tmp_path)
    exps = experiments(steps).set_index("experiment_id")
    assert exps.loc["A", ["finished", "status", "solved"]].tolist() == [True, "solved", True]
    assert exps.loc["B", ["finished", "status", "solved"]].tolist() == [False, "budget", False]
    row = summarize(experiments(steps)).iloc[0]
    assert (row["experiments"], row["unfinished"], row["pass_rate"]) == (1, 1, 1.0)
    assert strategy_settings(steps).reset_index().loc[0, "experiments"] == 1
    assert "1 finished experiments in 1 run(s)" in methods_text(steps)
    assert runs_table(steps)[["finished", "solved"]].to_dict("records") == [
        {"finished": 1, "solved": 1}
    ]


def test_the_submitted_answer_is_the_verdict_and_the_oracle_its_ceiling(tmp_path: Path) -> None:
    # Stop visible, 3 problems (hidden verdict, visible counts):
    # P1: attempt 1 passes the hidden tests but not its public test; attempt 2 passes the
    #     public test and fails the hidden ones: it stops there (a false stop), fails.
    # P2: attempt 2 passes both: submitted, passed.
    # P3: nothing visible: its first answer is submitted, and fails.
    v = {"stop": "visible"}
    rows = [
        *experiment_rows("v", "P1", [(True, 2, 2, 0.0, (0, 1)), (False, 1, 2, 0.0, (1, 1))],
                         end_status="stopped", end_fields={"passed": False, "submitted": 2,
                         "oracle_passed": True, "false_stop": True, "visible_total": 1}, **v),
        *experiment_rows("v", "P2", [(False, 0, 2, 0.0, (0, 1)), (True, 2, 2, 0.0, (1, 1))],
                         end_status="stopped", end_fields={"submitted": 2, "passed": True,
                         "oracle_passed": True, "false_stop": False, "visible_total": 1}, **v),
        *experiment_rows("v", "P3", [(False, 0, 2, 0.0, (0, 0))], end_status="stopped",
                         end_fields={"submitted": 1, "oracle_passed": False,
                         "false_stop": False, "visible_total": 0}, **v),
        # An older row set, no stop column: an oracle, as its loop was.
        *experiment_rows("old", "P1", [(False, 0, 2, 0.0), (True, 2, 2, 0.0)]),
    ]  # fmt: skip
    steps = write_steps(tmp_path, rows)
    exps = experiments(steps).set_index(["strategy", "problem_id"])
    assert exps.loc[("v", "P1"), ["solved", "oracle_solved", "false_stop"]].tolist() == [
        False,
        True,
        True,
    ]
    assert exps.loc[("v", "P1"), "tests_passed"] == 1  # the submitted answer's, not the best
    assert (exps.loc[("v", "P2"), "solved_at"], exps.loc[("v", "P3"), "nothing_visible"]) == (
        2,
        True,
    )
    assert exps.loc[("old", "P1"), ["stop", "solved", "oracle_solved", "submitted"]].tolist() == [
        "oracle",
        True,
        True,
        2,
    ]
    by = analyze(steps, baseline=None).summary.set_index("strategy")
    assert by.loc["v", ["pass_rate", "oracle_pass_rate"]].tolist() == pytest.approx([1 / 3, 2 / 3])
    assert (by.loc["v", "false_stops"], by.loc["v", "nothing_visible"]) == (1, 1)
    assert by.loc["v", "oracle_gap"] == pytest.approx(1 / 3)
    assert by.loc["old", "stop"] == "oracle"
    result = analyze(steps, baseline=None)
    text = result.text()
    assert "stop visible: oracle ceiling 66.7%" in text and "1 false stop(s)" in text
    assert "stop oracle: its pass rate is an upper bound" in text
    (old,) = [h for h in result.headlines() if h.startswith("old ")]
    assert old.endswith("its pass rate is an upper bound no deployed system reaches.")
    (vis,) = [h for h in result.headlines() if h.startswith("v ")]
    assert "(an oracle), 67% (+33.3 points), and 1 answer passed every visible test" in vis
    data = {s["strategy"]: s for s in result.to_dict()["strategies"]}
    assert data["v"]["stop"] == "visible" and data["v"]["false_stops"] == 1
    assert data["v"]["oracle_pass_rate"] == pytest.approx(2 / 3)
