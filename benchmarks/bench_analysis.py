"""How fast is the analysis? Writes synthetic steps with the real writer, then times
``load_steps`` plus the full analysis, and the rendering of a report.

    python benchmarks/bench_analysis.py                      # 1,000,000 steps + 100,000-step report
    python benchmarks/bench_analysis.py --steps 200000 --report-steps 0

The steps come from ``koderz.analysis.demo`` (three strategies over the 164 HumanEval ids,
several runs and samples), written in batches by ``StepWriter`` and compacted per run as
the engine does.
Their texts are the demo's short ones plus ``--text-bytes`` of prompt and reply per model call.

Load + analysis runs in a fresh process per repeat so its peak memory (``ru_maxrss``) is
that of reading and analysing alone. Targets on a 2-core machine: under 5 s and 2 GB for
1,000,000 steps; under 60 s to render a 100,000-step report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROBLEMS = 164


def write_steps(data_dir: Path, steps: int, *, text_bytes: int, seed: int = 0) -> int:
    """Write exactly ``steps`` demo steps into ``data_dir``; returns the number of runs."""
    from koderz.analysis.demo import demo_rows
    from koderz.store import StepWriter, compact_run

    per_run = 60_000
    written, run = 0, 0
    clock = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    prompt, reply = "p" * text_bytes, "r" * (text_bytes // 2)
    while written < steps:
        run += 1
        run_id = f"bench-{run:03d}"
        writer = StepWriter(data_dir, run_id)
        batch: list[dict[str, Any]] = []
        rows = demo_rows(problems=PROBLEMS, samples=20, run_id=run_id, seed=seed + run, start=clock)
        for in_run, row in enumerate(rows, start=1):  # runs one after another in time
            clock = row["finished_at"]
            if row["role"] != "end":
                row["prompt"], row["response"] = prompt, reply
            batch.append(row)
            written += 1
            if len(batch) == 20_000:
                writer.write_many(batch)
                batch = []
            if written == steps or in_run == per_run:
                break
        writer.write_many(batch)
        compact_run(data_dir, run_id)
    return run


def measure(data_dir: str) -> dict[str, float]:
    """Load and analyse once; this process's figures."""
    from koderz import analyze
    from koderz.analysis.stats.metrics import ANALYSIS_COLUMNS
    from koderz.store import load_steps

    t0 = time.perf_counter()
    steps = load_steps(data_dir, columns=ANALYSIS_COLUMNS)
    t1 = time.perf_counter()
    result = analyze(steps, baseline="frontier-only", estimate_model="claude-opus-4-5")
    t2 = time.perf_counter()
    assert len(result.summary) == 3
    return {
        "rows": float(len(steps)),
        "load_s": t1 - t0,
        "analysis_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--report-steps", type=int, default=100_000, help="0: no report")
    parser.add_argument("--text-bytes", type=int, default=400, help="prompt size per call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="write the data here and keep it")
    parser.add_argument("--measure", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return

    with tempfile.TemporaryDirectory(prefix="koderz-bench-") as tmp:
        root = Path(args.keep or tmp)
        data = root / "steps-1m"
        t = time.perf_counter()
        runs = write_steps(data, args.steps, text_bytes=args.text_bytes)
        print(f"wrote {args.steps:,} steps in {runs} runs in {time.perf_counter() - t:.1f} s")
        figures = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, __file__, "--measure", str(data)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            figures.append(json.loads(out.strip().splitlines()[-1]))
        for key in ("load_s", "analysis_s", "total_s", "peak_rss_mb"):
            values = [f[key] for f in figures]
            print(
                f"{key:>12}: median {statistics.median(values):8.2f}  "
                f"min {min(values):8.2f}  max {max(values):8.2f}"
            )
        print(f"rows analysed: {int(figures[0]['rows']):,}")

        if args.report_steps:
            from koderz.analysis.report.render import render_report

            small = root / "steps-report"
            write_steps(small, args.report_steps, text_bytes=args.text_bytes)
            t = time.perf_counter()
            (report,) = render_report(
                small,
                out_dir=root / "reports",
                baseline="frontier-only",
                estimate_model="claude-opus-4-5",
            )
            took = time.perf_counter() - t
            print(f"report of {args.report_steps:,} steps rendered in {took:.1f} s: {report.html}")


if __name__ == "__main__":
    main()
