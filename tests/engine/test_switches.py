"""One table of a strategy's settings: Strategy's defaults, the command line's flags, what
run_benchmark takes and the docs' table are all made from it."""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from koderz.cli import _build_parser, main
from koderz.engine import benchmark
from koderz.engine.strategies import Strategy
from koderz.engine.switches import (
    REASONING_CHOICES,
    RUN_SWITCHES,
    SWITCHES,
    markdown_table,
)
from koderz.models.base import REASONING_LEVELS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"
# The flags of `koderz run` and `koderz benchmark` before the table made them: users' scripts
# call them, so they stay.
FLAGS = {
    "--worker",
    "--spec-model",
    "--reviewer",
    "--tester",
    "--max-iterations",
    "--checkpoint-interval",
    "--stop",
    "--feedback",
    "--mode",
    "--temperature",
    "--seed",
    "--max-tokens",
    "--tests-per-problem",
    "--advice",
    "--max-advice",
    "--reasoning",
    "--reuse-spec",
}


def test_the_table_is_every_field_of_a_strategy_and_its_defaults() -> None:
    strategy_fields = [f for f in fields(Strategy) if f.name != "name"]
    assert [s.name for s in SWITCHES] == [f.name for f in strategy_fields]
    assert [s.default for s in SWITCHES] == [f.default for f in strategy_fields]


def test_every_default_is_immutable() -> None:
    # Strategy's fields share their default values (a dataclass default is made once).
    for switch in SWITCHES:
        assert isinstance(switch.default, str | int | float | bool | tuple | type(None))


def test_the_reasoning_levels_are_the_models_layers() -> None:
    assert REASONING_CHOICES == REASONING_LEVELS


@pytest.mark.parametrize("command", ["run", "benchmark"])
def test_the_command_lines_flags_are_the_tables(command: str) -> None:
    sub = next(a for a in _build_parser()._actions if a.dest == "command")
    parser = sub.choices[command]  # type: ignore[index]
    actions = {a.option_strings[0]: a for a in parser._actions if a.option_strings}
    assert {s.flag for s in RUN_SWITCHES} == FLAGS <= set(actions)
    for switch in RUN_SWITCHES:
        action = actions[str(switch.flag)]
        assert action.dest == switch.name
        assert action.default is None  # given or not, told apart
        assert tuple(action.choices or ()) == switch.choices
        assert str(switch.shown_default()) in str(action.help)


def test_run_benchmark_takes_the_run_switches_with_the_strategys_defaults() -> None:
    params = inspect.signature(benchmark.run_benchmark).parameters
    assert all(params[s.name].kind is inspect.Parameter.KEYWORD_ONLY for s in RUN_SWITCHES)
    # The roles that build one strategy are None when not given (then the defaults run).
    chosen = {
        s.name: params[s.name].default
        for s in RUN_SWITCHES
        if s.name not in ("worker", "spec_model", "reviewer")
    }
    assert Strategy("s", worker="w:1", **chosen) == Strategy("s", worker="w:1")


def test_what_the_command_line_gives_reaches_run_benchmark_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    got: dict[str, Any] = {}

    def fake_run_benchmark(**kwargs: Any) -> Any:
        got.update(kwargs)
        raise KeyboardInterrupt  # enough: the arguments are what the test wants

    monkeypatch.setattr(benchmark, "run_benchmark", fake_run_benchmark)
    argv = ["benchmark", "--worker", "w:1", "--spec-model", "none", "--max-iterations", "3"]
    argv += ["--reuse-spec", "--reasoning", "worker=low", "--advice", "on_failure"]
    assert main([*argv, "--reviewer", "r:1", "--no-progress"]) == 130
    switches = {k: v for k, v in got.items() if k in {s.name for s in RUN_SWITCHES}}
    assert switches == {
        "worker": "w:1",
        "reviewer": "r:1",
        "max_iterations": 3,
        "reuse_spec": True,
        "reasoning": {"worker": "low"},
        "advice": "on_failure",
    }
    capsys.readouterr()


def test_the_docs_table_is_made_from_the_table() -> None:
    assert markdown_table() in DOCS.read_text(), (
        "docs/strategies.md's table of settings is out of date: replace it with the output "
        "of `python -m koderz.engine.switches`"
    )
