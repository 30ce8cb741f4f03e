"""Synthetic but realistic steps, written with the real writer: for trying the analysis, the
notebooks and reports without spending money, for tests and for the analysis benchmark.

The three demo strategies have the shapes the analysis compares:

``local+frontier``  a frontier model writes a spec, a local model makes the attempts and the
                    frontier model reviews every second attempt;
``small+frontier``  the same with a small frontier model as the worker;
``frontier-only``   the frontier model makes the attempts alone (the measured baseline).

They are named as :func:`koderz.engine.benchmark.default_strategies` names its strategies, so
the commands of the README (``--baseline frontier-only``) work on demo data too.

They stop as the engine's default does (stop ``visible``): when an attempt passes the tests
the experiment can see, its answer is submitted and the hidden verdict judges it. A wrong
answer now and then passes the visible tests too (a false stop), a third of the problems
show no visible test (their first answer is submitted), and on some the visible examples
are themselves wrong, so that a right answer fails them and the experiment goes on past it
(the oracle ceiling then stands above the pass rate).

The problems are shaped as LiveCodeBench's (:func:`problem_of`): an id of the platform's
kind, a release date in the year before the runs, a difficulty and a platform, in Python.
Their difficulty moves the chance of solving them, and a problem released after the
cutoff of every model of a strategy is harder for it, as one it cannot have seen in
training would be: so the report's groups and its pass rates before and after the cutoffs
have something to show.

Outcomes are drawn from a seeded generator, so the same arguments give the same rows. A
problem's number of test cases is the problem's own (the same under every strategy and in
every run), and the calls are priced from the real list prices, whose source the rows name,
as the engine's do. Nothing here is a measurement: every row says so in its
``problem_source`` (``demo``), and a report's methods section says so too.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from koderz.errors import ConfigError
from koderz.models.prices import Price, list_price
from koderz.models.registry import resolve_model
from koderz.records import Usage
from koderz.store import StepWriter, compact_run
from koderz.version import __version__

__all__ = [
    "DEMO_SOURCE",
    "DEMO_STRATEGIES",
    "DemoProblem",
    "DemoStrategy",
    "demo_data",
    "demo_rows",
    "problem_of",
    "tests_of",
    "visible_of",
]


@dataclass(frozen=True)
class DemoStrategy:
    """A strategy of the demo data and how well it does."""

    name: str
    worker: str
    spec_model: str
    reviewer: str
    solve_chance: float
    """Chance that one attempt solves the problem."""
    max_iterations: int = 5
    checkpoint_interval: int = 2


DEMO_STRATEGIES = (
    DemoStrategy("local+frontier", "qwen2.5-coder:7b", "claude-opus-4-8", "claude-opus-4-8", 0.25),
    DemoStrategy("small+frontier", "claude-haiku-4-5", "claude-opus-4-8", "claude-opus-4-8", 0.35),
    DemoStrategy("frontier-only", "claude-opus-4-8", "", "", 0.5),
)

DEMO_SOURCE = "demo"
"""The ``problem_source`` of every demo row."""

# The runs start after the last problem's release (and after the demo models came out).
_T0 = dt.datetime(2026, 7, 6, 9, 0, tzinfo=dt.UTC)
_FIRST_RELEASE = dt.date(2025, 6, 1)
_PLATFORMS = ("leetcode", "atcoder", "codeforces")
_DIFFICULTIES = ("easy", "medium", "hard")
# How the difficulty moves the chance of solving, and how much harder a problem released
# after a strategy's cutoff is (it cannot be remembered).
_EASE = {"easy": 1.4, "medium": 1.0, "hard": 0.5}
_UNSEEN = 0.5


@dataclass(frozen=True)
class DemoProblem:
    """A demo problem, shaped as LiveCodeBench's."""

    task_id: str
    """An id of its platform's kind: ``3421`` (LeetCode), ``abc404_c`` (AtCoder), ``2102D``."""
    released: str
    """Its release date, ``YYYY-MM-DD``, in the year from June 2025."""
    difficulty: str
    """``easy``, ``medium`` or ``hard`` (30%, 40%, 30%, as LiveCodeBench's are about)."""
    platform: str
    """``leetcode``, ``atcoder`` or ``codeforces``, in turn."""
    language: str = "python"
    """The language its answers are in."""


