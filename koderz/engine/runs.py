"""A run's manifest and its lock, kept beside its rows under ``data/runs/``.

The manifest says what the run was asked to do, so that a resumed run asks the same. The lock
says which process works on the run now, so that a second ``koderz benchmark --run-id R``
(another terminal, or a resume while the first still runs) refuses instead of solving the
same problems again and doubling their rows.

The lock is a file ``data/runs/R.lock`` naming its holder (host, PID, the process's start
time, since when). It is created whole and atomically with a hard link from a private file
(``link(2)`` fails if the name exists, on local disks and on NFS, where ``flock`` is not
reliable and ``O_EXCL`` was not atomic before NFSv3), so no one ever reads a half-written
lock; where hard links are not supported it falls back to ``O_CREAT | O_EXCL``. A lock whose
holder is gone (same host, PID not alive, or alive but a different process that reused the
PID, or left by an earlier boot) is taken over. A lock held on another host is never taken
over: this host cannot tell whether that process lives, so the message says how to remove the
lock if it is gone. A Dask run's workers take no lock: the client holds it for the run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import secrets
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from koderz.engine.strategies import Strategy
from koderz.errors import ConfigError

__all__ = ["SETTINGS_BEFORE_THEY_EXISTED", "LockHolder", "run_lock", "write_manifest"]

SETTINGS_BEFORE_THEY_EXISTED: dict[str, Any] = {
    "stop": "oracle",
    "samples": 3,
    "tester": None,
    "tests_per_problem": 5,
    "escalate_below": None,
    "advice": "interval",
    "max_advice": None,
    "reasoning": {},
}
"""What a run recorded before a setting existed did: before the stop rule, every
experiment stopped when the hidden tests passed; the others were what their defaults are."""


def write_manifest(
    data_dir: Path,
    run_id: str,
    strategies: Sequence[Strategy],
    problems: str,
    *,
    window: Mapping[str, Any] | None = None,
    cutoffs: Mapping[str, str | None] | None = None,
) -> None:
    """Record what the run was asked to do; a resumed run must ask the same.

    ``window`` is the release-date window and slices the problems were chosen by
    (:meth:`koderz.problems.select.ProblemSlice.to_dict`; None: every problem), and
    ``cutoffs`` the training data cutoff of each model the run calls (None: unknown), which
    a resumed run may learn more of."""
    from koderz.engine.prompts import PROMPTS_VERSION
    from koderz.version import __version__

    path = data_dir / "runs" / f"{run_id}.json"
    wanted = {s.name: s.to_dict() for s in strategies}
    known: dict[str, str | None] = {}
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("problems") not in (None, problems):
            raise ConfigError(
                f"Run {run_id} was started on problems {old['problems']!r}, not {problems!r}; "
                "resume it with the same problem file, or start a new --run-id."
            )
        if "problems" in old and old.get("window") != (None if window is None else dict(window)):
            raise ConfigError(
                f"Run {run_id} was started with the window and slices {old.get('window')}, "
                f"not {None if window is None else dict(window)}; resume it with the same "
                "--since, --until, --difficulty, --platform and --languages, or start a new "
                "--run-id."
            )
        known = dict(old.get("cutoffs") or {})
        for name, settings in wanted.items():
            before = old.get("strategies", {}).get(name)
            if before is None:
                continue
            # Manifests written before a setting existed ran as its old behaviour did.
            before = {**SETTINGS_BEFORE_THEY_EXISTED, **before}
            changed = sorted(k for k in {*before, *settings} if before.get(k) != settings.get(k))
            if changed:
                was = ", ".join(f"{k} = {before.get(k)!r}" for k in changed)
                raise ConfigError(
                    f"Run {run_id} was started with other settings for strategy {name!r} "
                    f"({was}); resume it with the same settings, or start a new --run-id."
                )
        wanted = {**old.get("strategies", {}), **wanted}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "run_id": run_id,
                "koderz_version": __version__,
                "prompts_version": PROMPTS_VERSION,
                "problems": problems,
                "window": None if window is None else dict(window),
                # A cutoff learnt in one session is kept by the next that does not give it.
                "cutoffs": {
                    **known,
                    **{m: d for m, d in (cutoffs or {}).items() if d or m not in known},
                },
                "strategies": wanted,
                "updated_at": dt.datetime.now(dt.UTC).isoformat(),
            },
            indent=2,
        )
    )
    tmp.replace(path)


@dataclass(frozen=True)
class LockHolder:
    """Who holds a run's lock: what the lock file says."""

    host: str
    """``socket.gethostname()`` of the holder."""
    pid: int
    """The holder's process id on ``host``."""
    since: str
    """When the lock was taken, ISO 8601 in UTC."""
    pid_start: str = ""
    """The process's start time in clock ticks since boot (``/proc/PID/stat``), so that a
    new process that got the same PID is not mistaken for the holder; empty where unknown."""
    boot_id: str = ""
    """The host's boot id: a PID from an earlier boot is gone whatever it is now."""
    token: str = ""
    """Random, so the holder removes only its own lock at the end."""

    @classmethod
    def me(cls) -> LockHolder:
        pid = os.getpid()
        return cls(
            host=socket.gethostname(),
            pid=pid,
            since=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            pid_start=_pid_start(pid) or "",
            boot_id=_boot_id(),
            token=secrets.token_hex(8),
        )

    def is_gone(self) -> bool:
        """Whether the holder certainly no longer runs (only knowable on its own host)."""
        if self.host != socket.gethostname():
            return False
        if self.boot_id and _boot_id() and self.boot_id != _boot_id():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, another user's
        now = _pid_start(self.pid)
        if now is None:  # no /proc here (macOS), or a zombie: trust the signal
            return _is_zombie(self.pid)
        return bool(self.pid_start) and now != self.pid_start


