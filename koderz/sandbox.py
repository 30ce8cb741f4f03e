"""Run untrusted generated code against a problem's tests; failures come back as data.

# !!! WARNING - SECURITY BOUNDARY !!!
# Everything a model writes is executed here. It may be wrong, hostile or careless. Each
# candidate runs in a fresh bubblewrap sandbox: new PID, network, IPC and UTS namespaces;
# a read-only view of the system libraries and of the Python install only (never the user's
# home or working folder); a fresh size-limited tmpfs as its folder; an environment built
# from nothing (bwrap itself is started with a clean environment, so even /proc/1/environ
# holds no secret); rlimits on CPU, memory, file size and processes; and a wall-clock
# deadline after which the whole PID namespace is killed. When Koderz runs as root, the
# candidate runs under an unprivileged uid of its own (root ignores RLIMIT_NPROC), taken
# from a pool guarded by lock files so concurrent candidates never share one.
# Change this module, koderz/_sandbox_proc.py or koderz/_zygote.py only with the hostile
# battery in tests/test_sandbox.py passing.

This module decides the isolation and the verdict. The processes live elsewhere:
``koderz/_zygote.py`` holds the bubblewrap command line and the bounded pool of long-lived
sandboxes (zygotes); ``koderz/_sandbox_proc.py`` the clean environment, the uid pool, the
rlimits-only run, output collection and killing. The judge that decides the verdict runs in
the sandbox too, in a process the candidate cannot touch; see ``koderz/_harness.py`` for how
a pass is made unforgeable.

Without ``bwrap`` (macOS, containers that forbid namespaces) Koderz falls back to rlimits,
a scrubbed environment, a new session and a fresh temporary folder, and warns once: the
candidate can then read whatever files the running user can and can open network
connections. ``KODERZ_SANDBOX=rlimits`` forces the fallback, ``KODERZ_SANDBOX=bwrap``
refuses to run without bubblewrap.
"""

from __future__ import annotations

import ast
import functools
import os
import shutil
import sys
import threading
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from koderz._sandbox_proc import _HARNESS, _Raw, _run_rlimits
from koderz._testplan import TestPlan, plan_tests
from koderz._zygote import _run_in_zygote
from koderz.errors import ConfigError, SandboxError
from koderz.records import ExecResult, Problem, TestOutcome

__all__ = [
    "FEEDBACK_LEVELS",
    "Limits",
    "SandboxInfo",
    "format_feedback",
    "isolation",
    "run_tests",
    "sandbox_info",
]

FEEDBACK_LEVELS = ("full", "assertion", "summary")


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


@dataclass(frozen=True)
class SandboxInfo:
    """What isolates candidates on this machine."""

    mode: str
    """``bwrap`` or ``rlimits-only``."""
    drops_privileges: bool
    """Whether candidates run under an unprivileged uid of their own (Koderz runs as root)."""
    description: str
    """What holds, in a sentence or two."""


# --------------------------------------------------------------------------- isolation


_info_lock = threading.Lock()
_info: SandboxInfo | None = None


def sandbox_info() -> SandboxInfo:
    """Find out (once per process) what isolation candidates get here, warning if it is weak.

    The first call runs a self-test of bubblewrap with a trivial program.

    Returns:
        The isolation in use.

    Raises:
        SandboxError: ``KODERZ_SANDBOX=bwrap`` is set and bubblewrap does not work, or Koderz
            runs as root without bubblewrap and the Python install is not readable by an
            unprivileged uid (so no privilege drop is possible).
    """
    global _info
    with _info_lock:
        if _info is None:
            _info = _probe()
        return _info


def isolation() -> str:
    """The isolation mode in use: ``bwrap`` or ``rlimits-only``."""
    return sandbox_info().mode


def _probe() -> SandboxInfo:
    wanted = os.environ.get("KODERZ_SANDBOX", "auto").strip().lower() or "auto"
    if wanted not in ("auto", "bwrap", "rlimits"):
        raise ConfigError(f"KODERZ_SANDBOX={wanted!r}: use auto, bwrap or rlimits.")
    root = os.geteuid() == 0
    problem = "linux only" if not sys.platform.startswith("linux") else None
    if wanted != "rlimits" and problem is None:
        problem = _self_test()
        if problem is None:
            return SandboxInfo(
                mode="bwrap",
                drops_privileges=root,
                description="bubblewrap: new PID/network/IPC/UTS namespaces, read-only "
                "system and Python install only, fresh size-limited tmpfs, clean "
                "environment, rlimits" + (", unprivileged uid per candidate" if root else ""),
            )
        if wanted == "bwrap":
            raise SandboxError(
                f"KODERZ_SANDBOX=bwrap but bubblewrap does not work here: {problem}. "
                "Install it (`apt-get install bubblewrap`) and allow user namespaces."
            )
    unreadable = [p for p in (sys.base_prefix, str(_HARNESS)) if not _world_readable(p)]
    if root and unreadable:
        raise SandboxError(
            "Koderz runs as root without a working bubblewrap"
            + (f" ({problem})" if problem else "")
            + f", and {' and '.join(unreadable)} cannot be read by an unprivileged uid, so "
            "candidates would run as root, where the process limit does not hold. Install "
            "bubblewrap (`apt-get install bubblewrap`) or run Koderz as a normal user."
        )
    description = (
        "rlimits-only: CPU/memory/file-size/process rlimits, clean environment, new "
        "session, fresh temporary folder"
        + (", unprivileged uid per candidate" if root else "")
        + ". NOT isolated: the candidate can read any file the "
        + ("sandbox uid" if root else "current user")
        + " can read and can open network connections"
        + ("" if root else ", and daemons it starts may outlive it")
        + "."
    )
    warnings.warn(
        f"Koderz sandbox without bubblewrap ({problem or 'KODERZ_SANDBOX=rlimits'}): "
        f"{description} For full isolation install bubblewrap "
        "(`apt-get install bubblewrap`) on Linux with user namespaces enabled.",
        RuntimeWarning,
        stacklevel=3,
    )
    return SandboxInfo(mode="rlimits-only", drops_privileges=root, description=description)


