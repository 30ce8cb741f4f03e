"""``koderz evaluate`` on Aider's polyglot exercises against the benchmark's own procedure,
as whole commands with the same parallelism.

For a handful of exercises per language of a polyglot-benchmark checkout, two samples each:
the reference solution (the exercise's example files in place of its solution files) and
the shipped stub. Koderz judges them with one command, ``koderz evaluate``, in its sandbox.
The benchmark's procedure (Aider's ``benchmark/benchmark.py``) runs each sample plainly: a
fresh copy of the exercise, the candidate's files in it, the test files restored, the same
edits (jest's ``xtest`` run, JUnit's ``@Disabled`` removed), then the test command of its
language (``pytest``; ``go test ./...``; ``cargo test -- --include-ignored``; cmake with
``EXERCISM_RUN_ALL_TESTS`` and ``make``; ``npm run test`` against an installed jest), its
exit status the verdict, as many at once as Koderz runs. Java runs ``./gradlew test`` in
the benchmark, which fetches Gradle over the network; here it runs the same javac and JUnit
console commands Koderz runs, plainly.

Koderz is timed twice: the first run fetches and warms what exercises need (Go's build
cache), outside any sandbox, the second finds them ready. The verdicts are compared sample
by sample; the ratio is of the plain procedure's time to Koderz's.

    python benchmarks/bench_polyglot.py --checkout PATH [--per-language 3] [--workers 4]
        [--languages cpp,go,java,javascript,python,rust]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from koderz.problems import polyglot  # noqa: E402
from koderz.records import BuildTests, Problem  # noqa: E402
from koderz.sandbox.languages import cache_dir  # noqa: E402

LANGUAGES = ("cpp", "go", "java", "javascript", "python", "rust")


def pick(checkout: Path, languages: list[str], per_language: int) -> list[Problem]:
    problems = polyglot.load(checkout)
    chosen = []
    for lang in languages:
        ids = sorted(t for t in problems if t.startswith(lang + "/"))
        chosen += [problems[t] for t in ids[:per_language]]
    return chosen


def samples(problems: list[Problem]) -> list[dict[str, Any]]:
    rows = []
    for p in problems:
        assert isinstance(p.tests, BuildTests)
        rows.append({"task_id": p.task_id, "files": dict(p.tests.example), "kind": "reference"})
        rows.append({"task_id": p.task_id, "files": {}, "kind": "stub"})
    return rows


def koderz(path: Path, checkout: Path, workers: int) -> tuple[float, list[bool]]:
    cmd = [sys.executable, "-c", "import sys; from koderz.cli import main; sys.exit(main())"]
    cmd += ["evaluate", str(path), "--problem-file", str(checkout), "--workers", str(workers)]
    cmd += ["-k", "1", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    took = time.monotonic() - started
    results = Path(f"{path}_results.jsonl").read_text().splitlines()
    return took, [json.loads(line)["passed"] for line in results]


def _command(lang: str, folder: Path) -> list[str] | str:
    jars = cache_dir() / "java"
    if lang == "python":
        return ["pytest", "-q"]
    if lang == "go":
        return ["go", "test", "./..."]
    if lang == "rust":
        return ["cargo", "test", "--", "--include-ignored"]
    if lang == "cpp":
        cmake = "cmake -DEXERCISM_RUN_ALL_TESTS=1 -G 'Unix Makefiles' .."
        return f"mkdir -p build && cd build && {cmake} && make"
    if lang == "javascript":
        modules = cache_dir() / "npm" / "node_modules"
        return f"ln -sfn {modules} node_modules && npm run test"
    launcher = jars / "junit-platform-console-standalone.jar"
    assertj = jars / "assertj-core.jar"
    del folder
    return (
        "javac -d build/main $(find src/main -name '*.java') && "
        f"javac -d build/test -cp build/main:{assertj}:{launcher} "
        "$(find src/test -name '*.java') && "
        f"java -jar {launcher} execute --disable-banner -cp build/main:build/test:{assertj} "
        "--scan-class-path"
    )


def plain_one(problem: Problem, files: dict[str, str], work: Path) -> bool:
    """One sample, as the benchmark runs it: a copy, the files, the tests restored, the
    test command's exit status."""
    tests = problem.tests
    assert isinstance(tests, BuildTests)
    source = Path(tests.folder)
    folder = work / problem.task_id.replace("/", "_") / source.name
    if folder.parent.exists():
        shutil.rmtree(folder.parent)
    shutil.copytree(source, folder)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    for path in tests.test:  # restored from the exercise
        shutil.copy(source / path, folder / path)
        text = (folder / path).read_text()
        if path.endswith(".java"):
            (folder / path).write_text(re.sub(r"@Disabled\([^)]*\)\s*\n", "", text))
        if path.endswith(".spec.js"):
            (folder / path).write_text(re.sub(r"\bxtest\(", "test(", text))
    cmd = _command(problem.language, folder)
    # As in Aider's image, pytest alone: not the plugins this machine has beside it (Koderz
    # runs the exercises so too).
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    try:
        done = subprocess.run(
            cmd,
            cwd=folder,
            env=env,
            shell=isinstance(cmd, str),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=180,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def plain(
    problems: dict[str, Problem], rows: list[dict[str, Any]], workers: int
) -> tuple[float, list[bool]]:
    with tempfile.TemporaryDirectory(prefix="koderz-plain-") as tmp:
        started = time.monotonic()
        with ThreadPoolExecutor(workers) as pool:
            verdicts = list(
                pool.map(
                    lambda i_row: plain_one(
                        problems[i_row[1]["task_id"]], i_row[1]["files"], Path(tmp) / str(i_row[0])
                    ),
                    enumerate(rows),
                )
            )
        return time.monotonic() - started, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", required=True, type=Path)
    parser.add_argument("--per-language", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    args = parser.parse_args()
    chosen = pick(args.checkout, args.languages.split(","), args.per_language)
    rows = samples(chosen)
    by_id = {p.task_id: p for p in chosen}
    with tempfile.TemporaryDirectory(prefix="koderz-bench-") as tmp:
        path = Path(tmp) / "samples.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        cold, verdicts = koderz(path, args.checkout, args.workers)
        warm, again = koderz(path, args.checkout, args.workers)
    took, theirs = plain(by_id, rows, args.workers)
    print(
        f"{len(chosen)} exercises ({args.per_language} per language), {len(rows)} samples, "
        f"{args.workers} at once"
    )
    print(f"koderz evaluate, first run (fetches, warms caches): {cold:7.1f} s")
    print(f"koderz evaluate, second run:                         {warm:7.1f} s")
    print(f"the benchmark's procedure, plainly:                  {took:7.1f} s")
    print(f"ratio plain / koderz (second run): {took / warm:.2f}x; first run: {took / cold:.2f}x")
    agree = sum(a == b for a, b in zip(again, theirs, strict=True))
    print(
        f"verdicts agree on {agree}/{len(rows)} samples (first run == second: {verdicts == again})"
    )
    for row, ours, plain_verdict in zip(rows, again, theirs, strict=True):
        if ours != plain_verdict:
            print(
                f"  differs: {row['task_id']} {row['kind']}: koderz {ours}, plain {plain_verdict}"
            )
    for lang in args.languages.split(","):
        n = [
            (o, t)
            for r, o, t in zip(rows, again, theirs, strict=True)
            if r["task_id"].startswith(lang + "/")
        ]
        refs = [
            o
            for (o, _), r in zip(
                n, [r for r in rows if r["task_id"].startswith(lang + "/")], strict=True
            )
            if r["kind"] == "reference"
        ]
        print(f"  {lang:10s} references passing (koderz): {sum(refs)}/{len(refs)}")


if __name__ == "__main__":
    main()
