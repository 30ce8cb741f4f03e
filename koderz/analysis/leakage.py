"""What feedback leaks, as a number: the pass-rate gap between feedback levels of one setup.

With feedback ``public`` the worker sees only the problem's public tests; with ``full``,
``assertion`` or ``summary`` it sees something of the hidden tests that decide the verdict,
so part of its pass rate may be learnt from the grader. Two strategies of one *setup* (the
same kind, models and switches, told apart only by their feedback level) run on the same
problems measure it: the gap is the other level's pass rate minus public's, on the problems
both finished, with a paired 95% bootstrap interval.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from koderz.analysis.savings import N_BOOT, finished, savings

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
    "stop",
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


def feedback_gaps(exps: pd.DataFrame, *, n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """Per strategy with a non-public feedback level whose setup also ran with ``public``:
    both pass rates on the problems both finished, the gap and its paired interval, as
    :func:`~koderz.analysis.savings.savings` computes them for any pair of strategies.

    ``exps`` is the :func:`~koderz.analysis.metrics.experiments` table (its ``setup`` column).
    """
    done = finished(exps) if "setup" in exps.columns else exps.iloc[:0]
    rows: list[dict[str, Any]] = []
    for _, group in done.groupby("setup", sort=False):
        level = group.groupby("strategy")["feedback_level"].first()
        for strategy in sorted(level.index[level != "public"]):
            for base in sorted(level.index[level == "public"]):
                pair = group[group["strategy"].isin([strategy, base])]
                r = savings(pair, baseline=base, estimate=False, n_boot=n_boot, seed=seed)
                r = r.set_index("strategy").loc[strategy]
                if not r["problems_compared"]:
                    continue
                rows.append(
                    {
                        "strategy": strategy,
                        "feedback_level": level[strategy],
                        "public_strategy": base,
                        "problems": int(r["problems_compared"]),
                        "pass_rate": r["pass_rate_compared"],
                        "public_pass_rate": r["baseline_pass_rate"],
                        "gap": r["pass_rate_diff"] / 100,
                        "gap_ci95": tuple(v / 100 for v in r["pass_rate_diff_ci95"]),
                    }
                )
    out = pd.DataFrame(rows, columns=list(GAP_COLUMNS))
    return out.sort_values(["strategy", "public_strategy"], ignore_index=True)


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
