"""Koderz: how cheaply can code get written if a cheap model does the work and an expensive
model only advises?

The notebook-facing API. Everything a notebook needs is importable from here; ``__all__`` is
kept honest by ``tests/test_api.py``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from koderz.analysis import (
    Analysis,
    analyze,
    bootstrap_ci,
    cost_breakdown,
    cost_curve,
    experiments,
    headline,
    pass_at_iteration,
    pass_at_k,
    reprice,
    savings,
    summarize,
)
from koderz.demo import demo_data
from koderz.errors import (
    ConfigError,
    DataError,
    KoderzError,
    MissingKeyError,
    ProblemFileError,
    ProviderError,
    SandboxError,
    UnknownModelError,
)
from koderz.evaluation import evaluate_samples
from koderz.problems import load_problems, select_problems
from koderz.records import Completion, ExecResult, Message, Problem, TestOutcome, Usage
from koderz.sandbox import Limits, format_feedback, run_tests

try:
    __version__ = version("koderz")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "Analysis",
    "Completion",
    "ConfigError",
    "DataError",
    "ExecResult",
    "KoderzError",
    "Limits",
    "Message",
    "MissingKeyError",
    "Problem",
    "ProblemFileError",
    "ProviderError",
    "SandboxError",
    "TestOutcome",
    "UnknownModelError",
    "Usage",
    "__version__",
    "analyze",
    "bootstrap_ci",
    "cost_breakdown",
    "cost_curve",
    "demo_data",
    "evaluate_samples",
    "experiments",
    "format_feedback",
    "headline",
    "load_problems",
    "pass_at_iteration",
    "pass_at_k",
    "reprice",
    "run_tests",
    "savings",
    "select_problems",
    "summarize",
]
