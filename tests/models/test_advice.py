"""Advice on request and reasoning levels, through the real SDKs against local servers that
speak each provider's protocol as the SDKs define it."""

from __future__ import annotations

import pytest

from koderz.errors import ProviderError
from koderz.models import Advisor, GenerateConfig, get_model
from koderz.models.anthropic import ADVISOR_BETA, ADVISOR_TOOL, advisor_pair_problem
from koderz.records import Usage
from koderz.testing import Advice, Answer, error_reply


def test_a_claude_worker_gets_the_advisor_tool_and_each_sub_inference_is_its_own(serve):
    server = serve("anthropic", script=[Answer("def f(): pass", 1200, 300, advice=(Advice(
        "Handle the empty list first.", "claude-opus-4-8", 800, 500),))])  # fmt: skip
    config = GenerateConfig(advisor=Advisor("claude-opus-4-8", max_uses=2))
    got = get_model("claude-haiku-4-5").complete("write f", config=config)
    (request,) = server.requests
    assert request.headers["anthropic-beta"] == ADVISOR_BETA
    assert request.body["tools"] == [
        {"type": ADVISOR_TOOL, "name": "advisor", "model": "claude-opus-4-8", "max_uses": 2}
    ]
    # The worker's usage is the executor's alone; the advisor's tokens are a consultation.
    assert got.usage == Usage(1200, 300)
    (consulted,) = got.consultations
    assert (consulted.model, consulted.usage) == ("claude-opus-4-8", Usage(800, 500))
    assert consulted.advice == "Handle the empty list first."
    assert got.text == "def f(): pass"


def test_a_redacted_advice_is_counted_and_kept_unread(serve):
    serve("anthropic", script=[Answer("ok", 100, 20, advice=(Advice("", "claude-opus-4-8"),))])
    config = GenerateConfig(advisor=Advisor("claude-opus-4-8"))
    (consulted,) = get_model("claude-haiku-4-5").complete("x", config=config).consultations
    assert consulted.advice == "" and consulted.usage == Usage(800, 500)


@pytest.mark.parametrize(
    ("executor", "advisor", "ok"),
    [
        ("claude-haiku-4-5", "claude-opus-4-7", True),
        ("claude-sonnet-4-6", "claude-sonnet-4-6", True),
        ("claude-opus-4-7", "claude-sonnet-4-6", False),  # the advisor must be as capable
        ("claude-haiku-4-5", "claude-haiku-4-5", False),  # a Haiku advises nobody
        ("claude-sonnet-4-5", "claude-opus-4-7", False),  # not an executor the tool takes
    ],
)
def test_advisor_pairs_the_api_refuses_are_named_before_any_call(executor, advisor, ok):
    problem = advisor_pair_problem(executor, advisor)
    assert (problem is None) is ok
    if not ok:
        assert "on_failure" in problem


@pytest.mark.parametrize("protocol", ["openai", "ollama"])
def test_an_emulated_advisor_answers_the_workers_question(serve, protocol):
    worker_model = "gpt-4o-mini" if protocol == "openai" else "qwen2.5-coder:7b"
    worker = serve(protocol, script=[
        Answer("", 300, 20, tool_calls=(("advisor", {"question": "Sort first?"}),)),
        Answer("```python\ndef f(xs):\n    return sorted(xs)\n```", 400, 60),
    ])  # fmt: skip
    advisor = serve("anthropic", script=[Answer("Yes: sort, then scan pairs.", 250, 40)])
    config = GenerateConfig(advisor=Advisor("claude-sonnet-4-6", instructions="Advise."))
    got = get_model(worker_model).complete("write f", config=config)
    assert len(worker.requests) == 2 and len(advisor.requests) == 1
    first = worker.requests[0].body
    assert first["tools"][0]["function"]["name"] == "advisor"
    asked = advisor.requests[0].prompt
    assert "Sort first?" in asked and "write f" in asked and "Advise." in asked
    # The advice came back as the tool's result, and the worker went on.
    back = worker.requests[1].body["messages"]
    assert back[-1]["role"] == "tool" and back[-1]["content"] == "Yes: sort, then scan pairs."
    assert "sorted(xs)" in got.text
    assert got.usage == Usage(700, 80)  # both of the worker's steps, none of the advisor's
    (consulted,) = got.consultations
    assert (consulted.model, consulted.usage, consulted.question) == (
        "claude-sonnet-4-6",
        Usage(250, 40),
        "Sort first?",
    )


