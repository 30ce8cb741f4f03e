"""Windows of release dates and slices by difficulty, platform and language
(koderz.problems.select.slice_problems), with problems made for the test."""

from __future__ import annotations

import pytest

from koderz.errors import ConfigError
from koderz.problems.select import ProblemSlice, slice_problems
from koderz.records import FunctionTests, Problem

T = FunctionTests("f", "assert f()")


def problem(task_id: str, released: str = "", **fields: str) -> Problem:
    return Problem(task_id, "", T, released=released, **fields)


PROBLEMS = {
    p.task_id: p
    for p in [
        problem("a", "2024-12-31", difficulty="easy", platform="leetcode"),
        problem("b", "2025-01-01", difficulty="medium", platform="atcoder"),
        problem("c", "2025-03-15", difficulty="hard", platform="codeforces", language="go"),
        problem("d", "2025-03-31", difficulty="Easy", platform="LeetCode"),
        problem("e", "2025-04-01", difficulty="medium", platform="atcoder"),
        problem("undated", difficulty="easy"),
    ]
}


@pytest.mark.parametrize(
    ("window", "kept"),
    [
        ({"since": "2025-01-01"}, ["b", "c", "d", "e"]),  # the start is in the window
        ({"until": "2025-03-31"}, ["a", "b", "c", "d"]),  # and so is the end
        ({"since": "2025-01-01", "until": "2025-03-31"}, ["b", "c", "d"]),
        ({"since": "2025-03-31", "until": "2025-03-31"}, ["d"]),  # a window of one day
    ],
)
def test_a_window_holds_both_its_ends(window: dict[str, str], kept: list[str]) -> None:
    with pytest.warns(UserWarning, match=r"^1 problem\(s\) have no release date"):
        assert list(slice_problems(PROBLEMS, **window)) == kept


def test_slices_keep_the_labels_given_whatever_their_case() -> None:
    assert list(slice_problems(PROBLEMS, difficulties="EASY")) == ["a", "d", "undated"]
    with pytest.warns(UserWarning, match="no platform"):
        chosen = slice_problems(PROBLEMS, difficulties=["easy", "hard"], platforms="leetcode")
    assert list(chosen) == ["a", "d"]
    assert list(slice_problems(PROBLEMS, languages="go")) == ["c"]
    # Several at once, with the window: each narrows the last.
    with pytest.warns(UserWarning):
        chosen = slice_problems(PROBLEMS, since="2025-01-01", platforms="atcoder, codeforces")
    assert list(chosen) == ["b", "c", "e"]


def test_a_problem_without_the_label_is_left_out_and_counted() -> None:
    with pytest.warns(UserWarning, match=r"^1 problem\(s\) have no platform, so --platform"):
        assert list(slice_problems(PROBLEMS, platforms="atcoder")) == ["b", "e"]


def test_nothing_given_keeps_everything_without_a_word(recwarn: pytest.WarningsRecorder) -> None:
    assert slice_problems(PROBLEMS) == PROBLEMS
    assert not recwarn.list


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"since": "2025-1-1"}, r"--since\) '2025-1-1' is not a date: give YYYY-MM-DD"),
        ({"until": "yesterday"}, r"--until\) 'yesterday' is not a date"),
        ({"since": "2025-02-01", "until": "2025-01-31"}, r"starts \(--since 2025-02-01\) after"),
        ({"difficulties": "meduim"}, r"Unknown difficulty 'meduim' \(--difficulty\) \(did you "),
        ({"platforms": "kattis"}, r"Unknown platform 'kattis' \(--platform\); use one of atc"),
        ({"languages": "cobol"}, r"Unknown language 'cobol' \(--languages\)"),
    ],
)
def test_bad_values_say_the_fix(given: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        slice_problems(PROBLEMS, **given)


def test_a_sets_own_labels_are_known() -> None:
    apps = {"x": problem("x", difficulty="interview"), "y": problem("y", difficulty="easy")}
    assert list(slice_problems(apps, difficulties="interview")) == ["x"]


def test_nothing_left_says_why(recwarn: pytest.WarningsRecorder) -> None:
    humaneval = {f"HumanEval/{i}": problem(f"HumanEval/{i}") for i in range(3)}
    with pytest.raises(ConfigError) as e:
        slice_problems(humaneval, since="2025-01-01")
    assert not recwarn.list  # the error says it all
    assert str(e.value) == (
        "No problem of the 3 is released on or after 2025-01-01 (3 problem(s) have no release "
        "date, so they are outside any window (--since/--until)): widen the window or the slices."
    )


def test_the_slice_as_the_manifest_records_it() -> None:
    chosen = ProblemSlice.of(until="2025-05-31", platforms="LeetCode,atcoder,leetcode")
    assert chosen.to_dict() == {
        "since": None,
        "until": "2025-05-31",
        "difficulties": [],
        "platforms": ["leetcode", "atcoder"],
        "languages": [],
        "described": "released on or before 2025-05-31; platform leetcode, atcoder",
    }
    assert chosen.describe() == "released on or before 2025-05-31; platform leetcode, atcoder"
    assert not ProblemSlice.of().given and chosen.given
