"""A data folder produced by a real run of the engine against local protocol servers.

Two strategies on the first HumanEval problems, with the real SDKs, sandbox and writer:

``cheap_advised``  a local worker (an OpenAI-compatible server, ``qwen@URL``) that fails its
                   first two attempts (one problem it never solves), a frontier spec model and
                   a frontier reviewer (Anthropic protocol, claude-opus-4-6);
``frontier_only``  claude-opus-4-6 alone, wrong once on one problem.

The notebooks' nbval run (notebooks/conftest.py) and the report tests both use it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from koderz.benchmark import run_benchmark
from koderz.experiment import Strategy
from koderz.models import reset_clients
from koderz.problems import load_problems, select_problems
from koderz.testing import ProtocolServer, ScriptedCoder

PROBLEMS = "0:4"
RUN_ID = "engine-fixture"


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    reset_clients()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_clients()


def engine_data(data_dir: str | os.PathLike[str]) -> Path:
    """Run the engine into ``data_dir`` (one run, two strategies) and return the folder."""
    problems = list(select_problems(load_problems("humaneval"), PROBLEMS).values())
    never = problems[-1].task_id
    local = ScriptedCoder(problems, fail_first={p.task_id: 2 for p in problems} | {never: 99})
    frontier = ScriptedCoder(problems, fail_first={problems[1].task_id: 1})
    with (
        ProtocolServer("openai", respond=local) as worker_server,
        ProtocolServer("anthropic", respond=frontier) as anthropic,
        _env(anthropic.env()),
    ):
        strategies = [
            Strategy(
                "cheap_advised",
                worker=f"qwen2.5-coder@{worker_server.url}",
                spec_model="claude-opus-4-6",
                reviewer="claude-opus-4-6",
                max_iterations=4,
            ),
            Strategy("frontier_only", worker="claude-opus-4-6", max_iterations=4),
        ]
        run_benchmark(
            strategies=strategies,
            problems=problems,
            data_dir=data_dir,
            run_id=RUN_ID,
            progress=False,
        )
    return Path(data_dir)
