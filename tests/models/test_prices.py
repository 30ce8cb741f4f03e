"""Cost from usage: hand-worked numbers, cache tokens included, per provider."""

from __future__ import annotations

import re

import pytest

from koderz.errors import ConfigError
from koderz.models.prices import (
    Price,
    cost_usd,
    list_price,
    load_prices,
    price_call,
    set_hardware_rate,
    set_price,
)
from koderz.records import Usage

M = 1_000_000


@pytest.mark.parametrize(
    ("model", "usage", "expected"),
    [
        # Claude Opus 4.5: $5 in, $25 out, $0.50 cache read, $6.25 cache write (per Mtok).
        ("claude-opus-4-5", Usage(M, 0), 5.0),
        ("claude-opus-4-5", Usage(0, M), 25.0),
        # 300 uncached x 5 + 600 read x 0.5 + 100 written x 6.25 + 200 out x 25 = 7425 / 1e6
        ("claude-opus-4-5", Usage(1000, 200, 600, 100), 0.007425),
        # Claude Opus 4 keeps the old $15 / $75.
        ("claude-opus-4", Usage(M, M), 90.0),
        # Claude Haiku 4.5: $1 / $5 / $0.10 read: 500x1 + 500x0.1 + 1000x5 = 5550 / 1e6
        ("claude-haiku-4-5", Usage(1000, 1000, 500), 0.00555),
        # Sonnet 4: 3 / 15 / 0.3 read / 3.75 write: 1000x3 + 0 + 0 + 0 = 0.003
        ("claude-sonnet-4", Usage(1000, 0), 0.003),
        # gpt-4o-mini: 0.15 / 0.60 / 0.075 cached: 400x0.15 + 600x0.075 + 200x0.6 = 225 / 1e6
        ("gpt-4o-mini", Usage(1000, 200, 600), 0.000225),
        # gpt-4o: 2.5 / 10 / 1.25 cached: all cached 1000x1.25 + 100x10 = 2250 / 1e6
        ("gpt-4o", Usage(1000, 100, 1000), 0.00225),
        # gpt-4.1-nano: 0.10 / 0.40
        ("gpt-4.1-nano", Usage(M, M), 0.5),
        # gpt-5-mini: 0.25 / 2.00 / 0.025 cached: 0.5 M uncached + 0.5 M cached
        ("gpt-5-mini", Usage(M, 0, M // 2), 0.1375),
        # Local models are free in tokens, whatever the counts.
        ("qwen2.5-coder:32b", Usage(M, M), 0.0),
        ("smollm2", Usage(M, M), 0.0),
    ],
)
def test_cost_usd(model, usage, expected):
    assert cost_usd(model, usage) == pytest.approx(expected, rel=1e-12)


def test_list_price_is_the_current_one():
    # Opus 4.5 is $5/$25, not the $15/$75 of older tables.
    p = list_price("claude-opus-4-5")
    assert (p.input_usd_per_mtok, p.output_usd_per_mtok) == (5.0, 25.0)
    assert p.source.startswith("genai-prices ")


def test_price_source_is_recorded():
    cost = price_call("gpt-4o-mini", Usage(10, 10))
    assert cost.source.startswith("genai-prices ")


def test_python_override_beats_the_database():
    set_price(
        "gpt-4o-mini", input_usd_per_mtok=1.0, output_usd_per_mtok=2.0, cache_read_usd_per_mtok=0.5
    )
    # 400 x 1 + 600 x 0.5 + 200 x 2 = 1100 / 1e6
    cost = price_call("gpt-4o-mini", Usage(1000, 200, 600))
    assert cost.usd == pytest.approx(0.0011)
    assert cost.source == "override"


def test_toml_overrides_and_hardware_rate(tmp_path):
    f = tmp_path / "prices.toml"
    f.write_text(
        '[models."qwen2.5-coder:32b"]\n'
        "input_usd_per_mtok = 0.2\noutput_usd_per_mtok = 0.6\n"
        "[local]\nhardware_usd_per_hour = 7.2\n"
    )
    load_prices(f)
    cost = price_call("qwen2.5-coder:32b", Usage(M, M), latency_s=10.0)
    assert cost.usd == pytest.approx(0.8)
    assert cost.hardware_usd == pytest.approx(0.02)  # 10 s at $7.20/h
    assert cost.source == "override (prices.toml)"


def test_hardware_rate_never_touches_api_models():
    set_hardware_rate(100.0)
    assert price_call("gpt-4o-mini", Usage(0, 0), latency_s=3600).hardware_usd == 0.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "not valid TOML"),
        (
            '[models."x"]\ninput_usd_per_mtok = "cheap"\noutput_usd_per_mtok = 1\n',
            "must be a number",
        ),
        ("[local]\nhardware_usd_per_hour = -1\n", ">= 0"),
        (
            '[models."x"]\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 1\n'
            'cache_read_usd_per_mtok = "cheap"\n',
            "cache_read_usd_per_mtok must be a number",
        ),
        (
            '[models."x"]\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 1\n'
            "cache_write_usd_per_mtok = -5\n",
            ">= 0",
        ),
        ("local = 3\n", "[local] must be a table"),
    ],
)
def test_bad_price_files_say_what_is_wrong(tmp_path, text, message):
    f = tmp_path / "p.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_prices(f)


