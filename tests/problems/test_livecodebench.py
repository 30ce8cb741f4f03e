"""LiveCodeBench's rows and folders, APPS/TACO rows, and packed tests read safely (on the
hand-made rows of ``tests/data/``, never the real data)."""

from __future__ import annotations

import base64
import json
import pickle
import shutil
import zlib
from pathlib import Path

import pytest

from koderz.errors import ConfigError, DataError, ProblemFileError
from koderz.problems import load_problems
from koderz.problems.packed import unpack
from koderz.records import CallTests, IOTests

DATA = Path(__file__).parent.parent / "data"
LCB = DATA / "livecodebench"


def test_a_folder_reads_its_files_in_order() -> None:
    problems = load_problems(LCB)
    assert list(problems) == ["abc900_a", "1900_B", "9001"]
    stdin = problems["abc900_a"]
    assert stdin.shape == "io" and isinstance(stdin.tests, IOTests)
    assert (stdin.released, stdin.difficulty, stdin.platform) == ("2024-03-02", "easy", "atcoder")
    assert (stdin.source, stdin.language) == ("livecodebench", "python")
    assert stdin.prompt.startswith("Read two integers")
    # every test judges, the public ones first
    assert [c.input for c in stdin.tests.cases] == ["1 2\n", "10 20\n", "-5 5\n"]
    assert [c.input for c in stdin.tests.public] == ["1 2\n"]
    assert [c.input for c in stdin.tests.hidden] == ["10 20\n", "-5 5\n"]
    public = stdin.public()
    assert public is not None and isinstance(public.tests, IOTests)
    assert len(public.tests.cases) == 1


def test_a_functional_row_with_packed_private_tests() -> None:
    problem = load_problems(LCB / "test2.jsonl")["9001"]
    tests = problem.tests
    assert isinstance(tests, CallTests) and problem.shape == "calls"
    assert tests.func_name == "twoSum"
    assert tests.starter_code.startswith("class Solution:")
    assert [c.output for c in tests.cases] == ["[0, 1]", "[1, 2]", "[0, 1]"]
    assert tests.rules.case_timeout_s == 6.0 and "collections" in tests.rules.prelude


def test_only_the_rows_asked_for_are_read(tmp_path: Path) -> None:
    assert list(load_problems(LCB, only={"9001"})) == ["9001"]


def test_apps_and_taco_rows() -> None:
    problems = load_problems(DATA / "apps.jsonl")
    apps, taco = problems["apps/7"], problems["apps/2"]
    assert isinstance(apps.tests, IOTests) and apps.source == "apps"
    assert [c.output for c in apps.tests.cases] == ["6\n", "4"]  # a list of lines joined
    assert apps.platform == "codeforces" and apps.difficulty == "introductory"
    assert isinstance(taco.tests, CallTests) and taco.tests.func_name == "square"
    assert [c.input for c in taco.tests.cases] == ["3", "0"]
    assert (taco.source, taco.platform, taco.released) == ("taco", "codewars", "2021-05-04")


def _row(**changes: object) -> dict[str, object]:
    row = json.loads((LCB / "test.jsonl").read_text().splitlines()[0])
    row.update(changes)
    return row


class _Boom:
    """A pickle that would run a command when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        import os

        return (os.system, (f"touch {self.marker}",))


def _packed(obj: object) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()


def test_a_packed_test_that_would_run_code_is_refused_unrun(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "test.jsonl"
    rows = [_row(), _row(question_id="evil_1", private_test_cases=_packed(_Boom(marker)))]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError) as caught:
        load_problems(path)
    message = str(caught.value)
    assert str(path) in message and "question_id evil_1" in message
    assert "STACK_GLOBAL" in message or "REDUCE" in message
    assert not marker.exists()


@pytest.mark.parametrize(
    "obj", [["a"], {"a": 1}, ("x", "y"), 3], ids=["list", "dict", "two strings", "int"]
)
def test_a_packed_test_must_be_one_string(obj: object) -> None:
    with pytest.raises(DataError, match="refused"):
        unpack(_packed(obj), where="f, question_id 1")


def test_packed_garbage_is_a_data_error() -> None:
    with pytest.raises(DataError, match="neither JSON nor packed"):
        unpack("not base64 at all!", where="f, question_id 1")


def test_the_cli_prints_one_line_for_a_refused_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from koderz.cli import main

    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps(_row(private_test_cases=_packed(_Boom(tmp_path / "x")))) + "\n")
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "abc900_a", "completion": "print(3)"}) + "\n")
    code = main(["evaluate", str(samples), "--problem-file", str(path), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "question_id abc900_a" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_malformed_rows_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps(_row(public_test_cases="{not json")) + "\n")
    with pytest.raises(ProblemFileError, match="public_test_cases"):
        load_problems(path)
    path.write_text(json.dumps(_row(metadata='{"func_name": "no such"}')) + "\n")
    with pytest.raises(ProblemFileError, match="metadata"):
        load_problems(path)


def test_a_folder_without_the_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"test\.jsonl"):
        load_problems(tmp_path)
    shutil.copy(LCB / "test2.jsonl", tmp_path / "test2.jsonl")
    assert list(load_problems(tmp_path)) == ["9001"]
