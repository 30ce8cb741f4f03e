"""Go exercises: ``go test`` (verbose, for per-test results), offline against Go modules
Koderz fetched and a build cache it warmed, both read-only in the sandbox: a candidate
reads the compiled standard library and test harness from it and cannot change it for the
candidates after."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from koderz.errors import SandboxError
from koderz.sandbox.languages.base import CACHE, Step, digest

NAME = "go"
ALIASES = ("go_test.go",)
TOOLS = ("go",)
HOW = "apt-get install golang (or Go from https://go.dev/dl into /usr/local/go)"
TESTS = r"(?m)^func Test\w*\s*\("
"""How a test is declared in a test file (what a tester's tests are counted by)."""
COUNTS = ((r"(?m)^\s*--- PASS", "passed"), (r"(?m)^\s*--- FAIL", "failed"))
EMPTY = r"\[no tests to run\]"
"""What ``go test`` says when a package has no test (counter: the exercise is to write them);
its exit status 0 is then the verdict, as the benchmark's."""
NOT_BUILT = r"\[(?:build|setup) failed\]"
"""What ``go test`` says of a package that does not build: it builds and tests in one
command (an exercise's tests may define what its solution uses), so this is its build's
failure, as MultiPL-E reads it."""


def _env(cache: str) -> tuple[tuple[str, str], ...]:
    # The same in the sandbox and when the cache is warmed, so that its entries match.
    return (
        ("GOCACHE", f"{cache}/go/build"),
        ("GOMODCACHE", f"{cache}/go/mod"),
        ("GOPATH", "/tmp/.gopath"),
        ("GOFLAGS", "-mod=mod"),
        ("GOPROXY", "off"),
        ("GOTOOLCHAIN", "local"),
        ("GOTELEMETRY", "off"),
        ("CGO_ENABLED", "0"),
    )


def lay(files: dict[str, str]) -> dict[str, str]:
    return files


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    del files, name
    return (Step("test", ("go", "test", "-v", "./..."), _env(CACHE)),)


def script(source: str) -> tuple[dict[str, str], tuple[Step, ...]]:
    env = _env(CACHE)
    files = {"go.mod": "module program\n\ngo 1.18\n", "program_test.go": source}
    return files, (Step("test", ("go", "test", "."), env),)


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    """Fetch the exercise's modules and compile what its tests need into the cache, once,
    outside any sandbox (compiled, not run: the standard library and the test harness are
    what the candidates after it find there)."""
    stamp = cache / "go" / "warmed" / _key(files)
    if stamp.exists():
        return {}
    env = {**os.environ, **dict(_env(str(cache)))}
    env["GOPROXY"] = os.environ.get("GOPROXY", "https://proxy.golang.org,direct")
    with tempfile.TemporaryDirectory(prefix="koderz-go-") as tmp:
        for path, text in files.items():
            (Path(tmp) / path).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / path).write_text(text)
        # Compiled, never run: the test binary goes nowhere.
        compile_only = ["go", "test", "-c", "-o", os.devnull, "."]
        for argv in (["go", "mod", "download"], compile_only):
            out = subprocess.run(
                argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=600
            )
            if out.returncode != 0 and argv[1] == "mod":
                raise SandboxError(f"go mod download failed: {out.stderr.strip()[-500:]}")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    return {}


def _key(files: dict[str, str]) -> str:
    text = "\0".join(
        f"{p}\0{t}" for p, t in sorted(files.items()) if re.search(r"(\.go|go\.mod)$", p)
    )
    return digest(text)
