"""The widgets of the explore notebook (the ``widgets`` namespace, ``from koderz import
widgets``): pick an experiment and read its story.

UI for a live Jupyter kernel (ipywidgets), kept apart from :mod:`koderz.analysis.report.plots`,
whose figures, tables and HTML a static report keeps.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from koderz.analysis.stats.groups import group_values, groups_in
from koderz.analysis.text.pages import story_html

__all__ = ["ALL", "explorer"]

ALL = "(all)"
"""A filter's choice that keeps every problem."""


def explorer(steps: pd.DataFrame) -> Any:
    """A widget to pick a run, strategy and problem and read that experiment's story; the
    problems offered can be narrowed by a dropdown per group the data has (difficulty,
    platform, month of release, source, language:
    :data:`~koderz.analysis.stats.groups.GROUP_KEYS`).

    Returns an ``ipywidgets.VBox``: the run, strategy and problem, the filters, the story.
    Display it in Jupyter (it needs a live kernel).
    """
    import ipywidgets as w

    def options(frame: pd.DataFrame, col: str) -> list[str]:
        return sorted(frame[col].dropna().astype(str).unique().tolist())

    run = w.Dropdown(options=options(steps, "run_id"), description="run")
    strategy = w.Dropdown(description="strategy")
    problem = w.Dropdown(description="problem")
    view = w.HTML()
    labels = groups_in(steps)
    groups = {by: group_values(steps, by) for by in labels}
    filters = {
        by: w.Dropdown(options=[ALL, *values], value=ALL, description=by)
        for by, values in labels.items()
    }

    # A choice re-derives the ones after it in a chain (run -> strategy -> problem -> story),
    # so the story is drawn once per choice. Setting a box's options fires its observer (once
    # or twice); while the chain sets them, the observers stand aside.
    quiet = [False]

    def offer(box: Any, choices: list[str]) -> None:
        keep = box.value if box.value in choices else (choices[0] if choices else None)
        quiet[0] = True
        try:
            box.options = choices
            box.value = keep
        finally:
            quiet[0] = False

    def pick_strategy(*_: Any) -> None:
        if not quiet[0]:
            offer(strategy, options(steps[steps["run_id"] == run.value], "strategy"))
            pick_problem()

    def pick_problem(*_: Any) -> None:
        if not quiet[0]:
            keep = (steps["run_id"] == run.value) & (steps["strategy"] == strategy.value)
            for by, box in filters.items():
                if box.value != ALL:
                    keep &= groups[by] == box.value
            offer(problem, options(steps[keep], "problem_id"))
            show()

    def show(*_: Any) -> None:
        if quiet[0]:
            return
        chosen = steps[
            (steps["run_id"] == run.value)
            & (steps["strategy"] == strategy.value)
            & (steps["problem_id"] == problem.value)
        ]
        ids = chosen["experiment_id"].dropna().unique().tolist()
        view.value = (
            story_html(steps, str(ids[0]))
            if ids
            else "<p>No experiment: no problem of this run and strategy is in the groups "
            "chosen.</p>"
        )

    run.observe(pick_strategy, names="value")
    strategy.observe(pick_problem, names="value")
    problem.observe(show, names="value")
    for box in filters.values():
        box.observe(pick_problem, names="value")
    pick_strategy()
    return w.VBox([w.HBox([run, strategy, problem]), w.HBox(list(filters.values())), view])
