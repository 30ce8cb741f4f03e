"""A run on a window of release dates and slices of difficulty and platform, with the
models' cutoffs: what runs, what the rows and the manifest record, and the mistakes a user
can make, end to end against a local OpenAI-protocol server."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from koderz.cli import main
from koderz.engine.benchmark import run_benchmark
from koderz.errors import ConfigError
from koderz.testing import ScriptedCoder
from tests.engine_helpers import ADD, REV, SQUARE

# The toys, dated and labelled as LiveCodeBench's problems are.
DATED = [
    replace(ADD, released="2024-11-30", difficulty="easy", platform="leetcode"),
    replace(REV, released="2025-02-01", difficulty="medium", platform="atcoder"),
    replace(SQUARE, released="2025-04-30", difficulty="easy", platform="codeforces"),
]


@pytest.fixture
def coder(serve):
    return serve("openai", respond=ScriptedCoder(DATED))


def test_a_window_run_records_its_window_and_cutoffs(coder, tmp_path: Path) -> None:
    run = run_benchmark(
        worker="gpt-4o-mini",
        spec_model="gpt-4o",
        problems=DATED,
        since="2025-01-01",
        difficulties="easy,medium",
        cutoffs={"gpt-4o": "2024-12-31"},
        data_dir=tmp_path,
        progress=False,
    )
    steps = run.steps
    assert sorted(steps["problem_id"].unique()) == ["Toy/rev", "Toy/square"]
    rows = steps.drop_duplicates("problem_id").set_index("problem_id")
    assert rows.loc["Toy/rev", ["problem_released", "problem_difficulty"]].tolist() == [
        "2025-02-01",
        "medium",
    ]
    assert rows.loc["Toy/square", "problem_platform"] == "codeforces"
    # Each call's row names its model's cutoff: given (gpt-4o), or registered (gpt-4o-mini).
    calls = steps[steps["model"] != ""].drop_duplicates("model").set_index("model")
    assert calls["model_cutoff"].to_dict() == {"gpt-4o": "2024-12-31", "gpt-4o-mini": "2023-10-01"}
    assert steps.loc[steps["role"] == "end", "model_cutoff"].isna().all()
    manifest = json.loads((tmp_path / "runs" / f"{run.run_id}.json").read_text())
    assert manifest["window"] == {
        "since": "2025-01-01",
        "until": None,
        "difficulties": ["easy", "medium"],
        "platforms": [],
        "languages": [],
        "described": "released on or after 2025-01-01; difficulty easy, medium",
    }
    assert manifest["cutoffs"] == {"gpt-4o-mini": "2023-10-01", "gpt-4o": "2024-12-31"}


def test_resuming_with_another_window_is_refused(coder, tmp_path: Path) -> None:
    first = run_benchmark(
        worker="gpt-4o-mini", problems=DATED, until="2025-01-31", data_dir=tmp_path, progress=False
    )
    with pytest.raises(ConfigError, match="was started with the window and slices"):
        run_benchmark(
            worker="gpt-4o-mini",
            problems=DATED,
            until="2025-03-31",
            run_id=first.run_id,
            data_dir=tmp_path,
            progress=False,
        )
    # The same window resumes, and a cutoff learnt now joins those recorded.
    run_benchmark(
        worker="gpt-4o-mini",
        problems=DATED,
        until="2025-01-31",
        run_id=first.run_id,
        cutoffs={"gpt-4o-mini": "2024-06-30"},
        data_dir=tmp_path,
        progress=False,
    )
    manifest = json.loads((tmp_path / "runs" / f"{first.run_id}.json").read_text())
    assert manifest["cutoffs"] == {"gpt-4o-mini": "2024-06-30"}


def test_a_strategies_file_gives_cutoffs(coder, tmp_path: Path) -> None:
    file = tmp_path / "s.toml"
    file.write_text(
        '[strategies.mini]\nworker = "gpt-4o-mini"\n\n'
        '[cutoffs]\n"gpt-4o-mini" = 2024-02-29\n"qwen2.5-coder:7b" = "2024-09-30"\n'
    )
    run = run_benchmark(strategies=file, problems=DATED[:1], data_dir=tmp_path, progress=False)
    manifest = json.loads((tmp_path / "runs" / f"{run.run_id}.json").read_text())
    assert manifest["cutoffs"] == {"gpt-4o-mini": "2024-02-29"}  # the models it calls
    # --cutoff (the cutoffs keyword) wins over the file's.
    again = run_benchmark(
        strategies=file,
        problems=DATED[:1],
        cutoffs={"gpt-4o-mini": "2024-03-31"},
        data_dir=tmp_path,
        progress=False,
    )
    assert set(again.steps["model_cutoff"].dropna()) == {"2024-03-31"}


def test_a_problem_outside_the_window_says_so(coder, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Toy/add is not released on or after 2025-01-01"):
        run_benchmark(
            worker="gpt-4o-mini",
            problems=DATED,
            select="Toy/add",
            since="2025-01-01",
            data_dir=tmp_path,
            progress=False,
        )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--since", "2025-13-01"], "since (--since) '2025-13-01' is not a date: give YYYY-MM-DD"),
        (["--since", "2025-05-01", "--until", "2025-04-01"], "starts (--since 2025-05-01) after"),
        (["--difficulty", "extreme"], "Unknown difficulty 'extreme' (--difficulty); use one of"),
        (["--cutoff", "2024-01-01"], "--cutoff takes MODEL=YYYY-MM-DD"),
        (["--cutoff", "smollm2=Jan 2024"], "The cutoff of smollm2 (--cutoff) 'Jan 2024' is not"),
        # HumanEval has no release dates: every problem is outside a window.
        (["--since", "2025-01-01"], "No problem of the 164 is released on or after 2025-01-01"),
    ],
)
def test_bad_windows_and_cutoffs_are_one_line(flags, message, tmp_cwd, capsys) -> None:
    assert main(["benchmark", "--worker", "smollm2", "--no-progress", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_cwd / "data").exists()


def test_run_takes_the_window_too(tmp_cwd, capsys) -> None:
    argv = ["run", "--problem", "HumanEval/3", "--worker", "smollm2", "--platform", "leetcode"]
    assert main(argv) == 2
    assert (
        "No problem of the 164 is platform leetcode (164 problem(s) have no platform, so "
        "--platform leaves them out): widen the window or the slices."
    ) in capsys.readouterr().err