def test_past_max_uses_the_emulated_tool_says_no_more_advice(serve):
    again = Answer("", 10, 5, tool_calls=(("advisor", {"question": "again?"}),))
    worker = serve("openai", script=[again, again, Answer("done", 10, 5)])
    serve("anthropic", respond=lambda r: Answer("advice", 10, 5))
    config = GenerateConfig(advisor=Advisor("claude-sonnet-4-6", max_uses=1))
    got = get_model("gpt-4o-mini").complete("x", config=config)
    assert len(got.consultations) == 1
    assert "No more advice" in worker.requests[2].body["messages"][-1]["content"]


@pytest.mark.parametrize("protocol", ["openai", "ollama"])
def test_a_worker_whose_server_rejects_tools_is_told_to_use_on_failure(serve, protocol):
    worker_model = "gpt-4o-mini" if protocol == "openai" else "qwen2.5-coder:7b"
    message = "this model does not support tools"
    serve(protocol, respond=lambda r: error_reply(protocol, 400, message))
    config = GenerateConfig(advisor=Advisor("claude-sonnet-4-6"))
    with pytest.raises(ProviderError, match=r"cannot call tools .* Use --advice on_failure"):
        get_model(worker_model).complete("x", config=config)


def test_reasoning_reaches_openai_as_reasoning_effort(serve):
    server = serve("openai", script=[Answer("ok", 100, 300, reasoning_tokens=250)])
    got = get_model("gpt-5-mini").complete("x", reasoning="high")
    assert server.requests[0].body["reasoning_effort"] == "high"
    assert got.usage.reasoning_tokens == 250 and got.usage.output_tokens == 300
    assert got.notes == ()


@pytest.mark.parametrize(
    ("model", "thinking", "extra"),
    [
        # Extended thinking with a budget, on top of the answer's own max_tokens.
        ("claude-haiku-4-5", {"type": "enabled", "budget_tokens": 16384}, {"max_tokens": 17384}),
        # Adaptive thinking and an effort level on the newer models.
        ("claude-opus-4-7", {"type": "adaptive"}, {"output_config": {"effort": "high"}}),
    ],
)
def test_reasoning_reaches_anthropic_as_thinking(serve, model, thinking, extra):
    server = serve("anthropic", script=[Answer("ok", 100, 300, reasoning_tokens=200)])
    got = get_model(model).complete("x", reasoning="high", max_tokens=1000, temperature=0.2)
    body = server.requests[0].body
    assert body["thinking"] == thinking and "temperature" not in body
    for key, value in extra.items():
        assert body[key] == value
    assert got.usage.reasoning_tokens == 200
    assert got.notes == ("temperature left out: the API takes none with thinking",)


def test_reasoning_reaches_ollama_as_think(serve):
    server = serve("ollama", script=["ok", "ok"])
    get_model("qwen3:8b").complete("x", reasoning="medium")
    get_model("qwen3:8b").complete("x", reasoning="none")
    assert [r.body["think"] for r in server.requests] == ["medium", False]


def test_a_model_that_cannot_reason_ignores_the_setting_with_a_note(serve):
    server = serve("openai", script=["ok"])
    got = get_model("gpt-4o-mini").complete("x", reasoning="high")
    assert "reasoning_effort" not in server.requests[0].body
    assert got.notes == ("reasoning high ignored: gpt-4o-mini cannot reason",)
    # An Ollama model that cannot think is asked again without it.
    ollama = serve("ollama", script=[
        error_reply("ollama", 400, '"qwen2.5-coder:7b" does not support thinking'), "fine",
    ])  # fmt: skip
    got = get_model("qwen2.5-coder:7b").complete("x", reasoning="low")
    assert got.text == "fine" and "think" not in ollama.requests[1].body
    assert got.notes[0].startswith("reasoning low ignored: qwen2.5-coder:7b cannot think")
