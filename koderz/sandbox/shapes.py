"""Test shapes: the kinds of test the sandbox judges, one module each, in one registry.

A shape is two halves. On the host (a module of ``koderz/sandbox/``, registered here): how a
problem's tests become cases (:meth:`Shape.plan`, :meth:`Shape.cases`), what only the judge
reads (:meth:`Shape.tests`), the candidate's program (:meth:`Shape.program`), and what its
sandbox needs (:attr:`Shape.sandbox`: binds and environment) and its default limits. In the
judge (a module of ``koderz/sandbox/judge/`` of the same name): how a candidate serves and
how a case runs, on the judge's core, which knows no shape. Both halves meet in one verdict
record, :class:`~koderz.records.ExecResult`.

Adding a shape is a module on each side and one entry in :data:`SHAPES`.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

from typing import Any, Protocol

from koderz.errors import ConfigError
from koderz.records import Problem
from koderz.sandbox import build, calls, function, io, script
from koderz.sandbox.cases import Cases, SandboxSpec
from koderz.sandbox.limits import Limits

__all__ = ["SHAPES", "Shape", "shape_of"]


class Shape(Protocol):
    """The host's half of a test shape."""

    name: str
    """The shape's name; also the name of its module in the judge."""

    @property
    def sandbox(self) -> SandboxSpec:
        """What its sandbox binds and sets."""
        ...

    def default_limits(self) -> Limits:
        """The limits a run gets when the caller gives none (read when called: the
        environment's ``KODERZ_TIMEOUT_FACTOR`` scales them)."""
        ...

    def plan(self, problem: Problem) -> Any:
        """The problem's tests, prepared once (cached by the shape)."""
        ...

    def cases(self, plan: Any) -> Cases:
        """What the verdict needs of the plan."""
        ...

    def tests(self, plan: Any, problem: Problem) -> dict[str, Any]:
        """What only the judge reads of the tests (with the nonce and deadline added)."""
        ...

    def program(self, problem: Problem, code: str) -> dict[str, Any]:
        """The candidate's program, as its half in the judge takes it."""
        ...

    def sample_limits(
        self, plan: Any, problem: Problem, limits: Limits, *, chosen: bool
    ) -> tuple[Limits, dict[str, Any]]:
        """The limits of the whole sample, and what the judge must know of them (added to
        :meth:`tests`); ``chosen``: the caller gave limits or a timeout, rather than the
        shape's defaults."""
        ...


SHAPES: dict[str, Shape] = {
    shape.name: shape
    for shape in (function.SHAPE, io.SHAPE, calls.SHAPE, build.SHAPE, script.SHAPE)
}
"""Every test shape, by name."""


def shape_of(problem: Problem) -> Shape:
    """The shape that judges ``problem``.

    Raises:
        ConfigError: The problem names a shape Koderz does not know.
    """
    name = getattr(problem, "shape", "function")
    try:
        return SHAPES[name]
    except KeyError:
        raise ConfigError(
            f"{problem.task_id} has tests of shape {name!r}; Koderz judges "
            f"{', '.join(sorted(SHAPES))}."
        ) from None
