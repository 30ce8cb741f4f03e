"""What the sandbox tests share: a zygote pool of a test's own, and for the hostile battery
(``hostile.py``) a uid range of its own, the planted secrets and the ``shape`` it attacks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from koderz.sandbox import isolation
from tests.sandbox.hostile import ADAPTERS, SECRET, Adapter


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


@pytest.fixture(scope="module")
def private_uid_range() -> Iterator[None]:
    """A uid range of this test process's own, so another Koderz run on the machine (the
    pool is shared through lock files) cannot be mistaken for a leftover of ours."""
    from koderz.sandbox.proc import UID_POOL

    old = UID_POOL.base
    UID_POOL.base = 1_700_000 + (os.getpid() % 4096) * 256
    yield
    UID_POOL.base = old


@pytest.fixture
def secrets_planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Plant the fake secret where a careless sandbox would leak it: the environment, and
    ``.env`` files in the working folder and in ``$HOME``."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for folder in (home, work):
        (folder / ".env").write_text(f"OPENAI_API_KEY={SECRET}\n")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("MY_DB_PASSWORD", SECRET)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture(params=sorted(ADAPTERS))
def shape(request: pytest.FixtureRequest) -> Adapter:
    """Each test shape the battery knows, as the adapter that runs hostile programs in it."""
    return ADAPTERS[request.param]
