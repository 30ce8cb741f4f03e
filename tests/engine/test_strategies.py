"""Strategies: their checks, list expansion, the TOML file and the built-in presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from koderz.cli import main
from koderz.engine.strategies import FEEDBACK_CHOICES, KINDS, LEAKY_FEEDBACK, Strategy
from koderz.engine.strategy_files import expand, load_strategies, presets, strategies_toml
from koderz.errors import ConfigError
from koderz.sandbox import FEEDBACK_LEVELS


def test_feedback_choices_are_the_sandbox_levels_and_two_more():
    assert ("auto", "public", *FEEDBACK_LEVELS) == FEEDBACK_CHOICES
    assert LEAKY_FEEDBACK == FEEDBACK_LEVELS  # every level the sandbox formats leaks


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"kind": "cascade", "rungs": ("a:1b",)}, "at least two workers"),
        ({"kind": "cascade", "worker": "b:7b", "rungs": ("a:1b", "c:1b")}, "first rung"),
        ({"worker": "a:1b", "rungs": ("a:1b", "b:1b")}, "takes no rungs"),
        ({"kind": "architect", "worker": "a:1b"}, "architect model goes with"),
        ({"worker": "a:1b", "architect": "x"}, "architect model goes with"),
        ({"kind": "architect", "worker": "a", "architect": "x", "spec_model": "y"}, "spec"),
        ({"kind": "repair", "worker": "a:1b"}, "repairer model goes with"),
        ({"kind": "repair", "worker": "a", "repairer": "x", "repair_after": 5}, "never comes"),
        ({"kind": "swarm", "worker": "a:1b"}, "Unknown strategy kind 'swarm'"),
        ({"worker": "a:1b", "feedback": "hidden"}, "Unknown feedback level 'hidden'"),
        ({}, "needs a worker model"),
        ({"worker": "a:1b", "rung_attempts": 0}, "rung_attempts"),
    ],
)
def test_a_strategy_refuses_what_cannot_run(settings, message):
    with pytest.raises(ConfigError, match=message):
        Strategy("s", **settings)


def test_models_lists_every_model_once():
    ladder = Strategy("l", kind="cascade", rungs=("a:1b", "b:7b"), reviewer="b:7b")
    assert ladder.models() == ["a:1b", "b:7b"]
    fixer = Strategy("f", kind="repair", worker="a:1b", repairer="x", spec_model="y")
    assert fixer.models() == ["a:1b", "y", "x"]


def test_a_list_value_expands_into_one_strategy_per_value():
    got = expand("adv", {"worker": "m:7b", "checkpoint_interval": [1, 2], "mode": ["zero_shot"]})
    assert [s.name for s in got] == [
        "adv@checkpoint_interval=1,mode=zero_shot",
        "adv@checkpoint_interval=2,mode=zero_shot",
    ]
    assert [(s.checkpoint_interval, s.mode) for s in got] == [(1, "zero_shot"), (2, "zero_shot")]


def test_rungs_expand_only_as_a_list_of_ladders():
    one = expand("c", {"kind": "cascade", "rungs": ["a:1b", "b:7b"]})
    assert [s.rungs for s in one] == [("a:1b", "b:7b")]
    two = expand("c", {"kind": "cascade", "rungs": [["a:1b", "b:7b"], ["a:1b", "c:7b"]]})
    assert [s.name for s in two] == ["c@rungs=a:1b+b:7b", "c@rungs=a:1b+c:7b"]


def test_an_unknown_setting_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown setting.*max_iteration\b.*max_iterations"):
        expand("s", {"worker": "a:1b", "max_iteration": 3})


def test_a_strategies_file_with_defaults_and_expansion(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "[defaults]\nmax_iterations = 3\nfeedback = 'public'\n\n"
        "[strategies.local-only]\nworker = 'qwen2.5-coder:7b'\n\n"
        '[strategies."local+frontier"]\nworker = "qwen2.5-coder:7b"\n'
        'reviewer = "claude-sonnet-4-5"\ncheckpoint_interval = [1, 2]\n\n'
        "[strategies.ladder]\nkind = 'cascade'\nrungs = ['qwen2.5-coder:7b', 'gpt-4o']\n"
    )
    got = load_strategies(path)
    assert [s.name for s in got] == [
        "local-only",
        "local+frontier@checkpoint_interval=1",
        "local+frontier@checkpoint_interval=2",
        "ladder",
    ]
    assert {s.feedback for s in got} == {"public"}
    assert [s.max_iterations for s in got] == [3, 3, 3, 4]  # a cascade's follows its rungs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "is not valid TOML"),
        ("[defaults]\nmax_iterations = 2\n", r"must hold \[strategies.NAME\] tables"),
        ("[strategy.a]\nworker = 'x:1b'\n", "unknown: strategy"),
        ("[strategies.a]\nworker = 'x:1b'\nmax_iterations = 0\n", "strategy 'a'"),
        ("[strategies]\na = 3\n", "must be a table"),
    ],
)
def test_a_bad_strategies_file_names_itself_and_the_fix(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as e:
        load_strategies(path)
    assert str(path) in str(e.value)


def test_presets_cover_every_kind_and_survive_a_round_trip(tmp_path):
    kinds = {s.kind for s in presets()}
    assert kinds == set(KINDS)
    path = tmp_path / "p.toml"
    path.write_text(strategies_toml(presets()))
    assert load_strategies(path) == presets()


def test_koderz_strategies_prints_and_writes_the_presets(tmp_path, capsys):
    assert main(["strategies"]) == 0
    printed = capsys.readouterr().out
    assert '[strategies.cascade]\nkind = "cascade"' in printed
    target = tmp_path / "mine.toml"
    assert main(["strategies", "--write", str(target)]) == 0
    assert target.read_text() == printed
    assert main(["strategies", "--write", str(target)]) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err


def test_switches_beside_a_strategies_file_are_refused(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text(strategies_toml(presets()))
    status = main(["benchmark", "--strategies", str(path), "--max-iterations", "3"])
    assert status == 2
    assert "--max-iterations cannot go with --strategies" in capsys.readouterr().err


def test_the_documented_strategies_file_loads(tmp_path):
    page = (Path(__file__).resolve().parents[2] / "docs" / "strategies.md").read_text()
    advisor, block = [b.split("\n", 1)[1] for b in page.split("```")[1::2] if b.startswith("toml")]
    path = tmp_path / "strategies.toml"
    path.write_text(advisor)
    assert [(s.advice, s.max_advice) for s in load_strategies(path)] == [
        ("on_request", 1),
        ("on_request", 3),
    ]
    path.write_text(block)
    got = {s.name: s for s in load_strategies(path)}
    assert list(got) == [
        "local-only",
        "local+frontier@checkpoint_interval=1",
        "local+frontier@checkpoint_interval=2",
        "frontier-only",
        "ladder",
        "best-of-n@samples=1",
        "best-of-n@samples=3",
    ]
    assert got["ladder"].kind == "cascade" and got["ladder"].max_iterations == 6
    assert got["best-of-n@samples=3"].tester == "qwen2.5-coder:7b"
    assert {s.feedback for s in got.values()} == {"public"}


def test_stop_samples_and_escalation_are_settings_a_file_can_sweep(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[strategies.best]\nkind = "sample"\nworker = "m:1b"\nsamples = [2, 4]\n'
        'stop = ["visible", "oracle"]\ntester = "m:1b"\n'
        '[strategies.ladder]\nkind = "cascade"\nrungs = ["a:1b", "b:7b"]\n'
        "escalate_below = 0.75\n"
    )
    got = {s.name: s for s in load_strategies(path)}
    assert sorted(got) == [
        "best@samples=2,stop=oracle",
        "best@samples=2,stop=visible",
        "best@samples=4,stop=oracle",
        "best@samples=4,stop=visible",
        "ladder",
    ]
    best = got["best@samples=4,stop=visible"]
    assert (best.max_iterations, best.mode, best.models()) == (4, "zero_shot", ["m:1b"])
    assert got["ladder"].escalate_below == 0.75
    settings = best.settings()
    assert (settings["samples"], settings["tester_model"], settings["stop"]) == (
        4,
        "m:1b",
        "visible",
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"escalate_below": 0.5}, "escalate_below goes with kind 'cascade' only"),
        ({"kind": "cascade", "rungs": ("a:1", "b:2"), "escalate_below": 1.5}, "above 0 and at"),
        ({"kind": "sample", "reviewer": "b:2"}, "draws independent answers"),
        ({"tests_per_problem": 0}, "tests_per_problem of strategy"),
        ({"stop": "never"}, "Unknown stop rule"),
    ],
)
def test_settings_that_make_no_sense_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        Strategy("s", worker="a:1", **settings)
