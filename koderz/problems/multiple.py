"""MultiPL-E's rows: HumanEval and MBPP translated into other languages.

A row (as MultiPL-E's datasets ship them, one JSON object a line) has ``name``,
``language``, ``prompt``, ``tests`` and ``stop_tokens`` (and ``doctests``,
``original``, ``prompt_terminology`` ...). The program a completion makes is MultiPL-E's:
``prompt + completion + tests``, run whole by its language's compiler or interpreter; the
verdict is MultiPL-E's (``OK``, ``SyntaxError``, ``Exception``, ``Timeout``). The problems
are of the ``script`` shape (:class:`~koderz.records.ScriptTests`); their task id is the
row's ``name`` (or its ``task_id`` if it has one), their language the polyglot name
(``js`` is ``javascript``, ``rs`` is ``rust``, ``go_test.go`` is ``go``).

Examples:
    >>> from koderz.problems.rows import Where
    >>> row = {"name": "HumanEval_0_add", "language": "js", "prompt": "function add(a, b){",
    ...        "tests": "\\nconsole.assert(add(1, 2) === 3);", "stop_tokens": ["\\n}"]}
    >>> p = FORMAT.problem(row, Where("rows.jsonl", 1, "rows.jsonl"))
    >>> p.task_id, p.language, p.shape
    ('HumanEval_0_add', 'javascript', 'script')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from koderz.problems.rows import Where
from koderz.records import Problem, ScriptTests

__all__ = ["FORMAT", "LANGUAGES", "program"]

LANGUAGES = {
    "cpp": "cpp",
    "go_test.go": "go",
    "go": "go",
    "java": "java",
    "js": "javascript",
    "javascript": "javascript",
    "rs": "rust",
    "rust": "rust",
    "py": "python",
    "python": "python",
}
"""MultiPL-E's language codes Koderz runs, to the polyglot name."""


class MultiPLEFormat:
    name = "multipl-e"

    def task_id(self, row: Mapping[str, Any], where: Where) -> str:
        return str(row.get("task_id") or row.get("name") or "")

    def claims(self, row: Mapping[str, Any]) -> bool:
        return "stop_tokens" in row and "language" in row and "tests" in row

    def problem(self, row: Mapping[str, Any], where: Where) -> Problem:
        for field in ("language", "prompt", "tests"):
            if not isinstance(row.get(field), str):
                raise where.error("must be a string", field)
        task_id = row.get("task_id") or row.get("name")
        if not isinstance(task_id, str) or not task_id:
            raise where.error("missing (MultiPL-E names each row)", "name")
        code = row["language"]
        if code not in LANGUAGES:
            known = ", ".join(sorted(LANGUAGES))
            raise where.error(f"is {code!r}; Koderz runs MultiPL-E's {known}", "language")
        stops = row.get("stop_tokens") or []
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise where.error("must be a list of strings", "stop_tokens")
        return Problem(
            task_id=task_id,
            prompt=row["prompt"],
            tests=ScriptTests(
                language=LANGUAGES[code],
                tests=row["tests"],
                stop_tokens=tuple(stops),
                name=str(row.get("name", task_id)),
            ),
            canonical_solution=str(row.get("canonical_solution", "") or ""),
            source=where.origin,
            language=LANGUAGES[code],
        )


FORMAT = MultiPLEFormat()


def program(problem: Problem, completion: str) -> str:
    """MultiPL-E's program: the prompt, the completion cut at its first stop token, and
    the tests.

    Examples:
        >>> p = Problem("t", "int f() {", ScriptTests("cpp", "\\n}\\nint main() {}", ("\\n}",)))
        >>> program(p, " return 1;\\n}\\nextra")
        'int f() { return 1;\\n}\\nint main() {}'
    """
    tests = problem.tests
    assert isinstance(tests, ScriptTests)
    cut = len(completion)
    for stop in tests.stop_tokens:
        at = completion.find(stop)
        if at != -1:
            cut = min(cut, at)
    # MultiPL-E cuts completions before the stop token when it generates them; its rows'
    # tests begin with the function's closing brace.
    return problem.prompt + completion[:cut] + tests.tests