def _world_readable(path: str) -> bool:
    """Whether any user can reach ``path`` (others may enter every folder above it) and read
    it (and enter it, if it is a folder)."""
    target = Path(path).resolve()
    try:
        for folder in target.parents:
            if not folder.stat().st_mode & 0o001:
                return False
        mode = target.stat().st_mode
    except OSError:
        return False
    need = 0o005 if target.is_dir() else 0o004
    return mode & need == need


def _self_test() -> str | None:
    """Run a trivial program through bwrap; ``None`` if it works, else what went wrong."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed"
    problem = Problem("selftest", "", "f", "def check(candidate):\n    assert candidate() == 1\n")
    try:
        result = _run("bwrap", problem, "def f():\n    return 1\n", Limits(timeout_factor=4.0))
    except (OSError, SandboxError) as e:
        return f"bwrap failed to start: {e}"
    if not result.passed:
        return f"bwrap self-test failed: {result.status} {result.stderr[-300:]!r}"
    return None


# --------------------------------------------------------------------------- running


def run_tests(
    problem: Problem,
    code: str,
    *,
    timeout_s: float | None = None,
    limits: Limits | None = None,
) -> ExecResult:
    """Run a complete candidate program against a problem's tests, in the sandbox.

    Args:
        problem: The problem; its ``test`` defines ``check(candidate)`` or bare asserts.
        code: The complete program (prompt + completion): it must define
            ``problem.entry_point``.
        timeout_s: Per-test-case timeout in seconds (before ``timeout_factor``);
            overrides ``limits.test_timeout_s``.
        limits: Resource limits; defaults to :class:`Limits`.

    Returns:
        The verdict. Whatever the candidate does is reported here, never raised.

    Raises:
        SandboxError: The sandbox itself cannot run.
        ConfigError: The problem's test source does not parse.

    Examples:
        >>> p = Problem("t/1", "", "inc", "def check(candidate):\\n    assert candidate(1) == 2\\n")
        >>> r = run_tests(p, "def inc(x):\\n    return x + 1\\n")
        >>> (r.passed, r.tests_passed, r.tests_total)
        (True, 1, 1)
    """
    limits = limits or _default_limits(os.environ.get("KODERZ_TIMEOUT_FACTOR", ""))
    if timeout_s is not None:
        limits = replace(limits, test_timeout_s=timeout_s)
    return _run(sandbox_info().mode, problem, code, limits)


@functools.lru_cache(maxsize=4)
def _default_limits(factor: str) -> Limits:
    # Built once per value of KODERZ_TIMEOUT_FACTOR (the only thing it reads), not per run.
    del factor
    return Limits()


def _run(mode: str, problem: Problem, code: str, limits: Limits) -> ExecResult:
    plan = plan_tests(problem.test)
    if plan.static_total == 0:
        raise ConfigError(
            f"The tests of {problem.task_id} contain no assertion, so every program would "
            "pass; give the problem at least one assert."
        )
    if mode == "bwrap":
        return _verdict(_run_in_zygote(plan, problem, code, limits), plan, "bwrap")
    return _verdict(_run_rlimits(plan, problem, code, limits), plan, "rlimits-only")


# --------------------------------------------------------------------------- verdicts


def _parse_records(data: bytes, nonce: str) -> list[tuple[Any, ...]]:
    records = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            record = ast.literal_eval(line)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if type(record) is tuple and len(record) >= 2 and record[0] == nonce:
            records.append(record[1:])
    return records


def _text(value: Any, cap: int = 4000) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= cap else "..." + text[-cap:]


def _verdict(raw: _Raw, plan: TestPlan, mode: str) -> ExecResult:
    records = _parse_records(bytes(raw.records), raw.nonce)
    stdout = raw.stdout.decode("utf-8", "replace")
    stderr = raw.stderr.decode("utf-8", "replace")
    outcomes: list[TestOutcome] = []
    load: tuple[Any, ...] | None = None
    setup_failure: tuple[Any, ...] | None = None
    done: tuple[Any, ...] | None = None
    last_item = -1
    for record in records:
        kind = record[0]
        if kind == "load" and len(record) == 4:
            load = record
        elif kind == "setup" and len(record) == 5 and setup_failure is None:
            setup_failure = record
        elif kind == "case" and len(record) == 7:
            _, item, iteration, passed, tkind, message, tb = record
            if not (isinstance(item, int) and 0 <= item < len(plan.items)):
                continue
            last_item = item
            label = plan.labels[item]
            if isinstance(iteration, int) and iteration >= 0:
                label = f"{label}  # iteration {iteration}"
            outcomes.append(
                TestOutcome(
                    index=len(outcomes),
                    passed=passed is True,
                    kind=str(tkind) if passed is not True else "passed",
                    source=label,
                    message=_text(message),
                    traceback=_text(tb),
                )
            )
        elif kind == "done" and len(record) == 3:
            done = record
    common: dict[str, Any] = {
        "stdout": stdout,
        "stderr": stderr,
        "duration_s": raw.duration_s,
        "isolation": mode,
    }
    if load is not None and load[1] != "ok":
        status = str(load[1]) if load[1] in ("syntax_error", "timeout", "memory") else "error"
        if load[1] == "crash":
            status = "crash"
        failed = TestOutcome(
            0, False, kind=status, message=_text(load[2]), traceback=_text(load[3])
        )
        return ExecResult(
            passed=False,
            status=status,
            tests_passed=0,
            tests_total=plan.static_total,
            outcomes=(failed,),
            **common,
        )
    if done is None:
        # The run never finished: the case in flight timed out or crashed, the rest never ran.
        why = "timeout" if raw.killed else "crash"
        message = (
            "the run exceeded its total time and was killed"
            if raw.killed
            else "the sandbox ended without reporting (killed, out of memory or crashed)"
        )
        # Without a load record no case ran either, so last_item is -1: all of them.
        running = [i for i, item in enumerate(plan.items) if item[0] != "setup" and i > last_item]
        for n, i in enumerate(running):
            outcomes.append(
                TestOutcome(
                    index=len(outcomes),
                    passed=False,
                    kind=why if n == 0 else "not_run",
                    source=plan.labels[i],
                    message=message if n == 0 else "",
                )
            )
        if not outcomes:
            outcomes.append(TestOutcome(0, False, kind=why, message=message))
        return ExecResult(
            passed=False,
            status=why,
            tests_passed=sum(o.passed for o in outcomes),
            tests_total=len(outcomes),
            outcomes=tuple(outcomes),
            **common,
        )
    n_passed = sum(o.passed for o in outcomes)
    complete = done[1] == len(outcomes) and done[2] == n_passed
    passed = load is not None and complete and n_passed == len(outcomes) and setup_failure is None
    first = next((o for o in outcomes if not o.passed), None)
    if passed:
        status = "passed"
    elif first is not None:
        status = first.kind if first.kind in ("timeout", "memory", "crash") else "failed"
    elif setup_failure is not None:
        status = "error"
        outcomes.append(
            TestOutcome(
                index=len(outcomes),
                passed=False,
                kind=str(setup_failure[2]),
                source=plan.labels[setup_failure[1]] if setup_failure[1] >= 0 else "(prelude)",
                message="set-up statement failed: " + _text(setup_failure[3]),
                traceback=_text(setup_failure[4]),
            )
        )
    else:
        status = "crash"
    return ExecResult(
        passed=passed,
        status=status,
        tests_passed=n_passed,
        tests_total=len(outcomes),
        outcomes=tuple(outcomes),
        **common,
    )


# --------------------------------------------------------------------------- feedback


def format_feedback(result: ExecResult, level: str) -> str:
    """What a model may be shown of a failed run, at a chosen level of test leakage.

    Args:
        result: The verdict.
        level: ``full`` (the failing test, its message and traceback), ``assertion``
            (which test case failed, nothing of why) or ``summary`` (only k of n passed).

    Returns:
        The feedback text.

    Raises:
        ConfigError: ``level`` is not one of the three.

    Examples:
        >>> r = ExecResult(False, "failed", 1, 2, (TestOutcome(0, True),
        ...     TestOutcome(1, False, "assertion", "assert f(2) == 3", "AssertionError")))
        >>> format_feedback(r, "summary")
        '1 of 2 tests passed.'
        >>> print(format_feedback(r, "assertion"))
        1 of 2 tests passed. First failing test: assert f(2) == 3
    """
    if level not in FEEDBACK_LEVELS:
        raise ConfigError(
            f"Unknown feedback level {level!r}; use one of {', '.join(FEEDBACK_LEVELS)}."
        )
    head = f"{result.tests_passed} of {result.tests_total} tests passed."
    if result.passed or level == "summary":
        return head
    first = result.first_failure
    if first is None:
        return f"{head} The program failed ({result.status})."
    where = first.source or f"test {first.index + 1}"
    if level == "assertion":
        return f"{head} First failing test: {where}"
    lines = [head, f"First failing test: {where}", f"Failure: {first.kind}"]
    if first.message:
        lines.append(first.message)
    if first.traceback:
        lines.append(first.traceback.rstrip())
    return "\n".join(lines)
