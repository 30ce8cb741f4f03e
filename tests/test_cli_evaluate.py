"""``koderz evaluate`` on the command line."""

from __future__ import annotations

import gzip
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


@pytest.mark.parametrize("damage", ["header", "deflate"])
def test_evaluate_corrupt_gzip_samples_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    data = bytearray(gzip.compress(b'{"task_id": "HumanEval/0", "completion": ""}\n' * 200))
    if damage == "header":
        data[3] = 0xFF  # a flag byte that promises fields the file does not hold
    else:
        data[12:20] = b"\xff" * 8  # the compressed stream itself (zlib.error)
    path = tmp_path / "samples.jsonl.gz"
    path.write_bytes(bytes(data))
    assert main(["evaluate", str(path), "-k", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err and "gzip" in err and "Traceback" not in err


def test_evaluate_bad_samples_line_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text('{"task_id": "HumanEval/0", "completion": ""}\n{not json\n')
    assert main(["evaluate", str(path), "-k", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{path}, line 2: not valid JSON" in err
