"""The embedded model's worker process: llama.cpp never runs in the Koderz process, and a
worker that dies (segfault, abort, out-of-memory kill) is a failed call with a message,
after which the next call gets a new worker and the run goes on.

Faults are injected by starting the real worker through a wrapper that makes it kill
itself with a signal on its Nth call, once (a flag file is consumed), so each test is
deterministic.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from koderz import models
from koderz.cli import main
from koderz.engine.benchmark import run_benchmark
from koderz.errors import ProviderError
from koderz.models import get_model, llamacpp
from koderz.store import load_steps

# llama.cpp worker processes: started, crashed, hung and killed.
pytestmark = pytest.mark.slow

pytest.importorskip("llama_cpp", reason="needs the 'embedded' extra")

FAULTY = textwrap.dedent(
    """
    import os, signal, sys
    import koderz.models.llamacpp_worker as w

    flag, at, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    real_generate, real_load = w.generate, w.load
    calls = 0
    replies = os.dup(1)  # the pipe the worker's replies go to

    def die():
        os.unlink(flag)  # once: the next worker behaves
        print("GGML_ASSERT(fake) failed", file=sys.stderr, flush=True)
        if how == "hang-midline":
            os.write(replies, b'{"ok": tr')  # the start of a reply, never its end
        if how.startswith("hang"):
            import time
            time.sleep(3600)
        os.kill(os.getpid(), getattr(signal, how))

    def generate(llm, request):
        global calls
        calls += 1
        if calls == at and os.path.exists(flag):
            die()
        return real_generate(llm, request)

    def load(request):
        if at == 0 and os.path.exists(flag):
            die()
        llm, reply = real_load(request)
        if how == "unsupported":
            reply["extra_bufts"] = "unsupported"
        return llm, reply

    w.generate, w.load = generate, load
    w.main()
    """
)


@pytest.fixture
def faulty_worker(monkeypatch, tmp_path):
    """``arm(at, how)``: the next worker dies of signal ``how`` on its call ``at`` (0: while
    loading), once. Returns the flag file, which is gone once the fault fired."""
    models.reset_clients()  # a cached worker would not go through the wrapper

    def arm(at: int, how: str = "SIGSEGV"):
        flag = tmp_path / "crash-once"
        flag.write_text("")
        argv = [sys.executable, "-c", FAULTY, str(flag), str(at), how]
        monkeypatch.setattr(llamacpp, "worker_command", lambda: argv)
        return flag

    yield arm
    models.reset_clients()  # the wrapped worker must not serve later tests


def test_a_segfault_mid_benchmark_is_a_row_and_the_run_goes_on(faulty_worker, tmp_path):
    flag = faulty_worker(at=2)
    result = run_benchmark(
        worker="smollm2",
        limit=2,
        max_iterations=2,
        max_tokens=48,
        temperature=0.0,
        data_dir=tmp_path,
        progress=False,
    )
    assert not flag.exists()  # the worker did die
    steps = load_steps(tmp_path)
    attempts = steps[steps["role"] == "attempt"].reset_index(drop=True)
    # Nothing is lost: 2 problems x 2 attempts (smollm2 solves neither in 48 tokens), 2 ends.
    assert len(attempts) == 4 and (steps["role"] == "end").sum() == 2
    crashed = attempts[attempts["status"] == "provider_error"]
    assert len(crashed) == 1 and crashed.index[0] == 1  # the worker's second call
    error = crashed["error"].iloc[0]
    assert "killed by SIGSEGV during a call" in error
    assert "KODERZ_LLAMACPP_EXTRA_BUFTS" in error and "The next call starts a new worker" in error
    assert crashed["call_attempts"].iloc[0] == 1  # a crash is not retried
    # The calls after it went to a new worker and succeeded.
    later = attempts.iloc[2:]
    assert (later["status"] != "provider_error").all() and (later["output_tokens"] > 0).all()
    assert {e.status for e in result.experiments} <= {"exhausted", "error", "stopped"}
    assert len(result.experiments) == 2


def test_check_reports_a_crash_in_words_with_a_nonzero_exit(faulty_worker, capsys):
    faulty_worker(at=1)
    assert main(["check", "smollm2"]) != 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "SIGSEGV" in text and "ggml-org/llama.cpp#20824" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("SIGABRT", "stopped on a failed check"),
        ("SIGKILL", "out-of-memory killer"),
        ("SIGILL", "built for a newer CPU"),
    ],
)
def test_each_death_says_its_cause_and_the_next_call_works(faulty_worker, how, says):
    faulty_worker(at=1, how=how)
    model = get_model("smollm2")
    with pytest.raises(ProviderError) as info:
        model.complete("hi", max_tokens=2)
    assert info.value.kind == "crashed" and not info.value.retryable
    assert f"killed by {how}" in str(info.value) and says in str(info.value)
    assert "GGML_ASSERT(fake) failed" in str(info.value)  # the worker's last words
    assert model.complete("hi", max_tokens=2).usage.output_tokens > 0


def test_a_crash_while_loading_is_a_crashed_call(faulty_worker):
    faulty_worker(at=0)
    with pytest.raises(ProviderError, match="SIGSEGV while loading the model") as info:
        get_model("smollm2").complete("hi", max_tokens=2)
    assert info.value.kind == "crashed"
    assert get_model("smollm2").complete("hi", max_tokens=2).text  # loads afresh


def test_a_binding_without_use_extra_bufts_warns_and_works(faulty_worker, monkeypatch):
    monkeypatch.setenv("KODERZ_LLAMACPP_EXTRA_BUFTS", "0")
    faulty_worker(at=-1, how="unsupported")
    with pytest.warns(UserWarning, match="no use_extra_bufts field"):
        client = models.client_for(get_model("smollm2").spec)
    assert client.loaded_extra_bufts == "unsupported"
    assert get_model("smollm2").complete("hi", max_tokens=2).text


@pytest.mark.parametrize(("value", "loaded"), [("0", "off"), ("1", "on")])
def test_extra_buffer_types_reach_llama_cpp(monkeypatch, value, loaded):
    models.reset_clients()
    monkeypatch.setenv("KODERZ_LLAMACPP_EXTRA_BUFTS", value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            client = models.client_for(get_model("smollm2").spec)
        # Read back from the params the worker's llama.cpp model was loaded with.
        assert client.loaded_extra_bufts == loaded
    finally:
        models.reset_clients()


def test_llama_cpp_never_enters_the_koderz_process():
    code = (
        "import sys\n"
        "from koderz.models import get_model\n"
        "c = get_model('smollm2').complete('hi', max_tokens=2)\n"
        "maps = open('/proc/self/maps').read()\n"
        "print(c.usage.output_tokens, 'llama_cpp' in sys.modules, 'libllama' in maps)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert out[0] != "0" and out[1:] == ["False", "False"]


def test_the_worker_ends_with_its_client():
    models.reset_clients()
    client = models.client_for(get_model("smollm2").spec)
    pid = client.pid
    assert pid is not None
    models.reset_clients()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize("how", ["hang", "hang-midline"])
def test_a_hung_worker_is_killed_and_the_call_fails_in_words(faulty_worker, how):
    # A worker that never answers, or stops in the middle of its reply, would stall the run
    # for good: past the timeout it is taken for hung, killed (its pipes closed), and the
    # call is one failed call, not retried.
    faulty_worker(2, how)
    model = get_model("smollm2")
    model.complete("hi", max_tokens=2)
    client = models.client_for(model.spec)
    hung_pid, hung, healthy = client.pid, client._worker, client.settings
    # Only the call that hangs gets the short timeout: loading the model on a busy machine
    # can take longer than that.
    client.settings = dataclasses.replace(healthy, timeout_s=3)
    with pytest.raises(ProviderError) as e:
        model.complete("hi", max_tokens=2)
    client.settings = healthy
    assert hung is not None and hung.proc.stdout is not None and hung.proc.stdout.closed
    assert e.value.kind == "hung" and e.value.attempts == 1
    assert "more than 3 s" in str(e.value) and "KODERZ_LLAMACPP_TIMEOUT" in str(e.value)
    with pytest.raises(ProcessLookupError):
        os.kill(hung_pid, 0)  # killed and reaped, not left behind
    assert model.complete("hi", max_tokens=2).text is not None  # a new worker answers


def test_closing_the_client_does_not_wait_for_a_call_in_flight(faulty_worker):
    # reset_clients() (at exit, after Ctrl-C) must not wait for a call that holds the
    # worker for up to KODERZ_LLAMACPP_TIMEOUT (30 minutes by default): it kills the
    # worker, and that call fails as a crashed call.
    import threading
    import time

    faulty_worker(2, "hang")
    model = get_model("smollm2")
    model.complete("hi", max_tokens=2)
    client = models.client_for(model.spec)
    failed: list[BaseException] = []

    def call() -> None:
        try:
            model.complete("hi", max_tokens=2)
        except ProviderError as e:
            failed.append(e)

    thread = threading.Thread(target=call)
    thread.start()
    for _ in range(200):  # until the hung call holds the worker
        if client._lock.locked():
            break
        time.sleep(0.01)
    time.sleep(0.2)
    started = time.monotonic()
    models.reset_clients()
    assert time.monotonic() - started < 5
    thread.join(timeout=10)
    assert not thread.is_alive()
    (error,) = failed
    assert isinstance(error, ProviderError) and error.kind == "crashed"
