"""How an attempt's code is judged, and what the worker may see of it.

Every attempt runs against the problem's hidden tests: their verdict is recorded for the
analysis. The tests an experiment *can see* are the problem's public tests and the tests its
own tester wrote (:mod:`koderz.engine.own_tests`). What steers the experiment (the feedback in
the next prompt, the stop, a cascade's next rung, a repair, a review) depends on the stop
rule:

- ``visible``: only the visible tests steer it. The hidden verdict is never shown and decides
  nothing but the submitted answer's ``passed``.
- ``oracle``: the hidden tests steer it, as far as the feedback level lets them show (the
  upper bound no deployed system reaches).

The runs an attempt needs start together, so an attempt that never ends costs one timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from koderz import sandbox
from koderz.engine.strategies import Strategy
from koderz.records import ExecResult, Problem

__all__ = [
    "Answer",
    "Judge",
    "Judged",
    "accepts_rung",
    "ends_here",
    "stop_status",
    "stops",
    "submission",
    "visible_problem",
]

# The visible tests' feedback shows everything of them: they are the worker's to see.
VISIBLE_DETAIL = "full"


def visible_problem(problem: Problem) -> Problem | None:
    """The problem with its public tests as its tests; None when it has none."""
    return problem.public()


@dataclass(frozen=True)
class Judged:
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
        return cls(
            judged.iteration,
            judged.hidden.passed,
            judged.visible_passed,
            judged.visible_total,
            judged.hidden.tests_passed,
            judged.hidden.tests_total,
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


class Judge:
    """Judges an experiment's attempts by its stop rule and feedback level."""

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

    def __call__(self, iteration: int, program: str) -> Judged:
        """Run ``program``; raises :class:`~koderz.errors.KoderzError` when the sandbox
        itself fails."""
        if self.stop == "visible":
            hidden, public, own = self._runs(program, self.public, self.own)
            judged = Judged(iteration, program, hidden, public, own, "", None)
            feedback = self._visible_feedback(public, own)
            return replace(
                judged, feedback=feedback, shown=(judged.visible_passed, judged.visible_total)
            )
        # Under oracle the tester's tests still run on every attempt (their quality is
        # measured on the attempts the hidden tests pass); the public ones only to be shown.
        hidden, _, own = self._runs(program, None, self.own)
        public = None
        if self.feedback == "public" and self.public is not None and not hidden.passed:
            public = self._run(self.public, program)
        judged = Judged(iteration, program, hidden, public, own, "", None)
        if self.feedback == "public":
            shown = (judged.visible_passed, judged.visible_total) if public or own else None
            feedback = self._oracle_public_feedback(hidden, public, own)
        else:
            shown = (hidden.tests_passed, hidden.tests_total)
            feedback = sandbox.format_feedback(hidden, self.feedback)
        return replace(judged, feedback=feedback, shown=shown)

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
