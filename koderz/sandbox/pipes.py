"""The pipes between the host and a sandbox: frames out, records and output back, one loop.

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.
# What comes back on these pipes is written by the judge or by the candidate, and nothing
# here believes it: the records are capped and kept as bytes; ``koderz.sandbox.verdict``
# decides what counts.

Both ways of running candidates (a zygote serving many, ``zygote.py``, or one judge
process per candidate, ``proc.py``) write their frames and read their records and output with
:func:`pump`.
"""

from __future__ import annotations

import marshal
import os
import selectors
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["RECORD_CAP", "Raw", "frame", "keep_tail", "pump", "read_some"]

RECORD_CAP = 16 << 20
"""Bytes read of any one stream of one run; past it the stream is a flood and is dropped."""

Reader = Callable[[bytes], bool]
"""Takes each chunk read from a pipe (``b""`` at its end); returns whether to read on."""


@dataclass
class Raw:
    """What one run left in the pipes; only records tagged with ``nonce`` count."""

    records: bytearray = field(default_factory=bytearray)
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    killed: bool = False
    nonce: str = ""
    duration_s: float = 0.0


def frame(obj: Any) -> bytes:
    """``obj`` as one frame the judge reads: a 4-byte length, then ``marshal`` data."""
    data = marshal.dumps(obj)
    return len(data).to_bytes(4, "big") + data


def keep_tail(buf: bytearray, chunk: bytes, keep: int) -> None:
    """Append ``chunk`` to ``buf`` and drop all but its last ``keep`` bytes."""
    buf += chunk
    if len(buf) > keep:
        del buf[: len(buf) - keep]


def read_some(fd: int) -> bytes | None:
    """Read what a non-blocking pipe holds; ``None`` if nothing yet, ``b""`` at its end."""
    try:
        return os.read(fd, 1 << 16)
    except BlockingIOError:
        return None


def pump(
    sends: dict[int, memoryview],
    reads: Mapping[int, Reader],
    deadline: float,
    *,
    until: Callable[[set[int]], bool],
    sent: Callable[[int], None] = lambda fd: None,
) -> Literal["done", "deadline", "broken"]:
    """Write and read non-blocking pipes until ``until(fds still read)`` says done.

    Args:
        sends: Bytes still to write, per pipe; a pipe leaves it once all are written
            (``sent(fd)`` is then called) or its reader has gone.
        reads: Per pipe, the reader of its chunks; a pipe is no longer read once its
            reader returns False or it ends.
        deadline: ``time.monotonic()`` past which the loop gives up.
        until: Asked before every wait with the pipes still read.
        sent: Called with a pipe whose bytes have all been written.

    Returns:
        ``done``; ``deadline``; or ``broken`` if a pipe written to lost its reader (the
        bytes left for it are dropped; call again to read on).
    """
    open_fds = set(reads)
    writing: set[int] = set()
    with selectors.DefaultSelector() as sel:
        for fd, reader in reads.items():
            sel.register(fd, selectors.EVENT_READ, reader)
        while True:
            for fd in list(sends):
                try:
                    written = os.write(fd, sends[fd][: 1 << 20])  # what the pipe takes
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    del sends[fd]
                    return "broken"
                sends[fd] = sends[fd][written:]
                if not sends[fd]:
                    del sends[fd]
                    sent(fd)
            for fd in sends.keys() - writing:  # a full pipe: wake when it drains
                sel.register(fd, selectors.EVENT_WRITE, None)
            for fd in writing - sends.keys():
                sel.unregister(fd)
            writing = set(sends)
            if until(open_fds):
                return "done"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "deadline"
            for key, _ in sel.select(min(remaining, 0.5)):
                if key.data is None:  # writable: written at the top of the loop
                    continue
                chunk = read_some(key.fd)
                if chunk is None:
                    continue
                if not key.data(chunk) or not chunk:
                    sel.unregister(key.fd)
                    open_fds.discard(key.fd)
