"""Zygotes: long-lived bubblewrap sandboxes that serve candidates one after another.

# !!! WARNING - SECURITY BOUNDARY !!!
# A zygote and its judge outlive the candidates they run, so isolation *between*
# candidates rests on them: after each one every process of the candidate's uid but the
# judge is killed and the tmpfs wiped before the end is reported, and if that fails, or the
# judge dies, the sandbox ends with that candidate (``koderz/sandbox/judge/zygote.py``). The
# zygote forks candidates from its own memory, which never holds a test: the tests reach the
# judge on a pipe of its own. ``_bwrap_base`` decides what a candidate can see of this
# machine: bind nothing writable, nothing of the user's home or working folder, and no
# environment variable. Change this module only with the hostile battery in
# tests/sandbox/test_hostile.py passing.

Starting bwrap, Python and a judge costs more than most candidates take to run; a zygote
pays it once. :class:`ZygotePool` bounds how many candidates run in them at once
(``KODERZ_SANDBOXES``; by default twice the cores, and more while candidates wait out long
runs).
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from koderz.errors import ConfigError, SandboxError
from koderz.sandbox.capacity import Runs
from koderz.sandbox.cases import SandboxSpec
from koderz.sandbox.pipes import RECORD_CAP, Raw, Reader, frame, keep_tail, pump, read_some
from koderz.sandbox.proc import (
    CLEAN_ENV,
    SANDBOX_CWD,
    UID_POOL,
    judge_bytecode,
    judge_modules,
    judge_tests,
    kill,
    kill_uid,
    rlimits,
    site_dirs,
    start_command,
    startup_allowance,
)

if TYPE_CHECKING:
    from koderz.sandbox.limits import Limits

_SANDBOX_JUDGE = "/run/koderz/judge"


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
    # !!! What a candidate can see of this machine. Every bind is read-only and none reaches
    # the user's home or working folder (where .env files and keys live); --clearenv and
    # CLEAN_ENV leave no variable of ours. Widen nothing here without the hostile battery.
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--hostname", "sandbox"]
    if os.geteuid() != 0:
        args += ["--unshare-user", "--disable-userns"]
    # The zygote is PID 1 of the sandbox: no process in it can signal PID 1.
    args += ["--as-pid-1", "--die-with-parent", "--new-session"]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # /etc traversable (bwrap would make it root's alone), holding only what is bound in it.
    args += ["--perms", "0755", "--dir", "/etc"]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        args += [*_dirs_to(prefix), "--ro-bind", prefix, prefix]
        if prefix != sys.base_prefix:
            args += [*_dirs_to(sys.base_prefix), "--symlink", prefix, sys.base_prefix]
    args += [*_dirs_to(_SANDBOX_JUDGE), "--perms", "0755", "--dir", _SANDBOX_JUDGE]
    bytecode = judge_bytecode()
    if bytecode:
        cache_dir = os.path.dirname(importlib.util.cache_from_source(f"{_SANDBOX_JUDGE}/x.py"))
        args += ["--perms", "0755", "--dir", cache_dir]
    for module in judge_modules():
        inside = f"{_SANDBOX_JUDGE}/{module.name}"
        args += ["--ro-bind", str(module), inside]
        if module in bytecode:
            args += ["--ro-bind", bytecode[module], importlib.util.cache_from_source(inside)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--clearenv"]
    for key, value in CLEAN_ENV.items():
        args += ["--setenv", key, value]
    if os.geteuid() == 0:
        # The zygote stays root in the sandbox so that its judge and each candidate can
        # switch to the slot uid; it has no other capability.
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return tuple(args)


def _bwrap_command(disk_bytes: int, spec: SandboxSpec) -> list[str]:
    """A sandbox that runs the judge as a zygote serving candidates one by one."""
    extra: list[str] = []
    for host, inside in spec.binds:
        # !!! Read-only, and only what a shape names: its toolchain, never the user's files.
        extra += [*_dirs_to(inside), "--ro-bind", host, inside]
    for key, value in spec.env:
        extra += ["--setenv", key, value]
    return [
        *_bwrap_base(),
        *extra,
        "--perms",
        "1777",
        "--size",
        str(disk_bytes),
        "--tmpfs",
        SANDBOX_CWD,
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--chdir",
        SANDBOX_CWD,
        "--",
        *start_command(os.path.dirname(_SANDBOX_JUDGE)),
        "--zygote",
    ]


@dataclass(frozen=True)
class SandboxKind:
    """What makes two sandboxes interchangeable: a candidate may run in any idle one of
    its kind."""

    disk_bytes: int
    """Size of its tmpfs folder."""
    spec: SandboxSpec = SandboxSpec()  # noqa: RUF009 - frozen: one shared value is right
    """What its shapes bind and set."""
    shapes: tuple[str, ...] = ("function",)
    """The test shapes it serves (their judge halves load once, before any fork)."""


class _ZygoteGone(Exception):
    """The zygote died before it accepted the job (retry with a fresh one)."""


# bwrap's --die-with-parent fires when the *thread* that started it ends, so zygotes are
# started from this one long-lived thread rather than from short-lived worker threads.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="koderz-sandbox-spawner")


class Zygote:
    """One long-lived bwrap sandbox serving candidates one after another.

    Starting bwrap and Python costs more than most candidates take to run; a zygote pays it
    once, and starts its judge once. Isolation between candidates holds because after each
    one every process of the candidate's uid but the judge is killed and the tmpfs wiped
    before the end is reported; if that fails, or the judge dies, the sandbox ends with that
    candidate (``koderz/sandbox/judge/zygote.py``).
    """

    def __init__(self, kind: SandboxKind) -> None:
        self.kind = kind
        self.disk_bytes = kind.disk_bytes
        self.uid: int | None = None
        self._slot: Any = None
        if os.geteuid() == 0:
            self._slot = UID_POOL.slot()
            self.uid = self._slot.__enter__()
        res_r, res_w = os.pipe()
        tests_r, tests_w = os.pipe()
        try:
            self.proc = _SPAWNER.submit(
                subprocess.Popen,
                _bwrap_command(kind.disk_bytes, kind.spec),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(res_w, tests_r),
                env=dict(CLEAN_ENV),  # bwrap's own environment is /proc/1/environ inside
                cwd="/",
                start_new_session=True,
            ).result()
        except OSError as e:
            os.close(res_r)
            os.close(tests_w)
            self._release_slot()
            raise SandboxError(f"Cannot start bubblewrap: {e}") from e
        finally:
            os.close(res_w)
            os.close(tests_r)
        self.res_r = res_r
        self.tests_w = tests_w
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        # pass_fds keeps the numbers: the sandbox knows its ends by these.
        start = {
            "uid": self.uid,
            "result_fd": res_w,
            "tests_fd": tests_r,
            "scratch": SANDBOX_CWD,
            "path": site_dirs(),
            "shapes": list(kind.shapes),
        }
        self.fds = {
            "res": res_r,
            "out": self.proc.stdout.fileno(),
            "err": self.proc.stderr.fileno(),
        }
        self.stdin_fd = self.proc.stdin.fileno()
        for fd in (*self.fds.values(), self.stdin_fd, tests_w):
            os.set_blocking(fd, False)
        self.pending = b""
        self.alive = True
        self.key: object = None  # the pool's mark of the candidate it runs
        # Sent now, so that the sandbox loads its shapes and forks its judge while the
        # caller still prepares (what a short pipe does not take goes with the first candidate).
        start_frame = frame(start)
        try:
            written = os.write(self.stdin_fd, start_frame)
        except (BlockingIOError, BrokenPipeError):
            written = 0
        self._start_frame = start_frame[written:]

    def run(self, program: dict[str, Any], tests: dict[str, Any], limits: Limits) -> Raw:
        nonce = os.urandom(16).hex()  # (secrets costs ~3 ms to import)
        budget = limits.scaled_timeout_s + startup_allowance(limits)
        candidate = {
            "nonce": nonce,
            "deadline": budget,
            "limits": rlimits(limits, count_processes=True),
            "cwd": f"{SANDBOX_CWD}/run-{nonce[:12]}",
            # Standard modules the program's prelude names, loaded once in the zygote.
            "preload": list(program.get("prelude") or ()),
        }
        to_zygote = self._start_frame + frame(candidate)
        self._start_frame = b""
        # The program goes to the judge, which hands it to the candidate: the zygote, which
        # every candidate is forked from, never holds one.
        to_judge = frame({**judge_tests(tests, limits, nonce), "program": program})
        started = time.monotonic()
        raw = self._exchange(to_zygote, to_judge, nonce, limits, started + budget + 3.0)
        raw.nonce = nonce
        raw.duration_s = time.monotonic() - started
        return raw

    def _exchange(
        self, to_zygote: bytes, to_judge: bytes, nonce: str, limits: Limits, deadline: float
    ) -> Raw:
        raw = Raw()
        ends = {
            (json.dumps([nonce, "end", True]) + "\n").encode(): True,
            (json.dumps([nonce, "end", False]) + "\n").encode(): False,
        }
        keep = limits.output_bytes
        state = {"finished": False, "ending": False}

        def records(chunk: bytes) -> bool:
            if not chunk:  # the zygote is gone
                raw.killed = state["finished"] = True
                return False
            self.pending += chunk
            lines = self.pending.split(b"\n")
            self.pending = lines.pop()
            for line in lines:
                end = ends.get(line + b"\n")
                if end is not None:
                    state["finished"] = True
                    # The sandbox ends after this candidate (it swept its uid).
                    state["ending"] = not end
                elif len(raw.records) < RECORD_CAP:
                    raw.records += line + b"\n"
            return True

        def output(buf: bytearray) -> Reader:
            def read(chunk: bytes) -> bool:
                if not chunk:
                    raw.killed = state["finished"] = True
                    return False
                keep_tail(buf, chunk, keep)
                return True

            return read

        reads = {self.fds["res"]: records, self.fds["out"]: output(raw.stdout)}
        reads[self.fds["err"]] = output(raw.stderr)
        sends = {self.stdin_fd: memoryview(to_zygote), self.tests_w: memoryview(to_judge)}
        try:
            _write_now(sends, self.stdin_fd)
        except BrokenPipeError:
            self.close()
            raise _ZygoteGone() from None
        outcome = pump(sends, reads, deadline, until=lambda open_fds: state["finished"])
        if outcome != "done":
            raw.killed = True
        elif not raw.killed:
            # Everything the candidate wrote was in the pipes before the end record.
            for name, buf in (("out", raw.stdout), ("err", raw.stderr)):
                while chunk := read_some(self.fds[name]):
                    keep_tail(buf, chunk, keep)
        if raw.killed or state["ending"]:
            self.close()
        return raw

    def close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        kill(self.proc)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                with suppress(OSError):
                    f.close()
        for fd in (self.res_r, self.tests_w):
            with suppress(OSError):
                os.close(fd)
        self._release_slot()

    def _release_slot(self) -> None:
        if self._slot is not None:
            if self.uid is not None:
                kill_uid(self.uid)
            self._slot.__exit__(None, None, None)
            self._slot = None


def _write_now(sends: dict[int, memoryview], fd: int) -> None:
    """Write what the pipe ``fd`` takes now of its bytes in ``sends`` (all sent: it leaves).

    Raises:
        BrokenPipeError: No process reads the pipe.
    """
    with suppress(BlockingIOError):
        sends[fd] = sends[fd][os.write(fd, sends[fd][: 1 << 16]) :]
    if not sends[fd]:
        del sends[fd]


def _env_sandboxes() -> int | None:
    """``KODERZ_SANDBOXES``, a hard limit; ``None`` if unset (the pool then grows)."""
    raw = os.environ.get("KODERZ_SANDBOXES", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(
            f"KODERZ_SANDBOXES={raw!r} is not a whole number of at least 1; set it to how "
            "many sandboxes may run at once (by default twice the cores, and more while "
            "candidates wait out long runs), or unset it."
        )
    return int(raw)


class ZygotePool:
    """Zygotes shared by the threads that run candidates, within a limit on candidates running.

    The limit is ``KODERZ_SANDBOXES`` if set; by default twice the cores, plus one for each
    candidate that has run past ``LONG_RUN_S`` while the memory holds (``capacity.py``):
    such a candidate mostly waits out its deadline (asleep, or computing at a priority its
    judge lowers by the CPU time it has used), so another can use the cores meanwhile.

    Up to one zygote per core start as soon as they are wanted. Past that, a caller first
    waits ``grow_after_s`` for one to come free, and only then starts another: a candidate
    usually takes a few milliseconds, so a core's worth of sandboxes keeps the cores busy,
    and each more costs a start-up (~30 ms of CPU). Zygotes the pool grew stay for the
    candidates after (about 10 MB each). Callers past the limit wait.
    """

    grow_after_s = 0.02

    def __init__(self) -> None:
        # Read from KODERZ_SANDBOXES when the first zygote is wanted, so that a bad value is
        # a ConfigError of that call, not an error at import.
        self.runs: Runs | None = None
        self._cond = threading.Condition()
        self._idle: list[Zygote] = []
        self._alive = 0

    def _runs(self) -> Runs:
        if self.runs is None:
            fixed = _env_sandboxes()
            base = fixed or 2 * (os.cpu_count() or 1)
            self.runs = Runs(base, grows=fixed is None)
        return self.runs

    @property
    def eager(self) -> int:
        """How many start without waiting: one per core, within the base."""
        return min(self.runs.base if self.runs else 1, os.cpu_count() or 1)

    def acquire(self, kind: SandboxKind, memory_bytes: int) -> Zygote:
        retire: list[Zygote] = []
        waited = False
        key = object()
        with self._cond:
            runs = self._runs()
            while True:
                dead = [z for z in self._idle if z.proc.poll() is not None]
                for z in dead:
                    self._idle.remove(z)
                    self._alive -= 1
                retire.extend(dead)
                limit = runs.limit(memory_bytes)
                if runs.busy >= limit:
                    # Until one comes free, or a candidate running turns into a long run.
                    self._cond.wait(runs.next_change())
                    continue
                found = next((z for z in self._idle if z.kind == kind), None)
                if found is not None:
                    self._idle.remove(found)
                    break
                if self._alive >= limit and self._idle:
                    # Only zygotes of another kind are idle: retire one to make room.
                    retire.append(self._idle.pop(0))
                    self._alive -= 1
                if self._alive < limit and (self._alive < self.eager or waited):
                    self._alive += 1
                    break
                # Enough to keep the cores busy: a moment for one to come free first.
                waited = not self._cond.wait(self.grow_after_s)
            runs.start(key)
        for zygote in retire:
            zygote.close()
        if found is None:
            try:
                found = Zygote(kind)
            except BaseException:
                with self._cond:
                    self._alive -= 1
                    runs.finish(key)
                    self._cond.notify()
                raise
        found.key = key
        return found

    def prestart(self, count: int, kind: SandboxKind) -> None:
        """Start up to ``count`` zygotes now (one per core at most), so that they are up by
        the time candidates come: their start-up then overlaps the caller's own."""
        with self._cond:
            self._runs()
            count = max(0, min(count - len(self._idle), self.eager - self._alive))
            self._alive += count
        started = []
        try:
            for _ in range(count):
                started.append(Zygote(kind))
        finally:
            with self._cond:
                self._alive -= count - len(started)
                self._idle.extend(started)
                self._cond.notify_all()

    def release(self, zygote: Zygote) -> None:
        keep = zygote.alive and zygote.proc.poll() is None
        with self._cond:
            self._runs().finish(zygote.key)
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


ZYGOTES = ZygotePool()
atexit.register(ZYGOTES.close_all)


def run_in_zygote(
    kind: SandboxKind, program: dict[str, Any], tests: dict[str, Any], limits: Limits
) -> Raw:
    """Run one candidate in a zygote of the pool, retrying when a zygote dies before it."""
    for _ in range(3):
        zygote = ZYGOTES.acquire(kind, limits.memory_bytes)
        try:
            return zygote.run(program, tests, limits)
        except _ZygoteGone:
            pass
        finally:
            ZYGOTES.release(zygote)
    raise SandboxError("The bubblewrap sandbox keeps dying before it takes a candidate.")
