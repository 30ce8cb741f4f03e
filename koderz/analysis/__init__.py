"""Pure functions over the steps table, and what shows them, in layers that import one way,
each only from those below it (``tests/test_layout.py`` holds the package to this):

- :mod:`koderz.analysis.stats`: the numbers: outcomes, costs, savings, pass@k, tests of
  differences, with their intervals.
- :mod:`koderz.analysis.text`: the words: sentences, text and JSON, formatted tables, the
  methods section, stories, HTML; no matplotlib.
- :mod:`koderz.analysis.figures`: the figures (matplotlib).
- :mod:`koderz.analysis.report`: the notebooks' namespaces (``koderz.plots``,
  ``koderz.widgets``), their kernels and the report rendered with Papermill.
- :mod:`koderz.analysis.analyze`: :func:`~koderz.analysis.analyze.analyze` and the
  :class:`~koderz.analysis.analyze.Analysis` record it returns, on top of the numbers and
  the words (an analysis draws nothing).
- :mod:`koderz.analysis.demo`: demo rows to try it all on, below every layer.

This package reads the rows through :mod:`koderz.store` and imports nothing of the engine
that writes them.

How rows are aggregated (every table of this package follows these definitions):

- An **experiment** is one problem under one strategy in one run: the rows sharing
  ``(run_id, experiment_id)``. It is *finished* when it has an ``end`` row; only finished
  experiments count in outcomes, costs and savings (an interrupted run's experiments in
  flight are counted apart, as ``unfinished``, and cost nothing in the totals).
- An experiment is **solved** when the answer it submitted passed the hidden tests (its
  ``end`` row's ``passed``); ``attempts`` is the end row's ``iteration``; ``solved_at`` is
  the submitted attempt's iteration. Under the stop rule ``visible`` (the default) an
  experiment decides with what it can see (its public tests) when to stop and which answer
  to submit, and the hidden tests only judge that answer. **oracle solved** is whether any
  attempt passed the hidden tests: what an oracle stop would have reached, an upper bound no
  deployed system has. A **false stop** is a submitted answer that passed every visible test
  and failed the hidden ones. Rows written before the stop rule read as ``oracle``.
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
  the baseline's on the problems both finished, in percentage points, with an interval and
  a test that rest on one statistic, so they never disagree: with one run of each problem,
  **Tango's score interval** for a paired difference of proportions and the **McNemar
  test** it inverts (the score test, no continuity correction); with several runs of a
  problem (pass shares c/n), the **paired t** interval and test. Below p = 0.05 the
  difference is called significant. (The savings keep their bootstrap intervals.)
- **After the cutoff**: a strategy's cutoff is the latest training data cutoff of the
  models whose answers it used (none when one of them has none); a problem counts *after*
  it when released later than that day, *before* when released on or before it, and in
  neither without a release date. The pass rates after and before are means over those
  problems of c/n, with bootstrap intervals, as the pass rate is.
- **Groups** (``--by``): the problems with one difficulty, platform, month of release,
  source or language, each analysed as a data set of its own; those the set says nothing
  of form the group ``(none)``.
- **The measured baseline** is, unless one is named, the strategy whose model calls are all
  frontier tier (of several, the one that ran the most problems); ``baseline=None`` or
  ``"none"`` means none. A strategy that solved nothing has no savings.
"""

from __future__ import annotations

from typing import Any

# CALL_ROLES, once here too, is a fact of the row schema: koderz.store.CALL_ROLES.
__all__ = ["ANALYSIS_COLUMNS"]


def __getattr__(name: str) -> Any:
    # Lazy: every module of the package imports this file first, and the light ones (pass@k,
    # which `koderz evaluate` imports) must not pull pandas in through the metrics.
    if name in __all__:
        from koderz.analysis.stats import metrics

        return getattr(metrics, name)
    raise AttributeError(f"module 'koderz.analysis' has no attribute {name!r}")
