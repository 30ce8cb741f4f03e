"""A cache of model calls: a call identical to one made before is answered from it, free.

Identical means the same provider, model, messages, every generation setting and epoch
(:func:`call_key`); the epoch is in the key so that repeats of an experiment are distinct
samples, while re-running a finished benchmark reproduces its calls and costs nothing.

The cache is one SQLite file in the data folder (``data/cache.sqlite3``), shared by a run's
threads, by several processes and by Dask workers on a shared folder:

- *Rollback journal, not WAL.* WAL keeps its index in shared memory, which processes on two
  hosts cannot share: on a network filesystem it corrupts the file. The rollback journal
  relies only on the filesystem's POSIX locks (on NFS: a working lock daemon). Writers wait
  for each other (a busy timeout), which is cheap beside a model call.
- *A short-lived connection per operation*, so no connection is shared between threads or
  survives a fork or a pickle to a Dask worker, and the file is closed between calls.
- *Never trusted.* Each entry carries a SHA-256 of its key and value; an entry that fails
  the check or does not decode is a miss. A file that is not a database, or is damaged, is
  reported once (a warning naming the file and the fix: delete it) and bypassed; the run
  goes on making real calls. No cache problem ever raises.

Examples:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from koderz.models import GenerateConfig
    >>> from koderz.records import Completion, Message, Usage
    >>> cache = CallCache(Path(tempfile.mkdtemp()) / "cache.sqlite3")
    >>> key = call_key(provider="openai", model="gpt-4o-mini",
    ...                messages=[Message("user", "hi")], config=GenerateConfig(), epoch=1)
    >>> cache.get(key) is None
    True
    >>> cache.put(key, Completion("hello", Usage(3, 1), 0.2, "gpt-4o-mini", "openai", "end"))
    >>> cache.get(key).text
    'hello'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from koderz.models.base import GenerateConfig
from koderz.records import Completion, Consultation, Message, Usage

__all__ = ["CACHE_FILE", "CallCache", "cache_from_env", "call_key"]

CACHE_FILE = "cache.sqlite3"
"""The cache's file name in the data folder."""
KEY_VERSION = 4  # 2: the timeout no longer in the key; 3: the draw is; 4: reasoning, advisor
"""Part of every key: a change to what a key covers starts a fresh set of entries."""

