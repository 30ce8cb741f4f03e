"""The hostile battery: programs that attack the sandbox, and what must happen to each, under
every test shape (the ``shape`` fixture; ``hostile.py`` says how a shape runs them).

Every attack must fail its tests, leak no secret (a fake key is planted in the environment
and in ``.env`` files of the working folder and home of the test process), leave no process
running and finish in bounded time (pytest-timeout; no wall-clock figure is asserted). These
attacks know no shape: resources, secrets, the network, daemons, the judge and the sandboxes
that serve one candidate after another. What only fools a function's judge is in
``test_function_judge.py``.
"""

from __future__ import annotations

import os
import secrets
import socket
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from koderz.sandbox import Limits, isolation
from koderz.sandbox.shapes import SHAPES
from tests.sandbox.hostile import (
    ADAPTERS,
    EXITS_ZERO,
    FAKES,
    FAST,
    HONEST,
    PLANTED,
    TOKEN,
    Adapter,
    processes_with,
    sandbox_processes,
)

# The hostile battery: hundreds of sandboxed programs, some of them waiting out timeouts.
pytestmark = [pytest.mark.slow, PLANTED]


def test_every_shape_faces_the_battery() -> None:
    # A shape Koderz judges without an adapter here would never meet these attacks.
    assert sorted(ADAPTERS) == sorted(SHAPES)


# --------------------------------------------------------------------- resource attacks


@pytest.mark.timeout(60)
def test_fork_bomb(shape: Adapter) -> None:
    # Tries: exhaust the process table. Must: hit RLIMIT_NPROC (which holds even though
    # the tests run as root: the candidate has a uid of its own), time out, die entirely.
    r = shape.attack(
        """
        import os
        def f():
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        """
    )
    assert r.outcomes[0].kind in ("timeout", "crash")


@pytest.mark.timeout(60)
def test_fork_bomb_is_stopped_by_the_process_limit(shape: Adapter) -> None:
    # Tries: fork more processes than the limit allows. Must: be refused by the kernel
    # (reported back as the count it managed), the count staying under the limit.
    r = shape.attack(
        f"""
        import os, time
        def f():
            n = 0
            for _ in range(200):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
            return {TOKEN!r} if n > 100 else n
        """,
        limits=Limits(timeout_s=3.0, processes=16),
        cases=1,
    )
    assert r.outcomes[0].kind == shape.wrong


@pytest.mark.timeout(60)
def test_memory_hog(shape: Adapter) -> None:
    # Tries: allocate 8 GiB. Must: MemoryError under RLIMIT_AS, reported as memory.
    r = shape.attack(
        """
        def f():
            blocks = []
            while True:
                blocks.append(bytearray(256 << 20))
        """,
        limits=Limits(timeout_s=3.0, memory_bytes=512 << 20),
    )
    # A test runner that runs every case in one process (pytest) reports the MemoryError as
    # the failure of a case.
    assert r.outcomes[0].kind == "memory" or (not shape.per_case and "MemoryError" in r.stdout)


@pytest.mark.timeout(60)
def test_disk_filler(shape: Adapter) -> None:
    # Tries: fill the disk with one big file, then with many small ones. Must: be stopped
    # by RLIMIT_FSIZE and the size-limited tmpfs; nothing lands on the host's disk.
    r = shape.attack(
        f"""
        import os
        def f():
            total = 0
            try:
                with open("big", "wb") as out:
                    while True:
                        out.write(b"x" * (1 << 20))
                        total += 1 << 20
            except OSError:
                pass
            i = 0
            try:
                while True:
                    with open(f"small{{i}}", "wb") as out:
                        out.write(b"x" * 65536)
                    total += 65536
                    i += 1
            except OSError:
                pass
            return {TOKEN!r} if total > 200 * 2**20 else total
        """,
        limits=Limits(timeout_s=5.0, disk_bytes=32 << 20),
        cases=1,
    )
    assert r.outcomes[0].kind in (shape.wrong, "timeout")
    assert {p.name for p in Path.cwd().iterdir()} == {".env"}  # only what the fixture wrote


