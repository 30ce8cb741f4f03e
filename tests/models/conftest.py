from __future__ import annotations

from collections.abc import Iterator

import pytest

from koderz.models import RetryPolicy
from koderz.testing import ProtocolServer


class RecordingSleep:
    """Stands in for time.sleep: records the waits the retry policy asked for."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def fast_retry(sleeps: RecordingSleep) -> RetryPolicy:
    return RetryPolicy(max_attempts=3, initial_backoff_s=0.01, jitter=0.0, sleep=sleeps)


def serve(protocol: str, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> ProtocolServer:
    server = ProtocolServer(protocol, **kwargs).start()  # type: ignore[arg-type]
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    return server


@pytest.fixture
def server_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    started: list[ProtocolServer] = []

    def make(protocol: str, **kwargs: object) -> ProtocolServer:
        s = serve(protocol, monkeypatch, **kwargs)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()
