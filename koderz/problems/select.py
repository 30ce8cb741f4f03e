"""Choosing problems from a set: by position, by id, or both (:func:`select_problems`); and
by what the set says of them, a window of release dates and slices by difficulty, platform
and language (:func:`slice_problems`, :class:`ProblemSlice`), as LiveCodeBench's start and
end dates choose its problems.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from koderz.errors import ConfigError, iso_date
from koderz.records import Problem

__all__ = [
    "DIFFICULTIES",
    "LANGUAGES",
    "PLATFORMS",
    "ProblemSlice",
    "select_problems",
    "slice_problems",
]

DIFFICULTIES = ("easy", "medium", "hard")
"""LiveCodeBench's difficulty labels; a set's own labels are taken too."""
PLATFORMS = ("leetcode", "atcoder", "codeforces")
"""Where LiveCodeBench's problems were posed; a set's own platforms are taken too."""
LANGUAGES = ("python", "cpp", "go", "java", "js", "rust")
"""The languages of the polyglot sets; a set's own languages are taken too."""


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


# The slices: (ProblemSlice's attribute, Problem's field, the flag, the labels always known).
_SLICES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("difficulties", "difficulty", "--difficulty", DIFFICULTIES),
    ("platforms", "platform", "--platform", PLATFORMS),
    ("languages", "language", "--languages", LANGUAGES),
)


@dataclass(frozen=True)
class ProblemSlice:
    """Which problems of a set a run takes by what the set says of them: a window of release
    dates (both ends inclusive, as LiveCodeBench's start and end dates) and the difficulties,
    platforms and languages to keep. Empty fields keep every problem; a run's manifest
    records it (:meth:`to_dict`)."""

    since: str | None = None
    """The first release date in the window, ``YYYY-MM-DD``; None: no start."""
    until: str | None = None
    """The last release date in the window, ``YYYY-MM-DD``; None: no end."""
    difficulties: tuple[str, ...] = ()
    """The difficulties to keep (lower case); empty: all."""
    platforms: tuple[str, ...] = ()
    """The platforms to keep (lower case); empty: all."""
    languages: tuple[str, ...] = ()
    """The languages to keep (lower case); empty: all."""

    @classmethod
    def of(
        cls,
        *,
        since: Any = None,
        until: Any = None,
        difficulties: str | Iterable[str] | None = None,
        platforms: str | Iterable[str] | None = None,
        languages: str | Iterable[str] | None = None,
    ) -> ProblemSlice:
        """A slice from what a user gives: dates as ``YYYY-MM-DD``, the others as lists or
        comma-separated text (``"easy,medium"``).

        Raises:
            ConfigError: A date is malformed, or the window ends before it starts.

        Examples:
            >>> ProblemSlice.of(since="2025-01-01", difficulties="Easy, medium").describe()
            'released on or after 2025-01-01; difficulty easy, medium'
        """
        start = None if since is None else iso_date(since, "since (--since)")
        end = None if until is None else iso_date(until, "until (--until)")
        if start is not None and end is not None and start > end:
            raise ConfigError(
                f"The window starts (--since {start}) after it ends (--until {end}); give a "
                "start on or before the end."
            )
        return cls(start, end, _labels(difficulties), _labels(platforms), _labels(languages))

    @property
    def given(self) -> bool:
        """Whether it leaves any problem out at all."""
        return any(v for v in (self.since, self.until, *self._lists()))

    def _lists(self) -> tuple[tuple[str, ...], ...]:
        return self.difficulties, self.platforms, self.languages

    def window(self) -> str:
        """The window in words (empty without one).

        Examples:
            >>> ProblemSlice("2025-01-01", "2025-05-31").window()
            'released 2025-01-01 to 2025-05-31'
        """
        if self.since and self.until:
            return f"released {self.since} to {self.until}"
        if self.since:
            return f"released on or after {self.since}"
        return f"released on or before {self.until}" if self.until else ""

    def describe(self) -> str:
        """The window and the slices in words (empty when it keeps every problem)."""
        parts = [self.window()] if self.window() else []
        for (_, field, _, _), values in zip(_SLICES, self._lists(), strict=True):
            if values:
                parts.append(f"{field} {', '.join(values)}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as a run's manifest records it (with its :meth:`describe`, which a
        report's methods section states)."""
        return {
            "since": self.since,
            "until": self.until,
            "difficulties": list(self.difficulties),
            "platforms": list(self.platforms),
            "languages": list(self.languages),
            "described": self.describe(),
        }

    def apply(self, problems: Mapping[str, Problem]) -> dict[str, Problem]:
        """The problems in the window and the slices, in the set's order. Those the set says
        nothing of (no release date, for a window) are outside it; a warning says how many
        were left out and why.

        Raises:
            ConfigError: A difficulty, platform or language neither Koderz nor the set knows
                (the message lists those there are), or no problem is left.
        """
        if not self.given:
            return dict(problems)
        self._check_labels(problems.values())
        kept = dict(problems)
        lacking: list[str] = []
        if self.since or self.until:
            dated = {k: p for k, p in kept.items() if p.released}
            if len(dated) < len(kept):
                lacking.append(
                    f"{len(kept) - len(dated)} problem(s) have no release date, so they are "
                    "outside any window (--since/--until)"
                )
            kept = {k: p for k, p in dated.items() if self._in_window(p.released)}
        for (_, field, flag, _), wanted in zip(_SLICES, self._lists(), strict=True):
            if not wanted:
                continue
            labelled = {k: p for k, p in kept.items() if getattr(p, field)}
            if len(labelled) < len(kept):
                lacking.append(
                    f"{len(kept) - len(labelled)} problem(s) have no {field}, so {flag} "
                    "leaves them out"
                )
            kept = {k: p for k, p in labelled.items() if getattr(p, field).lower() in wanted}
        if problems and not kept:  # the reasons go into the error, not a warning too
            raise ConfigError(
                f"No problem of the {len(problems)} is {self.describe()}"
                + (f" ({'; '.join(lacking)})" if lacking else "")
                + ": widen the window or the slices."
            )
        for why in lacking:
            warnings.warn(f"{why}.", stacklevel=3)
        return kept

    def _in_window(self, released: str) -> bool:
        day = released[:10]  # ISO dates compare as text
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )

    def _check_labels(self, problems: Iterable[Problem]) -> None:
        listed = list(problems)
        for (_, field, flag, known), wanted in zip(_SLICES, self._lists(), strict=True):
            there = set(known) | {str(getattr(p, field)).lower() for p in listed} - {""}
            for value in wanted:
                if value not in there:
                    close = difflib.get_close_matches(value, sorted(there), n=1)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    raise ConfigError(
                        f"Unknown {field} {value!r} ({flag}){hint}; use one of "
                        f"{', '.join(sorted(there))}."
                    )


