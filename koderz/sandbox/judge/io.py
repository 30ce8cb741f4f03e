"""The io shape in the judge: a whole program, given each test's standard input, judged on
what it prints.

Part of the judge (``koderz/sandbox/judge/``), which runs inside the sandbox; the host's
half is ``koderz/sandbox/io.py``. The rules are LiveCodeBench's grader's
(``lcb_runner/evaluation/testing_util.py``), learnt from it and written here anew:

* the program runs as the body of one function, its imports hoisted above it (a last
  ``if __name__ == "__main__":`` block taken as the body), after a prelude of standard
  modules imported whole and ``*`` (:data:`Rules.prelude`); the candidate process loads it
  once and calls it once per test;
* standard input is the test's input as that grader presents it: ``sys.stdin.read()`` the
  whole of it, ``readline()`` the next line (``input()`` reads through it),
  ``readlines()`` the lines split at newlines (without them), ``sys.stdin.buffer.read()``
  its bytes and ``buffer.readline()`` its first line, and ``sys.stdin`` cannot be iterated;
  the stream the process had before (which ``from sys import stdin`` and the prelude's
  ``stdin`` name) answers ``read``, ``readlines`` and ``readline`` with the input too, the
  last a line at a time without its newline; ``open`` (the prelude's) is the process's own,
  whose standard input is empty;
* what ``print`` and ``sys.stdout.write`` send is the output; a program that exits
  (``exit()``, ``sys.exit``) is judged on what it printed; one that raises fails;
* output and expected output are stripped, split at newlines and each line stripped; they
  must have as many lines, and each line must be equal or, split at whitespace, equal as
  decimal numbers;
* each test has its own time limit and the first failing test ends the run.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator
from typing import Any

from .core import Failure, Judge, Run, flush
from .wire import TESTS_CAP, BadReply, clip, exc_text, read_frame, tb_text, write_frame

OUTPUT_CAP = 32 << 20
"""Characters of a test's output kept; a program that prints more fails the test."""
SHOWN = 300
"""Characters of an input, output or expected output a failure shows (the middle cut)."""


# ----------------------------------------------------------------------------- candidate side


def prelude(modules: list[str]) -> str:
    """The source that makes the prelude's names available: every module ``*`` in order
    (later names win), then each as itself; as the grader's, a deep recursion limit."""
    if not modules:
        return ""
    names = [m for m in modules if type(m) is str and m.replace(".", "").isidentifier()]
    lines = [f"from {m} import *" for m in names]
    lines += [f"import {m}" for m in names]
    return (
        "\n".join(lines) + "\nimport sys as __koderz_sys\n__koderz_sys.setrecursionlimit(50000)\n"
    )


def grader_environment(modules: list[str]) -> None:
    """What the grader's process allows beyond a plain one: integers of up to 50000 digits
    printed (its ``sys.set_int_max_str_digits``)."""
    if modules and hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(50000)


def as_function(code: str) -> Any:
    """The program as a module that defines ``wrapped_function`` (imports hoisted above
    it), compiled; raises the program's ``SyntaxError``."""
    import ast

    tree = ast.parse(code, "<candidate>")
    body = tree.body
    if body and isinstance(body[-1], ast.If) and _is_main_test(body[-1].test):
        body = body[:-1] + body[-1].body
    imports = [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom))]
    rest = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))] or [ast.Pass()]
    function = ast.FunctionDef(
        name="wrapped_function",
        args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=rest,
        decorator_list=[],
        returns=None,
    )
    if "type_params" in ast.FunctionDef._fields:  # Python 3.12 on
        function.type_params = []  # type: ignore[attr-defined]
    module = ast.Module(body=[*imports, function], type_ignores=[])
    ast.fix_missing_locations(module)
    return compile(module, "<candidate>", "exec")


def _is_main_test(test: Any) -> bool:
    import ast

    try:
        return ast.unparse(test).strip() == "__name__ == '__main__'"
    except Exception:
        return False


class _Buffer:
    """``sys.stdin.buffer`` as the grader's: ``read()`` the input's bytes, ``readline()``
    its first line."""

    def __init__(self, text: str) -> None:
        self._text = text

    def read(self, *args: Any) -> bytes:
        return self._text.encode("utf-8")

    def readline(self, *args: Any) -> bytes:
        return self._text.encode("utf-8").split(b"\n")[0] + b"\n"


