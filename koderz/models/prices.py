"""Usage -> dollars, cache-aware.

Prices come from the maintained ``genai-prices`` database (its bundled snapshot; nothing is
fetched at run time). A user can override or add prices, from Python with :func:`set_price`
or from a TOML file with :func:`load_prices` (also read from ``$KODERZ_PRICES`` on first
use)::

    [models."gpt-4o-mini"]            # override a known model
    input_usd_per_mtok = 0.15
    output_usd_per_mtok = 0.60
    cache_read_usd_per_mtok = 0.075   # optional; defaults to the input price

    [local]
    hardware_usd_per_hour = 1.20      # price local wall time; default 0 ("local is free")

Local models cost $0 in tokens. With a hardware rate their wall time is priced *apart*
(:attr:`Cost.hardware_usd`), so "local is free" stays a visible assumption. Every
:class:`Cost` says which source priced it.

The hardware cost of a call is its ``latency_s`` at the rate. For the embedded model that is
the time llama.cpp spent on the call, measured in its worker process, so waiting for the
model is not charged. For a local server (Ollama, ``NAME@URL``) it is the wall time of the
request, retries and the server's queue included: calls in flight at once on one machine
each count their own wall time, so with more than one at a time (Ollama's default limit is
4) it is an upper bound; run with ``--max-in-flight ollama=1`` when it must be exact.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from koderz.errors import ConfigError, read_toml
from koderz.models.registry import ModelSpec, resolve_model
from koderz.records import Usage

__all__ = [
    "Cost",
    "Price",
    "cost_usd",
    "hardware_rate",
    "list_price",
    "load_prices",
    "price_call",
    "reset_prices",
    "set_hardware_rate",
    "set_price",
]

_MTOK = 1_000_000


@dataclass(frozen=True)
class Price:
    """List prices of one model, in US dollars per million tokens."""

    input_usd_per_mtok: float
    """Uncached prompt tokens."""
    output_usd_per_mtok: float
    """Generated tokens."""
    cache_read_usd_per_mtok: float | None = None
    """Prompt tokens read from the cache; None means the input price."""
    cache_write_usd_per_mtok: float | None = None
    """Prompt tokens written to the cache; None means the input price."""
    source: str = ""
    """Where the price comes from, e.g. ``genai-prices 0.2.3``."""

    def cost(self, usage: Usage) -> float:
        """Dollars for ``usage`` at these prices (``input_tokens`` includes cache tokens)."""
        return float(
            self.cost_many(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
            )
        )

    def cost_many(
        self,
        input_tokens: npt.ArrayLike,
        output_tokens: npt.ArrayLike,
        cache_read_tokens: npt.ArrayLike = 0,
        cache_write_tokens: npt.ArrayLike = 0,
    ) -> npt.NDArray[np.float64]:
        """Dollars for many calls at once, one per element (the arithmetic of :meth:`cost`).

        ``input_tokens`` includes the cache tokens; a cache rate that is None is the input
        rate.

        Examples:
            >>> p = Price(5.0, 25.0, cache_read_usd_per_mtok=0.5)  # cache writes at $5
            >>> p.cost_many([1000, 1000], [200, 0], [600, 0], [100, 1000]).round(6).tolist()
            [0.0073, 0.005]
        """
        inp, out, read, write = (
            np.asarray(t, dtype=np.float64)
            for t in (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        )
        read_rate = self.cache_read_usd_per_mtok
        write_rate = self.cache_write_usd_per_mtok
        return np.asarray(
            (
                (inp - read - write) * self.input_usd_per_mtok
                + read * (self.input_usd_per_mtok if read_rate is None else read_rate)
                + write * (self.input_usd_per_mtok if write_rate is None else write_rate)
                + out * self.output_usd_per_mtok
            )
            / _MTOK,
            dtype=np.float64,
        )


@dataclass(frozen=True)
class Cost:
    """What one call cost."""

    usd: float
    """Token cost in dollars (0 for local models)."""
    hardware_usd: float
    """Local wall time priced at the user's hardware rate (0 unless a rate was given)."""
    source: str
    """Which price source and version priced it."""


