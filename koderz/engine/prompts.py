"""The prompt texts, in one place and versioned.

Change a text and bump :data:`PROMPTS_VERSION`: rows record the version (in ``koderz_version``'s
company, via the run manifest) so results from different prompt texts are never mixed up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from koderz.errors import ConfigError
from koderz.extract import listing
from koderz.records import BuildTests, CallTests, Message, Problem

__all__ = [
    "ASKS",
    "PROMPTS_VERSION",
    "Ask",
    "AttemptSummary",
    "ask_of",
    "plan_messages",
    "repair_messages",
    "review_messages",
    "spec_messages",
    "tester_messages",
    "worker_messages",
]

# 2: the architect plan and the repair prompts; 3: the tester, the advisor; 4: the tester may
# write property tests, loops and helpers. The asks of other test shapes arrived in 4 beside
# the function's, whose texts they left word for word.
PROMPTS_VERSION = "4"

WORKER_SYSTEM = (
    "You are an expert Python programmer. Complete the function so that it is correct for "
    "every input its docstring allows. Reply with one ```python fenced block holding the "
    "complete function (with any imports and helpers it needs) and nothing else."
)


def _spec_system(noun: str) -> str:
    return (
        "You are a senior engineer writing a short specification for a junior programmer. Say "
        f"WHAT the {noun} must do: inputs, outputs, edge cases and pitfalls, in at most 12 "
        "bullet points. Do not write the code and do not say how to implement it."
    )


def _plan_system(noun: str) -> str:
    return (
        "You are a software architect writing an implementation plan for a junior programmer. "
        f"Say HOW to implement the {noun}, step by step: the algorithm, the data structures, "
        "the order of the steps and the edge cases each step must handle, in at most 12 "
        "numbered steps. Do not write the code itself."
    )


SPEC_SYSTEM = _spec_system("function")
PLAN_SYSTEM = _plan_system("function")

REPAIR_SYSTEM = (
    "You are an expert Python programmer fixing a junior programmer's function that fails "
    "its tests. Reply with one ```python fenced block holding the complete corrected "
    "function (with any imports and helpers it needs) and nothing else."
)

TESTER_SYSTEM = (
    "You are a careful test engineer. From a function's signature and docstring alone, "
    "write tests that a correct implementation passes and a wrong one fails: the documented "
    "behaviour, edge cases and corner cases. Reply with one ```python fenced block of tests "
    "that call the function by its name: assert statements comparing a result with the "
    "expected value, or, where more than one answer is right, asserting a property the "
    "answer must have. Loops over inputs, helper functions and imports are fine; each "
    "assert that runs (each pass of a loop) counts as one test. Do not implement the "
    "function."
)


# The reviewer's instructions when the worker consults it through the advisor tool (advice
# on_request); Anthropic's advisor tool has its own.
def _advisor_system(noun: str) -> str:
    return (
        f"You are a senior engineer advising a junior programmer who is writing a {noun} and "
        "has asked you a question. Answer it with a short plan: the approach, the edge cases and "
        "the pitfalls, in at most 8 bullet points. Do not write the full solution."
    )


def _review_system(noun: str) -> str:
    return (
        "You are a senior engineer reviewing a junior programmer's failed attempts at a "
        f"{noun}. Diagnose why they fail and give concrete guidance for the next attempt in at "
        "most 8 bullet points. Do not write the full solution."
    )


ADVISOR_SYSTEM = _advisor_system("function")
REVIEW_SYSTEM = _review_system("function")


@dataclass(frozen=True)
class Ask:
    """How the models are asked about the problems of one test shape: what the answer is,
    how the problem reads in every prompt, and each role's instructions.

    The texts of a shape sit side by side with the others' in :data:`ASKS`; a new shape is
    one entry there.
    """

    noun: str
    """What the worker writes: ``function``, ``program``, ``solution`` ..."""
    show: Callable[[Problem], str]
    """The problem as every prompt shows it."""
    quote: Callable[[Problem, str], str]
    """An earlier attempt's code as a prompt quotes it back."""
    lead: str
    """The line above the problem in the worker's first prompt ('' for none)."""
    worker: str
    repair: str
    tester: str
    """The tester's instructions; '' when the shape takes no tester's tests."""
    tests_unit: str = "tests"
    """What the tester is asked for ``count`` of."""
    spec: str = SPEC_SYSTEM
    plan: str = PLAN_SYSTEM
    advisor: str = ADVISOR_SYSTEM
    review: str = REVIEW_SYSTEM
    answer_hint: str = ""
    """A line closing the worker's prompt after the problem (a format the set asks for)."""
    after_failure: Callable[[Problem], str] | None = None
    """What closes a prompt that shows a failed attempt (None: "Fix the NOUN ...")."""
    tester_show: Callable[[Problem], str] | None = None
    """The problem as the tester's prompt shows it (None: as every prompt does)."""


