"""Public tests, and feedback that does not leak the grader.

With feedback ``public`` the worker sees only the results of a problem's public tests; the
verdict is always the hidden tests. The tests here look at every request the worker's
server got: no hidden input or expected value may be in any of them.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from koderz import Strategy
from koderz.engine.benchmark import run_benchmark
from koderz.errors import ConfigError, ProblemFileError
from koderz.problems import load_problems
from koderz.problems.evalplus import FORMAT as EVALPLUS
from koderz.problems.public_tests import from_evalplus, from_prompt
from koderz.problems.rows import Where
from koderz.records import FunctionTests, Problem
from koderz.sandbox import run_tests
from koderz.store import load_steps
from koderz.testing import ScriptedCoder

# Hidden tests with values no public example shows.
SECRET = Problem(
    task_id="Toy/secret",
    prompt='def add(a: int, b: int) -> int:\n    """Return a + b.\n'
    '    >>> add(1, 2)\n    3\n    """\n',
    tests=FunctionTests(
        "add",
        "def check(candidate):\n"
        "    assert candidate(123457, 654321) == 777778\n"
        "    assert candidate(-98765, 98765) == 0\n",
        "def check(candidate):\n    assert add(1, 2) == 3\n",
    ),
    canonical_solution="    return a + b\n",
    source="toy",
)
HIDDEN_VALUES = ("123457", "654321", "777778", "98765")


@pytest.fixture
def worker(serve):
    coder = ScriptedCoder([SECRET], fail_first=2)
    return serve("ollama", respond=coder), serve("anthropic", respond=coder)


def run(tmp_path, feedback, **kw):
    strategy = Strategy(
        f"s-{feedback}",
        worker="qwen2.5-coder:7b",
        reviewer="claude-sonnet-4-5",
        checkpoint_interval=1,
        max_iterations=4,
        feedback=feedback,
        **kw,
    )
    return run_benchmark(
        strategies=[strategy], problems=[SECRET], data_dir=tmp_path, progress=False
    ).steps


def test_public_feedback_never_shows_a_hidden_test(worker, tmp_path):
    ollama, anthropic = worker
    steps = run(tmp_path, "public")
    # It stopped when its public test passed; the verdict is the hidden tests'.
    assert (steps.iloc[-1]["status"], steps.iloc[-1]["passed"]) == ("stopped", True)
    prompts = [r.prompt for r in ollama.requests + anthropic.requests]
    assert len(ollama.requests) == 3 and len(anthropic.requests) == 2
    for text in prompts:
        for value in HIDDEN_VALUES:
            assert value not in text
    # What was shown instead: the public test that failed.
    assert "assert add(1, 2) == 3" in ollama.requests[1].prompt
    # Rows keep the two results apart.
    attempts = steps[steps["role"] == "attempt"]
    assert list(attempts["tests_passed"]) == [0, 0, 2]
    assert list(attempts["tests_total"]) == [2, 2, 2]
    assert list(attempts["public_passed"]) == list(attempts["visible_passed"]) == [0, 0, 1]
    assert list(attempts["public_total"]) == list(attempts["visible_total"]) == [1, 1, 1]
    assert set(steps["feedback_level"]) == {"public"}


def test_full_feedback_leaks_the_hidden_tests_and_says_so(worker, tmp_path):
    # The contrast that makes the leak a number: the same run with feedback full shows the
    # worker a hidden input.
    # worker a hidden input. It goes only with the oracle stop.
    ollama, _ = worker
    steps = run(tmp_path, "full", stop="oracle")
    assert any(v in ollama.requests[1].prompt for v in HIDDEN_VALUES)
    assert set(steps["feedback_level"]) == {"full"}
    with pytest.raises(ConfigError, match="goes only with stop 'oracle'"):
        Strategy("leaky", worker="qwen2.5-coder:7b", feedback="full")


