"""What a model may be shown of a failed run, at a chosen level of test leakage."""

from __future__ import annotations

from koderz.errors import ConfigError
from koderz.records import ExecResult

__all__ = ["FEEDBACK_LEVELS", "format_feedback"]

FEEDBACK_LEVELS = ("full", "assertion", "summary")


def format_feedback(result: ExecResult, level: str) -> str:
    """What a model may be shown of a failed run, at a chosen level of test leakage.

    Args:
        result: The verdict.
        level: ``full`` (the failing test, its message and traceback), ``assertion``
            (which test case failed, nothing of why) or ``summary`` (only k of n passed).

    Returns:
        The feedback text.

    Raises:
        ConfigError: ``level`` is not one of the three.

    Examples:
        >>> from koderz.records import TestOutcome
        >>> r = ExecResult(False, "failed", 1, 2, (TestOutcome(0, True),
        ...     TestOutcome(1, False, "assertion", "assert f(2) == 3", "AssertionError")))
        >>> format_feedback(r, "summary")
        '1 of 2 tests passed.'
        >>> print(format_feedback(r, "assertion"))
        1 of 2 tests passed. First failing test: assert f(2) == 3
    """
    if level not in FEEDBACK_LEVELS:
        raise ConfigError(
            f"Unknown feedback level {level!r}; use one of {', '.join(FEEDBACK_LEVELS)}."
        )
    head = f"{result.tests_passed} of {result.tests_total} tests passed."
    if result.passed or level == "summary":
        return head
    first = result.first_failure
    if first is None:
        return f"{head} The program failed ({result.status})."
    where = first.source or f"test {first.index + 1}"
    if level == "assertion":
        return f"{head} First failing test: {where}"
    lines = [head, f"First failing test: {where}", f"Failure: {first.kind}"]
    if first.message:
        lines.append(first.message)
    if first.traceback:
        lines.append(first.traceback.rstrip())
    return "\n".join(lines)
