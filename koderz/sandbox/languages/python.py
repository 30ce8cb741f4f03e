"""Python exercises: ``pytest`` in the exercise's folder, as Aider's benchmark runs them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from koderz.sandbox.languages.base import Step

NAME = "python"
ALIASES = ("py",)
TOOLS: tuple[str, ...] = ()
HOW = "pip install pytest (into the Python that runs Koderz)"
SYNTAX = r"SyntaxError"
"""What a MultiPL-E program that does not parse says (its verdict: SyntaxError)."""
TESTS = r"(?m)^\s*def test\w*\s*\("
"""How a test is declared in a test file (what a tester's tests are counted by)."""
COUNTS = ((r"(\d+) passed", "passed"), (r"(\d+) failed", "failed"), (r"(\d+) errors?\b", "failed"))


def absent() -> list[str]:
    return [] if importlib.util.find_spec("pytest") else ["pytest"]


def _python() -> str:
    from koderz.sandbox.proc import base_python

    return base_python()


def _env() -> tuple[tuple[str, str], ...]:
    from koderz.sandbox.proc import site_dirs

    return (
        ("PYTHONPATH", ":".join(site_dirs())),
        ("PYTHONDONTWRITEBYTECODE", "1"),
        # The exercises need pytest alone; the plugins installed beside it for other uses
        # (Koderz's own test tools) cost seconds at every start and change nothing here.
        ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"),
    )


def lay(files: dict[str, str]) -> dict[str, str]:
    return files


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    del files, name
    py, env = _python(), _env()
    return (
        Step("build", (py, "-m", "py_compile", "glob:*.py"), env),
        Step("test", (py, "-m", "pytest", "-q", "-p", "no:cacheprovider"), env),
    )


def script(source: str) -> tuple[dict[str, str], tuple[Step, ...]]:
    return {"program.py": source}, (Step("test", (_python(), "program.py"), _env()),)


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    del files, cache
    return {}
