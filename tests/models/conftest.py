from __future__ import annotations

import pytest

from koderz.models import RetryPolicy


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
