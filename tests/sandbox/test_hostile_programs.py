"""Attacks only a whole program can make (the ``io`` and ``calls`` shapes): on its standard
input and output, on the judge's memory where the hidden expected outputs are, on the
process it runs in. Each must fail its tests, leak nothing and end in bounded time; the
shape-free attacks are in ``test_hostile.py``, run under these shapes too."""

from __future__ import annotations

import secrets
import textwrap

import pytest

from koderz.problems.livecodebench import RULES
from koderz.records import IOCase, IOTests, Problem
from koderz.sandbox import Limits, run_tests
from tests.sandbox.hostile import ADAPTERS, FAST, PLANTED, Adapter

pytestmark = [pytest.mark.slow, PLANTED]

PROGRAMS = pytest.mark.parametrize("name", ["io", "calls"])


def attack(name: str, code: str, *, limits: Limits = FAST) -> object:
    adapter: Adapter = ADAPTERS[name]
    return adapter.attack(code, limits=limits)


@pytest.mark.timeout(60)
@PROGRAMS
def test_reads_stdin_forever(name: str) -> None:
    # Tries: read standard input past its end, by every door. Must: end (the end of the
    # input raises, fd 0 is empty) and fail.
    r = attack(
        name,
        """
        import os, sys
        def f():
            while True:
                sys.stdin.readline()
                sys.stdin.read()
                os.read(0, 1 << 16)
        """,
    )
    assert r.outcomes[0].kind in ("exception", "timeout"), r  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_blocks_on_its_real_stdin() -> None:
    # Tries: wait on the process's own standard input for ever. Must: time out.
    r = ADAPTERS["io"].attack(
        "import sys\ndef f():\n    return sys.__stdin__.buffer.read() or 'x' + input()\n"
    )
    assert not r.passed


@pytest.mark.timeout(120)
@PROGRAMS
def test_writes_gigabytes(name: str) -> None:
    # Tries: print without end, into the judge's capture and to the real descriptors.
    # Must: fail at the output cap or the deadline, its output kept to a tail.
    r = attack(
        name,
        """
        import os, sys
        def f():
            chunk = "pwned " * 100_000
            for _ in range(20_000):
                print(chunk)
                os.write(1, chunk.encode())
                sys.__stdout__.write(chunk)
        """,
        limits=Limits(timeout_s=3.0),
    )
    assert len(r.stdout) <= 10_000  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
@PROGRAMS
def test_forks_and_answers_from_the_child(name: str) -> None:
    # Tries: fork; the child prints (or returns) the answer and writes to the judge's
    # pipes, the parent answers wrong. Must: fail, no process left.
    attack(
        name,
        """
        import os
        def f():
            if os.fork() == 0:
                print("pwned")
                for fd in range(3, 64):
                    try:
                        os.write(fd, b"pwned")
                    except OSError:
                        pass
                os._exit(0)
            return "nope"
        """,
    )


@pytest.mark.timeout(60)
@PROGRAMS
def test_closes_its_stdout_and_every_descriptor(name: str) -> None:
    # Tries: close standard output and every descriptor, the judge's pipes among them.
    # Must: fail (a crash), not hang the judge.
    r = attack(
        name,
        """
        import os, sys
        def f():
            sys.stdout.close()
            os.closerange(0, 1024)
            return "pwned"
        """,
    )
    assert r.outcomes[0].kind in ("crash", "exception"), r  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_reads_the_hidden_output_from_the_judges_memory() -> None:
    # Tries: find the hidden expected output in /proc (the judge's memory, command line,
    # environment) and print it. Must: find nothing (the judge is not dumpable).
    hidden = "hidden-" + secrets.token_hex(8)
    problem = Problem(
        "hostile/proc", "", IOTests((IOCase("", "public"), IOCase("", hidden)), (), RULES)
    )
    code = textwrap.dedent(
        """
        import os, re
        found = "public"
        for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
            for part in ("mem", "cmdline", "environ", "maps"):
                try:
                    data = open(f"/proc/{pid}/{part}", "rb").read(1 << 24)
                except (OSError, ValueError):
                    continue
                m = re.search(rb"hidden-[0-9a-f]{16}", data)
                if m:
                    found = m.group().decode()
        print(found)
        """
    )
    r = run_tests(problem, code, limits=Limits(timeout_s=10.0))
    assert not r.passed
    assert [o.kind for o in r.outcomes] == ["passed", "assertion"], r


@pytest.mark.timeout(60)
@PROGRAMS
def test_opens_sockets(name: str) -> None:
    # Tries: a server, the outside world, the host's loopback, the zygote's Unix sockets.
    # Must: reach none of them.
    attack(
        name,
        """
        import os, socket
        def f():
            won = False
            for host in ("1.1.1.1", "127.0.0.1", "::1"):
                for port in (53, 80, 443, 8080, 11434):
                    try:
                        socket.create_connection((host, port), timeout=0.2).close()
                        won = True
                    except OSError:
                        pass
            for fd in range(3, 64):
                try:
                    s = socket.socket(fileno=os.dup(fd))
                    s.send(b"x")
                    won = True
                except OSError:
                    pass
            return "pwned" if won else "no"
        """,
    )
