"""Handing a run's experiments out: the feed, the limits on calls in flight, and the two
schedulers, local threads or a Dask cluster.

Threads, not processes or asyncio, so a run works inside Jupyter (where an event loop is
already running) and the work, which waits on models and sandboxes, overlaps. For more than
one machine the same run goes to a Dask cluster, every worker writing into the same data
folder (which must then be on a shared filesystem).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from koderz.engine.cache import CallCache
from koderz.engine.calls import Budget
from koderz.engine.experiment import ExperimentResult, experiment_id, run_experiment
from koderz.engine.preflight import preflight_workers
from koderz.engine.strategies import Strategy
from koderz.errors import ConfigError
from koderz.records import Problem
from koderz.store import StepWriter

__all__ = ["DEFAULT_IN_FLIGHT", "Feed", "InFlight", "Task", "run_on_dask", "run_on_threads"]

DEFAULT_IN_FLIGHT = {"llamacpp": 1, "ollama": 4}
DASK_CONNECT_TIMEOUT_S = 10.0
"""How long ``--dask ADDRESS`` waits for a scheduler to answer: a live one answers at once."""


class InFlight:
    """Limits on model calls in flight, shared by a run's threads: ``total`` in all, and
    per provider."""

    def __init__(self, total: int, limits: Mapping[str, int] | None = None) -> None:
        merged = {**DEFAULT_IN_FLIGHT, **(limits or {})}
        for provider, n in merged.items():
            if n < 1:
                raise ConfigError(f"max in flight for {provider} must be at least 1.")
        self.total = total
        self.limits = merged
        self._total = threading.BoundedSemaphore(total)
        self._sems = {p: threading.BoundedSemaphore(n) for p, n in merged.items()}

    @contextlib.contextmanager
    def __call__(self, provider: str) -> Iterator[None]:
        sem = self._sems.get(provider)
        with sem if sem is not None else contextlib.nullcontext(), self._total:
            yield


@dataclass(frozen=True)
class Task:
    """One experiment to run: a problem under a strategy, in one epoch."""

    problem: Problem
    strategy: Strategy
    epoch: int = 1

    def id(self, run: str) -> str:
        """Its experiment id in ``run``."""
        return experiment_id(run, self.strategy.name, self.problem.task_id, self.epoch)


@dataclass
class Feed:
    """The experiments still to run, handed out one at a time while money is left."""

    tasks: list[Task]
    histories: dict[str, pd.DataFrame]
    run: str
    data: Path
    budget: Budget
    sandbox_timeout_s: float | None
    done: Callable[[ExperimentResult], None]
    """Called with each experiment as it ends."""
    cache: CallCache | None = None
    """The call cache, if the run uses one (it pickles as its path, for Dask workers)."""
    cutoffs: Mapping[str, str | None] = field(default_factory=dict)
    """Each model's training data cutoff, for the rows (None: unknown)."""
    _next: int = 0

    def strategies(self) -> list[Strategy]:
        """The strategies of the experiments to run, each once."""
        return list({t.strategy.name: t.strategy for t in self.tasks}.values())

    def take(self) -> tuple[Task, pd.DataFrame | None] | None:
        """The next experiment and its earlier rows, or None when there is none or the
        money is spent."""
        if self.budget.exhausted() or self._next >= len(self.tasks):
            return None
        task = self.tasks[self._next]
        self._next += 1
        return task, self.histories.get(task.id(self.run))


