"""The script shape in the judge: a MultiPL-E program (prompt, completion and tests in one
file) compiled where its language compiles and run whole; the same judge as the build
shape's (``build.py``), with no count of tests: the program's exit status is its one case.

Part of the judge (``koderz/sandbox/judge/``); the host's half is ``koderz/sandbox/script.py``.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

from .build import run_tests, serve

__all__ = ["run_tests", "serve"]