@pytest.mark.timeout(60)
def test_infinite_loop_ignoring_sigterm(shape: Adapter) -> None:
    # Tries: ignore SIGTERM and spin forever. Must: be killed (SIGKILL) at the deadline,
    # which the first case uses up: the second is cut off (where each case has a deadline
    # of its own, it times out in turn).
    r = shape.attack(
        """
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        def f():
            while True:
                pass
        """
    )
    assert [o.kind for o in r.outcomes] == (
        ["timeout", shape.after_timeout] if shape.per_case else ["timeout"]
    )


@pytest.mark.timeout(60)
def test_top_level_infinite_loop(shape: Adapter) -> None:
    # Tries: never finish loading. Must: time out; no test case passes.
    r = shape.attack("while True:\n    pass\n")
    assert r.status == "timeout" and r.tests_passed == 0


@pytest.mark.timeout(60)
def test_daemon_left_behind(shape: Adapter, tmp_path: Path) -> None:
    # Tries: double-fork a daemon in a new session that outlives the run and later writes
    # into the host's folder. Must: be killed with the sandbox (checked from the host: no
    # process carrying the daemon's token remains, and the host folder gets nothing).
    target = tmp_path / "daemon-was-here"
    token = f"koderz-daemon-{secrets.token_hex(8)}"
    # The candidate passes only once its daemon has exec'd (the pipe closes on exec), so
    # the test below cannot pass because the daemon never started.
    r = shape.run(
        f"""
        import os, sys
        LOOP = "import time\\nfor _ in range(600):\\n try:\\n  open(sys.argv[1], 'w')"
        LOOP += ".write('alive')\\n except OSError:\\n  pass\\n time.sleep(0.05)"
        def f():
            r, w = os.pipe()
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.close(r)
                    os.set_inheritable(w, False)
                    argv = [sys.executable, "-c", "import sys\\n" + LOOP]
                    os.execv(sys.executable, argv + [{str(target)!r}, {token!r}])
                os._exit(0)
            os.close(w)
            os.read(r, 1)  # EOF once the daemon has exec'd
            return {TOKEN!r}
        """,
        limits=FAST,
        cases=1,
    )
    assert r.passed, r
    for _ in range(100):  # the kill may land a moment after the verdict
        if not processes_with(token):
            break
        time.sleep(0.02)
    assert processes_with(token) == [], "the candidate's daemon outlived its run"
    if os.geteuid() == 0:
        assert sandbox_processes() == [], "a process of the candidate is still running"
    assert not target.exists()


@pytest.mark.timeout(60)
def test_stdout_flood(shape: Adapter) -> None:
    # Tries: print hundreds of MB to exhaust the host's memory. Must: tail kept capped,
    # the rest dropped; the run still ends.
    limits = Limits(timeout_s=2.0, output_bytes=1000)
    r = shape.attack(
        """
        import sys
        def f():
            line = "A" * 1023 + "\\n"
            for _ in range(400_000):
                sys.stdout.write(line)
            return "done"
        """,
        limits=limits,
    )
    assert len(r.stdout) <= 1000 and len(r.stderr) <= 1000


# --------------------------------------------------------------------- one sandbox, many candidates


@pytest.fixture
def one_sandbox(own_pool: Any) -> Iterator[Any]:
    """A pool of one zygote, so that consecutive runs meet in the same sandbox."""
    pool = own_pool("1")
    try:
        yield pool
    finally:
        pool.close_all()


def _zygote_of(pool: Any) -> Any:
    (only,) = pool._idle
    return only


@pytest.mark.timeout(60)
def test_one_sandbox_and_its_judge_serve_honest_candidates_one_after_another(
    shape: Adapter, one_sandbox: Any
) -> None:
    assert shape.run(HONEST).passed
    first = _zygote_of(one_sandbox)
    assert shape.run(HONEST).passed
    assert _zygote_of(one_sandbox) is first


