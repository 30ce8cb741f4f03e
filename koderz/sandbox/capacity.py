"""How many candidates may run at once: a base, and one more for each long run, within the
memory the machine has free.

A sample's deadline is wall-clock time, and a program that never ends spends all of it. On a
fixed number of slots, twenty such programs queue behind each other, three seconds each,
while they could wait side by side: one that waits asleep needs no CPU, and one that waits
computing has had its priority lowered by its judge, by the CPU time it has used
(``Judge.pace`` in ``koderz/sandbox/judge/core.py``), so that it takes only the CPU time the
others leave. So a candidate that has run past ``LONG_RUN_S`` (``koderz/sandbox/limits.py``)
makes room for one more, as long as the memory holds: every candidate beyond the base is
counted at its full memory limit (``Limits.memory_bytes``, which it may really use), against
the memory available now (``MemAvailable``, or this container's memory cgroup if that is
tighter), less a reserve.
Where the memory available cannot be read (macOS), nothing grows past the base.

:class:`Runs` keeps the count for the zygote pool (``KODERZ_SANDBOXES``) and
:class:`Gate` for ``koderz evaluate --workers``; a number the user gives is kept to, the
defaults grow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from koderz.sandbox.limits import LONG_RUN_S

__all__ = ["Gate", "Runs", "extra_room", "memory_available"]

MAX_EXTRA = 96
"""Never more extra runs than this, whatever the memory: each holds processes, pipes and a
sandbox uid (there are 256)."""


def _meminfo() -> tuple[int, int] | None:
    """(MemAvailable, MemTotal) in bytes from ``/proc/meminfo``."""
    try:
        with open("/proc/meminfo", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name] = int(parts[0]) * 1024
    if "MemAvailable" not in fields or "MemTotal" not in fields:
        return None
    return fields["MemAvailable"], fields["MemTotal"]


_V1 = "/sys/fs/cgroup/memory/memory."
CGROUP_FILES = [
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
    (_V1 + "limit_in_bytes", _V1 + "usage_in_bytes"),  # v1
]
"""(limit, usage) files of the memory cgroup a container sees as its own, in the order
tried."""


def _cgroup() -> tuple[int, int] | None:
    """(limit - usage, limit) of this process's memory cgroup, where one is set."""
    for limit_file, usage_file in CGROUP_FILES:
        try:
            with open(limit_file) as f:
                raw = f.read().strip()
            with open(usage_file) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if not raw.isdigit() or int(raw) >= 1 << 60:  # "max", or v1's "no limit"
            return None
        return max(0, int(raw) - usage), int(raw)
    return None


def memory_available() -> tuple[int, int] | None:
    """Bytes of memory free for new work and the total they come from: the machine's
    ``MemAvailable`` and ``MemTotal``, or this container's memory cgroup if that is tighter;
    ``None`` where neither can be read.

    Examples:
        >>> room = memory_available()
        >>> room is None or 0 <= room[0] <= room[1]
        True
    """
    machine = _meminfo()
    if machine is None:
        return None
    cgroup = _cgroup()
    if cgroup is not None and cgroup[0] < machine[0]:
        return cgroup
    return machine


def extra_room(memory_bytes: int) -> int:
    """How many candidates beyond the base fit in the memory available now, each counted at
    ``memory_bytes``, less a reserve of an eighth of the total (at least 1 GiB) for the
    base, the host and everyone else; 0 where the memory cannot be read."""
    memory = memory_available()
    if memory is None:
        return 0
    available, total = memory
    reserve = max(1 << 30, total // 8)
    return max(0, min(MAX_EXTRA, (available - reserve) // max(1, memory_bytes)))


class Runs:
    """The runs in flight and when each began: how many may be in flight now.

    Not locked: its owner holds a lock around every call.
    """

    def __init__(self, base: int, *, grows: bool) -> None:
        self.base = base
        """Runs that may always be in flight."""
        self.grows = grows
        """Whether long runs make room for more (the default), or ``base`` is a hard limit."""
        self._started: dict[Hashable, float] = {}

    @property
    def busy(self) -> int:
        return len(self._started)

    def start(self, key: Hashable) -> None:
        self._started[key] = time.monotonic()

    def finish(self, key: Hashable) -> None:
        self._started.pop(key, None)

    def limit(self, memory_bytes: int) -> int:
        """Runs allowed in flight now: the base, plus one per long run if the memory holds."""
        if not self.grows:
            return self.base
        since = time.monotonic() - LONG_RUN_S
        long_runs = sum(t <= since for t in self._started.values())
        if long_runs == 0 or self.busy < self.base:
            return self.base
        return self.base + min(long_runs, extra_room(memory_bytes))

    def next_change(self) -> float | None:
        """Seconds until the next run in flight becomes a long run (``None``: no such run)."""
        if not self.grows:
            return None
        now = time.monotonic()
        due = [t + LONG_RUN_S - now for t in self._started.values() if t + LONG_RUN_S > now]
        return min(due, default=None)


class Gate:
    """Lets at most ``Runs.limit`` callers through at once, blocking the rest."""

    def __init__(self, base: int, *, grows: bool, memory_bytes: int) -> None:
        self.runs = Runs(base, grows=grows)
        self.memory_bytes = memory_bytes
        self._cond = threading.Condition()

    def limit(self) -> int:
        with self._cond:
            return self.runs.limit(self.memory_bytes)

    def next_change(self) -> float | None:
        with self._cond:
            return self.runs.next_change()

    @contextmanager
    def slot(self) -> Iterator[None]:
        key = object()
        with self._cond:
            while self.runs.busy >= self.runs.limit(self.memory_bytes):
                self._cond.wait(self.runs.next_change())
            self.runs.start(key)
        try:
            yield
        finally:
            with self._cond:
                self.runs.finish(key)
                self._cond.notify()
