"""The methods section of a report, for publication: versions, every model and its prices,
every strategy's settings, problems and counts, dates and what was reused or cached, read
from the rows (and the runs' manifests, ``runs/<run_id>.json``, for the prompt versions and
the window of release dates: :mod:`koderz.analysis.text.window`).

Only the columns this installation's steps table has are read (:data:`METHODS_COLUMNS`): a
setting the rows do not record is not shown, never guessed.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from koderz.analysis.stats.cutoffs import known_cutoffs
from koderz.analysis.stats.metrics import ANALYSIS_COLUMNS, experiments
from koderz.analysis.stats.savings import N_BOOT
from koderz.analysis.text.pages import Html
from koderz.analysis.text.window import problem_window, run_manifests
from koderz.models.prices import list_price
from koderz.store import COLUMNS

__all__ = [
    "METHODS_COLUMNS",
    "methods_text",
    "models_table",
    "strategy_models",
    "strategy_settings",
]

_SETTINGS = (
    "kind",
    "worker_model",
    "spec_model",
    "reviewer_model",
    "rungs",
    "repairer_model",
    "max_iterations",
    "checkpoint_interval",
    "feedback_level",
    "stop",
    "advice",
    "max_advice",
    "reasoning",
    "samples",
    "tester_model",
    "tests_per_problem",
    "escalate_below",
    "mode",
    "temperature",
    "seed",
)
_WANTED = (
    "run_id",
    "strategy",
    "experiment_id",
    "problem_id",
    "problem_source",
    "problem_released",
    "role",
    "model",
    "model_cutoff",
    "provider",
    "tier",
    "price_source",
    "koderz_version",
    "started_at",
    "spec_reused",
    "cache_read_tokens",
    "epoch",
    "cached",
    *_SETTINGS,
)
METHODS_COLUMNS = tuple(c for c in _WANTED if c in COLUMNS)
"""The columns the methods section reads (those of :data:`_WANTED` the schema has)."""

REPORT_COLUMNS = tuple(dict.fromkeys((*ANALYSIS_COLUMNS, *METHODS_COLUMNS)))
"""The columns a report reads: the analysis' and the methods section's."""


def _values(series: pd.Series) -> str:
    """The distinct values of a column, comma-separated, missing and empty ones left out."""
    kept = [str(v) for v in series.dropna().unique() if str(v) not in ("", "nan")]
    return ", ".join(sorted(kept)) or "-"


def strategy_settings(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy: each recorded setting, runs, problems, finished experiments,
    epochs (when the rows record them) and the dates of its first and last step.

    Examples:
        >>> steps = pd.DataFrame({"strategy": "s", "run_id": "r", "problem_id": ["p", "p"],
        ...     "role": ["attempt", "end"], "worker_model": "qwen", "feedback_level": "full"})
        >>> row = strategy_settings(steps).loc["s"]
        >>> row["worker_model"], row["feedback_level"], int(row["problems"])
        ('qwen', 'full', 1)
    """
    rows = []
    done = experiments(steps).query("finished")["strategy"].value_counts()
    for strategy, g in steps.groupby("strategy", sort=True):
        row: dict[str, Any] = {"strategy": strategy}
        row |= {c: _values(g[c]) for c in _SETTINGS if c in g.columns}
        row["runs"] = g["run_id"].nunique()
        row["problems"] = g["problem_id"].nunique()
        row["experiments"] = int(done.get(strategy, 0))
        if "epoch" in g.columns and g["epoch"].notna().any():
            row["epochs"] = int(g["epoch"].max())
        if "started_at" in g.columns and g["started_at"].notna().any():
            row["first step"] = f"{g['started_at'].min():%Y-%m-%d %H:%M}"
            row["last step"] = f"{g['started_at'].max():%Y-%m-%d %H:%M}"
        rows.append(row)
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).set_index("strategy")
    unrecorded = [c for c in _SETTINGS if c in table.columns and (table[c] == "-").all()]
    return table.drop(columns=unrecorded)


