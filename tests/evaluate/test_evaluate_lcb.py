"""``koderz evaluate`` on LiveCodeBench's custom output and on JSONL whole programs, end to
end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from koderz.cli import main

LCB = Path(__file__).parent.parent / "data" / "livecodebench"

RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
HALF = "n = int(input())\nprint(n / 2)\n"
TWO_SUM = (
    "class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n"
    "        for i, x in enumerate(nums):\n            if target - x in seen:\n"
    "                return (seen[target - x], i)\n            seen[x] = i\n"
)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["evaluate", *args, "--problem-file", str(LCB), "--no-progress"]) == 0
    out = capsys.readouterr().out
    return json.loads(out[out.index("{") :])


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in Path(f"{path}_results.jsonl").read_text().splitlines()]


def test_lcb_custom_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples = tmp_path / "custom.json"
    samples.write_text(
        json.dumps(
            [
                {"question_id": "9001", "code_list": [TWO_SUM, "class Solution: pass"]},
                {"question_id": "abc900_a", "code_list": [RIGHT, "print(3)", "1/0"]},
                {"question_id": "1900_B", "code_list": [HALF]},
            ]
        )
    )
    scores = run([str(samples), "-k", "1,2"], capsys)
    # one row per program, in the file's order, each question's list in order
    got = [(r["task_id"], r["code_index"], r["passed"]) for r in rows(samples)]
    assert got == [
        ("9001", 0, True),
        ("9001", 1, False),
        ("abc900_a", 0, True),
        ("abc900_a", 1, False),
        ("abc900_a", 2, False),
        ("1900_B", 0, True),
    ]
    assert rows(samples)[3]["result"].startswith("failed: wrong answer")  # type: ignore[union-attr]
    assert scores["pass@1"] == pytest.approx((1 / 2 + 1 / 3 + 1) / 3)
    assert scores["by_difficulty"] == {
        "easy": {
            "pass@1": pytest.approx((1 / 2 + 1 / 3) / 2),
            "pass@2": pytest.approx((1 + 2 / 3) / 2),
        },
        "medium": {"pass@1": 1.0},
    }


def test_jsonl_of_whole_programs_and_a_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = tmp_path / "samples.jsonl"
    lines = [
        {"task_id": "abc900_a", "completion": RIGHT},
        {"task_id": "1900_B", "completion": "print(0)"},
        {"task_id": "9001", "completion": TWO_SUM},
    ]
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    scores = run(
        [str(samples), "-k", "1", "--since", "2024-05-01", "--platform", "codeforces"], capsys
    )
    assert [(r["task_id"], r["passed"]) for r in rows(samples)] == [("1900_B", False)]
    assert scores == {"pass@1": 0.0, "by_difficulty": {"medium": {"pass@1": 0.0}}}


def test_apps_and_taco_problems_judge_whole_programs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = tmp_path / "samples.jsonl"
    lines = [
        {"task_id": "apps/7", "completion": "print(sum(map(int, input().split())))"},
        {"task_id": "apps/2", "completion": "def square(n):\n    return n * n\n"},
        {"task_id": "apps/2", "completion": "def square(n):\n    return n + n\n"},
    ]
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    problems = Path(__file__).parent.parent / "data" / "apps.jsonl"
    args = ["evaluate", str(samples), "--problem-file", str(problems), "--no-progress"]
    assert main([*args, "-k", "1", "--samples-format", "program"]) == 0
    capsys.readouterr()
    assert [r["passed"] for r in rows(samples)] == [True, True, False]
