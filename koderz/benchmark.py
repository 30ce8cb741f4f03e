"""Many experiments: strategies x problems, scheduled on threads (or a Dask cluster),
resumable, within a budget, with progress and money spent shown as they go.

Threads, not processes or asyncio, so it runs inside Jupyter (where an event loop is already
running) and the work, which waits on models and sandboxes, overlaps. For more than one
machine the same benchmark runs on a Dask cluster, every worker writing into the same data
folder (which must then be on a shared filesystem).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from koderz.errors import ConfigError, KoderzError
from koderz.experiment import Budget, ExperimentResult, Strategy, experiment_id, run_experiment
from koderz.models.registry import ModelSpec, resolve_model
from koderz.records import Problem
from koderz.store import StepWriter, load_steps, spent_usd

__all__ = [
    "BenchmarkResult",
    "InFlight",
    "default_strategies",
    "new_run_id",
    "run_benchmark",
]

FINAL_STATUSES = frozenset({"solved", "exhausted", "error"})
DEFAULT_IN_FLIGHT = {"llamacpp": 1, "ollama": 4}


def new_run_id() -> str:
    """A new run id: UTC time and a random suffix, e.g. ``20261126-071500-a3f9``."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


class InFlight:
    """Limits on model calls in flight, shared by a run's threads: ``total`` in all, and
    per provider."""

    def __init__(self, total: int, limits: Mapping[str, int] | None = None) -> None:
        merged = {**DEFAULT_IN_FLIGHT, **(limits or {})}
        for provider, n in merged.items():
            if n < 1:
                raise ConfigError(f"max in flight for {provider} must be at least 1.")
        self._total = threading.BoundedSemaphore(total)
        self._sems = {p: threading.BoundedSemaphore(n) for p, n in merged.items()}

    @contextlib.contextmanager
    def __call__(self, provider: str) -> Iterator[None]:
        sem = self._sems.get(provider)
        with sem if sem is not None else contextlib.nullcontext(), self._total:
            yield


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
        """Experiments of this session that ended solved."""
        return sum(e.status == "solved" for e in self.experiments)

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
    ``qwen2.5-coder:7b``) it is the local worker instead. With ``ANTHROPIC_API_KEY`` (or else
    ``OPENAI_API_KEY``) the three tiers are compared: the local worker alone, the local and a
    small frontier worker each advised by a frontier model (spec + reviews), and the frontier
    model alone as the measured baseline. ``settings`` (``max_iterations`` ...) apply to all.

    Examples:
        >>> [s.name for s in default_strategies({})]
        ['local-only']
        >>> [s.worker for s in default_strategies({"OPENAI_API_KEY": "sk-..."})]
        ['smollm2', 'smollm2', 'gpt-4o-mini', 'gpt-4o']
    """
    env = os.environ if environ is None else environ
    local = (
        env.get("KODERZ_OLLAMA_MODEL", "qwen2.5-coder:7b") if env.get("OLLAMA_HOST") else "smollm2"
    )
    strategies = [Strategy("local-only", worker=local, **settings)]
    if env.get("ANTHROPIC_API_KEY"):
        frontier, small = "claude-sonnet-4-5", "claude-haiku-4-5"
    elif env.get("OPENAI_API_KEY"):
        frontier, small = "gpt-4o", "gpt-4o-mini"
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


def _preflight(strategies: Sequence[Strategy]) -> None:
    """Fail before any money is spent if a model is unknown, has no price, misses its key
    (or, in-process, does not load), or its local server does not answer."""
    from koderz.models import client_for
    from koderz.models.prices import price_call
    from koderz.records import Usage

    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise ConfigError(f"Strategy names must be unique; got {names}.")
    probed: set[str] = set()
    for s in strategies:
        for name in s.models():
            spec = resolve_model(name)
            price_call(spec, Usage())
            client_for(spec)
            if spec.provider == "ollama" or spec.base_url is not None:
                _probe_server(spec, probed)


def _probe_server(spec: ModelSpec, probed: set[str]) -> None:
    """A local server that does not answer at all is a setup mistake, not a passing fault:
    say so now rather than after every call's retries."""
    import httpx

    if spec.provider == "ollama":
        from koderz.models.ollama import DEFAULT_HOST

        url = os.environ.get("OLLAMA_HOST", DEFAULT_HOST)
        if "://" not in url:
            url = "http://" + url
        fix = "start it with `ollama serve`, or set OLLAMA_HOST to where it runs"
    else:
        url = str(spec.base_url)
        fix = "start the server, or correct the URL in NAME@URL"
    if url in probed:
        return
    probed.add(url)
    try:
        httpx.get(url, timeout=5.0)
    except httpx.HTTPError as e:
        raise ConfigError(f"No server answers at {url} for {spec.name!r} ({e}); {fix}.") from e


