"""Many experiments: budget, resume after kill -9, Dask, the offline default, and the
`runs` / `show` commands, end to end against local protocol servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from koderz.cli import main
from koderz.engine.benchmark import run_benchmark
from koderz.store import load_steps
from koderz.testing import Answer, ScriptedCoder
from tests.engine_helpers import ADD, SQUARE, TOYS


@pytest.fixture
def openai_coder(serve):
    return lambda problems, **kw: serve("openai", respond=ScriptedCoder(problems, **kw))


def test_budget_stops_new_calls_and_resume_finishes(serve, monkeypatch, tmp_path):
    # Each call costs 100k in x $2.50 + 10k out x $10 per million = $0.35 at gpt-4o.
    coder = ScriptedCoder(TOYS, fail_first=2)
    s = serve(
        "openai",
        respond=lambda r: Answer(coder(r).text, input_tokens=100_000, output_tokens=10_000),
    )
    first = run_benchmark(
        worker="gpt-4o", problems=TOYS, data_dir=tmp_path, max_cost=0.5, progress=False
    )
    assert len(s.requests) == 2  # $0.35, then $0.70 >= $0.50: no third call starts
    assert first.stopped == "budget"
    assert first.spent_usd == pytest.approx(0.70)
    # Experiments under way end as "budget" (resumable); none is started after.
    assert {e.status for e in first.experiments} == {"budget"}
    assert "budget (--max-cost) was reached" in first.summary()

    again = run_benchmark(
        worker="gpt-4o", problems=TOYS, data_dir=tmp_path, run_id=first.run_id, progress=False
    )
    assert again.stopped == ""
    assert sorted((e.status, e.passed) for e in again.experiments) == [("stopped", True)] * 3
    steps = again.steps
    attempts = steps[steps["role"] == "attempt"]
    # Resumed where it stopped: no attempt number twice within an experiment.
    assert not attempts.duplicated(["experiment_id", "iteration"]).any()
    assert len(attempts) == 9
    assert again.spent_usd == pytest.approx(9 * 0.35)


def test_resume_after_kill_9(openai_coder, tmp_path):
    from koderz.problems import load_problems, select_problems

    chosen = select_problems(load_problems("humaneval"), "0:6")
    server = openai_coder(chosen.values(), fail_first=2, delay_s=0.15)
    env = {**os.environ, **server.env()}
    cmd = [
        sys.executable,
        "-m",
        "koderz.cli",
        "benchmark",
        "--worker",
        "gpt-4o-mini",
        "--problems",
        "0:6",
        "--data-dir",
        str(tmp_path),
        "--run-id",
        "r1",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    folder = tmp_path / "steps" / "run=r1"
    while time.monotonic() < deadline:
        if folder.is_dir() and len(list(folder.glob("*.parquet"))) >= 5:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = load_steps(tmp_path, run_id="r1")
    assert 5 <= len(before) < 6 * 4  # killed mid-run, every file readable

    result = run_benchmark(
        worker="gpt-4o-mini",
        problems="humaneval",
        select="0:6",
        data_dir=tmp_path,
        run_id="r1",
        progress=False,
    )
    steps = result.steps
    ends = steps[steps["role"] == "end"].groupby("experiment_id").tail(1)
    assert len(ends) == 6 and set(ends["status"]) == {"stopped"} and ends["passed"].all()
    attempts = steps[steps["role"] == "attempt"]
    assert not attempts.duplicated(["experiment_id", "iteration"]).any()
    # Attempts numbered 1..n in every experiment (a call in flight at the kill is lost, and
    # its attempt made again).
    for _, g in attempts.groupby("experiment_id"):
        assert sorted(g["iteration"]) == list(range(1, len(g) + 1))
    assert result.skipped + len(result.experiments) == 6


def test_parallel_workers_respect_the_provider_limit_and_compact(openai_coder, tmp_path):
    server = openai_coder(TOYS, fail_first=1, delay_s=0.2)
    result = run_benchmark(
        worker="gpt-4o-mini",
        problems=TOYS,
        data_dir=tmp_path,
        workers=3,
        max_in_flight={"openai": 2},
        progress=False,
    )
    assert sorted((e.status, e.passed) for e in result.experiments) == [("stopped", True)] * 3
    # Calls overlapped, and never more than the provider's limit at once.
    assert server.peak_in_flight == 2
    files = list((tmp_path / "steps" / f"run={result.run_id}").glob("*.parquet"))
    assert len(files) == 1  # compacted when the run ended
    assert len(result.steps) == 3 * (2 + 1)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["client", "address"])
def test_dask_local_cluster(openai_coder, tmp_path, how):
    # A Client object is what a notebook passes; a scheduler address is what --dask passes.
    distributed = pytest.importorskip("distributed")
    openai_coder(TOYS, fail_first=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        target = client if how == "client" else cluster.scheduler_address
        result = run_benchmark(
            worker="gpt-4o-mini", problems=TOYS, data_dir=tmp_path, dask=target, progress=False
        )
    assert sorted(e.problem_id for e in result.experiments) == sorted(p.task_id for p in TOYS)
    assert {(e.status, e.passed) for e in result.experiments} == {("stopped", True)}
    steps = result.steps
    assert len(steps[steps["role"] == "attempt"]) == 6


@pytest.mark.slow
def test_dask_workers_respect_the_provider_limit_together(openai_coder, tmp_path):
    # README: --max-in-flight holds on Dask too, across workers: two workers of two threads
    # each, and one OpenAI call at a time.
    distributed = pytest.importorskip("distributed")
    server = openai_coder(TOYS, fail_first=1, delay_s=0.2)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = run_benchmark(
            worker="gpt-4o-mini",
            problems=TOYS,
            data_dir=tmp_path,
            dask=client,
            max_in_flight={"openai": 1},
            progress=False,
        )
    assert {(e.status, e.passed) for e in result.experiments} == {("stopped", True)}
    assert server.peak_in_flight == 1


def test_run_one_problem_from_the_command_line(openai_coder, tmp_cwd, capsys):
    from koderz.problems import load_problems

    openai_coder([load_problems("humaneval")["HumanEval/7"]], fail_first=1)
    argv = [
        "run",
        "--problem",
        "HumanEval/7",
        "--worker",
        "gpt-4o-mini",
        "--strategy",
        "one",
        "--max-iterations",
        "3",
        "--no-progress",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    line = out.splitlines()[0].split()
    assert line[:2] == ["stopped", "passed"] and line[2].endswith("/one/HumanEval/7")
    assert "(2 attempt(s), submitted #2," in out
    steps = load_steps(tmp_cwd / "data")
    assert set(steps["problem_id"]) == {"HumanEval/7"}
    assert list(steps[steps["role"] == "attempt"]["passed"]) == [False, True]


@pytest.mark.slow
def test_offline_default_runs_the_embedded_model(tmp_path, capsys, tmp_cwd):
    pytest.importorskip("llama_cpp")
    status = main(
        [
            "benchmark",
            "--limit",
            "1",
            "--max-iterations",
            "1",
            "--max-tokens",
            "128",
            "--data-dir",
            str(tmp_path),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    steps = load_steps(tmp_path)
    attempt = steps[steps["role"] == "attempt"].iloc[0]
    assert (attempt["model"], attempt["tier"], attempt["strategy"]) == (
        "smollm2",
        "local",
        "local-only",
    )
    assert attempt["output_tokens"] > 0 and attempt["tests_total"] > 0
    assert steps.iloc[-1]["role"] == "end"
    assert "1 experiment(s) run" in out

    assert main(["runs", "--data-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "local-only" in listing and attempt["run_id"] in listing

    exp = attempt["experiment_id"]
    assert main(["show", exp, "--data-dir", str(tmp_path), "--export", str(tmp_path / "x")]) == 0
    story = capsys.readouterr().out
    assert "ATTEMPT 1" in story and "END" in story
    names = sorted(p.name for p in (tmp_path / "x").iterdir())
    stem = exp.replace("/", "_")
    assert f"{stem}_iter01_code.py" in names and f"{stem}_iter01_response.txt" in names


def test_checkpoint_guidance_export(serve, openai_coder, tmp_path, monkeypatch):
    coder = ScriptedCoder([SQUARE], fail_first=2)
    serve("anthropic", respond=coder)
    openai_coder([SQUARE], fail_first=2)
    result = run_benchmark(
        worker="gpt-4o-mini",
        reviewer="claude-haiku-4-5",
        problems=[SQUARE],
        data_dir=tmp_path,
        progress=False,
    )
    exp = result.experiments[0].experiment_id
    assert main(["show", exp, "--data-dir", str(tmp_path), "--export", str(tmp_path / "e")]) == 0
    guidance = tmp_path / "e" / f"{exp.replace('/', '_')}_checkpoint02_guidance.txt"
    assert "returns None" in guidance.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["benchmark", "--worker", "gpt-9-ultra"], "Unknown model 'gpt-9-ultra'"),
        (["benchmark", "--worker", "gpt-4o-mini"], "set the OPENAI_API_KEY"),
        (["benchmark", "--reviewer", "gpt-4o"], "Give --worker too"),
        (["show", "nope/x/y"], "No data folder"),
        (["benchmark", "--worker", "qwen2.5-coder:7b"], "start it with `ollama serve`"),
        (["benchmark", "--worker", "q@http://127.0.0.1:9/v1"], "No server answers at"),
        (["run", "--problem", "HumanEval/999", "--worker", "smollm2"], "HumanEval/99"),
    ],
)
def test_user_mistakes_are_one_line_without_traceback(argv, message, tmp_cwd, capsys, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_benchmark_then_report(openai_coder, tmp_cwd, capsys):
    from koderz.problems import load_problems, select_problems

    openai_coder(select_problems(load_problems("humaneval"), "0:2").values(), fail_first=1)
    argv = [
        "benchmark",
        "--worker",
        "gpt-4o-mini",
        "--problems",
        "0:2",
        "--no-progress",
        "--report",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    html = [
        line.removeprefix("Report: ") for line in out.splitlines() if line.startswith("Report: ")
    ]
    assert len(html) == 1
    page = (tmp_cwd / html[0]).read_text()
    assert "<table" in page and "data:image/png;base64" in page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-cost", "-1"], "--max-cost"),
        (["--max-tokens", "0"], "--max-tokens"),
        (["--temperature", "5"], "--temperature"),
        (["--timeout", "-1"], "--timeout"),
        (["--problems", "5:2"], "leaves no problem"),
        (["--max-in-flight", "openai=0"], "at least 1"),
    ],
)
def test_impossible_settings_fail_before_anything_is_written(argv, message, tmp_cwd, capsys):
    assert main(["benchmark", "--worker", "smollm2", "--no-progress", *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_cwd / "data").exists()


def test_a_file_that_is_not_gguf_is_one_line(tmp_cwd, capsys):
    pytest.importorskip("llama_cpp")
    (tmp_cwd / "bad.gguf").write_bytes(b"not a model")
    assert main(["benchmark", "--worker", "bad.gguf", "--limit", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "could not be loaded as a GGUF model" in err and "Traceback" not in err


def test_resuming_on_other_problems_is_refused(openai_coder, tmp_path):
    openai_coder(TOYS)
    first = run_benchmark(worker="gpt-4o-mini", problems=[ADD], data_dir=tmp_path, progress=False)
    from koderz.errors import ConfigError

    with pytest.raises(ConfigError, match="was started on problems"):
        run_benchmark(
            worker="gpt-4o-mini",
            problems="humaneval",
            limit=1,
            data_dir=tmp_path,
            run_id=first.run_id,
            progress=False,
        )


def test_ctrl_c_names_the_run_to_resume(monkeypatch, tmp_cwd, capsys, openai_coder):
    from koderz.engine import schedule

    openai_coder(TOYS)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(schedule, "run_experiment", interrupt)
    status = main(
        [
            "benchmark",
            "--worker",
            "gpt-4o-mini",
            "--problems",
            "0:1",
            "--run-id",
            "r9",
            "--no-progress",
        ]
    )
    assert status == 130
    assert "Resume with --run-id r9" in capsys.readouterr().err


def test_progress_shows_solved_and_money(openai_coder, tmp_path, capsys):
    openai_coder(TOYS, fail_first=0)
    run_benchmark(worker="gpt-4o", problems=TOYS, data_dir=tmp_path, progress=True)
    bar = capsys.readouterr().err  # tqdm writes to stderr
    assert "3/3" in bar and "solved 3/3" in bar
    assert "$0.0" in bar  # money spent so far, at gpt-4o's price