_lock = threading.Lock()
_overrides: dict[str, Price] = {}
_hardware_usd_per_hour = 0.0
_env_loaded = False


def set_price(
    model: str,
    *,
    input_usd_per_mtok: float,
    output_usd_per_mtok: float,
    cache_read_usd_per_mtok: float | None = None,
    cache_write_usd_per_mtok: float | None = None,
    source: str = "override",
) -> Price:
    """Override (or add) the price of a model, in dollars per million tokens.

    Examples:
        >>> _ = set_price("qwen2.5-coder:32b", input_usd_per_mtok=0.2, output_usd_per_mtok=0.6)
        >>> cost_usd("qwen2.5-coder:32b", Usage(input_tokens=1_000_000, output_tokens=500_000))
        0.5
        >>> reset_prices()
    """
    for label, value in (
        ("input", input_usd_per_mtok),
        ("output", output_usd_per_mtok),
        ("cache read", 0 if cache_read_usd_per_mtok is None else cache_read_usd_per_mtok),
        ("cache write", 0 if cache_write_usd_per_mtok is None else cache_write_usd_per_mtok),
    ):
        if value is None or value < 0:
            raise ConfigError(f"The {label} price of {model!r} must be a number >= 0.")
    price = Price(
        float(input_usd_per_mtok),
        float(output_usd_per_mtok),
        None if cache_read_usd_per_mtok is None else float(cache_read_usd_per_mtok),
        None if cache_write_usd_per_mtok is None else float(cache_write_usd_per_mtok),
        source,
    )
    with _lock:
        _overrides[model] = price
    return price


def set_hardware_rate(usd_per_hour: float) -> None:
    """Price the wall time of local model calls at ``usd_per_hour`` (0 = local is free)."""
    global _hardware_usd_per_hour
    if usd_per_hour < 0:
        raise ConfigError("The hardware rate must be >= 0 dollars per hour.")
    with _lock:
        _hardware_usd_per_hour = float(usd_per_hour)


def hardware_rate() -> float:
    """The local hardware rate in dollars per hour (0 unless one was set)."""
    _load_env_file()
    return _hardware_usd_per_hour


def load_prices(path: str | os.PathLike[str]) -> None:
    """Read price overrides and the local hardware rate from a TOML file (see module doc)."""
    p = Path(path)
    data = read_toml(p, "price file")
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f'{p}: [models] must be a table of [models."NAME"] tables.')
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{p}: models.{name} must be a table.")
        set_price(
            name,
            input_usd_per_mtok=_number(entry, "input_usd_per_mtok", p, name),
            output_usd_per_mtok=_number(entry, "output_usd_per_mtok", p, name),
            cache_read_usd_per_mtok=_number(entry, "cache_read_usd_per_mtok", p, name, None),
            cache_write_usd_per_mtok=_number(entry, "cache_write_usd_per_mtok", p, name, None),
            source=f"override ({p.name})",
        )
    local = data.get("local", {})
    if not isinstance(local, dict):
        raise ConfigError(f"{p}: [local] must be a table, e.g. [local] hardware_usd_per_hour = 1.2")
    if "hardware_usd_per_hour" in local:
        set_hardware_rate(_number(local, "hardware_usd_per_hour", p, "local"))


_REQUIRED = object()


def _number(
    table: dict[str, Any], key: str, path: Path, where: str, default: Any = _REQUIRED
) -> Any:
    """``table[key]`` as dollars >= 0; ``default`` when absent, if one is given."""
    if key not in table and default is not _REQUIRED:
        return default
    value = table.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{path}: {where}.{key} must be a number of dollars >= 0.")
    return float(value)


def reset_prices() -> None:
    """Forget every override and the hardware rate (for tests and notebooks)."""
    global _hardware_usd_per_hour
    with _lock:
        _overrides.clear()
        _hardware_usd_per_hour = 0.0


