"""The Anthropic client: cache tokens reported beside input_tokens are counted inside it."""

from __future__ import annotations

import pytest

from koderz.errors import MissingKeyError
from koderz.models import get_model
from koderz.models.prices import cost_usd
from koderz.records import Usage
from koderz.testing import Answer, error_reply


def test_usage_adds_cache_tokens_into_input(serve):
    server = serve(
        "anthropic",
        script=[Answer("ok", 1000, 200, cache_read_tokens=600, cache_write_tokens=100)],
    )
    c = get_model("claude-opus-4-8").complete("hi")
    # The wire said input_tokens=300 beside 600 read and 100 written.
    assert server.requests[0].path == "/v1/messages"
    assert c.usage == Usage(1000, 200, cache_read_tokens=600, cache_write_tokens=100)
    # 300 x $5 + 600 x $0.50 + 100 x $6.25 + 200 x $25, per million tokens.
    assert cost_usd("claude-opus-4-8", c.usage) == pytest.approx(0.007425)


def test_system_prompt_and_cache_control(serve):
    server = serve("anthropic")
    get_model("claude-sonnet-4-5").complete(
        "hi", system="spec", cache_prompt=True, max_tokens=64, temperature=0.3
    )
    body = server.requests[0].body
    assert body["temperature"] == 0.3
    assert body["system"] == [
        {"type": "text", "text": "spec", "cache_control": {"type": "ephemeral"}}
    ]
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["max_tokens"] == 64
    headers = server.requests[0].headers
    assert (
        "sk-ant-local-test"
        in (headers.get("x-api-key", ""), headers.get("authorization", ""))[
            "x-api-key" not in headers
        ]
    )


def test_overloaded_is_retried(serve, fast_retry):
    serve("anthropic", script=[error_reply("anthropic", 529), "ok"])
    c = get_model("claude-haiku-4-5", retry=fast_retry).complete("hi")
    assert (c.text, c.attempts) == ("ok", 2)


def test_prompt_too_long_is_a_stop_reason(serve, fast_retry):
    serve("anthropic", script=[error_reply("anthropic", 400, "prompt is too long: 250000 tokens")])
    c = get_model("claude-haiku-4-5", retry=fast_retry).complete("hi")
    assert c.stop_reason == "context_overflow"


def test_missing_key(tmp_cwd):
    with pytest.raises(MissingKeyError, match="ANTHROPIC_API_KEY"):
        get_model("claude-haiku-4-5").complete("hi")
