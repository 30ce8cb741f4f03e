"""Ways of mixing model tiers: a :class:`Strategy` is one named algorithm with its switches.

The kinds (each documented on :class:`Strategy`, run by :mod:`koderz.engine.experiment`):

- ``advised``: the worker writes the code and iterates on the tests' feedback; a spec model
  may write a spec first (what, not how) and a reviewer may be consulted about the attempts
  (``advice``: every N attempts, after a failure, or when the worker asks). With neither it
  is a single-model baseline (``local-only``, ``small-only``, ``frontier-only``).
- ``architect``: the architect writes an implementation plan (how, step by step, as in
  Aider's architect/editor split); the worker writes the code from it and iterates. The spec
  and the plan are both the experiment's *brief*, written once before the first attempt.
- ``cascade``: a ladder of workers (e.g. local -> small frontier -> frontier, as in
  FrugalGPT); each rung gets ``rung_attempts`` attempts, then the next rung takes over from
  the previous rung's last code and failure. Rows say which rung made each call.
- ``repair``: the worker gets ``repair_after`` attempts; then the repairer is shown the last
  code and its failure and returns fixed code itself (one call), graded like an attempt; the
  worker goes on from it while attempts remain.
- ``sample``: best-of-n. The worker writes ``samples`` independent answers, and the one that
  passes the most visible tests is submitted.

Any kind may have a ``tester``: a model (the worker itself, or another) that writes
``tests_per_problem`` tests from the prompt alone before the first attempt. They are visible
tests, beside the problem's public ones: the feedback shows them and the stop rule counts
them. A cascade with ``escalate_below`` hands over to its next rung only when its rung's best
answer passes less than that share of the visible tests (Chen et al. 2024, "Model Cascading
for Code").

Whatever the kind, an experiment stops by a rule (``stop``, :data:`STOP_CHOICES`):
``visible``, the default, decides with what a deployed system could see (the problem's
public tests), and submits one answer, which the hidden tests then judge; ``oracle`` stops
when the hidden tests pass, an upper bound no deployed system reaches.

Many strategies are compared in one run from a TOML file of them
(:mod:`koderz.engine.strategy_files`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from koderz.engine.switches import (
    ADVICE_CHOICES,
    FEEDBACK_CHOICES,
    KINDS,
    MODES,
    REASONING_CHOICES,
    REASONING_ROLES,
    STOP_CHOICES,
    Advice,
    Feedback,
    Kind,
    Mode,
    Stop,
    default,
)
from koderz.errors import ConfigError

__all__ = [
    "ADVICE_CHOICES",
    "EPOCH_SEED_STRIDE",
    "FEEDBACK_CHOICES",
    "KINDS",
    "LEAKY_FEEDBACK",
    "REASONING_CHOICES",
    "REASONING_ROLES",
    "STOP_CHOICES",
    "Strategy",
]

EPOCH_SEED_STRIDE = 1000
"""Attempt ``i`` of epoch ``e`` is seeded ``seed + EPOCH_SEED_STRIDE (e - 1) + i - 1``."""
LEAKY_FEEDBACK = ("full", "assertion", "summary")
"""The feedback levels that show the worker something of the hidden tests."""
_ROLE_OF = {
    # A row's role -> the role whose reasoning level its call takes (REASONING_ROLES).
    "attempt": "worker",
    "repair": "repairer",
    "spec": "spec",
    "plan": "spec",
    "tests": "tester",
    "checkpoint": "reviewer",  # a review
    "advice": "reviewer",  # a consultation on request
}


def _reasoning(name: str, value: Any) -> tuple[tuple[str, str], ...]:
    """A strategy's ``reasoning`` as (role, level) pairs: from a level for every role, a
    mapping of role to level, or pairs already."""
    if value is None or value == "" or value == ():
        return ()
    if isinstance(value, str):
        pairs: list[tuple[str, str]] = [("all", value)]
    elif isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
        try:
            pairs = [(str(k), str(v)) for k, v in value]
        except (TypeError, ValueError):
            pairs = [("?", str(value))]
    for role, level in pairs:
        if role not in ("all", *REASONING_ROLES):
            raise ConfigError(
                f"Strategy {name!r}: reasoning for unknown role {role!r}; the roles are "
                f"{_list(REASONING_ROLES)} (or one level for all of them)."
            )
        if level not in REASONING_CHOICES:
            raise ConfigError(
                f"Strategy {name!r}: reasoning {level!r}; use one of {_list(REASONING_CHOICES)}."
            )
    return tuple(pairs)


@dataclass(frozen=True)
class Strategy:
    """A named set of switches for running experiments; one data folder can hold several.

    The fields' defaults, and a line on each, are the table
    :data:`koderz.engine.switches.SWITCHES`.

    Examples:
        >>> Strategy("cheap", worker="smollm2", max_iterations=3).settings()["mode"]
        'iterative'
        >>> ladder = Strategy("ladder", kind="cascade", rungs=("a:1b", "b:7b"), rung_attempts=2)
        >>> ladder.worker, ladder.max_iterations, ladder.worker_at(3)
        ('a:1b', 4, ('b:7b', 2))
    """

    name: str
    """What rows and reports call it."""
    worker: str = default("worker")
    """The model that writes the code (a cascade's first rung, if not given)."""
    kind: Kind = default("kind")
    """The algorithm: ``advised``, ``architect``, ``cascade``, ``repair`` or ``sample``
    (module docs)."""
    spec_model: str | None = default("spec_model")
    """Writes the brief, a short spec (what, not how), before the first attempt (any kind
    but ``architect``, whose plan takes its place); None for no spec."""
    architect: str | None = default("architect")
    """Kind ``architect``: writes the brief, an implementation plan (how, step by step)."""
    reviewer: str | None = default("reviewer")
    """Reviews the attempts and guides the worker, when ``advice`` says; None for none."""
    rungs: tuple[str, ...] = default("rungs")
    """Kind ``cascade``: the ladder of workers, cheapest first."""
    rung_attempts: int = default("rung_attempts")
    """Kind ``cascade``: attempts each rung gets before the next takes over."""
    repairer: str | None = default("repairer")
    """Kind ``repair``: the model that fixes the worker's last failing code itself."""
    repair_after: int = default("repair_after")
    """Kind ``repair``: worker attempts before the repair."""
    samples: int = default("samples")
    """Kind ``sample``: independent answers drawn (best-of-n); the one that passes the most
    visible tests is submitted."""
    tester: str | None = default("tester")
    """Writes tests for the problem from its prompt alone, before the first attempt (any
    kind; the worker itself or another model); None for none."""
    tests_per_problem: int = default("tests_per_problem")
    """How many tests the tester is asked to write."""
    escalate_below: float | None = default("escalate_below")
    """Kind ``cascade``: a rung hands over only when its best answer passes less than this
    share (0 to 1) of the visible tests; None: after ``rung_attempts`` whatever they pass."""
    max_iterations: int = default("max_iterations")
    """Attempts allowed (a repair counts as one; a cascade has ``rungs x rung_attempts``)."""
    checkpoint_interval: int = default("checkpoint_interval")
    """With ``advice="interval"``: a review after every this many attempts (when another
    attempt follows)."""
    feedback: Feedback = default("feedback")
    """What the worker is shown of a failure next time (:data:`FEEDBACK_CHOICES`); the
    levels that show the hidden tests go only with ``stop="oracle"``."""
    stop: Stop = default("stop")
    """When an experiment stops and which answer it submits (:data:`STOP_CHOICES`)."""
    mode: Mode = default("mode")
    """``iterative``: each attempt sees the previous code and its failure. ``zero_shot``:
    each attempt starts afresh (independent samples, for pass@k)."""
    temperature: float | None = default("temperature")
    """Sampling temperature of every call; None for the providers' defaults."""
    seed: int | None = default("seed")
    """Sampling seed; attempt ``i`` of epoch ``e`` uses ``seed + 1000 (e - 1) + i - 1``, so
    attempts and epochs differ."""
    max_tokens: int = default("max_tokens")
    """Upper bound on each reply."""
    reuse_spec: bool = default("reuse_spec")
    """Take a brief (a spec or a plan) written earlier for the same problem by the same
    model (free)."""
    advice: Advice = default("advice")
    """Kind ``advised``: when the reviewer is consulted (:data:`ADVICE_CHOICES`)."""
    max_advice: int | None = default("max_advice")
    """The most calls of the reviewer in one experiment, reviews and consultations alike;
    None for no limit."""
    reasoning: Any = default("reasoning")
    """How hard each role's model reasons (:data:`REASONING_CHOICES`): one level for every
    role (``"high"``), or per role (``{worker = "low", reviewer = "high"}``; the roles are
    :data:`REASONING_ROLES`); empty for the models' defaults. Kept as (role, level) pairs."""

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ConfigError(f"Strategy name {self.name!r} must be non-empty without '/'.")
        if self.kind not in KINDS:
            raise ConfigError(f"Unknown strategy kind {self.kind!r}; use one of {_list(KINDS)}.")
        object.__setattr__(self, "rungs", tuple(self.rungs))
        self._check_kind()
        for name in (
            "max_iterations",
            "checkpoint_interval",
            "rung_attempts",
            "repair_after",
            "samples",
            "tests_per_problem",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} of strategy {self.name!r} must be at least 1.")
        if self.max_iterations >= EPOCH_SEED_STRIDE:
            raise ConfigError(
                f"max_iterations must be below {EPOCH_SEED_STRIDE} (the seeds of one epoch "
                "must not reach the next's)."
            )
        if self.feedback not in FEEDBACK_CHOICES:
            raise ConfigError(
                f"Unknown feedback level {self.feedback!r}; use one of {_list(FEEDBACK_CHOICES)}."
            )
        if self.stop not in STOP_CHOICES:
            raise ConfigError(f"Unknown stop rule {self.stop!r}; use one of {_list(STOP_CHOICES)}.")
        if self.stop == "visible" and self.feedback in LEAKY_FEEDBACK:
            raise ConfigError(
                f"Strategy {self.name!r}: feedback {self.feedback!r} shows the worker the hidden "
                "tests, which a deployed system does not have, so it goes only with stop "
                "'oracle' (an upper bound: --stop oracle). With stop 'visible' use feedback "
                "'public' or 'auto'."
            )
        if self.mode not in MODES:
            raise ConfigError(f"Unknown mode {self.mode!r}; use one of {_list(MODES)}.")
        if self.max_tokens < 1:
            raise ConfigError("max_tokens (--max-tokens) must be at least 1.")
        object.__setattr__(self, "reasoning", _reasoning(self.name, self.reasoning))
        self._check_advice()
        if self.temperature is not None and not 0 <= self.temperature <= 2:
            raise ConfigError("temperature (--temperature) must be between 0 and 2.")

    def _check_advice(self) -> None:
        who = f"Strategy {self.name!r}"
        if self.advice not in ADVICE_CHOICES:
            raise ConfigError(
                f"{who}: unknown advice {self.advice!r}; use one of {_list(ADVICE_CHOICES)}."
            )
        if self.max_advice is not None and self.max_advice < 0:
            raise ConfigError(f"{who}: max_advice (--max-advice) must be 0 or more.")
        if self.advice != "interval" and (self.kind != "advised" or not self.reviewer):
            raise ConfigError(
                f"{who}: advice {self.advice!r} says when the reviewer is consulted: "
                "give kind 'advised' a reviewer (--reviewer MODEL)."
            )

    def reasoning_for(self, role: str) -> str | None:
        """The reasoning level of the model playing ``role`` (a row's role: attempt,
        repair, spec, plan, tests, checkpoint for a review, advice for a consultation);
        None for its default.

        Examples:
            >>> s = Strategy("s", worker="w:1", reasoning={"worker": "low", "reviewer": "high"})
            >>> s.reasoning_for("attempt"), s.reasoning_for("advice"), s.reasoning_for("spec")
            ('low', 'high', None)
        """
        wanted = _ROLE_OF.get(role, role)
        return next((level for r, level in self.reasoning if r in ("all", wanted)), None)

    def _check_kind(self) -> None:
        who = f"Strategy {self.name!r} (kind {self.kind})"
        if self.kind == "cascade":
            if len(self.rungs) < 2:
                raise ConfigError(f"{who} needs rungs: at least two workers, cheapest first.")
            if self.worker and self.worker != self.rungs[0]:
                raise ConfigError(f"{who}: worker must be the first rung, or left out.")
            object.__setattr__(self, "worker", self.rungs[0])
            object.__setattr__(self, "max_iterations", len(self.rungs) * self.rung_attempts)
        elif self.rungs:
            raise ConfigError(f"{who} takes no rungs; give kind = 'cascade' for a ladder.")
        if self.escalate_below is not None:
            if self.kind != "cascade":
                raise ConfigError(f"{who}: escalate_below goes with kind 'cascade' only.")
            if not 0 < self.escalate_below <= 1:
                raise ConfigError(
                    f"{who}: escalate_below is a share of the visible tests, above 0 and at "
                    f"most 1; got {self.escalate_below}."
                )
        if self.kind == "sample":
            if self.reviewer or self.repairer:
                raise ConfigError(
                    f"{who} draws independent answers: a reviewer or repairer has nothing to "
                    "act on; leave them out."
                )
            object.__setattr__(self, "max_iterations", self.samples)
            object.__setattr__(self, "mode", "zero_shot")
        if not self.worker:
            raise ConfigError(f"{who} needs a worker model.")
        if (self.kind == "architect") != (self.architect is not None):
            raise ConfigError(
                f"{who}: an architect model goes with kind 'architect', and only with it."
            )
        if self.kind == "architect" and self.spec_model:
            raise ConfigError(f"{who}: the architect's plan takes the place of a spec.")
        if (self.kind == "repair") != (self.repairer is not None):
            raise ConfigError(f"{who}: a repairer model goes with kind 'repair', and only with it.")
        if self.kind == "repair" and self.repair_after >= self.max_iterations:
            raise ConfigError(
                f"{who}: repair_after ({self.repair_after}) must be below max_iterations "
                f"({self.max_iterations}), or the repair never comes."
            )

    def models(self) -> list[str]:
        """Every model the strategy calls, each once."""
        named = [self.worker, *self.rungs, self.spec_model, self.architect, self.reviewer]
        return list(dict.fromkeys(m for m in [*named, self.repairer, self.tester] if m))

    def worker_at(self, iteration: int) -> tuple[str, int | None]:
        """The model writing attempt ``iteration``, and its rung (None outside a cascade)."""
        if self.kind != "cascade":
            return self.worker, None
        rung = min((iteration - 1) // self.rung_attempts, len(self.rungs) - 1)
        return self.rungs[rung], rung + 1

    def settings(self) -> dict[str, Any]:
        """The strategy's settings as the steps table's columns."""
        return {
            "strategy": self.name,
            "kind": self.kind,
            "worker_model": self.worker,
            "rungs": ",".join(self.rungs),
            "rung_attempts": self.rung_attempts if self.kind == "cascade" else None,
            "spec_model": self.spec_model or self.architect or "",
            "reviewer_model": self.reviewer or "",
            "repairer_model": self.repairer or "",
            "repair_after": self.repair_after if self.kind == "repair" else None,
            "samples": self.samples if self.kind == "sample" else None,
            "tester_model": self.tester or "",
            "tests_per_problem": self.tests_per_problem if self.tester else None,
            "escalate_below": self.escalate_below,
            "max_iterations": self.max_iterations,
            "checkpoint_interval": self.checkpoint_interval,
            "feedback_level": self.feedback,
            "stop": self.stop,
            "advice": self.advice if self.reviewer else "",
            "max_advice": self.max_advice,
            "reasoning": ",".join(f"{r}={level}" for r, level in self.reasoning),
            "mode": self.mode,
            "temperature": float("nan") if self.temperature is None else self.temperature,
            "seed": self.seed,
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, as plain data (what a run's manifest records)."""
        data = asdict(self)
        data["rungs"] = list(self.rungs)
        data["reasoning"] = dict(self.reasoning)
        return data


def _list(items: Iterable[str]) -> str:
    return ", ".join(items)