@pytest.mark.timeout(60)
def test_a_candidate_that_kills_the_judge_ends_its_sandbox_not_the_next_verdict(
    shape: Adapter, one_sandbox: Any
) -> None:
    # Tries: kill every process it may signal (the judge shares its uid). Must: fail; the
    # sandbox ends with it, and the next candidate is judged in a fresh one.
    assert shape.run(HONEST).passed
    first = _zygote_of(one_sandbox)
    shape.attack(FAKES["kill_everything"])
    assert one_sandbox._idle == [] or _zygote_of(one_sandbox) is not first
    assert shape.run(HONEST).passed


# Lowers the priority of every other process it may (all of its uid), pins them to one CPU
# and lowers their limits on open files and CPU time.
STARVE_THE_REST = f"""
import os, resource
def f():
    for pid in [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]:
        for change in (
            lambda: os.setpriority(os.PRIO_PROCESS, pid, 19),
            lambda: os.sched_setaffinity(pid, {{min(os.sched_getaffinity(0))}}),
            lambda: resource.prlimit(pid, resource.RLIMIT_NOFILE, (64, 64)),
            lambda: resource.prlimit(pid, resource.RLIMIT_CPU, (2, 2)),
        ):
            try:
                change()
            except OSError:
                pass
    return {TOKEN!r}
"""
# Passes only if every other process it sees (its judge, its zygote) runs at full priority
# on every CPU it has itself; otherwise answers those it found starved.
LOOK_AT_THE_REST = f"""
import os
def f():
    mine = os.sched_getaffinity(0)
    pids = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]
    nice = {{p: os.getpriority(os.PRIO_PROCESS, p) for p in pids}}
    starved = [p for p in pids if nice[p] or os.sched_getaffinity(p) != mine]
    return starved or {TOKEN!r}
"""


@pytest.mark.timeout(60)
def test_a_candidate_that_starves_its_judge_ends_its_sandbox(
    shape: Adapter, one_sandbox: Any
) -> None:
    # Tries: lower its judge's priority, pin it to one CPU, cut its limits (the judge shares
    # its uid, and anyone may do that to a process of their own uid), so that the
    # candidates after it, judged by the same judge, run out of time. Must: the sandbox ends
    # with it; the next candidate is judged at full priority.
    assert shape.run(LOOK_AT_THE_REST, cases=1).passed
    first = _zygote_of(one_sandbox)
    shape.run(STARVE_THE_REST)
    assert one_sandbox._idle == [] or _zygote_of(one_sandbox) is not first
    after = shape.run(LOOK_AT_THE_REST, cases=1)
    assert after.passed, after.outcomes


@pytest.mark.timeout(60)
def test_a_candidate_that_hangs_up_and_spins_leaves_the_judge_in_step(
    shape: Adapter, one_sandbox: Any
) -> None:
    # Tries: close its reply pipe and spin, so that the judge asks the zygote how it ended
    # and the deadline strikes while the zygote waits for an end that does not come; the
    # zygote's late answer would then wait in the socket, where the judge would read it as
    # the next candidate's message. Must: fail; the next candidate is judged as usual.
    spin = "import os\ndef f():\n    os.closerange(3, 256)\n    while True:\n        pass\n"
    shape.attack(spin)
    assert shape.run(HONEST, limits=FAST).passed


