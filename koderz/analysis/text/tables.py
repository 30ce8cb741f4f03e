"""The tables of a report and of a paper: savings with their intervals beside the pass rates
they were bought at, costs by tier and role, and the per-strategy table that ``koderz analyze
--format markdown|latex|csv`` writes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from koderz.analysis.text.formats import usd
from koderz.analysis.text.pages import Note
from koderz.models.registry import TIERS
from koderz.store import CALL_ROLES

__all__ = [
    "cost_table",
    "format_table",
    "group_table",
    "heldout_table",
    "paper_table",
    "savings_table",
    "strategy_table",
]


def _ci(pair: Any, fmt: str) -> str:
    if not isinstance(pair, tuple | list) or any(
        v is None or (isinstance(v, float) and not math.isfinite(v)) for v in pair
    ):
        return "-"
    return f"{fmt.format(pair[0])} to {fmt.format(pair[1])}"


def _val(value: Any, fmt: str, missing: str = "-") -> str:
    """``value`` in ``fmt``; a negative dollar amount as -$1.00, not $-1.00.

    Examples:
        >>> _val(-0.0317, "${:,.4f}"), _val(None, "{}")
        ('-$0.0317', '-')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or value is pd.NA:
        return missing
    if fmt.startswith("$") and value < 0:
        return "-" + fmt.format(-value)
    return fmt.format(value)


def heldout_table(heldout: Any) -> pd.DataFrame | str:
    """The held-out choice (``Analysis.heldout``) as a table: the strategies on the
    validation part's Pareto front, with their pass rate and cost per problem on it and on
    the held-out problems; a sentence when none was asked for.

    Examples:
        >>> heldout_table(None)
        'No held-out choice was asked for (koderz report --heldout 0.3, or heldout = 0.3 in the notebook).'
    """  # noqa: E501
    if heldout is None:
        return (
            "No held-out choice was asked for (koderz report --heldout 0.3, or heldout = 0.3 "
            "in the notebook)."
        )
    rows = [
        {
            "strategy": r["strategy"],
            "validation pass rate": _val(100 * r["validation_pass_rate"], "{:.1f}%"),
            "validation cost per problem": usd(r["validation_cost_usd"]),
            "held-out pass rate": _val(100 * r["test_pass_rate"], "{:.1f}%"),
            "held-out cost per problem": usd(r["test_cost_usd"]),
        }
        for r in heldout.front.to_dict("records")
    ]
    held = len(heldout.test_problems)
    table = pd.DataFrame(rows).set_index("strategy") if rows else pd.DataFrame()
    table.index.name = f"front chosen on the rest; {held} held out (seed {heldout.seed})"
    return table


def group_table(by: str | None, analyses: Mapping[str, Any]) -> pd.DataFrame | str:
    """Per group of problems and strategy (``analyze_by``'s analyses): problems, pass rate
    with its 95% interval, cost per problem and the pass rate after the models' cutoff; a
    sentence when the problems are not grouped.

    Examples:
        >>> group_table(None, {})
        'Not split by group: set split_by (difficulty, platform, month, source or language) in the notebook, or give koderz report --by KEY.'
    """  # noqa: E501
    if by is None or not analyses:
        return Note(
            "Not split by group: set split_by (difficulty, platform, month, source or "
            "language) in the notebook, or give koderz report --by KEY."
        )
    rows = []
    for label, analysis in analyses.items():
        after = {r["strategy"]: r for r in analysis.after_cutoff.to_dict("records")}
        for r in analysis.summary.to_dict("records"):
            cut = after.get(r["strategy"], {})
            rows.append(
                {
                    by: label,
                    "strategy": r["strategy"],
                    "problems": r["problems"],
                    "pass rate": _val(100 * r["pass_rate"], "{:.1f}%")
                    + f" ({_ci([100 * v for v in r['pass_rate_ci95']], '{:.0f}%')})",
                    "cost per problem": usd(r["cost_per_problem"]),
                    "pass rate after the cutoff": _val(
                        100 * cut.get("after_pass_rate", math.nan), "{:.1f}%"
                    )
                    + (f" (n={cut['after_problems']})" if cut.get("after_problems") else ""),
                }
            )
    return pd.DataFrame(rows).set_index([by, "strategy"])


