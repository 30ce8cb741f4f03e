"""The one call, :func:`analyze`, and the record it returns, :class:`Analysis`: the top of the
analysis. It computes with the statistics (:mod:`koderz.analysis.stats.metrics` and the modules
beside it) and shows itself with the text (:mod:`koderz.analysis.text.output`); nothing below
imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from koderz.analysis.stats.choice import HeldOut, heldout_front, router_ceiling
from koderz.analysis.stats.compare import AUTO, choose_baseline
from koderz.analysis.stats.leakage import feedback_gaps
from koderz.analysis.stats.metrics import (
    complete_steps,
    cost_breakdown,
    experiments,
    pass_at_iteration,
    require_price,
    summarize,
)
from koderz.analysis.stats.savings import N_BOOT, check_baseline, savings
from koderz.analysis.stats.testers import wrong_tests
from koderz.analysis.text.output import (
    analysis_dict,
    analysis_headlines,
    analysis_text,
    with_feedback,
)

__all__ = ["Analysis", "analyze"]


@dataclass(frozen=True)
class Analysis:
    """Everything :func:`koderz.analyze` computes, as tables; :meth:`to_dict` is the JSON form."""

    experiments: pd.DataFrame
    """One row per experiment (:func:`koderz.experiments`)."""
    summary: pd.DataFrame
    """One row per strategy (:func:`koderz.summarize` joined with :func:`koderz.savings`)."""
    by_tier: pd.DataFrame
    """Cost and calls per strategy and tier (:func:`koderz.cost_breakdown`)."""
    by_role: pd.DataFrame
    """Cost and calls per strategy and role."""
    pass_at_iteration: pd.DataFrame
    """Pass rate within each number of attempts (:func:`koderz.pass_at_iteration`)."""
    baseline: str | None
    """The measured baseline strategy, if one was named."""
    estimate_model: str | None
    """The model the estimate re-prices at, if one was named."""
    baseline_reason: str = ""
    """Which strategy is the measured baseline and why (or why there is none), in words."""
    feedback_gaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    """What feedback leaks: pass-rate gaps between feedback levels of one setup
    (:func:`~koderz.analysis.stats.leakage.feedback_gaps`)."""
    router_ceiling: dict[str, Any] = field(default_factory=dict)
    """What a perfect per-problem router over the deployable strategies would reach
    (:func:`~koderz.analysis.stats.choice.router_ceiling`)."""
    heldout: HeldOut | None = None
    """The strategies on a validation part's Pareto front and how they did on the held-out
    problems (:func:`~koderz.analysis.stats.choice.heldout_front`), when asked for."""
    testers: pd.DataFrame = field(default_factory=pd.DataFrame)
    """How often each strategy's tester wrote wrong tests
    (:func:`~koderz.analysis.stats.testers.wrong_tests`)."""

    def headlines(self) -> list[str]:
        """The answer in sentences: the baseline and why, then one per strategy, then what
        feedback leaks (:func:`~koderz.analysis.text.output.analysis_headlines`)."""
        return analysis_headlines(self)

    def labelled(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with each strategy named with its feedback level, for a figure's labels
        (:func:`~koderz.analysis.text.output.with_feedback`)."""
        return with_feedback(frame, self.summary)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: ``{"baseline", "estimate_model", "strategies": [...]}``
        (:func:`~koderz.analysis.text.output.analysis_dict`)."""
        return analysis_dict(self)

    def text(self) -> str:
        """The summary as text: per strategy, outcomes, the three tiers with call counts,
        and savings against the measured baseline and against the estimate
        (:func:`~koderz.analysis.text.output.analysis_text`)."""
        return analysis_text(self)


def analyze(
    steps: pd.DataFrame,
    *,
    baseline: str | None = AUTO,
    estimate_model: str | None = None,
    ks: Sequence[int] = (1,),
    n_boot: int = N_BOOT,
    seed: int = 0,
    heldout: float | None = None,
    heldout_seed: int = 0,
) -> Analysis:
    """Everything at once: per-strategy summary with savings, costs by tier and role, curves,
    the router ceiling, the testers' wrong tests and, when asked, a held-out choice.

    Args:
        steps: The steps table (:func:`koderz.load_steps`; of its columns, only
            :data:`~koderz.analysis.stats.metrics.ANALYSIS_COLUMNS` are read).
        baseline: The strategy to measure savings against (the measured baseline);
            ``"auto"`` (the default): the strategy whose model calls are all frontier tier,
            if there is one (:func:`~koderz.analysis.stats.compare.choose_baseline`); ``None`` or
            ``"none"``: no baseline. ``Analysis.baseline_reason`` says which and why.
        estimate_model: The model to re-price every call's tokens at (the estimate).
        ks: The k of each pass@k to report.
        n_boot: Bootstrap resamples for the intervals.
        seed: Seed of the bootstrap.
        heldout: Hold out this share of the problems: choose the Pareto front on the rest and
            report how its strategies did on them (``Analysis.heldout``).
        heldout_seed: Seed of that split.

    Raises:
        ConfigError: ``baseline`` is not a strategy of the data, or ``estimate_model`` has no
            price.

    Examples:
        >>> from koderz.analysis.demo import demo_data
        >>> from koderz.analysis.stats.metrics import ANALYSIS_COLUMNS
        >>> from koderz.store import load_steps
        >>> steps = load_steps(demo_data(problems=3), columns=ANALYSIS_COLUMNS)
        >>> a = analyze(steps, baseline="frontier-only")
        >>> a.summary[["strategy", "problems", "solved"]].values.tolist()
        [['frontier-only', 3, 3], ['local+frontier', 3, 1], ['small+frontier', 3, 1]]
    """
    # A wrong name or a missing price fails before any work (seconds on a big folder).
    steps = complete_steps(steps)
    if baseline is not None and baseline.lower() not in ("none", AUTO):
        check_baseline(baseline, steps["strategy"].dropna().unique())
    if estimate_model is not None:
        require_price(estimate_model)
    exps = experiments(steps, estimate_model=estimate_model)
    baseline, reason = choose_baseline(baseline, exps)
    summary = summarize(exps, ks=ks, n_boot=n_boot, seed=seed)
    if len(summary):
        sav = savings(exps, baseline=baseline, n_boot=n_boot, seed=seed)
        dup = [c for c in sav.columns if c in summary.columns and c != "strategy"]
        summary = summary.merge(sav.drop(columns=dup), on="strategy", how="left")
        if "problems_compared" in summary.columns:
            summary["problems_compared"] = summary["problems_compared"].astype("Int64")
    return Analysis(
        experiments=exps,
        summary=summary,
        by_tier=cost_breakdown(exps, by="tier"),
        by_role=cost_breakdown(exps, by="role"),
        pass_at_iteration=pass_at_iteration(exps),
        baseline=baseline,
        estimate_model=estimate_model,
        baseline_reason=reason if len(summary) else "",
        feedback_gaps=feedback_gaps(exps, n_boot=n_boot, seed=seed),
        router_ceiling=router_ceiling(exps),
        heldout=None if heldout is None else heldout_front(exps, heldout, seed=heldout_seed),
        testers=wrong_tests(steps),
    )
