"""Live calls to the real APIs: skipped unless the provider's key is set. They spend a
fraction of a cent each."""

from __future__ import annotations

import os

import pytest

from koderz.models import check_model

LIVE = [
    ("claude-haiku-4-5", "ANTHROPIC_API_KEY"),
    ("gpt-4o-mini", "OPENAI_API_KEY"),
]


@pytest.mark.live
@pytest.mark.parametrize(("model", "key"), LIVE)
def test_live_check(model, key):
    if not os.environ.get(key):
        pytest.skip(f"{key} is not set")
    row = check_model(model)
    assert row["ok"], row["error"]
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    assert 0 < row["cost_usd"] < 0.01
