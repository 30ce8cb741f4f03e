"""What the sandbox tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from koderz.sandbox import isolation


@pytest.fixture
def own_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Any]]:
    """``own_pool("2")``: a zygote pool of its own for this test, as ``KODERZ_SANDBOXES=2``
    makes it, in place of the process's; skipped where zygotes don't serve candidates (no
    bubblewrap). Its idle sandboxes are closed after the test."""
    from koderz.sandbox import zygote

    pools: list[zygote.ZygotePool] = []

    def make(sandboxes: str) -> zygote.ZygotePool:
        if isolation() != "bwrap":
            pytest.skip("zygotes serve candidates under bubblewrap only")
        monkeypatch.setenv("KODERZ_SANDBOXES", sandboxes)
        pool = zygote.ZygotePool()
        monkeypatch.setattr(zygote, "ZYGOTES", pool)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close_all()