@pytest.mark.timeout(60)
def test_a_candidate_cannot_find_an_earlier_candidates_program_in_its_memory(
    shape: Adapter, one_sandbox: Any
) -> None:
    # Tries: find, in its own memory (forked from the sandbox's), the program of the
    # candidate judged before it in the same sandbox, to run that one's (maybe right)
    # answer. Must: find nothing; the sandbox never holds a program. The two halves of the
    # marker are only ever joined in the first program, so a find is that program.
    secret = secrets.token_hex(16)
    padding = "# " + "x" * 70 + "\n"  # a program of some size: kept on the heap once freed
    earlier = padding * 200 + f"KEPT = 'koderz-earlier-{secret}'\n" + padding * 100 + HONEST
    assert shape.run(earlier).passed
    first = _zygote_of(one_sandbox)
    scan = textwrap.dedent(
        f"""
        import ctypes
        HEAD, TAIL = b"koderz-earlier-", {secret.encode()!r}
        def f():
            found = 0
            with open("/proc/self/maps") as maps:
                regions = [line.split() for line in maps]
            for region in regions:
                low, high = (int(x, 16) for x in region[0].split("-"))
                if not region[1].startswith("r") or region[-1].startswith("[v"):
                    continue
                data = ctypes.string_at(low, high - low)  # its own memory, read directly
                at = data.find(HEAD)
                while at >= 0:
                    found += data[at + len(HEAD) : at + len(HEAD) + len(TAIL)] == TAIL
                    at = data.find(HEAD, at + 1)
            return "clean" if found == 0 else {TOKEN!r}
        """
    )
    r = shape.run(scan, limits=Limits(timeout_s=20.0))
    assert _zygote_of(one_sandbox) is first, "the two candidates must meet in one sandbox"
    # "clean" is merely wrong; a crash or a timeout of the scan would be no evidence.
    assert [o.kind for o in r.outcomes] == shape.wrongs(), r


