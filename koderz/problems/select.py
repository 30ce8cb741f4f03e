"""Choosing problems from a set: by position, by id, or both."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from koderz.errors import ConfigError
from koderz.records import Problem

__all__ = ["select_problems"]


def select_problems(
    problems: Mapping[str, Problem], spec: str | None = None, limit: int | None = None
) -> dict[str, Problem]:
    """Choose problems by position, by id, or both, keeping the set's order.

    Args:
        problems: Problems by task id (as :func:`load_problems` returns them).
        spec: ``None`` for all; ``"0:20"`` for a slice by position; ``"HumanEval/3,
            HumanEval/7"`` for ids; ``"3,7"`` as shorthand for ids ending in ``/3`` and
            ``/7`` when that is unambiguous.
        limit: Keep at most this many (after ``spec``).

    Returns:
        The chosen problems, by task id.

    Raises:
        ConfigError: An id is unknown (the message names close ids) or ambiguous, or the
            spec or limit is malformed.

    Examples:
        >>> from koderz.records import FunctionTests
        >>> t = FunctionTests("f", "assert f()")
        >>> ps = {f"HumanEval/{i}": Problem(f"HumanEval/{i}", "", t) for i in range(5)}
        >>> list(select_problems(ps, "1:3"))
        ['HumanEval/1', 'HumanEval/2']
        >>> list(select_problems(ps, "4,HumanEval/0"))
        ['HumanEval/4', 'HumanEval/0']
        >>> list(select_problems(ps, limit=2))
        ['HumanEval/0', 'HumanEval/1']
    """
    if limit is not None and limit < 0:
        raise ConfigError(f"limit must be 0 or more, not {limit}")
    ids = list(problems)
    chosen: list[str]
    spec = (spec or "").strip()
    if not spec:
        chosen = ids
    elif ":" in spec and "," not in spec and _is_slice(spec):
        start, _, stop = spec.partition(":")
        chosen = ids[
            slice(int(start) if start.strip() else None, int(stop) if stop.strip() else None)
        ]
    else:
        chosen = []
        for token in (t.strip() for t in spec.split(",")):
            if not token:
                continue
            task_id = _resolve(token, ids)
            if task_id not in chosen:
                chosen.append(task_id)
    if limit is not None:
        chosen = chosen[:limit]
    return {task_id: problems[task_id] for task_id in chosen}


def _is_slice(spec: str) -> bool:
    start, _, stop = spec.partition(":")
    return all(not p.strip() or p.strip().lstrip("-").isdigit() for p in (start, stop))


def _resolve(token: str, ids: list[str]) -> str:
    if token in ids:
        return token
    matches = [i for i in ids if i.rsplit("/", 1)[-1] == token] if "/" not in token else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ConfigError(f"{token!r} is ambiguous: {', '.join(matches[:5])}; give the full id.")
    close = difflib.get_close_matches(token, ids, n=3, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"Unknown problem {token!r}.{hint} Ids look like {ids[0]!r}"
        if ids
        else f"Unknown problem {token!r}: the problem set is empty."
    )
