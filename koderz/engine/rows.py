"""The rows an experiment writes beside its calls' own: an attempt's verdict columns, and its
end row, which names the submitted answer. An attempt's answer is rebuilt from its row when an
experiment resumes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from koderz.engine.grading import Graded
from koderz.engine.stopping import Answer, stops
from koderz.engine.strategies import Strategy
from koderz.store import flag

__all__ = ["answer_of_row", "attempt_fields", "end_row"]


def attempt_fields(graded: Graded, stop: str) -> dict[str, Any]:
    """An attempt row's verdict columns: the hidden tests', the public and own tests', and
    the feedback shown."""
    hidden, public, own = graded.hidden, graded.public, graded.own
    first = hidden.first_failure
    runs = [r for r in (public, own) if r is not None]
    if stop == "visible":  # they ran side by side
        exec_s = max([hidden.duration_s, *(r.duration_s for r in runs)])
    else:  # the public tests after the hidden ones
        exec_s = max([hidden.duration_s, *(r.duration_s for r in runs if r is own)])
        exec_s += public.duration_s if public is not None else 0.0
    visible_total: int | None = graded.visible_total
    if stop == "oracle" and not runs:
        visible_total = None  # not run: under oracle they may simply not have been needed
    return {
        "code": graded.code,
        "passed": bool(hidden.passed),
        "tests_passed": hidden.tests_passed,
        "tests_total": hidden.tests_total,
        "public_passed": None if public is None else public.tests_passed,
        "public_total": None if public is None else public.tests_total,
        "own_passed": None if own is None else own.tests_passed,
        "own_total": None if own is None else own.tests_total,
        "own_failed": None
        if own is None
        else ",".join(str(o.index) for o in own.outcomes if not o.passed),
        "visible_passed": None if visible_total is None else graded.visible_passed,
        "visible_total": visible_total,
        "exec_s": exec_s,
        "status": hidden.status,
        "error": "" if hidden.passed or first is None else (first.message or first.kind),
        "feedback": graded.feedback,
    }


def end_row(
    status: str,
    *,
    attempts: int,
    chosen: Answer | None,
    answers: list[Answer],
    strategy: Strategy,
    error: str,
    at: dt.datetime,
    final: bool,
) -> dict[str, Any]:
    """The end row: how the experiment ended, and (when ``final``) the answer it submitted,
    whose hidden verdict is its ``passed``."""
    row: dict[str, Any] = {
        "role": "end",
        "iteration": attempts,
        "status": status,
        "passed": chosen is not None and chosen.passed,
        "oracle_passed": any(a.passed for a in answers) if final else None,
        # Every visible test passed, the hidden ones did not: the public examples were too
        # weak to tell (an answer graded with nothing visible is no false stop).
        "false_stop": (
            chosen is not None
            and chosen.visible_total > 0
            and stops(chosen, "visible")
            and not chosen.passed
        )
        if final
        else None,
        "error": error,
        "cost_usd": 0.0,
        "hardware_cost_usd": 0.0,
        "paid_usd": 0.0,
        "started_at": at,
        "finished_at": at,
    }
    if chosen is not None:
        row |= {
            "submitted": chosen.iteration,
            "tests_passed": chosen.tests_passed,
            "tests_total": chosen.tests_total,
            "visible_passed": chosen.visible_passed,
            "visible_total": chosen.visible_total,
            # Which rung wrote the submitted answer (a cascade).
            "rung": strategy.worker_at(chosen.iteration)[1],
        }
    return row


def answer_of_row(r: Any) -> Answer | None:
    """The answer of an attempt's row (a row of ``itertuples``); None when no code ran."""
    if r.status in ("provider_error", "sandbox_error") or not r.code:
        return None
    return Answer(
        int(r.iteration),
        flag(r.passed),
        _count(r.visible_passed),
        _count(r.visible_total),
        None if pd.isna(r.tests_passed) else int(r.tests_passed),
        None if pd.isna(r.tests_total) else int(r.tests_total),
    )


def _count(value: Any) -> int:
    return 0 if pd.isna(value) else int(value)
