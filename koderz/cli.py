"""The ``koderz`` command line: thin over the Python API.

Each sub-command is a pair: ``_add_NAME(subparsers)`` declares its arguments and
``_cmd_NAME(args) -> int`` runs it. A :class:`~koderz.errors.KoderzError` (a mistake of the
user's, or a failure we can explain) is printed as one line on stderr with exit status 2;
no traceback reaches the user for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from koderz.errors import KoderzError

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


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
    from koderz.prices import list_price
    from koderz.registry import known_models

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
        help="send each model a tiny prompt: latency, tokens, cost or the error",
        description="Send each model a tiny prompt and report latency, tokens and cost, or "
        "the error in words. Exit status 1 if any model failed. Run this before spending money.",
    )
    p.add_argument("models", nargs="+", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per call (default 60)")
    return p


def _cmd_check(args: argparse.Namespace) -> int:
    from koderz.models import check_model

    rows = [check_model(name, timeout_s=args.timeout) for name in args.models]
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            if r["ok"]:
                print(
                    f"ok    {r['model']}: {r['latency_s']:.2f} s, {r['input_tokens']} in / "
                    f"{r['output_tokens']} out tokens, ${r['cost_usd']:.6f} "
                    f"({r['output_tokens_per_s']:.1f} tok/s)"
                )
            else:
                print(f"FAIL  {r['model']}: {r['error']}")
    return 0 if all(r["ok"] for r in rows) else 1


# --------------------------------------------------------------------------- analysis


def _add_analysis_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default="data", metavar="D", help="the data folder")
    p.add_argument(
        "--run-id",
        action="append",
        metavar="R",
        help="only this run (repeat for several; default: every run)",
    )
    p.add_argument(
        "--baseline",
        metavar="STRATEGY",
        help="the measured baseline: a strategy run on the same problems",
    )
    p.add_argument(
        "--estimate-model",
        metavar="MODEL",
        help="re-price every call's tokens at this model (a frontier-only estimate)",
    )


def _add_analyze(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "analyze",
        help="pass rates, costs by tier and savings, per strategy",
        description="Per strategy: problems, solved, pass rate, cost by tier with call counts, "
        "and savings against a measured baseline and a re-priced estimate (95%% CIs).",
    )
    _add_analysis_args(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def _cmd_analyze(args: argparse.Namespace) -> int:
    from koderz.analysis import analyze
    from koderz.store import load_steps

    filters = {"run_id": args.run_id} if args.run_id else {}
    steps = load_steps(args.data_dir, **filters)
    result = analyze(steps, baseline=args.baseline, estimate_model=args.estimate_model)
    if args.json:
        _print_json(result.to_dict())
    else:
        sys.stdout.write(result.text())
    return 0


def _build_parser() -> argparse.ArgumentParser:
    from koderz import __version__

    parser = argparse.ArgumentParser(
        prog="koderz",
        description="Cheap models write the code, an expensive model advises; "
        "every call and attempt is recorded and priced.",
    )
    parser.add_argument("--version", action="version", version=f"koderz {__version__}")
    parser.add_argument(
        "--prices",
        metavar="TOML",
        help="price overrides and local hardware rate (see koderz.prices); "
        "also read from $KODERZ_PRICES",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (add, run) in _COMMANDS.items():
        p = add(sub)
        p.set_defaults(_run=run, _name=name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.prices:
            from koderz.prices import load_prices

            load_prices(args.prices)
        return int(args._run(args))
    except KoderzError as e:
        print(f"koderz {args._name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"koderz {args._name}: interrupted; what finished is kept.", file=sys.stderr)
        return 130


_COMMANDS: dict[str, tuple[Callable[[Any], argparse.ArgumentParser], Command]] = {
    "models": (_add_models, _cmd_models),
    "check": (_add_check, _cmd_check),
    "analyze": (_add_analyze, _cmd_analyze),
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
