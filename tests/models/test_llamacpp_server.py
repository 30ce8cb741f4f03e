"""llama-cpp-python's own OpenAI-compatible server (``python -m llama_cpp.server``, its
``server`` extra) serving the SmolLM2 file, used through Koderz's ``NAME@URL``: a
``koderz check`` and a two-problem benchmark, every row priced as local."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from koderz.cli import main
from koderz.models import llamacpp
from koderz.models.registry import smollm2_path
from koderz.store import load_steps

SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
pytestmark = [
    # The real llama.cpp model, behind llama-cpp-python's own server.
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in SERVER_MODULES),
        reason="needs llama-cpp-python's 'server' extra (pip install 'koderz[embedded]')",
    ),
]

# The server has no switch for llama.cpp's extra buffer types; where Koderz would turn them
# off (a CPU with AMX, ggml-org/llama.cpp#20824) the server is started with them off too.
GUARDED = """
import runpy, sys
from llama_cpp import llama_cpp as native
default_params = native.llama_model_default_params
def params():
    p = default_params()
    p.use_extra_bufts = False
    return p
native.llama_model_default_params = params
sys.argv = ["llama_cpp.server", *sys.argv[1:]]
runpy.run_module("llama_cpp.server", run_name="__main__")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server_url(tmp_path_factory) -> Iterator[str]:
    port = _free_port()
    settings = llamacpp.settings()
    args = ["--model", str(smollm2_path()), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--n_ctx", str(settings.n_ctx), "--n_threads", str(settings.n_threads)]
    args += ["--verbose", "False"]
    start = ["-m", "llama_cpp.server"] if settings.extra_bufts else ["-c", GUARDED]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, *start, *args], stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({proc.returncode}): {log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not answer: {log.read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_check_through_the_server(server_url, capsys):
    assert main(["check", f"smollm2@{server_url}", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["ok"] and row["provider"] == "openai" and row["tier"] == "local"
    assert row["output_tokens"] > 0 and row["cost_usd"] == 0.0


def test_two_problem_benchmark_through_the_server(server_url, tmp_path, capsys):
    name = f"smollm2@{server_url}"
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
