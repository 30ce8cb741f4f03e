"""The languages the ``build`` and ``script`` shapes run, one small module each behind one
signature (as MultiPL-E's evaluators are), in one registry.

A language module says, with no state of its own:

* ``NAME``, ``ALIASES`` (the names MultiPL-E and the polyglot checkout give it), ``TOOLS``
  (the programs it needs on this machine) and ``HOW`` (how to add them);
* ``lay(files)``: the edits the benchmark makes to an exercise's files before it tests them
  (jest's ``xtest`` run, JUnit's ``@Disabled`` ignored);
* ``steps(files)``: the build commands and the test command of an exercise, as Aider's
  benchmark runs them;
* ``script(source)``: the files and commands of a MultiPL-E program;
* ``prepare(files, cache)``: what must be fetched or warmed once, by Koderz, outside any
  sandbox (crates, Go modules, the Go build cache), so that candidates build offline;
* ``COUNTS``: patterns that find the runner's own count of passed and failed tests;
* ``TESTS``: the pattern of a test's declaration in a test file (a tester's are counted by
  it).

Everything a language needs outside ``/usr`` (npm's jest, JUnit's jars, the Rust toolchain)
lives in Koderz's toolchain cache (:func:`cache_dir`), which ``scripts/setup.sh`` fills and
the sandbox binds read-only.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from types import ModuleType

from koderz.sandbox.languages import cpp, go, java, javascript, python, rust
from koderz.sandbox.languages.base import INSIDE, Step, cache_dir

__all__ = [
    "INSIDE",
    "LANGUAGES",
    "Step",
    "cache_dir",
    "language",
    "missing",
    "sandbox_binds",
]

LANGUAGES: dict[str, ModuleType] = {m.NAME: m for m in (cpp, go, java, javascript, python, rust)}
"""Every language, by its polyglot name."""

_ALIASES = {alias: m for m in LANGUAGES.values() for alias in (m.NAME, *m.ALIASES)}


def language(name: str) -> ModuleType:
    """The module of language ``name`` (a polyglot name or a MultiPL-E code).

    Raises:
        KeyError: Koderz does not run that language.
    """
    return _ALIASES[name]


@functools.lru_cache(maxsize=1)
def rust_toolchain() -> str | None:
    """The folder of the Rust toolchain that ``cargo`` runs here (rustup's or the system's)."""
    rustc = rust.tool("rustc")
    if rustc is None:
        return None
    import subprocess

    try:
        out = subprocess.run(
            [rustc, "--print", "sysroot"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sysroot = out.stdout.strip()
    return sysroot if out.returncode == 0 and os.path.isdir(sysroot) else None


def sandbox_binds() -> tuple[tuple[str, str], ...]:
    """Read-only binds the build sandbox needs beyond the system: Koderz's toolchain cache,
    and the Rust toolchain where rustup keeps it outside ``/usr``."""
    binds = []
    # System configuration the toolchains read, none of it secret: the alternatives that
    # /usr/bin/cc and /usr/bin/javac point through, the JDK's settings, the CA certificates.
    import glob

    for folder in ("/etc/alternatives", "/etc/ssl", *sorted(glob.glob("/etc/java-*"))):
        if os.path.isdir(folder):
            binds.append((folder, folder))
    cache = cache_dir()
    with contextlib.suppress(OSError):  # now: bound before the first exercise warms it
        cache.mkdir(parents=True, exist_ok=True)
    if cache.is_dir():
        binds.append((str(cache.resolve()), f"{INSIDE}/cache"))
    sysroot = rust_toolchain()
    if sysroot and not sysroot.startswith("/usr/"):
        binds.append((sysroot, f"{INSIDE}/rust"))
    return tuple(binds)


def missing(name: str) -> str | None:
    """Why language ``name`` cannot run here, with how to add it; None if it can."""
    try:
        module = language(name)
    except KeyError:
        return f"Koderz does not run {name!r} (it runs {', '.join(LANGUAGES)})"
    absent = [tool for tool in module.TOOLS if shutil.which(tool) is None]
    absent += getattr(module, "absent", list)()
    absent += [
        f"{path} in Koderz's toolchain cache"
        for path in getattr(module, "CACHED", ())
        if not (cache_dir() / path).exists()
    ]
    if absent:
        return f"{module.NAME} needs {', '.join(absent)}: {module.HOW}"
    return None
