"""Advice when the worker asks for it, after a failure, or on a schedule; and reasoning levels:
whole runs through the real SDKs against local protocol servers."""

from __future__ import annotations

import pytest

from koderz import Strategy, experiment_story
from koderz.cli import main
from koderz.engine import prompts
from koderz.engine.benchmark import run_benchmark
from koderz.errors import ConfigError
from koderz.models.anthropic import ADVISOR_BETA
from koderz.models.prices import cost_usd
from koderz.records import Usage
from koderz.testing import Advice, Answer, Recorded, ScriptedCoder
from tests.engine_helpers import ADD

HAIKU, OPUS = "claude-haiku-4-5", "claude-opus-4-8"
CODE = f"```python\n{ADD.prompt}{ADD.canonical_solution}```"
WRONG = f"```python\n{ADD.prompt}    return None\n```"


def run(tmp_path, **settings):
    strategy = Strategy("s", **{"max_iterations": 3, **settings})
    return run_benchmark(strategies=[strategy], problems=[ADD], data_dir=tmp_path, progress=False)


def test_a_haiku_worker_asks_an_opus_advisor_through_the_advisor_tool(serve, tmp_path):
    server = serve(
        "anthropic",
        script=[Answer(CODE, 1500, 200, advice=(Advice("Return a + b.", OPUS, 800, 500),))],
    )
    result = run(tmp_path, worker=HAIKU, reviewer=OPUS, advice="on_request", max_advice=2)
    (request,) = server.requests
    assert request.headers["anthropic-beta"] == ADVISOR_BETA
    assert request.body["tools"][0] == {
        "type": "advisor_20260301",
        "name": "advisor",
        "model": OPUS,
        "max_uses": 2,
    }
    steps = result.steps
    # The advice came during the attempt's call: its row follows the attempt's start.
    assert list(steps["role"]) == ["attempt", "advice", "end"]
    attempt, advice = steps.iloc[0], steps.iloc[1]
    assert (advice["model"], advice["tier"], advice["input_tokens"], advice["output_tokens"]) == (
        OPUS,
        "frontier",
        800,
        500,
    )
    assert advice["cost_usd"] == pytest.approx(cost_usd(OPUS, Usage(800, 500)))
    assert advice["guidance"] == "Return a + b."
    # The worker's row has only its own tokens, at its own price.
    assert (attempt["model"], attempt["input_tokens"], attempt["output_tokens"]) == (
        HAIKU,
        1500,
        200,
    )
    assert attempt["cost_usd"] == pytest.approx(cost_usd(HAIKU, Usage(1500, 200)))
    assert result.spent_usd == pytest.approx(advice["cost_usd"] + attempt["cost_usd"])
    assert set(steps["advice"]) == {"on_request"}
    story = experiment_story(steps, attempt["experiment_id"])
    assert (
        "ADVICE asked for during attempt 1 - claude-opus-4-8 (frontier): 800 in / 500 out" in story
    )
    assert "Return a + b." in story


def test_a_pair_the_advisor_tool_refuses_is_named_before_any_call(serve, tmp_path):
    server = serve("anthropic", script=[CODE])
    with pytest.raises(ConfigError, match="for claude-haiku-4-5 it takes"):
        run(tmp_path, worker=HAIKU, reviewer=HAIKU, advice="on_request")
    assert server.requests == []


