"""Frozen records passed between Koderz's modules.

Each field carries a docstring-style comment; the records are plain data with no I/O, so a
notebook can build them by hand and a test can compare them with ``==``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal

__all__ = [
    "BuildTests",
    "CallTests",
    "Completion",
    "Consultation",
    "ExecResult",
    "FunctionTests",
    "IOCase",
    "IOTests",
    "Message",
    "Problem",
    "Role",
    "Rules",
    "ScriptTests",
    "TestOutcome",
    "Tests",
    "Usage",
]

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Usage:
    """Tokens of one model call, in one convention for every provider.

    ``input_tokens`` counts *every* prompt token, cached or not (the convention of OpenAI and
    genai-prices); ``cache_read_tokens`` and ``cache_write_tokens`` are parts of it, never added
    to it. Anthropic reports cache tokens beside ``input_tokens``; its client adds them in.
    """

    input_tokens: int = 0
    """All prompt tokens, including those read from or written to a prompt cache."""
    output_tokens: int = 0
    """Generated tokens, reasoning tokens included."""
    cache_read_tokens: int = 0
    """Prompt tokens served from the provider's cache (the part of ``input_tokens`` billed at
    the cache-read rate)."""
    cache_write_tokens: int = 0
    """Prompt tokens written to the provider's cache (billed at the cache-write rate)."""
    reasoning_tokens: int = 0
    """The part of ``output_tokens`` the model spent reasoning (OpenAI's reasoning tokens,
    Anthropic's thinking): billed as output, and never added to it."""

    def __post_init__(self) -> None:
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"Usage.{name} cannot be negative")
        if self.cache_read_tokens + self.cache_write_tokens > self.input_tokens:
            raise ValueError(
                "Usage.cache_read_tokens + cache_write_tokens are parts of input_tokens and "
                "cannot exceed it"
            )
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError(
                "Usage.reasoning_tokens is a part of output_tokens; it cannot exceed it"
            )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: Role
    """``system``, ``user`` or ``assistant``."""
    content: str
    """The text."""


@dataclass(frozen=True)
class Consultation:
    """One call to the advisor inside a worker's call: Anthropic's advisor tool (a
    sub-inference the API reports in ``usage.iterations``), or Koderz's emulated ``advisor``
    tool for other workers."""

    model: str
    """The advisor model (Koderz's name where it is known, else the provider's)."""
    usage: Usage
    """The advisor's own tokens, billed at its own price."""
    advice: str = ""
    """What the advisor answered (empty when the provider keeps it encrypted)."""
    question: str = ""
    """What the worker asked (the emulated tool's argument; empty for Anthropic's)."""
    latency_s: float = 0.0
    """Seconds the advisor's call took, where Koderz made it."""


@dataclass(frozen=True)
class Completion:
    """What one model call returned."""

    text: str
    """The reply text; empty when the model said nothing or refused."""
    usage: Usage
    """Tokens, in Koderz's convention (see :class:`Usage`)."""
    latency_s: float
    """Seconds the call took, retries included: the wall time of an API call, or for an
    embedded model the time llama.cpp spent on it (measured in its worker process)."""
    model: str
    """The model as Koderz names it (the registry name)."""
    provider: str
    """``anthropic``, ``openai``, ``ollama`` or ``llamacpp``."""
    stop_reason: str
    """Why generation stopped, normalised: ``end``, ``max_tokens``, ``refusal``,
    ``content_filter``, ``context_overflow``, ``empty`` or the provider's own word."""
    attempts: int = 1
    """How many HTTP attempts the call took (1 when it succeeded first time)."""
    wait_s: float = 0.0
    """Seconds the call waited for the model before it ran (an embedded model serves one
    call at a time); not part of ``latency_s``."""
    consultations: tuple[Consultation, ...] = ()
    """The advisor calls made inside this call (advice ``on_request``); their tokens are not
    in ``usage``, which is the worker's own."""
    notes: tuple[str, ...] = ()
    """What the call left out and why, e.g. a reasoning level for a model that cannot
    reason."""


