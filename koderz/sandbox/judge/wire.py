"""Frames between the host, the judge and the candidate, and the texts of failures.

Part of the judge (``koderz/sandbox/judge/``), which runs inside the sandbox: standard
library only, imported from byte code at every start. A frame is a 4-byte big-endian length
and a ``marshal`` payload.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import marshal
import os
import signal
from typing import Any

FRAME_CAP = 64 << 20
TESTS_CAP = (4 << 30) - 1
"""The cap of a frame the host wrote (a problem's tests: LiveCodeBench's hidden inputs run
to hundreds of megabytes), or the judge (one of them); a reply is held to ``FRAME_CAP``."""
TEXT_CAP = 2000


class BadReply(Exception):
    """The candidate process answered with something the judge does not take."""


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


PIPE_BYTES = 1 << 20
"""What a pipe that carries tests holds (Linux's default is 64 KiB): a long input crosses it
in a few writes, not one per 64 KiB and a switch of process after each."""


def widen(fd: int) -> None:
    """Let the pipe of ``fd`` hold :data:`PIPE_BYTES` where the system allows it."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # another system, or over the user's pipe allowance: the default serves


def read_frame(fd: int, cap: int = FRAME_CAP) -> Any:
    head = _read_exact(fd, 4)
    if head is None:
        return None
    n = int.from_bytes(head, "big")
    if n > cap:
        raise BadReply(f"a reply of {n} bytes exceeds the {cap}-byte cap")
    data = _read_exact(fd, n)
    if data is None:
        return None
    return marshal.loads(data)


def write_frame(fd: int, obj: Any) -> None:
    data = marshal.dumps(obj)
    # One write for the frames of every case (its length and payload together); a view, so
    # that a long input's rest is not copied again at each partial write.
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        view = view[os.write(fd, view) :]


def ask(sock: Any, message: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[int]]:
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


def clip(text: object, cap: int = TEXT_CAP) -> str:
    text = str(text)
    return text if len(text) <= cap else "..." + text[-cap:]


def exc_text(e: BaseException) -> str:
    try:
        msg = str(e)
    except BaseException:  # a candidate's __str__ may raise anything
        msg = "<unprintable>"
    name = type(e).__name__
    return clip(f"{name}: {msg}" if msg else name)


def tb_text(e: BaseException, source: str = "", filename: str = "<candidate>") -> str:
    """The traceback as the model should see it: the candidate's frames (and the library
    frames it called into, with ``source`` as the lines of ``filename``), never the
    judge's own."""
    try:
        import linecache
        import traceback  # only on failure: keeps start-up fast

        if source:  # so that the candidate's frames show their lines
            linecache.cache[filename] = (len(source), None, source.splitlines(True), "")
        own = os.path.dirname(__file__)
        te = traceback.TracebackException.from_exception(e)
        frames = [f for f in te.stack if os.path.dirname(f.filename) != own]
        te.stack = traceback.StackSummary.from_list(frames)
        return clip("".join(te.format()))
    except BaseException:
        return ""
