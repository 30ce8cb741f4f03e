"""The explore notebook's widget: each choice draws the story once, and the right one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from koderz import demo_data
from koderz.analysis.report import widgets
from koderz.store import load_steps


def test_explorer_draws_the_story_once_per_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = load_steps(demo_data(tmp_path, problems=3, runs=2))
    drawn: list[str] = []
    story_html = widgets.story_html

    def counted(frame: Any, experiment_id: str) -> Any:
        drawn.append(experiment_id)
        return story_html(frame, experiment_id)

    monkeypatch.setattr(widgets, "story_html", counted)
    box = widgets.explorer(steps)
    run, strategy, problem = box.children[0].children
    view = box.children[-1]
    # Demo problem 2 is 2102D, the first of the three ids (3400, abc401_d) in order.
    assert drawn == ["demo-1:frontier-only:2:0"]  # on open: the first of each
    for box_, value, shown in (
        (problem, "3400", "demo-1:frontier-only:0:0"),
        (strategy, "local+frontier", "demo-1:local+frontier:0:0"),
        (run, "demo-2", "demo-2:local+frontier:0:0"),  # the other choices are kept
    ):
        drawn.clear()
        box_.value = value
        assert drawn == [shown]
        assert view.value.startswith(f"<h3>{shown}: ")


def test_the_groups_filter_the_problems(tmp_path: Path) -> None:
    steps = load_steps(demo_data(tmp_path, problems=6))
    box = widgets.explorer(steps)
    problem = box.children[0].children[2]
    filters = {f.description: f for f in box.children[1].children}
    # A dropdown per group the demo data has: its problems are dated and labelled.
    assert list(filters) == ["difficulty", "platform", "month", "source", "language"]
    assert filters["difficulty"].options == (widgets.ALL, "easy", "medium", "hard")
    assert filters["language"].options == (widgets.ALL, "python")
    assert problem.options == ("2102D", "2105C", "3400", "3421", "abc401_d", "abc404_c")
    filters["platform"].value = "atcoder"
    assert problem.options == ("abc401_d", "abc404_c")
    filters["difficulty"].value = "hard"  # both are hard (demo problems 1 and 4)
    assert problem.options == ("abc401_d", "abc404_c")
    filters["month"].value = "2026-03"
    assert problem.options == ("abc404_c",)
    assert "<h3>demo-1:frontier-only:4:0: " in box.children[-1].value
    filters["platform"].value = "leetcode"  # no leetcode problem of March 2026
    assert problem.options == () and "No experiment" in box.children[-1].value
    filters["platform"].value = widgets.ALL
    assert problem.options == ("abc404_c",)
