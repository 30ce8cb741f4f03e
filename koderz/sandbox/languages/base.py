"""What every language module shares: a command step, and where toolchains live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CACHE", "INSIDE", "Step", "cache_dir", "digest"]

INSIDE = "/opt/koderz"
"""Where the toolchain cache and the Rust toolchain appear inside the sandbox."""
CACHE = f"{INSIDE}/cache"
"""Koderz's toolchain cache inside the sandbox (read-only)."""


@dataclass(frozen=True)
class Step:
    """One command of a build or a test run."""

    phase: str
    """``build`` (a failure: the program does not build), ``test``, or ``check``: a build
    that runs only when the tests do not (what an experiment sees of an exercise), because
    the test steps build the program themselves and say so when it does not build (the
    language's ``NOT_BUILT``)."""
    argv: tuple[str, ...]
    """The command; an argument ``glob:PATTERN`` becomes the files it matches, sorted."""
    env: tuple[tuple[str, str], ...] = ()
    """Variables set for it on top of the sandbox's clean environment."""


def cache_dir() -> Path:
    """Koderz's toolchain cache: ``KODERZ_TOOLCHAINS``, else ``~/.cache/koderz/toolchains``."""
    raw = os.environ.get("KODERZ_TOOLCHAINS", "").strip()
    return Path(raw) if raw else Path.home() / ".cache" / "koderz" / "toolchains"


def digest(text: str, length: int = 32) -> str:
    """The first ``length`` hex digits of ``text``'s SHA-256: what names an entry of the
    cache (hashlib is imported here, when a key is made, not by every command that judges)."""
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:length]
