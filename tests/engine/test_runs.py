"""A run's lock: a second process on a running run is refused, a dead holder's lock is taken
over, another host's lock is not, and the lock goes however the run ends."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from koderz.engine.benchmark import run_benchmark
from koderz.engine.runs import LockHolder, _is_zombie, _pid_start, run_lock
from koderz.errors import ConfigError
from koderz.testing import ScriptedCoder


def _write_lock(data, run_id, **changes):
    holder = dataclasses.replace(LockHolder.me(), **changes)
    path = data / "runs" / f"{run_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(holder)))
    return path, holder


def _wait_for(condition, what, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_a_second_process_on_a_running_run_is_refused(serve, monkeypatch, tmp_path):
    from koderz.problems import load_problems, select_problems

    chosen = select_problems(load_problems("humaneval"), "0:2")
    coder = ScriptedCoder(chosen.values(), fail_first=0)
    release = threading.Event()

    def respond(request):
        release.wait(120)  # the first run stays in its first call until the second was refused
        return coder(request)

    args = dict(worker="gpt-4o-mini", problems="humaneval", select="0:2", run_id="r1")
    server = serve("openai", respond=respond)
    first: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: first.update(result=run_benchmark(**args, data_dir=tmp_path, progress=False))
    )
    thread.start()
    try:
        _wait_for(lambda: server.requests, "the first run's first call")
        cmd = [sys.executable, "-m", "koderz.cli", "benchmark", "--worker", "gpt-4o-mini"]
        cmd += ["--problems", "0:2", "--data-dir", str(tmp_path), "--run-id", "r1"]
        second = subprocess.run(
            [*cmd, "--no-progress"],
            env={**os.environ, **server.env()},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        release.set()
        thread.join()
    calls = len(server.requests)

    assert second.returncode == 2
    assert "Traceback" not in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    me = f"process {os.getpid()} on host {socket.gethostname()}"
    assert f"Run r1 is in use by {me}" in second.stderr
    assert "wait for it to finish, or stop it" in second.stderr
    # The second process made no call and wrote no row: each experiment ran once.
    assert calls == 2
    steps = first["result"].steps
    assert (steps["role"] == "end").sum() == 2
    assert not (tmp_path / "runs" / "r1.lock").exists()  # released at the end


def test_a_dead_processes_lock_is_taken_over(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path, _ = _write_lock(tmp_path, "r1", pid=gone.pid, pid_start="1")
    with run_lock(tmp_path, "r1") as me:
        assert LockHolder(**json.loads(path.read_text())) == me
    assert not path.exists()


def test_a_reused_pid_is_not_the_holder(tmp_path):
    # Our own PID, alive, but started at another time than the holder: the PID was reused.
    _write_lock(tmp_path, "r1", pid_start="1")
    with run_lock(tmp_path, "r1") as me:
        assert me.pid_start != "1"


def test_a_lock_from_an_earlier_boot_is_taken_over(tmp_path):
    _write_lock(tmp_path, "r1", boot_id="an-earlier-boot")
    with run_lock(tmp_path, "r1"):
        pass


def test_a_zombie_holder_is_gone(tmp_path):
    child = subprocess.Popen(["sh", "-c", "read x"], stdin=subprocess.PIPE)
    start = _pid_start(child.pid)
    if start is None:
        pytest.skip("no /proc here")
    child.stdin.close()  # it exits; not reaped, it stays a zombie
    _wait_for(lambda: _is_zombie(child.pid), "the child to exit")
    try:
        _write_lock(tmp_path, "r1", pid=child.pid, pid_start=start)
        with run_lock(tmp_path, "r1"):
            pass
    finally:
        child.wait()


def test_a_live_holder_is_refused_and_keeps_its_lock(tmp_path):
    path, holder = _write_lock(tmp_path, "r1")
    with pytest.raises(ConfigError) as e, run_lock(tmp_path, "r1"):
        pass
    assert f"process {holder.pid} on host {holder.host} (since {holder.since})" in str(e.value)
    assert LockHolder(**json.loads(path.read_text())) == holder


def test_another_hosts_lock_is_never_taken_over(tmp_path):
    # Its PID means nothing here, dead or alive: the message says how to remove the lock.
    path, _ = _write_lock(tmp_path, "r1", host="node-7", pid=999_999_999)
    with pytest.raises(ConfigError) as e, run_lock(tmp_path, "r1"):
        pass
    message = str(e.value)
    assert "process 999999999 on host node-7" in message
    assert f"if that process is gone (host node-7 down), delete {path}" in message
    assert path.exists()


def test_an_unreadable_lock_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "runs" / "r1.lock"
    path.parent.mkdir(parents=True)
    path.write_text("not json")
    with pytest.raises(ConfigError, match=f"delete {path}"), run_lock(tmp_path, "r1"):
        pass


@pytest.mark.parametrize("raised", [RuntimeError, KeyboardInterrupt])
def test_the_lock_goes_however_the_run_ends(tmp_path, raised):
    with pytest.raises(raised), run_lock(tmp_path, "r1"):
        assert (tmp_path / "runs" / "r1.lock").exists()
        raise raised
    assert not (tmp_path / "runs" / "r1.lock").exists()
    assert os.listdir(tmp_path / "runs") == []  # no private or moved-aside file left


def test_a_released_lock_can_be_taken_again(tmp_path):
    with run_lock(tmp_path, "r1"):
        pass
    with run_lock(tmp_path, "r1"):
        pass


def test_a_lock_that_is_no_longer_ours_is_left_alone(tmp_path):
    # Removed under us and taken by another: releasing ours must not delete theirs.
    path = tmp_path / "runs" / "r1.lock"
    with run_lock(tmp_path, "r1"):
        path.unlink()
        _, other = _write_lock(tmp_path, "r1", token="another-process")
    assert LockHolder(**json.loads(path.read_text())) == other