def _python_block(text: str) -> str:
    return f"```python\n{text.rstrip()}\n```"


FUNCTION_ASK = Ask(
    noun="function",
    show=lambda problem: _python_block(problem.prompt),
    quote=lambda problem, code: _python_block(code),
    lead="Complete this Python function:",
    worker=WORKER_SYSTEM,
    repair=REPAIR_SYSTEM,
    tester=TESTER_SYSTEM,
)
"""A Python function to complete from its signature and docstring (HumanEval, EvalPlus, MBPP)."""

# LiveCodeBench's own instructions (its generic template in lcb_runner/prompts/
# code_generation.py), so that a Koderz run asks what a LiveCodeBench run asks.
LCB_SYSTEM = (
    "You are an expert Python programmer. You will be given a question (problem "
    "specification) and will generate a correct Python program that matches the "
    "specification and passes all tests."
)
LCB_STDIN_FORMAT = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not "
    "directly test on the sample inputs). Enclose your code within delimiters as follows. "
    "Ensure that when the python program runs, it reads the inputs, runs the algorithm and "
    "writes output to STDOUT."
)
LCB_STARTER_FORMAT = (
    "You will use the following starter code to write the solution to the problem and "
    "enclose your code within delimiters."
)
LCB_ANSWER = "### Answer: (use the provided format with backticks)"


def _program_repair(noun: str) -> str:
    return (
        f"You are an expert Python programmer fixing a junior programmer's {noun} that fails "
        "its tests. Reply with one ```python fenced block holding the complete corrected "
        f"{noun} and nothing else."
    )


IO_TESTER = (
    "You are a careful test engineer. From a problem statement alone, write test cases that "
    "a correct program passes and a wrong one fails: inputs like the statement's examples, "
    "edge cases and corner cases, each small enough to work out the answer by hand. Write "
    "each test case as two fenced blocks, one after the other: ```input holding exactly what "
    "the program reads on standard input, then ```output holding exactly what it must print. "
    "Do not write the program."
)

CALLS_TESTER = (
    "You are a careful test engineer. From a problem statement and the method's signature "
    "alone, write test cases that a correct method passes and a wrong one fails: arguments "
    "like the statement's examples, edge cases and corner cases, each small enough to work "
    "out the answer by hand. Write each test case as two fenced blocks, one after the other: "
    "```input holding the arguments as JSON, one argument a line, in the signature's order, "
    "then ```output holding the JSON of the value the method must return. Do not write the "
    "method."
)


def _question(problem: Problem, instruction: str, code: str) -> str:
    """A problem as LiveCodeBench's template puts it: the statement, the format, the code."""
    return (
        f"### Question:\n{problem.prompt.strip()}\n\n### Format: {instruction}\n"
        f"```python\n{code}\n```"
    )


def _starter(problem: Problem) -> str:
    tests = problem.tests
    return tests.starter_code if isinstance(tests, CallTests) else ""


