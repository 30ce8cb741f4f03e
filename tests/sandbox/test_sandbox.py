"""The sandbox's machinery, whatever the test shape: what isolation it reports, the judge's
byte code, the timeout factor, the feedback levels, the rlimits-only fallback, the uid pool's
lock folder, and the KODERZ_SANDBOXES and KODERZ_SANDBOX settings.

The hostile battery is ``test_hostile.py`` (attacks under every test shape) and
``test_function_judge.py`` (what only a function's judge can be fooled by).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

from koderz import records
from koderz.errors import ConfigError, SandboxError
from koderz.records import ExecResult, FunctionTests, Problem
from koderz.sandbox import Limits, format_feedback, isolation, run_tests, sandbox_info
from tests.sandbox.hostile import ADAPTERS, FAKES, FAST, FUNCTION_FAKES, HONEST, PLANTED

# Many sandboxed programs, some of them hostile (the fallback's), some waiting on others.
pytestmark = [pytest.mark.slow, PLANTED]

FUNCTION = ADAPTERS["function"]


def test_isolation_is_reported() -> None:
    info = sandbox_info()
    assert info.mode in ("bwrap", "rlimits-only")
    assert info.description.strip()
    assert info.drops_privileges == (os.geteuid() == 0)
    r = FUNCTION.run(HONEST)
    assert r.passed and r.isolation == info.mode


# --------------------------------------------------------------------- the judge's byte code


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
    prob = Problem(
        "sandbox/1",
        "",
        FunctionTests("f", "def check(candidate):\n    assert candidate() is True\n"),
    )
    code = (
        "import os, sys\ndef f():\n"
        "    names = ('judge', 'judge.core', 'judge.function', 'judge.wire')\n"
        "    return all(os.path.exists(sys.modules[n].__cached__) for n in names)\n"
    )
    assert run_tests(prob, code).passed


# --------------------------------------------------------------------- limits and feedback


def test_a_program_is_one_text_whatever_its_shape() -> None:
    problem = Problem("t/1", "", FunctionTests("f", "def check(c):\n    assert c() == 1\n"))
    with pytest.raises(ConfigError, match=r"t/1: a program is one text, not dict.*listing"):
        run_tests(problem, {"solution.py": "def f():\n    return 1\n"})  # type: ignore[arg-type]


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
            FUNCTION.run(HONEST, limits=FAST)
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

    honest = FUNCTION.run(HONEST, limits=FAST)
    assert honest.passed and honest.isolation == "rlimits-only"
    fakes = [FAKES["os_exit_in_call"], FAKES["forge_records"], FUNCTION_FAKES["eq_always_true"]]
    for fake in fakes:
        assert FUNCTION.attack(fake).isolation == "rlimits-only"
    # Must fail; as root (own uid, kill(-1) and a sweep of the uid) attack() also checks
    # that no process of the daemon survives. As a normal user it may, as the warning says.
    FUNCTION.attack(DAEMON)


# --------------------------------------------------------------------- settings


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
            results = list(threads.map(lambda _: FUNCTION.run(slow), range(6)))
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
            results = list(threads.map(lambda _: FUNCTION.run(slow), range(4)))
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
        FUNCTION.run(HONEST)


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
        FUNCTION.run(HONEST, limits=FAST)
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
