"""The resource limits of one candidate run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from koderz.errors import ConfigError

__all__ = ["Limits"]


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
        >>> Limits(test_timeout_s=2.0, timeout_factor=1.5).scaled_test_timeout_s
        3.0
    """

    test_timeout_s: float = 3.0
    """Wall-clock limit per test case (one assertion, or one iteration of a test loop)."""
    total_timeout_s: float = 60.0
    """Wall-clock limit of the whole run; after it every process of the candidate is
    killed and the tests not yet run count as failed."""
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
        for name in ("test_timeout_s", "total_timeout_s", "timeout_factor"):
            if not getattr(self, name) > 0:
                hint = (
                    " (set by KODERZ_TIMEOUT_FACTOR)"
                    if name == "timeout_factor"
                    else " (--timeout on the command line)"
                    if name == "test_timeout_s"
                    else ""
                )
                raise ConfigError(
                    f"Limits.{name}{hint} must be a number > 0; got {getattr(self, name)}."
                )
        for name in ("cpu_s", "memory_bytes", "file_size_bytes", "disk_bytes", "processes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"Limits.{name} must be at least 1; got {getattr(self, name)}.")

    @property
    def scaled_test_timeout_s(self) -> float:
        """Per-test timeout times the factor."""
        return self.test_timeout_s * self.timeout_factor

    @property
    def scaled_total_timeout_s(self) -> float:
        """Whole-run timeout times the factor."""
        return self.total_timeout_s * self.timeout_factor
