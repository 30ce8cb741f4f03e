"""Running samples in the sandbox: as many at once as the machine holds, the sandboxes
started while the problems are still being read.

Only the sandbox's door is used (:mod:`koderz.sandbox`): :func:`~koderz.sandbox.run_tests`
for each program, :class:`~koderz.sandbox.Gate` for how many run at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from koderz.records import ExecResult, Problem
from koderz.sandbox import MAX_EXTRA, Gate, Limits, prestart, run_tests, sandbox_info

__all__ = ["Runner"]

Program = str
"""A program as the sandbox takes it: a text (an exercise's files as their whole-file listing)."""


class Runner:
    """Runs programs against their problems' tests, as many at once as its gate lets.

    Made before the problems are read: it starts the sandboxes, and finds out what isolates
    candidates (a bubblewrap self-test in one of them), in the meantime.
    """

    def __init__(
        self,
        *,
        workers: int | None,
        timeout_s: float | None,
        limits: Limits | None,
        expected: int,
    ) -> None:
        """
        Args:
            workers: Candidates at once; None for twice the CPUs, growing while candidates
                wait out their deadlines and the memory holds (:class:`~koderz.sandbox.Gate`).
            timeout_s: Each program's deadline (None: the limits' own).
            limits: Sandbox limits (None: the defaults).
            expected: How many programs will run (no more sandboxes start than that).
        """
        self.timeout_s = timeout_s
        self.limits = limits
        self.base = max(1, workers or 2 * (os.cpu_count() or 1))
        memory_bytes = (limits or Limits()).memory_bytes
        self.gate = Gate(self.base, grows=workers is None, memory_bytes=memory_bytes)
        threading.Thread(
            target=_warm_up, args=(min(self.base, expected), limits), daemon=True
        ).start()

    def run(
        self, jobs: Sequence[tuple[Problem, Program]]
    ) -> Generator[tuple[int, ExecResult], None, None]:
        """Yield (index in ``jobs``, verdict) as each (problem, program) finishes."""
        # Threads for the most that may run, and the base again waiting at the gate to follow.
        threads = 2 * self.base + (MAX_EXTRA if self.gate.runs.grows else 0)
        with ThreadPoolExecutor(threads) as pool:
            yield from self._run_all(pool, jobs)

    def _one(self, problem: Problem, program: Program) -> ExecResult:
        with self.gate.slot():
            return run_tests(problem, program, timeout_s=self.timeout_s, limits=self.limits)

    def _run_all(
        self, pool: ThreadPoolExecutor, jobs: Sequence[tuple[Problem, Program]]
    ) -> Iterator[tuple[int, ExecResult]]:
        """As many are submitted as the gate lets run, and the base again, waiting at the
        gate to take a slot the moment one frees."""
        gate = self.gate
        pending: dict[Future[ExecResult], int] = {}
        queue = iter(enumerate(jobs))
        while True:
            while len(pending) < gate.limit() + gate.runs.base:
                try:
                    index, (problem, program) = next(queue)
                except StopIteration:
                    break
                pending[pool.submit(self._one, problem, program)] = index
            if not pending:
                return
            # Wake when one finishes, or when the next becomes a long run (the gate then lets
            # more through, and more should be waiting at it).
            done, _ = wait(pending, timeout=gate.next_change(), return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()


def _warm_up(sandboxes: int, limits: Limits | None) -> None:
    # Errors are not lost: sandbox_info() remembers only a success, so the first candidate's
    # own call runs the probe again and raises there, where the caller sees it.
    try:
        prestart(sandboxes, limits)
        sandbox_info()
    except Exception:
        pass
