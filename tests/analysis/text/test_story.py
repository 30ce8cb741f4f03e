"""An experiment told as text and as files, and the runs of a folder in one line each."""

from __future__ import annotations

import datetime as dt

import pytest

from koderz.analysis.text.story import experiment_story, export_experiment, runs_table, story
from koderz.errors import ConfigError
from koderz.store import StepWriter, load_steps

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
EXP = "r1/s/HumanEval/0"


def at(seconds: int) -> dict[str, dt.datetime]:
    return {
        "started_at": T0 + dt.timedelta(seconds=seconds),
        "finished_at": T0 + dt.timedelta(seconds=seconds + 1),
    }


@pytest.fixture
def steps(tmp_path):
    base = {
        "run_id": "r1",
        "strategy": "s",
        "experiment_id": EXP,
        "problem_id": "HumanEval/0",
        "worker_model": "w",
        "reviewer_model": "big",
    }
    call = {"model": "w", "tier": "local", "input_tokens": 10, "output_tokens": 5}
    rows = [
        {
            **base,
            **call,
            **at(0),
            "role": "attempt",
            "iteration": 1,
            "status": "failed",
            "passed": False,
            "tests_passed": 1,
            "tests_total": 3,
            "code": "def f(): return 0",
            "feedback": "1 of 3 tests passed.",
            "cost_usd": 0.0,
            "hardware_cost_usd": 0.25,
        },
        {
            **base,
            **at(2),
            "role": "checkpoint",
            "iteration": 1,
            "model": "big",
            "tier": "frontier",
            "status": "ok",
            "guidance": "Return one.",
            "cost_usd": 0.5,
            "hardware_cost_usd": 0.0,
        },
        {
            **base,
            **call,
            **at(4),
            "role": "attempt",
            "iteration": 2,
            "status": "passed",
            "passed": True,
            "tests_passed": 3,
            "tests_total": 3,
            "code": "def f(): return 1",
            "feedback": "3 of 3 tests passed.",
            "response": "```python\ndef f(): return 1\n```",
            "cost_usd": 0.0,
            "hardware_cost_usd": 0.25,
        },
        {
            **base,
            **at(6),
            "role": "end",
            "iteration": 2,
            "status": "solved",
            "passed": True,
            "cost_usd": 0.0,
            "hardware_cost_usd": 0.0,
        },
    ]
    StepWriter(tmp_path, "r1").write_many(rows)
    return load_steps(tmp_path)


def test_story_tells_each_step_and_the_money(steps):
    text = experiment_story(steps, EXP)
    assert "ATTEMPT 1 - failed, 1/3 tests" in text and "ATTEMPT 2 - PASSED, 3/3 tests" in text
    assert "CHECKPOINT after attempt 1" in text and "Return one." in text
    assert "END - solved after 2 attempt(s); $1.000000 in all" in text  # 0.25 + 0.5 + 0.25
    # What the worker was shown after the failure, and nothing after the pass.
    assert text.count("feedback shown next:") == 1
    assert "3 of 3 tests passed." not in text


def test_export_writes_files_people_can_grep(steps, tmp_path):
    paths = export_experiment(steps, EXP, tmp_path / "out")
    names = sorted(p.name for p in paths)
    stem = "r1_s_HumanEval_0"
    assert f"{stem}_checkpoint01_guidance.txt" in names
    assert f"{stem}_iter02_code.py" in names and f"{stem}_iter02_response.txt" in names
    assert (tmp_path / "out" / f"{stem}_iter02_code.py").read_text() == "def f(): return 1\n"


def test_runs_table_sums_tokens_and_hardware(steps):
    row = runs_table(steps).iloc[0]
    assert (row["run_id"], row["experiments"], row["finished"], row["solved"]) == ("r1", 1, 1, 1)
    assert row["cost_usd"] == pytest.approx(1.0)


def test_an_unknown_experiment_names_some_that_exist(steps):
    with pytest.raises(ConfigError, match="Some that exist: r1/s/HumanEval/0"):
        experiment_story(steps, "r1/s/HumanEval/9")


def test_text_and_html_tell_the_same_steps_plateau_and_rung_included(steps):
    from koderz.analysis.text.pages import story_html

    steps = steps.copy()
    steps.loc[steps["role"] == "checkpoint", "plateau"] = True
    second = (steps["role"] == "attempt") & (steps["iteration"] == 2)
    steps.loc[second, ["rung", "model"]] = [2, "bigger"]
    text, page = experiment_story(steps, EXP), story_html(steps, EXP)
    assert "CHECKPOINT after attempt 1 (plateau)" in text
    assert "<h4>Checkpoint after attempt 1 (plateau) &mdash; " in page
    assert "ATTEMPT 2 (bigger, rung 2) - PASSED" in text
    assert "<h4>Attempt 2 (bigger, rung 2) &mdash; passed, 3/3 tests" in page
    told = story(steps, EXP)
    assert [s.role for s in told.steps] == ["attempt", "checkpoint", "attempt", "end"]
    assert told.total_usd == pytest.approx(1.0)
