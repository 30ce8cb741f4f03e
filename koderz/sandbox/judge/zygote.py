"""The zygote: a sandbox that serves many candidates one after another.

Part of the judge (``koderz/sandbox/judge/``), which runs inside the sandbox; the host's
side is ``koderz/sandbox/zygote.py``. bwrap and Python start once per sandbox rather than
once per candidate, and the judge once too. Three kinds of process:

* the zygote: PID 1 of the sandbox, so no process in it can signal it, and root in the
  sandbox (CAP_SETUID/CAP_SETGID only) when Koderz runs as root. It reads each candidate's
  limits and folder from the host and forks the candidate from its own memory, which never
  holds a test nor a program.
* the judge: forked once, at the start, before any test exists; the candidates' uid, not
  dumpable. It reads the tests and the program from a pipe of its own, gets each
  candidate's pipes from the zygote over a control socket, hands the candidate its program,
  runs the tests and writes the records.
* the candidate: forked for each program (again after a timeout or a crash), under the
  sandbox uid and the rlimits, in a fresh folder.

After each candidate the judge kills every process of the uid but itself and wipes the
tmpfs. The zygote checks; if anything is left, or the judge died, or time ran out, it kills
every process of the uid (the judge too), reports the end as the sandbox's last, and exits:
the host starts a fresh sandbox. The same happens if the candidate changed the priority,
CPUs or limits of the judge, or of the zygote when both share its uid (anyone may, of a
process of its own uid): the candidates after it would run starved.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import json
import marshal
import os
import sys
import time
from typing import Any

from .core import Judge, judge_run, serve_candidate, set_result_fd, shape
from .processes import (
    drop_privileges,
    drop_undumps,
    not_dumpable,
    others_alive,
    own_scheduling,
    reap,
    set_limits,
    sweep,
)
from .wire import TESTS_CAP, read_frame, widen


def zygote_main() -> None:
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

    start = read_frame(0)
    if start is None:
        return
    widen(start["tests_fd"])  # every problem's tests come down it
    for name in start["shapes"]:  # loaded once, here, for every judge and candidate
        shape(name)
    if os.getuid() != 0:
        not_dumpable()  # same uid as the candidates: no ptrace, no /proc/PID/mem
    else:
        drop_undumps()
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
    start["scheduling"] = own_scheduling()
    judge_exit = os.pidfd_open(judge)
    while _zygote_run(start, ctl, judge, judge_exit):
        pass


def _zygote_run(start: dict[str, Any], ctl: Any, judge: int, judge_exit: int) -> bool:
    """Serve one candidate; ``False`` once the sandbox must end."""
    import select
    import socket

    run = read_frame(0)
    if run is None:
        return False
    deadline = time.monotonic() + run["deadline"]
    preload(run.get("preload"))
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
    keep = finished and not others_alive(uid, spare=judge) and not os.listdir(scratch)
    keep = keep and own_scheduling() == start["scheduling"]
    if not keep:
        sweep(uid, scratch)
    reap()
    line = (json.dumps([run["nonce"], "end", keep]) + "\n").encode()
    os.write(start["result_fd"], line)
    return keep


PRELOADABLE = frozenset(
    (
        *("bisect", "builtins", "collections", "copy", "datetime", "decimal", "fractions"),
        *("functools", "heapq", "io", "itertools", "json", "math", "operator", "random"),
        *("re", "statistics", "string", "sys", "typing"),
    )
)
"""Standard modules the zygote imports when a program's prelude names them, so that its
candidates fork with them loaded (LiveCodeBench's prelude costs a fresh process ~8 ms):
modules without side effects on import, nothing else whatever the host asks."""


def preload(names: Any) -> None:
    """Import the modules of ``names`` that are :data:`PRELOADABLE` and not yet loaded,
    here, before the candidate is forked (a fork re-seeds ``random``)."""
    import contextlib
    import gc
    import importlib

    if type(names) is not list:
        return
    wanted = [n for n in names if type(n) is str and n in PRELOADABLE and n not in sys.modules]
    for name in wanted:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if wanted:
        gc.freeze()  # out of the collector's reach, as the rest of the zygote's memory


def _spawn(start: dict[str, Any], run: dict[str, Any], first: bool) -> tuple[int, list[int]]:
    """Fork a candidate process; its pid and the judge's ends of its two pipes."""
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    widen(req_w)  # each test's input goes down it
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
                drop_privileges(start["uid"])
            set_limits(run["limits"])
            if first:
                os.mkdir(run["cwd"], 0o700)
            os.chdir(run["cwd"])
            program = read_frame(req_r)  # from the judge
            if program is not None:
                serve_candidate(program, req_r, resp_w, start["path"])
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

    set_result_fd(start["result_fd"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the host's stream of programs is the zygote's
    os.close(devnull)
    if start["uid"] is not None:
        drop_privileges(start["uid"])
        if not drop_undumps():
            not_dumpable()
    sys.path.extend(start["path"])
    mine = own_scheduling()
    while True:
        data, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 4)
        if not data:
            return
        message = marshal.loads(data)
        tests = read_frame(start["tests_fd"], TESTS_CAP)
        if tests is None or tests.get("nonce") != message[1] or len(fds) != 2:
            return  # out of step with the host: end the sandbox
        setup = {"kill_all": True, "scratch": start["scratch"], "program": tests["program"]}
        judge = Judge(setup, zygote=ctl)
        judge.pid, (judge.req, judge.resp) = message[2], fds
        judge.send_program()
        judge_run(judge, tests)
        if own_scheduling() != mine:
            return  # a candidate reached us: end the sandbox before it slows the next
        ctl.sendall(marshal.dumps(("done",)))
