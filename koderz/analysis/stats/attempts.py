"""What the attempts show beyond solved or not: test cases passed by attempt (partial credit,
so a run that solves nothing still shows whether the worker improves), and which problems each
strategy solved, at which attempt and by which tier (the problems x strategies grid).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from koderz.analysis.stats.savings import finished, per_problem
from koderz.store import CODE_ROLES, finished_ends

__all__ = ["solve_grid", "tests_by_attempt"]


def tests_by_attempt(steps: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and attempt n, the mean share of test cases passed by the latest attempt
    made by then: what each experiment would hand in if it were stopped after n attempts.

    An experiment that ended before attempt n (solved, or out of attempts) keeps its last
    share, so the line of a strategy only rises when its workers improve. Only finished
    experiments with at least one judged attempt count.

    Columns: ``strategy, iteration, tests_passed_share, experiments``.

    Examples:
        One experiment passes 1 of 4 test cases, then 3 of 4; another 4 of 4 at once:

        >>> steps = pd.DataFrame({"strategy": "s", "run_id": "r",
        ...     "experiment_id": ["a", "a", "a", "b", "b"],
        ...     "role": ["attempt", "attempt", "end", "attempt", "end"],
        ...     "iteration": [1, 2, 2, 1, 1], "tests_passed": [1, 3, None, 4, None],
        ...     "tests_total": [4, 4, None, 4, None]})
        >>> tests_by_attempt(steps)["tests_passed_share"].tolist()  # (1/4 + 1) / 2, (3/4 + 1) / 2
        [0.625, 0.875]
    """
    columns = ["strategy", "iteration", "tests_passed_share", "experiments"]
    key = ["run_id", "experiment_id"]
    done = finished_ends(steps)[key]
    att = steps[steps["role"].isin(CODE_ROLES)]  # a repair is judged like an attempt
    total = pd.to_numeric(att["tests_total"], errors="coerce").to_numpy(dtype=float, na_value=0)
    got = pd.to_numeric(att["tests_passed"], errors="coerce").to_numpy(dtype=float, na_value=0)
    att = att.assign(share=np.where(total > 0, got / np.where(total > 0, total, 1), np.nan))
    att = att[att["share"].notna() & att["iteration"].notna()].merge(done, on=key)
    if att.empty:
        return pd.DataFrame(columns=columns)
    att = att.assign(iteration=att["iteration"].astype(int))
    rows = []
    for strategy, group in att.groupby("strategy", sort=True):
        wide = group.pivot_table(
            index=key, columns="iteration", values="share", aggfunc="last", observed=True
        )
        wide = wide.reindex(columns=range(1, int(wide.columns.max()) + 1)).ffill(axis=1)
        for n in wide.columns:
            rows.append(
                {
                    "strategy": strategy,
                    "iteration": int(n),
                    "tests_passed_share": float(wide[n].mean()),
                    "experiments": int(wide[n].notna().sum()),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def solve_grid(exps: pd.DataFrame) -> pd.DataFrame:
    """Per problem and strategy: experiments ``n``, solved ``c``, the first attempt that
    solved it (the earliest over its runs) and the tier that solved it most often.

    Columns: ``problem_id, strategy, n, c, solved_at`` (NA when never solved) ``, tier``
    (``""`` when never solved).

    Examples:
        >>> exps = pd.DataFrame({"strategy": ["a", "a", "b"], "problem_id": ["p", "q", "p"],
        ...     "finished": True, "solved": [True, False, True], "solved_at": [2, None, 1],
        ...     "solved_tier": ["local", "", "frontier"]})
        >>> solve_grid(exps).values.tolist()
        [['p', 'a', 1, 1, 2, 'local'], ['p', 'b', 1, 1, 1, 'frontier'], ['q', 'a', 1, 0, <NA>, '']]
    """
    done = finished(exps)
    columns = ["problem_id", "strategy", "n", "c", "solved_at", "tier"]
    if done.empty:
        return pd.DataFrame(columns=columns)
    won = done[done["solved"]]
    out = per_problem(done).sort_values(["problem_id", "strategy"], ignore_index=True)
    first = won.groupby(["problem_id", "strategy"])["solved_at"].min()
    tiers = won.groupby(["problem_id", "strategy"])["solved_tier"].agg(
        lambda t: t.value_counts().index[0]
    )
    index = pd.MultiIndex.from_frame(out[["problem_id", "strategy"]])
    out["solved_at"] = pd.array(first.reindex(index).to_numpy(), dtype="Int64")
    out["tier"] = tiers.reindex(index).fillna("").to_numpy()
    out["c"] = out["c"].astype(int)
    return out[columns]
