"""analyze() and the Analysis record it returns, as text and JSON, on the worked example
(:mod:`tests.analysis.worked`) and on rows with the stop rule."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from koderz import ConfigError, UnknownModelError
from koderz.analysis import analyze as analysis
from koderz.analysis.analyze import analyze
from koderz.analysis.stats.metrics import ANALYSIS_COLUMNS, experiments
from koderz.analysis.text.headlines import headline
from koderz.models.registry import register_model
from koderz.store import StepWriter, load_steps
from tests.analysis.worked import JSON_FIELDS, experiment, write, write_free_baseline
from tests.rows import experiment_rows, write_steps


def test_several_runs_average_per_problem(tmp_path: Path) -> None:
    # P1 run twice by cheap (solved once, $.10 and $.30): mean cost $.20, c/n = 1/2.
    for run, passed, cost in (("a", True, 0.10), ("b", False, 0.30)):
        w = StepWriter(tmp_path, run)
        w.write_many(experiment("cheap", "P1", [("spec", cost), (passed, 1, 1, 0.0)]))
        w.write_many(experiment("frontier", "P1", [(True, 1, 1, 0.40)]))
    a = analyze(load_steps(tmp_path), baseline="frontier", ks=(1, 2))
    cheap = a.summary.set_index("strategy").loc["cheap"]
    assert (cheap["runs"], cheap["problems"], cheap["experiments"]) == (2, 1, 2)
    assert cheap["pass@1"] == pytest.approx(0.5)
    assert cheap["pass@2"] == pytest.approx(1.0)
    assert cheap["compared_cost_usd"] == pytest.approx(0.20)
    assert cheap["savings_usd"] == pytest.approx(0.20)


def test_analysis_columns_are_all_it_reads(tmp_path: Path, estimate_model: str) -> None:
    write(tmp_path)
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
    # The worker qwen2.5-coder:7b has no cutoff: no pass rate after the cutoff, and why.
    cheap |= {
        "after_cutoff": None,
        "before_cutoff": None,
        "after_cutoff_note": "the cutoff of qwen2.5-coder:7b is unknown: give it with "
        "--cutoff qwen2.5-coder:7b=YYYY-MM-DD",
        "pass_rate_by_attempt": [0.0, 1 / 3, 2 / 3],  # within 1, 2, 3 attempts
    }
    # claude-opus-4-5's is registered, but these problems have no release date.
    undated = {"cutoff": "2025-08-31", "models": ["claude-opus-4-5"], "problems": 0}
    undated |= {"pass_rate": None, "pass_rate_ci95": None}
    frontier = cheap | {
        "strategy": "frontier",
        "solved": 3,
        "pass_rate": 1.0,
        "pass_rate_ci95": [1.0, 1.0],
        "oracle_pass_rate": 1.0,
        "pass@1": 1.0,
        "mean_attempts_to_solve": 4 / 3,
        "pass_rate_by_attempt": [2 / 3, 1.0, 1.0],
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
        "after_cutoff": undated,
        "before_cutoff": undated,
        "after_cutoff_note": "no problem has a release date",
    }
    assert data["cutoffs"] == {"claude-opus-4-5": "2025-08-31", "qwen2.5-coder:7b": None}
    assert [s["strategy"] for s in data["strategies"]] == ["cheap", "frontier"]
    for got, want in zip(data["strategies"], (cheap, frontier), strict=True):
        assert list(got) == list(want)  # every field, in the documented order
        for key, value in want.items():
            numbers = isinstance(value, dict | float | list) and key != "after_cutoff"
            numbers = numbers and key != "before_cutoff"  # no numbers to compare in these
            assert got[key] == (pytest.approx(value) if numbers else value), key
        for key in JSON_FIELDS:
            assert key in got, key


def test_cost_ratio_is_in_the_json(steps: pd.DataFrame) -> None:
    by = {s["strategy"]: s for s in analyze(steps, baseline="frontier").to_dict()["strategies"]}
    assert by["cheap"]["cost_ratio"] == pytest.approx(3.0)
    assert by["cheap"]["cost_ratio_ci95"] == pytest.approx([2.0, 4.0])
    assert by["frontier"]["cost_ratio"] is None  # the baseline is not compared to itself


def test_empty_frame(tmp_path: Path) -> None:
    a = analyze(load_steps(tmp_path))
    assert a.summary.empty and a.by_tier.empty and a.pass_at_iteration.empty
    assert a.to_dict()["strategies"] == []
    with pytest.raises(ConfigError, match=r"\(none\)"):
        analyze(load_steps(tmp_path), baseline="x")


def test_zero_solved_is_no_crash(tmp_path: Path) -> None:
    StepWriter(tmp_path, "r").write_many(experiment("cheap", "P1", [(False, 0, 1, 0.5)]))
    a = analyze(load_steps(tmp_path))
    row = a.summary.iloc[0]
    assert row["solved"] == 0 and math.isinf(row["cost_per_solved"])
    assert math.isnan(row["mean_attempts_to_solve"])
    data = a.to_dict()["strategies"][0]
    assert data["cost_per_solved"] is None
    json.dumps(a.to_dict(), allow_nan=False)  # strict JSON: no NaN or Infinity


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
