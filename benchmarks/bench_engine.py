"""How close the engine gets to the ideal wall time, and its own overhead per step.

A local server speaking the OpenAI protocol answers every call after 200 ms; 40 HumanEval
problems each need 3 attempts (wrong, wrong, then the canonical solution), so up to 120 calls:
under the visible stop, a problem with no public test submits its first answer (2 of the 40:
116 calls). With ``--workers 16`` the ideal wall time is calls x 0.2 s / 16 (1.45 s); the
target is within 1.3x.
Every attempt really runs in the sandbox. Then the same run against an instant server, with
one worker, gives the engine's own overhead per step: wall time per step less the model
call and the sandbox run. The server runs in a process of its own, as a real one would.

    python benchmarks/bench_engine.py [--problems 40] [--workers 16] [--delay 0.2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from typing import Any

from koderz.engine.benchmark import run_benchmark
from koderz.engine.experiment import run_experiment
from koderz.engine.strategies import Strategy
from koderz.problems import load_problems, select_problems
from koderz.records import Problem
from koderz.sandbox import isolation
from koderz.store import StepWriter, load_steps
from koderz.testing import ProtocolServer, ScriptedCoder


def _serve(problems: list[Problem], delay: float, out: Any, stop: Any) -> None:
    coder = ScriptedCoder(problems, fail_first=2, delay_s=delay)
    with ProtocolServer("openai", respond=coder) as server:
        out.put(server.env())
        stop.wait()
        out.put(len(server.requests))


def timed_run(problems: dict[str, Problem], *, delay: float, workers: int) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    out, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(list(problems.values()), delay, out, stop))
    server.start()
    os.environ.update(out.get(timeout=30))
    try:
        with tempfile.TemporaryDirectory() as d:
            started = time.perf_counter()
            result = run_benchmark(
                worker="gpt-4o-mini",
                problems=problems,
                data_dir=d,
                workers=workers,
                max_iterations=5,
                progress=False,
            )
            wall = time.perf_counter() - started
            steps = result.steps
    finally:
        stop.set()
        calls = out.get(timeout=30)
        server.join()
    return {"wall": wall, "result": result, "steps": steps, "calls": calls}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--problems", type=int, default=40)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--repeat", type=int, default=5, help="warm runs (default 5)")
    args = ap.parse_args()

    problems = select_problems(load_problems("humaneval"), f"0:{args.problems}")
    print(f"sandbox isolation: {isolation()}; cores: {os.cpu_count()}")

    # Cold: the first run in a fresh process pays once for importing the SDK (~0.3 s) and
    # starting the sandboxes. Warm: the same run again, as in a notebook session; repeated,
    # since two shared cores make single runs noisy.
    runs = [timed_run(problems, delay=args.delay, workers=args.workers)]
    runs += [
        timed_run(problems, delay=args.delay, workers=args.workers) for _ in range(args.repeat)
    ]
    ideal = runs[0]["calls"] * args.delay / args.workers
    solved = min(r["result"].solved for r in runs)  # submitted answers that passed
    warm = sorted(r["wall"] for r in runs[1:])
    median = statistics.median(warm)
    print(
        f"{args.problems} problems, {runs[0]['calls']} calls of {args.delay * 1000:.0f} ms, "
        f"--workers {args.workers}; ideal {ideal:.2f} s; solved {solved}/{args.problems} "
        "in every run"
    )
    print(f"  cold run: {runs[0]['wall']:.2f} s = {runs[0]['wall'] / ideal:.2f}x ideal")
    print(
        f"  warm runs: median {median:.2f} s = {median / ideal:.2f}x ideal (target <= 1.3x); "
        f"all: {', '.join(f'{w:.2f}' for w in warm)} s"
    )

    overhead(problems)


def overhead(problems: dict[str, Problem]) -> None:
    """One experiment after another against an instant server: per attempt, wall time less
    the model call and the sandbox run is the engine's own work."""
    ctx = mp.get_context("fork")
    out, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(list(problems.values()), 0.0, out, stop))
    server.start()
    os.environ.update(out.get(timeout=30))
    strategy = Strategy("overhead", worker="gpt-4o-mini")
    try:
        with tempfile.TemporaryDirectory() as d:
            writer = StepWriter(d, "overhead")
            started = time.perf_counter()
            for p in problems.values():
                run_experiment(p, strategy, writer=writer)
            wall = time.perf_counter() - started
            steps = load_steps(d)
    finally:
        stop.set()
        out.get(timeout=30)
        server.join()
    attempts = steps[steps["role"] == "attempt"]
    n = len(attempts)
    model = attempts["latency_s"].sum() / n
    sandbox = attempts["exec_s"].sum() / n
    per = wall / n
    print(
        f"instant server, serial: {n} attempts in {wall:.2f} s = {per * 1000:.1f} ms each: "
        f"model call {model * 1000:.1f} ms, sandbox {sandbox * 1000:.1f} ms, engine overhead "
        f"{(per - model - sandbox) * 1000:.1f} ms per attempt (prompt, extraction, pricing, "
        "Parquet writes; the end rows included)"
    )


if __name__ == "__main__":
    main()
