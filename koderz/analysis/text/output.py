"""How an analysis shows itself: as text for a person (``koderz analyze``), as plain
JSON-ready data for a program (``--json``), and with its strategies named for a figure's
labels.

:class:`koderz.Analysis` (:mod:`koderz.analysis.analyze`) shows itself with these functions,
so they cannot import it: they read it by its shape, :class:`AnalysisLike`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from koderz.analysis.stats.choice import HeldOut
from koderz.analysis.text.cutoffs import NO_DATES, after_cutoff_json, cutoff_sentence
from koderz.analysis.text.headlines import gap_sentence, headline, summary_headlines
from koderz.models.registry import TIERS
from koderz.store import CALL_ROLES

__all__ = [
    "AnalysisLike",
    "analysis_dict",
    "analysis_headlines",
    "analysis_text",
    "groups_dict",
    "groups_text",
    "with_feedback",
]


class AnalysisLike(Protocol):
    """What the text and the JSON read of an analysis. :class:`koderz.Analysis` is one; it
    sits above this layer (it shows itself with these functions), so it is named here by its
    shape."""

    @property
    def summary(self) -> pd.DataFrame:
        """One row per strategy, joined with its savings."""

    @property
    def baseline(self) -> str | None:
        """The measured baseline strategy, if any."""

    @property
    def baseline_reason(self) -> str:
        """Which strategy is the measured baseline and why, in words."""

    @property
    def estimate_model(self) -> str | None:
        """The model the estimate re-prices at, if any."""

    @property
    def feedback_gaps(self) -> pd.DataFrame:
        """The pass-rate gaps between feedback levels of one setup."""

    @property
    def router_ceiling(self) -> dict[str, Any]:
        """What a perfect per-problem router would reach."""

    @property
    def heldout(self) -> HeldOut | None:
        """The held-out choice, when asked for."""

    @property
    def testers(self) -> pd.DataFrame:
        """How often each strategy's tester wrote wrong tests."""

    @property
    def after_cutoff(self) -> pd.DataFrame:
        """Per strategy, the pass rates before and after its models' cutoff."""

    @property
    def pass_at_iteration(self) -> pd.DataFrame:
        """Per strategy, the pass rate within each number of attempts."""

    @property
    def cutoffs(self) -> dict[str, str | None]:
        """Each model's training data cutoff (None: unknown)."""


def analysis_headlines(analysis: AnalysisLike) -> list[str]:
    """The answer in sentences: the baseline and why, then one per strategy
    (:func:`~koderz.analysis.text.headlines.summary_headlines`), then what feedback leaks
    (:func:`~koderz.analysis.text.headlines.gap_sentence`)."""
    rows = [{str(k): v for k, v in r.items()} for r in analysis.summary.to_dict("records")]
    gaps = [
        gap_sentence({str(k): v for k, v in r.items()})
        for r in analysis.feedback_gaps.to_dict("records")
    ]
    return summary_headlines(rows, analysis.baseline_reason) + gaps


