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


def _build_parser() -> argparse.ArgumentParser:
    from koderz import __version__

    parser = argparse.ArgumentParser(
        prog="koderz",
        description="Cheap models write the code, an expensive model advises; "
        "every call and attempt is recorded and priced.",
    )
    parser.add_argument("--version", action="version", version=f"koderz {__version__}")
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
        return int(args._run(args))
    except KoderzError as e:
        print(f"koderz {args._name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"koderz {args._name}: interrupted; what finished is kept.", file=sys.stderr)
        return 130


_COMMANDS: dict[str, tuple[Callable[[Any], argparse.ArgumentParser], Command]] = {}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
