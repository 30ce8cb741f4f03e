"""Rust exercises: ``cargo test -- --include-ignored``, offline. An exercise's crates are
vendored once by Koderz, outside any sandbox, into its cache; the candidate's build reads
them read-only (a ``.cargo/config.toml`` laid beside the exercise points cargo there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from koderz.errors import SandboxError
from koderz.sandbox.languages.base import CACHE, INSIDE, Step, digest

NAME = "rust"
ALIASES = ("rs",)
TOOLS: tuple[str, ...] = ()  # on PATH or in ~/.cargo/bin, where rustup puts them: absent()
HOW = "install Rust with rustup (https://rustup.rs), or apt-get install cargo"
TESTS = r"#\[test\]"
"""How a test is declared in a test file (what a tester's tests are counted by)."""
COUNTS = (
    (r"test result: \w+\. (\d+) passed", "passed"),
    (r"test result: \w+\. \d+ passed; (\d+) failed", "failed"),
)
_ENV = (
    ("PATH", f"{INSIDE}/rust/bin:/usr/local/bin:/usr/bin:/bin"),
    ("CARGO_HOME", "/tmp/.cargo"),
    ("CARGO_NET_OFFLINE", "true"),
    ("CARGO_TERM_COLOR", "never"),
    ("CARGO_INCREMENTAL", "0"),
)


def tool(name: str) -> str | None:
    """Where ``name`` (cargo, rustc) is: on PATH, or in ~/.cargo/bin, where rustup installs
    it without the shell that ran it knowing."""
    found = shutil.which(name)
    if found is None and (Path.home() / ".cargo" / "bin" / name).is_file():
        found = str(Path.home() / ".cargo" / "bin" / name)
    return found


def absent() -> list[str]:
    return [name for name in ("cargo", "rustc") if tool(name) is None]


def lay(files: dict[str, str]) -> dict[str, str]:
    return files


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    del files, name
    return (
        Step("build", ("cargo", "build", "--offline", "--quiet"), _ENV),
        Step("test", ("cargo", "test", "--offline", "--", "--include-ignored"), _ENV),
    )


def script(source: str) -> tuple[dict[str, str], tuple[Step, ...]]:
    return {"program.rs": source}, (
        Step("build", ("rustc", "--edition", "2021", "-o", "program", "program.rs"), _ENV),
        Step("test", ("./program",), _ENV),
    )


def _has_deps(manifest: str) -> bool:
    lines = manifest.split("[dependencies]", 1)
    if len(lines) < 2:
        return False
    body = lines[1].split("\n[", 1)[0]
    return any(line.strip() and not line.strip().startswith("#") for line in body.splitlines())


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    """Vendor the exercise's crates into the cache (once per manifest); the files that
    point cargo at them."""
    manifest = files.get("Cargo.toml", "")
    if not _has_deps(manifest):
        return {}
    key = digest(manifest, 24)
    vendor = cache / "cargo" / key
    if not (vendor / "Cargo.lock").exists():
        with tempfile.TemporaryDirectory(prefix="koderz-cargo-") as tmp:
            for path, text in files.items():
                (Path(tmp) / path).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / path).write_text(text)
            argv = [tool("cargo") or "cargo", "vendor", "--quiet", str(vendor / "vendor")]
            out = subprocess.run(
                argv, cwd=tmp, capture_output=True, text=True, env=dict(os.environ), timeout=900
            )
            if out.returncode != 0:
                raise SandboxError(f"cargo vendor failed: {out.stderr.strip()[-500:]}")
            (vendor / "Cargo.lock").write_text((Path(tmp) / "Cargo.lock").read_text())
    config = (
        '[source.crates-io]\nreplace-with = "koderz"\n\n'
        f'[source.koderz]\ndirectory = "{CACHE}/cargo/{key}/vendor"\n'
    )
    return {".cargo/config.toml": config, "Cargo.lock": (vendor / "Cargo.lock").read_text()}