@dataclass(frozen=True)
class TestOutcome:
    """The result of one test case (one assertion of a HumanEval ``check``)."""

    index: int
    """0-based position of the test case in the problem's tests."""
    passed: bool
    """Whether it passed."""
    kind: str = "passed"
    """``passed``, ``assertion``, ``exception``, ``timeout``, ``memory``, ``crash`` or
    ``not_run``."""
    source: str = ""
    """The test's source line, e.g. ``assert candidate(1) == 2``."""
    message: str = ""
    """Exception type and message (empty when it passed)."""
    traceback: str = ""
    """The traceback tail, capped in size (empty when it passed)."""
    item: int = -1
    """Which step of the test plan it is (a set-up step's, for a set-up failure; -1 for
    the test's prelude, or when unknown)."""
    iteration: int = -1
    """Which iteration of a test loop it is (-1: not in a loop)."""


@dataclass(frozen=True)
class ExecResult:
    """The verdict on one candidate program. Failures of the candidate are data, never raised."""

    passed: bool
    """True only if every test case ran and passed."""
    status: str
    """``passed``, ``failed`` (some test failed), ``syntax_error``, ``timeout``, ``memory``,
    ``crash`` (the process died or fooled nothing), ``error`` (the candidate raised outside a
    test)."""
    tests_passed: int
    """How many test cases passed (partial credit)."""
    tests_total: int
    """How many test cases the problem has."""
    outcomes: tuple[TestOutcome, ...] = field(default_factory=tuple)
    """Per test case, in order."""
    stdout: str = ""
    """Tail of the candidate's stdout, capped in size."""
    stderr: str = ""
    """Tail of the candidate's stderr, capped in size."""
    duration_s: float = 0.0
    """Wall time of the run."""
    isolation: str = ""
    """What isolated the run, e.g. ``bwrap`` or ``rlimits-only``."""
    setup_failures: tuple[TestOutcome, ...] = ()
    """The test's set-up steps that raised (its prelude, or statements between its cases),
    in order, whether or not a test case failed too."""

    @property
    def first_failure(self) -> TestOutcome | None:
        """The first test case that did not pass, if any."""
        return next((o for o in self.outcomes if not o.passed), None)


@dataclass(frozen=True)
class FunctionTests:
    """Tests that call one Python function: HumanEval's ``check(candidate)``, EvalPlus's
    loops, MBPP's asserts, a tester's tests (the sandbox's ``function`` shape)."""

    shape: ClassVar[str] = "function"

    entry_point: str
    """Name of the function the tests call."""
    test: str
    """Test source. HumanEval style: defines ``check(candidate)``; each assertion in it is
    one test case (bare asserts and ``def test_*()`` functions work too)."""
    public_test: str = ""
    """Test source of the problem's *public* tests, the examples a user of it would see
    (HumanEval's docstring examples, EvalPlus's base inputs, MBPP's first test, or a file's
    ``public_tests``); empty if it has none."""

    def public_only(self) -> FunctionTests | None:
        """These tests with the public ones as the tests; None when there are none."""
        return replace(self, test=self.public_test) if self.public_test else None


@dataclass(frozen=True)
class IOCase:
    """One test of a program: what it is given and what it must answer, as the publisher
    wrote them."""

    input: str
    """For a program (``io``), its standard input; for a method (``calls``), its arguments,
    one JSON value a line."""
    output: str
    """For a program, the expected standard output; for a method, the expected value as
    JSON."""


@dataclass(frozen=True)
class Rules:
    """How the publisher's grader judges its tests, where a judge of the same shape could
    differ (LiveCodeBench's ``testing_util.py`` by default)."""

    prelude: tuple[str, ...] = ()
    """Standard modules whose names the program may use without importing them: each is
    imported as itself and ``from ... import *``, in this order (LiveCodeBench's grader puts
    such a block before every program)."""
    case_timeout_s: float = 6.0
    """Seconds each test may take (LiveCodeBench's 6); a run's ``--timeout`` overrides it.
    The whole program is bounded as the grader bounds it: ``(t + 1) * tests + 5``."""
    first_failure_ends: bool = True
    """Whether the first failing test ends the run (the tests after it count as not run),
    as LiveCodeBench's and APPS's graders do."""


