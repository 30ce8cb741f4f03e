"""The script shape on the host: a MultiPL-E program (its prompt, the completion and its
tests, in one file) compiled where its language compiles and run whole.

The verdict is MultiPL-E's, in Koderz's words: ``OK`` is ``passed``, ``SyntaxError`` (the
program does not compile) is ``syntax_error``, ``Exception`` (it exits non-zero) is
``failed``, ``Timeout`` is ``timeout``. The judge's half is ``judge/script.py``.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import functools
from typing import Any

from koderz.errors import ConfigError, SandboxError
from koderz.records import Problem, ScriptTests
from koderz.sandbox.build import SHAPE as BUILD
from koderz.sandbox.cases import Cases, SandboxSpec
from koderz.sandbox.languages import language, missing
from koderz.sandbox.limits import Limits

__all__ = ["SHAPE", "ScriptShape"]

MULTIPLE_STATUS = {
    "passed": "OK",
    "syntax_error": "SyntaxError",
    "timeout": "Timeout",
}
"""MultiPL-E's status for a verdict's status (any other: ``Exception``)."""


class ScriptShape:
    """A whole program in a language, judged by its exit status (MultiPL-E)."""

    name = "script"

    @property
    def sandbox(self) -> SandboxSpec:
        return BUILD.sandbox  # the same toolchains: one kind of sandbox serves both

    def default_limits(self) -> Limits:
        # MultiPL-E's own timeout is 15 s a program; compiling counts against it here.
        return Limits(**{**BUILD.default_limits().__dict__, "timeout_s": 30.0})

    def plan(self, problem: Problem) -> str:
        tests = _tests(problem)
        why = missing(tests.language)
        if why is not None:
            raise SandboxError(why)
        return tests.language

    def cases(self, plan: str) -> Cases:
        return Cases(kinds=("loop",), labels=(f"the {plan} program",))

    def tests(self, plan: str, problem: Problem) -> dict[str, Any]:
        _, steps = _script(plan)
        built = any(s.phase == "build" for s in steps)
        return {
            "build": [(list(s.argv), list(s.env), ".") for s in steps if s.phase == "build"],
            "test": [(list(s.argv), list(s.env), ".") for s in steps if s.phase == "test"],
            "counts": [],
            # MultiPL-E's Python and JavaScript: a failure that says SyntaxError is one; Go's
            # that says its build failed (where the program has no build step of its own).
            "syntax": getattr(language(plan), "SYNTAX", "")
            or ("" if built else getattr(language(plan), "NOT_BUILT", "")),
        }

    def program(self, problem: Problem, code: str) -> dict[str, Any]:
        files, _ = language(_tests(problem).language).script(code)
        return {"shape": self.name, "folder": "program", "files": files, "links": []}

    def sample_limits(
        self, plan: str, problem: Problem, limits: Limits, *, chosen: bool
    ) -> tuple[Limits, dict[str, Any]]:
        return limits, {}  # the build and the tests share the sample's deadline


SHAPE = ScriptShape()


@functools.lru_cache(maxsize=64)
def _script(name: str) -> tuple[dict[str, str], Any]:
    files, steps = language(name).script("")
    return files, steps


def _tests(problem: Problem) -> ScriptTests:
    if not isinstance(problem.tests, ScriptTests):
        raise ConfigError(f"{problem.task_id} is not a MultiPL-E row")
    return problem.tests
