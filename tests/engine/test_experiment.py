"""One experiment end to end, through the real SDKs against local protocol servers that
script the answers (fail twice, then pass): rows and prices, guidance and feedback reaching
the next prompt, feedback levels, spec reuse, failing providers."""

from __future__ import annotations

import pytest

from koderz.engine import prompts
from koderz.engine.benchmark import run_benchmark
from koderz.models.prices import cost_usd
from koderz.records import Usage
from koderz.store import load_steps
from koderz.testing import Answer, ScriptedCoder, error_reply
from tests.engine_helpers import ADD, REV, TOYS


@pytest.fixture
def servers(serve):
    """A worker on an Ollama server, spec model and reviewer on an Anthropic server; the
    worker fails twice, then passes (REV: fails 5 times)."""
    coder = ScriptedCoder(TOYS, fail_first={"Toy/add": 2, "Toy/square": 2, "Toy/rev": 5})
    return serve("ollama", respond=coder), serve("anthropic", respond=coder)


def advised(tmp_path, **kw):
    args = dict(
        worker="qwen2.5-coder:7b",
        spec_model="claude-sonnet-4-5",
        reviewer="claude-sonnet-4-5",
        strategy="advised",
        problems=[ADD],
        data_dir=tmp_path,
        max_iterations=4,
        checkpoint_interval=2,
        progress=False,
    )
    return run_benchmark(**{**args, **kw})


def test_fail_twice_then_pass_writes_every_step(servers, tmp_path):
    result = advised(tmp_path)
    steps = result.steps
    assert list(steps["role"]) == ["spec", "attempt", "attempt", "checkpoint", "attempt", "end"]
    attempts = steps[steps["role"] == "attempt"]
    assert list(attempts["iteration"]) == [1, 2, 3]
    assert list(attempts["passed"]) == [False, False, True]
    assert list(attempts["tests_passed"]) == [0, 0, 2]
    assert set(attempts["tests_total"]) == {2}
    assert set(attempts["tier"]) == {"local"} and set(attempts["cost_usd"]) == {0.0}
    # The third attempt passed the visible (public) test: the experiment stopped there and
    # submitted it; its hidden verdict is the experiment's.
    assert list(attempts["visible_passed"]) == [0, 0, 1] and set(attempts["visible_total"]) == {1}
    end = steps.iloc[-1]
    assert (end["status"], end["passed"], end["iteration"]) == ("stopped", True, 3)
    assert (end["submitted"], end["oracle_passed"], end["false_stop"]) == (3, True, False)
    assert [(e.status, e.passed, e.submitted) for e in result.experiments] == [("stopped", True, 3)]

    # Frontier rows are priced from their own tokens at the model's price.
    for row in steps[steps["role"].isin(["spec", "checkpoint"])].itertuples():
        assert row.tier == "frontier" and row.price_source.startswith("genai-prices")
        usage = Usage(int(row.input_tokens), int(row.output_tokens))
        assert row.cost_usd == pytest.approx(cost_usd("claude-sonnet-4-5", usage))
        assert row.cost_usd > 0
    assert result.spent_usd == pytest.approx(steps["cost_usd"].sum())

    # Settings ride on every row.
    assert set(steps["worker_model"]) == {"qwen2.5-coder:7b"}
    assert set(steps["reviewer_model"]) == {"claude-sonnet-4-5"}
    assert set(steps["max_iterations"]) == {4}
    assert set(steps["run_id"]) == {result.run_id}
    assert steps["experiment_id"].iloc[0] == f"{result.run_id}/advised/Toy/add"


def test_guidance_and_feedback_reach_the_next_prompt(servers, tmp_path):
    ollama, anthropic = servers
    advised(tmp_path)
    worker_prompts = [r.prompt for r in ollama.requests]
    assert len(worker_prompts) == 3
    spec_text = "Return the value the docstring describes"
    guidance = "The function returns None; compute the documented result."
    assert all(spec_text in p for p in worker_prompts)
    assert guidance not in worker_prompts[1]  # no review before attempt 2 ...
    assert guidance in worker_prompts[2]  # ... one after attempt 2, shown to attempt 3
    assert "Your previous attempt" not in worker_prompts[0]
    assert "return None" in worker_prompts[1] and "assert candidate(1, 2) == 3" in worker_prompts[1]
    # The reviewer saw the failed attempts and their feedback.
    review = anthropic.requests[-1].prompt
    # The counts it saw are the visible tests' (one public test), never the hidden ones.
    assert prompts.REVIEW_SYSTEM in review and "Attempt 2 (0/1 tests passed)" in review


