"""Java exercises: javac and JUnit 5's console launcher, with ``@Disabled`` ignored as
Aider's benchmark does (without Gradle fetching its wrapper); the jars come from Koderz's
cache, filled from Maven Central by ``scripts/setup.sh``.

javac is Koderz's tool, not the candidate's code, and its runs are short: its JVM stops at
the first JIT tier and collects with the serial collector (half its CPU time), and maps the
classes of the compiler from a class-data archive (AppCDS) that Koderz dumps once per JDK,
outside any sandbox, into its cache (read-only in the sandbox). The tests' JVM keeps its
defaults: a candidate's code there may compute for seconds, and needs the optimising tier.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from koderz.sandbox.languages.base import CACHE, Step, cache_dir

NAME = "java"
ALIASES: tuple[str, ...] = ()
TOOLS = ("javac", "java")
CACHED = ("java/junit-platform-console-standalone.jar", "java/assertj-core.jar")
HOW = (
    "install a JDK (apt-get install default-jdk-headless maven), then run scripts/setup.sh, "
    "which puts JUnit 5 and AssertJ in Koderz's cache"
)
TESTS = r"@Test\b"
"""How a test is declared in a test file (what a tester's tests are counted by)."""
COUNTS = ((r"(\d+) tests successful", "passed"), (r"(\d+) tests failed", "failed"))
_JARS = f"{CACHE}/java"
_JVM = ("-Xmx768m", "-XX:ReservedCodeCacheSize=64m", "-XX:CompressedClassSpaceSize=128m")
_JAVAC_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
"""For javac alone (measured on bowling's test class: 1.8 s of CPU without, 0.9 s with)."""


def lay(files: dict[str, str]) -> dict[str, str]:
    return {
        path: re.sub(r"@Disabled\([^)]*\)\s*\n", "", text) if path.endswith(".java") else text
        for path, text in files.items()
    }


@functools.lru_cache(maxsize=1)
def _archive() -> str | None:
    """The name of javac's class-data archive for the JDK here (its JVM's version and the
    compiler's path decide it: a new JDK dumps a new one); None without a javac."""
    javac = shutil.which("javac")
    if javac is None:
        return None
    try:
        out = subprocess.run(
            [javac, "-J-version"], capture_output=True, text=True, timeout=60
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    key = hashlib.sha256(f"{os.path.realpath(javac)}\0{out}".encode()).hexdigest()[:24]
    return f"javac-{key}.jsa"


def _javac(*args: str, archive: str | None = None) -> tuple[str, ...]:
    jvm: tuple[str, ...] = (*_JVM, *_JAVAC_JVM)
    if archive:
        jvm += (f"-XX:SharedArchiveFile={archive}",)
    return ("javac", *(f"-J{flag}" for flag in jvm), "-encoding", "UTF-8", *args)


def _shared() -> str | None:
    """javac's archive inside the sandbox, if Koderz has dumped it."""
    name = _archive()
    if name and (cache_dir() / "java" / name).is_file():
        return f"{_JARS}/{name}"
    return None


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    del files, name
    jars = f"{_JARS}/assertj-core.jar"
    launcher = f"{_JARS}/junit-platform-console-standalone.jar"
    classes = f"build/main:build/test:{jars}"
    shared = _shared()
    return (
        Step("build", _javac("-d", "build/main", "glob:src/main/java/**/*.java", archive=shared)),
        Step(
            "test",
            _javac(
                "-d",
                "build/test",
                "-cp",
                f"build/main:{jars}:{launcher}",
                "glob:src/test/java/**/*.java",
                archive=shared,
            ),
        ),
        Step(
            "test",
            (
                "java",
                *_JVM,
                "-jar",
                launcher,
                "execute",
                "--disable-banner",
                "--disable-ansi-colors",
                "--details=summary",
                "-cp",
                classes,
                "--scan-class-path",
            ),
        ),
    )


def script(source: str) -> tuple[dict[str, str], tuple[Step, ...]]:
    # MultiPL-E's programs are one class Problem, with javatuples on the class path.
    tuples = f"{_JARS}/javatuples.jar"
    return {"Problem.java": source}, (
        Step("build", _javac("-d", "out", "-cp", tuples, "Problem.java", archive=_shared())),
        Step("test", ("java", *_JVM, "-ea", "-cp", f"out:{tuples}", "Problem")),
    )


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    """Dump javac's class-data archive into the cache, once per JDK, by compiling this
    exercise (its reference and tests) outside any sandbox; nothing to add to its files."""
    name = _archive()
    target = cache / "java" / (name or "")
    if name is None or target.is_file():
        return {}
    jars = cache / "java"
    with tempfile.TemporaryDirectory(prefix="koderz-java-") as tmp:
        for path, text in files.items():
            (Path(tmp) / path).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / path).write_text(text)
        sources = sorted(str(p) for p in Path(tmp).glob("src/**/*.java"))
        if not sources:
            return {}
        dumped = Path(tmp) / "javac.jsa"
        classpath = f"{jars}/assertj-core.jar:{jars}/junit-platform-console-standalone.jar"
        argv = _javac("-d", "out", "-cp", classpath, *sources)
        argv = (argv[0], f"-J-XX:ArchiveClassesAtExit={dumped}", *argv[1:])
        subprocess.run(argv, cwd=tmp, capture_output=True, timeout=600)
        if dumped.is_file():  # else javac runs without one, as before
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(dumped, target.with_suffix(f".{os.getpid()}.tmp"))
            os.replace(target.with_suffix(f".{os.getpid()}.tmp"), target)
    return {}