NOT_IN_KEY = frozenset({"timeout_s"})
"""Fields of :class:`~koderz.models.GenerateConfig` that cannot change the answer: how long
to wait for it is not a generation setting, so a run with another ``--timeout`` still hits."""
BUSY_TIMEOUT_S = 30.0
"""How long an operation waits for another process's write before giving up (a miss)."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})

# Warnings already given, by (file, kind): once per process, however many CallCache objects
# (a Dask worker makes one per experiment) look at the same file.
_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def call_key(
    *,
    provider: str,
    model: str,
    messages: Sequence[Message],
    config: GenerateConfig,
    epoch: int,
    draw: int = 0,
) -> str:
    """The cache key of a call: SHA-256 (hex) of a canonical JSON of all it depends on.

    ``draw`` tells apart calls that are the same on purpose: zero-shot attempts send the same
    messages and settings, and each must be a sample of its own, not the first one again.

    Every field of ``config`` counts (``dataclasses.asdict``) but those of
    :data:`NOT_IN_KEY`, so a field added to :class:`~koderz.models.GenerateConfig` later is
    part of the key without a change here.

    Examples:
        >>> from koderz.models import GenerateConfig
        >>> from koderz.records import Message
        >>> args = dict(provider="openai", model="gpt-4o-mini", messages=[Message("user", "hi")])
        >>> a = call_key(**args, config=GenerateConfig(), epoch=1)
        >>> a == call_key(**args, config=GenerateConfig(), epoch=1)
        True
        >>> a == call_key(**args, config=GenerateConfig(temperature=0.2), epoch=1)
        False
        >>> a == call_key(**args, config=GenerateConfig(), epoch=2)
        False
        >>> a == call_key(**args, config=GenerateConfig(), epoch=1, draw=2)
        False
    """
    canonical = json.dumps(
        {
            "v": KEY_VERSION,
            "provider": provider,
            "model": model,
            "messages": [asdict(m) for m in messages],
            "config": {k: v for k, v in asdict(config).items() if k not in NOT_IN_KEY},
            "epoch": epoch,
            "draw": draw,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=repr,  # a setting JSON cannot hold still counts, by its repr
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class CallCache:
    """Completions of earlier calls, by :func:`call_key`, in one SQLite file.

    Safe to share between threads, and to open from several processes and Dask workers at
    once (see the module docstring); it pickles as its path.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        """The SQLite file."""
        self._ready = False  # the table is known to exist
        self._broken = False  # found damaged: bypassed from then on
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CallCache({str(self.path)!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.path = Path(state["path"])
        self._ready = self._broken = False
        self._lock = threading.Lock()

    def get(self, key: str) -> Completion | None:
        """The completion cached under ``key``; None on a miss, for an entry that fails its
        checksum or does not decode, and for a cache that cannot be read (warned once)."""
        row = None
        with self._connection() as db:
            if db is not None:
                row = db.execute(
                    "SELECT value, checksum FROM calls WHERE key = ?", (key,)
                ).fetchone()
        if row is None:
            return None
        value, checksum = row
        completion = None
        if isinstance(value, str) and checksum == _checksum(key, value):
            completion = _decode(value)
        if completion is None:
            self._warn(
                "entry",
                f"Call cache {self.path}: an entry failed its checksum or does not decode; "
                "it is ignored and the call is made. If this recurs, delete the file (it is "
                "only a cache).",
            )
        return completion

    def put(self, key: str, completion: Completion) -> None:
        """Cache ``completion`` under ``key`` (replacing an entry there); a cache problem is
        warned about once, never raised."""
        value = json.dumps(asdict(completion), sort_keys=True, ensure_ascii=False)
        with self._connection() as db:
            if db is not None:
                db.execute(
                    "INSERT OR REPLACE INTO calls (key, value, checksum) VALUES (?, ?, ?)",
                    (key, value, _checksum(key, value)),
                )

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection | None]:
        """A connection for one operation, committed at its end; None when the cache cannot
        be used. SQLite and OS errors are reported here, never raised."""
        if self._broken:
            yield None
            return
        try:
            db = self._connect()
        except (sqlite3.Error, OSError) as e:
            self._report(e)
            yield None
            return
        try:
            with db:  # one transaction: committed, or rolled back on an error
                yield db
        except (sqlite3.Error, OSError) as e:
            self._report(e)
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level="DEFERRED")
        try:
            with self._lock:
                if not self._ready:
                    _create(db)
                    self._ready = True
        except BaseException:
            db.close()
            raise
        return db

    def _report(self, error: sqlite3.Error | OSError) -> None:
        if isinstance(error, sqlite3.OperationalError | OSError):
            # Busy past the timeout, or the file cannot be opened or written now: this call
            # goes without the cache; the next one tries again.
            self._warn(
                "operational",
                f"Call cache {self.path} could not be used ({error}); calls go without it "
                "while that lasts. Check that its folder is writable (on NFS, that file "
                "locking works), or run without --cache.",
            )
        else:  # not a database, or a damaged one: never trusted again in this process
            self._broken = True
            self._warn(
                "corrupt",
                f"Call cache {self.path} is damaged ({error}); it is ignored and every call "
                f"is made. Delete {self.path} to start a fresh cache.",
            )

    def _warn(self, kind: str, message: str) -> None:
        with _warned_lock:
            if (str(self.path), kind) in _warned:
                return
            _warned.add((str(self.path), kind))
        warnings.warn(message, RuntimeWarning, stacklevel=2)


def _create(db: sqlite3.Connection) -> None:
    """Make the table, once per CallCache object; a file that is not a database fails here."""
    # Persistent in the file; DELETE is SQLite's default, set in case someone opened it in WAL.
    db.execute("PRAGMA journal_mode = DELETE")
    with db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS calls ("
            " key TEXT PRIMARY KEY,"
            " value TEXT NOT NULL,"
            " checksum TEXT NOT NULL,"
            " created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )


def _checksum(key: str, value: str) -> str:
    # Over the key too, so an entry moved under another key does not pass.
    return hashlib.sha256(f"{key}\0{value}".encode()).hexdigest()


def _decode(value: str) -> Completion | None:
    try:
        fields = json.loads(value)
        usage = Usage(**fields.pop("usage"))
        consultations = tuple(
            Consultation(usage=Usage(**c.pop("usage")), **c)
            for c in fields.pop("consultations", ())
        )
        notes = tuple(fields.pop("notes", ()))
        completion = Completion(usage=usage, consultations=consultations, notes=notes, **fields)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return completion if isinstance(completion.text, str) else None


def cache_from_env(data_dir: Path, enabled: bool | None) -> CallCache | None:
    """The call cache a run uses: ``enabled`` (``--cache``), else ``KODERZ_CACHE``.

    ``KODERZ_CACHE`` is ``1``/``true``/``yes``/``on`` for ``DATA_DIR/cache.sqlite3``, a path
    for a cache file elsewhere (e.g. one shared by several data folders), and unset, empty,
    ``0``/``false``/``no``/``off`` for none.

    Examples:
        >>> from pathlib import Path
        >>> cache_from_env(Path("data"), True)
        CallCache('data/cache.sqlite3')
        >>> cache_from_env(Path("data"), False) is None
        True
    """
    if enabled is not None:
        return CallCache(data_dir / CACHE_FILE) if enabled else None
    raw = os.environ.get("KODERZ_CACHE", "").strip()
    if raw.lower() in _FALSE:
        return None
    if raw.lower() in _TRUE:
        return CallCache(data_dir / CACHE_FILE)
    return CallCache(Path(raw).expanduser())
