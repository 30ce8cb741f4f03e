"""Reading JSON Lines problem files, plain or gzipped (detected by content)."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from koderz.errors import ProblemFileError

__all__ = ["read_jsonl"]


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The objects of a JSONL file (gzipped or plain), with their 1-based line numbers.

    Raises:
        ProblemFileError: The file is not readable gzip, or a line is not a JSON object
            (the message names the line).
    """
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ProblemFileError(f"not a readable gzip file ({e})", path=str(path)) from e
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ProblemFileError(f"not valid JSON ({e.msg})", path=str(path), line=number) from e
        if not isinstance(row, dict):
            raise ProblemFileError("each line must be a JSON object", path=str(path), line=number)
        yield number, row
