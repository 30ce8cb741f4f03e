"""The OpenAI client: usage parsing (cached tokens inside prompt_tokens), cost, request shape."""

from __future__ import annotations

import pytest

from koderz.errors import MissingKeyError
from koderz.models import get_model
from koderz.models.prices import cost_usd
from koderz.records import Usage
from koderz.testing import Answer, error_reply


def test_usage_counts_cached_tokens_inside_input(serve):
    serve("openai", script=[Answer("x = 1", 1000, 200, cache_read_tokens=600)])
    c = get_model("gpt-4o-mini").complete("hi")
    assert c.usage == Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=600)
    assert (c.provider, c.model, c.stop_reason) == ("openai", "gpt-4o-mini", "end")
    # 400 uncached x $0.15 + 600 cached x $0.075 + 200 out x $0.60, per million.
    assert cost_usd(c.model, c.usage) == pytest.approx(0.000225)


def test_request_shape(serve):
    server = serve("openai")
    get_model("gpt-4o-mini").complete(
        "hi", system="be brief", max_tokens=50, temperature=0.2, seed=7
    )
    body = server.requests[0].body
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert (body["max_completion_tokens"], body["temperature"], body["seed"]) == (50, 0.2, 7)
    assert server.requests[0].headers["authorization"] == "Bearer sk-local-test"


def test_reasoning_models_get_no_temperature(serve):
    server = serve("openai")
    get_model("gpt-5-mini").complete("hi", temperature=0.2)
    assert "temperature" not in server.requests[0].body


def test_compatible_server_by_url_needs_no_key(serve, monkeypatch):
    server = serve("openai", script=["local answer"])
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    model = get_model(f"qwen2.5-coder@{server.url}")
    c = model.complete("hi", max_tokens=20)
    assert (c.text, model.tier) == ("local answer", "local")
    body = server.requests[0].body
    assert (body["model"], body["max_tokens"]) == ("qwen2.5-coder", 20)
    assert cost_usd(model.spec, c.usage) == 0.0


def test_refusal(serve):
    serve("openai", script=[Answer("I can't help with that.", stop="refusal")])
    c = get_model("gpt-4o-mini").complete("hi")
    assert (c.text, c.stop_reason) == ("", "refusal")


def test_context_overflow_is_a_stop_reason(serve, fast_retry):
    reply = error_reply("openai", 400, "This model's maximum context length is 128000 tokens")
    serve("openai", script=[reply])
    c = get_model("gpt-4o-mini", retry=fast_retry).complete("hi")
    assert (c.text, c.stop_reason) == ("", "context_overflow")


def test_missing_key_names_the_variable(tmp_cwd):
    with pytest.raises(MissingKeyError, match="set the OPENAI_API_KEY environment variable"):
        get_model("gpt-4o-mini").complete("hi")


def test_key_from_dotenv_file(serve, monkeypatch, tmp_cwd):
    from koderz.redaction import read_dotenv

    server = serve("openai")
    monkeypatch.delenv("OPENAI_API_KEY")
    (tmp_cwd / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv\n")
    read_dotenv.cache_clear()
    try:
        get_model("gpt-4o-mini").complete("hi")
    finally:
        read_dotenv.cache_clear()
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-dotenv"


def test_one_client_per_endpoint_is_reused(serve):
    from koderz import models

    serve("openai")
    get_model("gpt-4o-mini").complete("a")
    get_model("gpt-4.1-nano").complete("b")
    assert len(models._clients) == 1