def problem_of(problem: int) -> DemoProblem:
    """Demo problem number ``problem``: the same whatever the strategy, run or seed.

    Examples:
        >>> [problem_of(p).task_id for p in range(3)]
        ['3400', 'abc401_d', '2102D']
        >>> problem_of(1).released, problem_of(1).platform
        ('2025-11-11', 'atcoder')
    """
    platform = _PLATFORMS[problem % len(_PLATFORMS)]
    task_id = {
        "leetcode": f"{3400 + 7 * problem}",
        "atcoder": f"abc{400 + problem}_{'cdef'[problem % 4]}",
        "codeforces": f"{2100 + problem}{'BCDE'[problem % 4]}",
    }[platform]
    released = _FIRST_RELEASE + dt.timedelta(days=(problem * 163) % 365)
    rng = np.random.default_rng(10_000 + problem)
    difficulty = _DIFFICULTIES[int(rng.choice(3, p=[0.3, 0.4, 0.3]))]
    return DemoProblem(task_id, released.isoformat(), difficulty, platform)


def tests_of(problem: int) -> int:
    """How many test cases demo problem ``problem`` has (3 to 11): the problem's own,
    whatever the strategy, run or seed.

    Examples:
        >>> [tests_of(p) for p in range(4)] == [tests_of(p) for p in range(4)]
        True
        >>> all(3 <= tests_of(p) <= 11 for p in range(50))
        True
    """
    return int(np.random.default_rng(problem).integers(3, 12))


def visible_of(problem: int) -> int:
    """How many visible (public) tests demo problem ``problem`` shows: none on every third.

    Examples:
        >>> [visible_of(p) for p in range(4)]
        [2, 2, 0, 2]
    """
    return 0 if problem % 3 == 2 else 2


def _wrong_examples(problem: int) -> bool:
    """Whether the problem's visible examples are themselves wrong (HumanEval/47's docstring
    is): a right answer fails them."""
    return problem % 7 == 4


def _fooled(problem: int, attempt: int, strategy: str) -> bool:
    """Whether a wrong answer passes the visible tests anyway (they are too weak to tell):
    fixed by the problem, attempt and strategy, so that it takes no draw of the outcomes."""
    return (problem * 7 + attempt * 3 + len(strategy)) % 6 == 0


def _list_price(model: str) -> Price:
    price = list_price(model)
    if price is None:  # the demo's models are all in the bundled price database
        raise ConfigError(f"No price known for {model!r}; a demo strategy needs one.")
    return price


def _code(problem: int, attempt: int, ok: bool) -> str:
    body = "    return sorted(set(xs))" if ok else f"    return xs[{attempt}:]  # try {attempt}"
    return f"def solve_{problem}(xs):\n    '''Problem {problem}.'''\n{body}\n"


def demo_rows(
    *,
    problems: int = 10,
    samples: int = 1,
    run_id: str = "demo",
    strategies: tuple[DemoStrategy, ...] = DEMO_STRATEGIES,
    seed: int = 0,
    start: dt.datetime = _T0,
) -> Iterator[dict[str, Any]]:
    """The rows of one demo run: every strategy on ``problems`` problems, ``samples`` times,
    one step after another from ``start``.

    Examples:
        >>> rows = list(demo_rows(problems=2))
        >>> sorted({r["role"] for r in rows})
        ['attempt', 'checkpoint', 'end', 'spec']
    """
    rng = np.random.default_rng(seed)
    call = _Caller(strategies, rng)
    clock = start
    for s in strategies:
        settings = _settings(s)
        for p in range(problems):
            shown = problem_of(p)
            for k in range(samples):
                base = {
                    **settings,
                    "experiment_id": f"{run_id}:{s.name}:{p}:{k}",
                    "problem_id": shown.task_id,
                    "problem_shape": "function",
                    "problem_released": shown.released,
                    "problem_difficulty": shown.difficulty,
                    "problem_platform": shown.platform,
                    "problem_language": shown.language,
                }
                chance = _chance(s, shown, call)
                for row in _experiment(s, p, base, rng, call, chance):
                    took = float(row.get("latency_s") or 0.0) + float(row.get("exec_s") or 0.0)
                    row["started_at"] = clock
                    clock += dt.timedelta(seconds=took)
                    row["finished_at"] = clock
                    yield row


