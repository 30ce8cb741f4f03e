"""The embedded model through Koderz against raw llama-cpp-python, and llama.cpp's default
load against the one without extra buffer types.

Each measurement is a whole fresh process: it loads the model, makes one untimed warm-up
call, then ``--calls`` timed calls with the same prompt, ``max_tokens``, threads, context,
temperature 0 and seed. Raw is a ``python -c`` script calling ``llama_cpp.Llama``
directly; Koderz is ``koderz.get_model(...).complete`` (its llama.cpp worker process, the
pipes and the JSON included), timed by the caller in both. Output tokens/s of a process is
its output tokens over its timed seconds. The variants alternate round by round so that
background load hits them alike; the median of the rounds is reported.

Variants: ``raw`` (llama.cpp's default load, extra buffer types on), ``raw-no-extra-bufts``
(``use_extra_bufts = False``, the AMX guard), ``koderz`` (its default: the guard only on a
CPU with AMX) and ``koderz-no-extra-bufts`` (``KODERZ_LLAMACPP_EXTRA_BUFTS=0``).

    python benchmarks/bench_embedded.py [--rounds 5] [--calls 3] [--max-tokens 128]
        [--model smollm2 | PATH.gguf] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROMPT = (
    "Write a Python module that implements a binary search tree with insert, delete, "
    "search and in-order traversal, each method with a docstring and an example."
)

RAW = """
import json, sys, time
import llama_cpp
from llama_cpp import llama_cpp as native

a = json.loads(sys.argv[1])
default_params = native.llama_model_default_params

def params():
    p = default_params()
    p.use_extra_bufts = a["extra_bufts"]
    return p

native.llama_model_default_params = params
llm = llama_cpp.Llama(model_path=a["path"], n_ctx=a["n_ctx"], n_threads=a["n_threads"],
                      verbose=False)
messages = [{"role": "user", "content": a["prompt"]}]

def call():
    started = time.perf_counter()
    r = llm.create_chat_completion(messages=messages, max_tokens=a["max_tokens"],
                                   temperature=0.0, seed=a["seed"])
    return r["usage"]["completion_tokens"], time.perf_counter() - started

call()  # warm-up
print(json.dumps([call() for _ in range(a["calls"])]))
"""

KODERZ = """
import json, sys, time
from koderz.models import get_model

a = json.loads(sys.argv[1])
model = get_model(a["model"])

def call():
    started = time.perf_counter()
    c = model.complete(a["prompt"], max_tokens=a["max_tokens"], temperature=0.0,
                       seed=a["seed"])
    return c.usage.output_tokens, time.perf_counter() - started

call()  # warm-up
print(json.dumps([call() for _ in range(a["calls"])]))
"""


def run(variant: str, args: dict[str, Any]) -> float | str:
    """Output tokens/s of one fresh process of ``variant``, or how it died."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if variant.startswith("raw"):
        code, payload = RAW, {**args, "extra_bufts": variant == "raw"}
    else:
        code, payload = KODERZ, args
        if variant == "koderz-no-extra-bufts":
            env["KODERZ_LLAMACPP_EXTRA_BUFTS"] = "0"
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(payload)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:  # e.g. llama.cpp's AMX repacking on a CPU with AMX
        return _death(done.returncode)
    calls = json.loads(done.stdout.strip().splitlines()[-1])
    return sum(t for t, _ in calls) / sum(s for _, s in calls)


def _death(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3, help="timed calls per process")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--model", default="smollm2", help="smollm2 or a .gguf path")
    parser.add_argument(
        "--threads", type=int, default=None, help="llama.cpp threads (default: Koderz's)"
    )
    opts = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from koderz.models import llamacpp
    from koderz.models.registry import resolve_model

    spec = resolve_model(opts.model)
    if opts.threads is not None:
        # Read by the Koderz processes; the raw ones are given the same number.
        os.environ["KODERZ_LLAMACPP_N_THREADS"] = str(opts.threads)
    s = llamacpp.settings()
    args = {
        "model": opts.model,
        "path": spec.api_model,
        "n_ctx": s.n_ctx,
        "n_threads": s.n_threads,
        "prompt": PROMPT,
        "max_tokens": opts.max_tokens,
        "seed": 1,
        "calls": opts.calls,
    }
    variants = ["raw", "koderz", "raw-no-extra-bufts", "koderz-no-extra-bufts"]
    print(
        f"{Path(spec.api_model).name}: {opts.rounds} rounds x {opts.calls} timed calls of "
        f"{opts.max_tokens} tokens, {s.n_threads} threads, n_ctx {s.n_ctx}; Koderz's extra "
        f"buffer types here: {s.extra_bufts_why}"
    )
    results: dict[str, list[float | str]] = {v: [] for v in variants}
    started = time.perf_counter()
    for r in range(opts.rounds):
        # Rotate the order too, so that no variant always runs first after a pause.
        for v in variants[r % len(variants) :] + variants[: r % len(variants)]:
            results[v].append(run(v, args))
        print(
            f"  round {r + 1}: " + ", ".join(f"{v} {_shown(results[v][-1])}" for v in variants),
            flush=True,
        )
    rates = {v: [x for x in got if isinstance(x, float)] for v, got in results.items()}
    med = {v: statistics.median(x) for v, x in rates.items() if x}
    print(f"output tokens/s, median of {opts.rounds} ({time.perf_counter() - started:.0f} s):")
    for v in variants:
        deaths = sorted({x for x in results[v] if isinstance(x, str)})
        died = f"; died in {len(results[v]) - len(rates[v])} round(s): {', '.join(deaths)}"
        shown = f"{med[v]:7.1f}  ({min(rates[v]):.1f}-{max(rates[v]):.1f})" if v in med else ""
        print(f"  {v:<24} {shown or 'no round finished':>7}{died if deaths else ''}")
    # On a CPU where llama.cpp's default load dies, the peer is the load that runs.
    peer = "raw" if "raw" in med else "raw-no-extra-bufts"
    if "koderz" in med and peer in med:
        print(f"Koderz / raw llama-cpp-python ({peer}): {med['koderz'] / med[peer]:.3f}")
    if {"raw", "raw-no-extra-bufts", "koderz", "koderz-no-extra-bufts"} <= med.keys():
        print(
            "no extra buffer types / default, raw: "
            f"{med['raw-no-extra-bufts'] / med['raw']:.3f}; through Koderz: "
            f"{med['koderz-no-extra-bufts'] / med['koderz']:.3f}"
        )


def _shown(result: float | str) -> str:
    return f"{result:.1f}" if isinstance(result, float) else f"died ({result})"


if __name__ == "__main__":
    main()