def savings_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Savings per strategy against the measured baseline and against the estimate, with
    95% intervals, formatted for a paper (one row per strategy). Every saving stands beside
    the pass rate it was bought at; a strategy that solved nothing shows why it has none.

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a"], "problems": [3], "pass_rate": [0.5],
        ...     "cost_usd": [1.0], "cost_per_solved": [0.5]})
        >>> savings_table(s).columns.tolist()[:3]
        ['problems', 'pass rate', 'cost']
    """
    rows = []
    for record in summary.to_dict("records"):
        r = {str(k): v for k, v in record.items()}
        note = r.get("savings_note")
        none = "none (solved nothing)" if isinstance(note, str) else "-"
        row: dict[str, str] = {
            "strategy": str(r["strategy"]),
            "problems": str(r["problems"]),
            "pass rate": _val(100 * r["pass_rate"], "{:.1f}%"),
            "cost": _val(r["cost_usd"], "${:,.4f}"),
            "cost per solved": _val(r["cost_per_solved"], "${:,.4f}", "none solved"),
        }
        if "stop" in r:
            # The stop rule says what the pass rate is; under visible, the oracle's ceiling
            # and the gap to it: the price of choosing without the grader.
            own = r["stop"] == "visible"
            row |= {
                "stop": str(r["stop"] or "-"),
                "oracle pass rate": _val(100 * r["oracle_pass_rate"] if own else None, "{:.1f}%"),
                "gap to oracle (points)": _val(100 * r["oracle_gap"] if own else None, "{:+.1f}"),
                "false stops": _val(r["false_stops"] if own else None, "{}"),
            }
        if "savings_usd" in r:
            base = r.get("baseline")
            has = isinstance(base, str)
            row |= {
                "baseline (measured)": str(base) if has else "-",
                "problems compared": _val(r.get("problems_compared") if has else None, "{}"),
                # Both rates on the problems both ran: the overall rate above may be over
                # other problems than the baseline's.
                "pass rate on them": _val(
                    100 * r["pass_rate_compared"] if has else None, "{:.1f}%"
                ),
                "baseline pass rate": _val(
                    100 * r["baseline_pass_rate"] if has else None, "{:.1f}%"
                ),
                "savings": _val(r["savings_usd"] if has else None, "${:,.4f}", none),
                "savings %": _val(r["savings_pct"] if has else None, "{:.1f}%", none),
                "savings % 95% CI": _ci(r["savings_pct_ci95"], "{:.1f}%") if has else "-",
                "times cheaper": _val(r["cost_ratio"] if has else None, "{:.2f}x", none),
                "times cheaper 95% CI": _ci(r["cost_ratio_ci95"], "{:.2f}x") if has else "-",
                "% of baseline pass rate": _val(
                    r["pass_rate_pct_of_baseline"] if has else None, "{:.0f}%"
                ),
                "pass rate difference (points)": _val(
                    r.get("pass_rate_diff") if has else None, "{:+.1f}"
                ),
                "difference 95% CI": _ci(r.get("pass_rate_diff_ci95"), "{:+.1f}") if has else "-",
                "difference p": _val(r.get("pass_rate_diff_p") if has else None, "{:.2g}"),
            }
        if "estimate_savings_usd" in r:
            row |= {
                "frontier-only ESTIMATE": _val(r["frontier_only_estimate_usd"], "${:,.4f}"),
                "savings vs estimate %": _val(r["estimate_savings_pct"], "{:.1f}%", none),
                "savings vs estimate 95% CI": _ci(r["estimate_savings_pct_ci95"], "{:.1f}%"),
            }
        rows.append(row)
    return pd.DataFrame(rows).set_index("strategy") if rows else pd.DataFrame()


def cost_table(by_tier: pd.DataFrame, by_role: pd.DataFrame) -> pd.DataFrame:
    """Cost and calls by tier and by role (rows), one column per strategy, so that it fits a
    notebook pane however many tiers and roles there are: each cell is the cost and the
    number of calls (``$0.0123 (4 calls)``). Tiers and roles no strategy called are left out.

    Examples:
        >>> t = pd.DataFrame({"strategy": ["a"], "tier": ["local"], "calls": [3],
        ...     "cost_usd": [0.0], "share": [0.0]})
        >>> r = pd.DataFrame({"strategy": ["a"], "role": ["attempt"], "calls": [3],
        ...     "cost_usd": [0.0], "share": [0.0]})
        >>> cost_table(t, r)["a"].to_dict()
        {'tier: local': '$0 (3 calls)', 'role: attempt': '$0 (3 calls)'}
    """
    rows: dict[str, dict[str, str]] = {}
    strategies: list[str] = []
    for frame, key, order in ((by_tier, "tier", TIERS), (by_role, "role", CALL_ROLES)):
        if frame.empty:
            continue
        strategies += [s for s in frame["strategy"].astype(str).unique() if s not in strategies]
        for k in order:
            mine = frame[frame[key] == k]
            if mine.empty or mine["calls"].sum() == 0:
                continue
            rows[f"{key}: {k}"] = {
                str(r["strategy"]): f"{usd(r['cost_usd'])} ({int(r['calls'])} calls)"
                for r in mine.to_dict("records")
            }
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame.from_dict(rows, orient="index")
    return table.reindex(columns=sorted(strategies)).fillna("-")


# --------------------------------------------------------------------------- for papers

_INTERVALS = {
    "pass_rate": "pass_rate_ci95",
    "cost_per_problem": "cost_per_problem_ci95",
    "savings_pct": "savings_pct_ci95",
    "cost_ratio": "cost_ratio_ci95",
    "pass_rate_diff": "pass_rate_diff_ci95",
    "estimate_savings_pct": "estimate_savings_pct_ci95",
}
_COLUMNS = (
    "problems",
    "solved",
    "pass_rate",
    "cost_usd",
    "cost_per_problem",
    "cost_per_solved",
    "baseline",
    "problems_compared",
    "savings_pct",
    "cost_ratio",
    "pass_rate_diff",
    "pass_rate_diff_p",
    "estimate_savings_pct",
)


def strategy_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The per-strategy table as numbers, each interval as ``_lo``/``_hi`` columns: pass
    rate, cost, cost per problem and per solved problem, savings, times cheaper, pass-rate
    difference and its McNemar p against the baseline, savings against the estimate.
    Undefined values (no baseline, nothing solved) are NaN.

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a"], "problems": [2], "solved": [1],
        ...     "pass_rate": [0.5], "pass_rate_ci95": [(0.0, 1.0)], "cost_usd": [2.0],
        ...     "cost_per_solved": [2.0]})
        >>> strategy_table(s)[["strategy", "pass_rate", "pass_rate_lo", "pass_rate_hi"]].values
        array([['a', 0.5, 0.0, 1.0]], dtype=object)
    """
    out = pd.DataFrame({"strategy": summary["strategy"].astype(str).to_numpy()})
    for col in _COLUMNS:
        out[col] = summary[col].to_numpy() if col in summary.columns else math.nan
        if col in _INTERVALS:
            pairs = summary[_INTERVALS[col]] if _INTERVALS[col] in summary.columns else None
            out[f"{col}_lo"] = (
                [math.nan] * len(out) if pairs is None else [_end(p, 0) for p in pairs]
            )
            out[f"{col}_hi"] = (
                [math.nan] * len(out) if pairs is None else [_end(p, 1) for p in pairs]
            )
    out["cost_per_solved"] = pd.to_numeric(out["cost_per_solved"]).replace(math.inf, math.nan)
    return out


