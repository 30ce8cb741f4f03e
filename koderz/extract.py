"""Code out of model replies, and the program that the sandbox runs.

Replies come in every shape: a fenced block (or several), bare code, prose around code,
reasoning in ``<think>`` sections, or just the function body in HumanEval's completion
style. :func:`extract_code` finds the code; :func:`build_program` puts it together with the
imports and helper functions of the problem's prompt, so a reply that only rewrites the
asked-for function still runs.
"""

from __future__ import annotations

import ast
import functools
import re
import textwrap
from collections.abc import Callable, Mapping

from koderz.records import BuildTests, CallTests, Problem

__all__ = [
    "build_program",
    "extract_code",
    "files_of",
    "listing",
    "program_of",
    "prompt_context",
    "whole_files",
    "without_reasoning",
]

_THINK = re.compile(r"<(think|thinking|reasoning|thought)>.*?(</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_START = re.compile(r"^(def |async def |class |import |from |@)")


def without_reasoning(reply: str) -> str:
    """A reply without its ``<think>`` (``<thinking>``, ``<reasoning>`` ...) sections.

    Examples:
        >>> without_reasoning("<think>maybe x</think>It is y.")
        'It is y.'
    """
    return _THINK.sub("", reply)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _defines(code: str, name: str) -> bool:
    return re.search(rf"^\s*(async\s+)?def\s+{re.escape(name)}\s*\(", code, re.M) is not None


def extract_code(reply: str, *, entry_point: str | None = None) -> str:
    """The code in a model's reply.

    Preference: a fenced block that defines ``entry_point``; else the longest fenced block
    that parses; else the reply itself if it parses; else the reply from its first line that
    starts code, with trailing prose removed until it parses.

    Examples:
        >>> reply = "Sure!\\n```python\\ndef f(x):\\n    return x\\n```\\nDone."
        >>> extract_code(reply, entry_point="f")
        'def f(x):\\n    return x'
        >>> extract_code("<think>def f(): wrong</think>def f():\\n    return 1")
        'def f():\\n    return 1'
    """
    text = _THINK.sub("", reply).strip()
    blocks: list[str] = [
        str(body).strip("\n")
        for lang, body in _FENCE.findall(text)
        if lang.lower() in ("", "python", "py", "python3")
    ]
    blocks = [b for b in blocks if b.strip()]
    if blocks:
        if entry_point:
            defining = [b for b in blocks if _defines(b, entry_point) and _parses(b)]
            if defining:
                return max(defining, key=len).rstrip()
        parsing = [b for b in blocks if _parses(textwrap.dedent(b))]
        return max(parsing or blocks, key=len).rstrip()
    if _parses(text):
        return text.rstrip()
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _CODE_START.match(line)), None)
    if start is None:
        return text.rstrip()
    candidate = lines[start:]
    while candidate and not _parses("\n".join(candidate)):
        candidate.pop()
    return "\n".join(candidate or lines[start:]).rstrip()


def build_program(problem_prompt: str, code: str, entry_point: str) -> str:
    """The complete program for the sandbox.

    If ``code`` defines ``entry_point``, the program is the prompt's imports and helper
    definitions (everything but the asked-for function) followed by ``code``. Otherwise
    ``code`` is taken as the function's body, HumanEval's completion style, and appended to
    the prompt.

    Examples:
        >>> p = "import math\\n\\ndef helper():\\n    return 2\\n\\ndef f(x):\\n    '''Doc.'''\\n"
        >>> print(build_program(p, "def f(x):\\n    return helper() * x", "f"), end="")
        import math
        <BLANKLINE>
        def helper():
            return 2
        <BLANKLINE>
        def f(x):
            return helper() * x
    """
    if not _defines(code, entry_point):
        body = code if code.startswith((" ", "\t")) else textwrap.indent(code, "    ")
        return problem_prompt.rstrip("\n") + "\n" + body.rstrip() + "\n"
    preamble = prompt_context(problem_prompt, entry_point)
    return (preamble + "\n\n" if preamble else "") + code.rstrip() + "\n"


def program_of(problem: Problem, reply: str) -> str:
    """The program a model's reply answers ``problem`` with, as the problem's test shape
    runs it: for an exercise (the build shape), the files it may write as a listing in the
    whole-file format.

    Examples:
        >>> from koderz.records import FunctionTests
        >>> p = Problem("t/1", "def f(x):\\n    'Doc.'\\n", FunctionTests("f", "assert f(1)"))
        >>> print(program_of(p, "```python\\ndef f(x):\\n    return x\\n```"), end="")
        def f(x):
            return x
    """
    return _PROGRAMS[problem.shape](problem, reply)