class Stdin:
    """Standard input as the grader presents it (no ``__iter__``, as there)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._io: Any = None  # made when first read by lines: a copy of a long input
        self.buffer = _Buffer(text)

    def _stream(self) -> Any:
        if self._io is None:
            import io

            self._io = io.StringIO(self._text)
        return self._io

    def read(self, *args: Any) -> str:
        return self._text

    def readline(self, *args: Any) -> str:
        line: str = self._stream().readline(*args)
        return line

    def readlines(self, *args: Any) -> list[str]:
        return self._text.split("\n")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_io":
            raise AttributeError(name)
        return getattr(self._stream(), name)


_PATCHED = ("read", "readlines", "readline")


def _patch_stream(stream: Any, text: str) -> list[tuple[str, Any]]:
    """Give the stream the process had its input's ``read``, ``readlines`` and ``readline``
    (a line at a time, without its newline; StopIteration past the end), as the grader's
    patches do; what to restore."""
    lines = _lines(text)  # split at the first readline, if any: long inputs run to MBs
    answers = {
        "read": lambda *args: text,
        "readlines": lambda *args: text.split("\n"),
        "readline": lambda *args: next(lines),
    }
    saved = []
    for name in _PATCHED:
        saved.append((name, stream.__dict__.get(name, _MISSING)))
        setattr(stream, name, answers[name])
    return saved


def _lines(text: str) -> Iterator[str]:
    yield from text.split("\n")


def _unpatch_stream(stream: Any, saved: list[tuple[str, Any]]) -> None:
    for name, old in saved:
        try:
            if old is _MISSING:
                delattr(stream, name)
            else:
                setattr(stream, name, old)
        except Exception:
            pass


_MISSING = object()


class Output:
    """Standard output, kept in memory up to :data:`OUTPUT_CAP` characters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: Any) -> int:
        if type(text) is not str:
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.size += len(text)
        if self.size > OUTPUT_CAP:
            raise OutputLimit(f"the program printed more than {OUTPUT_CAP} characters")
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def text(self) -> str:
        return "".join(self.parts)


class OutputLimit(Exception):
    """The program printed more than the judge keeps."""


def run_once(function: Any, text: str) -> str:
    """Call the program once with ``text`` as its input; what it printed. What it raised
    (but ``SystemExit``) propagates."""
    out = Output()
    saved_in, saved_out = sys.stdin, sys.stdout
    patched = _patch_stream(saved_in, text)
    sys.stdin, sys.stdout = Stdin(text), out  # type: ignore[assignment]
    try:
        function()
    except SystemExit:
        pass  # exit() after printing: judged on what it printed
    finally:
        sys.stdin, sys.stdout = saved_in, saved_out
        _unpatch_stream(saved_in, patched)
    return out.text()


def load(program: dict[str, Any], resp_fd: int, extra_path: list[str]) -> dict[str, Any] | None:
    """Run the prelude and the program's module (its imports and definitions); its
    namespace, or None after reporting why it did not load."""
    code = program["code"]
    modules = list(program.get("prelude") or [])
    sys.path.extend(extra_path)
    grader_environment(modules)
    ns: dict[str, Any] = {"__name__": "__candidate__", "__builtins__": builtins}
    try:
        head = compile(prelude(modules), "<prelude>", "exec")
        body = (
            as_function(code) if program["shape"] == "io" else compile(code, "<candidate>", "exec")
        )
    except BaseException as e:  # SyntaxError, ValueError (null bytes), MemoryError, ...
        kind = "syntax_error" if isinstance(e, SyntaxError) else "error"
        write_frame(resp_fd, ("load", kind, exc_text(e), tb_text(e, code)))
        return None
    try:
        exec(head, ns)
        exec(body, ns)
    except BaseException as e:
        kind = "memory" if isinstance(e, MemoryError) else "error"
        flush()
        write_frame(resp_fd, ("load", kind, exc_text(e), tb_text(e, code)))
        return None
    return ns


