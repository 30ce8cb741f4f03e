"""Each strategy kind end to end, through the real SDKs against local protocol servers that
script the answers: which calls are made, by which model, what the rows say, what they cost.

Local worker on an Ollama server, small frontier model on an OpenAI server, frontier model
on an Anthropic server; one ScriptedCoder answers on all three, so "fails twice, then passes"
counts attempts across the models of a cascade.
"""

from __future__ import annotations

import pytest

from koderz import Strategy, analyze, experiment_story, experiments
from koderz.engine import prompts
from koderz.engine.benchmark import run_benchmark
from koderz.models.prices import cost_usd
from koderz.records import Usage
from koderz.store import flag
from koderz.testing import ProtocolServer, ScriptedCoder
from tests.engine_helpers import ADD

LOCAL, SMALL, FRONTIER = "qwen2.5-coder:7b", "gpt-4o-mini", "claude-sonnet-4-5"


@pytest.fixture
def tiers(serve):
    """Start the three servers; ``tiers(fail_first)`` scripts the worker's failures."""

    def start(fail_first: int, problems=(ADD,)) -> dict[str, ProtocolServer]:
        coder = ScriptedCoder(problems, fail_first=fail_first)
        return {name: serve(name, respond=coder) for name in ("ollama", "openai", "anthropic")}

    return start


def run(tmp_path, strategy: Strategy, **kw):
    return run_benchmark(
        strategies=[strategy], problems=[ADD], data_dir=tmp_path, progress=False, **kw
    )


def priced_at_their_model(steps) -> None:
    """Every call row costs its own tokens at its own model's price."""
    for row in steps[steps["role"] != "end"].itertuples():
        usage = Usage(int(row.input_tokens), int(row.output_tokens))
        assert row.cost_usd == pytest.approx(cost_usd(row.model, usage)), row.role
        assert row.paid_usd == pytest.approx(row.cost_usd + row.hardware_cost_usd)
        assert not flag(row.cached)


def test_architect_plans_then_the_worker_codes_from_the_plan(tiers, tmp_path):
    servers = tiers(1)
    result = run(tmp_path, Strategy("arch", kind="architect", worker=LOCAL, architect=FRONTIER))
    steps = result.steps
    assert list(steps["role"]) == ["plan", "attempt", "attempt", "end"]
    plan = steps.iloc[0]
    assert (plan["model"], plan["tier"]) == (FRONTIER, "frontier")
    assert plan["guidance"].startswith("1. Read the arguments.")
    assert plan["cost_usd"] > 0
    assert set(steps.loc[steps["role"] == "attempt", "model"]) == {LOCAL}
    assert (steps.iloc[-1]["status"], steps.iloc[-1]["passed"]) == ("stopped", True)
    assert set(steps["kind"]) == {"architect"}
    assert set(steps["spec_model"]) == {FRONTIER}  # the architect, as the advisor column
    # The plan (how), not a spec (what), was asked for, and it reached every attempt.
    (asked,) = servers["anthropic"].requests
    assert prompts.PLAN_SYSTEM in asked.prompt and prompts.SPEC_SYSTEM not in asked.prompt
    for request in servers["ollama"].requests:
        assert "Implementation plan from a software architect" in request.prompt
        assert "1. Read the arguments." in request.prompt
    priced_at_their_model(steps)


def test_cascade_is_solved_on_its_second_rung(tiers, tmp_path):
    servers = tiers(2)
    ladder = Strategy("ladder", kind="cascade", rungs=(LOCAL, SMALL, FRONTIER), rung_attempts=2)
    result = run(tmp_path, ladder)
    steps = result.steps
    attempts = steps[steps["role"] == "attempt"]
    assert list(attempts["model"]) == [LOCAL, LOCAL, SMALL]
    assert list(attempts["rung"]) == [1, 1, 2]
    assert list(attempts["tier"]) == ["local", "local", "small_frontier"]
    assert list(attempts["passed"]) == [False, False, True]
    end = steps.iloc[-1]
    assert (end["status"], end["rung"], end["iteration"]) == ("stopped", 2, 3)
    assert (end["passed"], end["submitted"]) == (True, 3)
    assert set(steps["rungs"]) == {f"{LOCAL},{SMALL},{FRONTIER}"}
    assert set(steps["max_iterations"]) == {6}
    assert servers["anthropic"].requests == []  # the frontier rung was never needed
    # The second rung took over from the first rung's last code and its failure.
    (handover,) = servers["openai"].requests
    assert "Your previous attempt:" in handover.prompt and "return None" in handover.prompt
    # Local calls are free; the small frontier call is paid at its own price.
    assert set(attempts["cost_usd"][:2]) == {0.0} and attempts["cost_usd"].iloc[2] > 0
    priced_at_their_model(steps)
    assert result.spent_usd == pytest.approx(steps["cost_usd"].sum())
    story = experiment_story(steps, steps["experiment_id"].iloc[0])
    assert f"ATTEMPT 3 ({SMALL}, rung 2) - PASSED" in story


