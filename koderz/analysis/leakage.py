"""What feedback leaks, as a number: the pass-rate gap between feedback levels of one setup.

With feedback ``public`` the worker sees only the problem's public tests; with ``full``,
``assertion`` or ``summary`` it sees something of the hidden tests that decide the verdict,
so part of its pass rate may be learnt from the grader. Two strategies of one *setup* (the
same kind, models and switches, told apart only by their feedback level) run on the same
problems measure it: the gap is the other level's pass rate minus public's, on the problems
both finished, with a paired 95% bootstrap interval.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from koderz.analysis.savings import N_BOOT, bootstrap_ci

__all__ = ["GAP_COLUMNS", "SETUP_COLUMNS", "feedback_gaps", "gap_sentence"]

SETUP_COLUMNS = (
    "kind",
    "worker_model",
    "rungs",
    "spec_model",
    "reviewer_model",
    "repairer_model",
    "max_iterations",
    "checkpoint_interval",
    "mode",
    "temperature",
    "seed",
)
"""The settings that make a setup: every strategy setting but its name and feedback level."""

GAP_COLUMNS = (
    "strategy",
    "feedback_level",
    "public_strategy",
    "problems",
    "pass_rate",
    "public_pass_rate",
    "gap",
    "gap_ci95",
)


def feedback_gaps(steps: pd.DataFrame, *, n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """Per strategy with a non-public feedback level whose setup also ran with ``public``:
    both pass rates on the problems both finished, the gap and its interval.

    Examples:
        >>> ends = pd.DataFrame({"role": "end", "run_id": "r", "worker_model": "m",
        ...     "strategy": ["pub", "pub", "full", "full"],
        ...     "experiment_id": ["1", "2", "3", "4"], "problem_id": ["a", "b", "a", "b"],
        ...     "feedback_level": ["public", "public", "full", "full"],
        ...     "passed": [False, True, True, True]})
        >>> row = feedback_gaps(ends).to_dict("records")[0]
        >>> row["strategy"], row["public_strategy"], row["gap"], row["problems"]
        ('full', 'pub', 0.5, 2)
    """
    ends = _ends(steps)
    if ends.empty:
        return pd.DataFrame(columns=list(GAP_COLUMNS))
    rows: list[dict[str, Any]] = []
    for _, group in ends.groupby("setup", sort=False):
        rate = group.groupby(["feedback_level", "strategy", "problem_id"])["solved"].mean()
        levels = set(rate.index.get_level_values(0))
        if "public" not in levels or len(levels) < 2:
            continue
        public = rate.loc["public"]
        others = rate.drop("public")
        pairs = {(str(k[0]), str(k[1])) for k in others.index}
        for level, strategy in sorted(pairs):
            mine = others.loc[(level, strategy)]
            for base, ref in public.groupby(level=0):
                rows.append(_gap(strategy, level, str(base), mine, ref.droplevel(0), n_boot, seed))
    out = pd.DataFrame([r for r in rows if r["problems"]], columns=list(GAP_COLUMNS))
    return out.sort_values(["strategy", "public_strategy"], ignore_index=True)


def _ends(steps: pd.DataFrame) -> pd.DataFrame:
    """The last end row of each experiment, with its setup key and whether it was solved."""
    if "feedback_level" not in steps.columns or not len(steps):
        return pd.DataFrame()
    ends = steps[steps["role"] == "end"]
    if ends["feedback_level"].nunique() < 2:  # one level: nothing to compare, nothing to do
        return pd.DataFrame()
    ends = ends.drop_duplicates(["run_id", "experiment_id"], keep="last")
    present = [c for c in SETUP_COLUMNS if c in ends.columns]
    # One number per distinct setup, vectorised (a string key built row by row took 11 s
    # of a 200,000-step analysis).
    setup = ends.groupby(present, dropna=False, sort=False).ngroup() if present else 0
    solved = ends["passed"].astype("boolean").fillna(False).astype(float)
    return ends.assign(setup=setup, solved=solved)


def _gap(
    strategy: str,
    level: str,
    base: str,
    mine: pd.Series,
    ref: pd.Series,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    both = mine.index.intersection(ref.index)
    a = mine.loc[both].to_numpy(dtype=float)
    b = ref.loc[both].to_numpy(dtype=float)
    gap = float(a.mean() - b.mean()) if len(both) else math.nan
    return {
        "strategy": strategy,
        "feedback_level": level,
        "public_strategy": base,
        "problems": len(both),
        "pass_rate": float(a.mean()) if len(both) else math.nan,
        "public_pass_rate": float(b.mean()) if len(both) else math.nan,
        "gap": gap,
        "gap_ci95": bootstrap_ci(
            [a, b], lambda x, y: x.mean(axis=1) - y.mean(axis=1), n_boot=n_boot, seed=seed
        )
        if len(both)
        else (math.nan, math.nan),
    }


def gap_sentence(row: dict[str, Any]) -> str:
    """The gap in words, and what its interval lets one say of it.

    Examples:
        >>> text = gap_sentence({"strategy": "s@full", "feedback_level": "full",
        ...     "public_strategy": "s", "problems": 40, "pass_rate": 0.6,
        ...     "public_pass_rate": 0.45, "gap": 0.15, "gap_ci95": (0.05, 0.25)})
        >>> text[:60]
        's@full (feedback full) passes 60% against 45% for s (feedbac'
        >>> text[text.index("40 problems"):]
        '40 problems: +15.0 points (95% CI 5.0 to 25.0), what seeing the hidden tests is worth.'
    """
    lo, hi = row["gap_ci95"]
    if lo > 0:
        verdict = "what seeing the hidden tests is worth"
    elif hi < 0:
        verdict = "the hidden tests' feedback did worse than the public tests'"
    else:
        verdict = "no measurable leakage: the interval includes 0"
    return (
        f"{row['strategy']} (feedback {row['feedback_level']}) passes "
        f"{row['pass_rate']:.0%} against {row['public_pass_rate']:.0%} for "
        f"{row['public_strategy']} (feedback public) on the same {row['problems']} problems: "
        f"{100 * row['gap']:+.1f} points (95% CI {100 * lo:.1f} to {100 * hi:.1f}), "
        f"{verdict}."
    )
