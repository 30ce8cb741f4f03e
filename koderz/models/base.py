"""What every provider module shares: the client protocol, call settings, the retry policy,
and helpers for keys and HTTP fault classification."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from koderz.errors import MissingKeyError, ProviderError
from koderz.models.registry import ModelSpec
from koderz.records import Completion, Consultation, Message
from koderz.redaction import read_dotenv

__all__ = [
    "REASONING_LEVELS",
    "Advisor",
    "Consult",
    "GenerateConfig",
    "ProviderClient",
    "RetryPolicy",
    "api_key",
    "kind_for_status",
    "parse_retry_after",
    "translate_sdk_error",
]


REASONING_LEVELS = ("none", "low", "medium", "high")
"""How hard a model that can reason is asked to: OpenAI's ``reasoning_effort``, Anthropic's
extended thinking (a budget per level) or effort, Ollama's ``think``."""


Consult = Callable[[str, str], Consultation]
"""``consult(question, transcript)``: call the advisor of ``GenerateConfig.advisor``."""


@dataclass(frozen=True)
class Advisor:
    """The advisor tool's advisor: a model the worker may consult while it answers
    (Anthropic's advisor tool, or Koderz's ``advisor`` function tool for other providers).
    The engine gives it the strategy's reviewer, with advice ``on_request``."""

    model: str
    """The advisor model (any name :func:`~koderz.models.get_model` takes)."""
    max_uses: int | None = None
    """Consultations allowed in this call; None for no limit of Koderz's."""
    instructions: str = ""
    """The advisor's system prompt (the emulated tool's; Anthropic's advisor has its own)."""
    reasoning: str | None = None
    """The advisor's reasoning level (:data:`REASONING_LEVELS`), where Koderz calls it."""


@dataclass(frozen=True)
class GenerateConfig:
    """Settings of one model call."""

    max_tokens: int = 1024
    """Upper bound on generated tokens."""
    temperature: float | None = None
    """Sampling temperature; None leaves the provider's default."""
    seed: int | None = None
    """Sampling seed, where the provider supports one."""
    timeout_s: float = 120.0
    """Per HTTP attempt."""
    cache_prompt: bool = False
    """Ask the provider to cache the system prompt (Anthropic's ``cache_control``; OpenAI
    caches long prefixes by itself)."""
    reasoning: str | None = None
    """How hard to reason (:data:`REASONING_LEVELS`); None leaves the model's default. A model
    that cannot reason ignores it, with a note in the completion."""
    advisor: Advisor | None = None
    """An advisor the worker may consult while it answers: Anthropic's advisor tool for a
    Claude worker and advisor, an ``advisor`` function tool for other workers."""


@dataclass(frozen=True)
class RetryPolicy:
    """How failed calls are retried: exponential backoff with jitter, honouring Retry-After."""

    max_attempts: int = 6
    """Attempts in all, the first included."""
    initial_backoff_s: float = 1.0
    """Wait before the second attempt; doubles each time."""
    max_backoff_s: float = 60.0
    """Cap on one wait (a longer Retry-After is still honoured)."""
    jitter: float = 0.25
    """Each wait is scaled by a random factor in [1 - jitter, 1 + jitter]."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    """How to wait; tests record the waits instead."""

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        backoff = min(self.max_backoff_s, self.initial_backoff_s * 2 ** (attempt - 1))
        backoff *= random.uniform(1 - self.jitter, 1 + self.jitter)
        return float(max(backoff, retry_after_s or 0.0))


class ProviderClient(Protocol):
    """One provider endpoint. Implementations need no inheritance."""

    provider: str

    def generate(
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        config: GenerateConfig,
        *,
        consult: Consult | None = None,
    ) -> Completion:
        """One attempt at a call; ``attempts`` is filled in by the caller, and so is
        ``latency_s`` (the wall time) when the client leaves it 0. A client that measures the
        model's own time (the embedded model does, in its worker) returns it, and any wait
        for the model as ``wait_s``. With ``config.advisor``, ``consult`` calls the advisor
        for a client that emulates the advisor tool (:mod:`koderz.models.advice`)."""
        ...

    def translate_error(self, exc: Exception, spec: ModelSpec) -> ProviderError | None:
        """The SDK's exception as a :class:`ProviderError`, or None if it is not the SDK's."""
        ...


def kind_for_status(status: int) -> str:
    """Classify an HTTP status into a :attr:`ProviderError.kind`."""
    if status == 429:
        return "rate_limit"
    if status in (529, 503):
        return "overloaded"
    if status >= 500:
        return "server"
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 408:
        return "timeout"
    return "bad_request"


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds; an HTTP date is ignored)."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def api_key(provider: str, env_var: str) -> str:
    """The key from the environment, else from a ``.env`` file found from the working folder.

    Raises:
        MissingKeyError: Neither has it; the message names the variable to set.
    """
    value = os.environ.get(env_var) or read_dotenv().get(env_var)
    if not value:
        raise MissingKeyError(provider, env_var)
    return value


def translate_sdk_error(
    sdk: Any,
    exc: Exception,
    provider: str,
    spec: ModelSpec,
    *,
    refine: Callable[[Any, str, str], str] = lambda exc, kind, detail: kind,
) -> ProviderError | None:
    """Translate an exception of the ``anthropic`` or ``openai`` SDK (both generated by
    Stainless, with the same exception classes) into a :class:`ProviderError`.

    ``refine(exc, kind, detail)`` lets the provider reclassify a status error, e.g. a 400
    that means the prompt overflowed the context.
    """
    if isinstance(exc, sdk.APITimeoutError):
        return http_error(provider, spec, status=None, kind="timeout", detail=str(exc))
    if isinstance(exc, sdk.APIConnectionError):
        return http_error(provider, spec, status=None, kind="connection", detail=str(exc))
    if isinstance(exc, sdk.APIStatusError):
        detail = _error_message(exc)
        kind = refine(exc, kind_for_status(exc.status_code), detail)
        return http_error(
            provider,
            spec,
            status=exc.status_code,
            kind=kind,
            detail=detail,
            retry_after_s=parse_retry_after(exc.response.headers),
        )
    return None


def error_body(exc: Any) -> dict[str, Any]:
    """The ``error`` object of an SDK status error's JSON body (empty if there is none)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return err
    return {}


def _error_message(exc: Any) -> str:
    return str(error_body(exc).get("message") or getattr(exc, "message", exc))


def http_error(
    provider: str,
    spec: ModelSpec,
    *,
    status: int | None,
    kind: str,
    detail: str,
    retry_after_s: float | None = None,
) -> ProviderError:
    """A :class:`ProviderError` with a message that says what happened and what to do."""
    advice = {
        "auth": "check the API key (is it valid and for this provider?)",
        "not_found": f"check the model name {spec.api_model!r} and the endpoint",
        "rate_limit": "slow down (fewer --workers) or raise the account's rate limit",
        "overloaded": "the provider is overloaded; try again later",
        "server": "the provider failed; try again later",
        "timeout": "the call timed out; raise the timeout or check the server",
        "connection": "could not reach the endpoint; is the server running and the URL right?",
    }.get(kind, "see the provider's message")
    where = f"HTTP {status}" if status else kind.replace("_", " ")
    return ProviderError(
        f"{provider} call to {spec.name!r} failed ({where}): {detail.strip()[:300]} - {advice}.",
        provider=provider,
        model=spec.name,
        kind=kind,
        status=status,
        retry_after_s=retry_after_s,
    )