def test_cascade_that_no_rung_solves_uses_every_rung(tiers, tmp_path):
    tiers(99)
    ladder = Strategy("ladder", kind="cascade", rungs=(LOCAL, FRONTIER), rung_attempts=1)
    steps = run(tmp_path, ladder).steps
    assert list(steps.loc[steps["role"] == "attempt", "model"]) == [LOCAL, FRONTIER]
    end = steps.iloc[-1]
    # No rung's answer passed its visible test: the latest of the equals is submitted.
    assert (end["status"], end["passed"], end["submitted"], end["rung"]) == (
        "exhausted",
        False,
        2,
        2,
    )


def test_repair_fixes_the_worker_code_itself(tiers, tmp_path):
    servers = tiers(99)
    fixer = Strategy(
        "fix", kind="repair", worker=LOCAL, repairer=FRONTIER, repair_after=2, max_iterations=4
    )
    steps = run(tmp_path, fixer).steps
    assert list(steps["role"]) == ["attempt", "attempt", "repair", "end"]
    repair = steps.iloc[2]
    assert (repair["model"], repair["tier"], repair["iteration"]) == (FRONTIER, "frontier", 3)
    assert repair["passed"] and repair["tests_passed"] == repair["tests_total"] == 2
    assert repair["cost_usd"] > 0
    assert (steps.iloc[-1]["status"], steps.iloc[-1]["passed"]) == ("stopped", True)
    # The repairer was shown the worker's last code and how it failed.
    (asked,) = servers["anthropic"].requests
    assert prompts.REPAIR_SYSTEM in asked.prompt
    assert "return None" in asked.prompt and "tests passed" in asked.prompt
    assert len(servers["ollama"].requests) == 2
    priced_at_their_model(steps)
    # The analysis and the story know a repair for what it is.
    (exp,) = experiments(steps).itertuples()
    assert (exp.solved, exp.solved_at, exp.attempts) == (True, 3, 3)
    story = experiment_story(steps, steps["experiment_id"].iloc[0])
    assert f"REPAIR 3 by {FRONTIER} - PASSED" in story


def test_after_a_failed_repair_the_worker_goes_on_from_the_repaired_code(tiers, tmp_path):
    from tests.engine_helpers import REV

    # The repairer answers this problem's "canonical solution", which is wrong here.
    broken_fix = REV.__class__(**{**REV.__dict__, "canonical_solution": "    return s\n"})
    servers = tiers(99, problems=[broken_fix])
    fixer = Strategy(
        "fix", kind="repair", worker=LOCAL, repairer=FRONTIER, repair_after=1, max_iterations=3
    )
    steps = run_benchmark(
        strategies=[fixer], problems=[broken_fix], data_dir=tmp_path, progress=False
    ).steps
    assert list(steps["role"]) == ["attempt", "repair", "attempt", "end"]
    assert steps.iloc[1]["code"].rstrip().endswith("return s")
    last_worker_prompt = servers["ollama"].requests[-1].prompt
    assert "return s\n" in last_worker_prompt  # the repaired code, not the worker's own
    assert steps.iloc[-1]["status"] == "exhausted"


def test_single_model_baseline_is_an_advised_strategy_with_no_advisor(tiers, tmp_path):
    servers = tiers(0)
    steps = run(tmp_path, Strategy("frontier-only", worker=FRONTIER)).steps
    assert list(steps["role"]) == ["attempt", "end"]
    assert set(steps["kind"]) == {"advised"} and set(steps["tier"].dropna()) >= {"frontier"}
    assert servers["ollama"].requests == [] and servers["openai"].requests == []


