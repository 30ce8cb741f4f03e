"""How an attempt's code is judged, and what the worker may see of it.

Every attempt runs against the problem's hidden tests: their verdict is recorded for the
analysis. What *steers* the experiment (the feedback in the next prompt, the stop, a
cascade's next rung, a repair, a review) depends on the stop rule:

- ``visible``: only the tests the experiment can see (the problem's public tests) steer it.
  Their run is the attempt's :attr:`Judged.shown`; the hidden verdict is never shown and
  never decides anything but the submitted answer's ``passed``.
- ``oracle``: the hidden tests steer it, as far as the feedback level lets them show (the
  upper bound no deployed system reaches).

Both runs start together, so an attempt that never ends costs one timeout, not two.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from koderz import sandbox
from koderz.records import ExecResult, Problem

__all__ = ["Answer", "Judge", "Judged", "stops", "submission", "visible_problem"]

# The visible tests' feedback shows everything of them: they are the worker's to see.
VISIBLE_DETAIL = "full"


def visible_problem(problem: Problem) -> Problem | None:
    """The problem with the tests the experiment can see as its tests (its public tests);
    None when it has none."""
    if not problem.public_test:
        return None
    return replace(problem, test=problem.public_test)


@dataclass(frozen=True)
class Judged:
    """One attempt's program and its verdicts."""

    iteration: int
    """The attempt's number."""
    code: str
    """The program that ran."""
    hidden: ExecResult
    """The hidden tests' verdict (the analysis's; under ``visible`` it steers nothing)."""
    visible: ExecResult | None
    """The visible tests' run; None when nothing is visible (or, under ``oracle``, when it
    was not needed)."""
    public: ExecResult | None
    """The problem's public tests' run (today the visible tests are exactly these)."""
    feedback: str
    """What the worker is shown of the attempt next time (empty once it passes)."""
    shown: ExecResult | None
    """The run whose counts steer: the visible one under ``visible``; under ``oracle`` the
    public one with feedback ``public``, else the hidden one."""

    @property
    def visible_passed(self) -> bool:
        """Every visible test passed (False when there is none)."""
        return self.visible is not None and self.visible.passed


@dataclass(frozen=True)
class Answer:
    """What choosing the submitted answer needs of one judged attempt (rebuilt from its row
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
    def of(cls, judged: Judged) -> Answer:
        visible = judged.visible
        return cls(
            judged.iteration,
            judged.hidden.passed,
            0 if visible is None else visible.tests_passed,
            0 if visible is None else visible.tests_total,
            judged.hidden.tests_passed,
            judged.hidden.tests_total,
        )


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


def submission(answers: list[Answer], stop: str) -> Answer | None:
    """The answer an experiment submits: the one it stopped at; when the attempts ran out,
    under ``visible`` the one that passed the most visible tests (the latest among equals),
    under ``oracle`` the last one. None when no attempt produced code.

    Examples:
        >>> a = [Answer(1, False, 1, 3), Answer(2, False, 2, 3), Answer(3, False, 2, 3)]
        >>> submission(a, "visible").iteration, submission(a, "oracle").iteration
        (3, 3)
        >>> submission([Answer(1, False, 1, 3), Answer(2, True, 3, 3)], "visible").iteration
        2
    """
    stopped = next((a for a in answers if stops(a, stop)), None)
    if stopped is not None or not answers:
        return stopped
    if stop == "oracle":
        return answers[-1]
    return max(reversed(answers), key=lambda a: a.visible_passed)


class Judge:
    """Judges an experiment's attempts by its stop rule and feedback level."""

    def __init__(
        self, problem: Problem, *, stop: str, feedback: str, timeout_s: float | None
    ) -> None:
        self.problem = problem
        self.stop = stop
        self.feedback = feedback
        self.timeout_s = timeout_s
        self.visible = visible_problem(problem)

    def __call__(self, iteration: int, program: str) -> Judged:
        """Run ``program``; raises :class:`~koderz.errors.KoderzError` when the sandbox
        itself fails."""
        if self.stop == "visible":
            hidden, visible = self._both(program)
            feedback = "" if visible is None or visible.passed else self._text(visible)
            return Judged(iteration, program, hidden, visible, visible, feedback, visible)
        hidden = self._run(self.problem, program)
        public = None
        if self.feedback == "public" and self.visible is not None and not hidden.passed:
            public = self._run(self.visible, program)
        feedback = self._oracle_feedback(hidden, public)
        shown = public if self.feedback == "public" else hidden
        return Judged(iteration, program, hidden, public, public, feedback, shown)

    def _run(self, problem: Problem, program: str) -> ExecResult:
        return sandbox.run_tests(problem, program, timeout_s=self.timeout_s)

    def _both(self, program: str) -> tuple[ExecResult, ExecResult | None]:
        """The hidden and the visible runs, side by side."""
        if self.visible is None:
            return self._run(self.problem, program), None
        got: dict[str, ExecResult] = {}
        failed: list[BaseException] = []

        def hidden() -> None:
            try:
                got["hidden"] = self._run(self.problem, program)
            except BaseException as e:  # raised again in the calling thread
                failed.append(e)

        thread = threading.Thread(target=hidden, name="koderz-hidden-tests", daemon=True)
        thread.start()
        try:
            visible = self._run(self.visible, program)
        finally:
            thread.join()
        if failed:
            raise failed[0]
        return got["hidden"], visible

    @staticmethod
    def _text(result: ExecResult) -> str:
        return sandbox.format_feedback(result, VISIBLE_DETAIL)

    def _oracle_feedback(self, hidden: ExecResult, public: ExecResult | None) -> str:
        """Under ``oracle``: what the feedback level shows of the hidden tests, or with
        feedback ``public`` the public tests' results."""
        if self.feedback != "public":
            return sandbox.format_feedback(hidden, self.feedback)
        if hidden.passed:
            return ""
        if public is None:
            return (
                "The program did not pass the hidden tests. This problem has no public "
                "tests, so nothing more can be shown."
            )
        text = self._text(public)
        if public.passed:
            return f"{text}\nThe public tests pass, but the program fails hidden tests."
        return text
