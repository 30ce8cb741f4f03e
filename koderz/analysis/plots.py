"""The figures and tables the notebooks show, drawn from :mod:`koderz.analysis.metrics`.

Every figure function returns a matplotlib ``Figure`` (so a notebook shows it and a script can
``fig.savefig("x.pdf")``), labels its axes with units, and colours tiers the same way
everywhere (:data:`TIER_COLORS`, the colour-blind-safe Okabe-Ito palette). Intervals are the
95% bootstrap intervals of the analysis.
"""

from __future__ import annotations

import difflib
import functools
import html
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from koderz.models.registry import TIERS
from koderz.store import CALL_ROLES, flag, spent_usd

__all__ = [
    "TIER_COLORS",
    "Html",
    "cost_table",
    "plot_attempts",
    "plot_cost_by_tier",
    "plot_cost_frontier",
    "plot_pass_at_iteration",
    "plot_pass_rate",
    "save_figures",
    "savings_table",
    "story_html",
    "strategy_colors",
]

TIER_COLORS = {"local": "#009E73", "small_frontier": "#E69F00", "frontier": "#0072B2"}
"""One colour per tier, in every figure: green (local), orange (small frontier), blue."""

TIER_LABELS = {"local": "local", "small_frontier": "small frontier", "frontier": "frontier"}

_STRATEGY_PALETTE = ("#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999")
_STYLE: dict[str, Any] = {
    "figure.dpi": 110,
    "savefig.dpi": 300,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}
_USD = FuncFormatter(lambda v, _: f"${v:,.2f}" if abs(v) >= 0.1 or v == 0 else f"${v:,.4f}")


def strategy_colors(strategies: Sequence[str]) -> dict[str, str]:
    """A fixed colour per strategy, in the order given (sorted names give stable colours).

    Examples:
        >>> strategy_colors(["a", "b"])
        {'a': '#CC79A7', 'b': '#56B4E9'}
    """
    return {s: _STRATEGY_PALETTE[i % len(_STRATEGY_PALETTE)] for i, s in enumerate(strategies)}


_F = TypeVar("_F", bound=Callable[..., Figure])