@dataclass(frozen=True)
class IOTests:
    """Tests of a whole program that reads standard input and writes standard output
    (LiveCodeBench's ``stdin`` problems, APPS and TACO without ``fn_name``: the sandbox's
    ``io`` shape). Output is compared line by line after stripping, a line passing when
    equal or when its whitespace-separated tokens are equal as decimal numbers."""

    shape: ClassVar[str] = "io"

    cases: tuple[IOCase, ...]
    """Every test, public ones first, as the publisher's grader runs them."""
    public: tuple[IOCase, ...] = ()
    """The public tests (the examples the statement shows); the rest of ``cases`` are
    hidden."""
    rules: Rules = Rules()
    """How the publisher's grader judges them."""

    @property
    def hidden(self) -> tuple[IOCase, ...]:
        """The tests that are not public (``cases`` holds the public ones first)."""
        return self.cases[len(self.public) :]

    def public_only(self) -> IOTests | None:
        """These tests with the public ones as the tests; None when there are none."""
        return replace(self, cases=self.public) if self.public else None


@dataclass(frozen=True)
class CallTests:
    """Tests that call one method of the program's ``class Solution`` (LiveCodeBench's
    ``functional`` problems, from LeetCode; APPS and TACO rows with ``fn_name``: the
    sandbox's ``calls`` shape). Each case passes one JSON value a line of its input as the
    arguments, and compares the result with the JSON expected value by ``==``, a tuple
    taken as a list."""

    shape: ClassVar[str] = "calls"

    func_name: str
    """The method (or, without a ``class Solution``, the function) the tests call."""
    cases: tuple[IOCase, ...]
    """Every test, public ones first, as the publisher's grader runs them."""
    public: tuple[IOCase, ...] = ()
    """The public tests (the examples the statement shows); the rest of ``cases`` are
    hidden."""
    starter_code: str = ""
    """The code the answer completes (``class Solution:`` and the method's signature), for
    the prompt to show."""
    rules: Rules = Rules()
    """How the publisher's grader judges them."""

    @property
    def hidden(self) -> tuple[IOCase, ...]:
        """The tests that are not public (``cases`` holds the public ones first)."""
        return self.cases[len(self.public) :]

    def public_only(self) -> CallTests | None:
        """These tests with the public ones as the tests; None when there are none."""
        return replace(self, cases=self.public) if self.public else None


@dataclass(frozen=True)
class BuildTests:
    """An exercise built and tested by its own test command in its language: Aider's
    polyglot exercises (the sandbox's ``build`` shape).

    The worker edits the solution files; the test files are laid afresh from the exercise
    before every run, so a worker that writes one changes nothing."""

    shape: ClassVar[str] = "build"

    language: str
    """``cpp``, ``go``, ``java``, ``javascript``, ``python`` or ``rust``."""
    files: tuple[tuple[str, str], ...]
    """Every file of the exercise as shipped, ``(path, text)``, stubs included (never its
    ``.meta`` or ``.docs``)."""
    solution: tuple[str, ...]
    """The paths the worker may write."""
    test: tuple[str, ...]
    """The test files, restored before every run."""
    example: tuple[tuple[str, str], ...] = ()
    """The reference solution, as the files it puts in place of the stubs."""
    folder: str = ""
    """The exercise's folder on this machine (where it was read from)."""
    build_only: bool = False
    """Only build the candidate (its language's build steps), run none of the tests: what
    an experiment can see of an exercise, whose tests are all hidden."""
    own_test: tuple[tuple[str, str], ...] = ()
    """Test files a strategy's tester wrote, ``(path, text)``, laid in place of the
    exercise's own (its visible tests); empty: the exercise's."""

    def public_only(self) -> BuildTests | None:
        """What an experiment may see: whether the candidate builds (the exercise's tests
        are all hidden)."""
        return replace(self, build_only=True)

    def may_write(self, path: str) -> bool:
        """Whether the worker may write ``path``: a solution file, or a new file of a
        solution file's kind beside one (Java's reference adds classes), never a test file,
        a build file or the exercise's notes.

        Examples:
            >>> t = BuildTests("go", (), solution=("bowling.go",), test=("bowling_test.go",))
            >>> t.may_write("bowling.go"), t.may_write("frame.go"), t.may_write("bowling_test.go")
            (True, True, False)
        """
        if path in self.test or path.startswith((".meta/", ".docs/", "/")) or ".." in path:
            return False
        if path in self.solution:
            return True
        folder, _, name = path.rpartition("/")
        suffix = name.rpartition(".")[2]
        return any(
            s.rpartition("/")[0] == folder and s.rpartition(".")[2] == suffix and "." in name
            for s in self.solution
        ) and not name.endswith(("_test.go", ".spec.js", "_test.py", "_test.cpp"))

    @property
    def main_test(self) -> str:
        """The exercise's main test file (the first it names; a tester's goes in its place)."""
        return self.test[0] if self.test else ""

    def file(self, path: str) -> str:
        """The shipped text of ``path`` ('' if the exercise has no such file)."""
        return dict(self.files).get(path, "")