def test_auto_is_public_and_only_an_oracle_falls_back_to_full(worker, tmp_path):
    steps = run(tmp_path, "auto")
    assert set(steps["feedback_level"]) == {"public"}
    no_public = replace(SECRET, tests=replace(SECRET.tests, public_test=""))
    for stop, level in (("visible", "public"), ("oracle", "full")):
        auto = Strategy(f"a-{stop}", worker="qwen2.5-coder:7b", max_iterations=1, stop=stop)
        again = run_benchmark(
            strategies=[auto], problems=[no_public], data_dir=tmp_path / stop, progress=False
        ).steps
        assert set(again["feedback_level"]) == {level}


def test_public_without_public_tests_shows_nothing_of_the_hidden_ones(worker, tmp_path):
    ollama, _ = worker
    no_public = replace(SECRET, tests=replace(SECRET.tests, public_test=""))
    # Nothing visible: the first answer is submitted, nothing could tell it was wrong.
    visible = Strategy("v", worker="qwen2.5-coder:7b", max_iterations=2, feedback="public")
    steps = run_benchmark(
        strategies=[visible], problems=[no_public], data_dir=tmp_path / "v", progress=False
    ).steps
    end = steps.iloc[-1]
    assert len(ollama.requests) == 1
    assert (end["status"], end["submitted"], end["visible_total"]) == ("stopped", 1, 0)
    assert not end["passed"] and not end["false_stop"]
    # The oracle iterates on the hidden verdict, and still shows nothing of those tests.
    strategy = Strategy(
        "p", worker="qwen2.5-coder:7b", max_iterations=2, feedback="public", stop="oracle"
    )
    run_benchmark(strategies=[strategy], problems=[no_public], data_dir=tmp_path, progress=False)
    shown = ollama.requests[2].prompt
    assert "no public tests" in shown
    assert not any(v in shown for v in HIDDEN_VALUES)


def test_humaneval_docstring_examples_are_public_tests_the_canonical_solutions_pass():
    problems = load_problems("humaneval")
    with_public = {k: p for k, p in problems.items() if p.tests.public_test}
    assert len(with_public) == 106
    failing = []
    for task_id, p in with_public.items():
        if not run_tests(
            Problem(task_id, p.prompt, FunctionTests(p.tests.entry_point, p.tests.public_test)),
            p.prompt + p.canonical_solution,
        ).passed:
            failing.append(task_id)
    # HumanEval/47's docstring says median([-10, 4, 6, 1000, 10, 20]) is 15.0; its own
    # tests (and its canonical solution) say 8.0. The public test shows what a reader sees.
    assert failing == ["HumanEval/47"]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ('def f(x):\n    """\n    >>> f(2)\n    4\n    """\n', ["assert f(2) == 4"]),
        (
            "def f(x):\n    '''\n    f(2) == 4\n    f([1]) => [1]\n    '''\n",
            ["f(2) == 4", "f([1])"],
        ),
        ('def f(s):\n    """\n    >>> f([])\n\n    """\n', ["assert f([]) == None"]),
        ('def f(s):\n    """\n    f(a) => False\n    g(1) => 2\n    """\n', []),
        ('"""\nWrite f.\nassert f((3, 4)) == 7\n"""\n', ["assert f((3, 4)) == 7"]),
        ('def f(x):\n    """f(2) -> 19 - 5 = 14"""\n', []),
        # MBPP+ shows its first test wrapped in pure builtins; it stays as written.
        ('"""\nassert set(f((3, 4), (4, 5))) == set((4,))\n"""\n', ["assert set(f((3, 4), (4,"]),
        ('"""\nassert f(x) == 1\n"""\n', []),  # a name: prose, not a test
        ('"""\nassert os.system("rm") == 0\n"""\n', []),  # not the function under test
        ('"""\nassert g(f(1)) == 2\n"""\n', []),  # an unknown helper
    ],
)
def test_examples_in_the_prompt(prompt, expected):
    got = from_prompt(prompt, "f")
    for fragment in expected:
        assert fragment in got
    assert bool(got) is bool(expected)