@pytest.mark.parametrize(
    ("level", "shown", "hidden"),
    [
        ("full", "assert candidate(1, 2) == 3", None),
        ("assertion", "assert candidate(1, 2) == 3", "Traceback"),
        ("summary", "0 of 2", "assert candidate"),
    ],
)
def test_feedback_levels(servers, tmp_path, level, shown, hidden):
    # The levels that show the hidden tests go only with the oracle stop.
    ollama, _ = servers
    advised(
        tmp_path, spec_model=None, reviewer=None, feedback=level, stop="oracle", max_iterations=2
    )
    second = ollama.requests[1].prompt
    assert shown in second
    if hidden:
        assert hidden not in second.split("It failed the tests:")[1]


def test_zero_shot_attempts_start_afresh(servers, tmp_path):
    ollama, _ = servers
    advised(tmp_path, spec_model=None, reviewer=None, mode="zero_shot", max_iterations=3)
    assert len(ollama.requests) == 3
    assert not any("Your previous attempt" in r.prompt for r in ollama.requests)


def test_reused_spec_is_free_and_says_so(servers, tmp_path):
    _, anthropic = servers
    advised(tmp_path, reviewer=None, reuse_spec=True)
    calls_before = len(anthropic.requests)
    second = advised(tmp_path, reviewer=None, reuse_spec=True)
    assert len(anthropic.requests) == calls_before  # no new spec call
    spec = second.steps[second.steps["role"] == "spec"].iloc[0]
    assert (spec["spec_reused"], spec["cost_usd"]) == (True, 0.0)
    assert "Return the value" in spec["guidance"]


def test_plateau_is_told_to_the_reviewer(servers, tmp_path, monkeypatch):
    _, anthropic = servers
    advised(
        tmp_path, spec_model=None, max_iterations=5, checkpoint_interval=3, problems=[REV]
    )  # 3 wrong answers of 0/3 in a row, then a review
    checkpoint = load_steps(tmp_path, role="checkpoint").iloc[0]
    assert checkpoint["plateau"] == True  # noqa: E712 - a pandas boolean
    assert "plateaued" in anthropic.requests[-1].prompt


def test_failing_provider_is_a_row_and_the_experiment_ends_as_error(serve, monkeypatch, tmp_path):
    serve("openai", respond=lambda r: error_reply("openai", 500))
    from koderz import models
    from koderz.models import RetryPolicy

    monkeypatch.setattr(
        models, "RetryPolicy", lambda: RetryPolicy(max_attempts=2, initial_backoff_s=0)
    )
    result = run_benchmark(
        worker="gpt-4o-mini",
        problems=[ADD, REV],
        data_dir=tmp_path,
        max_iterations=2,
        progress=False,
    )
    steps = result.steps
    attempts = steps[steps["role"] == "attempt"]
    assert len(attempts) == 4  # both problems, both attempts: failures did not end the run
    assert set(attempts["status"]) == {"provider_error"}
    assert attempts["error"].str.contains("HTTP 500").all()
    assert set(attempts["call_attempts"]) == {2}
    ends = steps[steps["role"] == "end"]
    assert set(ends["status"]) == {"error"} and ends["error"].str.contains("HTTP 500").all()


def test_rate_limit_then_success_is_recorded(serve, monkeypatch, tmp_path):
    coder = ScriptedCoder([ADD], fail_first=0)
    serve("openai", script=[error_reply("openai", 429, retry_after=0)], respond=coder)
    result = run_benchmark(worker="gpt-4o-mini", problems=[ADD], data_dir=tmp_path, progress=False)
    attempt = result.steps[result.steps["role"] == "attempt"].iloc[0]
    assert (attempt["passed"], attempt["call_attempts"]) == (True, 2)


def test_no_secret_reaches_a_row(serve, monkeypatch, tmp_path):
    secret = "sk-" + "proj-THISISASECRETKEYVALUE123456"  # built here: no key-shaped literal
    monkeypatch.setenv("MY_SERVICE_TOKEN", "hunter2-but-longer")
    serve(
        "openai",
        respond=lambda r: Answer(
            f"my key is {secret} and token hunter2-but-longer\n"
            "```python\ndef add(a, b):\n    return a + b\n```"
        ),
    )
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    result = run_benchmark(worker="gpt-4o-mini", problems=[ADD], data_dir=tmp_path, progress=False)
    text = result.steps.astype(str).to_string()
    assert secret not in text and "hunter2-but-longer" not in text
    assert "[redacted]" in text


