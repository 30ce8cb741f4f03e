"""Step rows shaped as the engine writes them, for the analysis tests.

An experiment is told as a script, one item per step:

- ``("spec", cost)`` and ``("review", cost)``: the advisor's spec, and a review
  (``checkpoint``) after the attempts so far;
- ``(passed, tests_passed, tests_total, cost)``: an attempt by the worker, judged by the
  hidden tests; a fifth item, ``(visible_passed, visible_total)``, says what the visible
  tests made of it.

:func:`experiment_rows` turns a script into rows, ending with the ``end`` row the engine
writes (``solved`` when the last attempt passed, else ``exhausted``); :func:`write_steps`
writes rows with the real :class:`~koderz.store.StepWriter`, one second apart, and reads
them back with :func:`~koderz.store.load_steps`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from koderz.models.registry import resolve_model
from koderz.store import StepWriter, load_steps

LOCAL = "qwen2.5-coder:7b"
FRONTIER = "claude-opus-4-5"
T0 = pd.Timestamp("2026-01-05T09:00:00Z")

Row = dict[str, Any]


def call(model: str, cost: float, **fields: Any) -> Row:
    """The fields of a model call: 1000 prompt and 100 generated tokens, 1 s; the tier is
    the registry's."""
    return {
        "model": model,
        "tier": resolve_model(model).tier,
        "cost_usd": cost,
        "input_tokens": 1000,
        "output_tokens": 100,
        "latency_s": 1.0,
        **fields,
    }


def attempt(
    iteration: int, passed: bool, tests_passed: int, tests_total: int, **fields: Any
) -> Row:
    """An attempt's own fields (add :func:`call` and the experiment's)."""
    return {
        "role": "attempt",
        "iteration": iteration,
        "passed": passed,
        "tests_passed": tests_passed,
        "tests_total": tests_total,
        "exec_s": 0.5,
        "code": f"x = {iteration}\n",
        **fields,
    }


def end(status: str, iterations: int = 0, **fields: Any) -> Row:
    """An end row: ``passed`` follows from the status unless given."""
    return {
        "role": "end",
        "iteration": iterations,
        "status": status,
        "passed": status == "solved",
        "cost_usd": 0.0,
        **fields,
    }


def experiment_rows(
    strategy: str,
    problem: str,
    script: Sequence[tuple[Any, ...]],
    *,
    worker: str = LOCAL,
    advisor: str = FRONTIER,
    end_status: str | None = None,
    end_fields: dict[str, Any] | None = None,
    **setting: Any,
) -> list[Row]:
    """One experiment's rows from its script (module docstring); ``setting`` goes on every
    row (``max_iterations``, ``feedback_level``, ``stop`` ...), ``end_fields`` on the end row
    (``submitted``, ``oracle_passed`` ... as the engine writes them)."""
    base = {
        "strategy": strategy,
        "problem_id": problem,
        "experiment_id": f"{strategy}:{problem}",
        "worker_model": worker,
        "max_iterations": 3,
        **setting,
    }
    rows: list[Row] = []
    i, solved = 0, False
    for item in script:
        if item[0] == "spec":
            rows.append(base | call(advisor, item[1]) | {"role": "spec", "iteration": 0})
        elif item[0] == "review":
            review = {"role": "checkpoint", "iteration": i, "guidance": "sort it"}
            rows.append(base | call(advisor, item[1]) | review)
        else:
            i += 1
            passed, got, total, cost = item[:4]
            solved = bool(passed)
            seen = {}
            if len(item) > 4:
                seen = {"visible_passed": item[4][0], "visible_total": item[4][1]}
            rows.append(base | call(worker, cost) | attempt(i, passed, got, total, **seen))
    status = end_status or ("solved" if solved else "exhausted")
    rows.append(base | end(status, i, **(end_fields or {})))
    return rows


def write_steps(
    data_dir: Path, rows: Iterable[Row], *, run_id: str = "r1", start: pd.Timestamp = T0
) -> pd.DataFrame:
    """Write ``rows`` (each its own file, one second apart, in order) and read them back."""
    writer = StepWriter(data_dir, run_id)
    clock = start
    for row in rows:
        writer.write({"started_at": clock.to_pydatetime(), **row})
        clock += pd.Timedelta(seconds=1)
    return load_steps(data_dir)
