"""The stop rule: the hidden tests judge the submitted answer and never steer the experiment.

Through the real SDKs against local protocol servers. The scripted worker answers
HumanEval/0 (has_close_elements) three ways, in order:

1. ``return None``: fails everything;
2. ``return numbers == [1.0, 2.8, 3.0, 4.0, 5.0, 2.0]``: passes the docstring's two
   examples (the public tests) and fails the hidden tests;
3. the correct solution.
"""

from __future__ import annotations

import ast
import re
import threading

import pytest

from koderz import Strategy, experiment_story
from koderz.engine import prompts
from koderz.engine.benchmark import run_benchmark
from koderz.problems import load_problems, select_problems
from koderz.testing import Answer, Recorded

WORKER, ADVISOR = "gpt-4o-mini", "claude-sonnet-4-5"
OVERFIT = "    return numbers == [1.0, 2.8, 3.0, 4.0, 5.0, 2.0]\n"


@pytest.fixture(scope="module")
def humaneval():
    return load_problems("humaneval")


class Scripted:
    """Answers a problem's attempts from a list of function bodies (the last repeats); spec
    and review calls get short canned texts."""

    def __init__(self, problems, bodies: dict[str, list[str]]) -> None:
        self.problems = list(problems)
        self.bodies = bodies
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Answer:
        text = request.prompt
        if prompts.SPEC_SYSTEM in text:
            return Answer("- Compare every pair of numbers.")
        if prompts.REVIEW_SYSTEM in text:
            return Answer("- Compare every pair, not the examples.")
        problem = next(p for p in self.problems if p.prompt.strip() in text)
        with self._lock:
            n = self.calls[problem.task_id] = self.calls.get(problem.task_id, 0) + 1
        bodies = self.bodies[problem.task_id]
        body = bodies[min(n, len(bodies)) - 1]
        return Answer(f"```python\n{problem.prompt}{body}```")


def bodies_for_0(problem) -> list[str]:
    return ["    return None\n", OVERFIT, problem.canonical_solution]


def run(tmp_path, problems, strategy):
    return run_benchmark(
        strategies=[strategy], problems=problems, data_dir=tmp_path, progress=False
    )


def test_the_default_stops_on_the_visible_tests_and_submits_that_answer(serve, humaneval, tmp_path):
    p0 = humaneval["HumanEval/0"]
    worker = serve("openai", respond=Scripted([p0], {p0.task_id: bodies_for_0(p0)}))
    result = run(tmp_path, [p0], Strategy("cheap", worker=WORKER, max_iterations=5))
    assert len(worker.requests) == 2  # answer 2 passed the docstring's examples: it stopped
    end = result.steps.iloc[-1]
    assert (end["status"], end["submitted"], end["passed"]) == ("stopped", 2, False)
    assert end["false_stop"] and not end["oracle_passed"]
    assert (end["visible_passed"], end["visible_total"]) == (2, 2)
    (e,) = result.experiments
    assert (e.passed, e.submitted, e.oracle_passed) == (False, 2, False)
    assert result.solved == 0
    # The hidden tests judged every attempt, for the analysis only.
    attempts = result.steps[result.steps["role"] == "attempt"]
    assert list(attempts["passed"]) == [False, False]
    assert attempts["tests_total"].iloc[0] > 2
    story = experiment_story(result.steps, e.experiment_id)
    assert "ATTEMPT 2 - failed, " in story and ", visible tests 2/2 - " in story
    assert "submitted attempt 2, which failed the hidden tests (a false stop:" in story


def test_the_oracle_stops_on_the_hidden_tests(serve, humaneval, tmp_path):
    p0 = humaneval["HumanEval/0"]
    worker = serve("openai", respond=Scripted([p0], {p0.task_id: bodies_for_0(p0)}))
    strategy = Strategy("oracle", worker=WORKER, max_iterations=5, stop="oracle")
    result = run(tmp_path, [p0], strategy)
    assert len(worker.requests) == 3
    end = result.steps.iloc[-1]
    assert (end["status"], end["submitted"], end["passed"]) == ("solved", 3, True)
    assert end["oracle_passed"] and not end["false_stop"]
    assert set(result.steps["stop"]) == {"oracle"}


def test_when_the_attempts_run_out_the_best_visible_answer_is_submitted(serve, humaneval, tmp_path):
    p0 = humaneval["HumanEval/0"]
    # 0 of 2 examples, then 1 of 2 (always True), then 0 of 2 again.
    bodies = ["    return None\n", "    return True\n", "    return None\n"]
    serve("openai", respond=Scripted([p0], {p0.task_id: bodies}))
    result = run(tmp_path, [p0], Strategy("cheap", worker=WORKER, max_iterations=3))
    end = result.steps.iloc[-1]
    assert (end["status"], end["submitted"], end["visible_passed"]) == ("exhausted", 2, 1)
    assert not end["passed"] and not end["false_stop"]


