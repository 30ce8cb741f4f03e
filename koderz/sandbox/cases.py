"""What every test shape tells the rest of the sandbox: its cases, and what its sandbox
needs."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Cases", "SandboxSpec"]


@dataclass(frozen=True)
class Cases:
    """What the verdict knows of a problem's test steps before they run, per step."""

    kinds: tuple[str, ...]
    """``setup`` (not a test case), ``test`` (one case) or ``loop`` (one case per
    iteration)."""
    labels: tuple[str, ...]
    """What a result shows of the step (a test's source line, a loop's header ...)."""
    details: tuple[str, ...] = ()
    """Shown under the label of each of a loop's cases (its body); '' or missing: nothing."""
    prelude: str = "(prelude)"
    """What a result calls a failure before any step (the function shape's module-level
    code; the build shape's build)."""

    @property
    def static_total(self) -> int:
        """Test cases known before running (each loop counted once)."""
        return sum(1 for kind in self.kinds if kind != "setup")

    def detail(self, step: int) -> str:
        return self.details[step] if step < len(self.details) else ""


@dataclass(frozen=True)
class SandboxSpec:
    """What a shape's sandbox needs beyond the Python install: read-only binds and
    environment variables. Sandboxes are shared only between candidates of equal specs."""

    binds: tuple[tuple[str, str], ...] = ()
    """``(host path, path in the sandbox)`` pairs, bound read-only."""
    env: tuple[tuple[str, str], ...] = ()
    """Variables set on top of the clean environment (never one of the host's)."""
