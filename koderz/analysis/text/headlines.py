"""The sentences that say a comparison at a glance: one per strategy, in the literature's form
("A is 4.1 times cheaper than B (95% CI 3.2-5.3) at 96% of B's pass rate ..."), and never more
than the data supports: a strategy that solved nothing has no savings, a difference in pass
rate comes with its test, and a baseline that solved fewer problems is said to; and the
sentence that says what feedback leaks (:func:`gap_sentence`).

They read the rows of :func:`koderz.analyze`'s summary (the summary joined with
:func:`~koderz.analysis.stats.savings.savings`) and of
:func:`~koderz.analysis.stats.leakage.feedback_gaps`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from koderz.analysis.stats.compare import PAIRED_T

__all__ = ["gap_sentence", "headline", "stop_clause", "strategy_sentence", "summary_headlines"]

SIGNIFICANCE = 0.05
"""The level below which a difference in pass rate is called significant."""


def headline(row: Mapping[str, Any]) -> str:
    """The comparison with the measured baseline in one sentence, from a row of the summary
    (or of :func:`~koderz.analysis.stats.savings.savings`); ``""`` for a row with no baseline.

    Examples:
        >>> print(headline({"strategy": "cheap", "baseline": "opus", "problems_compared": 164,
        ...     "cost_ratio": 4.12, "cost_ratio_ci95": (3.2, 5.3),
        ...     "pass_rate_pct_of_baseline": 96.1, "pass_rate_pct_of_baseline_ci95": (88.0, 103.0),
        ...     "baseline_pass_rate": 0.9, "pass_rate_diff": -3.5,
        ...     "pass_rate_diff_ci95": (-9.1, 2.4), "pass_rate_diff_p": 0.38,
        ...     "solved_compared": 142.0, "baseline_solved_compared": 148.0}))
        ... # doctest: +NORMALIZE_WHITESPACE
        cheap is 4.1 times cheaper than opus (95% CI 3.2-5.3) at 96% of opus's pass rate
        (95% CI 88-103%); the difference in pass rate, -3.5 points (95% CI -9.1 to +2.4), is
        not significant (McNemar p = 0.38, 164 problems).

        A strategy that solved nothing saves nothing, whatever it cost:

        >>> print(headline({"strategy": "tiny", "baseline": "opus", "problems_compared": 5,
        ...     "problems": 5, "solved": 0, "savings_note": "solved nothing"}))
        tiny solved none of its 5 problems, so it has no savings and no cost per solved problem.
    """
    r = dict(row)
    baseline = r.get("baseline")
    if _solved_nothing(r):
        return _nothing_solved(r)
    if not isinstance(baseline, str) or not r.get("problems_compared"):
        return ""
    n = int(r["problems_compared"])
    sentence = f"{r['strategy']} {_cost_clause(r, baseline)} {_pass_clause(r, baseline)}"
    if "pass_rate_diff_p" in r:  # a row of savings() has it; a hand-made one may not
        sentence += f"; {_difference_clause(r, n)}"
    sentence += "."
    mine, theirs = r.get("solved_compared"), r.get("baseline_solved_compared")
    if isinstance(mine, float) and isinstance(theirs, float) and theirs < mine:
        sentence += (
            f" {baseline} solved fewer of these problems than {r['strategy']} "
            f"({_count(theirs)} against {_count(mine)} of {n})."
        )
    return sentence


def strategy_sentence(row: Mapping[str, Any]) -> str:
    """A strategy on its own in one sentence: what it solved and what that cost.

    Examples:
        >>> print(strategy_sentence({"strategy": "local", "problems": 4, "solved": 3,
        ...     "experiments": 4, "pass_rate": 0.75, "pass_rate_ci95": (0.25, 1.0),
        ...     "cost_per_problem": 0.0123}))
        local solved 3 of 4 problems (pass rate 75%, 95% CI 25-100%) at $0.0123 per problem.
    """
    r = dict(row)
    if _solved_nothing(r):
        return _nothing_solved(r)
    lo, hi = r["pass_rate_ci95"]
    solved = (
        f"{r['solved']} of {r['problems']} problems"
        if r["experiments"] == r["problems"]
        else f"{r['solved']} of {r['experiments']} experiments on {r['problems']} problems"
    )
    return (
        f"{r['strategy']} solved {solved} (pass rate "
        f"{100 * r['pass_rate']:.0f}%, 95% CI {100 * lo:.0f}-{100 * hi:.0f}%) at "
        f"${r['cost_per_problem']:,.4f} per problem."
    )


def summary_headlines(rows: Iterable[Mapping[str, Any]], baseline_reason: str) -> list[str]:
    """Every sentence of the report's top, in order: which baseline and why, then one per
    strategy (its comparison with the baseline, or what it did on its own)."""
    out = [baseline_reason] if baseline_reason else []
    for r in rows:
        sentence = headline(r) or strategy_sentence(r)
        ceiling = stop_clause(r)
        out.append(f"{sentence} {ceiling}" if ceiling else sentence)
    return out


def stop_clause(row: Mapping[str, Any]) -> str:
    """What a strategy's stop rule makes of its pass rate, in one sentence: an oracle's is an
    upper bound; a deployable one's stands below its oracle ceiling, with the false stops
    that cost it. Empty for a row without the stop rule's columns.

    Examples:
        >>> print(stop_clause({"strategy": "cheap", "stop": "visible", "pass_rate": 0.5,
        ...     "oracle_pass_rate": 0.7, "false_stops": 2, "nothing_visible": 1}))
        Its pass rate is of the answers it chose to submit; had the hidden tests picked among its attempts (an oracle), 70% (+20.0 points), and 2 answers passed every visible test but failed the hidden ones (1 problem had no visible test).
        >>> print(stop_clause({"strategy": "c", "stop": "visible", "pass_rate": 0.9,
        ...     "oracle_pass_rate": 0.9, "false_stops": 0, "nothing_visible": 0}))
        Its pass rate is of the answers it chose to submit, and equals its oracle ceiling (90%): none of the attempts it passed over would have passed the hidden tests.
        >>> print(stop_clause({"strategy": "o", "stop": "oracle"}))
        o stopped when the hidden tests passed (stop oracle): its pass rate is an upper bound no deployed system reaches.
    """  # noqa: E501
    r = dict(row)
    stop = r.get("stop")
    if not isinstance(stop, str) or not stop:
        return ""
    if "oracle" in stop.split("+"):
        return (
            f"{r['strategy']} stopped when the hidden tests passed (stop oracle): its pass "
            "rate is an upper bound no deployed system reaches."
        )
    ceiling, rate = r.get("oracle_pass_rate"), r.get("pass_rate")
    if not isinstance(ceiling, float) or not isinstance(rate, float) or math.isnan(ceiling):
        return ""
    false_stops, blind = int(r.get("false_stops") or 0), int(r.get("nothing_visible") or 0)
    tail = []
    if false_stops:
        tail.append(
            f"{false_stops} answer{'s' if false_stops > 1 else ''} passed every visible test "
            "but failed the hidden ones"
        )
    blind_text = f"{blind} problem{'s' if blind > 1 else ''} had no visible test" if blind else ""
    if ceiling - rate > 0.0005:
        text = (
            "Its pass rate is of the answers it chose to submit; had the hidden tests picked "
            f"among its attempts (an oracle), {100 * ceiling:.0f}% "
            f"({_signed(100 * (ceiling - rate))} points)"
        )
    else:
        text = (
            "Its pass rate is of the answers it chose to submit, and equals its oracle "
            f"ceiling ({100 * ceiling:.0f}%): none of the attempts it passed over would have "
            "passed the hidden tests"
        )
    if tail:
        text += ", and " + tail[0]
    if blind_text:
        text += f" ({blind_text})"
    return text + "."


def gap_sentence(row: dict[str, Any]) -> str:
    """A feedback gap (a row of :func:`~koderz.analysis.stats.leakage.feedback_gaps`) in words, and
    what its interval lets one say of it.

    Examples:
        >>> text = gap_sentence({"strategy": "s@full", "feedback_level": "full",
        ...     "public_strategy": "s", "problems": 40, "pass_rate": 0.6,
        ...     "public_pass_rate": 0.45, "gap": 0.15, "gap_ci95": (0.05, 0.25)})
        >>> text[:60]
        's@full (feedback full) passes 60% against 45% for s (feedbac'
        >>> text[text.index("40 problems"):]
        '40 problems: +15.0 points (95% CI 5.0 to 25.0), what seeing the hidden tests is worth.'
    """
    lo, hi = row["gap_ci95"]
    if lo > 0:
        verdict = "what seeing the hidden tests is worth"
    elif hi < 0:
        verdict = "the hidden tests' feedback did worse than the public tests'"
    else:
        verdict = "no measurable leakage: the interval includes 0"
    return (
        f"{row['strategy']} (feedback {row['feedback_level']}) passes "
        f"{row['pass_rate']:.0%} against {row['public_pass_rate']:.0%} for "
        f"{row['public_strategy']} (feedback public) on the same {row['problems']} problems: "
        f"{100 * row['gap']:+.1f} points (95% CI {100 * lo:.1f} to {100 * hi:.1f}), "
        f"{verdict}."
    )


# --------------------------------------------------------------------------- clauses


def _solved_nothing(r: dict[str, Any]) -> bool:
    return bool(r.get("savings_note")) or (r.get("solved") == 0 and bool(r.get("problems")))


def _nothing_solved(r: dict[str, Any]) -> str:
    n = r.get("problems") or r.get("problems_compared")
    return (
        f"{r['strategy']} solved none of its {n} problems, so it has no savings and no cost per "
        "solved problem."
    )


def _cost_clause(r: dict[str, Any], baseline: str) -> str:
    ratio = float(r["cost_ratio"])
    lo, hi = (float(v) for v in r["cost_ratio_ci95"])
    if math.isnan(ratio):  # a free baseline: "times cheaper" means nothing
        return f"is compared with {baseline}, which costs nothing (times cheaper: undefined),"
    if math.isinf(ratio):
        return f"costs nothing, unlike {baseline},"
    if ratio >= 1:
        return f"is {ratio:.1f} times cheaper than {baseline} (95% CI {_span(lo, hi)})"
    return (
        f"is {1 / ratio:.1f} times as expensive as {baseline} "
        f"(95% CI {_span(_inverse(hi), _inverse(lo))})"
    )


def _pass_clause(r: dict[str, Any], baseline: str) -> str:
    if r.get("baseline_pass_rate", 1) == 0:
        return f"where {baseline} solved none of them"
    plo, phi = r["pass_rate_pct_of_baseline_ci95"]
    return (
        f"at {r['pass_rate_pct_of_baseline']:.0f}% of {baseline}'s pass rate "
        f"(95% CI {plo:.0f}-{phi:.0f}%)"
    )


def _difference_clause(r: dict[str, Any], n: int) -> str:
    diff, (lo, hi), p = r["pass_rate_diff"], r["pass_rate_diff_ci95"], r["pass_rate_diff_p"]
    if math.isnan(p):
        return (
            f"the difference in pass rate, {_signed(diff)} points, cannot be tested ({n} problem)"
        )
    verdict = "is significant" if p < SIGNIFICANCE else "is not significant"
    test = "paired t" if r.get("pass_rate_diff_method") == PAIRED_T else "McNemar"
    return (
        f"the difference in pass rate, {_signed(diff)} points (95% CI {_signed(lo)} to "
        f"{_signed(hi)}), "
        f"{verdict} ({test} p {_p_value(p)}, {n} problems)"
    )


def _signed(points: float) -> str:
    """Percentage points with their sign: ``+2.5``, ``-33.3``, ``0.0``."""
    return "0.0" if abs(points) < 0.05 else f"{points:+.1f}"


def _span(lo: float, hi: float) -> str:
    """An interval of "times cheaper": ``3.2-5.3``, or ``at least 3.2`` when unbounded."""
    if math.isnan(lo) or math.isnan(hi):
        return "undefined"
    return f"at least {lo:.1f}" if math.isinf(hi) else f"{lo:.1f}-{hi:.1f}"


def _inverse(ratio: float) -> float:
    """``1 / ratio``, inf for 0 (an interval's end where the baseline was nearly free)."""
    return 1 / ratio if ratio else math.inf


def _p_value(p: float) -> str:
    """``= 0.38``, ``= 0.012``, or ``< 0.001``.

    Examples:
        >>> _p_value(0.3812), _p_value(0.0123), _p_value(0.00004), _p_value(1.0)
        ('= 0.38', '= 0.012', '< 0.001', '= 1.00')
    """
    if p < 0.001:
        return "< 0.001"
    return f"= {p:.2f}" if p >= 0.1 else f"= {p:.2g}"


def _count(value: float) -> str:
    """A number of problems solved: whole, or with one decimal (a mean over several runs)."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