def _livecodebench_ask(
    noun: str, subject: str, instruction: str, code: Callable[[Problem], str], tester: str
) -> Ask:
    """An ask in LiveCodeBench's words: its system message and question template with
    ``instruction`` and ``code`` (what the answer starts from); the roles' texts name the
    ``subject`` (the program, the method)."""
    return Ask(
        noun=noun,
        show=lambda problem: _question(problem, instruction, code(problem)),
        quote=lambda problem, text: _python_block(text),
        lead="",
        worker=LCB_SYSTEM,
        repair=_program_repair(noun),
        tester=tester,
        tests_unit="test cases",
        spec=_spec_system(subject),
        plan=_plan_system(subject),
        advisor=_advisor_system(subject),
        review=_review_system(subject),
        answer_hint=LCB_ANSWER,
    )


PROGRAM_ASK = _livecodebench_ask(
    "program", "program", LCB_STDIN_FORMAT, lambda problem: "# YOUR CODE HERE", IO_TESTER
)
"""A whole program that reads standard input and writes standard output (LiveCodeBench's
``stdin`` problems, APPS), in LiveCodeBench's words."""

METHOD_ASK = _livecodebench_ask("solution", "method", LCB_STARTER_FORMAT, _starter, CALLS_TESTER)
"""A method of LeetCode's ``class Solution``, completing the starter code (LiveCodeBench's
``functional`` problems), in LiveCodeBench's words."""

# Aider's whole-file edit format and its benchmark's instructions (benchmark/prompts.py's
# instructions_addendum and test_failures), in the polyglot benchmark's words where it has them.
FILES_SYSTEM = (
    "You are an expert software developer. You are given an exercise's instructions and the "
    "files you may change. Reply with the entire new content of every file you change, each "
    "as a file listing: the file's path on a line of its own (just the path, as given), then "
    "a fenced code block holding the whole file. Never leave anything out of a listing with "
    "'...' or a comment like '... rest of code ...'."
)
FILES_REPAIR = (
    "You are an expert software developer fixing a junior developer's solution to an "
    "exercise that fails its tests. Reply with the entire corrected content of every file "
    "you change, each as its path on a line of its own followed by a fenced code block "
    "holding the whole file."
)
FILES_ADDENDUM = (
    "####\n\nUse the above instructions to modify the supplied files: {files}\n"
    "Don't change the names of existing functions or classes, as they may be referenced from "
    "other code like unit tests, etc.\nOnly use standard libraries, don't suggest installing "
    "any packages."
)
FILES_AFTER_FAILURE = (
    "####\n\nSee the testing errors above.\nThe tests are correct, don't try and change them.\n"
    "Fix the code in {files} to resolve the errors."
)


def _exercise(problem: Problem) -> str:
    tests = problem.tests
    assert isinstance(tests, BuildTests)
    files = " ".join(tests.solution)
    return (
        f"{problem.prompt.strip()}\n\n{FILES_ADDENDUM.format(files=files)}\n\n"
        f"{listing({p: tests.file(p) for p in tests.solution}, tests.language)}"
    )


FILES_TESTER = (
    "You are a careful test engineer. From an exercise's instructions and the files its "
    "solution goes in, write tests that a correct solution passes and a wrong one fails: "
    "the behaviour the instructions ask for, edge cases and corner cases. Write them as one "
    "test file in the exercise's language and test framework, opening as given: reply with "
    "the file's path on a line of its own, then a fenced code block holding the whole file. "
    "Each test function is one test. Do not write the solution."
)
_OPENING = re.compile(  # a blank line, a comment, or what opens a test file before its tests
    r"\s*$|\s*(?://|/\*|\*|# |#!|#include|import |from |package |use |extern crate |"
    r"const .*require\()"
)


def opening(text: str) -> str:
    """A test file's opening lines (its package, imports and includes), before any test.

    Examples:
        >>> print(opening("package leap\\n\\nimport 'testing'\\n\\nfunc TestLeap() {}\\n"))
        package leap
        <BLANKLINE>
        import 'testing'
    """
    lines = []
    for line in text.splitlines():
        if not _OPENING.match(line):
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _exercise_for_tester(problem: Problem) -> str:
    tests = problem.tests
    assert isinstance(tests, BuildTests)
    path = tests.main_test
    head = opening(tests.file(path))
    return (
        f"{_exercise(problem)}\n\nWrite the tests as the file {path}, which opens with:\n"
        f"```{tests.language}\n{head}\n```"
    )


