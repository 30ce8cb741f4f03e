"""The ``plots`` namespace of the notebooks (``from koderz import plots``): every figure,
table and section a report shows, and the tables they are drawn from, in one place, so a
notebook imports nothing but :mod:`koderz`.

Nothing is defined here; each name is its layer's:

- the figures (:mod:`~koderz.analysis.figures`): the cost/quality plane, the problems grid,
  partial credit by attempt, the charts of the summary, the pass rates per group and before
  and after the models' cutoffs, their colours, and :func:`save_figures`;
- the words (:mod:`~koderz.analysis.text`): the answer and an experiment's story as HTML, the
  tables of savings, costs, the held-out choice and the cutoffs, the window's warning, the
  methods section, strategies named with their feedback level (:func:`with_feedback`) and
  models (:func:`strategy_models`);
- the numbers some of those are drawn from (:mod:`~koderz.analysis.stats`): the problems grid
  (:func:`solve_grid`) and partial credit (:func:`tests_by_attempt`), and the columns a
  report reads (:data:`REPORT_COLUMNS`).
"""

from __future__ import annotations

from koderz.analysis.figures.attempts import plot_solve_grid, plot_tests_by_attempt
from koderz.analysis.figures.charts import (
    plot_attempts,
    plot_cost_by_tier,
    plot_cost_frontier,
    plot_pass_at_iteration,
    plot_pass_rate,
    save_figures,
)
from koderz.analysis.figures.groups import plot_before_after, plot_pass_rate_by_group
from koderz.analysis.figures.plane import plot_cost_quality
from koderz.analysis.figures.style import TIER_COLORS, TIER_LABELS, NoFigure, strategy_colors
from koderz.analysis.stats.attempts import solve_grid, tests_by_attempt
from koderz.analysis.text.cutoffs import cutoff_table
from koderz.analysis.text.methods import (
    REPORT_COLUMNS,
    methods_html,
    models_table,
    strategy_models,
    strategy_settings,
)
from koderz.analysis.text.output import with_feedback
from koderz.analysis.text.pages import Html, answer_html, story_html
from koderz.analysis.text.tables import cost_table, heldout_table, paper_table, savings_table
from koderz.analysis.text.window import window_html

__all__ = [
    "REPORT_COLUMNS",
    "TIER_COLORS",
    "TIER_LABELS",
    "Html",
    "NoFigure",
    "answer_html",
    "cost_table",
    "cutoff_table",
    "heldout_table",
    "methods_html",
    "models_table",
    "paper_table",
    "plot_attempts",
    "plot_before_after",
    "plot_cost_by_tier",
    "plot_cost_frontier",
    "plot_cost_quality",
    "plot_pass_at_iteration",
    "plot_pass_rate",
    "plot_pass_rate_by_group",
    "plot_solve_grid",
    "plot_tests_by_attempt",
    "save_figures",
    "savings_table",
    "solve_grid",
    "story_html",
    "strategy_colors",
    "strategy_models",
    "strategy_settings",
    "tests_by_attempt",
    "window_html",
    "with_feedback",
]
