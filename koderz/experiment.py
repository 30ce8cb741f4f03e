"""One problem under one strategy: spec -> attempts with feedback -> checkpoint reviews.

Every step is written as a row the moment it finishes (see :mod:`koderz.store`). A failed
model call is a row too (``status="provider_error"``), after the model layer's retries; the
experiment goes on with its next step and never raises for it. An experiment resumes from
its own rows: given them, it continues after the last recorded step.
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from koderz import prompts, sandbox
from koderz.errors import ConfigError, KoderzError
from koderz.extract import build_program, extract_code
from koderz.models import GenerateConfig, get_model
from koderz.models.prices import price_call
from koderz.models.registry import resolve_model
from koderz.records import Completion, Message, Problem
from koderz.store import StepWriter, safe_name

__all__ = ["Budget", "ExperimentResult", "Strategy", "experiment_id", "run_experiment"]

PLATEAU_RUN = 3  # the same partial pass count this many times running is a plateau


@dataclass(frozen=True)
class Strategy:
    """A named set of switches for running experiments; one data folder can hold several.

    Examples:
        >>> Strategy("cheap", worker="smollm2", max_iterations=3).settings()["mode"]
        'iterative'
    """

    name: str
    """What rows and reports call it."""
    worker: str
    """The model that writes the code."""
    spec_model: str | None = None
    """Writes a short spec first (what, not how); None for no spec."""
    reviewer: str | None = None
    """Reviews the attempts every ``checkpoint_interval`` attempts; None for no reviews."""
    max_iterations: int = 5
    """Attempts allowed."""
    checkpoint_interval: int = 2
    """A review after every this many attempts (when another attempt follows)."""
    feedback: Literal["full", "assertion", "summary"] = "full"
    """How much of a failure the worker is shown next time (see the sandbox)."""
    mode: Literal["iterative", "zero_shot"] = "iterative"
    """``iterative``: each attempt sees the previous code and its failure. ``zero_shot``:
    each attempt starts afresh (independent samples, for pass@k)."""
    temperature: float | None = None
    """Sampling temperature of every call; None for the providers' defaults."""
    seed: int | None = None
    """Sampling seed; attempt ``i`` uses ``seed + i - 1`` so zero-shot samples differ."""
    max_tokens: int = 1024
    """Upper bound on each reply."""
    reuse_spec: bool = False
    """Take a spec written earlier for the same problem by the same spec model (free)."""

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ConfigError(f"Strategy name {self.name!r} must be non-empty without '/'.")
        if self.max_iterations < 1:
            raise ConfigError("max_iterations must be at least 1.")
        if self.checkpoint_interval < 1:
            raise ConfigError("checkpoint_interval must be at least 1.")
        if self.feedback not in sandbox.FEEDBACK_LEVELS:
            raise ConfigError(
                f"Unknown feedback level {self.feedback!r}; "
                f"use one of {', '.join(sandbox.FEEDBACK_LEVELS)}."
            )
        if self.mode not in ("iterative", "zero_shot"):
            raise ConfigError(f"Unknown mode {self.mode!r}; use iterative or zero_shot.")
        if self.max_tokens < 1:
            raise ConfigError("max_tokens (--max-tokens) must be at least 1.")
        if self.temperature is not None and not 0 <= self.temperature <= 2:
            raise ConfigError("temperature (--temperature) must be between 0 and 2.")

    def models(self) -> list[str]:
        """Every model the strategy calls."""
        return [m for m in (self.worker, self.spec_model, self.reviewer) if m]

    def settings(self) -> dict[str, Any]:
        """The strategy's settings as the steps table's columns."""
        return {
            "strategy": self.name,
            "worker_model": self.worker,
            "spec_model": self.spec_model or "",
            "reviewer_model": self.reviewer or "",
            "max_iterations": self.max_iterations,
            "checkpoint_interval": self.checkpoint_interval,
            "feedback_level": self.feedback,
            "mode": self.mode,
            "temperature": float("nan") if self.temperature is None else self.temperature,
            "seed": self.seed,
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, as plain data (what a run's manifest records)."""
        return asdict(self)


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
    """Money spent by this experiment in this session (tokens + hardware)."""
    error: str = ""
    """Why it ended as ``error`` (empty otherwise)."""


def experiment_id(run_id: str, strategy: str, problem_id: str) -> str:
    """The id of one problem under one strategy in one run."""
    return f"{run_id}/{strategy}/{problem_id}"


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
    ) -> None:
        from koderz.version import __version__

        self.problem = problem
        self.strategy = strategy
        self.writer = writer
        self.budget = budget
        self.limiter = limiter
        self.spec_cache = spec_cache
        self.sandbox_timeout_s = sandbox_timeout_s
        self.id = experiment_id(writer.run_id, strategy.name, problem.task_id)
        self.base: dict[str, Any] = {
            "experiment_id": self.id,
            "problem_id": problem.task_id,
            "problem_source": problem.source,
            "koderz_version": __version__,
            **strategy.settings(),
        }
        self.spec: str | None = None
        self.spec_done = False
        self.attempts: list[prompts.AttemptSummary] = []
        self.last_provider_error = ""
        self.guidance: str | None = None
        self.reviewed_at: set[int] = set()
        self.sandbox_error = ""
        self.cost = 0.0

    # ------------------------------------------------------------------ resume

    def restore(self, rows: pd.DataFrame) -> None:
        r: Any  # a row of the steps table
        for r in rows.sort_values("started_at", kind="stable").itertuples():
            if r.role == "spec" and r.status == "ok":  # a failed spec is tried again
                self.spec_done = True
                self.spec = r.guidance or None
            elif r.role == "attempt":
                self.attempts.append(
                    prompts.AttemptSummary(
                        int(r.iteration),
                        r.code or "",
                        r.feedback or "",
                        None if pd.isna(r.tests_passed) else int(r.tests_passed),
                        None if pd.isna(r.tests_total) else int(r.tests_total),
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

    def call(
        self, role: str, model_name: str, messages: Sequence[Message], iteration: int
    ) -> tuple[Completion | None, dict[str, Any]]:
        """Call a model; returns the completion (None if it failed) and the row's fields."""
        spec = resolve_model(model_name)
        seed = self.strategy.seed
        if seed is not None and role == "attempt":
            seed += iteration - 1
        config = GenerateConfig(
            max_tokens=self.strategy.max_tokens, temperature=self.strategy.temperature, seed=seed
        )
        row: dict[str, Any] = {
            "role": role,
            "iteration": iteration,
            "model": spec.name,
            "provider": spec.provider,
            "tier": spec.tier,
            "prompt": prompts.render(messages),
            "started_at": _now(),
        }
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
                cost = price_call(spec, completion.usage, latency_s=completion.latency_s)
                # Booked before the slot is released, so the next holder sees the money.
                spent = cost.usd + cost.hardware_usd
                self.budget.add(spent)
        except KoderzError as e:
            row.update(
                status="provider_error",
                error=str(e),
                call_attempts=getattr(e, "attempts", 1),
                wait_s=waited,
                finished_at=_now(),
                cost_usd=0.0,
                hardware_cost_usd=0.0,
            )
            return None, row
        u = completion.usage
        row.update(
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_tokens=u.cache_read_tokens,
            cache_write_tokens=u.cache_write_tokens,
            cost_usd=cost.usd,
            hardware_cost_usd=cost.hardware_usd,
            price_source=cost.source,
            latency_s=completion.latency_s,
            wait_s=waited + completion.wait_s,
            call_attempts=completion.attempts,
            stop_reason=completion.stop_reason,
            response=completion.text,
            status="ok",
            finished_at=_now(),
        )
        self.cost += spent
        return completion, row

    def do_spec(self) -> None:
        assert self.strategy.spec_model
        cached = self._cached_spec()
        if cached is not None:
            now = _now()
            spec = resolve_model(self.strategy.spec_model)
            self.write(
                {
                    "role": "spec",
                    "iteration": 0,
                    "model": spec.name,
                    "provider": spec.provider,
                    "tier": spec.tier,
                    "guidance": cached,
                    "spec_reused": True,
                    "status": "ok",
                    "cost_usd": 0.0,
                    "hardware_cost_usd": 0.0,
                    "price_source": "reused",
                    "started_at": now,
                    "finished_at": now,
                }
            )
            self.spec = cached
        else:
            messages = prompts.spec_messages(self.problem.prompt)
            completion, row = self.call("spec", self.strategy.spec_model, messages, 0)
            if completion is not None and completion.text.strip():
                self.spec = completion.text.strip()
                self._store_spec(self.spec)
            self.write({**row, "guidance": self.spec or "", "spec_reused": False})
        self.spec_done = True

    def do_attempt(self, iteration: int) -> tuple[dict[str, Any], bool]:
        """One attempt; returns its row (for the caller to write) and whether it passed."""
        s = self.strategy
        previous = self.attempts[-1] if self.attempts and s.mode == "iterative" else None
        messages = prompts.worker_messages(
            self.problem.prompt,
            spec=self.spec,
            previous_code=previous.code if previous and previous.code else None,
            feedback=previous.feedback if previous else None,
            guidance=self.guidance,
        )
        completion, row = self.call("attempt", s.worker, messages, iteration)
        if completion is None:
            self.last_provider_error = row["error"]
            self.attempts.append(prompts.AttemptSummary(iteration, "", "", None, None))
            return row, False
        self.last_provider_error = ""
        code = extract_code(completion.text, entry_point=self.problem.entry_point)
        program = build_program(self.problem.prompt, code, self.problem.entry_point)
        try:
            result = sandbox.run_tests(self.problem, program, timeout_s=self.sandbox_timeout_s)
        except KoderzError as e:
            # The sandbox itself failed (not the candidate): the paid call's row is kept.
            self.sandbox_error = str(e)
            row.update(code=program, status="sandbox_error", error=str(e), finished_at=_now())
            self.attempts.append(prompts.AttemptSummary(iteration, program, "", None, None))
            return row, False
        feedback = sandbox.format_feedback(result, s.feedback)
        first = result.first_failure
        row.update(
            code=program,
            passed=bool(result.passed),
            tests_passed=result.tests_passed,
            tests_total=result.tests_total,
            exec_s=result.duration_s,
            status=result.status,
            error="" if result.passed or first is None else (first.message or first.kind),
            feedback=feedback,
            finished_at=_now(),
        )
        self.attempts.append(
            prompts.AttemptSummary(
                iteration, program, feedback, result.tests_passed, result.tests_total
            )
        )
        return row, bool(result.passed)

    def plateau(self) -> bool:
        last = [a.tests_passed for a in self.attempts[-PLATEAU_RUN:]]
        return len(last) == PLATEAU_RUN and last[0] is not None and len(set(last)) == 1

    def do_checkpoint(self, after: int) -> None:
        assert self.strategy.reviewer
        plateau = self.plateau()
        shown = [a for a in self.attempts if a.code][-self.strategy.checkpoint_interval :]
        messages = prompts.review_messages(
            self.problem.prompt, shown, spec=self.spec, plateau=plateau
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
            "error": error,
            "cost_usd": 0.0,
            "hardware_cost_usd": 0.0,
            "started_at": now,
            "finished_at": now,
        }
        rows = [end_row] if last is None else [last, end_row]
        self.write(*rows)
        return ExperimentResult(
            self.id, self.problem.task_id, self.strategy.name, status, made, self.cost, error
        )

    # ------------------------------------------------------------------ spec cache

    def _spec_path(self) -> Path | None:
        if self.spec_cache is None or not self.strategy.spec_model:
            return None
        # Keyed by the prompt's text and the prompts' version too: a HumanEval+ problem with
        # a HumanEval id, or a changed spec prompt, must not get an old spec.
        digest = hashlib.sha256(
            f"{prompts.PROMPTS_VERSION}\0{self.problem.prompt}".encode()
        ).hexdigest()[:12]
        name = f"{safe_name(self.problem.task_id)}-{digest}.txt"
        return self.spec_cache / safe_name(self.strategy.spec_model) / name

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

    def _run(self) -> ExperimentResult:
        s = self.strategy
        if s.spec_model and not self.spec_done:
            if self.budget.exhausted():
                return self.stopped()
            self.do_spec()
        for i in range(len(self.attempts) + 1, s.max_iterations + 1):
            previous = i - 1
            if (
                s.reviewer
                and previous >= 1
                and previous % s.checkpoint_interval == 0
                and previous not in self.reviewed_at
            ):
                if self.budget.exhausted():
                    return self.stopped()
                self.do_checkpoint(previous)
            if self.budget.exhausted():
                return self.stopped()
            row, passed = self.do_attempt(i)
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
        spec_cache: Folder of specs kept for ``reuse_spec``.
        sandbox_timeout_s: Per-test-case timeout for the sandbox (None: its default).

    Returns:
        How it ended. Failures of models and of generated code are rows, never raised.
    """
    exp = _Experiment(
        problem,
        strategy,
        writer=writer,
        budget=budget or Budget(),
        limiter=limiter or (lambda provider: contextlib.nullcontext()),
        spec_cache=Path(spec_cache) if spec_cache is not None else None,
        sandbox_timeout_s=sandbox_timeout_s,
    )
    if history is not None and len(history):
        exp.restore(history)
    return exp.run()