def test_a_sandbox_failure_keeps_the_paid_calls_row(serve, monkeypatch, tmp_path):
    from koderz import sandbox
    from koderz.errors import SandboxError

    def broken(*args, **kwargs):
        raise SandboxError("bubblewrap vanished")

    monkeypatch.setattr(sandbox, "run_tests", broken)
    coder = ScriptedCoder([ADD], fail_first=0)
    serve("openai", respond=coder)
    result = run_benchmark(worker="gpt-4o", problems=[ADD], data_dir=tmp_path, progress=False)
    steps = result.steps
    attempt = steps[steps["role"] == "attempt"].iloc[0]
    assert (attempt["status"], attempt["error"]) == ("sandbox_error", "bubblewrap vanished")
    assert attempt["cost_usd"] > 0  # the call was paid for, and its row says so
    assert result.spent_usd == pytest.approx(attempt["cost_usd"])
    assert [(e.status, e.error) for e in result.experiments] == [("error", "bubblewrap vanished")]


def test_a_bug_in_one_experiment_does_not_end_the_others(serve, monkeypatch, tmp_path):
    from koderz.engine import experiment

    real = experiment.program_of

    def buggy(problem, reply):
        if problem.tests.entry_point == "rev":
            raise RuntimeError("boom")
        return real(problem, reply)

    monkeypatch.setattr(experiment, "program_of", buggy)
    serve("openai", respond=ScriptedCoder([ADD, REV], fail_first=0))
    result = run_benchmark(
        worker="gpt-4o-mini", problems=[ADD, REV], data_dir=tmp_path, progress=False
    )
    outcome = {e.problem_id: (e.status, e.error) for e in result.experiments}
    assert outcome == {
        "Toy/add": ("stopped", ""),
        "Toy/rev": ("error", "internal error: RuntimeError: boom"),
    }


def test_a_failed_spec_is_tried_again_on_resume(servers, tmp_path):
    _, anthropic = servers
    anthropic.add(error_reply("anthropic", 401))  # the first spec call fails for good
    first = advised(tmp_path, reviewer=None)
    spec_rows = first.steps[first.steps["role"] == "spec"]
    assert list(spec_rows["status"]) == ["provider_error"]
    # An interrupted run: drop the last attempt and the end row, as if the process had died
    # during the last call.
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for f in (tmp_path / "steps").rglob("*.parquet"):
        table = pq.read_table(f)
        last = pc.and_(pc.equal(table["role"], "attempt"), pc.equal(table["iteration"], 3))
        keep = pc.and_(pc.not_equal(table["role"], "end"), pc.invert(last))
        pq.write_table(table.filter(keep), f)
    attempts_before = len(first.steps[first.steps["role"] == "attempt"])
    calls_before = len(anthropic.requests)
    again = advised(tmp_path, reviewer=None, run_id=first.run_id)
    assert len(anthropic.requests) > calls_before  # the spec was asked for again
    spec_rows = again.steps[again.steps["role"] == "spec"]
    assert list(spec_rows["status"]) == ["provider_error", "ok"]
    assert attempts_before >= 1


def test_a_spec_is_reused_only_for_the_same_prompt(servers, tmp_path):
    _, anthropic = servers
    advised(tmp_path, reviewer=None, reuse_spec=True)
    calls = len(anthropic.requests)
    changed = ADD.__class__(**{**ADD.__dict__, "prompt": ADD.prompt + "    # v2\n"})
    advised(tmp_path, reviewer=None, reuse_spec=True, problems=[changed])
    assert len(anthropic.requests) == calls + 1  # a new prompt gets a new spec


def test_waiting_for_a_call_slot_is_wait_s_not_latency(serve, monkeypatch, tmp_path):
    import contextlib
    import time

    from koderz import StepWriter, Strategy, run_experiment

    @contextlib.contextmanager
    def busy_slot(provider):
        time.sleep(0.3)  # as if another experiment's call held the slot this long
        yield

    serve("openai", respond=ScriptedCoder([ADD], fail_first=0))
    run_experiment(
        ADD,
        Strategy("s", worker="gpt-4o-mini", max_iterations=1),
        writer=StepWriter(tmp_path, "r1"),
        limiter=busy_slot,
    )
    row = load_steps(tmp_path).query("role == 'attempt'").iloc[0]
    assert row["wait_s"] >= 0.3
    # The wait and the call are apart, both inside the step.
    took = (row["finished_at"] - row["started_at"]).total_seconds()
    assert row["latency_s"] > 0 and row["latency_s"] + row["wait_s"] <= took + 1e-3
