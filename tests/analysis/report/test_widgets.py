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
    view = box.children[1]
    assert drawn == ["demo-1:frontier-only:0:0"]  # on open: the first of each
    for box_, value, shown in (
        (problem, "HumanEval/2", "demo-1:frontier-only:2:0"),
        (strategy, "local+frontier", "demo-1:local+frontier:2:0"),
        (run, "demo-2", "demo-2:local+frontier:2:0"),  # the other choices are kept
    ):
        drawn.clear()
        box_.value = value
        assert drawn == [shown]
        assert view.value.startswith(f"<h3>{shown}: ")
