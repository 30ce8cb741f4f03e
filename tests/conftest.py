"""Shared fixtures. No test reaches the internet: provider SDKs are pointed at local servers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from koderz.models import prices, reset_clients
from koderz.testing import ProtocolServer

# Keys of the developer's own machine must not reach tests (or be spent by them).
_PROVIDER_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OLLAMA_HOST",
    "KODERZ_PRICES",
)
# The data folder of the developer's shell, or the nbval fixture's (conftest.py at the top),
# must not be where a test's command looks.
_DATA_VARS = ("KODERZ_DATA_DIR",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The notebooks' cells (nbval) run a kernel each: slow, like the rendering tests."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated_providers(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    if request.node.get_closest_marker("live") is None:
        for var in _PROVIDER_VARS:
            monkeypatch.delenv(var, raising=False)
    for var in _DATA_VARS:
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


Serve = Callable[..., ProtocolServer]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    """``serve(protocol, **kwargs)`` starts a :class:`~koderz.testing.ProtocolServer` on
    127.0.0.1 (``script=``, ``respond=``, ``delay_s=``) and points that provider's SDK at it
    through the environment; every server started is stopped after the test."""
    started: list[ProtocolServer] = []

    def start(protocol: str, **kwargs: Any) -> ProtocolServer:
        server = ProtocolServer(protocol, **kwargs).start()  # type: ignore[arg-type]
        started.append(server)
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        return server

    yield start
    for server in started:
        server.stop()