def with_feedback(frame: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each strategy named with its feedback level, as ``summary`` (the
    :func:`~koderz.analysis.stats.metrics.summarize` table) gives it, for a figure's labels: a pass
    rate means little without what the worker was shown. A strategy with the oracle stop is
    labelled an upper bound.

    Examples:
        >>> summary = pd.DataFrame({"strategy": ["a", "b"], "feedback": ["public", ""]})
        >>> with_feedback(pd.DataFrame({"strategy": ["a", "b", "a"]}), summary)["strategy"].tolist()
        ['a\\n(feedback public)', 'b', 'a\\n(feedback public)']
        >>> oracle = summary.assign(stop=["visible", "oracle"])
        >>> with_feedback(pd.DataFrame({"strategy": ["b"]}), oracle)["strategy"].tolist()
        ['b\\n(stop oracle: upper bound)']
    """
    if "feedback" not in summary.columns or "strategy" not in frame.columns:
        return frame
    stops = summary["stop"] if "stop" in summary.columns else [""] * len(summary)
    names = {}
    for strategy, level, stop in zip(summary["strategy"], summary["feedback"], stops, strict=True):
        notes = [f"feedback {level}"] if level else []
        if "oracle" in str(stop).split("+"):
            notes.append("stop oracle: upper bound")
        names[str(strategy)] = f"{strategy}\n({'; '.join(notes)})" if notes else str(strategy)
    return frame.assign(strategy=frame["strategy"].map(lambda s: names.get(str(s), s)))


def analysis_text(analysis: AnalysisLike) -> str:
    """The analysis as text (``koderz analyze``): per strategy, outcomes and pass@k, the three
    tiers with call counts, and savings against the measured baseline and against the estimate."""
    if analysis.summary.empty:
        return "No finished experiments in the data.\n"
    out: list[str] = [*analysis_headlines(analysis), ""]
    cutoffs = _after_cutoff_rows(analysis)
    dated = any(c.get("dated") for c in cutoffs.values())
    for record in analysis.summary.to_dict("records"):
        r = {str(k): v for k, v in record.items()}
        lo, hi = r["pass_rate_ci95"]
        out.append(
            f"{r['strategy']}: {r['problems']} problems, {r['solved']} of "
            f"{r['experiments']} experiments solved, pass rate {_p(r['pass_rate'])} "
            f"(95% CI {_p(lo)}-{_p(hi)})"
            + (f"; {r['unfinished']} unfinished, not counted" if r["unfinished"] else "")
            + (f"; feedback {r['feedback']}" if r.get("feedback") else "")
        )
        # pass@k for each k summarize() computed (pass@1 is the pass rate; NaN when no
        # problem was run k times).
        pass_at = ", ".join(f"{k} {_p(v)}" for k, v in r.items() if k.startswith("pass@"))
        if pass_at:
            out.append(f"  {pass_at}")
        spread = r.get("epoch_pass_rate_range")
        if isinstance(spread, tuple | list):
            out.append(
                f"  {r['epochs']} epochs: pass rate of one epoch {_p(spread[0])}-{_p(spread[1])}"
            )
        if r.get("stop") == "visible":
            out.append(
                f"  stop visible: oracle ceiling {_p(r['oracle_pass_rate'])} (the hidden tests "
                f"picking the answer); {r['false_stops']} false stop(s); "
                f"{r['nothing_visible']} problem(s) with nothing visible"
            )
        elif r.get("stop"):
            out.append(f"  stop {r['stop']}: its pass rate is an upper bound (an oracle's)")
        if dated and r["strategy"] in cutoffs:
            out.append(f"  {cutoff_sentence(cutoffs[r['strategy']])}")
        out.append(
            f"  mean attempts to solve {_n(r['mean_attempts_to_solve'])}; tests passed by "
            f"the submitted answer {_p(r['tests_passed_share'])}; model and sandbox time "
            f"{r['wall_s']:.1f} s"
        )
        hardware = (
            f" (tokens {_usd(r['token_cost_usd'])}, local hardware {_usd(r['hardware_cost_usd'])})"
            if r["hardware_cost_usd"]
            else ""
        )
        out.append(
            f"  cost {_usd(r['cost_usd'])}{hardware}; {_usd(r['cost_per_solved'])} per "
            "solved experiment"
        )
        out.append(f"    {'tier':<15} {'calls':>6} {'cost':>12}")
        for tier in TIERS:
            out.append(f"    {tier:<15} {r[f'calls_{tier}']:>6} {_usd(r[f'cost_{tier}']):>12}")
        if isinstance(r.get("baseline"), str):
            out.append(
                f"  vs {r['baseline']} (measured, {r['problems_compared']} problems in "
                f"common): {_usd(r['compared_cost_usd'])} against "
                f"{_usd(r['baseline_cost_usd'])}, {_savings(r, '')}; pass rate "
                f"{_p(r['pass_rate_compared'])} against {_p(r['baseline_pass_rate'])}"
            )
        if analysis.estimate_model and "estimate_savings_usd" in r:
            # An estimate is never a saving without the pass rate it was bought at.
            out.append(
                f"  vs ESTIMATE (same tokens re-priced at {analysis.estimate_model}), at pass "
                f"rate {_p(r['pass_rate'])}: {_usd(r['frontier_only_estimate_usd'])}, "
                f"{_savings(r, 'estimate_')}"
            )
        out.append("")
    if not dated:
        out += [NO_DATES, ""]
    out += _ceiling_lines(analysis)
    return "\n".join(out)


def _after_cutoff_rows(analysis: AnalysisLike) -> dict[str, dict[str, Any]]:
    """Each strategy's row of ``analysis.after_cutoff``, by strategy."""
    return {
        str(r["strategy"]): {str(k): v for k, v in r.items()}
        for r in analysis.after_cutoff.to_dict("records")
    }


def _ceiling_lines(analysis: AnalysisLike) -> list[str]:
    """The router ceiling, the testers' wrong tests and the held-out choice, as text."""
    out = []
    c = analysis.router_ceiling
    if c.get("problems"):
        out.append(
            f"Router ceiling (a perfect per-problem router over {', '.join(c['strategies'])}, "
            f"on the {c['problems']} problems all of them finished): pass rate "
            f"{_p(c['pass_rate'])} at {_usd(c['cost_usd'])} per problem."
        )
    for t in analysis.testers.to_dict("records"):
        share = t["wrong_share"]
        judged = (
            f"of {t['tests_judged']} judged against the hidden tests, {t['tests_wrong']} wrong "
            f"({_p(share)})"
            if t["tests_judged"]
            else "none could be judged (no answer passed the hidden tests)"
        )
        out.append(
            f"Tester of {t['strategy']} ({t['tester_model']}): {t['tests_written']} tests kept, "
            f"{t['tests_dropped']} dropped; {judged}."
        )
    front = analysis.heldout.front if analysis.heldout is not None else None
    if front is not None and len(front):
        first = front.iloc[0]
        out.append(
            f"Held out {int(first['test_problems'])} problems; the Pareto front chosen on the "
            f"other {int(first['validation_problems'])}, and how it did on the held-out ones:"
        )
        for r in front.to_dict("records"):
            out.append(
                f"  {r['strategy']}: validation {_p(r['validation_pass_rate'])} at "
                f"{_usd(r['validation_cost_usd'])}; test {_p(r['test_pass_rate'])} at "
                f"{_usd(r['test_cost_usd'])} per problem"
            )
    return [*out, ""] if out else []


def analysis_dict(analysis: AnalysisLike) -> dict[str, Any]:
    """The analysis as plain JSON-ready data (``koderz analyze --json``): ``{"baseline",
    "baseline_reason", "headlines", "estimate_model", "estimate_note", "strategies": [...]}``,
    one item per strategy.

    A number that is undefined is null: e.g. ``cost_ratio`` (times cheaper than the
    baseline) when the baseline costs nothing."""
    strategies = []
    cutoffs = _after_cutoff_rows(analysis)
    for record in analysis.summary.to_dict("records"):
        rec = {str(k): v for k, v in record.items()}
        item = {k: _plain(v) for k, v in rec.items() if not k.startswith(("cost_", "calls_"))}
        item["cost_usd"] = _plain(rec["cost_usd"])
        for group, keys in (("tier", TIERS), ("role", CALL_ROLES)):
            item[f"cost_by_{group}"] = {k: _plain(rec.get(f"cost_{k}", 0.0)) for k in keys}
            item[f"calls_by_{group}"] = {k: _plain(rec.get(f"calls_{k}", 0)) for k in keys}
        for key in ("cost_per_problem", "cost_per_problem_ci95", "cost_per_solved"):
            item[key] = _plain(rec.get(key))
        item.setdefault("frontier_only_estimate_usd", None)
        for key in ("savings_usd", "savings_pct", "savings_pct_ci95"):
            item.setdefault(key, None)
        # Times cheaper than the baseline: null where undefined (a free baseline, or none).
        for key in ("cost_ratio", "cost_ratio_ci95"):
            item[key] = _plain(rec.get(key))
        item["headline"] = headline(rec) or None
        item |= after_cutoff_json(cutoffs.get(str(rec["strategy"])))
        # Within 1, 2, ... attempts (Aider's pass_rate_1, pass_rate_2 under its protocol).
        curve = analysis.pass_at_iteration
        mine = curve[curve["strategy"] == rec["strategy"]].sort_values("iteration")
        item["pass_rate_by_attempt"] = [_plain(v) for v in mine["pass_rate"]]
        strategies.append(item)
    return {
        "baseline": analysis.baseline,
        "baseline_reason": analysis.baseline_reason or None,
        "headlines": analysis_headlines(analysis),
        "estimate_model": analysis.estimate_model,
        "estimate_note": "an estimate: each call's tokens re-priced at the estimate model"
        if analysis.estimate_model
        else None,
        "strategies": strategies,
        "cutoffs": dict(analysis.cutoffs),
        "feedback_gaps": _records(analysis.feedback_gaps),
        "router_ceiling": {k: _plain(v) for k, v in analysis.router_ceiling.items()},
        "testers": _records(analysis.testers),
        **(
            {
                "heldout_front": _records(analysis.heldout.front),
                "heldout_problems": list(analysis.heldout.test_problems),
                "heldout_fraction": analysis.heldout.fraction,
                "heldout_seed": analysis.heldout.seed,
            }
            if analysis.heldout is not None
            else {}
        ),
    }


def groups_text(by: str | None, analyses: Mapping[str, AnalysisLike]) -> str:
    """Each group's analysis as text (``koderz analyze --by KEY``), under a heading naming
    the group and its problems."""
    if by is None or not analyses:
        return "No groups.\n"
    out = [f"By {by}: {', '.join(analyses)}.", ""]
    for label, analysis in analyses.items():
        problems = analysis.summary["problems"].max() if len(analysis.summary) else 0
        out += [f"== {by} {label} ({problems} problems) ==", analysis_text(analysis)]
    return "\n".join(out)


def groups_dict(by: str | None, analyses: Mapping[str, AnalysisLike]) -> dict[str, Any]:
    """``{"by": KEY, "groups": {VALUE: the JSON of that group's analysis}}`` (``koderz
    analyze --by KEY --json``)."""
    return {"by": by, "groups": {label: analysis_dict(a) for label, a in analyses.items()}}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _p(share: float) -> str:
    return "-" if share is None or math.isnan(share) else f"{100 * share:.1f}%"


def _pc(pct: float) -> str:
    return "-" if pct is None or math.isnan(pct) else f"{pct:.1f}%"


def _savings(r: dict[str, Any], prefix: str) -> str:
    """``saves $X (Y%) (95% CI a% to b% saved)``, or why there are no savings."""
    if r.get("savings_note"):
        return f"no savings: {r['strategy']} {r['savings_note']}"
    lo, hi = r[f"{prefix}savings_pct_ci95"]
    saves = _saves(r[f"{prefix}savings_usd"], r[f"{prefix}savings_pct"])
    return f"{saves} (95% CI {_pc(lo)} to {_pc(hi)} saved)"


def _saves(usd: float, pct: float) -> str:
    """``saves $X (Y%)``, or ``costs $X (Y%) more`` when the saving is negative."""
    if usd is None or math.isnan(usd) or usd >= 0:
        return f"saves {_usd(usd)} ({_pc(pct)})"
    return f"costs {_usd(-usd)} ({_pc(-pct)}) more"


def _n(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def _usd(value: float) -> str:
    if value is None or math.isnan(value):
        return "-"
    return "n/a (none solved)" if math.isinf(value) else f"${value:,.4f}"


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN/inf and pandas NA to None, tuples to lists."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
