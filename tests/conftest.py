"""Shared fixtures. No test reaches the internet: provider SDKs are pointed at local servers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from koderz.models import prices, reset_clients

# Keys of the developer's own machine must not reach tests (or be spent by them).
_PROVIDER_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OLLAMA_HOST",
    "KODERZ_PRICES",
)


@pytest.fixture(autouse=True)
def _isolated_providers(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    if request.node.get_closest_marker("live") is None:
        for var in _PROVIDER_VARS:
            monkeypatch.delenv(var, raising=False)
    reset_clients()
    prices.reset_prices()
    yield
    reset_clients()
    prices.reset_prices()


@pytest.fixture
def tmp_cwd(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> os.PathLike[str]:
    """Run the test in an empty folder (so no .env of the developer's is found)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
