"""The Ollama client: prompt_eval_count/eval_count, local (free) pricing, helpful errors."""

from __future__ import annotations

import pytest

from koderz.errors import ProviderError
from koderz.models import get_model
from koderz.models.prices import price_call, set_hardware_rate
from koderz.records import Usage
from koderz.testing import Answer, Reply


def test_usage_and_free_tokens(serve):
    server = serve("ollama", script=[Answer("def f(): ...", 321, 45)])
    model = get_model("qwen2.5-coder:32b")
    c = model.complete("hi", temperature=0.0, seed=3, max_tokens=99)
    assert c.usage == Usage(input_tokens=321, output_tokens=45)
    assert (model.tier, c.provider) == ("local", "ollama")
    body = server.requests[0].body
    assert server.requests[0].path == "/api/chat"
    assert body["options"] == {"num_predict": 99, "temperature": 0.0, "seed": 3}
    cost = price_call(model.spec, c.usage, latency_s=c.latency_s)
    assert (cost.usd, cost.hardware_usd, cost.source) == (0.0, 0.0, "local (free)")


def test_hardware_rate_prices_wall_time_apart():
    set_hardware_rate(3.6)  # $3.60 an hour = $0.001 a second
    cost = price_call("codellama:70b", Usage(100, 100), latency_s=2.0)
    assert cost.usd == 0.0
    assert cost.hardware_usd == pytest.approx(0.002)
    assert "hardware $3.6/h" in cost.source


def test_unknown_model_says_pull(serve, fast_retry):
    serve("ollama", script=[Reply(404, {"error": "model 'x:1b' not found"})])
    with pytest.raises(ProviderError, match="ollama pull x:1b") as info:
        get_model("x:1b", retry=fast_retry).complete("hi")
    assert info.value.kind == "not_found"


def test_no_server_says_how_to_start_one(monkeypatch, fast_retry):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    with pytest.raises(ProviderError, match="ollama serve") as info:
        get_model("qwen2.5-coder:7b", retry=fast_retry).complete("hi")
    assert info.value.kind == "connection"
