"""Data folders produced by real runs of the engine against local protocol servers, with the
real SDKs, sandbox and writer.

:func:`engine_data`, two strategies on the first HumanEval problems:

``cheap_advised``  a local worker (an OpenAI-compatible server, ``qwen@URL``) that fails its
                   first two attempts (one problem it never solves), a frontier spec model and
                   a frontier reviewer (Anthropic protocol, claude-opus-4-6);
``frontier_only``  claude-opus-4-6 alone, wrong once on one problem.

:func:`nothing_solved_data` is the offline main job's shape: one local strategy that solves
nothing. :func:`better_than_baseline_data` has an advised strategy that solves more problems
than its frontier-only baseline.

The notebooks' nbval run (notebooks/conftest.py) and the report tests use them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from koderz.engine.benchmark import run_benchmark
from koderz.engine.strategies import Strategy
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


def _run(
    data_dir: str | os.PathLike[str],
    *,
    local_fails: dict[int, int],
    frontier_fails: dict[int, int],
    advised: bool = True,
    frontier_only: bool = True,
) -> Path:
    """One engine run: fail counts are per problem position (missing: 0; 99: never solved)."""
    problems = list(select_problems(load_problems("humaneval"), PROBLEMS).values())

    def fails(by_position: dict[int, int]) -> dict[str, int]:
        return {p.task_id: by_position.get(i, 0) for i, p in enumerate(problems)}

    local = ScriptedCoder(problems, fail_first=fails(local_fails))
    frontier = ScriptedCoder(problems, fail_first=fails(frontier_fails))
    with (
        ProtocolServer("openai", respond=local) as worker_server,
        ProtocolServer("anthropic", respond=frontier) as anthropic,
        _env(anthropic.env()),
    ):
        worker = f"qwen2.5-coder@{worker_server.url}"
        strategies = (
            [
                Strategy(
                    "cheap_advised",
                    worker=worker,
                    spec_model="claude-opus-4-6",
                    reviewer="claude-opus-4-6",
                    max_iterations=4,
                )
            ]
            if advised
            else [Strategy("local-only", worker=worker, max_iterations=3)]
        )
        if frontier_only:
            strategies.append(Strategy("frontier_only", worker="claude-opus-4-6", max_iterations=4))
        run_benchmark(
            strategies=strategies,
            problems=problems,
            data_dir=data_dir,
            run_id=RUN_ID,
            progress=False,
        )
    return Path(data_dir)


def engine_data(data_dir: str | os.PathLike[str]) -> Path:
    """Run the engine into ``data_dir`` (one run, two strategies) and return the folder."""
    return _run(data_dir, local_fails={0: 2, 1: 2, 2: 2, 3: 99}, frontier_fails={1: 1})


def nothing_solved_data(data_dir: str | os.PathLike[str]) -> Path:
    """The offline main job's shape: ``local-only``, a local worker alone, solves nothing."""
    return _run(
        data_dir,
        local_fails=dict.fromkeys(range(4), 99),
        frontier_fails={},
        advised=False,
        frontier_only=False,
    )


def better_than_baseline_data(data_dir: str | os.PathLike[str]) -> Path:
    """``cheap_advised`` solves 4 of 4; its frontier-only baseline never solves 2 of them."""
    return _run(data_dir, local_fails={0: 1}, frontier_fails={1: 99, 2: 99})
