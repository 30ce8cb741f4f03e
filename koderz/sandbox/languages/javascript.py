"""JavaScript exercises: jest with babel, ``xtest`` run as ``test`` (Aider's
``npm-test.sh``); jest and the exercises' babel preset come from Koderz's npm cache."""

from __future__ import annotations

import re
from pathlib import Path

from koderz.sandbox.languages.base import CACHE, Step

NAME = "javascript"
ALIASES = ("js",)
TOOLS = ("node",)
CACHED = ("npm/node_modules/jest", "npm/node_modules/@exercism/babel-preset-javascript")
HOW = (
    "install Node (apt-get install nodejs npm), then run scripts/setup.sh, which puts jest "
    "and babel in Koderz's npm cache"
)
SYNTAX = r"SyntaxError"
"""What a MultiPL-E program that does not parse says (its verdict: SyntaxError)."""
TESTS = r"(?m)^\s*x?(?:test|it)\s*\("
"""How a test is declared in a test file (what a tester's tests are counted by)."""
COUNTS = ((r"Tests:.*?(\d+) passed", "passed"), (r"Tests:.*?(\d+) failed", "failed"))
LINKS = (("node_modules", f"{CACHE}/npm/node_modules"),)
"""Symbolic links laid in the exercise's folder, ``(path, target)``."""


def lay(files: dict[str, str]) -> dict[str, str]:
    return {
        path: re.sub(r"\bxtest\(", "test(", text) if path.endswith(".spec.js") else text
        for path, text in files.items()
    }


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    del files, name
    jest = f"{CACHE}/npm/node_modules/jest/bin/jest.js"
    argv = ("node", jest, "--ci", "--watchman=false", "--cacheDirectory=/tmp/.jest-cache")
    return (Step("test", argv),)


def script(source: str) -> tuple[dict[str, str], tuple[Step, ...]]:
    return {"program.js": source}, (Step("test", ("node", "program.js")),)


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    del files, cache
    return {}