def test_epochs_run_each_problem_again_with_seeds_of_their_own(tiers, tmp_path):
    servers = tiers(0)
    result = run(tmp_path, Strategy("s", worker=SMALL, seed=7), epochs=3)
    steps = result.steps
    ends = steps[steps["role"] == "end"].sort_values("epoch")
    assert list(ends["epoch"]) == [1, 2, 3]
    assert list(ends["experiment_id"]) == [
        f"{result.run_id}/s/Toy/add",
        f"{result.run_id}/s/Toy/add#2",
        f"{result.run_id}/s/Toy/add#3",
    ]
    seeds = sorted(r.body["seed"] for r in servers["openai"].requests)
    assert seeds == [7, 1007, 2007]
    # Rates come with the spread of the repeats.
    (row,) = analyze(steps, baseline=None).to_dict()["strategies"]
    assert (row["epochs"], row["epoch_pass_rate_range"]) == (3, [1.0, 1.0])
    # A resume finds all three finished.
    again = run(tmp_path, Strategy("s", worker=SMALL, seed=7), epochs=3, run_id=result.run_id)
    assert again.skipped == 3 and again.experiments == []


def test_a_cached_rerun_pays_nothing_and_analyzes_the_same(tiers, tmp_path, capsys):
    import json

    from koderz.cli import main
    from koderz.engine.strategy_files import strategies_toml
    from koderz.store import load_steps, run_ids

    servers = tiers(1)
    file = tmp_path / "strategies.toml"
    file.write_text(
        strategies_toml(
            [
                Strategy("local+frontier", worker=LOCAL, spec_model=FRONTIER, reviewer=FRONTIER),
                Strategy("ladder", kind="cascade", rungs=(LOCAL, SMALL), rung_attempts=1),
                Strategy("frontier-only", worker=FRONTIER),
            ]
        )
    )
    data = tmp_path / "data"
    problems = tmp_path / "p.jsonl"
    problems.write_text(
        json.dumps(
            {
                "task_id": ADD.task_id,
                "prompt": ADD.prompt,
                "entry_point": ADD.tests.entry_point,
                "test": ADD.tests.test,
                "canonical_solution": ADD.canonical_solution,
            }
        )
        + "\n"
    )
    args = ["benchmark", "--strategies", str(file), "--problem-file", str(problems)]
    args += ["--epochs", "2", "--cache", "--data-dir", str(data), "--no-progress"]
    assert main(args) == 0
    made = sum(len(s.requests) for s in servers.values())
    assert main(args) == 0
    assert sum(len(s.requests) for s in servers.values()) == made  # nothing asked again
    first, second = run_ids(data)
    calls = load_steps(data)
    calls = calls[calls["role"] != "end"]
    again = calls[calls["run_id"] == second]
    assert len(again) == len(calls[calls["run_id"] == first]) > 0
    assert again["cached"].all() and (again["paid_usd"] == 0).all()
    assert again["cost_usd"].sum() > 0  # the strategy's cost, as the first run paid it
    capsys.readouterr()

    def analysis(run: str) -> list[dict]:
        main(["analyze", "--data-dir", str(data), "--run-id", run, "--json"])
        rows = json.loads(capsys.readouterr().out)["strategies"]
        return sorted(rows, key=lambda r: r["strategy"])

    # The same numbers, but for the wall time the rerun took (a cached call takes none).
    a, b = analysis(first), analysis(second)
    for row in (*a, *b):
        row.pop("wall_s")
    assert a == b


def test_zero_shot_attempts_are_draws_of_their_own_in_the_cache(tiers, tmp_path):
    # Zero-shot attempts send the same messages and settings; the cache must not answer the
    # second with the first's reply (that made every attempt the same sample).
    servers = tiers(1)
    sampler = Strategy("zs", worker=SMALL, mode="zero_shot", max_iterations=3)
    first = run(tmp_path, sampler, cache=True).steps
    attempts = first[first["role"] == "attempt"]
    assert list(attempts["passed"]) == [False, True]
    assert not attempts["cached"].any() and len(servers["openai"].requests) == 2
    again = run(tmp_path, sampler, cache=True).steps
    again = again[(again["run_id"] != first["run_id"].iloc[0]) & (again["role"] == "attempt")]
    assert list(again["passed"]) == [False, True] and again["cached"].all()
    assert len(servers["openai"].requests) == 2  # the rerun asked nothing
