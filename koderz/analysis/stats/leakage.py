"""What feedback leaks, as a number: the pass-rate gap between feedback levels of one setup.

With feedback ``public`` the worker sees only the problem's public tests; with ``full``,
``assertion`` or ``summary`` it sees something of the hidden tests that decide the verdict,
so part of its pass rate may be learnt from the grader. Two strategies of one *setup* (the
same kind, models and switches, told apart only by their feedback level) run on the same
problems measure it: the gap is the other level's pass rate minus public's, on the problems
both finished, with a paired 95% bootstrap interval. The sentence that says it is
:func:`~koderz.analysis.text.headlines.gap_sentence`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from koderz.analysis.stats.savings import N_BOOT, finished, savings

__all__ = ["GAP_COLUMNS", "SETUP_COLUMNS", "feedback_gaps"]

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
    :func:`~koderz.analysis.stats.savings.savings` computes them for any pair of strategies.

    ``exps`` is the :func:`~koderz.analysis.stats.metrics.experiments` table (its ``setup`` column).
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
