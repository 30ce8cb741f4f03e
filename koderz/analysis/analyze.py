"""The one call, :func:`analyze`, and the record it returns, :class:`Analysis`: the top of the
analysis. It computes with the statistics (:mod:`koderz.analysis.stats.metrics` and the modules
beside it) and shows itself with the text (:mod:`koderz.analysis.text.output`); nothing below
imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from koderz.analysis.stats.choice import HeldOut, heldout_front, router_ceiling
from koderz.analysis.stats.compare import AUTO, choose_baseline
from koderz.analysis.stats.cutoffs import after_cutoff, known_cutoffs, models_used
from koderz.analysis.stats.groups import check_group_key, split_steps
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
    groups_dict,
    groups_text,
    with_feedback,
)
from koderz.analysis.text.tables import group_table

__all__ = ["Analysis", "GroupedAnalysis", "analyze", "analyze_by"]


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
    after_cutoff: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per strategy, its pass rate on the problems released after the cutoff of every model
    it used, and on those before (:func:`~koderz.analysis.stats.cutoffs.after_cutoff`)."""
    cutoffs: dict[str, str | None] = field(default_factory=dict)
    """The training data cutoff of each model called (None: unknown), as given, recorded in
    the rows or registered (:func:`~koderz.analysis.stats.cutoffs.known_cutoffs`)."""

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
    cutoffs: Mapping[str, str] | None = None,
) -> Analysis:
    """Everything at once: per-strategy summary with savings, costs by tier and role, curves,
    the router ceiling, the testers' wrong tests, the pass rates before and after the models'
    cutoffs and, when asked, a held-out choice.

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
        cutoffs: Models' training data cutoffs (``{"qwen2.5-coder:7b": "2024-09-30"}``),
            beside or instead of those the rows recorded and the registered ones.

    Raises:
        ConfigError: ``baseline`` is not a strategy of the data, ``estimate_model`` has no
            price, or a cutoff is not a date.

    Examples:
        >>> from koderz.analysis.demo import demo_data
        >>> from koderz.analysis.stats.metrics import ANALYSIS_COLUMNS
        >>> from koderz.store import load_steps
        >>> steps = load_steps(demo_data(problems=3), columns=ANALYSIS_COLUMNS)
        >>> a = analyze(steps, baseline="frontier-only")
        >>> a.summary[["strategy", "problems", "solved"]].values.tolist()
        [['frontier-only', 3, 2], ['local+frontier', 3, 1], ['small+frontier', 3, 1]]
    """
    # A wrong name or a missing price fails before any work (seconds on a big folder).
    steps = complete_steps(steps)
    if baseline is not None and baseline.lower() not in ("none", AUTO):
        check_baseline(baseline, steps["strategy"].dropna().unique())
    if estimate_model is not None:
        require_price(estimate_model)
    known = known_cutoffs(steps, cutoffs)
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
        after_cutoff=after_cutoff(exps, models_used(steps), known, n_boot=n_boot, seed=seed),
        cutoffs=known,
    )


@dataclass(frozen=True)
class GroupedAnalysis:
    """An analysis per group of problems (:func:`analyze_by`): ``koderz analyze --by KEY``."""

    by: str | None
    """What the problems are grouped by (a key of
    :data:`~koderz.analysis.stats.groups.GROUP_KEYS`); None: not grouped."""
    groups: dict[str, Analysis] = field(default_factory=dict)
    """Each group's analysis, in reading order (easy, medium, hard; months by time)."""

    def to_dict(self) -> dict[str, Any]:
        """``{"by": KEY, "groups": {VALUE: the analysis' JSON}}``."""
        return groups_dict(self.by, self.groups)

    def text(self) -> str:
        """Each group's analysis as text, under a heading naming the group."""
        return groups_text(self.by, self.groups)

    def summaries(self) -> dict[str, pd.DataFrame]:
        """Each group's ``Analysis.summary``, for a figure
        (:func:`~koderz.analysis.figures.groups.plot_pass_rate_by_group`)."""
        return {label: analysis.summary for label, analysis in self.groups.items()}

    def table(self) -> pd.DataFrame | str:
        """Per group and strategy: problems, pass rate, cost per problem and the pass rate
        after the cutoff (:func:`~koderz.analysis.text.tables.group_table`); a sentence when
        not grouped."""
        return group_table(self.by, self.groups)


def analyze_by(steps: pd.DataFrame, by: str | None, **kwargs: Any) -> GroupedAnalysis:
    """:func:`analyze` for each group of problems under ``by``: ``difficulty``,
    ``platform``, ``month`` (of release), ``source`` or ``language``. Problems the set says
    nothing of form the group ``(none)``. ``kwargs`` are :func:`analyze`'s. ``by=None``
    gives no groups (a report not split).

    Raises:
        ConfigError: ``by`` is not one of the keys, or :func:`analyze` refuses a setting.

    Examples:
        >>> steps = pd.DataFrame({"run_id": "r", "strategy": "s", "experiment_id": ["a", "b"],
        ...     "problem_id": ["p", "q"], "role": "end", "status": "solved",
        ...     "passed": [True, False], "problem_difficulty": ["hard", "easy"]})
        >>> grouped = analyze_by(steps, "difficulty", baseline=None, n_boot=10)
        >>> {k: a.summary["pass_rate"].tolist() for k, a in grouped.groups.items()}
        {'easy': [0.0], 'hard': [1.0]}
    """
    if by is None:
        return GroupedAnalysis(None)
    check_group_key(by)
    steps = complete_steps(steps)
    return GroupedAnalysis(
        by, {label: analyze(rows, **kwargs) for label, rows in split_steps(steps, by).items()}
    )