def test_model_without_a_price_says_how_to_give_one(monkeypatch):
    from koderz.models import registry

    monkeypatch.setattr(registry, "_models", dict(registry._models))
    registry.register_model("mystery", provider="openai", tier="small_frontier")
    with pytest.raises(ConfigError, match="set_price"):
        price_call("mystery", Usage(1, 1))


def test_price_cost_defaults_cache_rates_to_input():
    p = Price(2.0, 4.0)
    assert p.cost(Usage(M, M, M // 2, M // 4)) == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("price", "tokens", "expected"),
    [
        # $2 in / $4 out, cache rates None = the input rate:
        # 0.25 M uncached x 2 + 0.5 M read x 2 + 0.25 M written x 2 + 1 M out x 4 = $6
        (Price(2.0, 4.0), ([M], [M], [M // 2], [M // 4]), [6.0]),
        # Opus 4.5 rates: 300 x 5 + 600 x 0.5 + 100 x 6.25 + 200 x 25 = 7425 / 1e6
        (Price(5.0, 25.0, 0.5, 6.25), ([1000], [200], [600], [100]), [0.007425]),
        # Cache reads explicitly free (0.0 is a price, not "unknown"); writes at the input
        # rate: 0 uncached + M read x 0 + 0 = $0, then 0.5 M written x 1 + 0.5 M out x 2 = $1.5
        (Price(1.0, 2.0, 0.0, None), ([M, M // 2], [0, M // 2], [M, 0], [0, M // 2]), [0.0, 1.5]),
        # Sonnet 4 rates, two calls: 1000 x 3 + 100 x 15 = 4500; 1000 x 0.3 + 1000 x 3.75 = 4050
        (
            Price(3.0, 15.0, 0.3, 3.75),
            ([1000, 2000], [100, 0], [0, 1000], [0, 1000]),
            [0.0045, 0.00405],
        ),
    ],
)
def test_cost_many_by_hand(price, tokens, expected):
    assert price.cost_many(*tokens).tolist() == pytest.approx(expected, rel=1e-12)
    for i, want in enumerate(expected):  # one call at a time: the same arithmetic
        assert price.cost(Usage(*(int(t[i]) for t in tokens))) == pytest.approx(want, rel=1e-12)


def test_a_bad_prices_file_from_the_environment_is_never_silently_ignored(tmp_path, monkeypatch):
    from koderz.models import prices

    bad = tmp_path / "bad.toml"
    bad.write_text("[[[")
    monkeypatch.setenv("KODERZ_PRICES", str(bad))
    monkeypatch.setattr(prices, "_env_loaded", False)
    for _ in range(2):  # not just the first time
        with pytest.raises(ConfigError, match="not valid TOML"):
            price_call("gpt-4o-mini", Usage(1, 1))


@pytest.mark.parametrize("what", ["missing", "a folder"])
def test_a_price_file_that_cannot_be_read_is_a_config_error(what, tmp_path):
    path = tmp_path / "none.toml" if what == "missing" else tmp_path
    with pytest.raises(ConfigError, match=f"Cannot read the price file {path}"):
        load_prices(path)
