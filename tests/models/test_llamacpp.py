"""The embedded SmolLM2-135M-Instruct answers a real prompt through its llama.cpp worker (CI
installs the 'embedded' extra); its settings, the AMX guard and the crash messages."""

from __future__ import annotations

import importlib.util
import re
import threading
import time

import pytest

from koderz import models
from koderz.errors import ConfigError
from koderz.models import get_model, llamacpp
from koderz.models.prices import price_call
from koderz.records import Completion

# The real llama.cpp model.
pytestmark = pytest.mark.slow

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="needs the 'embedded' extra"
)


@needs_llama
def test_smollm2_answers_a_real_prompt():
    model = get_model("smollm2")
    c = model.complete(
        "Write a Python function add(a, b) that returns their sum.", max_tokens=64, temperature=0
    )
    assert (c.provider, model.tier) == ("llamacpp", "local")
    assert c.text.strip()
    assert c.usage.input_tokens > 10 and 0 < c.usage.output_tokens <= 64
    assert c.stop_reason in ("end", "max_tokens")
    assert price_call(model.spec, c.usage).usd == 0.0


@needs_llama
def test_same_model_is_loaded_once():
    get_model("smollm2").complete("hi", max_tokens=2)
    get_model("smollm2").complete("hi", max_tokens=2)
    assert sum(1 for k in models._clients if k[0] == "llamacpp") == 1


@pytest.mark.parametrize(
    ("value", "flags", "extra", "why"),
    [
        (None, {"avx2", "avx512f"}, True, "this CPU has no AMX"),
        ("auto", {"avx512f", "amx_tile", "amx_int8"}, False, "this CPU has AMX"),
        ("0", {"avx2"}, False, "=0"),
        ("off", {"avx2"}, False, "=off"),
        ("1", {"amx_tile"}, True, "=1"),  # the user asked, AMX or not
        ("TRUE", {"amx_tile"}, True, "=true"),
    ],
)
def test_extra_buffer_types_are_off_on_amx_unless_asked(value, flags, extra, why):
    env = {} if value is None else {"KODERZ_LLAMACPP_EXTRA_BUFTS": value}
    s = llamacpp.settings(env, cpu_flags=frozenset(flags))
    assert s.extra_bufts is extra and why in s.extra_bufts_why


def test_unknown_cpu_flags_are_the_safe_path(monkeypatch):
    monkeypatch.setattr(llamacpp, "read_cpu_flags", lambda: None)  # e.g. not Linux
    s = llamacpp.settings({})
    assert s.extra_bufts is False and "flags are unknown" in s.extra_bufts_why


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KODERZ_LLAMACPP_EXTRA_BUFTS": "maybe"}, "set it to 0, 1 or auto"),
        ({"KODERZ_LLAMACPP_N_THREADS": "0"}, "KODERZ_LLAMACPP_N_THREADS='0'"),
        ({"KODERZ_LLAMACPP_N_THREADS": "two"}, "a whole number of at least 1"),
        ({"KODERZ_LLAMACPP_N_CTX": "-5"}, "KODERZ_LLAMACPP_N_CTX='-5'"),
    ],
)
def test_bad_settings_say_what_to_set(env, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        llamacpp.settings(env, cpu_flags=frozenset())


def test_settings_read_threads_and_context():
    s = llamacpp.settings(
        {"KODERZ_LLAMACPP_N_THREADS": "3", "KODERZ_LLAMACPP_N_CTX": "2048"}, cpu_flags=frozenset()
    )
    assert (s.n_threads, s.n_ctx) == (3, 2048)
    assert llamacpp.settings({}, cpu_flags=frozenset()).n_threads >= 1


def test_cpu_flags_come_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16\n\nprocessor\t: 1\n")
    assert llamacpp.read_cpu_flags(str(info)) == {"fpu", "avx512f", "amx_bf16"}
    assert llamacpp.read_cpu_flags(str(tmp_path / "missing")) is None


ON = llamacpp.Settings(extra_bufts=True, extra_bufts_why="on: auto and this CPU has no AMX")
OFF = llamacpp.Settings(extra_bufts=False, extra_bufts_why="off: this CPU has AMX")


@pytest.mark.parametrize(
    ("returncode", "settings", "says", "not_says"),
    [
        (-11, ON, ["killed by SIGSEGV", "ggml-org/llama.cpp#20824", "EXTRA_BUFTS=0"], []),
        (-11, OFF, ["killed by SIGSEGV", "not its AMX bug", "N_THREADS=1"], ["EXTRA_BUFTS=0"]),
        (-4, OFF, ["killed by SIGILL", "built for a newer CPU"], []),
        (-9, ON, ["killed by SIGKILL", "out-of-memory killer", "N_CTX (now 4096)"], []),
        (-6, ON, ["killed by SIGABRT", "failed check"], []),
        (3, ON, ["exited with status 3", "its last words"], ["AMX"]),
    ],
)
def test_a_dead_worker_is_explained(returncode, settings, says, not_says):
    text = llamacpp.crash_message("m", returncode, settings, during="during a call")
    assert text.startswith("The llama.cpp worker of 'm' ")
    assert text.endswith("The next call starts a new worker.")
    for part in says:
        assert part in text
    for part in not_says:
        assert part not in text


@needs_llama
def test_waiting_for_the_model_is_wait_s_not_latency():
    model = get_model("smollm2")
    client = models.client_for(model.spec)
    got: list[Completion] = []
    with client._lock:  # another call holds the model
        caller = threading.Thread(target=lambda: got.append(model.complete("hi", max_tokens=4)))
        started = time.perf_counter()
        caller.start()
        time.sleep(0.3)
    caller.join()
    took = time.perf_counter() - started
    (c,) = got
    assert c.wait_s >= 0.3 and c.latency_s > 0
    assert c.latency_s + c.wait_s <= took  # the model's time is apart from the wait


@needs_llama
def test_a_file_that_is_not_gguf_is_a_config_error_from_the_worker(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="could not be loaded as a GGUF model"):
        llamacpp.LlamaCppClient(str(bad))