def _styled(draw: _F) -> _F:
    """Draw the figure under the house style, leaving the caller's rcParams alone."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with plt.rc_context(_STYLE):  # type: ignore[arg-type]
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _figure(width: float = 6.4, height: float = 3.6) -> tuple[Figure, Any]:
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def _empty(fig: Figure, ax: Any, title: str) -> Figure:
    ax.set_title(title)
    ax.text(0.5, 0.5, "no finished experiments", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    plt.close(fig)
    return fig


def _by_strategy(curve: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame, str]]:
    """Each strategy's rows of a line plot's table with its colour, strategies sorted."""
    colors = strategy_colors(sorted(curve["strategy"].unique()))
    for strategy, g in curve.groupby("strategy", sort=True):
        yield str(strategy), g, colors[str(strategy)]


def _done(fig: Figure) -> Figure:
    # Closed so pyplot does not show it a second time; Jupyter still displays the return value.
    plt.close(fig)
    return fig


@_styled
def plot_pass_rate(summary: pd.DataFrame) -> Figure:
    """Pass rate by strategy, with 95% bootstrap intervals over problems.

    Args:
        summary: ``Analysis.summary`` (needs ``strategy``, ``pass_rate``, ``pass_rate_ci95``,
            ``problems``).

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a", "b"], "pass_rate": [0.5, 0.8],
        ...     "pass_rate_ci95": [(0.3, 0.7), (0.6, 0.9)], "problems": [10, 10]})
        >>> plot_pass_rate(s).axes[0].get_ylabel()
        'pass rate (% of problems)'
    """
    title = "Pass rate by strategy"
    fig, ax = _figure()
    if summary.empty:
        return _empty(fig, ax, title)
    names = summary["strategy"].tolist()
    rate = summary["pass_rate"].to_numpy(dtype=float) * 100
    lo = np.array([c[0] for c in summary["pass_rate_ci95"]], dtype=float) * 100
    hi = np.array([c[1] for c in summary["pass_rate_ci95"]], dtype=float) * 100
    colors = list(strategy_colors(names).values())
    ax.bar(names, rate, color=colors, width=0.6)
    ax.errorbar(
        names,
        rate,
        yerr=[np.maximum(rate - lo, 0), np.maximum(hi - rate, 0)],
        fmt="none",
        ecolor="black",
        capsize=4,
        lw=1,
    )
    for x, (r, n) in enumerate(zip(rate, summary["problems"], strict=True)):
        ax.annotate(f"{r:.0f}%\nn={n}", (x, 2), ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_ylabel("pass rate (% of problems)")
    ax.set_xlabel("strategy")
    ax.set_title(title + " (95% bootstrap CI)")
    return _done(fig)


@_styled
def plot_cost_by_tier(summary: pd.DataFrame) -> Figure:
    """Cost per solved problem by strategy, stacked by the tier that spent it.

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a"], "solved": [2], "cost_local": [0.0],
        ...     "cost_small_frontier": [0.0], "cost_frontier": [1.0]})
        >>> plot_cost_by_tier(s).axes[0].get_ylabel()
        'US$ per solved problem'
    """
    title = "Cost per solved problem, by tier"
    fig, ax = _figure()
    if summary.empty:
        return _empty(fig, ax, title)
    names = summary["strategy"].tolist()
    solved = summary["solved"].to_numpy(dtype=float)
    bottom = np.zeros(len(names))
    for tier in TIERS:
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(solved > 0, summary[f"cost_{tier}"].to_numpy(dtype=float) / solved, 0)
        ax.bar(names, per, bottom=bottom, color=TIER_COLORS[tier], label=TIER_LABELS[tier])
        bottom += per
    for x, (total, n) in enumerate(zip(bottom, solved, strict=True)):
        label = f"${total:.4f}" if n else "none solved"
        ax.annotate(label, (x, total), ha="center", va="bottom", fontsize=8)
    ax.yaxis.set_major_formatter(_USD)
    ax.set_ylabel("US$ per solved problem")
    ax.set_xlabel("strategy")
    ax.set_title(title)
    ax.legend(title="tier", loc="upper left", bbox_to_anchor=(1, 1))
    return _done(fig)


@_styled
def plot_cost_frontier(curve: pd.DataFrame) -> Figure:
    """Cumulative cost against problems solved, one line per strategy: the cost/quality
    frontier. Lower and further right is better.

    Args:
        curve: :func:`koderz.cost_curve` of the experiments.

    Examples:
        >>> c = pd.DataFrame({"strategy": "a", "cumulative_cost_usd": [1.0, 2.0],
        ...     "solved": [1.0, 1.0]})
        >>> plot_cost_frontier(c).axes[0].get_xlabel()
        'problems solved (cumulative)'
    """
    title = "Cost against problems solved"
    fig, ax = _figure()
    if curve.empty:
        return _empty(fig, ax, title)
    for strategy, g, color in _by_strategy(curve):
        x = np.concatenate([[0.0], g["solved"].to_numpy(dtype=float)])
        y = np.concatenate([[0.0], g["cumulative_cost_usd"].to_numpy(dtype=float)])
        ax.step(x, y, where="post", color=color, label=strategy, lw=1.6)
        ax.plot(x[-1], y[-1], "o", color=color, ms=4)
    ax.yaxis.set_major_formatter(_USD)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # problems come whole
    ax.set_xlabel("problems solved (cumulative)")
    ax.set_ylabel("cumulative cost (US$)")
    ax.set_title(title + " (in run order)")
    ax.legend(title="strategy")
    return _done(fig)


@_styled
def plot_attempts(exps: pd.DataFrame) -> Figure:
    """How many attempts solved problems took: the share of each strategy's solved
    experiments per attempt number.

    Examples:
        >>> e = pd.DataFrame({"strategy": "a", "finished": True, "solved": [True, True],
        ...     "solved_at": [1, 3]})
        >>> plot_attempts(e).axes[0].get_xlabel()
        'attempt that solved the problem'
    """
    title = "Attempts to solve"
    fig, ax = _figure()
    won = exps[exps["finished"] & exps["solved"]] if len(exps) else exps
    if won.empty:
        return _empty(fig, ax, title)
    at = pd.to_numeric(won["solved_at"], errors="coerce")
    table = pd.crosstab(won["strategy"], at, normalize="index") * 100
    names = table.index.tolist()
    colors = strategy_colors(names)
    width = 0.8 / len(names)
    for i, strategy in enumerate(names):
        xs = table.columns.to_numpy(dtype=float) + (i - (len(names) - 1) / 2) * width
        n = int((won["strategy"] == strategy).sum())
        label = f"{strategy} (n={n})"
        ax.bar(xs, table.loc[strategy].to_numpy(), width=width, color=colors[strategy], label=label)
    ax.set_xticks(table.columns.to_numpy(dtype=float))
    ax.set_xticklabels([str(int(c)) for c in table.columns])
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("attempt that solved the problem")
    ax.set_ylabel("% of solved experiments")
    ax.set_title(title)
    ax.legend(title="strategy")
    return _done(fig)


@_styled
def plot_pass_at_iteration(curve: pd.DataFrame) -> Figure:
    """Pass rate within 1, 2, ... attempts, one line per strategy.

    Args:
        curve: ``Analysis.pass_at_iteration``.

    Examples:
        >>> c = pd.DataFrame({"strategy": "a", "iteration": [1, 2], "pass_rate": [0.4, 0.6]})
        >>> plot_pass_at_iteration(c).axes[0].get_ylabel()
        'solved within n attempts (%)'
    """
    title = "Pass rate by attempts allowed"
    fig, ax = _figure()
    if curve.empty:
        return _empty(fig, ax, title)
    for strategy, g, color in _by_strategy(curve):
        ax.plot(g["iteration"], g["pass_rate"] * 100, marker="o", ms=4, color=color, label=strategy)
    ax.set_xticks(sorted(curve["iteration"].unique()))
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("attempts allowed (n)")
    ax.set_ylabel("solved within n attempts (%)")
    ax.set_title(title)
    # Outside the axes: the lines span the whole plot, so no corner is free.
    ax.legend(title="strategy", loc="upper left", bbox_to_anchor=(1, 1))
    return _done(fig)


def save_figures(
    figures: Mapping[str, Figure],
    folder: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("pdf", "png"),
) -> list[Path]:
    """Save each figure as ``folder/NAME.pdf`` and ``.png`` (300 dpi); returns the paths.

    Examples:
        >>> import tempfile
        >>> c = pd.DataFrame({"strategy": "a", "iteration": [1], "pass_rate": [0.5]})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     [p.name for p in save_figures({"curve": plot_pass_at_iteration(c)}, d)]
        ['curve.pdf', 'curve.png']
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            fig.savefig(path, dpi=300, bbox_inches="tight")
            paths.append(path)
    return paths