def serve(program: dict[str, Any], req_fd: int, resp_fd: int, extra_path: list[str]) -> None:
    """Load the program, then run it once per request ``("run", input)``. Everything here is
    untrusted after the program's module runs."""
    ns = load(program, resp_fd, extra_path)
    if ns is None:
        return
    flush()
    write_frame(resp_fd, ("ready", None))
    code = program["code"]
    while True:
        request = read_frame(req_fd, TESTS_CAP)  # the judge's: a test's input, however long
        if request is None:
            return
        try:
            reply: tuple[Any, ...] = ("ok", run_once(ns["wrapped_function"], request[1]))
        except BaseException as e:
            reply = ("err", type(e).__name__, exc_text(e), tb_text(e, code))
        flush()
        write_frame(resp_fd, reply)


# ----------------------------------------------------------------------------- judge side


def shown(text: object) -> str:
    """A long text cut in the middle, as the grader's messages cut it."""
    text = str(text)
    if len(text) <= SHOWN:
        return text
    return text[: SHOWN // 2] + "...(truncated) ..." + text[-SHOWN // 2 :]


def stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Any] | None:
    from decimal import Decimal

    try:
        return [Decimal(token) for token in line.split()]
    except Exception:
        return None


def difference(output: str, expected: str) -> str | None:
    """Why ``output`` is not ``expected`` by the grader's rules; None if it is."""
    got, want = stripped_lines(output), stripped_lines(expected)
    if len(got) != len(want):
        return f"{len(got)} line(s) of output where {len(want)} were expected"
    for number, (a, b) in enumerate(zip(got, want, strict=True)):
        if a == b:
            continue
        x, y = _decimals(a), _decimals(b)
        try:
            if x is not None and y is not None and x == y:
                continue
        except Exception:  # a signalling NaN refuses to compare: the grader fails it too
            pass
        return f"line {number + 1}: {shown(a)!r} != {shown(b)!r}"
    return None


class WrongAnswer(Exception):
    """The program's output (or value) is not the expected one."""


def failed(e: BaseException) -> Failure:
    """What a case's exception says: a wrong answer, or the candidate's own exception."""
    if isinstance(e, WrongAnswer):
        return ("assertion", clip(str(e)), "")
    remote = getattr(e, "_koderz_remote", None)
    if remote is not None:
        kind = "memory" if remote[0] == "MemoryError" else "exception"
        return (kind, remote[1], remote[2])
    return ("exception", exc_text(e), "")


def remote_error(reply: tuple[Any, ...], case: tuple[str, str]) -> BaseException:
    """The candidate's exception from its reply, with the test's input."""
    tname, text, tb = clip(reply[1], 100), clip(reply[2]), clip(reply[3])
    error = Exception(text)
    setattr(error, "_koderz_remote", (tname, f"{text}\ninput: {shown(case[0])}", tb))  # noqa: B010
    return error


def ask(judge: Judge, request: tuple[Any, ...]) -> tuple[Any, ...]:
    reply = judge.exchange(request)
    if type(reply) is not tuple or not reply or type(reply[0]) is not str:
        judge.kill()
        raise BadReply("the program's process sent a malformed reply")
    if reply[0] == "err" and len(reply) == 4:
        return reply
    if reply[0] in ("ok", "bad") and len(reply) == 2:
        return reply
    judge.kill()
    raise BadReply("the program's process sent a malformed reply")


def run_case(judge: Judge, case: tuple[str, str]) -> None:
    reply = ask(judge, ("run", case[0]))
    if reply[0] == "err":
        raise remote_error(reply, case)
    output = reply[1]
    if type(output) is not str:
        raise BadReply("the program's process sent a malformed reply")
    why = difference(output, case[1])
    if why is not None:
        raise WrongAnswer(
            f"wrong answer: {why}\ninput: {shown(case[0])}\nexpected: {shown(case[1])}\n"
            f"got: {shown(output)}"
        )


def run_cases(run: Run, tests: dict[str, Any], work: Any) -> None:
    """Every case in order under its own time limit; the first failure ends the run if the
    rules say so (the cases after it count as not run)."""
    limit = tests.get("case_timeout")
    ends = tests.get("first_failure_ends", True)
    cases = tests["cases"]
    for index, case in enumerate(cases):
        passed = run.case(index, -1, _bound(work, case), failed, limit)
        if not passed and ends:
            why = "not run: an earlier test failed, and the grader stops at the first"
            for later in range(index + 1, len(cases)):
                run.skip(later, why)
            return


def _bound(work: Any, case: Any) -> Any:
    return lambda: work(case)


def run_tests(run: Run, judge: Judge, tests: dict[str, Any]) -> None:
    run_cases(run, tests, lambda case: run_case(judge, case))
