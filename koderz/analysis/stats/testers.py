"""How often a strategy's tester wrote wrong tests, judged after the run.

A tester's test is *wrong* when an answer that passed the hidden tests failed it: the hidden
tests are the reference, so the test asked for something the problem does not. Only the
tests of experiments where some attempt passed the hidden tests can be judged; the others
are counted apart. This is measured after the run, never fed back: under the stop rule
``visible`` nothing of it reached the experiment.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from koderz.store import CODE_ROLES, flag

__all__ = ["TESTER_COLUMNS", "wrong_tests"]

TESTER_COLUMNS = (
    "strategy",
    "tester_model",
    "experiments",
    "tests_written",
    "tests_dropped",
    "tests_judged",
    "tests_wrong",
    "wrong_share",
)


def wrong_tests(steps: pd.DataFrame) -> pd.DataFrame:
    """Per strategy with a tester (:data:`TESTER_COLUMNS`): its experiments, the tests kept
    (``tests_written``) and dropped, those that could be judged (their experiment had an
    answer that passed the hidden tests), the wrong ones among those, and their share.

    Examples:
        Two tests kept; the attempt that passed the hidden tests failed test 1: it is wrong.

        >>> steps = pd.DataFrame({"run_id": "r", "experiment_id": "e", "strategy": "s",
        ...     "tester_model": "t", "role": ["tests", "attempt", "attempt"],
        ...     "status": "ok", "own_total": [2, 2, 2], "own_dropped": [1, None, None],
        ...     "passed": [None, False, True], "own_failed": [None, "0,1", "1"]})
        >>> wrong_tests(steps)[["tests_written", "tests_judged", "tests_wrong"]].values
        array([[2, 2, 1]])
    """
    empty = pd.DataFrame(columns=list(TESTER_COLUMNS))
    needed = {"tester_model", "own_total", "own_failed", "role"}
    if steps.empty or not needed <= set(steps.columns):
        return empty
    rows = steps[steps["tester_model"].fillna("") != ""]
    per_strategy: dict[str, dict[str, Any]] = {}
    for (_, _, strategy), g in rows.groupby(["run_id", "experiment_id", "strategy"], sort=False):
        written = g[(g["role"] == "tests") & (g["status"] == "ok")]
        if written.empty:
            continue
        total = int(pd.to_numeric(written["own_total"], errors="coerce").fillna(0).iloc[-1])
        dropped = int(pd.to_numeric(written["own_dropped"], errors="coerce").fillna(0).iloc[-1])
        attempts = g[g["role"].isin(CODE_ROLES)]
        passing = attempts[[flag(v) for v in attempts["passed"]]]
        wrong: set[str] = set()
        for failed in passing["own_failed"].dropna():
            wrong |= {i for i in str(failed).split(",") if i}
        s = per_strategy.setdefault(
            str(strategy),
            {
                "strategy": str(strategy),
                "tester_model": str(g["tester_model"].iloc[0]),
                "experiments": 0,
                "tests_written": 0,
                "tests_dropped": 0,
                "tests_judged": 0,
                "tests_wrong": 0,
            },
        )
        s["experiments"] += 1
        s["tests_written"] += total
        s["tests_dropped"] += dropped
        if len(passing):
            s["tests_judged"] += total
            s["tests_wrong"] += len(wrong)
    if not per_strategy:
        return empty
    table = pd.DataFrame(list(per_strategy.values()))
    judged = table["tests_judged"].where(table["tests_judged"] > 0)
    table["wrong_share"] = table["tests_wrong"] / judged
    return table[list(TESTER_COLUMNS)].sort_values("strategy").reset_index(drop=True)
