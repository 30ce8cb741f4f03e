"""The judge's hold on processes inside the sandbox: limits, privileges, priority, killing.

Part of the judge (``koderz/sandbox/judge/``), which runs inside the sandbox: standard
library only, imported from byte code at every start.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def others_alive(uid: int | None = None, spare: int = 1) -> bool:
    """Whether a process of ``uid`` (default ours) other than us, PID 1 and ``spare`` is
    alive (zombies don't count)."""
    return next(pids_of(os.getuid() if uid is None else uid, spare), None) is not None


def pids_of(uid: int, spare: int = 1) -> Iterator[int]:
    """The live processes of ``uid`` (zombies don't count) but us, PID 1 and ``spare``."""
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if not entry.isdigit() or int(entry) in (me, 1, spare):
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read().decode("ascii", "replace")
        except OSError:
            continue
        state = uid_line = ""
        for line in status.splitlines():
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid_line = line.split()[1]
        if uid_line == str(uid) and state not in ("Z", "X"):
            yield int(entry)


def set_limits(limits: dict[str, Any]) -> None:
    import resource

    pairs = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_AS, limits["memory_bytes"]),
        (resource.RLIMIT_FSIZE, limits["file_size_bytes"]),
        (resource.RLIMIT_CPU, limits["cpu_s"]),
    ]
    if limits.get("processes"):
        pairs.append((resource.RLIMIT_NPROC, limits["processes"]))
    for what, value in pairs:
        try:  # noqa: SIM105
            resource.setrlimit(what, (value, value))
        except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS; the host says so
            pass


def not_dumpable() -> None:
    """No ptrace, no /proc/PID/{mem,fd,environ} for the candidate (same uid as us)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except Exception:
        pass


_DROP_UNDUMPS: list[bool] = []  # read once (by the zygote, before it forks any judge)


def drop_undumps() -> bool:
    """Whether a process that drops from root to a uid is left not dumpable by the kernel
    (``fs.suid_dumpable`` 0 or 2), so that no ``prctl`` (and no ctypes) is needed."""
    if not _DROP_UNDUMPS:
        try:
            with open("/proc/sys/fs/suid_dumpable", "rb") as f:
                _DROP_UNDUMPS.append(f.read().strip() in (b"0", b"2"))
        except OSError:
            _DROP_UNDUMPS.append(False)
    return _DROP_UNDUMPS[0]


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("koderz judge: could not drop privileges")


PACE_EVERY_S = 0.05  # how often the judge looks at a candidate's CPU time, once it has run
FREE_CPU_S = 0.05  # CPU time a candidate uses at full priority (most need a few ms)
CPU_PER_NICE_S = 0.01  # then one step of nice per this much more: 19 at 0.24 s
NICE_MAX = 19
_CLOCK_TICKS: list[int] = []


def cpu_s(pid: int) -> float:
    """CPU time process ``pid`` and the children it waited for have used, in seconds (0 if
    it is gone or unknown)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        if not _CLOCK_TICKS:
            _CLOCK_TICKS.append(os.sysconf("SC_CLK_TCK"))
        # utime, stime, cutime, cstime (fields 14-17 of proc(5); these start at field 3).
        return sum(int(n) for n in fields[11:15]) / _CLOCK_TICKS[0]
    except (OSError, ValueError, IndexError):
        return 0.0


def exit_handle(pid: int | None) -> int | None:
    """A pidfd of the candidate, to wait for its end rather than poll for it."""
    if pid is None:
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:  # gone already, or no pidfd on this kernel
        return None


def kill_others(exited: int | None = None) -> None:
    """SIGKILL every process we may signal, except ourselves and PID 1, until none is left;
    ``exited`` (a pidfd of the main one, closed here) is waited on before the first look."""
    import select

    for _ in range(400):
        try:  # noqa: SIM105 - no contextlib: start-up time
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if exited is not None:
            try:
                select.select([exited], [], [], 1.0)
            finally:
                os.close(exited)
                exited = None
        reap()
        if not others_alive():
            return
        time.sleep(0.0005)


def sweep(uid: int | None, scratch: str) -> None:
    """Kill every candidate process and empty the scratch tmpfs."""
    if uid is None:  # we share the candidates' uid: kill(-1) spares only us and PID 1
        kill_others()
        wipe(scratch)
        return
    pid = os.fork()
    if pid == 0:  # as the candidates' uid: kill(-1) reaches exactly them
        code = 0
        try:
            drop_privileges(uid)
            kill_others()
            wipe(scratch)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    reap()
    if status != 0:
        raise SystemExit("koderz zygote: could not clean up after a candidate")


def own_scheduling() -> tuple[Any, ...]:
    """What a process of our uid can change about us without ptrace, and so what a
    candidate could change about its judge (and, without root, its zygote) to starve the
    candidates after it: priority, scheduling policy, CPUs and resource limits."""
    import resource

    return (
        os.getpriority(os.PRIO_PROCESS, 0),
        os.sched_getscheduler(0),
        sorted(os.sched_getaffinity(0)),
        [resource.getrlimit(getattr(resource, n)) for n in dir(resource) if n[:7] == "RLIMIT_"],
    )


def wipe(folder: str) -> None:
    import shutil

    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            for root, dirs, _files in os.walk(path):
                for d in dirs:
                    sub = os.path.join(root, d)
                    if os.path.islink(sub):  # a link to a folder: rmtree unlinks it
                        continue
                    try:  # noqa: SIM105 - no contextlib: start-up time
                        os.chmod(sub, 0o700)
                    except OSError:
                        pass
            os.chmod(path, 0o700)
            shutil.rmtree(path)
        else:
            os.unlink(path)
