"""``koderz evaluate`` from this checkout against the same command from another checkout (an
earlier commit, say), as a user runs it: whole commands, each a fresh process, alternating.

What a refactoring must not cost: the canonical HumanEval solutions (164 samples) and the
realistic pass@k set of ``realistic_set.py`` (right, wrong, crashing, never-ending and slow
samples), judged by both versions with their defaults and full isolation. Each command runs
with ``PYTHONPATH`` set to its checkout, so each imports its own ``koderz`` (the installed one
is only the fallback); both byte-compile their package first, as the set-up script leaves it.
The verdicts of the two are compared sample by sample.

    git worktree add /tmp/before <commit>
    python benchmarks/bench_versions.py --before /tmp/before [--rounds 5]
        [--realistic-rounds 1] [--per-kind 2] [--sets canonical,realistic]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import realistic_set
from bench_evaluate import cpu_model, results, write_samples

ROOT = Path(__file__).resolve().parents[1]


def command(checkout: Path, samples: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    return [sys.executable, "-m", "koderz.cli", "evaluate", str(samples)], env


def timed(checkout: Path, samples: Path) -> float:
    argv, env = command(checkout, samples)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=checkout, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{checkout}: koderz evaluate exited with {done.returncode}:\n{done.stderr}")
    return took


def compare(name: str, before: Path, samples: dict[str, Path], rounds: int) -> None:
    times: dict[str, list[float]] = {"before": [], "now": []}
    checkouts = {"before": before, "now": ROOT}
    for i in range(rounds):
        order = ("now", "before") if i % 2 else ("before", "now")
        for which in order:
            times[which].append(timed(checkouts[which], samples[which]))
    rows = {which: results(path) for which, path in samples.items()}
    pairs = list(zip(rows["before"], rows["now"], strict=True))
    agree = sum(a["passed"] == b["passed"] for a, b in pairs)
    medians = {which: statistics.median(t) for which, t in times.items()}
    print(f"{name}: {len(pairs)} samples, {rounds} alternating rounds, wall time per command")
    for which, t in times.items():
        passed = sum(bool(r["passed"]) for r in rows[which])
        print(
            f"  {which:6}: {medians[which]:.3f} s median ({min(t):.3f}-{max(t):.3f} s), "
            f"passed {passed}/{len(pairs)}"
        )
    print(
        f"  now / before: {medians['now'] / medians['before']:.3f}; verdicts agree on "
        f"{agree}/{len(pairs)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the canonical set")
    parser.add_argument("--realistic-rounds", type=int, default=1)
    parser.add_argument("--per-kind", type=int, default=2, help="realistic samples per kind")
    parser.add_argument("--sets", default="canonical,realistic")
    args = parser.parse_args(argv)
    before = args.before.resolve()
    if not (before / "koderz" / "cli.py").is_file():
        parser.error(f"{before} is not a Koderz checkout (no koderz/cli.py)")
    for checkout in (before, ROOT):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "koderz")])
    print(f"before: {before} ({_commit(before)}); now: {ROOT} ({_commit(ROOT)})")
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    folder = Path(tempfile.mkdtemp(prefix="bench-versions-"))
    sets = args.sets.split(",")
    if "canonical" in sets:
        samples = {w: write_samples(folder / f"canonical_{w}.jsonl") for w in ("before", "now")}
        compare("canonical", before, samples, args.rounds)
    if "realistic" in sets:
        samples = {
            w: realistic_set.write(folder / f"realistic_{w}.jsonl", args.per_kind)
            for w in ("before", "now")
        }
        compare("realistic", before, samples, args.realistic_rounds)
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


def _commit(checkout: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    )
    return done.stdout.strip()[:70] or "not a git checkout"


if __name__ == "__main__":
    sys.exit(main())
