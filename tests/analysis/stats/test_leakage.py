"""What feedback leaks: the pass-rate gap between feedback levels of one setup, worked by
hand (the words that may be said of it: tests/analysis/text/test_headlines.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from koderz.analysis.stats.leakage import feedback_gaps
from koderz.analysis.stats.metrics import experiments
from tests.rows import end


def gaps_of(steps: pd.DataFrame) -> pd.DataFrame:
    return feedback_gaps(experiments(steps))


def _ends(strategy: str, level: str, solved: dict[str, bool], **setup: object) -> list[dict]:
    base = {"run_id": "r", "strategy": strategy, "feedback_level": level, "worker_model": "qwen:7b"}
    return [
        base
        | {"experiment_id": f"{strategy}/{p}", "problem_id": p, **setup}
        | end("solved" if ok else "exhausted")  # as the engine ends one
        for p, ok in solved.items()
    ]


def test_the_gap_is_on_the_problems_both_ran_with_a_paired_interval():
    public = _ends("s", "public", {"a": True, "b": False, "c": False, "d": False, "x": True})
    full = _ends("s@full", "full", {"a": True, "b": True, "c": True, "d": False})
    other = _ends("o", "summary", {"a": True}, worker_model="other:7b")  # another setup
    (row,) = gaps_of(pd.DataFrame(public + full + other)).to_dict("records")
    # On a-d (x ran only with public): full solves 3 of 4, public 1 of 4.
    assert (row["strategy"], row["public_strategy"], row["problems"]) == ("s@full", "s", 4)
    assert (row["pass_rate"], row["public_pass_rate"]) == (0.75, 0.25)
    assert row["gap"] == pytest.approx(0.5)
    # Per problem the differences are 0, 1, 1, 0: two problems only full solved, none only
    # public, of 4. McNemar's statistic is 2 / sqrt(2), p = 0.157, so Tango's interval
    # (worked with koderz.analysis.stats.compare, checked against a profile likelihood there)
    # reaches below 0.
    lo, hi = row["gap_ci95"]
    assert lo == pytest.approx(-0.2348, abs=1e-4) and hi == pytest.approx(0.8500, abs=1e-4)


def test_one_level_or_no_public_run_gives_no_gap():
    same = _ends("s", "full", {"a": True}) + _ends("t", "full", {"a": False})
    assert gaps_of(pd.DataFrame(same)).empty
    no_public = _ends("s", "full", {"a": True}) + _ends("t", "summary", {"a": False})
    assert gaps_of(pd.DataFrame(no_public)).empty
