"""Problem sets: the bundled HumanEval, EvalPlus files, our own format, and selection."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from koderz.errors import ConfigError, ProblemFileError
from koderz.problems import load_problems, select_problems

HUMANEVAL_PLUS_ROW = {
    "task_id": "HumanEval/0",
    "prompt": "def inc(x):\n",
    "entry_point": "inc",
    "canonical_solution": "    return x + 1\n",
    "contract": "",
    "base_input": [[1]],
    "plus_input": [[2]],
    "atol": 0,
    "test": (
        "def assertion(out, exp, atol):\n    assert out == exp\n\n"
        "def check(candidate):\n    inputs = [[1], [2]]\n    results = [2, 3]\n"
        "    for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
        "        assertion(candidate(*inp), exp, 0)\n"
    ),
}
MBPP_PLUS_ROW = {**HUMANEVAL_PLUS_ROW, "task_id": "Mbpp/2", "prompt": '"""\nInc.\n"""\n'}
CUSTOM_ROW = {
    "task_id": "mine/add",
    "prompt": "def add(a, b):\n",
    "entry_point": "add",
    "tests": ["assert add(1, 2) == 3", "assert candidate(0, 0) == 0"],
}


def write_jsonl(path: Path, rows: list[object], *, gz: bool = False) -> Path:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def test_humaneval_bundled() -> None:
    problems = load_problems("humaneval")
    assert len(problems) == 164
    assert list(problems)[:2] == ["HumanEval/0", "HumanEval/1"]
    p = problems["HumanEval/32"]
    assert p.tests.entry_point == "find_zero" and "def check(candidate)" in p.tests.test
    assert p.source == "humaneval" and p.canonical_solution


@pytest.mark.parametrize("gz", [False, True])
def test_evalplus_formats(tmp_path: Path, gz: bool) -> None:
    path = write_jsonl(tmp_path / "plus.jsonl", [HUMANEVAL_PLUS_ROW, MBPP_PLUS_ROW], gz=gz)
    problems = load_problems(path)
    assert list(problems) == ["HumanEval/0", "Mbpp/2"]
    assert problems["HumanEval/0"].source == "humaneval+"
    assert problems["Mbpp/2"].source == "mbpp+"


def test_custom_format_builds_a_check(tmp_path: Path) -> None:
    problems = load_problems(write_jsonl(tmp_path / "mine.jsonl", [CUSTOM_ROW]))
    test = problems["mine/add"].tests.test
    assert test.startswith("def check(candidate):\n    assert add(1, 2) == 3\n")


def test_custom_problems_run_in_the_sandbox(tmp_path: Path) -> None:
    from koderz.sandbox import run_tests

    problems = load_problems(write_jsonl(tmp_path / "p.jsonl", [CUSTOM_ROW, HUMANEVAL_PLUS_ROW]))
    add = run_tests(problems["mine/add"], "def add(a, b):\n    return a + b\n")
    assert (add.passed, add.tests_total) == (True, 2)
    plus = problems["HumanEval/0"]
    inc = run_tests(plus, plus.prompt + plus.canonical_solution)
    assert (inc.passed, inc.tests_total) == (True, 2)


@pytest.mark.parametrize(
    ("rows", "line", "field"),
    [
        (["{not json"], 1, None),
        ([CUSTOM_ROW, "[1, 2]"], 2, None),
        ([{**CUSTOM_ROW, "task_id": 7}], 1, "task_id"),
        ([{k: v for k, v in CUSTOM_ROW.items() if k != "entry_point"}], 1, "entry_point"),
        ([{**CUSTOM_ROW, "entry_point": "not a name"}], 1, "entry_point"),
        ([CUSTOM_ROW, {**CUSTOM_ROW, "tests": ["assert add(1,"]}], 2, "tests"),
        ([{**CUSTOM_ROW, "tests": []}], 1, "tests"),
        ([{k: v for k, v in CUSTOM_ROW.items() if k != "tests"}], 1, "test"),
        ([{**HUMANEVAL_PLUS_ROW, "test": "def check(candidate)\n"}], 1, "test"),
        ([CUSTOM_ROW, CUSTOM_ROW], 2, "task_id"),
    ],
)
def test_malformed_files_name_line_and_field(
    tmp_path: Path, rows: list[object], line: int, field: str | None
) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(ProblemFileError) as info:
        load_problems(path)
    assert info.value.line == line and info.value.field == field
    assert f"line {line}" in str(info.value)


def test_each_row_is_read_by_the_format_that_claims_it(tmp_path: Path) -> None:
    from koderz.problems.formats import FORMATS, format_of
    from koderz.problems.rows import Where

    where = Where("p.jsonl", 1, "p.jsonl")
    humaneval_row = {k: v for k, v in HUMANEVAL_PLUS_ROW.items() if "input" not in k}
    data = Path(__file__).parent.parent / "data"
    lcb_rows = [json.loads(line) for line in (data / "livecodebench/test2.jsonl").open()]
    apps_rows = [json.loads(line) for line in (data / "apps.jsonl").open()]
    claimed = {
        "evalplus": (HUMANEVAL_PLUS_ROW, "function"),
        "koderz": (CUSTOM_ROW, "function"),
        "humaneval": (humaneval_row, "function"),
        "livecodebench": (lcb_rows[0], "calls"),
        "apps": (apps_rows[0], "io"),
        "multipl-e": (
            {
                "name": "HumanEval_0_f",
                "language": "js",
                "prompt": "function f(){\n",
                "tests": "}\n",
                "stop_tokens": ["\n}"],
            },
            "script",
        ),
    }
    assert sorted(f.name for f in FORMATS) == sorted(claimed)
    for name, (row, shape) in claimed.items():
        assert format_of(row, where).name == name
        assert format_of(row, where).problem(row, where).shape == shape
    stranger = {"task_id": "x", "question": "What is 1 + 1?"}
    path = write_jsonl(tmp_path / "stranger.jsonl", [stranger])
    with pytest.raises(ProblemFileError, match=r"line 1.*no problem format.*question, task_id"):
        load_problems(path)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_problems(tmp_path / "nope.jsonl")
    with pytest.raises(ProblemFileError, match="no problems"):
        load_problems(write_jsonl(tmp_path / "empty.jsonl", []))


def test_select() -> None:
    problems = load_problems("humaneval")
    assert list(select_problems(problems, "0:3")) == [f"HumanEval/{i}" for i in range(3)]
    assert list(select_problems(problems, "160:")) == [f"HumanEval/{i}" for i in range(160, 164)]
    assert list(select_problems(problems, "HumanEval/3,HumanEval/7")) == [
        "HumanEval/3",
        "HumanEval/7",
    ]
    assert list(select_problems(problems, "3, 7")) == ["HumanEval/3", "HumanEval/7"]
    assert list(select_problems(problems, None, limit=2)) == ["HumanEval/0", "HumanEval/1"]
    assert len(select_problems(problems)) == 164


def test_select_unknown_names_close_ids() -> None:
    problems = load_problems("humaneval")
    with pytest.raises(ConfigError, match="HumanEval/16"):
        select_problems(problems, "HumanEvl/16")
    with pytest.raises(ConfigError, match="Unknown problem '999'"):
        select_problems(problems, "999")


def test_select_ambiguous_shorthand(tmp_path: Path) -> None:
    rows = [
        {**CUSTOM_ROW, "task_id": "a/1"},
        {**CUSTOM_ROW, "task_id": "b/1"},
    ]
    problems = load_problems(write_jsonl(tmp_path / "two.jsonl", rows))
    with pytest.raises(ConfigError, match="ambiguous"):
        select_problems(problems, "1")


def test_a_problem_whose_tests_assert_nothing_names_the_line(tmp_path):
    good = {
        "task_id": "a",
        "prompt": "def f():\n",
        "entry_point": "f",
        "test": "def check(candidate):\n    assert candidate() == 1\n",
    }
    empty = {**good, "task_id": "b", "test": "def check(candidate):\n    candidate()\n"}
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(empty) + "\n")
    with pytest.raises(ProblemFileError, match=r"line 2, field 'test': has no assertion"):
        load_problems(path)
