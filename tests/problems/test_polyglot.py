"""Aider's polyglot layout, read from the small exercises of Koderz's own in
tests/data/polyglot (one per language; never copies of the benchmark's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from koderz.errors import ProblemFileError
from koderz.problems import load_problems, polyglot, select_problems, slice_problems
from koderz.records import BuildTests

DATA = Path(__file__).parent.parent / "data" / "polyglot"
LANGUAGES = ["cpp", "go", "java", "javascript", "python", "rust"]


def test_a_checkout_is_read_as_exercises_by_language_and_name() -> None:
    problems = load_problems(DATA)
    assert sorted(problems) == [f"{lang}/add-two" for lang in LANGUAGES]
    for task_id, problem in problems.items():
        assert problem.shape == "build"
        assert problem.language == task_id.split("/")[0]
        assert problem.source == "polyglot"
        assert "Add two" in problem.prompt
        assert isinstance(problem.tests, BuildTests)


def test_files_keep_the_exercise_but_not_its_notes() -> None:
    tests = load_problems(DATA)["rust/add-two"].tests
    assert isinstance(tests, BuildTests)
    paths = dict(tests.files)
    assert "src/lib.rs" in paths and "tests/add-two.rs" in paths and "Cargo.toml" in paths
    assert not any(p.startswith((".meta/", ".docs/")) for p in paths)
    # Aider's benchmark never lets the worker write Cargo.toml or CMakeLists.txt.
    assert tests.solution == ("src/lib.rs",)
    assert tests.test == ("tests/add-two.rs",)


@pytest.mark.parametrize(
    ("task_id", "placed"),
    [
        ("go/add-two", ["add_two.go"]),
        ("cpp/add-two", ["add_two.cpp", "add_two.h"]),
        ("javascript/add-two", ["add-two.js"]),
        # Two reference classes for one solution file: the second goes beside it.
        ("java/add-two", ["src/main/java/AddTwo.java", "src/main/java/Plus.java"]),
    ],
)
def test_the_reference_goes_where_the_solution_files_are(task_id: str, placed: list[str]) -> None:
    tests = load_problems(DATA)[task_id].tests
    assert isinstance(tests, BuildTests)
    assert sorted(dict(tests.example)) == placed


def test_the_worker_writes_solution_files_and_new_ones_beside_them_never_tests() -> None:
    tests = load_problems(DATA)["java/add-two"].tests
    assert isinstance(tests, BuildTests)
    assert tests.may_write("src/main/java/AddTwo.java")
    assert tests.may_write("src/main/java/Frame.java")
    assert not tests.may_write("src/test/java/AddTwoTest.java")
    assert not tests.may_write("build.gradle")
    assert not tests.may_write("../escape.java")
    assert not tests.may_write(".meta/config.json")


def test_select_by_task_and_language() -> None:
    problems = load_problems(DATA)
    assert list(select_problems(problems, "go/add-two,rust/add-two")) == [
        "go/add-two",
        "rust/add-two",
    ]


def test_languages_slice_the_checkout() -> None:
    problems = load_problems(DATA)
    kept = slice_problems(problems, languages="cpp,go,javascript")
    assert list(kept) == ["cpp/add-two", "go/add-two", "javascript/add-two"]


def test_one_language_folder_or_one_exercise_is_a_checkout_too() -> None:
    assert list(polyglot.load(DATA / "go")) == ["go/add-two"]
    assert list(polyglot.load(DATA / "go" / "exercises" / "practice" / "add-two")) == ["go/add-two"]


def test_a_folder_without_exercises_is_refused(tmp_path: Path) -> None:
    assert not polyglot.is_checkout(tmp_path)
    (tmp_path / "go" / "exercises" / "practice" / "x" / ".meta").mkdir(parents=True)
    (tmp_path / "go" / "exercises" / "practice" / "x" / ".meta" / "config.json").write_text(
        json.dumps({"files": {"solution": [], "test": ["x_test.go"]}})
    )
    with pytest.raises(ProblemFileError, match="names no solution"):
        polyglot.load(tmp_path)
