"""The stop rule's decisions: when an experiment stops, which answer it submits, and when a
cascade keeps its rung's answer.

What it decides from is an :class:`Answer` per graded attempt (:mod:`koderz.engine.grading`),
rebuilt from the attempt's row when an experiment resumes. Under ``visible`` (the default)
only the visible tests decide; under ``oracle`` the hidden ones do
(:data:`~koderz.engine.strategies.STOP_CHOICES`).
"""

from __future__ import annotations

from dataclasses import dataclass

from koderz.engine.grading import Graded
from koderz.engine.strategies import Strategy

__all__ = ["Answer", "accepts_rung", "ends_here", "stop_status", "stops", "submission"]


@dataclass(frozen=True)
class Answer:
    """What choosing the submitted answer needs of one graded attempt (rebuilt from its row
    on resume)."""

    iteration: int
    """The attempt's number."""
    passed: bool
    """It passed the hidden tests."""
    visible_passed: int
    """Visible test cases it passed."""
    visible_total: int
    """Visible test cases (0: nothing visible)."""
    tests_passed: int | None = None
    """Hidden test cases it passed (partial credit), when known."""
    tests_total: int | None = None
    """Hidden test cases, when known."""

    @classmethod
    def of(cls, graded: Graded) -> Answer:
        return cls(
            graded.iteration,
            graded.hidden.passed,
            graded.visible_passed,
            graded.visible_total,
            graded.hidden.tests_passed,
            graded.hidden.tests_total,
        )

    @property
    def visible_share(self) -> float:
        """Share of the visible tests passed (1.0 when none is visible: nothing failed)."""
        return self.visible_passed / self.visible_total if self.visible_total else 1.0


def stops(answer: Answer, stop: str) -> bool:
    """Whether the experiment stops at ``answer`` (and submits it).

    Examples:
        >>> stops(Answer(1, passed=False, visible_passed=2, visible_total=2), "visible")
        True
        >>> stops(Answer(1, passed=False, visible_passed=2, visible_total=2), "oracle")
        False
        >>> stops(Answer(1, passed=False, visible_passed=0, visible_total=0), "visible")
        True
    """
    if stop == "oracle":
        return answer.passed
    # Every visible test passed, or none is visible: nothing could tell it was wrong.
    return answer.visible_passed == answer.visible_total


def submission(answers: list[Answer], stop: str, *, stopped: bool = True) -> Answer | None:
    """The answer an experiment submits: the one it stopped at; otherwise (the attempts ran
    out, or ``stopped`` is False: a best-of-n draws them all) under ``visible`` the one that
    passed the most visible tests (the latest among equals), under ``oracle`` the first that
    passed the hidden tests, else the last. None when no attempt produced code.

    Examples:
        >>> a = [Answer(1, False, 1, 3), Answer(2, False, 2, 3), Answer(3, False, 2, 3)]
        >>> submission(a, "visible").iteration, submission(a, "oracle").iteration
        (3, 3)
        >>> submission([Answer(1, False, 1, 3), Answer(2, True, 3, 3)], "visible").iteration
        2
    """
    if not answers:
        return None
    if stop == "oracle":
        return next((a for a in answers if a.passed), answers[-1])
    first = next((a for a in answers if stops(a, stop)), None)
    if stopped and first is not None:
        return first
    return max(reversed(answers), key=lambda a: a.visible_passed)


def stop_status(strategy: Strategy) -> str:
    """How an experiment that met its stop rule ends: ``solved`` (an oracle's) or
    ``stopped``."""
    return "solved" if strategy.stop == "oracle" else "stopped"


def ends_here(strategy: Strategy, answer: Answer | None) -> bool:
    """Whether the stop rule ends the experiment at ``answer`` (a best-of-n draws all its
    samples, whatever they pass)."""
    if answer is None or not stops(answer, strategy.stop):
        return False
    return strategy.kind != "sample" or strategy.stop == "oracle"


def accepts_rung(strategy: Strategy, answers: list[Answer], iteration: int) -> bool:
    """A cascade with ``escalate_below``, at the end of a rung that is not the last: whether
    the rung's best answer passes enough of the visible tests to be kept (and submitted)
    rather than handed over to the next rung."""
    s = strategy
    if s.kind != "cascade" or s.escalate_below is None or s.stop != "visible":
        return False
    if iteration % s.rung_attempts or iteration >= s.max_iterations:
        return False
    rung = [a for a in answers if iteration - s.rung_attempts < a.iteration <= iteration]
    return bool(rung) and max(a.visible_share for a in rung) >= s.escalate_below
