"""Java exercises: javac and JUnit 5's console launcher, with ``@Disabled`` ignored as
Aider's benchmark does (without Gradle fetching its wrapper); the jars come from Koderz's
cache, filled from Maven Central by ``scripts/setup.sh``."""

from __future__ import annotations

import re
from pathlib import Path

from koderz.sandbox.languages.base import CACHE, Step

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


def lay(files: dict[str, str]) -> dict[str, str]:
    return {
        path: re.sub(r"@Disabled\([^)]*\)\s*\n", "", text) if path.endswith(".java") else text
        for path, text in files.items()
    }


def _javac(*args: str) -> tuple[str, ...]:
    return ("javac", *(f"-J{flag}" for flag in _JVM), "-encoding", "UTF-8", *args)


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    del files, name
    jars = f"{_JARS}/assertj-core.jar"
    launcher = f"{_JARS}/junit-platform-console-standalone.jar"
    classes = f"build/main:build/test:{jars}"
    return (
        Step("build", _javac("-d", "build/main", "glob:src/main/java/**/*.java")),
        Step(
            "test",
            _javac(
                "-d",
                "build/test",
                "-cp",
                f"build/main:{jars}:{launcher}",
                "glob:src/test/java/**/*.java",
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
        Step("build", _javac("-d", "out", "-cp", tuples, "Problem.java")),
        Step("test", ("java", *_JVM, "-ea", "-cp", f"out:{tuples}", "Problem")),
    )


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    del files, cache
    return {}
