"""Run LiveCodeBench's own grader on a problems file and a custom output file, from a
checkout of LiveCodeBench the user points to (imported from there, never copied here).

It grades as ``lcb_runner.runner.custom_evaluator`` does (``evaluate_generations``, as its
``codegen_metrics`` calls it, over each problem's ``input_output``, public then private
tests), without its ``datasets`` download:
the problems come from the file given, and packed private tests are unpacked by Koderz's
reader, which never unpickles anything but a string. Writes, as JSON, every program's
verdict in the order of the custom output (each question's ``code_list`` in order).

    python benchmarks/lcb_grader.py --lcb PATH/TO/LiveCodeBench --problems test.jsonl \\
        --samples custom.json --processes 4 --out verdicts.json [--timeout 6]

Its grader needs ``numpy`` and ``tqdm`` (``pip install numpy tqdm`` where they are missing).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def input_output(row: dict[str, Any], where: str) -> dict[str, str]:
    """A problem's ``input_output``, as ``CodeGenerationProblem.get_evaluation_sample``
    makes it."""
    sys.path.insert(0, str(ROOT))
    from koderz.problems.packed import unpack

    public = json.loads(row["public_test_cases"])
    try:
        private = json.loads(row["private_test_cases"])
    except ValueError:
        private = json.loads(unpack(row["private_test_cases"], where=where))
    tests = public + private
    func_name = json.loads(row["metadata"]).get("func_name")
    return {
        "input_output": json.dumps(
            {
                "inputs": [t["input"] for t in tests],
                "outputs": [t["output"] for t in tests],
                "fn_name": func_name,
            }
        )
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lcb", required=True, help="a checkout of LiveCodeBench")
    parser.add_argument("--problems", required=True, help="code_generation_lite rows (JSONL)")
    parser.add_argument(
        "--samples", required=True, help="custom output: [{question_id, code_list}]"
    )
    parser.add_argument("--processes", type=int, default=16, help="its num_process_evaluate")
    parser.add_argument("--timeout", type=int, default=6, help="its timeout (s per test)")
    parser.add_argument("--out", required=True, help="where the verdicts go (JSON)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(args.lcb).resolve()))
    from lcb_runner.evaluation.compute_code_generation_metrics import evaluate_generations

    rows = {}
    with open(args.problems) as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                row = json.loads(line)
                rows[str(row["question_id"])] = (row, f"{args.problems}, line {number}")
    custom = json.loads(Path(args.samples).read_text())
    # One job per program, as its codegen_metrics makes them (which also asks every
    # question to have as many programs as the first: a set of any size is graded here).
    samples, generations, owner = [], [], []
    for item in custom:
        sample = input_output(*rows[str(item["question_id"])])
        for j, code in enumerate(item["code_list"]):
            samples.append(sample)
            generations.append([code])
            owner.append((str(item["question_id"]), j))
    results, metadata = evaluate_generations(
        samples, generations, num_process_evaluate=args.processes, timeout=args.timeout
    )
    verdicts = []
    for index, (task_id, j) in enumerate(owner):
        graded = results[index][0]
        verdicts.append(
            {
                "task_id": task_id,
                "code_index": j,
                "passed": bool(graded) and all(g > 0 for g in graded),  # its rule
                "graded": [g if isinstance(g, (bool, int)) else str(g) for g in graded],
                "metadata": metadata[index][0],
            }
        )
    Path(args.out).write_text(json.dumps(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
