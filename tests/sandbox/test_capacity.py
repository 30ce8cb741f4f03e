"""How many candidates may run at once: the base, one more per long run, within the memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from koderz.sandbox import capacity
from koderz.sandbox.capacity import MAX_EXTRA, Runs

GIB = 1 << 30


@pytest.mark.parametrize(
    ("available", "total", "memory_bytes", "extra"),
    [
        (5 * GIB, 8 * GIB, GIB, 4),  # reserve 1 GiB (an eighth is 1 GiB): 4 GiB left
        (24 * GIB, 24 * GIB, 2 * GIB, 10),  # reserve 3 GiB: 21 GiB for 2 GiB each
        (5 * GIB, 64 * GIB, GIB, 0),  # the reserve (8 GiB) is more than is free
        (GIB // 2, 8 * GIB, GIB, 0),
        (1000 * GIB, 1000 * GIB, 64 << 20, MAX_EXTRA),  # processes and uids run out first
    ],
)
def test_extra_room_counts_each_candidate_at_its_memory_limit(
    monkeypatch: pytest.MonkeyPatch, available: int, total: int, memory_bytes: int, extra: int
) -> None:
    monkeypatch.setattr(capacity, "memory_available", lambda: (available, total))
    assert capacity.extra_room(memory_bytes) == extra


def test_no_growth_where_the_memory_cannot_be_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # macOS has no /proc/meminfo: the base holds, nothing more.
    monkeypatch.setattr(capacity, "_meminfo", lambda: None)
    assert capacity.memory_available() is None
    assert capacity.extra_room(GIB) == 0


def test_a_container_memory_limit_tighter_than_the_machine_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    limit, usage = tmp_path / "memory.max", tmp_path / "memory.current"
    monkeypatch.setattr(capacity, "CGROUP_FILES", [(str(limit), str(usage))])
    monkeypatch.setattr(capacity, "_meminfo", lambda: (20 * GIB, 24 * GIB))
    limit.write_text(f"{4 * GIB}\n")
    usage.write_text(f"{GIB}\n")
    assert capacity.memory_available() == (3 * GIB, 4 * GIB)
    limit.write_text("max\n")  # no limit set: the machine's figures
    assert capacity.memory_available() == (20 * GIB, 24 * GIB)


def test_each_long_run_makes_room_for_one_more_within_the_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(capacity, "extra_room", lambda memory_bytes: 3)
    runs = Runs(2, grows=True)
    runs.start("a")
    runs.start("b")
    assert runs.limit(GIB) == 2  # both young
    assert runs.next_change() is not None and 0 < runs.next_change() <= capacity.LONG_RUN_S
    runs._started["a"] -= 1.0  # "a" has run for a second
    assert runs.limit(GIB) == 3
    for key in ("b", "c", "d", "e"):
        runs.start(key)
        runs._started[key] -= 1.0
    assert runs.limit(GIB) == 5  # five long runs, room for three more than the base
    assert runs.next_change() is None
    for key in ("a", "b", "c", "d", "e"):
        runs.finish(key)
    assert runs.limit(GIB) == 2


def test_a_number_given_is_kept_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity, "extra_room", lambda memory_bytes: 3)
    runs = Runs(2, grows=False)
    for key in ("a", "b"):
        runs.start(key)
        runs._started[key] -= 1.0
    assert runs.limit(GIB) == 2 and runs.next_change() is None
