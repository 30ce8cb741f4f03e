"""The tables the report shows and papers take."""

from __future__ import annotations

import pandas as pd


def test_the_savings_table_compares_pass_rates_on_the_same_problems():
    # The strategy ran 4 problems (2 solved), the baseline 2 of them (1 solved), and the
    # strategy solved both of those: beside the baseline's 50% stands 100%, not 50%.
    import math

    from koderz.analysis.text.tables import savings_table

    summary = pd.DataFrame(
        [
            {
                "strategy": "cheap",
                "problems": 4,
                "pass_rate": 0.5,
                "cost_usd": 1.0,
                "cost_per_solved": 0.5,
                "savings_usd": 1.0,
                "baseline": "frontier",
                "problems_compared": 2,
                "pass_rate_compared": 1.0,
                "baseline_pass_rate": 0.5,
                "savings_pct": 50.0,
                "savings_pct_ci95": (10.0, 60.0),
                "cost_ratio": 2.0,
                "cost_ratio_ci95": (1.1, 2.5),
                "pass_rate_pct_of_baseline": 200.0,
                "pass_rate_diff": 50.0,
                "pass_rate_diff_ci95": (0.0, 100.0),
                "pass_rate_diff_p": 1.0,
                "savings_note": math.nan,
            }
        ]
    )
    row = savings_table(summary).loc["cheap"]
    assert (row["pass rate"], row["pass rate on them"], row["baseline pass rate"]) == (
        "50.0%",
        "100.0%",
        "50.0%",
    )
