"""One model call of an experiment, and the money a run may spend on calls.

A call takes its seeds from the strategy and epoch, asks the call cache first, waits for a
slot among the calls in flight, checks the budget once the slot is its own, and prices what
came back; it returns the completion and the row's fields, and books what was paid. A failed
call is a row too, never an exception: the experiment goes on.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from koderz.engine import prompts
from koderz.engine.cache import CallCache, call_key
from koderz.engine.strategies import EPOCH_SEED_STRIDE, Strategy
from koderz.errors import KoderzError
from koderz.models import Advisor, GenerateConfig, get_model
from koderz.models.prices import price_call
from koderz.models.registry import ModelSpec, resolve_model
from koderz.records import Completion, Message
from koderz.store import CODE_ROLES

__all__ = ["Budget", "Called", "Caller", "Limiter", "Stopped", "now"]


Limiter = Callable[[str], AbstractContextManager[Any]]
"""``limiter(provider)`` is entered around each call: the per-provider limits on calls in flight."""


def now() -> dt.datetime:
    """The time a row records (UTC)."""
    return dt.datetime.now(dt.UTC)


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


class Stopped(Exception):
    """The budget ran out (or the run halted) before a call could start."""


class Caller:
    """Makes one experiment's calls: its strategy's settings, its epoch, the run's budget,
    limiter and call cache."""

    def __init__(
        self,
        strategy: Strategy,
        *,
        epoch: int,
        budget: Budget,
        limiter: Limiter,
        cache: CallCache | None,
    ) -> None:
        self.strategy = strategy
        self.epoch = epoch
        self.budget = budget
        self.limiter = limiter
        self.cache = cache
        self.paid = 0.0
        """Dollars this experiment's calls paid in this session."""

    def config(self, role: str, iteration: int, advisor: Advisor | None = None) -> GenerateConfig:
        """The generation settings of a call: attempts and epochs get seeds of their own,
        each role its reasoning level."""
        seed = self.strategy.seed
        if seed is not None:
            seed += EPOCH_SEED_STRIDE * (self.epoch - 1)
            if role in CODE_ROLES:
                seed += iteration - 1
        return GenerateConfig(
            max_tokens=self.strategy.max_tokens,
            temperature=self.strategy.temperature,
            seed=seed,
            reasoning=self.strategy.reasoning_for(role),
            advisor=advisor,
        )

    def call(
        self,
        role: str,
        model_name: str,
        messages: Sequence[Message],
        iteration: int,
        *,
        advisor: Advisor | None = None,
    ) -> Called:
        """Call a model (or the cache): the completion (None if the call failed), the row's
        fields, and a row for each consultation made inside it (``advisor``: the advisor
        tool's reviewer, whom the worker may consult while it answers)."""
        spec = resolve_model(model_name)
        config = self.config(role, iteration, advisor)
        row: dict[str, Any] = {
            "role": role,
            "iteration": iteration,
            "model": spec.name,
            "provider": spec.provider,
            "tier": spec.tier,
            "prompt": prompts.render(messages),
            "started_at": now(),
        }
        key = None
        if self.cache is not None:
            key = call_key(
                provider=spec.provider,
                model=spec.name,
                messages=messages,
                config=config,
                epoch=self.epoch,
                # An attempt's number makes it a draw of its own (zero-shot attempts send
                # the same messages); a brief or a review is one draw per epoch.
                draw=iteration if role in CODE_ROLES else 0,
            )
            hit = self.cache.get(key)
            if hit is not None:
                if self.budget.halted:
                    raise Stopped
                done = self._completed(row, spec, hit, paid=False, waited=0.0)
                return Called(hit, done, self._consultations(hit, iteration, paid=False))
        asked = time.perf_counter()
        waited = 0.0
        try:
            with self.limiter(spec.provider):
                waited = time.perf_counter() - asked
                # Checked again once a call slot is ours: the money may have run out while
                # this experiment waited for it.
                if self.budget.exhausted():
                    raise Stopped
                completion = get_model(model_name).complete(messages, config=config)
                # Booked before the slot is released, so the next holder sees the money.
                done = self._completed(row, spec, completion, paid=True, waited=waited)
                consultations = self._consultations(completion, iteration, paid=True)
        except KoderzError as e:
            row.update(
                status="provider_error",
                error=str(e),
                call_attempts=getattr(e, "attempts", 1),
                wait_s=waited,
                finished_at=now(),
                cost_usd=0.0,
                hardware_cost_usd=0.0,
                paid_usd=0.0,
                cached=False,
            )
            return Called(None, row)
        if self.cache is not None and key is not None:
            self.cache.put(key, completion)
        return Called(completion, done, consultations)

    def _completed(
        self,
        row: dict[str, Any],
        spec: ModelSpec,
        completion: Completion,
        *,
        paid: bool,
        waited: float,
    ) -> dict[str, Any]:
        """The row of a call that answered; books what was paid (nothing, if cached)."""
        cost = price_call(spec, completion.usage, latency_s=completion.latency_s)
        spent = cost.usd + cost.hardware_usd if paid else 0.0
        self.budget.add(spent)
        self.paid += spent
        u = completion.usage
        row.update(
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_tokens=u.cache_read_tokens,
            cache_write_tokens=u.cache_write_tokens,
            reasoning_tokens=u.reasoning_tokens,
            notes="; ".join(completion.notes),
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
            finished_at=now(),
        )
        return row

    def _consultations(
        self, completion: Completion, iteration: int, *, paid: bool
    ) -> list[dict[str, Any]]:
        """A row (role ``advice``) for each consultation of the reviewer inside a call, through
        the advisor tool, priced at the reviewer's model and booked (nothing, if the call came
        from the cache)."""
        rows = []
        for c in completion.consultations:
            spec = resolve_model(c.model)
            cost = price_call(spec, c.usage, latency_s=c.latency_s)
            spent = cost.usd + cost.hardware_usd if paid else 0.0
            self.budget.add(spent)
            self.paid += spent
            at = now()
            rows.append(
                {
                    "role": "advice",
                    "iteration": iteration,
                    "model": spec.name,
                    "provider": spec.provider,
                    "tier": spec.tier,
                    "input_tokens": c.usage.input_tokens,
                    "output_tokens": c.usage.output_tokens,
                    "cache_read_tokens": c.usage.cache_read_tokens,
                    "cache_write_tokens": c.usage.cache_write_tokens,
                    "reasoning_tokens": c.usage.reasoning_tokens,
                    "cost_usd": cost.usd,
                    "hardware_cost_usd": cost.hardware_usd,
                    "paid_usd": spent,
                    "cached": not paid,
                    "price_source": cost.source,
                    "latency_s": c.latency_s,
                    "prompt": c.question,
                    "guidance": c.advice,
                    "response": c.advice,
                    "status": "ok",
                    "started_at": at,
                    "finished_at": at,
                }
            )
        return rows


@dataclass
class Called:
    """What one call of :meth:`Caller.call` gave."""

    completion: Completion | None
    """The completion; None if the call failed (its row says why)."""
    row: dict[str, Any]
    """The call's row."""
    consultations: list[dict[str, Any]] = field(default_factory=list)
    """A row for each consultation of the reviewer made inside the call (role ``advice``)."""
