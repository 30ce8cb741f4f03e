"""The calls shape in the judge: tests that call one method of the program's
``class Solution`` (or, without one, a function of it) with JSON arguments.

Part of the judge (``koderz/sandbox/judge/``), which runs inside the sandbox; the host's
half is ``koderz/sandbox/calls.py``. The rules are LiveCodeBench's grader's for its
``functional`` problems, written here anew: the prelude of ``io.py`` and the program run as
a module; where its text holds ``class Solution``, one instance of it serves every test;
each test calls the method with the arguments the host parsed from its input (one JSON value
a line) and compares the result with the expected value by ``==``, a tuple taken as a list.
Only ``marshal`` data crosses back, and the judge takes a value only if it is built from
exact builtin types (``function.is_plain``), so an object whose ``__eq__`` always answers
True never reaches the comparison.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

from typing import Any

from .core import Judge, Run, flush
from .function import answer, is_plain
from .io import WrongAnswer, ask, load, remote_error, run_cases, shown
from .wire import TESTS_CAP, BadReply, clip, exc_text, read_frame, tb_text, write_frame

# ----------------------------------------------------------------------------- candidate side


def serve(program: dict[str, Any], req_fd: int, resp_fd: int, extra_path: list[str]) -> None:
    """Load the program and find the method, then answer ``("call", args)`` requests.
    Everything here is untrusted after the program's module runs."""
    ns = load(program, resp_fd, extra_path)
    if ns is None:
        return
    code, name = program["code"], program["func_name"]
    try:
        owner: Any = ns["Solution"]() if "class Solution" in code else None
        method = getattr(owner, name) if owner is not None else ns[name]
    except BaseException as e:
        flush()
        write_frame(resp_fd, ("load", "error", exc_text(e), tb_text(e, code)))
        return
    flush()
    write_frame(resp_fd, ("ready", None))
    while True:
        request = read_frame(req_fd, TESTS_CAP)  # the judge's: a test's arguments
        if request is None:
            return
        answer(resp_fd, code, method, *request[1])


# ----------------------------------------------------------------------------- judge side


def call_case(judge: Judge, case: tuple[Any, Any, str]) -> None:
    args, expected, text = case
    reply = ask(judge, ("call", args))
    if reply[0] == "err":
        raise remote_error(reply, (text, ""))
    if reply[0] == "bad":
        raise BadReply(
            f"the method returned a {clip(reply[1], 100)} object; the tests compare plain "
            "values only (int, float, str, bool, None, list, tuple, dict ...)"
        )
    value = reply[1]
    if not is_plain(value):
        raise BadReply("the method returned a value that is not plain data")
    if type(value) is tuple:  # the grader takes a tuple for a list
        value = list(value)
    if not value == expected:
        raise WrongAnswer(
            f"wrong answer: got {shown(repr(value))}, expected {shown(repr(expected))}\n"
            f"input: {shown(text)}"
        )


def run_tests(run: Run, judge: Judge, tests: dict[str, Any]) -> None:
    run_cases(run, tests, lambda case: call_case(judge, case))