def _manifest(data_dir: Path, run_id: str, strategies: Sequence[Strategy], problems: str) -> None:
    """Record what the run was asked to do; a resumed run must ask the same."""
    from koderz.prompts import PROMPTS_VERSION
    from koderz.version import __version__

    path = data_dir / "runs" / f"{run_id}.json"
    wanted = {s.name: s.to_dict() for s in strategies}
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("problems") not in (None, problems):
            raise ConfigError(
                f"Run {run_id} was started on problems {old['problems']!r}, not {problems!r}; "
                "resume it with the same problem file, or start a new --run-id."
            )
        for name, settings in wanted.items():
            before = old.get("strategies", {}).get(name)
            if before is not None and before != settings:
                raise ConfigError(
                    f"Run {run_id} was started with other settings for strategy {name!r} "
                    f"({before}); resume it with the same settings, or start a new --run-id."
                )
        wanted = {**old.get("strategies", {}), **wanted}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "run_id": run_id,
                "koderz_version": __version__,
                "prompts_version": PROMPTS_VERSION,
                "problems": problems,
                "strategies": wanted,
                "updated_at": dt.datetime.now(dt.UTC).isoformat(),
            },
            indent=2,
        )
    )
    tmp.replace(path)


def _progress(total: int, initial: int, run_id: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=run_id, unit="exp", disable=not enabled)


