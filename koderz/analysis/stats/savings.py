"""Savings: what a strategy saves against a measured baseline and against the frontier-only
estimate, with 95% bootstrap intervals that resample problems (paired), and the pass-rate
difference with its exact test (the sentences that say it are in
:mod:`~koderz.analysis.text.headlines`).

Which experiments count, how a problem's cost and pass share are averaged over its runs and
what is compared with what are defined in the docstring of :mod:`koderz.analysis`; the tables
here take its :func:`~koderz.analysis.stats.metrics.experiments` table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from koderz.analysis.stats.compare import paired_difference
from koderz.errors import ConfigError

__all__ = [
    "N_BOOT",
    "bootstrap_ci",
    "check_baseline",
    "finished",
    "nan_ratio",
    "per_problem",
    "savings",
]

N_BOOT = 2000
"""Bootstrap resamples of an interval, unless told otherwise."""

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


# --------------------------------------------------------------------------- intervals


def bootstrap_ci(
    columns: Sequence[_FloatArray],
    statistic: Callable[..., _FloatArray],
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a statistic of per-problem values.

    Problems (the positions of the arrays in ``columns``, all of one length) are resampled
    with replacement, the same draw for every column, so paired comparisons stay paired.

    Args:
        columns: Per-problem values, e.g. ``[strategy_cost, baseline_cost]``.
        statistic: Called with one 2-D array per column, a resample per row; returns one value
            per row. NaN values (e.g. 0/0) are dropped from the percentiles.
        n_boot: Resamples.
        seed: Seed of the generator, so a report is reproducible.
        level: Coverage of the interval.

    Examples:
        Two problems: the resamples are {1, 1}, {1, 3} and {3, 3}, so the mean's 95%
        interval runs from the smallest mean to the largest.

        >>> bootstrap_ci([np.array([1.0, 3.0])], lambda x: x.mean(axis=1))
        (1.0, 3.0)
    """
    arrays = [np.asarray(c, dtype=float) for c in columns]
    size = len(arrays[0])
    if size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    # Chunks of resamples keep memory flat however many problems there are.
    chunk = max(1, min(n_boot, 2_000_000 // size))
    values: list[_FloatArray] = []
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, size, size=(min(chunk, n_boot - start), size))
        values.append(np.asarray(statistic(*(a[idx] for a in arrays)), dtype=float))
    stats = np.concatenate(values)
    stats = stats[~np.isnan(stats)]
    if len(stats) == 0:
        return (math.nan, math.nan)
    tail = (1 - level) / 2
    return (_percentile(stats, tail), _percentile(stats, 1 - tail))


def _percentile(values: _FloatArray, q: float) -> float:
    """numpy's default (linear) percentile, but an end at +-inf without a warning: a ratio
    over a resample that cost nothing is infinite, and so is a percentile that reaches it.

    Examples:
        >>> _percentile(np.array([1.0, 2.0, 3.0, 5.0]), 0.5)
        2.5
        >>> _percentile(np.array([1.0, np.inf]), 0.9)
        inf
    """
    ordered = np.sort(values)
    h = (len(ordered) - 1) * q
    lo = math.floor(h)
    frac = h - lo
    if frac == 0 or lo + 1 >= len(ordered):
        return float(ordered[lo])
    a, b = float(ordered[lo]), float(ordered[lo + 1])
    if math.isinf(a) or math.isinf(b):
        return b if math.isinf(b) else a
    return a + frac * (b - a)


# --------------------------------------------------------------------------- per problem


def finished(exps: pd.DataFrame) -> pd.DataFrame:
    """The experiments that have their end row (only they count)."""
    return exps[exps["finished"]]


def per_problem(exps: pd.DataFrame, value_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Per strategy and problem: n, c, the pass share c/n and the mean of ``value_cols``."""
    g = finished(exps).groupby(["strategy", "problem_id"], sort=True)
    out = g.agg(n=("solved", "size"), c=("solved", "sum"))
    for col in value_cols:
        out[col] = g[col].mean()
    out["rate"] = out["c"] / out["n"]
    return out.reset_index()


# --------------------------------------------------------------------------- savings


@dataclass(frozen=True)
class _Comparison:
    problems: int
    cost: float
    baseline_cost: float
    pass_rate: float
    baseline_pass_rate: float
    savings_usd_ci95: tuple[float, float]
    savings_pct_ci95: tuple[float, float]
    cost_ratio_ci95: tuple[float, float]
    pass_ratio_ci95: tuple[float, float]
    better: int
    """Problems where the strategy's pass share is above the baseline's."""
    worse: int
    """Problems where it is below."""


def nan_ratio(num: _FloatArray, den: _FloatArray) -> _FloatArray:
    """``num / den`` element-wise, NaN (and no warning) where ``den`` is 0."""
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, np.asarray(num, dtype=float) / den, math.nan)


def _compare(
    s: _FloatArray, b: _FloatArray, rs: _FloatArray, rb: _FloatArray, n_boot: int, seed: int
) -> _Comparison:
    def sums(x: _FloatArray) -> _FloatArray:
        return np.asarray(x.sum(axis=1), dtype=float)

    def ci(f: Callable[..., _FloatArray]) -> tuple[float, float]:
        return bootstrap_ci([s, b, rs, rb], f, n_boot=n_boot, seed=seed)

    return _Comparison(
        problems=len(s),
        cost=float(s.sum()),
        baseline_cost=float(b.sum()),
        pass_rate=float(rs.mean()) if len(rs) else math.nan,
        baseline_pass_rate=float(rb.mean()) if len(rb) else math.nan,
        savings_usd_ci95=ci(lambda s_, b_, *_: sums(b_) - sums(s_)),
        savings_pct_ci95=ci(lambda s_, b_, *_: 100 * nan_ratio(sums(b_) - sums(s_), sums(b_))),
        cost_ratio_ci95=ci(lambda s_, b_, *_: _times_cheaper(sums(b_), sums(s_))),
        pass_ratio_ci95=ci(lambda _s, _b, rs_, rb_: 100 * nan_ratio(sums(rs_), sums(rb_))),
        better=int((rs > rb).sum()),
        worse=int((rs < rb).sum()),
    )


def _pct(part: float, whole: float) -> float:
    return 100 * part / whole if whole else math.nan


def _times_cheaper(base: Any, cost: Any) -> Any:
    """How many times cheaper ``cost`` is than ``base``, element-wise: ``base / cost``; inf
    when only the baseline costs something, NaN (undefined) when the baseline costs nothing.

    Examples:
        >>> _times_cheaper(np.array([6.0, 2.0, 0.0, 0.0]), np.array([2.0, 0.0, 1.0, 0.0]))
        array([ 3., inf, nan, nan])
    """
    base = np.asarray(base, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base > 0, base / np.asarray(cost, dtype=float), math.nan)


def _money(cmp: _Comparison, prefix: str) -> dict[str, Any]:
    """The savings columns of one comparison, named ``PREFIXsavings_usd`` and so on."""
    saved = cmp.baseline_cost - cmp.cost
    return {
        f"{prefix}savings_usd": saved,
        f"{prefix}savings_usd_ci95": cmp.savings_usd_ci95,
        f"{prefix}savings_pct": _pct(saved, cmp.baseline_cost),
        f"{prefix}savings_pct_ci95": cmp.savings_pct_ci95,
        f"{prefix}cost_ratio": float(_times_cheaper(cmp.baseline_cost, cmp.cost)),
        f"{prefix}cost_ratio_ci95": cmp.cost_ratio_ci95,
    }


def check_baseline(baseline: str | None, strategies: Iterable[Any]) -> None:
    """Refuse a baseline that is none of ``strategies`` (``None`` is no baseline: fine).

    Raises:
        ConfigError: The message lists the strategies there are.

    Examples:
        >>> check_baseline("x", ["b", "a"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        koderz.errors.ConfigError: No strategy 'x' ... the strategies are: a, b.
    """
    names = sorted(str(s) for s in strategies if isinstance(s, str))
    if baseline is not None and baseline not in names:
        raise ConfigError(
            f"No strategy {baseline!r} in the data to use as the baseline; the strategies are: "
            f"{', '.join(names) or '(none)'}."
        )


def savings(
    exps: pd.DataFrame,
    *,
    baseline: str | None = None,
    estimate: bool = True,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Per strategy, its savings against a measured baseline and against the estimate.

    Against ``baseline`` (a strategy's name; columns ``baseline, problems_compared,
    compared_cost_usd, baseline_cost_usd, savings_usd, savings_usd_ci95, savings_pct,
    savings_pct_ci95, cost_ratio, cost_ratio_ci95, pass_rate_compared,
    baseline_pass_rate, solved_compared, baseline_solved_compared, pass_rate_pct_of_baseline,
    pass_rate_pct_of_baseline_ci95, pass_rate_diff`` (percentage points, strategy minus
    baseline) ``, pass_rate_diff_ci95, pass_rate_diff_p, pass_rate_diff_method`` (an interval
    and a test that agree: :func:`~koderz.analysis.stats.compare.paired_difference`) and
    ``problems_better, problems_worse`` (where one pass share beats the other)) only the
    problems both finished are compared; the baseline's own row has none of these.
    Against the estimate (``frontier_only_estimate_usd`` and ``estimate_*`` columns, when the
    experiments were re-priced) the strategy's own problems are compared with the same tokens
    re-priced.

    A strategy that solved none of its problems has no savings: its ``savings_*`` and
    ``cost_ratio*`` columns (measured and estimate) are NaN, and ``savings_note`` says why.

    Raises:
        ConfigError: ``baseline`` names no strategy in the table; the message lists them.

    Examples:
        Per problem (cost of the strategy, of the baseline): a (1, 2) and b (1, 4). The saving
        is (6 - 2) / 6 = 66.7%; resampling problems gives {a, a}: 50%, {b, b}: 75%.

        >>> exps = pd.DataFrame({"strategy": ["cheap"] * 2 + ["frontier"] * 2,
        ...     "problem_id": ["a", "b"] * 2, "finished": True, "solved": True,
        ...     "cost_usd": [1.0, 1.0, 2.0, 4.0]})
        >>> row = savings(exps, baseline="frontier").set_index("strategy").loc["cheap"]
        >>> round(float(row["savings_pct"]), 1), row["savings_pct_ci95"], float(row["cost_ratio"])
        (66.7, (50.0, 75.0), 3.0)
    """
    strategies = sorted(exps["strategy"].unique().tolist())
    check_baseline(baseline, strategies)
    has_estimate = estimate and "estimate_usd" in exps.columns
    cols = ["cost_usd", "estimate_usd"] if has_estimate else ["cost_usd"]
    pp = per_problem(exps, cols).set_index(["strategy", "problem_id"])
    rows: list[dict[str, Any]] = []
    for strategy in strategies:
        row: dict[str, Any] = {"strategy": strategy}
        mine = pp.loc[strategy] if strategy in pp.index.get_level_values(0) else pp.iloc[:0]
        solved_nothing = len(mine) > 0 and not mine["c"].any()
        if solved_nothing:
            row["savings_note"] = NOTHING_SOLVED
        if baseline is not None and strategy != baseline:
            theirs = pp.loc[baseline]
            common = mine.index.intersection(theirs.index)
            a, b = mine.loc[common], theirs.loc[common]
            row |= _measured(pd.DataFrame(a), pd.DataFrame(b), baseline, n_boot, seed)
        if has_estimate:
            s = mine["cost_usd"].to_numpy(float)
            e = mine["estimate_usd"].to_numpy(float)
            cmp = _compare(s, e, s, s, n_boot, seed)
            row |= {
                "frontier_only_estimate_usd": cmp.baseline_cost,
                **_money(cmp, "estimate_"),
            }
        if solved_nothing:  # no savings: nothing was bought with the money
            row |= {k: _undefined(v) for k, v in row.items() if _is_saving(k)}
        rows.append(row)
    return pd.DataFrame(rows)


NOTHING_SOLVED = "solved nothing, so it has no savings and no cost per solved problem"
"""Why a strategy that solved none of its problems shows no savings."""


def _is_saving(column: str) -> bool:
    name = column.removeprefix("estimate_")
    return name.startswith(("savings_", "cost_ratio")) and name != "savings_note"


def _undefined(value: Any) -> Any:
    return (math.nan, math.nan) if isinstance(value, tuple) else math.nan


def _measured(
    a: pd.DataFrame, b: pd.DataFrame, baseline: str, n_boot: int, seed: int
) -> dict[str, Any]:
    """The columns of one strategy (per-problem table ``a``) against the baseline (``b``) on
    the problems both finished: cost, savings, pass rates, their difference and its test."""
    rs, rb = a["rate"].to_numpy(float), b["rate"].to_numpy(float)
    cmp = _compare(
        a["cost_usd"].to_numpy(float), b["cost_usd"].to_numpy(float), rs, rb, n_boot, seed
    )
    diff = paired_difference(rs, rb)
    return {
        "baseline": baseline,
        "problems_compared": cmp.problems,
        "compared_cost_usd": cmp.cost,
        "baseline_cost_usd": cmp.baseline_cost,
        **_money(cmp, ""),
        "pass_rate_compared": cmp.pass_rate,
        "baseline_pass_rate": cmp.baseline_pass_rate,
        "solved_compared": float(rs.sum()),
        "baseline_solved_compared": float(rb.sum()),
        "pass_rate_pct_of_baseline": _pct(cmp.pass_rate, cmp.baseline_pass_rate),
        "pass_rate_pct_of_baseline_ci95": cmp.pass_ratio_ci95,
        "pass_rate_diff": 100 * diff.diff,
        "pass_rate_diff_ci95": (100 * diff.ci95[0], 100 * diff.ci95[1]),
        "pass_rate_diff_p": diff.p,
        "pass_rate_diff_method": diff.method,
        "problems_better": cmp.better,
        "problems_worse": cmp.worse,
    }