def test_the_program_goes_to_the_judge_never_to_the_zygote(
    shape: Adapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scan above depends on what the allocator leaves in freed memory (glibc hands a
    # freed top of the heap back to the system), so it can pass while the zygote holds
    # programs. This is the rule itself: the zygote's bytes carry no program.
    import marshal

    from koderz.sandbox import zygote

    if isolation() != "bwrap":
        pytest.skip("zygotes serve candidates under bubblewrap only")
    marker = f"koderz-program-{secrets.token_hex(8)}"
    sent: list[tuple[bytes, bytes]] = []
    real = zygote.Zygote._exchange

    def spy(self: Any, to_zygote: bytes, to_judge: bytes, *args: Any) -> Any:
        sent.append((to_zygote, to_judge))
        return real(self, to_zygote, to_judge, *args)

    monkeypatch.setattr(zygote.Zygote, "_exchange", spy)
    code = f"MARK = {marker!r}\n" + HONEST
    assert shape.run(code).passed
    ((to_zygote, to_judge),) = sent
    assert marker.encode() not in to_zygote
    frames = []
    while to_zygote:
        n = int.from_bytes(to_zygote[:4], "big")
        frames.append(marshal.loads(to_zygote[4 : 4 + n]))
        to_zygote = to_zygote[4 + n :]
    # What the shape's judge takes as the program (the function shape's "code"), by name.
    program = set(SHAPES[shape.name].program(shape.problem(2), code)) - {"shape"}
    assert program and all(not program & set(frame) for frame in frames), frames
    assert marker.encode() in to_judge


@pytest.mark.timeout(60)
def test_leftovers_do_not_reach_the_next_candidate(shape: Adapter, one_sandbox: Any) -> None:
    # Tries: leave files in the scratch folder (one of them unreadable to others) and a
    # daemon behind, for the next candidate judged in the same sandbox to find. Must: the
    # next candidate sees a clean folder and no process but its own line of ancestors
    # (the zygote, PID 1) and the judge (the zygote's first child, older than any daemon).
    shape.attack(
        """
        import os, time
        def f():
            open("/tmp/left-behind", "w").write("x")
            os.makedirs("/tmp/locked/inner")
            os.chmod("/tmp/locked", 0)
            if os.fork() == 0:
                os.setsid()
                time.sleep(60)
            return "planted"
        """
    )
    r = shape.attack(
        f"""
        import os, sys
        def ancestors():
            pid, line = os.getpid(), set()
            while pid > 0:
                line.add(pid)
                status = open(f"/proc/{{pid}}/status").read()
                pid = int(status.split("PPid:")[1].split()[0])
            return line
        def started(pid):
            return int(open(f"/proc/{{pid}}/stat").read().rpartition(")")[2].split()[19])
        def f():
            seen = os.listdir("/tmp") + os.listdir(".")
            line = ancestors()
            others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in line]
            judge = min(others, key=started)
            others.remove(judge)
            print(seen, others, judge, file=sys.stderr)
            if others or any("left" in s or "locked" in s for s in seen):
                return {TOKEN!r}
            return "clean"
        """
    )
    # "clean" fails both cases as merely wrong; a crash of the probe would be no evidence.
    assert [o.kind for o in r.outcomes] == shape.wrongs(), r


# --------------------------------------------------------------------- secrets and escape


@pytest.mark.timeout(60)
def test_reads_keys_from_environment(shape: Adapter) -> None:
    # Tries: return and print every environment variable. Must: see no key at all.
    r = shape.attack(
        """
        import os
        def f():
            text = repr(dict(os.environ))
            print(text)
            return text
        """
    )
    assert "OPENAI" not in repr(r)


@pytest.mark.timeout(60)
def test_reads_environment_of_other_processes(shape: Adapter) -> None:
    # Tries: /proc/*/environ and cmdline of every visible process (PID 1 included), and
    # /proc/self/environ. Must: find nothing secret (fresh PID namespace; bwrap itself was
    # started with a clean environment).
    r = shape.attack(
        """
        import os
        def f():
            found = []
            for pid in os.listdir("/proc"):
                for name in ("environ", "cmdline"):
                    try:
                        found.append(open(f"/proc/{pid}/{name}", "rb").read().decode())
                    except Exception as e:
                        found.append(repr(e))
            text = "\\n".join(found)
            print(text)
            return text
        """
    )
    assert "API_KEY" not in repr(r)


@pytest.mark.timeout(60)
def test_reads_dotenv_files(shape: Adapter, secrets_planted: Path) -> None:
    # Tries: .env in the working folder, in $HOME, under the host folder the test uses
    # (path known in advance), in /root and every home. Must: find none of them.
    paths = [
        ".env",
        "~/.env",
        str(secrets_planted / "home" / ".env"),
        str(secrets_planted / "work" / ".env"),
        "/root/.env",
    ]
    r = shape.attack(
        f"""
        import glob, os
        def f():
            out = []
            for p in {paths!r} + glob.glob("/home/*/.env"):
                try:
                    out.append(open(os.path.expanduser(p)).read())
                except Exception as e:
                    out.append(type(e).__name__)
            print(out)
            return "".join(out)
        """
    )
    assert "OPENAI_API_KEY" not in repr(r)


@pytest.mark.timeout(60)
def test_network_connection(shape: Adapter) -> None:
    # Tries: connect to a server listening on the host's loopback, and to the internet.
    # Must: fail (new network namespace) and the server sees no connection.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    try:
        r = shape.attack(
            f"""
            import socket
            def f():
                for host in [("127.0.0.1", {port}), ("1.1.1.1", 80)]:
                    try:
                        socket.create_connection(host, timeout=0.5).sendall(b"hi")
                        return {TOKEN!r}
                    except OSError as e:
                        print(e)
                return "offline"
            """
        )
        if isolation() == "bwrap":
            with pytest.raises(TimeoutError):
                server.accept()
            assert r.outcomes[0].kind == shape.wrong
    finally:
        server.close()


@pytest.mark.timeout(60)
def test_deletes_files_outside_its_folder(shape: Adapter, tmp_path: Path) -> None:
    # Tries: delete a host file whose path it knows, and the host's home. Must: both stay.
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    shape.attack(
        f"""
        import os, shutil
        def f():
            for action in (lambda: os.remove({str(victim)!r}),
                           lambda: shutil.rmtree({str(tmp_path)!r})):
                try:
                    action()
                except OSError:
                    pass
            return "tried"
        """
    )
    assert victim.read_text() == "keep me"


# --------------------------------------------------------------------- fake passes


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(FAKES))
def test_fake_pass_tricks_fail(shape: Adapter, name: str) -> None:
    # Must: fail, whatever the trick; a pass needs every test's record from the judge.
    if shape.exit_is_verdict and name in EXITS_ZERO:
        pytest.skip("the exit status is this shape's verdict, as under MultiPL-E's evaluator")
    shape.attack(FAKES[name])