def run_benchmark(
    *,
    worker: str | None = None,
    spec_model: str | None = None,
    reviewer: str | None = None,
    strategy: str | None = None,
    strategies: Sequence[Strategy] | None = None,
    problems: str | Mapping[str, Problem] | Sequence[Problem] = "humaneval",
    select: str | None = None,
    limit: int | None = None,
    data_dir: str | os.PathLike[str] = "data",
    run_id: str | None = None,
    max_iterations: int = 5,
    checkpoint_interval: int = 2,
    feedback: str = "full",
    mode: str = "iterative",
    temperature: float | None = None,
    seed: int | None = None,
    max_tokens: int = 1024,
    reuse_spec: bool = False,
    workers: int = 1,
    max_cost: float | None = None,
    max_in_flight: Mapping[str, int] | None = None,
    sandbox_timeout_s: float | None = None,
    dask: Any = None,
    progress: bool = True,
) -> BenchmarkResult:
    """Run strategies over problems, writing every step to ``data_dir`` as it happens.

    Give either a single strategy by its roles (``worker``, ``spec_model``, ``reviewer`` and
    the settings; named by ``strategy``), or ``strategies``; with neither, the
    :func:`default_strategies` for this machine run.

    Args:
        problems: ``humaneval``, a problem file (HumanEval+/MBPP+/custom JSONL), or
            :class:`~koderz.records.Problem` objects.
        select: ``0:20`` (positions), ``HumanEval/3,HumanEval/7`` (ids).
        limit: At most this many problems (after ``select``).
        run_id: Resume this run: finished experiments are skipped, the rest completed.
        workers: Model calls in flight at once. Up to three times as many experiments progress
            at once, so that while one runs its tests in the sandbox another's call fills
            its slot.
        max_cost: Dollars; once the run has spent this much, no further call starts and the
            run ends cleanly (``stopped == "budget"``).
        max_in_flight: Per-provider limit on calls in flight, e.g. ``{"openai": 8}``
            (defaults: llamacpp 1, ollama 4, others ``workers``).
        dask: A ``distributed.Client`` or a scheduler address (``tcp://host:8786``): run the
            experiments on that cluster instead of local threads.
        progress: Show a progress bar (terminal or Jupyter) with problems solved and money.

    Returns:
        The run: its id, its experiments' outcomes and ``.steps`` as a DataFrame.

    Raises:
        ConfigError: An unknown model, a missing key, a bad problem file or selection; raised
            before any money is spent.
    """
    from koderz.problems import load_problems, select_problems

    settings: dict[str, Any] = {
        "max_iterations": max_iterations,
        "checkpoint_interval": checkpoint_interval,
        "feedback": feedback,
        "mode": mode,
        "temperature": temperature,
        "seed": seed,
        "max_tokens": max_tokens,
        "reuse_spec": reuse_spec,
    }
    if strategies is None:
        if worker is None:
            if any(x is not None for x in (spec_model, reviewer, strategy)):
                raise ConfigError("Give --worker too when naming a spec model or reviewer.")
            strategies = default_strategies(**settings)
        else:
            name = strategy or _strategy_name(worker, spec_model, reviewer)
            strategies = [
                Strategy(name, worker=worker, spec_model=spec_model, reviewer=reviewer, **settings)
            ]
    strategies = list(strategies)
    if workers < 1:
        raise ConfigError("workers (--workers) must be at least 1.")
    if max_cost is not None and max_cost < 0:
        raise ConfigError("max_cost (--max-cost) must be a number of dollars >= 0.")
    if sandbox_timeout_s is not None and sandbox_timeout_s <= 0:
        raise ConfigError("sandbox_timeout_s (--timeout) must be a number of seconds > 0.")
    limiter = InFlight(workers, max_in_flight)  # checked before anything is written
    _preflight(strategies)
    if isinstance(problems, str):
        source, loaded = problems, load_problems(problems)
    else:
        items = problems.values() if isinstance(problems, Mapping) else problems
        loaded = {p.task_id: p for p in items}
        source = "(given in Python)"
    chosen = select_problems(loaded, select, limit)
    if not chosen:
        raise ConfigError(
            f"The selection {select!r} (limit {limit}) leaves no problem; `--problems 0:20` "
            "takes the first 20."
        )
    data = Path(data_dir)
    run = run_id or new_run_id()
    _manifest(data, run, strategies, source)

    previous = load_steps(data, run_id=run) if (data / "steps").is_dir() else pd.DataFrame()
    histories: dict[str, pd.DataFrame] = {}
    finished: set[str] = set()
    spent = 0.0
    if len(previous):
        spent = spent_usd(previous)
        ends = previous[previous["role"] == "end"].groupby("experiment_id").tail(1)
        finished = set(ends.loc[ends["status"].isin(FINAL_STATUSES), "experiment_id"])
        live = previous[(previous["role"] != "end") & ~previous["experiment_id"].isin(finished)]
        histories = {str(k): g for k, g in live.groupby("experiment_id")}

    tasks = [
        (p, s)
        for s in strategies
        for p in chosen.values()
        if experiment_id(run, s.name, p.task_id) not in finished
    ]
    budget = Budget(max_cost, spent)
    result = BenchmarkResult(run, data, skipped=len(strategies) * len(chosen) - len(tasks))
    bar = _progress(len(strategies) * len(chosen), result.skipped, run, progress)

    def done(r: ExperimentResult) -> None:
        result.experiments.append(r)
        bar.update(1)
        bar.set_postfix_str(
            f"solved {result.solved}/{len(result.experiments)} | ${budget.spent:.4f}"
        )

    writer = StepWriter(data, run)
    feed = _Feed(tasks, histories, run, data, budget, sandbox_timeout_s, done)
    try:
        if dask is not None:
            _run_on_dask(dask, feed, workers)
        else:
            _run_on_threads(feed, writer, workers, limiter)
    except KeyboardInterrupt as e:
        budget.halt()
        result.stopped = "interrupted"
        e.run_id = run  # type: ignore[attr-defined]  # for the CLI's resume hint
        raise
    finally:
        bar.close()
        result.spent_usd = budget.spent
        with contextlib.suppress(KoderzError, OSError):
            writer.compact()
    if budget.over() and (
        len(result.experiments) < len(tasks)
        or any(e.status == "budget" for e in result.experiments)
    ):
        result.stopped = "budget"
    return result


