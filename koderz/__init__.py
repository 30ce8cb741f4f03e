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
from typing import TYPE_CHECKING, Any

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
    "ModelSpec": "models.registry",
    "known_models": "models.registry",
    "register_model": "models.registry",
    "resolve_model": "models.registry",
    "Cost": "models.prices",
    "Price": "models.prices",
    "cost_usd": "models.prices",
    "list_price": "models.prices",
    "load_prices": "models.prices",
    "price_call": "models.prices",
    "set_hardware_rate": "models.prices",
    "set_price": "models.prices",
    # problems, sandbox, evaluation
    "load_problems": "problems",
    "select_problems": "problems",
    "slice_problems": "problems",
    "Limits": "sandbox",
    "format_feedback": "sandbox",
    "run_tests": "sandbox",
    "evaluate_samples": "evaluate",
    "build_program": "extract",
    "extract_code": "extract",
    # the engine and its records
    "Budget": "engine.calls",
    "ExperimentResult": "engine.experiment",
    "Strategy": "engine.strategies",
    "run_experiment": "engine.experiment",
    "BenchmarkResult": "engine.benchmark",
    "default_strategies": "engine.benchmark",
    "run_benchmark": "engine.benchmark",
    "StepWriter": "store",
    "data_folder": "store",
    "load_steps": "store",
    "experiment_story": "analysis.text.story",
    "export_experiment": "analysis.text.story",
    "runs_table": "analysis.text.story",
    # analysis, plots, reports
    "Analysis": "analysis.analyze",
    "GroupedAnalysis": "analysis.analyze",
    "analyze": "analysis.analyze",
    "analyze_by": "analysis.analyze",
    "bootstrap_ci": "analysis.stats.savings",
    "cost_breakdown": "analysis.stats.metrics",
    "cost_curve": "analysis.stats.metrics",
    "experiments": "analysis.stats.metrics",
    "headline": "analysis.text.headlines",
    "pass_at_iteration": "analysis.stats.metrics",
    "pass_at_k": "analysis.stats.estimators",
    "reprice": "analysis.stats.metrics",
    "savings": "analysis.stats.savings",
    "summarize": "analysis.stats.metrics",
    "demo_data": "analysis.demo",
    "render_report": "analysis.report.render",
}

# name -> a module the notebooks use as a namespace (``from koderz import plots``)
_NAMESPACES: dict[str, str] = {
    "plots": "analysis.report.plots",
    "widgets": "analysis.report.widgets",
}

__all__ = sorted([*_EXPORTS, *_NAMESPACES, "__version__"])


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # Read from the installed metadata on first use: importlib.metadata costs every
        # command line ~15 ms of start-up (`koderz evaluate` on one sample is ~0.1 s).
        value: Any = importlib.import_module("koderz.version").__version__
    elif name in _NAMESPACES:
        value = importlib.import_module(f"koderz.{_NAMESPACES[name]}")
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(f"koderz.{_EXPORTS[name]}"), name)
    else:
        raise AttributeError(f"module 'koderz' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what static checkers and IDEs see
    from koderz.analysis.analyze import Analysis, analyze
    from koderz.analysis.demo import demo_data
    from koderz.analysis.report import plots, widgets
    from koderz.analysis.report.render import render_report
    from koderz.analysis.stats.estimators import pass_at_k
    from koderz.analysis.stats.metrics import (
        cost_breakdown,
        cost_curve,
        experiments,
        pass_at_iteration,
        reprice,
        summarize,
    )
    from koderz.analysis.stats.savings import bootstrap_ci, savings
    from koderz.analysis.text.headlines import headline
    from koderz.analysis.text.story import experiment_story, export_experiment, runs_table
    from koderz.engine.benchmark import BenchmarkResult, default_strategies, run_benchmark
    from koderz.engine.calls import Budget
    from koderz.engine.experiment import ExperimentResult, run_experiment
    from koderz.engine.strategies import Strategy
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
    from koderz.evaluate import evaluate_samples
    from koderz.extract import build_program, extract_code
    from koderz.models import GenerateConfig, Model, RetryPolicy, check_model, get_model
    from koderz.models.prices import (
        Cost,
        Price,
        cost_usd,
        list_price,
        load_prices,
        price_call,
        set_hardware_rate,
        set_price,
    )
    from koderz.models.registry import ModelSpec, known_models, register_model, resolve_model
    from koderz.problems import load_problems, select_problems
    from koderz.records import Completion, ExecResult, Message, Problem, TestOutcome, Usage
    from koderz.sandbox import Limits, format_feedback, run_tests
    from koderz.store import StepWriter, data_folder, load_steps
    from koderz.version import __version__