def test_with_nothing_visible_the_first_answer_is_submitted(serve, humaneval, tmp_path):
    p32 = humaneval["HumanEval/32"]
    assert not p32.tests.public_test  # find_zero's docstring shows no runnable example
    worker = serve("openai", respond=Scripted([p32], {p32.task_id: ["    return 0.0\n"]}))
    result = run(tmp_path, [p32], Strategy("cheap", worker=WORKER, max_iterations=5))
    assert len(worker.requests) == 1
    end = result.steps.iloc[-1]
    assert (end["status"], end["submitted"], end["visible_total"]) == ("stopped", 1, 0)
    assert not end["passed"] and not end["false_stop"]


def test_a_cascade_whose_first_rung_passes_its_visible_tests_never_calls_the_next(
    serve, humaneval, tmp_path
):
    p0 = humaneval["HumanEval/0"]
    local = serve("ollama", respond=Scripted([p0], {p0.task_id: [OVERFIT]}))
    small = serve("openai", respond=Scripted([p0], {p0.task_id: [p0.canonical_solution]}))
    ladder = Strategy("ladder", kind="cascade", rungs=("qwen2.5-coder:7b", WORKER))
    result = run(tmp_path, [p0], ladder)
    assert len(local.requests) == 1 and small.requests == []
    end = result.steps.iloc[-1]
    assert (end["status"], end["rung"], end["passed"], end["false_stop"]) == (
        "stopped",
        1,
        False,
        True,
    )


def hidden_cases(problem) -> list[str]:
    """The arguments of each hidden assert that the prompt does not show."""
    found = []
    for node in ast.walk(ast.parse(problem.tests.test)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "candidate":
            text = ", ".join(ast.unparse(a) for a in node.args)
            if text not in problem.prompt:
                found.append(text)
    return found


def test_no_request_under_visible_holds_a_hidden_test_or_the_word_hidden(
    serve, humaneval, tmp_path
):
    chosen = list(select_problems(humaneval, "HumanEval/0,HumanEval/2,HumanEval/32").values())
    wrong = ["    return None\n"]
    bodies = {p.task_id: wrong for p in chosen}
    bodies["HumanEval/0"] = bodies_for_0(chosen[0])
    coder = Scripted(chosen, bodies)
    worker, advisor = serve("openai", respond=coder), serve("anthropic", respond=coder)
    strategies = [
        Strategy(
            "advised",
            worker=WORKER,
            spec_model=ADVISOR,
            reviewer=ADVISOR,
            checkpoint_interval=1,
            max_iterations=4,
        ),
        Strategy(
            "fixer",
            kind="repair",
            worker=WORKER,
            repairer=ADVISOR,
            repair_after=1,
            max_iterations=3,
        ),
    ]
    run_benchmark(strategies=strategies, problems=chosen, data_dir=tmp_path, progress=False)
    requests = worker.requests + advisor.requests
    assert len(advisor.requests) >= 4  # specs, reviews and repairs were asked for
    for request in requests:
        text = request.prompt
        assert not re.search("hidden", text, re.IGNORECASE)
        for problem in chosen:
            for case in hidden_cases(problem):
                assert case not in text, (problem.task_id, case)


def test_a_resumed_experiment_keeps_its_stop_rule(serve, humaneval, tmp_path):
    from koderz.errors import ConfigError

    p0 = humaneval["HumanEval/0"]
    worker = serve("openai", respond=Scripted([p0], {p0.task_id: bodies_for_0(p0)}))
    oracle = Strategy("s", worker=WORKER, max_iterations=5, stop="oracle")
    # Stopped before its first call (a budget of $0): resumable.
    first = run_benchmark(
        strategies=[oracle], problems=[p0], data_dir=tmp_path, max_cost=0.0, progress=False
    )
    assert first.stopped == "budget" and len(worker.requests) == 0
    with pytest.raises(ConfigError, match="stop = 'oracle'"):
        run_benchmark(
            strategies=[Strategy("s", worker=WORKER, max_iterations=5)],
            problems=[p0],
            data_dir=tmp_path,
            run_id=first.run_id,
            progress=False,
        )
    again = run_benchmark(
        strategies=[oracle], problems=[p0], data_dir=tmp_path, run_id=first.run_id, progress=False
    )
    (e,) = again.experiments
    assert (e.status, e.passed, e.submitted) == ("solved", True, 3)  # past the false stop


def test_a_manifest_from_before_the_stop_rule_resumes_as_an_oracle(tmp_path):
    import json

    from koderz.engine.runs import write_manifest
    from koderz.errors import ConfigError

    oracle = Strategy("s", worker=WORKER, stop="oracle")
    old = oracle.to_dict()
    del old["stop"]
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "r.json").write_text(
        json.dumps({"problems": "humaneval", "strategies": {"s": old}})
    )
    write_manifest(tmp_path, "r", [oracle], "humaneval")  # the same run
    with pytest.raises(ConfigError, match="stop = 'oracle'"):
        write_manifest(tmp_path, "r", [Strategy("s", worker=WORKER)], "humaneval")
