"""Checks made before a run spends any money: every model known, priced, with its key, and
its local server answering (or, in-process, its GGUF file loading)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from koderz.errors import ConfigError
from koderz.experiment import Strategy
from koderz.models.registry import ModelSpec, resolve_model

__all__ = ["preflight"]


def preflight(strategies: Sequence[Strategy]) -> None:
    """Fail before any money is spent if a model is unknown, has no price, misses its key
    (or, in-process, does not load), or its local server does not answer."""
    from koderz.models import client_for
    from koderz.models.prices import price_call
    from koderz.records import Usage

    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise ConfigError(f"Strategy names must be unique; got {names}.")
    probed: set[str] = set()
    for s in strategies:
        for name in s.models():
            spec = resolve_model(name)
            price_call(spec, Usage())
            client_for(spec)
            if spec.provider == "ollama" or spec.base_url is not None:
                _probe_server(spec, probed)


def _probe_server(spec: ModelSpec, probed: set[str]) -> None:
    """A local server that does not answer at all is a setup mistake, not a passing fault:
    say so now rather than after every call's retries."""
    import httpx

    if spec.provider == "ollama":
        from koderz.models.ollama import DEFAULT_HOST

        url = os.environ.get("OLLAMA_HOST", DEFAULT_HOST)
        if "://" not in url:
            url = "http://" + url
        fix = "start it with `ollama serve`, or set OLLAMA_HOST to where it runs"
    else:
        url = str(spec.base_url)
        fix = "start the server, or correct the URL in NAME@URL"
    if url in probed:
        return
    probed.add(url)
    try:
        httpx.get(url, timeout=5.0)
    except httpx.HTTPError as e:
        raise ConfigError(f"No server answers at {url} for {spec.name!r} ({e}); {fix}.") from e