def slice_problems(
    problems: Mapping[str, Problem],
    *,
    since: Any = None,
    until: Any = None,
    difficulties: str | Sequence[str] | None = None,
    platforms: str | Sequence[str] | None = None,
    languages: str | Sequence[str] | None = None,
) -> dict[str, Problem]:
    """The problems released in a window (``since`` to ``until``, both ``YYYY-MM-DD`` and
    inclusive) and of the difficulties, platforms and languages given, in the set's order.
    A problem without a release date is outside any window, and one without a difficulty
    (platform ...) is left out by a slice of them; a warning says how many and why.

    Args:
        problems: Problems by task id (as :func:`load_problems` returns them).
        since: The first release date kept; None: no start.
        until: The last release date kept; None: no end.
        difficulties: ``easy``, ``medium``, ``hard`` (or the set's own labels), as a list or
            comma-separated; None: all.
        platforms: ``leetcode``, ``atcoder``, ``codeforces`` ...; None: all.
        languages: ``python``, ``cpp``, ``go``, ``java``, ``js``, ``rust`` ...; None: all.

    Raises:
        ConfigError: A malformed date, a window that ends before it starts, a label neither
            Koderz nor the set knows, or nothing left; the message names the fix.

    Examples:
        >>> from koderz.records import FunctionTests
        >>> t = FunctionTests("f", "assert f()")
        >>> ps = {p.task_id: p for p in [
        ...     Problem("a", "", t, released="2024-12-30", difficulty="easy"),
        ...     Problem("b", "", t, released="2025-01-01", difficulty="hard"),
        ...     Problem("c", "", t, released="2025-03-02", difficulty="easy")]}
        >>> list(slice_problems(ps, since="2025-01-01"))
        ['b', 'c']
        >>> list(slice_problems(ps, until="2025-01-01", difficulties="easy"))
        ['a']
    """
    chosen = ProblemSlice.of(
        since=since,
        until=until,
        difficulties=difficulties,
        platforms=platforms,
        languages=languages,
    )
    return chosen.apply(problems)


def _labels(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Labels as given (a list, or text separated by commas), lower case, each once."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(dict.fromkeys(v.strip().lower() for v in items if str(v).strip()))
