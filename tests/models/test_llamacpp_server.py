"""``koderz serve``: llama-cpp-python's own OpenAI-compatible server (its ``server`` extra)
serving the SmolLM2 file under Koderz's guard against llama.cpp's AMX bug, used through the
``NAME@URL`` it prints: a ``koderz check`` and a two-problem benchmark, every row priced as
local.

This machine (an AMD EPYC) has no AMX, where the guard's default leaves llama.cpp's extra
buffer types on; the server here is started with ``KODERZ_LLAMACPP_EXTRA_BUFTS=0``, the
choice ``auto`` makes on a CPU with AMX, and the test reads back from the loaded model that
they were off. AMX itself cannot be tried here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from koderz.cli import main
from koderz.errors import ConfigError, KoderzError
from koderz.models import llamacpp, llamacpp_server
from koderz.models.llamacpp_server import LOADED, SERVER_MODULES, serve_command
from koderz.store import load_steps

HAS_SERVER = all(importlib.util.find_spec(m) is not None for m in SERVER_MODULES)
# The real llama.cpp model, behind llama-cpp-python's own server.
needs_server = pytest.mark.skipif(
    not HAS_SERVER,
    reason="needs llama-cpp-python's 'server' extra (pip install 'koderz[embedded]')",
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``koderz serve --port 0`` as a user starts it, with the AMX guard forced on; yields
    the NAME@URL it printed and its log (stderr)."""
    log = tmp_path_factory.mktemp("koderz-serve") / "serve.log"
    env = dict(os.environ, KODERZ_LLAMACPP_EXTRA_BUFTS="0", KODERZ_LLAMACPP_N_CTX="2048")
    # One thread: llama.cpp's threads wait on each other at every step, and on a busy
    # 2-core machine (other tests, other jobs) two of them made a token take seconds.
    env["KODERZ_LLAMACPP_N_THREADS"] = "1"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "koderz.cli", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline().decode().strip()  # NAME@URL, once the server answers
        if not first:
            pytest.fail(f"koderz serve printed nothing ({proc.wait()}): {log.read_text()}")
        yield first, log
    finally:
        proc.send_signal(signal.SIGTERM)  # as `kill PID` or Ctrl-C: it stops its server
        try:
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert status == 0, log.read_text()[-2000:]


@pytest.mark.slow
@needs_server
def test_serve_prints_the_name_and_url_and_loads_under_the_guard(served) -> None:
    model, log = served
    name, _, url = model.partition("@")
    assert name == "smollm2" and url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    text = log.read_text()
    assert f"{LOADED} off" in text  # read back from the loaded model
    assert "extra buffer types are off: KODERZ_LLAMACPP_EXTRA_BUFTS=0" in text
    assert "llama_model_loader" not in text  # llama.cpp's load report stays out


@pytest.mark.slow
@needs_server
def test_check_through_the_server(served, capsys) -> None:
    model, _ = served
    assert main(["check", model, "--json", "--timeout", "300"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["ok"] and row["provider"] == "openai" and row["tier"] == "local"
    assert row["output_tokens"] > 0 and row["cost_usd"] == 0.0


@pytest.mark.slow
@needs_server
def test_two_problem_benchmark_through_the_server(served, tmp_path, capsys) -> None:
    name, _ = served
    argv = ["benchmark", "--worker", name, "--limit", "2", "--max-iterations", "1"]
    argv += ["--max-tokens", "64", "--data-dir", str(tmp_path), "--no-progress"]
    assert main(argv) == 0, capsys.readouterr()
    steps = load_steps(tmp_path)
    attempts = steps[steps["role"] == "attempt"]
    assert list(attempts["problem_id"]) == ["HumanEval/0", "HumanEval/1"]
    assert set(attempts["model"]) == {name} and set(attempts["provider"]) == {"openai"}
    assert (attempts["status"] != "provider_error").all() and (attempts["output_tokens"] > 0).all()
    assert set(attempts["tier"]) == {"local"}
    assert set(attempts["cost_usd"]) == {0.0} and set(attempts["hardware_cost_usd"]) == {0.0}
    assert attempts["price_source"].str.startswith("local").all()
    assert (steps["role"] == "end").sum() == 2


# --------------------------------------------------------------------------- no server needed


@pytest.mark.parametrize(
    ("env", "flags", "wanted"),
    [
        ({}, frozenset({"avx512f", "amx_tile", "amx_int8"}), "off"),  # a Sapphire Rapids CPU
        ({}, frozenset({"avx2"}), "on"),
        ({"KODERZ_LLAMACPP_EXTRA_BUFTS": "0"}, frozenset({"avx2"}), "off"),
    ],
)
def test_the_server_gets_the_choice_the_embedded_worker_makes(env, flags, wanted) -> None:
    chosen = llamacpp.settings(env, cpu_flags=flags)
    command = serve_command(
        Path("m.gguf"),
        name="m",
        host="127.0.0.1",
        port=8000,
        extra=chosen.extra_bufts,
        n_ctx=chosen.n_ctx,
        n_threads=chosen.n_threads,
    )
    assert command[command.index("--extra-bufts") + 1] == wanted
    assert command[command.index("--model_alias") + 1] == "m"


def test_serve_takes_only_gguf_models(capsys) -> None:
    with pytest.raises(ConfigError, match="serves a GGUF file"):
        llamacpp_server.start("gpt-4o-mini")
    assert main(["serve", "claude-opus-4-5"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("koderz serve: error: koderz serve serves a GGUF file")


def test_serve_without_the_server_extra_says_how_to_get_it(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name)
    )
    with pytest.raises(ConfigError, match=r"uvicorn missing.*koderz\[embedded\]"):
        llamacpp_server.start("smollm2")


@pytest.mark.slow
@needs_server
def test_a_server_that_dies_while_loading_is_a_message(tmp_path, capsys) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a model")
    with (tmp_path / "log").open("w") as log, pytest.raises(KoderzError) as e:
        llamacpp_server.start(str(bad), port=0, log=log)
    assert "The llama.cpp server of 'broken' exited with status 1 while loading" in str(e.value)
    assert "Start it again with `koderz serve`" in str(e.value)
    assert main(["serve", str(bad), "--port", "0"]) == 2  # one line, no traceback
    assert capsys.readouterr().err.splitlines()[-1].startswith("koderz serve: error: The llama")
