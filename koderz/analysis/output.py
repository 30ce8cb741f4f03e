"""What :func:`koderz.analyze` returns, and how it shows itself: :class:`Analysis` as text
for a person (``koderz analyze``) and as plain JSON-ready data for a program (``--json``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from koderz.analysis.savings import headline
from koderz.models.registry import TIERS
from koderz.store import CALL_ROLES

__all__ = ["Analysis", "analysis_dict", "analysis_text"]


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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: ``{"baseline", "estimate_model", "strategies": [...]}``
        (:func:`analysis_dict`)."""
        return analysis_dict(self)

    def text(self) -> str:
        """The summary as text: per strategy, outcomes, the three tiers with call counts,
        and savings against the measured baseline and against the estimate
        (:func:`analysis_text`)."""
        return analysis_text(self)


def analysis_text(analysis: Analysis) -> str:
    """The analysis as text (``koderz analyze``): per strategy, outcomes and pass@k, the three
    tiers with call counts, and savings against the measured baseline and against the estimate."""
    if analysis.summary.empty:
        return "No finished experiments in the data.\n"
    out: list[str] = []
    for record in analysis.summary.to_dict("records"):
        r = {str(k): v for k, v in record.items()}
        lo, hi = r["pass_rate_ci95"]
        out.append(
            f"{r['strategy']}: {r['problems']} problems, {r['solved']} of "
            f"{r['experiments']} experiments solved, pass rate {_p(r['pass_rate'])} "
            f"(95% CI {_p(lo)}-{_p(hi)})"
            + (f"; {r['unfinished']} unfinished, not counted" if r["unfinished"] else "")
        )
        # pass@k for each k summarize() computed (pass@1 is the pass rate; NaN when no
        # problem was run k times).
        pass_at = ", ".join(f"{k} {_p(v)}" for k, v in r.items() if k.startswith("pass@"))
        if pass_at:
            out.append(f"  {pass_at}")
        out.append(
            f"  mean attempts to solve {_n(r['mean_attempts_to_solve'])}; tests passed by "
            f"the last attempt {_p(r['tests_passed_share'])}; model and sandbox time "
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
                f"{_usd(r['baseline_cost_usd'])}, "
                f"{_saves(r['savings_usd'], r['savings_pct'])} (95% CI "
                f"{_pc(r['savings_pct_ci95'][0])} to {_pc(r['savings_pct_ci95'][1])} saved)"
            )
            out.append(f"  {headline(r)}")
        if analysis.estimate_model and "estimate_savings_usd" in r:
            out.append(
                f"  vs ESTIMATE (same tokens re-priced at {analysis.estimate_model}): "
                f"{_usd(r['frontier_only_estimate_usd'])}, "
                f"{_saves(r['estimate_savings_usd'], r['estimate_savings_pct'])} (95% CI "
                f"{_pc(r['estimate_savings_pct_ci95'][0])} to "
                f"{_pc(r['estimate_savings_pct_ci95'][1])} saved)"
            )
        out.append("")
    return "\n".join(out)


def analysis_dict(analysis: Analysis) -> dict[str, Any]:
    """The analysis as plain JSON-ready data (``koderz analyze --json``): ``{"baseline",
    "estimate_model", "estimate_note", "strategies": [...]}``, one item per strategy.

    A number that is undefined is null: e.g. ``cost_ratio`` (times cheaper than the
    baseline) when the baseline costs nothing."""
    strategies = []
    for record in analysis.summary.to_dict("records"):
        rec = {str(k): v for k, v in record.items()}
        item = {k: _plain(v) for k, v in rec.items() if not k.startswith(("cost_", "calls_"))}
        item["cost_usd"] = _plain(rec["cost_usd"])
        for group, keys in (("tier", TIERS), ("role", CALL_ROLES)):
            item[f"cost_by_{group}"] = {k: _plain(rec.get(f"cost_{k}", 0.0)) for k in keys}
            item[f"calls_by_{group}"] = {k: _plain(rec.get(f"calls_{k}", 0)) for k in keys}
        item["cost_per_solved"] = _plain(rec["cost_per_solved"])
        item.setdefault("frontier_only_estimate_usd", None)
        for key in ("savings_usd", "savings_pct", "savings_pct_ci95"):
            item.setdefault(key, None)
        # Times cheaper than the baseline: null where undefined (a free baseline, or none).
        for key in ("cost_ratio", "cost_ratio_ci95"):
            item[key] = _plain(rec.get(key))
        item["headline"] = headline(rec) or None
        strategies.append(item)
    return {
        "baseline": analysis.baseline,
        "estimate_model": analysis.estimate_model,
        "estimate_note": "an estimate: each call's tokens re-priced at the estimate model"
        if analysis.estimate_model
        else None,
        "strategies": strategies,
    }


def _p(share: float) -> str:
    return "-" if share is None or math.isnan(share) else f"{100 * share:.1f}%"


def _pc(pct: float) -> str:
    return "-" if pct is None or math.isnan(pct) else f"{pct:.1f}%"


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
