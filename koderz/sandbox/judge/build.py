"""The build shape in the judge: an exercise built and tested by its own commands.

Part of the judge (``koderz/sandbox/judge/``), which runs inside the sandbox; the host's
half is ``koderz/sandbox/build.py``. The candidate process lays the exercise's files (the
candidate's solution files, then the exercise's test files, as the host merged them) in a
folder named as the exercise, and runs the commands the judge sends, one batch at a time,
each under its own deadline, its whole process group killed at it. The judge sends the
build, then the tests, and turns the test runner's exit status (the benchmark's verdict)
and its own count of passed and failed tests (partial credit) into case records.

The commands run the candidate's code as children of the candidate process, which holds
neither the judge's records pipe nor its memory; a test harness that runs in the same
process as the candidate's code (``go test``, ``cargo test``, Catch, JUnit) can be made to
exit 0 by it, as under the benchmark's own procedure, so a pass also needs the runner to
have reported at least one passing test where it reports any.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import os
import re
import select
import signal
import time
from typing import Any

from .core import Judge, Run, flush
from .wire import BadReply, clip, exc_text, read_frame, write_frame

OUTPUT_TAIL = 1 << 16  # what a command's output keeps for the judge, and for the verdict


# ----------------------------------------------------------------------------- candidate side


def _lay(program: dict[str, Any]) -> str:
    folder = os.path.join(os.getcwd(), program["folder"])
    os.makedirs(folder, exist_ok=True)
    for path, text in program["files"].items():
        target = os.path.join(folder, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
    for path, target in program.get("links", ()):
        os.symlink(target, os.path.join(folder, path))
    return folder


def _argv(argv: list[str], folder: str) -> list[str]:
    import glob

    out: list[str] = []
    for arg in argv:
        if arg.startswith("glob:"):
            out += sorted(glob.glob(arg[5:], root_dir=folder, recursive=True))
        else:
            out.append(arg)
    return out


def _keep(tail: bytearray, chunk: bytes) -> None:
    """Keep the tail of a command's output, and pass it on to ours."""
    try:  # noqa: SIM105 - no contextlib: start-up time
        os.write(1, chunk)
    except OSError:
        pass
    tail += chunk
    del tail[:-OUTPUT_TAIL]