def run_on_threads(feed: Feed, writer: StepWriter, workers: int, limiter: InFlight) -> None:
    # More experiments than call slots: the limiter caps calls at ``workers``, and the spare
    # experiments run their sandboxes while the others wait on models (3x measured best in
    # benchmarks/bench_engine.py: 1x 3.05 s, 2x 2.86 s, 3x 2.43 s, 4x 2.59 s).
    experiments_at_once = 3 * workers
    with ThreadPoolExecutor(max_workers=experiments_at_once, thread_name_prefix="koderz") as pool:
        running: set[Future[ExperimentResult]] = set()

        def submit_next() -> bool:
            item = feed.take()
            if item is not None:
                task, history = item
                running.add(
                    pool.submit(
                        run_experiment,
                        task.problem,
                        task.strategy,
                        writer=writer,
                        budget=feed.budget,
                        history=history,
                        limiter=limiter,
                        spec_cache=feed.data / "specs",
                        sandbox_timeout_s=feed.sandbox_timeout_s,
                        epoch=task.epoch,
                        cache=feed.cache,
                        cutoffs=feed.cutoffs,
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


class _ClusterInFlight:
    """:class:`InFlight` for a cluster: the same limits, held by the scheduler (Dask
    semaphores named after the run), so that every worker's calls count against them."""

    def __init__(self, run: str, limiter: InFlight) -> None:
        from distributed import Semaphore

        self._total = Semaphore(max_leases=limiter.total, name=f"koderz-{run}-calls")
        self._sems = {
            p: Semaphore(max_leases=n, name=f"koderz-{run}-{p}") for p, n in limiter.limits.items()
        }

    @contextlib.contextmanager
    def __call__(self, provider: str) -> Iterator[None]:
        sem = self._sems.get(provider)
        with sem if sem is not None else contextlib.nullcontext(), self._total:
            yield


def _dask_experiment(
    task: Task,
    run: str,
    data_dir: str,
    history: pd.DataFrame | None,
    remaining_usd: float | None,
    sandbox_timeout_s: float | None,
    cache: CallCache | None,
    limiter: _ClusterInFlight,
    cutoffs: Mapping[str, str | None],
) -> ExperimentResult:
    """One experiment on a Dask worker, writing into the shared data folder (and reading
    the call cache there)."""
    return run_experiment(
        task.problem,
        task.strategy,
        writer=StepWriter(data_dir, run),
        budget=Budget(remaining_usd),
        history=history,
        limiter=limiter,
        spec_cache=Path(data_dir) / "specs",
        sandbox_timeout_s=sandbox_timeout_s,
        epoch=task.epoch,
        cache=cache,
        cutoffs=cutoffs,
    )


def run_on_dask(dask: Any, feed: Feed, workers: int, limiter: InFlight) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError as e:
        raise ConfigError(
            "Running on Dask needs the 'dask' extra: pip install 'koderz[dask]'."
        ) from e
    client = dask if isinstance(dask, Client) else _connect(Client, str(dask))
    budget = feed.budget
    pending: set[Any] = set()  # submitted, not yet ended
    try:
        # Every worker checks its own keys, servers and files before the first task is sent.
        preflight_workers(client, feed.strategies())
        # A bounded window of tasks in flight, so the budget is checked between experiments.
        # Each task gets the money left when it starts and books it only when it ends, so in
        # the worst case every task in flight spends all of it: the run can overshoot the
        # limit by up to (window - 1) times what was left. Threads share one Budget instead.
        window = max(workers, sum(client.nthreads().values()))
        futures = as_completed()
        in_flight = _ClusterInFlight(feed.run, limiter)

        def submit_next() -> bool:
            item = feed.take()
            if item is not None:
                task, history = item
                remaining = None if budget.max_cost is None else budget.max_cost - budget.spent
                future = client.submit(
                    _dask_experiment,
                    task,
                    feed.run,
                    str(feed.data.resolve()),
                    history,
                    remaining,
                    feed.sandbox_timeout_s,
                    # Workers may run elsewhere in the shared folder: an absolute path.
                    CallCache(feed.cache.path.resolve()) if feed.cache else None,
                    in_flight,
                    dict(feed.cutoffs),
                    pure=False,
                )
                pending.add(future)
                futures.add(future)
            return item is not None

        for _ in range(window):
            if not submit_next():
                break
        for future in futures:
            pending.discard(future)
            r: ExperimentResult = future.result()
            budget.add(r.cost_usd)
            feed.done(r)
            submit_next()
    except BaseException:
        # Ctrl-C or a failed task: the experiments not yet started must not start after the
        # run (and its lock) has ended. One already running finishes its current step.
        budget.halt()
        client.cancel(list(pending))
        raise
    finally:
        if client is not dask:
            client.close()


def _connect(client_class: Any, address: str) -> Any:
    """A client of the scheduler at ``address``, or a one-line error saying how to start one."""
    from distributed.comm.addressing import resolve_address

    start = (
        "start a scheduler with `dask scheduler` (it listens on tcp://HOST:8786) and workers "
        "with `dask worker tcp://HOST:8786`, then give that address to --dask."
    )
    # Checked first: a Client that fails on a malformed address prints a traceback of its own
    # when it is collected, after the error was reported.
    try:
        resolve_address(address)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{address!r} is not a Dask scheduler address ({e}); {start}") from e
    try:
        return client_class(address, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as e:
        raise ConfigError(
            f"No Dask scheduler answers at {address} (waited {DASK_CONNECT_TIMEOUT_S:g} s); "
            + start
        ) from e