def _function_program(problem: Problem, reply: str) -> str:
    """The reply's code with the prompt's imports and helpers (or, a bare body, appended to
    the prompt)."""
    entry_point = problem.function_tests.entry_point
    code = extract_code(reply, entry_point=entry_point)
    return build_program(problem.prompt, code, entry_point)


def _io_program(problem: Problem, reply: str) -> str:
    """The reply's code block, the whole program."""
    return extract_code(reply) + "\n"


def _calls_program(problem: Problem, reply: str) -> str:
    """The reply's code block that defines the method (its ``class Solution``), whole."""
    assert isinstance(problem.tests, CallTests)
    return extract_code(reply, entry_point=problem.tests.func_name) + "\n"


_WHOLE_FILE = re.compile(
    # A path alone on its line (bold, backticks or a heading around it allowed) ...
    r"^[ \t]*[*`#]*[ \t]*([\w./+-]+\.\w+|[\w./+-]*Makefile)[ \t]*[*`:]*[ \t]*\n"
    # ... then its whole text, fenced.
    r"```[^\n]*\n(.*?)^```[ \t]*$",
    re.DOTALL | re.MULTILINE,
)


def whole_files(reply: str) -> dict[str, str]:
    """The files of a reply in Aider's whole-file format: each file's path on a line of its
    own, then a fenced block of its whole text (a later block for a path wins).

    Examples:
        >>> reply = "Here:\\n\\nsrc/lib.rs\\n```rust\\npub fn f() {}\\n```\\n"
        >>> whole_files(reply)
        {'src/lib.rs': 'pub fn f() {}\\n'}
    """
    reply = _THINK.sub("", reply)
    return {m.group(1).lstrip("./"): m.group(2) for m in _WHOLE_FILE.finditer(reply)}


def files_of(problem: Problem, reply: str) -> tuple[dict[str, str], list[str]]:
    """The files a reply writes that the worker may write, and the paths it gave that it may
    not (a test file, a build file: ignored, and said so in the row)."""
    tests = problem.tests
    written = whole_files(reply)
    if not isinstance(tests, BuildTests):
        return written, []
    return (
        {path: text for path, text in written.items() if tests.may_write(path)},
        sorted(path for path in written if not tests.may_write(path)),
    )


def listing(files: Mapping[str, str], language: str = "") -> str:
    """Files in the whole-file format, as :func:`whole_files` reads them back.

    Examples:
        >>> print(listing({"a.go": "package a\\n"}, "go"), end="")
        a.go
        ```go
        package a
        ```
    """
    return "".join(f"{path}\n```{language}\n{_ended(text)}```\n" for path, text in files.items())


def _ended(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _build_program(problem: Problem, reply: str) -> str:
    """The files of the reply the worker may write, as a listing (the row's ``code``)."""
    return listing(files_of(problem, reply)[0], problem.language)


def _script_program(problem: Problem, reply: str) -> str:
    """A MultiPL-E program: the reply's code after the prompt (or, when it repeats the
    prompt's opening, in its place), then the tests."""
    code = _THINK.sub("", reply)
    fenced = _FENCE.findall(code)
    if fenced:
        code = fenced[0][1]
    head = problem.prompt.strip().splitlines()[-1:] or [""]
    tests = getattr(problem.tests, "tests", "")
    if head[0] and head[0].strip() in code:
        # The whole function: from the prompt's last line on, replaced by the reply's.
        start = code.index(head[0].strip())
        before = problem.prompt[: problem.prompt.rfind(head[0].strip())]
        body = code[start:].rstrip()
        closing = tests.lstrip()[:1]
        if closing in "})" and body.endswith(closing):
            body = body[:-1]  # the tests open with the function's closing brace
        return before + body + "\n" + tests
    return problem.prompt + code + tests


_PROGRAMS: dict[str, Callable[[Problem, str], str]] = {
    "function": _function_program,
    "io": _io_program,
    "calls": _calls_program,
    "build": _build_program,
    "script": _script_program,
}
"""How a reply becomes a program, per test shape (an exercise's: the listing of its files)."""


@functools.lru_cache(maxsize=256)
def prompt_context(prompt: str, entry_point: str) -> str:
    """The prompt without the definition of ``entry_point``: its imports and helpers.

    Examples:
        >>> prompt_context("import math\\n\\ndef f(x):\\n    return x\\n", "f")
        'import math'
    """
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return ""
    lines = prompt.splitlines()
    keep: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point:
            continue
        start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
        end = node.end_lineno or node.lineno
        keep.append("\n".join(lines[start - 1 : end]))
    return "\n\n".join(keep).strip()
