"""Savings: what a strategy saves against a measured baseline and against the frontier-only
estimate, with 95% bootstrap intervals that resample problems (paired), and the headline
sentence in the literature's form.

Which experiments count, how a problem's cost and pass share are averaged over its runs and
what is compared with what are defined in the docstring of :mod:`koderz.analysis`; the tables
here take its :func:`~koderz.analysis.metrics.experiments` table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from koderz.errors import ConfigError

__all__ = [
    "N_BOOT",
    "bootstrap_ci",
    "check_baseline",
    "finished",
    "headline",
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
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(stats, [tail, 100 - tail])
    return (float(lo), float(hi))


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
    baseline_pass_rate, pass_rate_pct_of_baseline, pass_rate_pct_of_baseline_ci95``) only
    the problems both finished are compared; the baseline's own row has none of these.
    Against the estimate (``frontier_only_estimate_usd`` and ``estimate_*`` columns, when the
    experiments were re-priced) the
    strategy's own problems are compared with the same tokens re-priced.

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
        if baseline is not None and strategy != baseline:
            theirs = pp.loc[baseline]
            common = mine.index.intersection(theirs.index)
            a, b = mine.loc[common], theirs.loc[common]
            cmp = _compare(
                a["cost_usd"].to_numpy(float),
                b["cost_usd"].to_numpy(float),
                a["rate"].to_numpy(float),
                b["rate"].to_numpy(float),
                n_boot,
                seed,
            )
            row |= {
                "baseline": baseline,
                "problems_compared": cmp.problems,
                "compared_cost_usd": cmp.cost,
                "baseline_cost_usd": cmp.baseline_cost,
                **_money(cmp, ""),
                "pass_rate_compared": cmp.pass_rate,
                "baseline_pass_rate": cmp.baseline_pass_rate,
                "pass_rate_pct_of_baseline": _pct(cmp.pass_rate, cmp.baseline_pass_rate),
                "pass_rate_pct_of_baseline_ci95": cmp.pass_ratio_ci95,
            }
        if has_estimate:
            s = mine["cost_usd"].to_numpy(float)
            e = mine["estimate_usd"].to_numpy(float)
            cmp = _compare(s, e, s, s, n_boot, seed)
            row |= {
                "frontier_only_estimate_usd": cmp.baseline_cost,
                **_money(cmp, "estimate_"),
            }
        rows.append(row)
    return pd.DataFrame(rows)


def headline(row: pd.Series | dict[str, Any]) -> str:
    """The comparison in the literature's form, from a row of :func:`savings`.

    Examples:
        >>> print(headline({"strategy": "cheap", "baseline": "opus", "problems_compared": 164,
        ...     "cost_ratio": 4.02, "cost_ratio_ci95": (3.5, 4.6),
        ...     "pass_rate_pct_of_baseline": 93.1,
        ...     "pass_rate_pct_of_baseline_ci95": (88.0, 98.2)}))  # doctest: +NORMALIZE_WHITESPACE
        cheap is 4.0 times cheaper than opus at 93% of its pass rate
        (95% CI: 3.5-4.6 times cheaper, 88-98% of its pass rate; 164 problems).

        Against a baseline that costs nothing, "times cheaper" is undefined (NaN):

        >>> print(headline({"strategy": "advised", "baseline": "local", "problems_compared": 5,
        ...     "cost_ratio": math.nan, "cost_ratio_ci95": (math.nan, math.nan),
        ...     "pass_rate_pct_of_baseline": 150.0,
        ...     "pass_rate_pct_of_baseline_ci95": (100.0, 200.0)}))
        ... # doctest: +NORMALIZE_WHITESPACE
        advised is compared with local, which costs nothing (times cheaper: undefined),
        at 150% of its pass rate (95% CI: 100-200% of its pass rate; 5 problems).
    """
    r = dict(row)
    baseline = r.get("baseline")
    if not isinstance(baseline, str) or not r.get("problems_compared"):
        return ""
    ratio = float(r["cost_ratio"])
    lo, hi = r["cost_ratio_ci95"]
    plo, phi = r["pass_rate_pct_of_baseline_ci95"]
    if math.isnan(ratio):  # a free baseline: "times cheaper" means nothing
        compared = f"is compared with {baseline}, which costs nothing (times cheaper: undefined),"
        ci_cost = ""
    elif math.isinf(ratio):
        compared = f"costs nothing, unlike {baseline},"
        ci_cost = ""
    elif ratio >= 1:
        compared = f"is {ratio:.1f} times cheaper than {baseline}"
        ci_cost = f"{lo:.1f}-{hi:.1f} times cheaper, "
    else:
        compared = f"is {1 / ratio:.1f} times as expensive as {baseline}"
        ci_cost = f"{_inverse(hi):.1f}-{_inverse(lo):.1f} times as expensive, "
    return (
        f"{r['strategy']} {compared} at {r['pass_rate_pct_of_baseline']:.0f}% of its "
        f"pass rate (95% CI: {ci_cost}{plo:.0f}-{phi:.0f}% of its pass rate; "
        f"{int(r['problems_compared'])} problems)."
    )


def _inverse(ratio: float) -> float:
    """``1 / ratio``, inf for 0 (an interval's end where the baseline was nearly free)."""
    return 1 / ratio if ratio else math.inf
