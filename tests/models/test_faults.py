"""Faults every provider client must survive, driven through the real SDKs against local
servers that speak each provider's protocol: retried faults succeed on a later attempt,
final ones come back as a ProviderError saying what happened."""

from __future__ import annotations

import pytest

from koderz.errors import ProviderError
from koderz.models import get_model
from koderz.testing import Answer, Reply, error_reply

MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "ollama": "qwen2.5-coder:7b",
}
PROTOCOLS = sorted(MODELS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_rate_limit_honours_retry_after_then_succeeds(protocol, serve, fast_retry, sleeps):
    server = serve(protocol, script=[error_reply(protocol, 429, retry_after=2), "hello"])
    completion = get_model(MODELS[protocol], retry=fast_retry).complete("hi")
    assert completion.text == "hello"
    assert completion.attempts == 2
    assert len(server.requests) == 2
    # The backoff alone would be 0.01 s; the server asked for 2 s.
    assert sleeps.waits == [2.0]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_server_error_is_retried_with_backoff(protocol, serve, fast_retry, sleeps):
    serve(protocol, script=[error_reply(protocol, 500), error_reply(protocol, 502), "ok"])
    completion = get_model(MODELS[protocol], retry=fast_retry).complete("hi")
    assert (completion.text, completion.attempts) == ("ok", 3)
    assert sleeps.waits == [0.01, 0.02]  # exponential, no jitter in this policy


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_persistent_server_error_ends_as_typed_error(protocol, serve, fast_retry):
    server = serve(protocol, respond=lambda r: error_reply(protocol, 500))
    with pytest.raises(ProviderError) as info:
        get_model(MODELS[protocol], retry=fast_retry).complete("hi")
    err = info.value
    assert (err.kind, err.status, err.attempts, err.provider) == ("server", 500, 3, protocol)
    assert len(server.requests) == 3
    assert "HTTP 500" in str(err)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_auth_failure_is_not_retried(protocol, serve, fast_retry):
    server = serve(protocol, script=[error_reply(protocol, 401)])
    with pytest.raises(ProviderError) as info:
        get_model(MODELS[protocol], retry=fast_retry).complete("hi")
    assert info.value.kind == "auth"
    assert len(server.requests) == 1
    assert "key" in str(info.value)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_timeout_is_retried(protocol, serve, fast_retry):
    serve(protocol, script=[Reply(delay_s=3.0, body={}), "late but fine"])
    completion = get_model(MODELS[protocol], retry=fast_retry).complete("hi", timeout_s=0.5)
    assert (completion.text, completion.attempts) == ("late but fine", 2)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_timeouts_exhausted(protocol, serve, fast_retry):
    serve(protocol, respond=lambda r: Reply(delay_s=3.0, body={}))
    with pytest.raises(ProviderError) as info:
        get_model(MODELS[protocol], retry=fast_retry).complete("hi", timeout_s=0.3)
    assert info.value.kind == "timeout"
    assert info.value.attempts == 3


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_dropped_connection_is_retried(protocol, serve, fast_retry):
    serve(protocol, script=[Reply(drop=True), "ok"])
    completion = get_model(MODELS[protocol], retry=fast_retry).complete("hi")
    assert (completion.text, completion.attempts) == ("ok", 2)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_empty_answer_is_a_completion_not_a_crash(protocol, serve, fast_retry):
    serve(protocol, script=[Answer("", output_tokens=0)])
    completion = get_model(MODELS[protocol], retry=fast_retry).complete("hi")
    assert completion.text == ""
    assert completion.stop_reason == "empty"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_max_tokens_stop_reason(protocol, serve, fast_retry):
    serve(protocol, script=[Answer("def f(", stop="max_tokens")])
    completion = get_model(MODELS[protocol], retry=fast_retry).complete("hi", max_tokens=3)
    assert completion.stop_reason == "max_tokens"


def test_unreachable_endpoint_says_so(monkeypatch, fast_retry):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: refused
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    with pytest.raises(ProviderError) as info:
        get_model("gpt-4o-mini", retry=fast_retry).complete("hi")
    assert info.value.kind == "connection"
    assert info.value.attempts == 3
