"""Pass rates before and after the models' cutoffs, and analyses per group of problems,
worked by hand on dated problems (koderz.analysis.stats.cutoffs and .groups).

Four problems, as LiveCodeBench dates them, two strategies:

=======  ===========  ==========  ==========  =====
problem  released     difficulty  frontier    cheap
=======  ===========  ==========  ==========  =====
P1       2025-08-31   easy        solved      -
P2       2025-09-15   easy        solved      solved
P3       2025-10-01   hard        -           solved
P4       (no date)    (none)      solved      -
=======  ===========  ==========  ==========  =====

frontier calls claude-opus-4-5 only (registered cutoff 2025-08-31): P1 was released on its
cutoff's day and counts before; P2 and P3 after; P4 in neither. cheap's worker,
qwen2.5-coder:7b, has no registered cutoff: cheap has none until one is given.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from koderz.analysis.analyze import analyze, analyze_by
from koderz.analysis.stats.cutoffs import after_cutoff, known_cutoffs, models_used
from koderz.analysis.stats.groups import GROUP_KEYS, groups_in, split_steps
from koderz.analysis.stats.metrics import experiments
from koderz.cli import main
from koderz.errors import ConfigError
from tests.rows import FRONTIER, LOCAL, experiment_rows, write_steps

PROBLEMS = {
    "P1": {"problem_released": "2025-08-31", "problem_difficulty": "easy"},
    "P2": {"problem_released": "2025-09-15", "problem_difficulty": "easy"},
    "P3": {"problem_released": "2025-10-01", "problem_difficulty": "hard"},
    "P4": {},
}
SOLVED = {
    "frontier": {"P1": True, "P2": True, "P3": False, "P4": True},
    "cheap": {"P1": False, "P2": True, "P3": True, "P4": False},
}


def rows(**solved: bool) -> list[dict]:
    out = []
    for strategy, outcomes in SOLVED.items():
        worker = LOCAL if strategy == "cheap" else FRONTIER
        for problem, passed in (outcomes | solved).items():
            script = [("spec", 0.1)] if strategy == "cheap" else []
            out += experiment_rows(
                strategy,
                problem,
                [*script, (passed, 1, 1, 0.0)],
                worker=worker,
                **PROBLEMS[problem],
            )
    return out


@pytest.fixture
def steps(tmp_path: Path) -> pd.DataFrame:
    return write_steps(tmp_path, rows())


def by_strategy(frame: pd.DataFrame) -> dict[str, dict]:
    return {r["strategy"]: r for r in frame.to_dict("records")}


def test_the_models_and_their_cutoffs(steps: pd.DataFrame) -> None:
    assert models_used(steps) == {"cheap": [FRONTIER, LOCAL], "frontier": [FRONTIER]}
    assert known_cutoffs(steps) == {FRONTIER: "2025-08-31", LOCAL: None}
    assert known_cutoffs(steps, {LOCAL: "2025-09-30"})[LOCAL] == "2025-09-30"


def test_after_the_cutoff_worked_by_hand(steps: pd.DataFrame) -> None:
    table = after_cutoff(
        experiments(steps), models_used(steps), known_cutoffs(steps), n_boot=200, seed=0
    )
    frontier, cheap = by_strategy(table)["frontier"], by_strategy(table)["cheap"]
    assert (frontier["cutoff"], frontier["cutoff_models"], frontier["dated"]) == (
        "2025-08-31",
        (FRONTIER,),
        3,
    )
    # After: P2 solved, P3 not: 1/2, and a resample of two problems spans 0 to 1.
    assert (frontier["after_problems"], frontier["after_pass_rate"]) == (2, 0.5)
    assert frontier["after_pass_rate_ci95"] == (0.0, 1.0)
    # Before: P1 alone, released on the cutoff's day, solved.
    assert (frontier["before_problems"], frontier["before_pass_rate"]) == (1, 1.0)
    assert frontier["before_pass_rate_ci95"] == (1.0, 1.0)
    # cheap used a model with no cutoff: nothing is after it.
    assert (cheap["cutoff"], cheap["unknown"], cheap["after_problems"]) == (None, (LOCAL,), 0)
    assert pd.isna(cheap["after_pass_rate"])


def test_a_cutoff_given_makes_the_latest_one_the_strategys(steps: pd.DataFrame) -> None:
    a = analyze(steps, baseline=None, cutoffs={LOCAL: "2025-09-30"}, n_boot=200)
    cheap = by_strategy(a.after_cutoff)["cheap"]
    # qwen's 2025-09-30 is later than opus' 2025-08-31: only P3 is after both.
    assert (cheap["cutoff"], cheap["cutoff_models"]) == ("2025-09-30", (LOCAL,))
    assert (cheap["after_problems"], cheap["after_pass_rate"]) == (1, 1.0)
    assert (cheap["before_problems"], cheap["before_pass_rate"]) == (2, 0.5)


def test_a_cutoff_the_rows_recorded_is_used(tmp_path: Path) -> None:
    recorded = [
        r | {"model_cutoff": "2025-09-30"} if r.get("model") == LOCAL else r for r in rows()
    ]
    a = analyze(write_steps(tmp_path, recorded), baseline=None, n_boot=200)
    assert a.cutoffs == {FRONTIER: "2025-08-31", LOCAL: "2025-09-30"}
    assert by_strategy(a.after_cutoff)["cheap"]["after_problems"] == 1


def test_a_problem_run_twice_counts_its_share(tmp_path: Path) -> None:
    write_steps(tmp_path, rows())
    # A second run of everything, where frontier now solves P3: its share on P3 is 1/2.
    steps = write_steps(tmp_path, rows(P3=True), run_id="r2")
    frontier = by_strategy(analyze(steps, baseline=None, n_boot=200).after_cutoff)["frontier"]
    assert frontier["after_pass_rate"] == pytest.approx((1 + 0.5) / 2)


def test_the_text_and_json_say_it(steps: pd.DataFrame) -> None:
    a = analyze(steps, baseline=None, n_boot=200)
    text = a.text()
    assert (
        "  On the 2 problems released after 2025-08-31 (claude-opus-4-5's cutoff), pass rate "
        "50.0% (95% CI 0.0%-100.0%); 100.0% on the 1 released before.\n"
    ) in text
    assert (
        "  No pass rate after the cutoff: the cutoff of qwen2.5-coder:7b is unknown: give it "
        "with --cutoff qwen2.5-coder:7b=YYYY-MM-DD.\n"
    ) in text
    data = {s["strategy"]: s for s in a.to_dict()["strategies"]}
    assert data["frontier"]["after_cutoff"] == {
        "cutoff": "2025-08-31",
        "models": [FRONTIER],
        "problems": 2,
        "pass_rate": 0.5,
        "pass_rate_ci95": [0.0, 1.0],
    }
    assert data["frontier"]["before_cutoff"]["pass_rate"] == 1.0
    assert data["frontier"]["after_cutoff_note"] is None
    assert data["cheap"]["after_cutoff"] is None
    assert "qwen2.5-coder:7b is unknown" in data["cheap"]["after_cutoff_note"]


def test_the_groups_worked_by_hand(steps: pd.DataFrame) -> None:
    assert list(split_steps(steps, "difficulty")) == ["easy", "hard", "(none)"]
    assert list(split_steps(steps, "month")) == ["2025-08", "2025-09", "2025-10", "(none)"]
    grouped = analyze_by(steps, "difficulty", baseline=None, n_boot=200)
    rates = {
        label: dict(zip(a.summary["strategy"], a.summary["pass_rate"], strict=True))
        for label, a in grouped.groups.items()
    }
    assert rates == {
        "easy": {"cheap": 0.5, "frontier": 1.0},  # P1, P2
        "hard": {"cheap": 1.0, "frontier": 0.0},  # P3
        "(none)": {"cheap": 0.0, "frontier": 1.0},  # P4
    }
    data = grouped.to_dict()
    assert data["by"] == "difficulty" and list(data["groups"]) == ["easy", "hard", "(none)"]
    assert (
        data["groups"]["easy"]
        == analyze(split_steps(steps, "difficulty")["easy"], baseline=None, n_boot=200).to_dict()
    )
    assert "== difficulty hard (1 problems) ==" in grouped.text()
    table = grouped.table()
    assert not isinstance(table, str)
    assert table.loc[("hard", "frontier"), "pass rate"].startswith("0.0%")


def test_groups_in_the_data(steps: pd.DataFrame) -> None:
    found = groups_in(steps)
    assert found["difficulty"] == ["easy", "hard", "(none)"]
    assert found["month"] == ["2025-08", "2025-09", "2025-10", "(none)"]
    assert "platform" not in found  # no problem has one


def test_an_unknown_key_names_the_keys(steps: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="Cannot group by 'dificulty' \\(did you mean difficu"):
        analyze_by(steps, "dificulty")
    with pytest.raises(ConfigError, match=", ".join(GROUP_KEYS)):
        analyze_by(steps, "x")


def test_the_command_line(steps: pd.DataFrame, tmp_path: Path, capsys) -> None:
    argv = ["analyze", "--data-dir", str(tmp_path), "--baseline", "none"]
    assert main([*argv, "--by", "month", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["by"] == "month" and list(data["groups"]) == [
        "2025-08",
        "2025-09",
        "2025-10",
        "(none)",
    ]
    assert main([*argv, "--cutoff", "qwen2.5-coder:7b=2025-09-30", "--json"]) == 0
    cheap = next(
        s for s in json.loads(capsys.readouterr().out)["strategies"] if s["strategy"] == "cheap"
    )
    assert (cheap["after_cutoff"]["cutoff"], cheap["after_cutoff"]["problems"]) == ("2025-09-30", 1)
    assert main([*argv, "--by", "difficulty"]) == 0
    assert "By difficulty: easy, hard, (none)." in capsys.readouterr().out
    assert main([*argv, "--by", "colour"]) == 2
    assert "Cannot group by 'colour'" in capsys.readouterr().err
