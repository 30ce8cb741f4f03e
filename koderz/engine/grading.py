"""Grading an attempt: its program run against the tests through the sandbox's door, and
what the worker may see of it.

Every attempt runs against the problem's hidden tests: their verdict is recorded for the
analysis. The tests an experiment *can see* are the problem's public tests and the tests its
own tester wrote (:mod:`koderz.engine.own_tests`). What steers the experiment (the feedback in
the next prompt, the stop, a cascade's next rung, a repair, a review) depends on the stop
rule:

- ``visible``: only the visible tests steer it. The hidden verdict is never shown and decides
  nothing but the submitted answer's ``passed``.
- ``oracle``: the hidden tests steer it, as far as the feedback level lets them show (the
  upper bound no deployed system reaches).

The :class:`Grader` runs the tests and builds the feedback; the sandbox's judge (the trusted
process inside each sandbox) runs each test case. What the stop rule decides from a graded
attempt is :mod:`koderz.engine.stopping`'s. The runs an attempt needs start together, so an
attempt that never ends costs one timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from koderz import sandbox
from koderz.records import ExecResult, Problem

__all__ = ["Graded", "Grader", "visible_problem"]

# The visible tests' feedback shows everything of them: they are the worker's to see.
VISIBLE_DETAIL = "full"


def visible_problem(problem: Problem) -> Problem | None:
    """The problem with its public tests as its tests; None when it has none."""
    return problem.public()


@dataclass(frozen=True)
class Graded:
    """One attempt's program and its verdicts."""

    iteration: int
    """The attempt's number."""
    code: str
    """The program that ran."""
    hidden: ExecResult
    """The hidden tests' verdict (the analysis's; under ``visible`` it steers nothing)."""
    public: ExecResult | None
    """The problem's public tests' run; None when it has none (or, under ``oracle``, when
    it was not needed)."""
    own: ExecResult | None
    """The tester's tests' run; None without a tester (or with no test kept)."""
    feedback: str
    """What the worker is shown of the attempt next time (empty once it passes)."""
    shown: tuple[int, int] | None
    """The counts that steer (passed, total): the visible tests' under ``visible``; under
    ``oracle``, the visible ones' with feedback ``public``, else the hidden ones'."""

    @property
    def visible_passed(self) -> int:
        """Visible test cases passed (public and own)."""
        return sum(r.tests_passed for r in (self.public, self.own) if r is not None)

    @property
    def visible_total(self) -> int:
        """Visible test cases (public and own; 0: nothing visible)."""
        return sum(r.tests_total for r in (self.public, self.own) if r is not None)


class Grader:
    """Grades an experiment's attempts: runs each against the tests its stop rule needs, and
    builds what its feedback level shows the worker."""

    def __init__(
        self, problem: Problem, *, stop: str, feedback: str, timeout_s: float | None
    ) -> None:
        self.problem = problem
        self.stop = stop
        self.feedback = feedback
        self.timeout_s = timeout_s
        self.public = visible_problem(problem)
        self.own: Problem | None = None
        """The tester's tests as a problem, once they are written (None: none)."""

    def __call__(self, iteration: int, program: str) -> Graded:
        """Run ``program``; raises :class:`~koderz.errors.KoderzError` when the sandbox
        itself fails."""
        if self.stop == "visible":
            hidden, public, own = self._runs(program, self.public, self.own)
            graded = Graded(iteration, program, hidden, public, own, "", None)
            feedback = self._visible_feedback(public, own)
            return replace(
                graded, feedback=feedback, shown=(graded.visible_passed, graded.visible_total)
            )
        # Under oracle the tester's tests still run on every attempt (their quality is
        # measured on the attempts the hidden tests pass); the public ones only to be shown.
        hidden, _, own = self._runs(program, None, self.own)
        public = None
        if self.feedback == "public" and self.public is not None and not hidden.passed:
            public = self._run(self.public, program)
        graded = Graded(iteration, program, hidden, public, own, "", None)
        if self.feedback == "public":
            shown = (graded.visible_passed, graded.visible_total) if public or own else None
            feedback = self._oracle_public_feedback(hidden, public, own)
        else:
            shown = (hidden.tests_passed, hidden.tests_total)
            feedback = sandbox.format_feedback(hidden, self.feedback)
        return replace(graded, feedback=feedback, shown=shown)

    def _run(self, problem: Problem, program: str) -> ExecResult:
        return sandbox.run_tests(problem, program, timeout_s=self.timeout_s)

    def _runs(
        self, program: str, public: Problem | None, own: Problem | None
    ) -> tuple[ExecResult, ExecResult | None, ExecResult | None]:
        """The hidden run, and the public and own ones when given, side by side."""
        got: dict[str, ExecResult] = {}
        failed: list[BaseException] = []

        def run(name: str, problem: Problem) -> Callable[[], None]:
            def go() -> None:
                try:
                    got[name] = self._run(problem, program)
                except BaseException as e:  # raised again in the calling thread
                    failed.append(e)

            return go

        others = [(n, p) for n, p in (("public", public), ("own", own)) if p is not None]
        threads = [threading.Thread(target=run(n, p), daemon=True) for n, p in others]
        for thread in threads:
            thread.start()
        try:
            run("hidden", self.problem)()
        finally:
            for thread in threads:
                thread.join()
        if failed:
            raise failed[0]
        return got["hidden"], got.get("public"), got.get("own")

    @staticmethod
    def _visible_feedback(public: ExecResult | None, own: ExecResult | None) -> str:
        """What the worker is shown: every visible test that failed, in full."""
        parts = []
        if public is not None and not public.passed:
            parts.append(sandbox.format_feedback(public, VISIBLE_DETAIL))
        if own is not None and not own.passed:
            text = sandbox.format_feedback(own, VISIBLE_DETAIL)
            parts.append(f"Tests written for this problem:\n{text}" if parts else text)
        return "\n\n".join(parts)

    def _oracle_public_feedback(
        self, hidden: ExecResult, public: ExecResult | None, own: ExecResult | None
    ) -> str:
        """Under ``oracle`` with feedback ``public``: the visible tests' results."""
        if hidden.passed:
            return ""
        text = self._visible_feedback(public, own)
        if public is None and own is None:
            return (
                "The program did not pass the hidden tests. This problem has no public "
                "tests, so nothing more can be shown."
            )
        if not text:
            return "The visible tests pass, but the program fails hidden tests."
        return text
