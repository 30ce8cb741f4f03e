"""The embedded SmolLM2-135M-Instruct answers a real prompt in-process (CI installs the
'embedded' extra)."""

from __future__ import annotations

import pytest

from koderz.models import get_model
from koderz.models.prices import price_call

pytest.importorskip("llama_cpp", reason="needs the 'embedded' extra")


def test_smollm2_answers_a_real_prompt():
    model = get_model("smollm2")
    c = model.complete(
        "Write a Python function add(a, b) that returns their sum.", max_tokens=64, temperature=0
    )
    assert (c.provider, model.tier) == ("llamacpp", "local")
    assert c.text.strip()
    assert c.usage.input_tokens > 10 and 0 < c.usage.output_tokens <= 64
    assert c.stop_reason in ("end", "max_tokens")
    assert price_call(model.spec, c.usage).usd == 0.0


def test_same_model_is_loaded_once():
    from koderz import models

    get_model("smollm2").complete("hi", max_tokens=2)
    get_model("smollm2").complete("hi", max_tokens=2)
    assert sum(1 for k in models._clients if k[0] == "llamacpp") == 1
