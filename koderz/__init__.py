"""Koderz: how cheaply can code get written if a cheap model does the work and an expensive
model only advises?

The notebook-facing API. Everything a notebook needs is importable from here::

    import koderz
    run = koderz.run_benchmark(worker="smollm2", limit=5)
    koderz.analyze(run.steps).text()

Names are imported on first use (PEP 562), so ``import koderz`` and the command line stay
fast; ``__all__`` is kept honest by ``tests/test_api.py``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("koderz")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

# name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # records and errors
    "Completion": "records",
    "ExecResult": "records",
    "Message": "records",
    "Problem": "records",
    "TestOutcome": "records",
    "Usage": "records",
    "ConfigError": "errors",
    "DataError": "errors",
    "KoderzError": "errors",
    "MissingKeyError": "errors",
    "ProblemFileError": "errors",
    "ProviderError": "errors",
    "SandboxError": "errors",
    "UnknownModelError": "errors",
    # models, registry, prices
    "GenerateConfig": "models",
    "Model": "models",
    "RetryPolicy": "models",
    "check_model": "models",
    "get_model": "models",
    "ModelSpec": "registry",
    "known_models": "registry",
    "register_model": "registry",
    "resolve_model": "registry",
    "Cost": "prices",
    "Price": "prices",
    "cost_usd": "prices",
    "list_price": "prices",
    "load_prices": "prices",
    "price_call": "prices",
    "set_hardware_rate": "prices",
    "set_price": "prices",
    # problems, sandbox, evaluation
    "load_problems": "problems",
    "select_problems": "problems",
    "Limits": "sandbox",
    "format_feedback": "sandbox",
    "run_tests": "sandbox",
    "evaluate_samples": "evaluation",
    "build_program": "extract",
    "extract_code": "extract",
    # the engine and its records
    "Budget": "experiment",
    "ExperimentResult": "experiment",
    "Strategy": "experiment",
    "run_experiment": "experiment",
    "BenchmarkResult": "benchmark",
    "default_strategies": "benchmark",
    "run_benchmark": "benchmark",
    "StepWriter": "store",
    "load_steps": "store",
    "experiment_story": "story",
    "export_experiment": "story",
    "runs_table": "story",
    # analysis, plots, reports
    "Analysis": "analysis",
    "analyze": "analysis",
    "bootstrap_ci": "cost_savings",
    "cost_breakdown": "analysis",
    "cost_curve": "analysis",
    "experiments": "analysis",
    "headline": "cost_savings",
    "pass_at_iteration": "analysis",
    "pass_at_k": "analysis",
    "reprice": "analysis",
    "savings": "cost_savings",
    "summarize": "analysis",
    "demo_data": "demo",
    "render_report": "reports",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'koderz' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"koderz.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what static checkers and IDEs see
    from koderz.analysis import (
        Analysis,
        analyze,
        cost_breakdown,
        cost_curve,
        experiments,
        pass_at_iteration,
        pass_at_k,
        reprice,
        summarize,
    )
    from koderz.benchmark import BenchmarkResult, default_strategies, run_benchmark
    from koderz.cost_savings import bootstrap_ci, headline, savings
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
    from koderz.experiment import Budget, ExperimentResult, Strategy, run_experiment
    from koderz.extract import build_program, extract_code
    from koderz.models import GenerateConfig, Model, RetryPolicy, check_model, get_model
    from koderz.prices import (
        Cost,
        Price,
        cost_usd,
        list_price,
        load_prices,
        price_call,
        set_hardware_rate,
        set_price,
    )
    from koderz.problems import load_problems, select_problems
    from koderz.records import Completion, ExecResult, Message, Problem, TestOutcome, Usage
    from koderz.registry import ModelSpec, known_models, register_model, resolve_model
    from koderz.reports import render_report
    from koderz.sandbox import Limits, format_feedback, run_tests
    from koderz.store import StepWriter, load_steps
    from koderz.story import experiment_story, export_experiment, runs_table
