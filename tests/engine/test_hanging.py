"""An attempt that never ends costs about one sandbox timeout, not one per test case: the
sample's deadline bounds all its cases, and its hidden and visible tests run side by side."""

from __future__ import annotations

import time

import pytest

from koderz import Strategy
from koderz.engine.benchmark import run_benchmark
from koderz.problems import load_problems

pytestmark = pytest.mark.slow  # it waits out a timeout


def test_a_worker_answer_that_loops_forever_costs_about_one_timeout(serve, tmp_path):
    p44 = load_problems("humaneval")["HumanEval/44"]  # 12 hidden cases, 3 public ones
    loop = f"```python\n{p44.prompt}    while True:\n        pass\n```"
    serve("openai", script=[loop])
    timeout = 2.0
    started = time.monotonic()
    result = run_benchmark(
        strategies=[Strategy("s", worker="gpt-4o-mini", max_iterations=1)],
        problems=[p44],
        data_dir=tmp_path,
        sandbox_timeout_s=timeout,
        progress=False,
    )
    took = time.monotonic() - started
    attempt = result.steps[result.steps["role"] == "attempt"].iloc[0]
    # 6 asserts and a loop of 6 more: the loop's cases are never reached, so it counts as one.
    assert attempt["tests_total"] == 7 and attempt["tests_passed"] == 0
    assert attempt["status"] == "timeout" and not attempt["passed"]
    # One deadline for all 12 cases, the hidden and visible runs side by side: about one
    # timeout (the bound leaves room for start-up on a busy machine), not 12 or 15 of them.
    assert attempt["exec_s"] < 2.5 * timeout
    assert took < 4 * timeout + 10