def _end(pair: Any, i: int) -> float:
    return float(pair[i]) if isinstance(pair, tuple | list) else math.nan


def paper_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The per-strategy table formatted for a paper: one row per strategy, each estimate
    with its 95% interval in one cell.

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a"], "problems": [2], "solved": [1],
        ...     "pass_rate": [0.5], "pass_rate_ci95": [(0.0, 1.0)], "cost_usd": [2.0],
        ...     "cost_per_problem": [1.0], "cost_per_problem_ci95": [(0.5, 1.5)],
        ...     "cost_per_solved": [2.0]})
        >>> paper_table(s).iloc[0].tolist()[:4]
        ['a', '2', '50.0% (0.0 to 100.0)', '$1.0000 ($0.5000 to $1.5000)']
    """
    t = strategy_table(summary)
    rows = []
    for record in t.to_dict("records"):
        r = {str(k): v for k, v in record.items()}
        none = "none (solved nothing)" if r["solved"] == 0 else "-"
        rows.append(
            {
                "strategy": r["strategy"],
                "problems": _val(r["problems"], "{:.0f}"),
                "pass rate (95% CI)": _with_ci(r, "pass_rate", "{:.1f}", scale=100, unit="%"),
                "cost per problem (95% CI)": _with_ci(r, "cost_per_problem", "${:,.4f}"),
                "cost per solved": _val(r["cost_per_solved"], "${:,.4f}", "none solved"),
                "baseline": r["baseline"] if isinstance(r["baseline"], str) else "-",
                "savings (95% CI)": _with_ci(r, "savings_pct", "{:.1f}", unit="%", missing=none),
                "times cheaper (95% CI)": _with_ci(r, "cost_ratio", "{:.2f}", missing=none),
                "pass-rate difference, points (95% CI)": _with_ci(r, "pass_rate_diff", "{:+.1f}"),
                "difference p": _val(r["pass_rate_diff_p"], "{:.2g}"),
                "savings vs estimate (95% CI)": _with_ci(
                    r, "estimate_savings_pct", "{:.1f}", unit="%", missing=none
                ),
            }
        )
    return pd.DataFrame(rows)


def _with_ci(
    r: dict[str, Any], key: str, fmt: str, *, scale: float = 1, unit: str = "", missing: str = "-"
) -> str:
    value = _val(r[key] * scale if _finite(r[key]) else None, fmt, missing)
    if value == missing:
        return missing
    lo, hi = r[f"{key}_lo"], r[f"{key}_hi"]
    if not (_finite(lo) and _finite(hi)):
        return value + unit
    return f"{value}{unit} ({fmt.format(lo * scale)} to {fmt.format(hi * scale)})"


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def format_table(summary: pd.DataFrame, fmt: str) -> str:
    """The per-strategy table as ``markdown``, ``latex`` (booktabs) or ``csv`` (numbers,
    intervals as ``_lo``/``_hi`` columns).

    Examples:
        >>> s = pd.DataFrame({"strategy": ["a_b"], "problems": [2], "solved": [1],
        ...     "pass_rate": [0.5], "cost_usd": [2.0], "cost_per_solved": [2.0]})
        >>> print(format_table(s, "markdown").splitlines()[2][:23])
        | a_b | 2 | 50.0% | - |
        >>> r"a\\_b" in format_table(s, "latex")
        True
    """
    if fmt == "csv":
        return str(strategy_table(summary).to_csv(index=False))
    table = paper_table(summary)
    header, rows = list(table.columns), table.astype(str).values.tolist()
    if fmt == "markdown":
        lines = [_md_row(header), "|" + "---|" * len(header), *(_md_row(r) for r in rows)]
        return "\n".join(lines) + "\n"
    if fmt == "latex":
        body = [" & ".join(_tex(c) for c in r) + r" \\" for r in rows]
        return "\n".join(
            [
                r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}",
                r"\toprule",
                " & ".join(_tex(c) for c in header) + r" \\",
                r"\midrule",
                *body,
                r"\bottomrule",
                r"\end{tabular}",
                "",
            ]
        )
    raise ValueError(f"format_table: no format {fmt!r}; use markdown, latex or csv")


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_"}
_TEX |= {"{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    return "".join(_TEX.get(c, c) for c in text)