def strategy_models(steps: pd.DataFrame) -> dict[str, str]:
    """Per strategy, its models in a few words (and its feedback level, where the rows name
    one: a pass rate means little without it), for a figure's labels.

    Examples:
        >>> steps = pd.DataFrame({"strategy": ["a", "b"], "worker_model": ["qwen", "opus"],
        ...     "spec_model": ["opus", ""], "reviewer_model": ["opus", ""]})
        >>> strategy_models(steps)
        {'a': 'qwen, advised by opus', 'b': 'opus'}
        >>> strategy_models(steps.assign(feedback_level="public"))["b"]
        'opus; feedback public'
        >>> strategy_models(steps.assign(kind="sample", samples=3))["b"]
        'opus, best of 3'
    """
    out = {}
    for strategy, g in steps.groupby("strategy", sort=True):
        # NAME@URL names a server of this machine: the label keeps the name alone.
        worker = _values(g["worker_model"].str.split("@").str[0]) if "worker_model" in g else "-"
        advisers = {
            v.split("@")[0]
            for c in ("spec_model", "reviewer_model")
            if c in g.columns
            for v in g[c].dropna()
        } - {""}
        levels = sorted(set(g["feedback_level"].dropna()) - {""}) if "feedback_level" in g else []
        # A best-of-n's n: the same worker at n times the calls is another point.
        samples = sorted({int(n) for n in g["samples"].dropna()}) if "samples" in g else []
        out[str(strategy)] = (
            worker
            + (f", best of {'/'.join(map(str, samples))}" if samples else "")
            + (f", advised by {', '.join(sorted(advisers))}" if advisers else "")
            + (f"; feedback {'+'.join(levels)}" if levels else "")
        )
    return out


