"""One problem under one strategy, in one epoch: the kinds of :mod:`koderz.strategies` run.

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
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from koderz import prompts, sandbox
from koderz.cache import CallCache, call_key
from koderz.errors import ConfigError, KoderzError
from koderz.extract import build_program, extract_code
from koderz.models import GenerateConfig, get_model
from koderz.models.prices import price_call
from koderz.models.registry import resolve_model
from koderz.records import Completion, ExecResult, Message, Problem
from koderz.store import CODE_ROLES, StepWriter, safe_name
from koderz.strategies import Strategy

__all__ = ["Budget", "ExperimentResult", "Strategy", "experiment_id", "run_experiment"]

EPOCH_SEED_STRIDE = 1000  # attempt i of epoch e is seeded seed + 1000 (e - 1) + i - 1

PLATEAU_RUN = 3  # the same partial pass count this many times running is a plateau


class Budget:
    """Money a run may spend, shared by its threads. ``None`` means no limit.

    :meth:`halt` stops a run early (Ctrl-C): experiments then end as ``interrupted``.
    """

    def __init__(self, max_cost: float | None = None, spent: float = 0.0) -> None:
        self.max_cost = max_cost
        self._spent = spent
        self._lock = threading.Lock()
        self._halted = threading.Event()

    def halt(self) -> None:
        """Start no further call, whatever the money."""
        self._halted.set()

    @property
    def halted(self) -> bool:
        """Whether :meth:`halt` was called."""
        return self._halted.is_set()

    @property
    def spent(self) -> float:
        """Dollars spent so far (tokens and hardware)."""
        with self._lock:
            return self._spent

    def add(self, usd: float) -> None:
        """Book ``usd`` dollars as spent."""
        with self._lock:
            self._spent += usd

    def over(self) -> bool:
        """Whether the money spent has reached the limit."""
        return self.max_cost is not None and self.spent >= self.max_cost

    def exhausted(self) -> bool:
        """Whether no further call may start (the limit is reached, or the run halted)."""
        return self.halted or self.over()


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


Limiter = Callable[[str], AbstractContextManager[Any]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Stopped(Exception):
    """The budget ran out (or the run halted) before a call could start."""


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
        self.limiter = limiter
        self.spec_cache = spec_cache
        self.sandbox_timeout_s = sandbox_timeout_s
        self.epoch = epoch
        self.cache = cache
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
        self.repaired = False
        self.last_provider_error = ""
        self.guidance: str | None = None
        self.reviewed_at: set[int] = set()
        self.sandbox_error = ""
        self.cost = 0.0

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
                self.attempts.append(
                    prompts.AttemptSummary(
                        int(r.iteration),
                        r.code or "",
                        r.feedback or "",
                        None if pd.isna(r.tests_passed) else int(r.tests_passed),
                        None if pd.isna(r.tests_total) else int(r.tests_total),
                    )
                )
                self.repaired = self.repaired or r.role == "repair"
                self.last_provider_error = r.error if r.status == "provider_error" else ""
            elif r.role == "checkpoint":
                self.reviewed_at.add(int(r.iteration))
                if r.guidance:
                    self.guidance = r.guidance

    # ------------------------------------------------------------------ steps

    def write(self, *rows: dict[str, Any]) -> None:
        """Write rows of this experiment now, as one atomic file."""
        self.writer.write_many([{**self.base, **row} for row in rows])

    def config(self, role: str, iteration: int) -> GenerateConfig:
        """The generation settings of a call: attempts and epochs get seeds of their own."""
        seed = self.strategy.seed
        if seed is not None:
            seed += EPOCH_SEED_STRIDE * (self.epoch - 1)
            if role in CODE_ROLES:
                seed += iteration - 1
        return GenerateConfig(
            max_tokens=self.strategy.max_tokens, temperature=self.strategy.temperature, seed=seed
        )

    def call(
        self, role: str, model_name: str, messages: Sequence[Message], iteration: int
    ) -> tuple[Completion | None, dict[str, Any]]:
        """Call a model (or the cache); returns the completion (None if the call failed) and
        the row's fields."""
        spec = resolve_model(model_name)
        config = self.config(role, iteration)
        row: dict[str, Any] = {
            "role": role,
            "iteration": iteration,
            "model": spec.name,
            "provider": spec.provider,
            "tier": spec.tier,
            "prompt": prompts.render(messages),
            "started_at": _now(),
        }
        key = None
        if self.cache is not None:
            key = call_key(
                provider=spec.provider,
                model=spec.name,
                messages=messages,
                config=config,
                epoch=self.epoch,
            )
            hit = self.cache.get(key)
            if hit is not None:
                if self.budget.halted:
                    raise _Stopped
                return hit, self._completed(row, spec, hit, paid=False, waited=0.0)
        asked = time.perf_counter()
        waited = 0.0
        try:
            with self.limiter(spec.provider):
                waited = time.perf_counter() - asked
                # Checked again once a call slot is ours: the money may have run out while
                # this experiment waited for it.
                if self.budget.exhausted():
                    raise _Stopped
                completion = get_model(model_name).complete(messages, config=config)
                # Booked before the slot is released, so the next holder sees the money.
                done = self._completed(row, spec, completion, paid=True, waited=waited)
        except KoderzError as e:
            row.update(
                status="provider_error",
                error=str(e),
                call_attempts=getattr(e, "attempts", 1),
                wait_s=waited,
                finished_at=_now(),
                cost_usd=0.0,
                hardware_cost_usd=0.0,
                paid_usd=0.0,
                cached=False,
            )
            return None, row
        if self.cache is not None and key is not None:
            self.cache.put(key, completion)
        return completion, done

    def _completed(
        self, row: dict[str, Any], spec: Any, completion: Completion, *, paid: bool, waited: float
    ) -> dict[str, Any]:
        """The row of a call that answered; books what was paid (nothing, if cached)."""
        cost = price_call(spec, completion.usage, latency_s=completion.latency_s)
        spent = cost.usd + cost.hardware_usd if paid else 0.0
        self.budget.add(spent)
        self.cost += spent
        u = completion.usage
        row.update(
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_tokens=u.cache_read_tokens,
            cache_write_tokens=u.cache_write_tokens,
            cost_usd=cost.usd,
            hardware_cost_usd=cost.hardware_usd,
            paid_usd=spent,
            cached=not paid,
            price_source=cost.source,
            latency_s=completion.latency_s,
            wait_s=waited + completion.wait_s,
            call_attempts=completion.attempts,
            stop_reason=completion.stop_reason,
            response=completion.text,
            status="ok",
            finished_at=_now(),
        )
        return row

    def do_advice(self) -> None:
        """The spec (what to build) or, for an architect, the plan (how to build it)."""
        advisor = self.advisor
        assert advisor
        cached = self._cached_spec()
        if cached is not None:
            now = _now()
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
                    "started_at": now,
                    "finished_at": now,
                }
            )
            self.advice = cached
        else:
            ask = prompts.plan_messages if self.advice_role == "plan" else prompts.spec_messages
            completion, row = self.call(self.advice_role, advisor, ask(self.problem.prompt), 0)
            if completion is not None and completion.text.strip():
                self.advice = completion.text.strip()
                self._store_spec(self.advice)
            self.write({**row, "guidance": self.advice or "", "spec_reused": False})
        self.advice_done = True

    def do_attempt(self, iteration: int) -> tuple[dict[str, Any], bool]:
        """One attempt by the worker (a cascade's current rung); returns its row (for the
        caller to write) and whether it passed."""
        s = self.strategy
        model, rung = s.worker_at(iteration)
        previous = self.attempts[-1] if self.attempts and s.mode == "iterative" else None
        messages = prompts.worker_messages(
            self.problem.prompt,
            spec=self.advice if self.advice_role == "spec" else None,
            plan=self.advice if self.advice_role == "plan" else None,
            previous_code=previous.code if previous and previous.code else None,
            feedback=previous.feedback if previous else None,
            guidance=self.guidance,
        )
        completion, row = self.call("attempt", model, messages, iteration)
        row["rung"] = rung
        return self.judge(iteration, completion, row)

    def do_repair(self, iteration: int) -> tuple[dict[str, Any], bool]:
        """The repairer fixes the last code itself (one call); judged like an attempt."""
        assert self.strategy.repairer
        last = next((a for a in reversed(self.attempts) if a.code), None)
        messages = prompts.repair_messages(
            self.problem.prompt,
            last.code if last else "(no code was written yet)",
            last.feedback if last else "",
        )
        completion, row = self.call("repair", self.strategy.repairer, messages, iteration)
        self.repaired = True
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
            row.update(code=program, status="sandbox_error", error=str(e), finished_at=_now())
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
            finished_at=_now(),
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
        completion, row = self.call("checkpoint", self.strategy.reviewer, messages, after)
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
        now = _now()
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
            "started_at": now,
            "finished_at": now,
        }
        rows = [end_row] if last is None else [last, end_row]
        self.write(*rows)
        return ExperimentResult(
            self.id,
            self.problem.task_id,
            self.strategy.name,
            status,
            made,
            self.cost,
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
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)

    # ------------------------------------------------------------------ the loop

    def stopped(self) -> ExperimentResult:
        return self.end("interrupted" if self.budget.halted else "budget")

    def run(self) -> ExperimentResult:
        try:
            return self._run()
        except _Stopped:
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
        if s.kind == "repair" and i == s.repair_after + 1 and not self.repaired:
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
        sandbox_timeout_s: Per-test-case timeout for the sandbox (None: its default).
        epoch: Which repeat of this (problem, strategy) in the run, from 1: its rows, id and
            seeds are its own.
        cache: The call cache answering calls made before (:mod:`koderz.cache`), or None.

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
