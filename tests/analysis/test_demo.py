"""Demo data is consistent as real data would be: a problem has its own number of tests under
every strategy and in every run, and the methods section says what the rows are."""

from __future__ import annotations

from pathlib import Path

from koderz import demo_data
from koderz.analysis.text.methods import methods_text
from koderz.models.prices import list_price
from koderz.store import load_steps
from koderz.version import __version__


def test_a_problem_has_the_same_tests_everywhere(tmp_path: Path) -> None:
    steps = load_steps(demo_data(tmp_path, problems=8, runs=3, samples=2))
    attempts = steps[steps["role"] == "attempt"]
    per_problem = attempts.groupby("problem_id")["tests_total"].nunique()
    assert len(per_problem) == 8 and (per_problem == 1).all()
    assert attempts.groupby("problem_id")["tests_total"].first().nunique() > 1  # not all alike


def test_the_methods_line_is_filled_in(tmp_path: Path) -> None:
    data = demo_data(tmp_path, problems=2)
    steps = load_steps(data)
    first = methods_text(steps, data).splitlines()[0]
    source = list_price("claude-opus-4-5").source  # type: ignore[union-attr]
    assert first.startswith(f"- Koderz {__version__}; prices: {source}")
    assert "demo data, made up by koderz.demo_data, not a measurement" in first
    assert " -;" not in first and "version -" not in first