def models_table(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per model called: provider, tier, calls, list prices ($ per million tokens:
    input, output, cache read) and the price source the rows name.

    Examples:
        >>> steps = pd.DataFrame({"role": ["attempt", "end"], "model": ["claude-opus-4-8", ""],
        ...     "provider": ["anthropic", ""], "tier": ["frontier", ""],
        ...     "price_source": ["genai-prices 1", ""]})
        >>> row = models_table(steps).loc["claude-opus-4-8"]
        >>> int(row["calls"]), float(row["$/Mtok in"]), float(row["$/Mtok out"])
        (1, 5.0, 25.0)
    """
    calls = steps[(steps["role"] != "end") & (steps["model"].fillna("") != "")]
    rows = []
    for model, g in calls.groupby("model", sort=True):
        try:
            price = list_price(str(model))
        except Exception:  # a model this installation does not know: its rows still count
            price = None
        rows.append(
            {
                "model": model,
                "provider": _values(g["provider"]) if "provider" in g.columns else "-",
                "tier": _values(g["tier"]) if "tier" in g.columns else "-",
                "calls": len(g),
                "$/Mtok in": price.input_usd_per_mtok if price else None,
                "$/Mtok out": price.output_usd_per_mtok if price else None,
                "$/Mtok cached": price.cache_read_usd_per_mtok if price else None,
                "price source": _values(g["price_source"]) if "price_source" in g.columns else "-",
            }
        )
    return pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame()


def _prompt_versions(data_dir: str | os.PathLike[str] | None, runs: list[str]) -> str:
    found = {str(m.get("prompts_version", "")) for m in run_manifests(data_dir, runs)}
    return ", ".join(sorted(found - {""})) or "-"


def _cutoffs_line(known: Mapping[str, str | None]) -> str | None:
    """The training data cutoff of every model called."""
    if not known:
        return None
    parts = [f"{m} {d or 'unknown'}" for m, d in sorted(known.items())]
    return (
        "- Training data cutoffs (given with --cutoff, else as the runs recorded them, else "
        f"registered: docs/models.md): {', '.join(parts)}."
    )


def methods_text(
    steps: pd.DataFrame,
    data_dir: str | os.PathLike[str] | None = None,
    cutoffs: Mapping[str, str] | None = None,
) -> str:
    """The facts a methods section states, as Markdown bullets: versions, problems, runs,
    dates, the window of release dates, the models' cutoffs (``cutoffs``: those given
    beside the recorded and registered ones) and what was reused or cached.

    Examples:
        >>> steps = pd.DataFrame({"run_id": "r", "strategy": "s", "problem_id": ["p", "p"],
        ...     "problem_source": "humaneval", "role": ["attempt", "end"],
        ...     "koderz_version": "0.2.0", "price_source": ["genai-prices 0.0.3", ""]})
        >>> print(methods_text(steps).splitlines()[0])
        - Koderz 0.2.0; prices: genai-prices 0.0.3; prompts version -.
    """
    runs = sorted(str(r) for r in steps["run_id"].dropna().unique())
    ended = experiments(steps).query("finished")

    def col(name: str) -> str:
        return _values(steps[name]) if name in steps.columns else "-"

    prompts = f"prompts version {_prompt_versions(data_dir, runs)}"
    if _all_demo(steps):
        prompts = "no prompts: demo data, made up by koderz.demo_data, not a measurement"
    lines = [
        f"- Koderz {col('koderz_version')}; prices: {col('price_source')}; {prompts}.",
        f"- Problems: {steps['problem_id'].nunique()} from {col('problem_source')}; "
        f"{len(ended)} finished experiments in {len(runs)} run(s) ({', '.join(runs) or '-'}).",
    ]
    if "started_at" in steps.columns and steps["started_at"].notna().any():
        lines.append(
            f"- Dates: {steps['started_at'].min():%Y-%m-%d %H:%M} to "
            f"{steps['started_at'].max():%Y-%m-%d %H:%M} UTC."
        )
    window = problem_window(steps, data_dir)
    if window is not None:
        lines.append(f"- Window: {window.words}.")
    if "model" in steps.columns:
        known = _cutoffs_line(known_cutoffs(steps, cutoffs))
        lines += [known] if known else []
    lines.append(_stop_line(ended))
    lines.append(
        "- Statistics: pass rates and costs with 95% percentile bootstrap intervals over "
        f"problems ({N_BOOT:,} resamples, paired between strategies, seed 0); the difference "
        "in pass rate against the baseline with Tango's score interval and the McNemar test "
        "it inverts (one run per problem), or the paired t interval and test (several runs), "
        "so that the interval leaves out 0 exactly when p < 0.05."
    )
    reused = (
        int(steps["spec_reused"].fillna(False).astype(bool).sum()) if "spec_reused" in steps else 0
    )
    cache = int(steps["cache_read_tokens"].fillna(0).sum()) if "cache_read_tokens" in steps else 0
    cached = (
        f"{_count_true(steps, 'cached')} calls answered from the call cache; "
        if "cached" in steps.columns
        else ""
    )
    lines.append(
        f"- Reused and cached: {cached}{reused} specs reused from earlier runs (free); "
        f"{cache:,} prompt tokens read from the providers' caches."
    )
    return "\n".join(lines)


def _stop_line(ended: pd.DataFrame) -> str:
    """The stop rule of each strategy, in words a reviewer can check."""
    rules = ended.groupby("stop")["strategy"].unique() if len(ended) else pd.Series(dtype=object)
    parts = []
    if "visible" in rules.index:
        parts.append(
            "visible for " + ", ".join(sorted(map(str, rules["visible"]))) + " (an experiment "
            "stops when every test it can see passes, the problem's public tests, and submits "
            "that answer, or when its attempts run out the one that passed the most of them; "
            "with nothing visible, its first answer; the hidden tests judge only the submitted "
            "answer, and no hidden result reaches a prompt or a decision)"
        )
    if "oracle" in rules.index:
        parts.append(
            "oracle for " + ", ".join(sorted(map(str, rules["oracle"]))) + " (it stops when "
            "an attempt passes the hidden tests: the grader picks the answer, so its pass rate "
            "is an upper bound no deployed system reaches)"
        )
    return "- Stop rule: " + ("; ".join(parts) or "-") + "."


def _all_demo(steps: pd.DataFrame) -> bool:
    """Whether every row is demo data (:mod:`koderz.analysis.demo`), which no model wrote."""
    from koderz.analysis.demo import DEMO_SOURCE

    if "problem_source" not in steps.columns or steps.empty:
        return False
    return bool((steps["problem_source"] == DEMO_SOURCE).all())


def _count_true(steps: pd.DataFrame, column: str) -> int:
    if column not in steps.columns:
        return 0
    return int(steps[column].fillna(False).astype(bool).sum())


def methods_html(
    steps: pd.DataFrame,
    data_dir: str | os.PathLike[str] | None = None,
    cutoffs: Mapping[str, str] | None = None,
) -> Any:
    """:func:`methods_text` as an HTML list, for a notebook and its rendered page.

    Examples:
        >>> steps = pd.DataFrame({"run_id": "r", "strategy": "s", "problem_id": ["p"],
        ...     "role": ["end"]})
        >>> str(methods_html(steps)).startswith("<ul><li>Koderz -")
        True
    """
    items = [
        html.escape(line.removeprefix("- "))
        for line in methods_text(steps, data_dir, cutoffs).splitlines()
    ]
    return Html("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