def test_an_openai_worker_calls_the_emulated_advisor_once(serve, tmp_path):
    worker = serve("openai", script=[
        Answer("", 300, 20, tool_calls=(("advisor", {"question": "Is it just a + b?"}),)),
        Answer(CODE, 400, 60),
    ])  # fmt: skip
    advisor = serve("anthropic", script=[Answer("Yes: return a + b.", 250, 40)])
    result = run(tmp_path, worker="gpt-4o-mini", reviewer="claude-sonnet-4-6", advice="on_request")
    assert len(worker.requests) == 2 and len(advisor.requests) == 1
    assert prompts.ADVISOR_SYSTEM in advisor.requests[0].prompt
    assert "Is it just a + b?" in advisor.requests[0].prompt
    assert worker.requests[1].body["messages"][-1]["content"] == "Yes: return a + b."
    steps = result.steps
    assert list(steps["role"]) == ["attempt", "advice", "end"]
    assert steps.iloc[1]["prompt"] == "Is it just a + b?"
    assert (steps.iloc[0]["input_tokens"], steps.iloc[0]["output_tokens"]) == (700, 80)
    assert steps.iloc[-1]["passed"]


def reviews(server) -> list[Recorded]:
    return [r for r in server.requests if prompts.REVIEW_SYSTEM in r.prompt]


def test_on_failure_consults_only_after_a_failed_attempt(serve, tmp_path):
    coder = ScriptedCoder([ADD], fail_first=1)
    serve("ollama", respond=coder)
    advisor = serve("anthropic", respond=coder)
    # Fails, review, passes: one consultation, after the first attempt.
    result = run(tmp_path / "a", worker="qwen2.5-coder:7b", reviewer=OPUS, advice="on_failure")
    assert list(result.steps["role"]) == ["attempt", "checkpoint", "attempt", "end"]
    assert len(reviews(advisor)) == 1
    # Passing at once: the advisor is never called.
    coder.attempts.clear()
    coder.fail_first = 0
    again = run(tmp_path / "b", worker="qwen2.5-coder:7b", reviewer=OPUS, advice="on_failure")
    assert list(again.steps["role"]) == ["attempt", "end"] and len(reviews(advisor)) == 1


def test_max_advice_caps_the_consultations(serve, tmp_path):
    coder = ScriptedCoder([ADD], fail_first=9)
    serve("ollama", respond=coder)
    advisor = serve("anthropic", respond=coder)
    steps = run(
        tmp_path,
        worker="qwen2.5-coder:7b",
        reviewer=OPUS,
        advice="on_failure",
        max_advice=1,
        max_iterations=4,
    ).steps
    assert list(steps["role"]).count("checkpoint") == 1 and len(reviews(advisor)) == 1


def test_reasoning_reaches_every_role_s_provider(serve, tmp_path, capsys):
    from koderz.problems import load_problems

    p0 = load_problems("humaneval")["HumanEval/0"]
    right = f"```python\n{p0.prompt}{p0.canonical_solution}```"
    worker = serve("openai", respond=lambda r: Answer(right, 100, 50, reasoning_tokens=30))
    spec = serve("anthropic", respond=lambda r: Answer("- add them", 100, 50, reasoning_tokens=20))
    argv = ["run", "--problem", "HumanEval/0", "--worker", "gpt-5-mini", "--spec-model", HAIKU]
    argv += ["--reasoning", "high", "--data-dir", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    assert worker.requests[0].body["reasoning_effort"] == "high"
    assert spec.requests[0].body["thinking"] == {"type": "enabled", "budget_tokens": 16384}
    from koderz.store import load_steps

    steps = load_steps(tmp_path)
    assert set(steps["reasoning"]) == {"all=high"}
    assert list(steps["reasoning_tokens"].dropna()) == [20, 30]


def test_a_model_that_cannot_reason_runs_on_with_a_note(serve, tmp_path):
    serve("openai", script=[CODE])
    steps = run(tmp_path, worker="gpt-4o-mini", reasoning={"worker": "high"}).steps
    attempt = steps[steps["role"] == "attempt"].iloc[0]
    assert attempt["status"] != "provider_error" and attempt["passed"]
    assert attempt["notes"] == "reasoning high ignored: gpt-4o-mini cannot reason"


def test_the_presets_include_advice_on_request(capsys):
    assert main(["strategies"]) == 0
    printed = capsys.readouterr().out
    assert 'advice = "on_request"' in printed
