"""The prompt texts, in one place and versioned.

Change a text and bump :data:`PROMPTS_VERSION`: rows record the version (in ``koderz_version``'s
company, via the run manifest) so results from different prompt texts are never mixed up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from koderz.records import Message

__all__ = [
    "PROMPTS_VERSION",
    "AttemptSummary",
    "plan_messages",
    "repair_messages",
    "review_messages",
    "spec_messages",
    "tester_messages",
    "worker_messages",
]

# 2: the architect plan and the repair prompts; 3: the tester, the advisor; 4: the tester may
# write property tests, loops and helpers
PROMPTS_VERSION = "4"

WORKER_SYSTEM = (
    "You are an expert Python programmer. Complete the function so that it is correct for "
    "every input its docstring allows. Reply with one ```python fenced block holding the "
    "complete function (with any imports and helpers it needs) and nothing else."
)

SPEC_SYSTEM = (
    "You are a senior engineer writing a short specification for a junior programmer. Say "
    "WHAT the function must do: inputs, outputs, edge cases and pitfalls, in at most 12 "
    "bullet points. Do not write the code and do not say how to implement it."
)

PLAN_SYSTEM = (
    "You are a software architect writing an implementation plan for a junior programmer. "
    "Say HOW to implement the function, step by step: the algorithm, the data structures, "
    "the order of the steps and the edge cases each step must handle, in at most 12 numbered "
    "steps. Do not write the code itself."
)

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
ADVISOR_SYSTEM = (
    "You are a senior engineer advising a junior programmer who is writing a function and "
    "has asked you a question. Answer it with a short plan: the approach, the edge cases and "
    "the pitfalls, in at most 8 bullet points. Do not write the full solution."
)

REVIEW_SYSTEM = (
    "You are a senior engineer reviewing a junior programmer's failed attempts at a "
    "function. Diagnose why they fail and give concrete guidance for the next attempt in at "
    "most 8 bullet points. Do not write the full solution."
)


@dataclass(frozen=True)
class AttemptSummary:
    """What the reviewer is shown of one attempt."""

    iteration: int
    code: str
    feedback: str
    tests_passed: int | None
    tests_total: int | None


def spec_messages(problem_prompt: str) -> list[Message]:
    """Messages asking the spec model for a spec (what, not how)."""
    return _about_function(SPEC_SYSTEM, "Write the specification", problem_prompt)


def plan_messages(problem_prompt: str) -> list[Message]:
    """Messages asking the architect for an implementation plan (how, step by step)."""
    return _about_function(PLAN_SYSTEM, "Write the implementation plan", problem_prompt)


def _about_function(system: str, ask: str, problem_prompt: str) -> list[Message]:
    return [
        Message("system", system),
        Message("user", f"{ask} for this function:\n\n```python\n{problem_prompt.rstrip()}\n```"),
    ]


def tester_messages(problem_prompt: str, count: int) -> list[Message]:
    """Messages asking the tester for ``count`` tests (cases, as the sandbox's planner counts
    them), from the prompt alone."""
    return [
        Message("system", TESTER_SYSTEM),
        Message(
            "user",
            f"Write {count} tests for this function:\n\n```python\n{problem_prompt.rstrip()}\n```",
        ),
    ]


def repair_messages(problem_prompt: str, code: str, feedback: str) -> list[Message]:
    """Messages asking the repairer to fix the last failing code itself."""
    return [
        Message("system", REPAIR_SYSTEM),
        Message(
            "user",
            f"The function to implement:\n\n```python\n{problem_prompt.rstrip()}\n```\n\n"
            f"The current attempt:\n\n```python\n{code.rstrip()}\n```\n\n"
            f"It failed the tests:\n{feedback.strip() or '(no details)'}\n\n"
            "Reply with the complete corrected function.",
        ),
    ]


def worker_messages(
    problem_prompt: str,
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
    parts = [f"Complete this Python function:\n\n```python\n{problem_prompt.rstrip()}\n```"]
    if spec:
        parts.append(f"Specification from a senior engineer:\n{spec.strip()}")
    if plan:
        parts.append(f"Implementation plan from a software architect:\n{plan.strip()}")
    if previous_code is not None:
        parts.append(f"Your previous attempt:\n\n```python\n{previous_code.rstrip()}\n```")
        parts.append(f"It failed the tests:\n{(feedback or '(no details)').strip()}")
    if guidance:
        parts.append(f"Guidance from a senior engineer's review:\n{guidance.strip()}")
    if previous_code is not None:
        parts.append("Fix the function. Reply with the complete corrected function.")
    return [Message("system", WORKER_SYSTEM), Message("user", "\n\n".join(parts))]


def review_messages(
    problem_prompt: str,
    attempts: Sequence[AttemptSummary],
    *,
    brief: str | None = None,
    plateau: bool = False,
) -> list[Message]:
    """Messages asking the reviewer for guidance on the attempts so far, with the brief (a
    spec or a plan; the text calls either "the specification", as it has since version 1)."""
    parts = [f"The function to implement:\n\n```python\n{problem_prompt.rstrip()}\n```"]
    if brief:
        parts.append(f"The specification given:\n{brief.strip()}")
    for a in attempts:
        score = (
            f"{a.tests_passed}/{a.tests_total} tests passed"
            if a.tests_total
            else "did not run to the tests"
        )
        parts.append(
            f"Attempt {a.iteration} ({score}):\n```python\n{a.code.rstrip()}\n```\n"
            f"Test feedback:\n{a.feedback.strip() or '(none)'}"
        )
    if plateau:
        parts.append(
            "The attempts have plateaued: the same number of tests passed three times "
            "running. Suggest a different approach, not a small fix."
        )
    parts.append("Your guidance for the next attempt:")
    return [Message("system", REVIEW_SYSTEM), Message("user", "\n\n".join(parts))]


def render(messages: Sequence[Message]) -> str:
    """Messages as one text, for the ``prompt`` column."""
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in messages)