class _Caller:
    """A model call's columns, priced from each model's list price (looked up once; demo
    prompts are far below any long-context price tier)."""

    def __init__(self, strategies: tuple[DemoStrategy, ...], rng: np.random.Generator) -> None:
        used = {m for s in strategies for m in (s.worker, s.spec_model, s.reviewer) if m}
        self.models = {m: (resolve_model(m), _list_price(m)) for m in sorted(used)}
        self.rng = rng

    def cutoff(self, models: list[str]) -> str | None:
        """The latest of the models' training data cutoffs; None if one has none."""
        found = [self.models[m][0].cutoff for m in models]
        return None if not found or not all(found) else max(str(c) for c in found)

    def __call__(self, model: str, tin: int, tout: int) -> dict[str, Any]:
        spec, price = self.models[model]
        usage = Usage(input_tokens=tin, output_tokens=tout)
        return {
            "model": model,
            "provider": spec.provider,
            "tier": spec.tier,
            "model_cutoff": spec.cutoff,
            "input_tokens": tin,
            "output_tokens": tout,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cost_usd": price.cost(usage),
            "hardware_cost_usd": 0.0,
            "latency_s": float(self.rng.gamma(2.0, 1.5 if spec.is_local else 0.8)),
            "call_attempts": 1,
            "stop_reason": "end",
            "price_source": price.source,
        }


def _settings(s: DemoStrategy) -> dict[str, Any]:
    """The strategy's settings, repeated on each of its rows as the engine does."""
    return {
        "strategy": s.name,
        "worker_model": s.worker,
        "spec_model": s.spec_model,
        "reviewer_model": s.reviewer,
        "max_iterations": s.max_iterations,
        "checkpoint_interval": s.checkpoint_interval,
        "feedback_level": "public",
        "stop": "visible",
        "mode": "iterative" if s.max_iterations > 1 else "zero_shot",
        "problem_source": DEMO_SOURCE,
        "koderz_version": __version__,
    }


def _chance(s: DemoStrategy, problem: DemoProblem, call: _Caller) -> float:
    """The chance that one attempt of ``s`` solves ``problem``: its own, moved by the
    difficulty, and lower after the cutoff of all its models."""
    cutoff = call.cutoff([m for m in (s.worker, s.spec_model, s.reviewer) if m])
    unseen = cutoff is not None and problem.released > cutoff
    return min(0.95, s.solve_chance * _EASE[problem.difficulty] * (_UNSEEN if unseen else 1.0))


