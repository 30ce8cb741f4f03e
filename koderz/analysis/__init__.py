"""Pure functions over the steps table, and what shows them: outcomes, costs, savings,
pass@k and their intervals (:mod:`~koderz.analysis.metrics`, :mod:`~koderz.analysis.savings`),
text and JSON (:mod:`~koderz.analysis.output`), figures (:mod:`~koderz.analysis.plots`),
experiment stories (:mod:`~koderz.analysis.story`), reports (:mod:`~koderz.analysis.reports`),
notebook widgets (:mod:`~koderz.analysis.widgets`) and demo data (:mod:`~koderz.analysis.demo`).

This package reads the rows through :mod:`koderz.store` and imports nothing of the engine
that writes them.

How rows are aggregated (every table of this package follows these definitions):

- An **experiment** is one problem under one strategy in one run: the rows sharing
  ``(run_id, experiment_id)``. It is *finished* when it has an ``end`` row; only finished
  experiments count in outcomes, costs and savings (an interrupted run's experiments in
  flight are counted apart, as ``unfinished``, and cost nothing in the totals).
- An experiment is **solved** when its ``end`` row says so; ``attempts`` is the end row's
  ``iteration``; ``solved_at`` is the iteration of the first passing attempt.
- A **model call** is a ``spec``, ``attempt`` or ``checkpoint`` row with a model, except a
  reused spec (it was taken from an earlier run at no cost) and a failed call (``status``
  ``provider_error``: the provider answered with an error after the retries, so no tokens
  were bought and the row costs $0). Only model calls count in ``calls`` and
  ``calls_<tier>``/``calls_<role>``.
- A **cost** is all in: token cost (``cost_usd``) plus local hardware cost
  (``hardware_cost_usd``, 0 unless a rate was given); both parts are kept as columns.
- A problem may be run several times by a strategy (several runs). Per strategy and problem,
  ``n`` is its finished experiments and ``c`` the solved ones. The **pass rate** is the mean
  over problems of ``c / n`` (the unbiased pass@1; with one run per problem it is
  solved / problems); **pass@k** is the mean over problems with ``n >= k`` of the unbiased
  estimator :func:`pass_at_k`. A problem's **cost** is the mean cost of its experiments, so
  a strategy run twice is not charged twice when compared.
- **Savings against a measured baseline** (a strategy the user names) compare only the
  problems both strategies finished: ``savings_usd`` is the baseline's cost minus the
  strategy's, summed over those problems; ``savings_pct`` is that as a percent of the
  baseline's cost. **Savings against the estimate** re-price the strategy's own calls'
  tokens at one model (:func:`reprice`): what the same tokens would have cost on a frontier
  model alone. It is an estimate (a frontier model would not have used the same tokens) and
  is labelled so everywhere.
- **Intervals** are 95% percentile bootstrap intervals resampling problems (paired: both
  strategies are resampled on the same problems), with a fixed seed so a report is
  reproducible.
- **The difference in pass rate** against the baseline is the strategy's pass rate minus
  the baseline's on the problems both finished, in percentage points, with its paired
  interval, and is tested with the **exact McNemar test**: a two-sided binomial test at 1/2
  of the problems only the strategy solved against those only the baseline solved. With
  several runs of a problem, "solved" compares the two pass shares c/n (a sign test on the
  problems where they differ). Below p = 0.05 the difference is called significant.
- **The measured baseline** is, unless one is named, the strategy whose model calls are all
  frontier tier (of several, the one that ran the most problems); ``baseline=None`` or
  ``"none"`` means none. A strategy that solved nothing has no savings.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ANALYSIS_COLUMNS", "CALL_ROLES"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing one light module of the package (as ``koderz evaluate`` does
    # for pass@k) does not import pandas through the metrics.
    if name in __all__:
        from koderz.analysis import metrics

        return getattr(metrics, name)
    raise AttributeError(f"module 'koderz.analysis' has no attribute {name!r}")