def _solution_files(problem: Problem) -> str:
    tests = problem.tests
    return " ".join(tests.solution) if isinstance(tests, BuildTests) else ""


FILES_ASK = Ask(
    noun="solution",
    show=_exercise,
    quote=lambda problem, code: code.rstrip() or "(no files)",
    lead="",
    worker=FILES_SYSTEM,
    repair=FILES_REPAIR,
    tester=FILES_TESTER,
    tester_show=_exercise_for_tester,
    spec=_spec_system("solution"),
    plan=_plan_system("solution"),
    advisor=_advisor_system("solution"),
    review=_review_system("solution"),
    after_failure=lambda problem: FILES_AFTER_FAILURE.format(files=_solution_files(problem)),
)
"""An exercise's solution files, written whole (Aider's polyglot benchmark), in Aider's
whole-file format and with its benchmark's instructions."""

COMPLETION_SYSTEM = (
    "You are an expert programmer. Complete the function, in the language it is written "
    "in, so that it is correct for every input its comment allows. Reply with one fenced "
    "block holding the complete function (with any imports and helpers it needs) and "
    "nothing else."
)
COMPLETION_REPAIR = (
    "You are an expert programmer fixing a junior programmer's function that fails its "
    "tests. Reply with one fenced block holding the complete corrected function, in the "
    "language it is written in, and nothing else."
)


def _fenced(problem: Problem, code: str) -> str:
    return f"```{problem.language}\n{code.rstrip()}\n```"


COMPLETION_ASK = Ask(
    noun="function",
    show=lambda problem: _fenced(problem, problem.prompt),
    quote=_fenced,
    lead="Complete this function:",
    worker=COMPLETION_SYSTEM,
    repair=COMPLETION_REPAIR,
    tester="",
)
"""A function in another language to complete from its signature and comment (MultiPL-E's
translations of HumanEval and MBPP)."""

ASKS: dict[str, Ask] = {
    "function": FUNCTION_ASK,
    "io": PROGRAM_ASK,
    "calls": METHOD_ASK,
    "build": FILES_ASK,
    "script": COMPLETION_ASK,
}
"""How each test shape is asked, by the shape's name."""


def ask_of(problem: Problem) -> Ask:
    """How ``problem`` is asked (by its test shape).

    Raises:
        ConfigError: No ask is written for the problem's shape.
    """
    try:
        return ASKS[problem.shape]
    except KeyError:
        raise ConfigError(
            f"{problem.task_id}: Koderz has no prompts for problems of shape {problem.shape!r} "
            f"(it asks {', '.join(sorted(ASKS))})."
        ) from None


@dataclass(frozen=True)
class AttemptSummary:
    """What the reviewer is shown of one attempt."""

    iteration: int
    code: str
    feedback: str
    tests_passed: int | None
    tests_total: int | None


def spec_messages(problem: Problem) -> list[Message]:
    """Messages asking the spec model for a spec (what, not how)."""
    ask = ask_of(problem)
    return _about(ask.spec, "Write the specification", problem)


def plan_messages(problem: Problem) -> list[Message]:
    """Messages asking the architect for an implementation plan (how, step by step)."""
    ask = ask_of(problem)
    return _about(ask.plan, "Write the implementation plan", problem)


def _about(system: str, request: str, problem: Problem) -> list[Message]:
    ask = ask_of(problem)
    return [
        Message("system", system),
        Message("user", f"{request} for this {ask.noun}:\n\n{ask.show(problem)}"),
    ]


