"""The widgets of the explore notebook: pick an experiment and read its story.

UI for a live Jupyter kernel (ipywidgets), kept apart from :mod:`koderz.plots`, which draws
the figures and tables a static report keeps.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from koderz.plots import story_html

__all__ = ["explorer"]


def explorer(steps: pd.DataFrame) -> Any:
    """A widget to pick a run, strategy and problem and read that experiment's story.

    Returns an ``ipywidgets.VBox``; display it in Jupyter (it needs a live kernel).
    """
    import ipywidgets as w

    def options(frame: pd.DataFrame, col: str) -> list[str]:
        return sorted(frame[col].dropna().astype(str).unique().tolist())

    run = w.Dropdown(options=options(steps, "run_id"), description="run")
    strategy = w.Dropdown(description="strategy")
    problem = w.Dropdown(description="problem")
    view = w.HTML()

    def offer(box: Any, choices: list[str]) -> None:
        keep = box.value if box.value in choices else (choices[0] if choices else None)
        box.options = choices
        box.value = keep

    def pick_strategy(*_: Any) -> None:
        offer(strategy, options(steps[steps["run_id"] == run.value], "strategy"))

    def pick_problem(*_: Any) -> None:
        chosen = steps[(steps["run_id"] == run.value) & (steps["strategy"] == strategy.value)]
        offer(problem, options(chosen, "problem_id"))

    def show(*_: Any) -> None:
        chosen = steps[
            (steps["run_id"] == run.value)
            & (steps["strategy"] == strategy.value)
            & (steps["problem_id"] == problem.value)
        ]
        ids = chosen["experiment_id"].dropna().unique().tolist()
        view.value = story_html(steps, str(ids[0])) if ids else "<p>No experiment.</p>"

    def refresh(*_: Any) -> None:
        # Any choice re-derives the ones after it, then shows the story.
        pick_strategy()
        pick_problem()
        show()

    for box in (run, strategy, problem):
        box.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([run, strategy, problem]), view])
