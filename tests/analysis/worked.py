"""The worked example of the analysis tests: small tables whose answers are worked by hand,
intervals included.

The rows (written with the real StepWriter and read back with load_steps: the ``steps``
fixture of tests/analysis/conftest.py), costs in $:

=========  ==========================================  ==============================
problem    cheap (local worker, frontier spec/review)  frontier (frontier worker only)
=========  ==========================================  ==============================
P1         spec .10, fail 2/4, pass 4/4 -> solved @2   pass (.30) -> solved @1
P2         spec .10, fail, fail, review .05, pass @3   fail (.30), pass (.30) -> @2
P3         spec .10, 0/5, 2/5, review .05, 3/5: fails  pass (.30) -> @1
total      .40, 2 of 3 solved                          1.20, 3 of 3 solved
=========  ==========================================  ==============================

Every model call has 1000 prompt and 100 generated tokens; the estimate model is priced at
$100 per million prompt tokens and nothing for output, so each call re-prices at $0.10.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from koderz.models import prices
from koderz.models.registry import register_model
from koderz.store import StepWriter, load_steps
from tests.rows import FRONTIER, LOCAL, experiment_rows, write_steps

ESTIMATE = "test-estimate-model"


# The documented fields of each strategy in Analysis.to_dict() and `koderz analyze --json`.
JSON_FIELDS = (
    "strategy",
    "problems",
    "solved",
    "pass_rate",
    "pass@1",
    "cost_usd",
    "cost_by_tier",
    "calls_by_tier",
    "cost_per_solved",
    "frontier_only_estimate_usd",
    "savings_usd",
    "savings_pct",
    "savings_pct_ci95",
)


CHEAP = {
    "P1": [("spec", 0.10), (False, 2, 4, 0.0), (True, 4, 4, 0.0)],
    "P2": [
        ("spec", 0.10),
        (False, 1, 4, 0.0),
        (False, 1, 4, 0.0),
        ("review", 0.05),
        (True, 4, 4, 0.0),
    ],
    "P3": [
        ("spec", 0.10),
        (False, 0, 5, 0.0),
        (False, 2, 5, 0.0),
        ("review", 0.05),
        (False, 3, 5, 0.0),
    ],
}

FRONT = {
    "P1": [(True, 4, 4, 0.30)],
    "P2": [(False, 3, 4, 0.30), (True, 4, 4, 0.30)],
    "P3": [(True, 5, 5, 0.30)],
}


def experiment(strategy: str, problem: str, script: list[Any], max_iter: int = 3) -> list[dict]:
    """The cheap strategy's worker is local, the other's frontier."""
    worker = LOCAL if strategy == "cheap" else FRONTIER
    return experiment_rows(strategy, problem, script, worker=worker, max_iterations=max_iter)


def write(data_dir: Path) -> pd.DataFrame:
    rows = [
        row
        for strategy, scripts in (("cheap", CHEAP), ("frontier", FRONT))
        for problem, script in scripts.items()
        for row in experiment(strategy, problem, script)
    ]
    return write_steps(data_dir, rows)


def write_free_baseline(data_dir: Path) -> pd.DataFrame:
    """The fixture plus ``local_only``: the same three problems, each solved at once, free."""
    write(data_dir)
    writer = StepWriter(data_dir, "r1")
    for problem in ("P1", "P2", "P3"):
        writer.write_many(experiment("local_only", problem, [(True, 1, 1, 0.0)]))
    return load_steps(data_dir)


def register_estimate_model() -> str:
    """The estimate model: $100 per million prompt tokens and nothing for output."""
    register_model(ESTIMATE, provider="openai", tier="frontier")
    prices.set_price(ESTIMATE, input_usd_per_mtok=100.0, output_usd_per_mtok=0.0)
    return ESTIMATE
