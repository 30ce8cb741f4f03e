"""Before and after the models' cutoffs: a model may have seen, in training, the problems
published before its training data ends, so a strategy's pass rate on the problems released
after the cutoff of every model it used is the one memory cannot explain (LiveCodeBench's
argument for dated problems). The sentences and tables that show it are in
:mod:`koderz.analysis.text.cutoffs`.

A problem counts *after* when its release date is later than the cutoff (a problem released
on the cutoff's day counts before), and not at all when it has no date. A strategy's cutoff
is the latest of its models'; when one of them has none, it has none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from koderz.analysis.stats.savings import N_BOOT, bootstrap_ci, per_problem
from koderz.models.registry import model_cutoffs
from koderz.store import CALL_ROLES

__all__ = ["AFTER_CUTOFF_COLUMNS", "after_cutoff", "known_cutoffs", "models_used"]

AFTER_CUTOFF_COLUMNS = (
    "strategy",
    "models",
    "cutoff",
    "cutoff_models",
    "unknown",
    "dated",
    "after_problems",
    "after_pass_rate",
    "after_pass_rate_ci95",
    "before_problems",
    "before_pass_rate",
    "before_pass_rate_ci95",
)
"""The columns of :func:`after_cutoff`'s table."""


def _calls(steps: pd.DataFrame) -> pd.DataFrame:
    """The rows of models that answered: every call but a failed one (a reused spec too: its
    model wrote it)."""
    model = steps["model"].fillna("").astype(str)
    status = steps["status"].fillna("") if "status" in steps.columns else ""
    return steps[steps["role"].isin(CALL_ROLES) & (model != "") & (status != "provider_error")]


def models_used(steps: pd.DataFrame) -> dict[str, list[str]]:
    """Per strategy, the models whose answers it used, sorted.

    Examples:
        >>> steps = pd.DataFrame({"strategy": "s", "role": ["spec", "attempt", "end"],
        ...     "model": ["opus", "qwen", ""], "status": ["ok", "failed", "stopped"]})
        >>> models_used(steps)
        {'s': ['opus', 'qwen']}
    """
    calls = _calls(steps)
    return {str(s): sorted(set(g["model"].astype(str))) for s, g in calls.groupby("strategy")}


def known_cutoffs(
    steps: pd.DataFrame, given: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """The training data cutoff of every model the steps called: ``given`` (``--cutoff``),
    else the one its rows recorded (``model_cutoff``, the latest if several), else the
    registered one, else None (unknown).

    Examples:
        >>> steps = pd.DataFrame({"role": ["attempt", "attempt"], "model": ["gpt-4o", "mine"],
        ...     "model_cutoff": [None, "2024-05-31"]})
        >>> known_cutoffs(steps)
        {'gpt-4o': '2023-10-01', 'mine': '2024-05-31'}
        >>> known_cutoffs(steps, {"gpt-4o": "2024-01-31"})["gpt-4o"]
        '2024-01-31'
    """
    calls = _calls(steps)
    models = sorted(set(calls["model"].astype(str)))
    recorded: dict[str, str] = {}
    if "model_cutoff" in calls.columns:
        dated = calls[calls["model_cutoff"].fillna("").astype(str) != ""]
        recorded = {str(m): str(d) for m, d in dated.groupby("model")["model_cutoff"].max().items()}
    return model_cutoffs(models, {**recorded, **(given or {})})


def after_cutoff(
    exps: pd.DataFrame,
    used: Mapping[str, Sequence[str]],
    cutoffs: Mapping[str, str | None],
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Per strategy, its pass rate on the problems released after its cutoff and on those
    released on or before it, each with its 95% bootstrap interval over problems.

    ``exps`` is the experiments table (with ``problem_released``), ``used`` each strategy's
    models (:func:`models_used`) and ``cutoffs`` each model's (:func:`known_cutoffs`).
    Columns (:data:`AFTER_CUTOFF_COLUMNS`): ``strategy, models, cutoff`` (the latest of its
    models', None when one is unknown), ``cutoff_models`` (the models whose cutoff that is),
    ``unknown`` (its models without a cutoff), ``dated`` (its problems with a release date),
    ``after_problems, after_pass_rate, after_pass_rate_ci95`` and the same ``before_``; a rate
    is NaN where no problem counts.

    Examples:
        >>> exps = pd.DataFrame({"strategy": "s", "finished": True,
        ...     "problem_id": ["a", "b", "c", "d"], "solved": [True, True, False, True],
        ...     "problem_released": ["2025-01-31", "2025-02-01", "2025-03-01", None]})
        >>> row = after_cutoff(exps, {"s": ["m"]}, {"m": "2025-01-31"}).to_dict("records")[0]
        >>> row["after_problems"], row["after_pass_rate"], row["before_pass_rate"]
        (2, 0.5, 1.0)
    """
    rows: list[dict[str, Any]] = []
    problems = per_problem(exps)
    released = _released(exps)
    for strategy in sorted(problems["strategy"].unique()):
        models = sorted(used.get(strategy, []))
        known = {m: cutoffs.get(m) for m in models}
        unknown = tuple(m for m, d in known.items() if not d)
        cutoff = None if unknown or not known else max(str(d) for d in known.values())
        pp = problems[problems["strategy"] == strategy]
        day = pp["problem_id"].map(lambda p: released.get(str(p), "")).astype(str).str[:10]
        row: dict[str, Any] = {
            "strategy": strategy,
            "models": tuple(models),
            "cutoff": cutoff,
            "cutoff_models": tuple(m for m, d in known.items() if cutoff and d == cutoff),
            "unknown": unknown,
            "dated": int((day != "").sum()),
        }
        after = (day > cutoff) if cutoff else pd.Series(False, index=pp.index)
        before = (day != "") & (day <= cutoff) if cutoff else after
        for side, mask in (("after", after), ("before", before)):
            rates = pp.loc[mask.to_numpy(), "rate"].to_numpy(dtype=float)
            row[f"{side}_problems"] = len(rates) if cutoff else 0
            row[f"{side}_pass_rate"] = float(rates.mean()) if len(rates) else math.nan
            row[f"{side}_pass_rate_ci95"] = (
                bootstrap_ci([rates], lambda r: r.mean(axis=1), n_boot=n_boot, seed=seed)
                if len(rates)
                else (math.nan, math.nan)
            )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(AFTER_CUTOFF_COLUMNS))
    # None, not NaN, where a strategy has no cutoff: the text and the JSON say null.
    table["cutoff"] = pd.Series([r["cutoff"] for r in rows], index=table.index, dtype=object)
    return table


def _released(exps: pd.DataFrame) -> dict[str, str]:
    """Each problem's release date, where the rows give one."""
    if "problem_released" not in exps.columns:
        return {}
    dated = exps[exps["problem_released"].fillna("").astype(str) != ""]
    first = dated.groupby("problem_id")["problem_released"].first()
    return {str(k): str(v) for k, v in first.items()}
