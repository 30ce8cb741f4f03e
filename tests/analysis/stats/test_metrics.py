"""The per-experiment table, the per-strategy summary, costs by tier and role, the curves
and re-pricing, on the worked example (:mod:`tests.analysis.worked`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from koderz import ConfigError
from koderz.analysis.stats.metrics import (
    cost_breakdown,
    cost_curve,
    experiments,
    pass_at_iteration,
    reprice,
    summarize,
)
from koderz.models import prices
from koderz.models.registry import register_model
from koderz.records import Usage
from koderz.store import StepWriter, load_steps
from tests.analysis.worked import experiment
from tests.rows import FRONTIER, LOCAL
from tests.rows import attempt as attempt_row
from tests.rows import end as end_row


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


def test_failed_calls_are_not_calls(tmp_path: Path) -> None:
    # A spec, then the worker's call fails (after the retries) and the experiment ends.
    spec, attempt, end = experiment("cheap", "P1", [("spec", 0.10), (False, 0, 1, 0.0)])
    attempt |= {"status": "provider_error", "input_tokens": 0, "output_tokens": 0}
    attempt |= {"passed": None, "tests_passed": None, "tests_total": None}
    StepWriter(tmp_path, "r").write_many([spec, attempt, end | {"status": "error"}])
    e = experiments(load_steps(tmp_path)).iloc[0]
    assert (e["calls"], e["calls_local"], e["calls_frontier"]) == (1, 0, 1)
    assert (e["calls_spec"], e["calls_attempt"]) == (1, 0)
    assert e["cost_usd"] == pytest.approx(0.10)
    row = summarize(experiments(load_steps(tmp_path))).iloc[0]
    assert (row["calls"], row["calls_local"]) == (1, 0)


def test_unfinished_experiments_are_counted_apart(steps: pd.DataFrame, tmp_path: Path) -> None:
    rows = experiment("cheap", "P9", [("spec", 1.0), (False, 0, 1, 0.0)])[:-1]  # no end row
    StepWriter(tmp_path, "r1").write_many(rows)
    s = summarize(experiments(load_steps(tmp_path))).set_index("strategy").loc["cheap"]
    assert (s["unfinished"], s["problems"]) == (1, 3)
    assert s["cost_usd"] == pytest.approx(0.40)


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