@dataclass(frozen=True)
class ScriptTests:
    """A MultiPL-E row's tests: a program in its language made of the prompt, the
    completion and the tests, run whole (the sandbox's ``script`` shape). Its verdict is
    MultiPL-E's: ``OK``, ``SyntaxError`` (it does not compile), ``Exception`` (it exits
    non-zero) or ``Timeout``."""

    shape: ClassVar[str] = "script"

    language: str
    """MultiPL-E's language code: ``cpp``, ``go``, ``java``, ``js``, ``rs``, ``py`` ..."""
    tests: str
    """The test code appended after the completion."""
    stop_tokens: tuple[str, ...] = ()
    """Where MultiPL-E cuts a completion."""
    name: str = ""
    """MultiPL-E's own name of the problem (e.g. ``HumanEval_0_has_close_elements``)."""

    def public_only(self) -> ScriptTests | None:
        """No public tests apart from the hidden ones."""
        return None


Tests = FunctionTests | IOTests | CallTests | BuildTests | ScriptTests
"""The tests of a problem, of one of the shapes the sandbox judges."""


@dataclass(frozen=True)
class Problem:
    """One programming problem with hidden tests, of one test shape (``problem.shape``)."""

    task_id: str
    """Stable id, e.g. ``HumanEval/0`` or ``Mbpp/2``."""
    prompt: str
    """What the model is shown: for a function, its signature and docstring, and any helper
    code or imports."""
    tests: Tests
    """The hidden tests (and the public ones), in the record of their shape."""
    canonical_solution: str = ""
    """A reference solution (for a function, a body that passes the tests appended to
    ``prompt``), if known."""
    source: str = ""
    """Where the problem came from, e.g. ``humaneval``, ``humaneval+``, ``mbpp+``, a path."""
    released: str = ""
    """When the problem was published, as an ISO date (``YYYY-MM-DD``), where the set says
    (LiveCodeBench's ``contest_date``): what a window after a model's cutoff is made of."""
    difficulty: str = ""
    """The set's own difficulty label (``easy``, ``medium``, ``hard`` ...), where it has one."""
    platform: str = ""
    """Where the problem was first posed (``leetcode``, ``atcoder``, ``codeforces`` ...)."""
    language: str = "python"
    """The language the answer is written in (``python``, ``cpp``, ``go``, ``java``,
    ``javascript``, ``rust``: the polyglot checkout's names, MultiPL-E's codes mapped to
    them)."""

    @property
    def function_tests(self) -> FunctionTests:
        """The tests, of the function shape (what testers and prompts of a function use).

        Raises:
            TypeError: The problem's tests are of another shape.
        """
        if not isinstance(self.tests, FunctionTests):
            raise TypeError(f"{self.task_id} has tests of the {self.shape} shape, not a function's")
        return self.tests

    @property
    def shape(self) -> str:
        """The test shape that judges it (``function``, ``io`` or ``calls``)."""
        return self.tests.shape

    def public(self) -> Problem | None:
        """The problem with its public tests as its tests (what an experiment may see); None
        when it has none."""
        tests = self.tests.public_only()
        return None if tests is None else replace(self, tests=tests)
