"""Each figure and table function on fixture data: what it draws, labels and colours."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from koderz import analyze, cost_curve, demo_data
from koderz.analysis.analyze import Analysis
from koderz.analysis.report import plots, widgets
from koderz.analysis.stats import attempts
from koderz.analysis.stats.attempts import solve_grid
from koderz.analysis.stats.compare import pareto_front
from koderz.analysis.text.story import experiment_story
from koderz.store import load_steps, spent_usd
from tests.rows import experiment_rows, write_steps


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    data = demo_data(tmp_path_factory.mktemp("demo"), problems=12, runs=2)
    return analyze(load_steps(data), baseline="frontier-only", estimate_model="claude-opus-4-5")


@pytest.fixture(scope="module")
def empty() -> Analysis:
    return analyze(pd.DataFrame({"role": [], "run_id": [], "experiment_id": []}))


def _hex(color: object) -> str:
    return mcolors.to_hex(color)  # type: ignore[arg-type]


def test_pass_rate_has_bars_and_ci_error_bars(analysis: Analysis) -> None:
    fig = plots.plot_pass_rate(analysis.summary)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == analysis.summary["strategy"].tolist()
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx((analysis.summary["pass_rate"] * 100).tolist())
    (bars,) = [c for c in ax.containers if c.__class__.__name__ == "ErrorbarContainer"]
    segments = bars.lines[2][0].get_segments()
    lows = [s[0][1] for s in segments]
    assert lows == pytest.approx([c[0] * 100 for c in analysis.summary["pass_rate_ci95"]])
    assert "95%" in ax.get_title() and "%" in ax.get_ylabel()


def test_cost_by_tier_stacks_tiers_in_their_colours(analysis: Analysis) -> None:
    ax = plots.plot_cost_by_tier(analysis.summary).axes[0]
    legend = {
        t.get_text(): _hex(h.get_facecolor())
        for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)
    }
    assert legend == {
        plots.TIER_LABELS[t]: plots.TIER_COLORS[t].lower()
        for t in ("local", "small_frontier", "frontier")
    }
    s = analysis.summary.set_index("strategy")
    n = len(s)
    frontier_bars = ax.patches[2 * n : 3 * n]  # drawn tier by tier
    expected = (s["cost_frontier"] / s["solved"]).tolist()
    assert [p.get_height() for p in frontier_bars] == pytest.approx(expected)
    assert ax.get_ylabel() == "US$ per solved problem"


def test_cost_frontier_one_line_per_strategy(analysis: Analysis) -> None:
    curve = cost_curve(analysis.experiments)
    ax = plots.plot_cost_frontier(curve).axes[0]
    lines = [line for line in ax.get_lines() if line.get_label() in set(curve["strategy"])]
    assert len(lines) == curve["strategy"].nunique()
    cheap = next(line for line in lines if line.get_label() == "local+frontier")
    total = curve[curve["strategy"] == "local+frontier"]["cumulative_cost_usd"].iloc[-1]
    assert cheap.get_ydata()[-1] == pytest.approx(total)
    assert "US$" in ax.get_ylabel()


def test_attempts_distribution_sums_to_100_per_strategy(analysis: Analysis) -> None:
    ax = plots.plot_attempts(analysis.experiments).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 3 and all("(n=" in label for label in labels)
    heights = pd.Series([p.get_height() for p in ax.patches])
    per = len(heights) // 3
    for i in range(3):
        assert heights[i * per : (i + 1) * per].sum() == pytest.approx(100)


def test_pass_at_iteration_ends_at_the_pass_rate(analysis: Analysis) -> None:
    ax = plots.plot_pass_at_iteration(analysis.pass_at_iteration).axes[0]
    rates = analysis.summary.set_index("strategy")["pass_rate"]
    assert sorted(line.get_label() for line in ax.get_lines()) == sorted(rates.index)
    for line in ax.get_lines():
        assert line.get_ydata()[-1] == pytest.approx(rates[line.get_label()] * 100)


FIGURES = [
    lambda a, s: plots.plot_cost_quality(a.summary),
    lambda a, s: plots.plot_pass_rate(a.summary),
    lambda a, s: plots.plot_cost_by_tier(a.summary),
    lambda a, s: plots.plot_cost_frontier(cost_curve(a.experiments)),
    lambda a, s: plots.plot_attempts(a.experiments),
    lambda a, s: plots.plot_pass_at_iteration(a.pass_at_iteration),
    lambda a, s: plots.plot_solve_grid(solve_grid(a.experiments)),
    lambda a, s: plots.plot_tests_by_attempt(attempts.tests_by_attempt(s)),
]


@pytest.mark.parametrize("draw", FIGURES)
def test_an_empty_figure_is_a_sentence_saying_why(draw, empty: Analysis) -> None:  # type: ignore[no-untyped-def]
    steps = pd.DataFrame({c: [] for c in ("role", "run_id", "experiment_id", "strategy")})
    fig = draw(empty, steps.assign(iteration=[], tests_passed=[], tests_total=[]))
    assert isinstance(fig, plots.NoFigure) and fig.startswith("No ")
    assert fig._repr_html_().startswith("<p><em>No ")
    assert plots.save_figures({"x": fig}, "/nonexistent-never-written") == []


@pytest.fixture(scope="module")
def nothing_solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Analysis, pd.DataFrame]:
    """One local strategy, 3 attempts on each of 2 problems, passing 1/4 then 2/4 tests."""
    script = [(False, 1, 4, 0.0), (False, 2, 4, 0.0), (False, 2, 4, 0.0)]
    rows = [row for p in ("P1", "P2") for row in experiment_rows("tiny", p, script)]
    steps = write_steps(tmp_path_factory.mktemp("tiny"), rows, run_id="r")
    return analyze(steps, estimate_model="claude-opus-4-5"), steps


@pytest.mark.parametrize("draw", FIGURES)
def test_nothing_solved_draws_without_warnings_or_negative_axes(draw, nothing_solved) -> None:  # type: ignore[no-untyped-def]
    a, steps = nothing_solved
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would reach the rendered page
        fig = draw(a, steps)
    if isinstance(fig, Figure):
        for ax in fig.axes:  # money, counts and rates (x is categories or a log axis)
            assert ax.get_ylim()[0] >= 0
            assert ax.get_xscale() != "log" or ax.get_xlim()[0] > 0


def test_nothing_solved_has_partial_credit_and_no_savings(nothing_solved) -> None:  # type: ignore[no-untyped-def]
    a, steps = nothing_solved
    curve = attempts.tests_by_attempt(steps)
    assert curve["tests_passed_share"].tolist() == [0.25, 0.5, 0.5]
    fig = plots.plot_tests_by_attempt(curve)
    assert isinstance(fig, Figure)
    table = plots.savings_table(a.summary)
    assert table.loc["tiny", "cost per solved"] == "none solved"
    assert table.loc["tiny", "savings vs estimate %"] == "none (solved nothing)"
    assert "100" not in table.loc["tiny", "savings vs estimate 95% CI"]


def test_cost_quality_plane_marks_the_pareto_front(analysis: Analysis) -> None:
    fig = plots.plot_cost_quality(analysis.summary, models={"frontier-only": "claude-opus-4-5"})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.texts]
    assert "frontier-only\nclaude-opus-4-5" in labels
    s = analysis.summary
    on_front = pareto_front(s["cost_per_problem"].tolist(), s["pass_rate"].tolist())
    fronts = [line for line in ax.get_lines() if line.get_label() == "Pareto front"]
    # A line through the strategies on the front, where there are two or more of them.
    assert len(fronts) == (sum(on_front) > 1)
    assert all(len(line.get_xdata()) == sum(on_front) for line in fronts)
    two = pd.DataFrame(
        {
            "strategy": ["a", "b"],
            "pass_rate": [0.5, 0.8],
            "pass_rate_ci95": [(0.3, 0.7), (0.6, 0.9)],
            "cost_per_problem": [0.01, 0.2],
            "cost_per_problem_ci95": [(0.008, 0.012), (0.1, 0.3)],
        }
    )
    ax = plots.plot_cost_quality(two).axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "Pareto front"]
    assert len(line.get_xdata()) == 2


def test_solve_grid_colours_by_tier(analysis: Analysis) -> None:
    grid = solve_grid(analysis.experiments)
    fig = plots.plot_solve_grid(grid)
    assert isinstance(fig, Figure)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["failed", "solved by local", "solved by small frontier", "solved by frontier"]
    assert set(grid["strategy"]) == set(analysis.summary["strategy"])


def test_savings_table_labels_the_estimate(analysis: Analysis) -> None:
    table = plots.savings_table(analysis.summary)
    assert list(table.index) == ["frontier-only", "local+frontier", "small+frontier"]
    assert "frontier-only ESTIMATE" in table.columns
    assert table.loc["frontier-only", "savings"] == "-"  # the baseline itself
    cheap = analysis.summary.set_index("strategy").loc["local+frontier"]
    assert table.loc["local+frontier", "savings %"] == f"{cheap['savings_pct']:.1f}%"
    lo, hi = cheap["savings_pct_ci95"]
    assert table.loc["local+frontier", "savings % 95% CI"] == f"{lo:.1f}% to {hi:.1f}%"


def test_cost_table_by_tier_and_role(analysis: Analysis) -> None:
    table = plots.cost_table(analysis.by_tier, analysis.by_role)
    # One column per strategy: as narrow as a notebook pane, however many tiers and roles.
    assert list(table.columns) == ["frontier-only", "local+frontier", "small+frontier"]
    assert list(table.index)[:3] == ["tier: local", "tier: small_frontier", "tier: frontier"]
    local = analysis.by_tier.set_index(["strategy", "tier"]).loc[("local+frontier", "local")]
    assert table.loc["tier: local", "local+frontier"] == f"$0 ({int(local['calls'])} calls)"
    assert table.loc["role: spec", "frontier-only"] in ("-", "$0 (0 calls)")
    assert "role: plan" not in table.index  # no strategy made a plan
    assert plots.cost_table(analysis.by_tier.iloc[:0], analysis.by_role.iloc[:0]).empty


def test_save_figures(analysis: Analysis, tmp_path: Path) -> None:
    paths = plots.save_figures({"pass": plots.plot_pass_rate(analysis.summary)}, tmp_path)
    assert [p.name for p in paths] == ["pass.pdf", "pass.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_story_escapes_code_and_shows_diffs(tmp_path: Path) -> None:
    steps = load_steps(demo_data(tmp_path, problems=4))
    exp = steps[(steps["role"] == "attempt") & (steps["iteration"] == 2)]["experiment_id"].iloc[0]
    page = plots.story_html(steps, exp)
    assert "Attempt 1" in page and "Attempt 2" in page and "&rarr; attempt 2" in page
    assert page._repr_html_() == str(page)
    # Every code block names its monospace font itself (Voila's page sets none for <pre>).
    blocks = re.findall(r"<pre\b[^>]*>", page)
    assert blocks and all("font-family:" in b and "monospace" in b for b in blocks)
    hostile = steps.copy()
    hostile.loc[hostile["role"] == "attempt", "code"] = "<script>alert(1)</script>"
    assert "<script>" not in plots.story_html(hostile, exp)


def test_story_shows_a_reused_spec_and_a_failed_call_as_the_text_story_does(
    tmp_path: Path,
) -> None:
    steps = load_steps(demo_data(tmp_path, problems=2))
    exp = steps[steps["strategy"] == "local+frontier"]["experiment_id"].iloc[0]
    rows = steps["experiment_id"] == exp
    spec = rows & (steps["role"] == "spec")
    steps.loc[spec, ["spec_reused", "cost_usd"]] = [True, 0.0]
    first = rows & (steps["role"] == "attempt") & (steps["iteration"] == 1)
    steps.loc[first, ["status", "error", "code", "passed"]] = [
        "provider_error",
        "RateLimitError: <429>",
        None,
        None,
    ]
    page = plots.story_html(steps, exp)
    text = experiment_story(steps, exp)
    assert "SPEC (reused, free)" in text and "<h4>Spec (reused, free) &mdash; " in page
    assert "ATTEMPT 1 - model call failed: RateLimitError: <429>" in text
    assert "<h4>Attempt 1 &mdash; model call failed &mdash; " in page
    assert "RateLimitError: &lt;429&gt;" in page
    assert "Attempt 1 &mdash; failed" not in page and "Attempt 1 &mdash; passed" not in page
    assert f"${spent_usd(steps[rows]):.6f} in all" in page


def test_the_explorer_is_a_widget_not_a_figure() -> None:
    assert "explorer" not in plots.__all__ and not hasattr(plots, "explorer")
    assert widgets.__all__ == ["ALL", "explorer"]


def test_explorer_follows_the_choices(tmp_path: Path) -> None:
    steps = load_steps(demo_data(tmp_path, problems=3))
    box = widgets.explorer(steps)
    run, strategy, problem = box.children[0].children
    view = box.children[-1]
    assert run.value == "demo-1" and strategy.value == "frontier-only"
    problem.value = "abc401_d"
    assert "problem abc401_d, strategy frontier-only" in view.value
    strategy.value = "local+frontier"
    assert "problem abc401_d, strategy local+frontier" in view.value


@pytest.mark.parametrize(
    "passed",
    [
        pd.array([False, True], dtype="boolean"),  # as load_steps gives it
        np.array([False, True]),  # numpy.bool_ cells
        pd.Series([0, 1]),  # 0/1, as a CSV or SQL copy of the steps holds it
        pd.Series([np.nan, 1.0]),  # a boolean column that went through a join with gaps
    ],
    ids=["boolean", "numpy", "int", "float"],
)
def test_story_tells_a_pass_whatever_the_dtype(passed: object) -> None:
    steps = pd.DataFrame(
        {
            "experiment_id": "e",
            "role": ["attempt", "attempt"],
            "iteration": [1, 2],
            "code": ["x = 1\n", "x = 2\n"],
            "passed": passed,
            "feedback": ["wrong: x is 1", "all tests passed"],
            "started_at": [1, 2],
        }
    )
    page = plots.story_html(steps, "e")
    assert "Attempt 1 &mdash; failed" in page and "wrong: x is 1" in page
    assert "Attempt 2 &mdash; passed" in page and "all tests passed" not in page


def test_line_plots_colour_strategies_alike() -> None:
    # Both line plots draw the strategies sorted, in the colours of strategy_colors.
    cost = pd.DataFrame({"strategy": ["b", "a"], "cumulative_cost_usd": 1.0, "solved": 1.0})
    rate = pd.DataFrame({"strategy": ["b", "a"], "iteration": 1, "pass_rate": 0.5})
    want = plots.strategy_colors(["a", "b"])
    for fig in (plots.plot_cost_frontier(cost), plots.plot_pass_at_iteration(rate)):
        ax = fig.axes[0]
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["a", "b"]
        lines = [ln for ln in ax.get_lines() if ln.get_label() in want]
        assert {ln.get_label(): mcolors.to_hex(ln.get_color()) for ln in lines} == {
            k: v.lower() for k, v in want.items()
        }