# --------------------------------------------------------------------------- tables


def _ci(pair: Any, fmt: str) -> str:
    if not isinstance(pair, tuple | list) or any(
        v is None or (isinstance(v, float) and not math.isfinite(v)) for v in pair
    ):
        return "-"
    return f"{fmt.format(pair[0])} to {fmt.format(pair[1])}"


def _val(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or value is pd.NA:
        return "-"
    return fmt.format(value)


def savings_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Savings per strategy against the measured baseline and against the estimate, with
    95% intervals, formatted for a paper (one row per strategy).

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a"], "problems": [3], "pass_rate": [0.5],
        ...     "cost_usd": [1.0], "cost_per_solved": [0.5]})
        >>> savings_table(s).columns.tolist()[:3]
        ['problems', 'pass rate', 'cost']
    """
    rows = []
    for record in summary.to_dict("records"):
        r = {str(k): v for k, v in record.items()}
        row: dict[str, str] = {
            "strategy": str(r["strategy"]),
            "problems": str(r["problems"]),
            "pass rate": _val(100 * r["pass_rate"], "{:.1f}%"),
            "cost": _val(r["cost_usd"], "${:,.4f}"),
            "cost per solved": _val(r["cost_per_solved"], "${:,.4f}"),
        }
        if "savings_usd" in r:
            base = r.get("baseline")
            has = isinstance(base, str)
            row |= {
                "baseline (measured)": str(base) if has else "-",
                "problems compared": _val(r.get("problems_compared") if has else None, "{}"),
                "savings": _val(r["savings_usd"] if has else None, "${:,.4f}"),
                "savings %": _val(r["savings_pct"] if has else None, "{:.1f}%"),
                "savings % 95% CI": _ci(r["savings_pct_ci95"], "{:.1f}%") if has else "-",
                "times cheaper": _val(r["cost_ratio"] if has else None, "{:.2f}x"),
                "times cheaper 95% CI": _ci(r["cost_ratio_ci95"], "{:.2f}x") if has else "-",
                "% of baseline pass rate": _val(
                    r["pass_rate_pct_of_baseline"] if has else None, "{:.0f}%"
                ),
            }
        if "estimate_savings_usd" in r:
            row |= {
                "frontier-only ESTIMATE": _val(r["frontier_only_estimate_usd"], "${:,.4f}"),
                "savings vs estimate %": _val(r["estimate_savings_pct"], "{:.1f}%"),
                "savings vs estimate 95% CI": _ci(r["estimate_savings_pct_ci95"], "{:.1f}%"),
            }
        rows.append(row)
    return pd.DataFrame(rows).set_index("strategy") if rows else pd.DataFrame()


def cost_table(by_tier: pd.DataFrame, by_role: pd.DataFrame) -> pd.DataFrame:
    """Calls and cost per strategy by tier and by role, side by side.

    Examples:
        >>> t = pd.DataFrame({"strategy": ["a"], "tier": ["local"], "calls": [3],
        ...     "cost_usd": [0.0], "share": [0.0]})
        >>> r = pd.DataFrame({"strategy": ["a"], "role": ["attempt"], "calls": [3],
        ...     "cost_usd": [0.0], "share": [0.0]})
        >>> cost_table(t, r).columns.get_level_values(0).unique().tolist()
        ['tier: local', 'role: attempt']
    """
    parts = []
    for frame, key in ((by_tier, "tier"), (by_role, "role")):
        if frame.empty:
            continue
        wide = frame.pivot(index="strategy", columns=key, values=["calls", "cost_usd"])
        order = TIERS if key == "tier" else CALL_ROLES
        cols = {}
        for k in order:
            if ("calls", k) in wide.columns:
                cols[(f"{key}: {k}", "calls")] = wide[("calls", k)].astype(int)
                cols[(f"{key}: {k}", "cost")] = wide[("cost_usd", k)].map(lambda v: f"${v:,.4f}")
        parts.append(pd.DataFrame(cols))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, axis=1)


# --------------------------------------------------------------------------- one experiment


def _pre(text: str, css: str = "") -> str:
    return f'<pre style="background:#f6f8fa;padding:6px;{css}">{html.escape(text)}</pre>'


def _diff_html(before: str, after: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), old, new
    )
    colours = {"+": "#1a7f37", "-": "#cf222e", "@": "#8250df"}
    out = []
    for line in lines:
        colour = colours.get(line[:1], "#57606a")
        out.append(f'<span style="color:{colour}">{html.escape(line.rstrip(chr(10)))}</span>')
    return '<pre style="background:#f6f8fa;padding:6px">' + "\n".join(out) + "</pre>"


class Html(str):
    """A string of HTML that Jupyter shows rendered (and a static report keeps)."""

    def _repr_html_(self) -> str:
        return str(self)


_STORY_COLUMNS = (
    "role",
    "iteration",
    "model",
    "tier",
    "cost_usd",
    "hardware_cost_usd",
    "spec_reused",
    "guidance",
    "passed",
    "tests_passed",
    "tests_total",
    "status",
    "code",
    "feedback",
    "error",
)


def _text(value: Any) -> str:
    """A text cell as a string ("" when missing, whatever the missing value)."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _usd(*values: Any) -> float:
    return sum(float(v) for v in values if v is not None and pd.notna(v))


