from __future__ import annotations

import pytest

from koderz.errors import ConfigError, UnknownModelError
from koderz.models.registry import TIERS, known_models, resolve_model

REQUIRED = {
    "claude-opus-4-5": "frontier",
    "claude-sonnet-4-5": "frontier",
    "claude-opus-4": "frontier",
    "claude-sonnet-4": "frontier",
    "claude-haiku-4-5": "small_frontier",
    "gpt-4o": "frontier",
    "gpt-4o-mini": "small_frontier",
    "gpt-4.1": "frontier",
    "gpt-4.1-mini": "small_frontier",
    "gpt-4.1-nano": "small_frontier",
    "gpt-5-mini": "small_frontier",
    "gpt-5-nano": "small_frontier",
    "smollm2": "local",
}


@pytest.mark.parametrize(("name", "tier"), sorted(REQUIRED.items()))
def test_required_models_and_tiers(name, tier):
    assert resolve_model(name).tier == tier


def test_every_known_model_has_a_valid_tier():
    assert {m.tier for m in known_models()} <= set(TIERS)


@pytest.mark.parametrize("name", ["qwen2.5-coder:32b", "codellama:70b", "llama3:latest"])
def test_ollama_names(name):
    spec = resolve_model(name)
    assert (spec.provider, spec.tier, spec.api_model) == ("ollama", "local", name)


def test_gguf_path(tmp_path):
    f = tmp_path / "tiny.gguf"
    f.write_bytes(b"GGUF")
    spec = resolve_model(str(f))
    assert (spec.provider, spec.tier, spec.api_model) == ("llamacpp", "local", str(f))


def test_missing_gguf_path():
    with pytest.raises(ConfigError, match="GGUF file not found"):
        resolve_model("/nowhere/model.gguf")


def test_openai_compatible_server():
    spec = resolve_model("qwen2.5-coder@http://127.0.0.1:8000/v1")
    assert (spec.provider, spec.tier, spec.api_model, spec.base_url) == (
        "openai",
        "local",
        "qwen2.5-coder",
        "http://127.0.0.1:8000/v1",
    )


def test_unknown_model_suggests_closest_names():
    with pytest.raises(UnknownModelError) as info:
        resolve_model("claude-opus-45")
    assert "claude-opus-4-5" in info.value.suggestions
    assert "claude-opus-4-5" in str(info.value)
    assert isinstance(info.value, KeyError)


# --------------------------------------------------------------------------- cutoffs


def test_registered_cutoffs_are_dates_before_today():
    import datetime as dt

    dated = [m for m in known_models() if m.cutoff]
    assert len(dated) > 20
    for m in dated:
        assert dt.date.fromisoformat(m.cutoff) < dt.date.today(), m.name


def test_a_cutoff_is_kept_where_its_provider_publishes_none():
    from koderz.models.registry import model_cutoffs

    # Local models and models whose training data cutoff is not published have none.
    found = model_cutoffs(["smollm2", "qwen2.5-coder:7b", "claude-haiku-5-5", "nope@http://x"])
    assert set(found.values()) == {None}


def test_the_cutoffs_page_lists_the_registry():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "models.md").read_text()
    for m in known_models():
        if m.cutoff:
            assert f"| `{m.name}` | {m.cutoff} |" in page, m.name


def test_given_cutoffs_win_and_must_be_dates():
    from koderz.models.registry import model_cutoffs, register_model

    assert model_cutoffs(["gpt-4o"], {"gpt-4o": "2024-01-31"}) == {"gpt-4o": "2024-01-31"}
    with pytest.raises(ConfigError, match=r"The cutoff of gpt-4o '2024-13' is not a date"):
        model_cutoffs(["gpt-4o"], {"gpt-4o": "2024-13"})
    with pytest.raises(ConfigError, match="The cutoff of mine 'soon' is not a date"):
        register_model("mine", provider="ollama", tier="local", cutoff="soon")