def _load_env_file() -> None:
    global _env_loaded
    if _env_loaded:
        return
    path = os.environ.get("KODERZ_PRICES")
    if path:
        load_prices(path)  # a bad file raises here, and again on the next call: never ignored
    _env_loaded = True


def _spec(model: str | ModelSpec) -> ModelSpec:
    return model if isinstance(model, ModelSpec) else resolve_model(model)


def list_price(model: str | ModelSpec) -> Price | None:
    """The list price of a model (below any long-context tier), or None if it has none.

    Local models without an override have a price of $0 from source ``local``.

    Examples:
        >>> p = list_price("claude-opus-4-8")
        >>> (p.input_usd_per_mtok, p.output_usd_per_mtok, p.cache_read_usd_per_mtok)
        (5.0, 25.0, 0.5)
    """
    _load_env_file()
    spec = _spec(model)
    with _lock:
        override = _overrides.get(spec.name)
    if override is not None:
        return override
    if spec.price_ref is None:
        return Price(0.0, 0.0, 0.0, 0.0, "local") if spec.is_local else None
    found = _genai_model_price(spec.price_ref, spec.price_provider)
    if found is None:
        return None
    return Price(
        _base(getattr(found, "input_mtok", None)),
        _base(getattr(found, "output_mtok", None)),
        _opt_base(getattr(found, "cache_read_mtok", None)),
        _opt_base(getattr(found, "cache_write_mtok", None)),
        _genai_source(),
    )


def _base(value: object) -> float:
    got = _opt_base(value)
    return 0.0 if got is None else got


def _opt_base(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return float(value)
    return float(value.base)  # type: ignore[attr-defined]  # genai-prices TieredPrices


def price_call(model: str | ModelSpec, usage: Usage, *, latency_s: float = 0.0) -> Cost:
    """Price one call: tokens at the model's price, a local model's time at the hardware rate.

    Raises:
        ConfigError: The model has no known price; the message says how to give one.

    Examples:
        >>> u = Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=600,
        ...           cache_write_tokens=100)
        >>> round(price_call("claude-opus-4-8", u).usd, 6)
        0.007425
    """
    _load_env_file()
    spec = _spec(model)
    with _lock:
        override = _overrides.get(spec.name)
        rate = _hardware_usd_per_hour
    hardware = latency_s * rate / 3600 if spec.is_local else 0.0
    if override is not None:
        return Cost(override.cost(usage), hardware, override.source)
    if spec.price_ref is None and spec.is_local:
        source = f"local (tokens free; hardware ${rate:g}/h)" if rate else "local (free)"
        return Cost(0.0, hardware, source)
    usd = _genai_cost(spec.price_ref, spec.price_provider, usage) if spec.price_ref else None
    if usd is None:
        raise ConfigError(
            f"No price known for {spec.name!r}. Give one with koderz.set_price({spec.name!r}, "
            "input_usd_per_mtok=..., output_usd_per_mtok=...) or in a prices TOML file "
            "(koderz.load_prices, or the KODERZ_PRICES environment variable)."
        )
    return Cost(usd, hardware, _genai_source())


def cost_usd(model: str | ModelSpec, usage: Usage) -> float:
    """Token cost of ``usage`` on ``model`` in dollars (cache-aware; 0 for local models).

    Examples:
        >>> cost_usd("gpt-4o-mini", Usage(input_tokens=1000, output_tokens=200,
        ...                               cache_read_tokens=600))
        0.000225
    """
    return price_call(model, usage).usd


# --------------------------------------------------------------------------- genai-prices


@cache
def _genai_source() -> str:
    import genai_prices

    return f"genai-prices {genai_prices.__version__}"


def _genai_model_price(ref: str, provider: str | None) -> Any:
    import genai_prices

    try:
        calc = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=0), ref, provider_id=provider
        )
    except LookupError:
        return None
    return calc.model_price


def _genai_cost(ref: str, provider: str | None, usage: Usage) -> float | None:
    import genai_prices

    gp_usage = genai_prices.Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )
    try:
        calc = genai_prices.calc_price(gp_usage, ref, provider_id=provider)
    except LookupError:
        return None
    return float(calc.total_price)