def test_evalplus_base_inputs_are_the_public_tests():
    test = (
        "def assertion(out, exp, atol):\n    assert out == exp\n\n"
        "def check(candidate):\n"
        "    inputs = [[1, 2], [3, 4], [100, 200]]\n"
        "    results = [3, 7, 300]\n"
        "    for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
        "        assertion(candidate(*inp), exp, 0)\n"
    )
    row = {
        "task_id": "E/0",
        "prompt": "def add(a, b):\n    pass\n",
        "entry_point": "add",
        "test": test,
        "base_input": [[1, 2], [3, 4]],
        "plus_input": [[100, 200]],
    }
    public = EVALPLUS.problem(row, Where("e.jsonl", 1, "e.jsonl")).tests.public_test
    assert public == from_evalplus(test, 2)
    p = Problem("E/0", "", FunctionTests("add", public))
    result = run_tests(p, "def add(a, b):\n    return a + b if a < 100 else 0\n")
    assert (result.passed, result.tests_total) == (True, 2)  # the plus input is not there


def test_a_file_can_give_its_public_tests_and_a_bad_one_is_named(tmp_path):
    good = {
        "task_id": "m/1",
        "prompt": "def inc(x):\n",
        "entry_point": "inc",
        "tests": ["assert inc(1) == 2", "assert inc(41) == 42"],
        "public_tests": ["assert inc(1) == 2"],
    }
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(good) + "\n")
    (problem,) = load_problems(path).values()
    assert (
        "assert inc(1) == 2" in problem.tests.public_test and "41" not in problem.tests.public_test
    )
    path.write_text(json.dumps({**good, "public_tests": "assert ("}) + "\n")
    with pytest.raises(ProblemFileError, match="public_tests"):
        load_problems(path)
    path.write_text(json.dumps({**good, "public_tests": [3]}) + "\n")
    with pytest.raises(ProblemFileError, match="public_tests"):
        load_problems(path)


def test_a_run_with_both_levels_shows_the_leakage_as_a_number(worker, tmp_path):
    from koderz import analyze

    # What seeing the grader is worth, measured under the one stop rule that allows it.
    setup = dict(worker="qwen2.5-coder:7b", max_iterations=4, stop="oracle")
    strategies = [
        Strategy("s", feedback="public", **setup),
        Strategy("s@full", feedback="full", **setup),
        Strategy(
            "other", feedback="full", worker="qwen2.5-coder:7b", max_iterations=2, stop="oracle"
        ),
    ]
    steps = run_benchmark(
        strategies=strategies, problems=[SECRET], data_dir=tmp_path, progress=False
    ).steps
    result = analyze(steps, baseline=None)
    (gap,) = result.feedback_gaps.to_dict("records")  # "other" is another setup
    assert (gap["strategy"], gap["public_strategy"], gap["problems"]) == ("s@full", "s", 1)
    assert gap["gap"] == gap["pass_rate"] - gap["public_pass_rate"]
    # One problem, both solved it: a gap of 0 whose interval includes 0, said as such.
    (sentence,) = [h for h in result.headlines() if "(feedback public) on the same" in h]
    assert sentence.endswith("no measurable leakage: the interval includes 0.")
    assert "feedback public" in result.text() and "feedback full" in result.text()
    assert result.to_dict()["feedback_gaps"][0]["strategy"] == "s@full"


def test_a_resumed_experiment_shows_the_reviewer_public_counts_only(worker, tmp_path):
    from koderz import StepWriter, run_experiment

    _, anthropic = worker
    strategy = Strategy(
        "p",
        worker="qwen2.5-coder:7b",
        reviewer="claude-sonnet-4-5",
        checkpoint_interval=2,
        max_iterations=3,
        feedback="public",
    )
    writer = StepWriter(tmp_path, "r1")
    first = Strategy("p", worker="qwen2.5-coder:7b", max_iterations=2, feedback="public")
    run_experiment(SECRET, first, writer=writer)
    steps = load_steps(tmp_path)
    history = steps[steps["role"] == "attempt"]  # as an interrupted run left them
    assert list(history["tests_total"]) == [2, 2] and list(history["public_total"]) == [1, 1]
    run_experiment(SECRET, strategy, writer=StepWriter(tmp_path, "r2"), history=history)
    (review,) = anthropic.requests
    assert "0/1 tests passed" in review.prompt and "0/2" not in review.prompt
