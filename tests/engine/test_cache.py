"""The call cache: keys cover every setting, entries come back whole, threads and processes
share one file, and a damaged cache is reported once and bypassed, never trusted or raised."""

from __future__ import annotations

import dataclasses
import pickle
import sqlite3
import subprocess
import sys
import textwrap
import threading
import warnings

import pytest

from koderz.engine import cache as cache_module
from koderz.engine.cache import CACHE_FILE, NOT_IN_KEY, CallCache, cache_from_env, call_key
from koderz.models import Advisor, GenerateConfig
from koderz.records import Completion, Consultation, Message, Usage

MESSAGES = (Message("system", "You write Python."), Message("user", "def add(a, b):"))
CALL = dict(provider="openai", model="gpt-4o-mini", messages=MESSAGES, epoch=1)


def _completion(text: str = "    return a + b\n") -> Completion:
    return Completion(
        text=text,
        usage=Usage(input_tokens=120, output_tokens=9, cache_read_tokens=64, cache_write_tokens=8),
        latency_s=0.25,
        model="gpt-4o-mini",
        provider="openai",
        stop_reason="end",
        attempts=2,
        wait_s=0.5,
        consultations=(
            Consultation("claude-opus-4-8", Usage(800, 500), "Sort first.", "How?", 1.5),
        ),
        notes=("reasoning high ignored: gpt-4o-mini cannot reason",),
    )


def _key(**changes: object) -> str:
    args = {**CALL, "config": GenerateConfig(), **changes}
    return call_key(**args)  # type: ignore[arg-type]


