"""``koderz evaluate`` on polyglot exercises ({task_id, files}) and MultiPL-E rows
({task_id, completion}), with Koderz's own small exercises and rows (tests/data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from koderz.evaluate import evaluate_samples, results_path
from koderz.problems import load_problems
from koderz.records import BuildTests
from koderz.sandbox.languages import missing

DATA = Path(__file__).parent.parent / "data"

pytestmark = pytest.mark.slow


def _samples(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in results_path(path).read_text().splitlines()]


def test_exercises_are_judged_in_order_with_pass_at_k_by_language(tmp_path: Path) -> None:
    for language in ("go", "python"):
        if missing(language):
            pytest.skip(str(missing(language)))
    problems = load_problems(DATA / "polyglot")
    rows = []
    for task_id in ("go/add-two", "python/add-two"):
        tests = problems[task_id].tests
        assert isinstance(tests, BuildTests)
        # The reference, and the stub with a test file of its own (not the worker's).
        rows.append({"task_id": task_id, "files": dict(tests.example)})
        rows.append({"task_id": task_id, "files": {tests.test[0]: "overwritten"}})
    path = _samples(tmp_path, rows)
    scores = evaluate_samples(path, problem_file=DATA / "polyglot", k=(1,), progress=False)
    assert scores == {
        "pass@1": 0.5,
        "by_language": {"go": {"pass@1": 0.5}, "python": {"pass@1": 0.5}},
    }
    results = _results(path)
    assert [(r["task_id"], r["passed"]) for r in results] == [
        ("go/add-two", True),
        ("go/add-two", False),
        ("python/add-two", True),
        ("python/add-two", False),
    ]
    assert results[0]["result"] == "passed" and results[0]["language"] == "go"
    assert results[1]["ignored_files"] == ["add_two_test.go"]


def test_an_exercise_whose_language_is_missing_is_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An empty toolchain cache: JavaScript's jest is not in it.
    monkeypatch.setenv("KODERZ_TOOLCHAINS", str(tmp_path / "empty"))
    path = _samples(tmp_path, [{"task_id": "javascript/add-two", "files": {}}])
    assert evaluate_samples(path, problem_file=DATA / "polyglot", progress=False) == {}
    (row,) = _results(path)
    assert row["skipped"] and not row["passed"] and "jest" in row["result"]
    assert "skipping javascript/add-two" in capsys.readouterr().err


def test_multiple_rows_get_multiple_verdicts(tmp_path: Path) -> None:
    if missing("python"):
        pytest.skip(str(missing("python")))
    rows = [
        {"task_id": "Koderz_0_add_two", "completion": "    return n + 2\n"},
        {"task_id": "Koderz_0_add_two", "completion": "    return 0\n"},
        {"task_id": "Koderz_0_add_two", "completion": "    return (\n"},
    ]
    path = _samples(tmp_path, rows)
    problems = DATA / "multiple" / "humaneval-py.jsonl"
    scores = evaluate_samples(path, problem_file=problems, k=(1,), progress=False)
    assert scores == {"pass@1": pytest.approx(1 / 3)}
    assert [r["result"] for r in _results(path)] == ["OK", "Exception", "SyntaxError"]