@contextlib.contextmanager
def run_lock(data_dir: Path, run_id: str) -> Iterator[LockHolder]:
    """Hold run ``run_id``'s lock for the ``with`` block; released however the block ends.

    Raises:
        ConfigError: Another live process holds the run (the message names it and the fix).
    """
    path = data_dir / "runs" / f"{run_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    me = LockHolder.me()
    _acquire(path, me, run_id)
    try:
        yield me
    finally:
        # Only our own lock: if it was (wrongly) removed and taken by another, leave theirs.
        if _read_holder(path) == me:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _acquire(path: Path, me: LockHolder, run_id: str) -> None:
    for _ in range(5):  # a race lost to another taker is retried, a live holder is not
        if _create(path, me):
            return
        holder = _read_holder(path)
        if holder is None:
            if not path.exists():
                continue  # released between our two looks
            raise ConfigError(
                f"Run {run_id} is locked by {path}, which cannot be read; if no process works "
                f"on the run, delete {path} and run again."
            )
        if not holder.is_gone():
            raise ConfigError(_held_message(run_id, path, holder))
        _take_over(path, holder)
    raise ConfigError(
        f"Run {run_id}: could not take the lock {path} (other processes keep taking it); run again."
    )


def _create(path: Path, me: LockHolder) -> bool:
    """Create the lock file whole; False if it already exists."""
    text = json.dumps(asdict(me))
    tmp = path.with_name(f"{path.name}.{me.host}.{me.pid}.{me.token}")
    tmp.write_text(text)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        return _create_exclusive(path, text)
    finally:
        tmp.unlink(missing_ok=True)


def _create_exclusive(path: Path, text: str) -> bool:
    """Fallback where hard links are not supported (some FUSE and SMB mounts)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return True


def _take_over(path: Path, stale: LockHolder) -> None:
    """Remove a dead holder's lock, and only that: move it aside first, and if what was moved
    is not the lock judged stale (another process took over and locked in between), put it
    back."""
    aside = path.with_name(f"{path.name}.stale.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    try:
        if _read_holder(aside) != stale:
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)
    finally:
        aside.unlink(missing_ok=True)


def _read_holder(path: Path) -> LockHolder | None:
    try:
        data = json.loads(path.read_text())
        return LockHolder(**data)
    except (OSError, ValueError, TypeError):
        return None


def _held_message(run_id: str, path: Path, holder: LockHolder) -> str:
    who = f"process {holder.pid} on host {holder.host} (since {holder.since})"
    if holder.host == socket.gethostname():
        fix = (
            f"wait for it to finish, or stop it (kill {holder.pid}) and run again to resume "
            "the run; a stale lock of a process that is gone is taken over by itself."
        )
    else:
        fix = (
            f"wait for it to finish; if that process is gone (host {holder.host} down), "
            f"delete {path} and run again to resume the run."
        )
    return f"Run {run_id} is in use by {who}: {fix}"


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return text[text.rfind(")") + 2 :].split()


def _pid_start(pid: int) -> str | None:
    fields = _proc_stat(pid)
    if fields is None or len(fields) < 20:
        return None
    if fields[0] == "Z":  # a zombie is a process that has ended
        return None
    return fields[19]  # field 22, starttime


def _is_zombie(pid: int) -> bool:
    fields = _proc_stat(pid)
    return fields is not None and fields[:1] == ["Z"]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