def _strategy_name(worker: str, spec_model: str | None, reviewer: str | None) -> str:
    advisors = sorted({m for m in (spec_model, reviewer) if m})
    name = worker + ("+" + "+".join(advisors) if advisors else "")
    return name.replace("/", "_")


@dataclass
class _Feed:
    """The experiments still to run, handed out one at a time while money is left."""

    tasks: list[tuple[Problem, Strategy]]
    histories: dict[str, pd.DataFrame]
    run: str
    data: Path
    budget: Budget
    sandbox_timeout_s: float | None
    done: Any
    _next: int = 0

    def take(self) -> tuple[Problem, Strategy, pd.DataFrame | None] | None:
        """The next experiment, or None when there is none or the money is spent."""
        if self.budget.exhausted() or self._next >= len(self.tasks):
            return None
        problem, strategy = self.tasks[self._next]
        self._next += 1
        history = self.histories.get(experiment_id(self.run, strategy.name, problem.task_id))
        return problem, strategy, history


def _run_on_threads(feed: _Feed, writer: StepWriter, workers: int, limiter: InFlight) -> None:
    # More experiments than call slots: the limiter caps calls at ``workers``, and the spare
    # experiments run their sandboxes while the others wait on models (3x measured best in
    # benchmarks/bench_engine.py: 1x 3.05 s, 2x 2.86 s, 3x 2.43 s, 4x 2.59 s).
    experiments_at_once = 3 * workers
    with ThreadPoolExecutor(max_workers=experiments_at_once, thread_name_prefix="koderz") as pool:
        running: set[Future[ExperimentResult]] = set()

        def submit_next() -> bool:
            item = feed.take()
            if item is not None:
                problem, strategy, history = item
                running.add(
                    pool.submit(
                        run_experiment,
                        problem,
                        strategy,
                        writer=writer,
                        budget=feed.budget,
                        history=history,
                        limiter=limiter,
                        spec_cache=feed.data / "specs",
                        sandbox_timeout_s=feed.sandbox_timeout_s,
                    )
                )
            return item is not None

        try:
            while len(running) < experiments_at_once and submit_next():
                pass
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for f in finished:
                    running.discard(f)
                    feed.done(f.result())
                    submit_next()
        except BaseException:
            feed.budget.halt()  # running experiments end at their next step
            for f in running:
                f.cancel()
            raise


def _dask_experiment(
    problem: Problem,
    strategy: Strategy,
    run: str,
    data_dir: str,
    history: pd.DataFrame | None,
    remaining_usd: float | None,
    sandbox_timeout_s: float | None,
) -> ExperimentResult:
    """One experiment on a Dask worker, writing into the shared data folder."""
    return run_experiment(
        problem,
        strategy,
        writer=StepWriter(data_dir, run),
        budget=Budget(remaining_usd),
        history=history,
        spec_cache=Path(data_dir) / "specs",
        sandbox_timeout_s=sandbox_timeout_s,
    )


def _run_on_dask(dask: Any, feed: _Feed, workers: int) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError as e:
        raise ConfigError(
            "Running on Dask needs the 'dask' extra: pip install 'koderz[dask]'."
        ) from e
    client = dask if isinstance(dask, Client) else Client(dask)
    budget = feed.budget
    try:
        # A bounded window of tasks in flight, so the budget is checked between experiments:
        # each task gets the money left when it starts, so the run can overshoot by at most
        # what the experiments in flight spend.
        window = max(workers, sum(client.nthreads().values()))
        futures = as_completed()

        def submit_next() -> bool:
            item = feed.take()
            if item is not None:
                problem, strategy, history = item
                remaining = None if budget.max_cost is None else budget.max_cost - budget.spent
                futures.add(
                    client.submit(
                        _dask_experiment,
                        problem,
                        strategy,
                        feed.run,
                        str(feed.data.resolve()),
                        history,
                        remaining,
                        feed.sandbox_timeout_s,
                        pure=False,
                    )
                )
            return item is not None

        for _ in range(window):
            if not submit_next():
                break
        for future in futures:
            r: ExperimentResult = future.result()
            budget.add(r.cost_usd)
            feed.done(r)
            submit_next()
    finally:
        if client is not dask:
            client.close()