def tester_messages(problem: Problem, count: int) -> list[Message]:
    """Messages asking the tester for ``count`` tests (cases, as the sandbox's planner counts
    them), from the problem alone."""
    ask = ask_of(problem)
    if not ask.tester:
        raise ConfigError(
            f"{problem.task_id}: a tester cannot write tests for problems of shape "
            f"{problem.shape!r}; run it without one."
        )
    shown = (ask.tester_show or ask.show)(problem)
    return [
        Message("system", ask.tester),
        Message("user", f"Write {count} {ask.tests_unit} for this {ask.noun}:\n\n{shown}"),
    ]


def repair_messages(problem: Problem, code: str, feedback: str) -> list[Message]:
    """Messages asking the repairer to fix the last failing code itself."""
    ask = ask_of(problem)
    return [
        Message("system", ask.repair),
        Message(
            "user",
            f"The {ask.noun} to implement:\n\n{ask.show(problem)}\n\n"
            f"The current attempt:\n\n{ask.quote(problem, code)}\n\n"
            f"It failed the tests:\n{feedback.strip() or '(no details)'}\n\n"
            + (
                ask.after_failure(problem)
                if ask.after_failure
                else f"Reply with the complete corrected {ask.noun}."
            ),
        ),
    ]


def worker_messages(
    problem: Problem,
    *,
    spec: str | None = None,
    plan: str | None = None,
    previous_code: str | None = None,
    feedback: str | None = None,
    guidance: str | None = None,
) -> list[Message]:
    """Messages asking the worker for (another) attempt.

    The first attempt sees the problem (and the brief: a spec or a plan); a later one also
    sees its previous code, what the tests said of it, and the reviewer's latest guidance.
    """
    ask = ask_of(problem)
    shown = ask.show(problem)
    parts = [f"{ask.lead}\n\n{shown}" if ask.lead else shown]
    if spec:
        parts.append(f"Specification from a senior engineer:\n{spec.strip()}")
    if plan:
        parts.append(f"Implementation plan from a software architect:\n{plan.strip()}")
    if previous_code is not None:
        parts.append(f"Your previous attempt:\n\n{ask.quote(problem, previous_code)}")
        parts.append(f"It failed the tests:\n{(feedback or '(no details)').strip()}")
    if guidance:
        parts.append(f"Guidance from a senior engineer's review:\n{guidance.strip()}")
    if previous_code is not None:
        parts.append(_fix(ask, problem))
    elif ask.answer_hint:
        parts.append(ask.answer_hint)
    return [Message("system", ask.worker), Message("user", "\n\n".join(parts))]


def _fix(ask: Ask, problem: Problem) -> str:
    if ask.after_failure is not None:
        return ask.after_failure(problem)
    return f"Fix the {ask.noun}. Reply with the complete corrected {ask.noun}."


def review_messages(
    problem: Problem,
    attempts: Sequence[AttemptSummary],
    *,
    brief: str | None = None,
    plateau: bool = False,
) -> list[Message]:
    """Messages asking the reviewer for guidance on the attempts so far, with the brief (a
    spec or a plan; the text calls either "the specification", as it has since version 1)."""
    ask = ask_of(problem)
    parts = [f"The {ask.noun} to implement:\n\n{ask.show(problem)}"]
    if brief:
        parts.append(f"The specification given:\n{brief.strip()}")
    for a in attempts:
        score = (
            f"{a.tests_passed}/{a.tests_total} tests passed"
            if a.tests_total
            else "did not run to the tests"
        )
        parts.append(
            f"Attempt {a.iteration} ({score}):\n{ask.quote(problem, a.code)}\n"
            f"Test feedback:\n{a.feedback.strip() or '(none)'}"
        )
    if plateau:
        parts.append(
            "The attempts have plateaued: the same number of tests passed three times "
            "running. Suggest a different approach, not a small fix."
        )
    parts.append("Your guidance for the next attempt:")
    return [Message("system", ask.review), Message("user", "\n\n".join(parts))]


def render(messages: Sequence[Message]) -> str:
    """Messages as one text, for the ``prompt`` column."""
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in messages)
