"""Running on Dask: every worker is preflighted (and no key is sent to it), and a scheduler
that is not there is a one-line error."""

from __future__ import annotations

import os
import secrets
import socket

import pytest

from koderz.cli import main
from koderz.engine import schedule
from koderz.engine.benchmark import run_benchmark
from koderz.engine.preflight import check_here
from koderz.errors import ConfigError
from koderz.testing import ScriptedCoder
from tests.engine_helpers import TOYS

# Dask clusters.
pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")

# Built at run time, so no key-shaped string is tracked (secret scanners flag them).
SECRET = "sk-" + "-".join(("koderz", "test", secrets.token_hex(8)))


@pytest.fixture
def coder_server(serve, monkeypatch):
    """A scripted OpenAI server; its address and a key are set in this process only, and
    only once the test calls ``set_env()``."""
    server = serve("openai", respond=ScriptedCoder(TOYS, fail_first=0))
    env = {**server.env(), "OPENAI_API_KEY": SECRET}
    for key in env:
        monkeypatch.delenv(key)
    return server, lambda: [monkeypatch.setenv(k, v) for k, v in env.items()]


def test_a_worker_without_the_key_is_named_before_any_call(coder_server, tmp_path):
    server, set_env = coder_server
    # The first worker process starts while no key is set (conftest removed them); the second
    # starts after, with the key, as a worker started in the right shell would.
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        (bare,) = client.scheduler_info()["workers"]
        set_env()
        cluster.scale(2)
        client.wait_for_workers(2)
        with pytest.raises(ConfigError) as e:
            run_benchmark(
                worker="gpt-4o-mini", problems=TOYS, data_dir=tmp_path, dask=client, progress=False
            )
    message = str(e.value)
    assert message.startswith("1 of 2 Dask worker(s) cannot run these models")
    assert f"{bare}: No key found for openai - set the OPENAI_API_KEY" in message
    assert message.count("No key found") == 1  # the worker with the key is not named
    assert "start each worker with the keys" in message
    assert SECRET not in message
    assert server.requests == []  # nothing spent
    assert not list(tmp_path.glob("steps/**/*.parquet"))  # no row written


def test_the_preflight_sends_model_names_and_no_key(coder_server, tmp_path, monkeypatch):
    cloudpickle = pytest.importorskip("cloudpickle")
    server, set_env = coder_server
    set_env()
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        sent = []
        real_run = client.run

        def spy(function, *args, **kwargs):
            # What distributed serialises and sends to every worker.
            sent.append(cloudpickle.dumps((function, args, kwargs)))
            return real_run(function, *args, **kwargs)

        monkeypatch.setattr(client, "run", spy)
        result = run_benchmark(
            worker="gpt-4o-mini", problems=TOYS, data_dir=tmp_path, dask=client, progress=False
        )
    assert {(e.status, e.passed) for e in result.experiments} == {("stopped", True)}
    assert len(sent) == 1
    assert b"gpt-4o-mini" in sent[0] and b"koderz.engine.preflight" in sent[0]
    assert SECRET.encode() not in sent[0]
    assert server.url.encode() not in sent[0]  # nor the client's endpoints


def test_check_here_reads_this_process_and_lists_every_problem(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{_free_port()}")
    problems = check_here(["gpt-4o-mini", "claude-haiku-4-5", "qwen2.5-coder:7b"])
    assert [p.split(" - ")[0] for p in problems[:2]] == [
        "No key found for openai",
        "No key found for anthropic",
    ]
    assert problems[2].startswith("No server answers at http://127.0.0.1:")
    assert "OLLAMA_HOST" in problems[2]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert check_here(["gpt-4o-mini"]) == []


def test_a_cluster_without_workers_is_refused(coder_server, tmp_path):
    _, set_env = coder_server
    set_env()
    with (
        distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
        pytest.raises(ConfigError, match="no worker; start one with `dask worker"),
    ):
        run_benchmark(
            worker="gpt-4o-mini", problems=TOYS, data_dir=tmp_path, dask=client, progress=False
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            None,
            "No Dask scheduler answers at tcp://127.0.0.1:{port} (waited 2 s); start a "
            "scheduler with `dask scheduler`",
        ),
        ("nonsense", "'nonsense' is not a Dask scheduler address"),
        ("http://127.0.0.1:1", "'http://127.0.0.1:1' is not a Dask scheduler address"),
    ],
)
def test_no_scheduler_is_one_line(coder_server, tmp_cwd, capsys, monkeypatch, address, message):
    _, set_env = coder_server
    set_env()
    monkeypatch.setattr(schedule, "DASK_CONNECT_TIMEOUT_S", 2.0)
    port = _free_port()
    address = address or f"tcp://127.0.0.1:{port}"
    argv = ["benchmark", "--worker", "gpt-4o-mini", "--problems", "0:1", "--no-progress"]
    assert main([*argv, "--run-id", "r1", "--dask", address]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert message.format(port=port) in err
    assert "`dask worker tcp://HOST:8786`" in err
    assert not os.path.exists("data/runs/r1.lock")  # the run's lock went with the error