@pytest.fixture
def strict_warnings():
    """Any warning is a failure (tests of a healthy cache)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_a_miss_then_a_hit_with_every_field(tmp_path, strict_warnings):
    cache = CallCache(tmp_path / CACHE_FILE)
    assert cache.get(_key()) is None
    cache.put(_key(), _completion())
    # Cache tokens, attempts, wait_s, the advisor's consultations and notes included.
    assert cache.get(_key()) == _completion()
    assert cache.get(_key(epoch=2)) is None
    # Another object (another process, a Dask worker) on the same file sees it.
    assert CallCache(tmp_path / CACHE_FILE).get(_key()) == _completion()


def test_put_replaces_an_entry(tmp_path, strict_warnings):
    cache = CallCache(tmp_path / CACHE_FILE)
    cache.put(_key(), _completion("first"))
    cache.put(_key(), _completion("second"))
    assert cache.get(_key()).text == "second"


# A value other than the default for every field of GenerateConfig that can change the
# answer; a field added later fails test_every_config_field_is_covered until it is listed
# here or in NOT_IN_KEY.
OTHER_SETTINGS = {
    "max_tokens": 512,
    "temperature": 0.2,
    "seed": 7,
    "cache_prompt": True,
    "reasoning": "high",
    "advisor": Advisor("claude-opus-4-8", max_uses=2),
}


def test_every_config_field_is_covered():
    fields = {f.name for f in dataclasses.fields(GenerateConfig)}
    assert set(OTHER_SETTINGS) | NOT_IN_KEY == fields
    assert not set(OTHER_SETTINGS) & NOT_IN_KEY


def test_the_timeout_is_not_in_the_key():
    # How long to wait for an answer does not change it: another --timeout still hits.
    assert _key(config=GenerateConfig(timeout_s=30.0)) == _key()


@pytest.mark.parametrize(("field", "value"), OTHER_SETTINGS.items())
def test_the_key_changes_with_every_setting(field, value):
    assert _key(config=GenerateConfig(**{field: value})) != _key()


@pytest.mark.parametrize(
    "changes",
    [
        {"provider": "ollama"},
        {"model": "gpt-4o"},
        {"epoch": 2},
        {"messages": MESSAGES[1:]},
        {"messages": (*MESSAGES, Message("user", "again"))},
        {"messages": (Message("user", "You write Python."), MESSAGES[1])},  # a role
        {"messages": (MESSAGES[0], Message("user", "def add(a, b): "))},  # one space
        {"messages": MESSAGES[::-1]},
    ],
)
def test_the_key_changes_with_the_call(changes):
    assert _key(**changes) != _key()


def test_the_key_is_stable_and_hex():
    key = _key()
    assert key == _key(messages=list(MESSAGES), config=GenerateConfig())
    assert len(key) == 64 and int(key, 16) >= 0
    # Pinned: the same call must map to the same entry in every future version that keeps
    # KEY_VERSION; change KEY_VERSION (and this value) when what a key covers changes.
    assert cache_module.KEY_VERSION == 4
    assert key == "81a4bfb832c89bc599e7318cfabe670406226c7b1e2fa05bd937e1eebe3ca26f"


def test_threads_hammering_one_cache(tmp_path, strict_warnings):
    cache = CallCache(tmp_path / CACHE_FILE)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(15):
                cache.put(_key(epoch=i), _completion(f"shared {i}"))  # all threads, one key
                cache.put(_key(epoch=1000 + 100 * t + i), _completion(f"{t}/{i}"))
                got = cache.get(_key(epoch=i))
                assert got is not None and got.text == f"shared {i}"
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for t in range(8):
        for i in range(15):
            assert cache.get(_key(epoch=1000 + 100 * t + i)).text == f"{t}/{i}"


WRITER = textwrap.dedent(
    """
    import sys, warnings
    warnings.simplefilter("error")
    from koderz.engine.cache import CallCache
    from koderz.records import Completion, Usage
    cache = CallCache(sys.argv[1])
    me = sys.argv[2]
    for i in range(60):
        cache.put(f"{me}-{i}", Completion(f"{me} {i}", Usage(i, 1), 0.1, "m", "openai", "end"))
        cache.put(f"shared-{i}", Completion(f"shared {i}", Usage(i, 1), 0.1, "m", "openai", "end"))
        assert cache.get(f"shared-{i}").text == f"shared {i}"
    """
)


def test_two_processes_writing_one_file(tmp_path, strict_warnings):
    path = tmp_path / CACHE_FILE
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(err == "" for _, err in outputs), outputs
    cache = CallCache(path)
    for name in ("a", "b", "shared"):
        for i in range(60):
            assert cache.get(f"{name}-{i}").text == f"{name} {i}"
    with sqlite3.connect(path) as db:  # a rollback journal, safe on a shared filesystem
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_a_corrupt_file_is_reported_once_and_bypassed(tmp_path):
    path = tmp_path / CACHE_FILE
    path.write_bytes(b"\x00garbage, not SQLite\xff" * 500)
    cache = CallCache(path)
    with pytest.warns(RuntimeWarning) as caught:
        assert cache.get(_key()) is None
        cache.put(_key(), _completion())  # does not raise
        assert cache.get(_key()) is None  # never answers from it
        assert CallCache(path).get(_key()) is None  # once per process, not per object
    assert len(caught) == 1
    message = str(caught[0].message)
    assert str(path) in message and f"Delete {path} to start a fresh cache" in message
    assert path.read_bytes().startswith(b"\x00garbage")  # left as it was, for a look


def test_a_damaged_database_never_answers_wrongly(tmp_path):
    path = tmp_path / CACHE_FILE
    cache = CallCache(path)
    for i in range(200):
        cache.put(_key(epoch=i), _completion(f"answer {i}"))
    data = bytearray(path.read_bytes())
    page = 4096
    data[page:] = b"\xa5" * (len(data) - page)  # every page after the first
    path.write_bytes(bytes(data))
    damaged = CallCache(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answers = [damaged.get(_key(epoch=i)) for i in range(200)]
        damaged.put(_key(epoch=0), _completion())
    for i, a in enumerate(answers):
        assert a is None or a.text == f"answer {i}"
    assert len(caught) == 1 and "damaged" in str(caught[0].message)


def _tamper(path, sql: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql)


def test_an_entry_failing_its_checksum_is_a_miss(tmp_path):
    path = tmp_path / CACHE_FILE
    cache = CallCache(path)
    cache.put(_key(), _completion())
    cache.put(_key(epoch=2), _completion())
    _tamper(path, "UPDATE calls SET value = replace(value, 'return a + b', 'return a - b')")
    with pytest.warns(RuntimeWarning, match="failed its checksum or does not decode"):
        assert cache.get(_key()) is None
    # An entry moved under another key fails too (the checksum covers the key).
    _tamper(path, f"DELETE FROM calls WHERE key = '{_key()}'")
    _tamper(path, f"UPDATE calls SET key = '{_key()}'")
    assert cache.get(_key()) is None
    cache.put(_key(), _completion())  # a real call's answer replaces it
    assert cache.get(_key()) == _completion()


def test_an_entry_that_does_not_decode_is_a_miss(tmp_path):
    path = tmp_path / CACHE_FILE
    cache = CallCache(path)
    assert cache.get("k") is None  # makes the table
    for value in ['{"text": "x"}', '{"usage": {}, "unknown_field": 1}', "[1, 2]", "not json"]:
        key = f"k{len(value)}"
        with sqlite3.connect(path) as db:
            db.execute(
                "INSERT INTO calls (key, value, checksum) VALUES (?, ?, ?)",
                (key, value, cache_module._checksum(key, value)),
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert cache.get(key) is None


def test_a_busy_cache_is_a_miss_not_a_wait_forever(tmp_path, monkeypatch):
    path = tmp_path / CACHE_FILE
    cache = CallCache(path)
    cache.put(_key(), _completion())
    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT_S", 0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process in the middle of a write
    try:
        with pytest.warns(RuntimeWarning, match="could not be used"):
            assert CallCache(path).get(_key()) is None
            CallCache(path).put(_key(epoch=2), _completion())
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert CallCache(path).get(_key()) == _completion()  # usable again once it is free


def test_a_path_that_cannot_be_a_file_warns_and_goes_on(tmp_path):
    (tmp_path / "cache.sqlite3").mkdir()  # a folder where the file should be
    cache = CallCache(tmp_path / "cache.sqlite3")
    with pytest.warns(RuntimeWarning, match="could not be used"):
        cache.put(_key(), _completion())
        assert cache.get(_key()) is None


def test_a_cache_pickles_as_its_path(tmp_path, strict_warnings):
    cache = CallCache(tmp_path / "sub" / CACHE_FILE)  # the folder is made on first use
    cache.put(_key(), _completion())
    copy = pickle.loads(pickle.dumps(cache))
    assert copy.path == cache.path and copy.get(_key()) == _completion()


@pytest.mark.parametrize(
    ("enabled", "env", "expected"),
    [
        (True, None, "data/cache.sqlite3"),
        (True, "0", "data/cache.sqlite3"),  # --cache wins over the environment
        (False, "1", None),
        (None, None, None),
        (None, "", None),
        (None, "0", None),
        (None, "off", None),
        (None, "1", "data/cache.sqlite3"),
        (None, "Yes", "data/cache.sqlite3"),
        (None, "/shared/koderz-cache.sqlite3", "/shared/koderz-cache.sqlite3"),
    ],
)
def test_cache_from_env(monkeypatch, tmp_path, enabled, env, expected):
    from pathlib import Path

    if env is None:
        monkeypatch.delenv("KODERZ_CACHE", raising=False)
    else:
        monkeypatch.setenv("KODERZ_CACHE", env)
    found = cache_from_env(Path("data"), enabled)
    assert (None if found is None else str(found.path)) == expected
