"""Whether a problem can be judged here, asked before any model call: its language's
toolchain, its dependencies (fetched now, once), and the isolation exercises need."""

from __future__ import annotations

from koderz.errors import SandboxError
from koderz.records import BuildTests, Problem
from koderz.sandbox.build import plan_of
from koderz.sandbox.languages import missing
from koderz.sandbox.probe import isolation

__all__ = ["runnable"]


def runnable(problem: Problem) -> str | None:
    """Why ``problem`` cannot be judged here (its language missing, its dependencies not to
    be had), or None when it can: asked before any model call, so that an exercise that
    cannot run is skipped with the reason rather than failed mid-run."""
    tests = problem.tests
    name = getattr(tests, "language", None) if tests.shape in ("build", "script") else None
    if name is None:
        return None
    why = missing(name)
    if why is None and isolation() != "bwrap":
        # The toolchains are bound where the commands look for them only under bubblewrap;
        # and a compiled program without namespaces could reach the network and the files.
        return (
            f"{name} runs only under bubblewrap, which is not in use here "
            "(apt-get install bubblewrap; see docs/sandbox.md)"
        )
    if why is not None or not isinstance(tests, BuildTests):
        return why
    try:
        plan_of(tests)
    except SandboxError as e:
        return str(e)
    return None