def _experiment(
    s: DemoStrategy,
    p: int,
    base: dict[str, Any],
    rng: np.random.Generator,
    call: _Caller,
    chance: float,
) -> list[dict[str, Any]]:
    """One experiment's rows: the spec (if the strategy has a spec model), the attempts with
    the reviews between them, and the end row naming the submitted answer."""
    total, seen = tests_of(p), visible_of(p)
    rows: list[dict[str, Any]] = []
    if s.spec_model:
        spec = call(s.spec_model, int(rng.integers(300, 600)), int(rng.integers(150, 400)))
        guidance = f"Spec for problem {p}: return the sorted unique items."
        rows.append(
            base | spec | {"role": "spec", "iteration": 0, "status": "ok"} | {"guidance": guidance}
        )
    answers: list[tuple[int, bool, int]] = []  # (attempt, hidden verdict, visible passed)
    stopped = False
    for i in range(1, s.max_iterations + 1):
        ok = bool(rng.random() < chance)
        row = _attempt(s, p, i, ok, total, rng, call)
        visible = _visible(p, i, s.name, ok, int(row["tests_passed"]), total)
        row |= {"visible_passed": visible, "visible_total": seen}
        row |= {"public_passed": visible, "public_total": seen} if seen else {}
        rows.append(base | row)
        answers.append((i, ok, visible))
        if visible == seen:  # every visible test passed (or none is visible): it stops
            stopped = True
            break
        if s.reviewer and i % s.checkpoint_interval == 0 and i < s.max_iterations:
            review = call(s.reviewer, int(rng.integers(800, 1500)), int(rng.integers(100, 300)))
            guidance = f"Attempt {i} slices; deduplicate and sort instead."
            rows.append(
                base
                | review
                | {"role": "checkpoint", "iteration": i, "status": "ok"}
                | {"guidance": guidance}
            )
    # Stopped: the last answer; else the one that passed the most visible tests, the latest
    # among equals.
    chosen = answers[-1] if stopped else max(reversed(answers), key=lambda a: a[2])
    end = {
        "role": "end",
        "iteration": len(answers),
        "status": "stopped" if stopped else "exhausted",
        "passed": chosen[1],
        "submitted": chosen[0],
        "oracle_passed": any(a[1] for a in answers),
        "false_stop": stopped and seen > 0 and not chosen[1],
        "visible_passed": chosen[2],
        "visible_total": seen,
    }
    rows.append(base | end)
    return rows


def _visible(p: int, i: int, strategy: str, ok: bool, got: int, total: int) -> int:
    """The visible tests an attempt passes: all of them for a right answer (unless the
    examples are wrong) or a wrong one that fools them; else about its share of the hidden
    ones, short of all."""
    seen = visible_of(p)
    if seen == 0:
        return 0
    if (ok and not _wrong_examples(p)) or (not ok and _fooled(p, i, strategy)):
        return seen
    return min(seen - 1, got * seen // total)


def _attempt(
    s: DemoStrategy,
    p: int,
    i: int,
    ok: bool,
    total: int,
    rng: np.random.Generator,
    call: _Caller,
) -> dict[str, Any]:
    """Attempt ``i``: the worker's call and the sandbox's verdict on its code."""
    got = total if ok else int(rng.integers(0, total))
    c = call(s.worker, int(rng.integers(400, 900)) + 150 * i, int(rng.integers(200, 700)))
    return c | {
        "role": "attempt",
        "iteration": i,
        "passed": ok,
        "tests_passed": got,
        "tests_total": total,
        "exec_s": float(rng.uniform(0.05, 0.3)),
        "status": "passed" if ok else "failed",
        "code": _code(p, i, ok),
        "feedback": "" if ok else f"AssertionError: {got}/{total} tests pass",
    }


def demo_data(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    problems: int = 10,
    runs: int = 1,
    samples: int = 1,
    seed: int = 0,
) -> Path:
    """Write a demo data folder (``runs`` runs, each compacted) and return its path.

    Args:
        data_dir: Where to write; a new temporary folder when None.
        problems: Problems per strategy and run.
        runs: Runs, named ``demo-1``, ``demo-2``, ...
        samples: Experiments per problem, strategy and run.
        seed: Seed of the outcomes.

    Examples:
        >>> from koderz.store import load_steps
        >>> steps = load_steps(demo_data(problems=3))
        >>> sorted(steps["strategy"].unique())
        ['frontier-only', 'local+frontier', 'small+frontier']
    """
    if data_dir is None:
        import tempfile

        data_dir = tempfile.mkdtemp(prefix="koderz-demo-")
    path = Path(data_dir)
    clock = _T0
    for r in range(1, runs + 1):
        run_id = f"demo-{r}"
        writer = StepWriter(path, run_id)
        batch: list[dict[str, Any]] = []
        rows = demo_rows(
            problems=problems, samples=samples, run_id=run_id, seed=seed + r, start=clock
        )
        for row in rows:  # runs one after another, as a user makes them
            clock = row["finished_at"]
            batch.append(row)
            if len(batch) >= 20_000:
                writer.write_many(batch)
                batch = []
        writer.write_many(batch)
        compact_run(path, run_id)
    return path