def _command(argv: list[str], env: dict[str, str], folder: str, timeout: float) -> tuple[Any, ...]:
    """Run one command; ``(status, timed_out, output tail)``. Its output also goes to ours
    (the sandbox's stdout, which the verdict keeps a tail of)."""
    import subprocess

    try:
        proc = subprocess.Popen(
            argv,
            cwd=folder,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as e:
        return (127, False, f"cannot run {argv[0]}: {e}\n")
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    exited = os.pidfd_open(proc.pid)
    tail = bytearray()
    deadline = time.monotonic() + timeout
    timed_out = False
    watch = [fd, exited]
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready = select.select(watch, [], [], left)[0]
        if fd in ready:
            chunk = os.read(fd, 1 << 16)
            if chunk:
                _keep(tail, chunk)
            else:
                watch.remove(fd)  # end of its output: wait for its status
            continue
        if exited in ready:
            # The command is over; what it left running may hold the pipe open: take what
            # the pipe holds now (a bounded amount) and kill the rest below.
            if fd in watch:
                os.set_blocking(fd, False)
                for _ in range(16):
                    try:
                        chunk = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        break
                    if not chunk:
                        break
                    _keep(tail, chunk)
            break
    os.close(exited)
    try:  # noqa: SIM105 - the whole group: the command and anything it left behind
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    status = proc.wait()
    proc.stdout.close()
    return (status, timed_out, tail.decode("utf-8", "replace"))


def _run_steps(steps: list[Any], folder: str, timeout: float) -> tuple[Any, ...]:
    """Run steps in order until one fails; ``(failed step or -1, status, timed out,
    output)`` with the output of them all."""
    deadline = time.monotonic() + timeout
    output = ""
    for index, (argv, env, cwd) in enumerate(steps):
        left = deadline - time.monotonic()
        status, timed_out, text = _command(
            _argv(argv, folder), dict(env), os.path.join(folder, cwd), max(0.0, left)
        )
        output = (output + text)[-OUTPUT_TAIL:]
        if timed_out or status != 0:
            return (index, status, timed_out, output)
    return (-1, 0, False, output)


def serve(program: dict[str, Any], req_fd: int, resp_fd: int, extra_path: list[str]) -> None:
    """Lay the exercise's files, then run the batches of commands the judge asks for."""
    del extra_path
    try:
        folder = _lay(program)
    except BaseException as e:
        write_frame(resp_fd, ("load", "error", "could not lay the files: " + exc_text(e), ""))
        return
    write_frame(resp_fd, ("ready", None))
    while True:
        request = read_frame(req_fd)
        if request is None:
            return
        _, steps, timeout = request
        reply = _run_steps(steps, folder, timeout)
        flush()
        write_frame(resp_fd, ("ran", *reply))


# ----------------------------------------------------------------------------- judge side


def _batch(run: Run, judge: Judge, steps: list[Any], timeout: float, what: str) -> Any:
    """Run a batch of steps in the candidate process; its reply, or a failure."""
    result: list[Any] = []

    def work() -> None:
        reply = judge.exchange(("run", steps, timeout))
        shape = (str, int, int, bool, str)
        if type(reply) is not tuple or tuple(type(v) for v in reply) != shape or reply[0] != "ran":
            judge.kill()
            raise BadReply("the program's process sent a malformed reply")
        result.append(reply[1:])

    failure = run.step(work, what, lambda e: ("exception", exc_text(e), ""))
    return failure if failure is not None else result[0]


def _counts(output: str, patterns: list[Any]) -> tuple[int, int]:
    found = {"passed": 0, "failed": 0}
    for pattern, kind in patterns:
        for match in re.finditer(pattern, output):
            try:
                found[kind] += int(match.group(1)) if match.groups() else 1
            except (ValueError, IndexError):
                continue
    return found["passed"], found["failed"]


def _emit(run: Run, passed: bool, kind: str = "passed", message: str = "", tb: str = "") -> None:
    iteration = run.cases
    run.cases += 1
    if passed:
        run.passed += 1
        run.emit("case", 0, iteration, True, "passed", "", "")
    else:
        run.emit("case", 0, iteration, False, kind, clip(message), clip(tb))


def _build(run: Run, judge: Judge, tests: dict[str, Any]) -> bool:
    """Build under half the sample's deadline; whether it built (else the failure is
    recorded as a set-up failure: ``syntax_error`` or ``timeout``)."""
    if not tests["build"]:
        return True
    built = _batch(run, judge, tests["build"], run.timeout * 0.5, "build")
    if len(built) == 3:  # the core's failure: deadline, crash, bad reply
        run.emit("setup", -1, *built)
        return False
    failed_step, status, timed_out, output = built
    if failed_step < 0:
        return True
    if timed_out:
        run.emit("setup", -1, "timeout", clip("the build ran past its deadline\n" + output), "")
    else:
        why = f"the build failed (exit status {status})\n"
        run.emit("setup", -1, "syntax_error", clip(why + output), "")
    return False


def run_tests(run: Run, judge: Judge, tests: dict[str, Any]) -> None:
    """Build, then test under what is left of the deadline; each test the runner counted
    is a case (an iteration of item 0), and what its exit status adds one more."""
    # No pacing: compilers and test runners are busy by nature, and would all sit at the
    # lowest priority after a quarter of a second; their deadlines are long anyway.
    run.next_pace = float("inf")
    if not _build(run, judge, tests):
        return
    if not tests["test"]:  # build only: it builds
        _emit(run, True)
        return
    left = max(0.1, run.deadline - time.monotonic() - 0.25)
    tested = _batch(run, judge, tests["test"], left, "test run")
    if len(tested) == 3:
        _emit(run, False, *tested)
        return
    failed_step, status, timed_out, output = tested
    syntax = tests.get("syntax")
    if failed_step >= 0 and not timed_out and syntax and re.search(syntax, output):
        # An interpreted program that does not parse (MultiPL-E: SyntaxError).
        run.emit("setup", -1, "syntax_error", clip(output), "")
        return
    n_passed, n_failed = _counts(output, tests["counts"])
    tail = clip(output, 2000)
    for _ in range(n_passed):
        _emit(run, True)
    for _ in range(n_failed):
        _emit(run, False, "assertion", "a test failed", tail)
    if timed_out:
        _emit(run, False, "timeout", "the tests ran past their deadline", tail)
    elif failed_step >= 0 and n_failed == 0:
        _emit(run, False, "exception", f"the test command exited with status {status}", tail)
    elif failed_step < 0 and tests["counts"] and n_passed == 0:
        empty = tests.get("empty")
        if n_failed == 0 and empty and re.search(empty, output):
            _emit(run, True)  # the runner says it had no test: its exit status decides
        else:
            _emit(run, False, "exception", "the test command exited 0 but reported no test", tail)
    elif failed_step < 0 and not tests["counts"]:
        _emit(run, True)
