"""``koderz evaluate`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from koderz.cli import main
from koderz.problems import load_problems


@pytest.mark.timeout(120)
def test_evaluate_prints_pass_at_k_and_writes_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = load_problems("humaneval")
    path = tmp_path / "samples.jsonl"
    path.write_text(
        "".join(
            json.dumps({"task_id": t, "completion": problems[t].canonical_solution}) + "\n"
            for t in ("HumanEval/0", "HumanEval/1")
        )
    )
    status = main(["evaluate", str(path), "--workers", "2", "-k", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0
    assert json.loads(out[out.index("{") :]) == {"pass@1": 1.0}
    assert (tmp_path / "samples.jsonl_results.jsonl").exists()


def test_evaluate_bad_k_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("")
    assert main(["evaluate", str(path), "-k", "one"]) == 2
    assert "-k 'one'" in capsys.readouterr().err


def test_evaluate_custom_problem_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problems = tmp_path / "mine.jsonl"
    problems.write_text(
        json.dumps(
            {
                "task_id": "mine/1",
                "prompt": "def double(x):\n",
                "entry_point": "double",
                "tests": ["assert double(2) == 4", "assert double(0) == 0"],
            }
        )
        + "\n"
    )
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "mine/1", "completion": "    return x + 2\n"}))
    status = main(
        ["evaluate", str(samples), "--problem-file", str(problems), "-k", "1", "--no-progress"]
    )
    assert status == 0
    row = json.loads((tmp_path / "s.jsonl_results.jsonl").read_text())
    assert (row["passed"], row["tests_passed"], row["tests_total"]) == (False, 1, 2)