def story_html(steps: pd.DataFrame, experiment_id: str | None = None) -> Html:
    """One experiment as HTML: the spec (reused or not), each attempt's code with its diff
    from the previous attempt, test results and feedback (or the failed model call), the
    reviewer's guidance, and what each step cost. The rows are walked as
    :func:`koderz.analysis.story.experiment_story` walks them for the text.

    Examples:
        >>> steps = pd.DataFrame({"experiment_id": "e", "role": ["attempt", "attempt"],
        ...     "iteration": [1, 2], "code": ["x = 1\\n", "x = 2\\n"], "passed": [False, True],
        ...     "tests_passed": [0, 1], "tests_total": [1, 1], "cost_usd": [0.0, 0.0],
        ...     "started_at": [1, 2]})
        >>> "attempt 1 &rarr; attempt 2" in story_html(steps, "e")
        True
    """
    from koderz.analysis.story import experiment_rows

    if experiment_id is None:  # the first experiment recorded
        ids = steps["experiment_id"].dropna()
        if ids.empty:
            return Html("<p>No experiments in the data.</p>")
        experiment_id = str(ids.iloc[0])
    rows = experiment_rows(steps, experiment_id)
    # A hand-made frame may lack columns; as nulls, every row reads alike.
    rows = rows.assign(**{c: None for c in _STORY_COLUMNS if c not in rows.columns})
    parts: list[str] = []
    previous: tuple[int, str] | None = None
    r: Any  # a row of the steps table
    for r in rows.itertuples():
        cost = _usd(r.cost_usd, r.hardware_cost_usd)
        who = f"{html.escape(_text(r.model))} ({html.escape(_text(r.tier))})"
        it = int(r.iteration) if pd.notna(r.iteration) else 0
        if r.role == "spec":
            reused = " (reused, free)" if flag(r.spec_reused) else ""
            parts.append(f"<h4>Spec{reused} &mdash; {who}, ${cost:.6f}</h4>")
            parts.append(_pre(_text(r.guidance) or f"(no spec: {_text(r.error)})"))
        elif r.role == "attempt" and _text(r.status) == "provider_error":
            parts.append(f"<h4>Attempt {it} &mdash; model call failed &mdash; {who}</h4>")
            parts.append(_pre(_text(r.error)))
        elif r.role == "attempt":
            verdict = "passed" if flag(r.passed) else "failed"
            tests = (
                f"{r.tests_passed}/{r.tests_total} tests"
                if pd.notna(r.tests_total)
                else _text(r.status)
            )
            parts.append(
                f"<h4>Attempt {it} &mdash; {verdict}, {tests} &mdash; {who}, ${cost:.6f}</h4>"
            )
            code = _text(r.code)
            parts.append(_pre(code))
            if previous is not None:
                parts.append(f"<p>Diff: attempt {previous[0]} &rarr; attempt {it}</p>")
                parts.append(
                    _diff_html(previous[1], code, f"attempt {previous[0]}", f"attempt {it}")
                )
            if not flag(r.passed) and _text(r.feedback):
                parts.append("<p>Feedback shown to the worker:</p>" + _pre(_text(r.feedback)))
            previous = (it, code)
        elif r.role == "checkpoint":
            parts.append(f"<h4>Checkpoint after attempt {it} &mdash; {who}, ${cost:.6f}</h4>")
            parts.append(_pre(_text(r.guidance) or f"(no guidance: {_text(r.error)})"))
        elif r.role == "end":
            reason = f": {html.escape(_text(r.error))}" if _text(r.error) else ""
            parts.append(
                f"<h4>End &mdash; {html.escape(_text(r.status))}{reason} after {it} "
                f"attempt(s), ${spent_usd(rows):.6f} in all</h4>"
            )
    head = (
        f"<h3>{html.escape(str(experiment_id))}: problem "
        f"{html.escape(str(rows['problem_id'].iloc[0]))}, strategy "
        f"{html.escape(str(rows['strategy'].iloc[0]))}</h3>"
        if "problem_id" in rows.columns and "strategy" in rows.columns
        else ""
    )
    return Html(head + "\n".join(parts))
