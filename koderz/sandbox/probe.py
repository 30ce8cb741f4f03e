"""What isolates candidates on this machine: bubblewrap, found working by a self-test, or the
rlimits-only fallback, with a warning that says what it does not hold."""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import os
import shutil
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from koderz.errors import ConfigError, SandboxError
from koderz.records import FunctionTests, Problem
from koderz.sandbox.limits import Limits
from koderz.sandbox.proc import JUDGE
from koderz.sandbox.shapes import SHAPES
from koderz.sandbox.verdict import run_candidate

__all__ = ["SandboxInfo", "isolation", "sandbox_info"]


@dataclass(frozen=True)
class SandboxInfo:
    """What isolates candidates on this machine."""

    mode: str
    """``bwrap`` or ``rlimits-only``."""
    drops_privileges: bool
    """Whether candidates run under an unprivileged uid of their own (Koderz runs as root)."""
    description: str
    """What holds, in a sentence or two."""


_info_lock = threading.Lock()
_info: SandboxInfo | None = None


def sandbox_info() -> SandboxInfo:
    """Find out (once per process) what isolation candidates get here, warning if it is weak.

    The first call runs a self-test of bubblewrap with a trivial program.

    Returns:
        The isolation in use.

    Raises:
        SandboxError: ``KODERZ_SANDBOX=bwrap`` is set and bubblewrap does not work, or Koderz
            runs as root without bubblewrap and the Python install is not readable by an
            unprivileged uid (so no privilege drop is possible).
    """
    global _info
    with _info_lock:
        if _info is None:
            _info = _probe()
        return _info


def isolation() -> str:
    """The isolation mode in use: ``bwrap`` or ``rlimits-only``."""
    return sandbox_info().mode


def wanted_sandbox() -> str:
    """``KODERZ_SANDBOX``: ``auto`` (the default), ``bwrap`` or ``rlimits``.

    Raises:
        ConfigError: It is set to anything else.
    """
    wanted = os.environ.get("KODERZ_SANDBOX", "auto").strip().lower() or "auto"
    if wanted not in ("auto", "bwrap", "rlimits"):
        raise ConfigError(f"KODERZ_SANDBOX={wanted!r}: use auto, bwrap or rlimits.")
    return wanted


def bwrap_may_work() -> bool:
    """Whether bubblewrap is wanted and can be tried here (the self-test decides)."""
    return (
        wanted_sandbox() != "rlimits"
        and sys.platform.startswith("linux")
        and shutil.which("bwrap") is not None
    )


def _probe() -> SandboxInfo:
    wanted = wanted_sandbox()
    root = os.geteuid() == 0
    problem = "linux only" if not sys.platform.startswith("linux") else None
    if wanted != "rlimits" and problem is None:
        problem = _self_test()
        if problem is None:
            return SandboxInfo(
                mode="bwrap",
                drops_privileges=root,
                description="bubblewrap: new PID/network/IPC/UTS namespaces, read-only "
                "system and Python install only, fresh size-limited tmpfs, clean "
                "environment, rlimits" + (", unprivileged uid per candidate" if root else ""),
            )
        if wanted == "bwrap":
            raise SandboxError(
                f"KODERZ_SANDBOX=bwrap but bubblewrap does not work here: {problem}. "
                "Install it (`apt-get install bubblewrap`) and allow user namespaces."
            )
    unreadable = [p for p in (sys.base_prefix, str(JUDGE)) if not _world_readable(p)]
    if root and unreadable:
        raise SandboxError(
            "Koderz runs as root without a working bubblewrap"
            + (f" ({problem})" if problem else "")
            + f", and {' and '.join(unreadable)} cannot be read by an unprivileged uid, so "
            "candidates would run as root, where the process limit does not hold. Install "
            "bubblewrap (`apt-get install bubblewrap`) or run Koderz as a normal user."
        )
    description = (
        "rlimits-only: CPU/memory/file-size/process rlimits, clean environment, new "
        "session, fresh temporary folder"
        + (", unprivileged uid per candidate" if root else "")
        + ". NOT isolated: the candidate can read any file the "
        + ("sandbox uid" if root else "current user")
        + " can read and can open network connections"
        + ("" if root else ", and daemons it starts may outlive it")
        + "."
    )
    warnings.warn(
        f"Koderz sandbox without bubblewrap ({problem or 'KODERZ_SANDBOX=rlimits'}): "
        f"{description} For full isolation install bubblewrap "
        "(`apt-get install bubblewrap`) on Linux with user namespaces enabled.",
        RuntimeWarning,
        stacklevel=3,
    )
    return SandboxInfo(mode="rlimits-only", drops_privileges=root, description=description)


def _world_readable(path: str) -> bool:
    """Whether any user can reach ``path`` (others may enter every folder above it) and read
    it (and enter it, if it is a folder)."""
    target = Path(path).resolve()
    try:
        for folder in target.parents:
            if not folder.stat().st_mode & 0o001:
                return False
        mode = target.stat().st_mode
    except OSError:
        return False
    need = 0o005 if target.is_dir() else 0o004
    return mode & need == need


def _self_test() -> str | None:
    """Run a trivial program through bwrap; ``None`` if it works, else what went wrong."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed"
    test = "def check(candidate):\n    assert candidate() == 1\n"
    problem = Problem("selftest", "", FunctionTests("f", test))
    try:
        result = run_candidate(
            "bwrap",
            SHAPES["function"],
            problem,
            "def f():\n    return 1\n",
            Limits(timeout_factor=4.0),
        )
    except (OSError, SandboxError) as e:
        return f"bwrap failed to start: {e}"
    if not result.passed:
        return f"bwrap self-test failed: {result.status} {result.stderr[-300:]!r}"
    return None
