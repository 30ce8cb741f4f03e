"""The single door to models: :func:`get_model`.

Each provider lives in its own module (``anthropic``, ``openai``, ``ollama``, ``llamacpp``)
and imports its SDK lazily, so optional SDKs stay optional. SDK retries are switched off: the
one :class:`~koderz.models.base.RetryPolicy` here retries every provider alike (rate limits
honour Retry-After; 5xx, overload, timeouts and dropped connections back off with jitter), and
counts the attempts.

One client per provider and endpoint is created and reused, across models and threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from koderz.errors import ProviderError
from koderz.models.advice import tools_refused
from koderz.models.base import Advisor, Consult, GenerateConfig, ProviderClient, RetryPolicy
from koderz.models.registry import ModelSpec, resolve_model
from koderz.records import Completion, Consultation, Message, Usage

__all__ = [
    "Advisor",
    "GenerateConfig",
    "Model",
    "ProviderClient",
    "RetryPolicy",
    "check_model",
    "client_for",
    "get_model",
    "reset_clients",
]

_clients: dict[tuple[str, ...], ProviderClient] = {}
_clients_lock = threading.Lock()


def client_for(spec: ModelSpec) -> ProviderClient:
    """The (shared) client for ``spec``'s provider and endpoint, made on first use.

    Making it checks what the provider needs before any call: its key (``MissingKeyError``
    names the variable) or, for an in-process GGUF model, that the file loads.
    """
    # Imported here so that a provider's SDK is imported only when it is used.
    if spec.provider == "anthropic":
        from koderz.models import anthropic as module
    elif spec.provider == "openai":
        from koderz.models import openai as module  # type: ignore[no-redef]
    elif spec.provider == "ollama":
        from koderz.models import ollama as module  # type: ignore[no-redef]
    else:
        from koderz.models import llamacpp as module  # type: ignore[no-redef]
    key = module.client_key(spec)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = module.make_client(spec)
    return client


def reset_clients() -> None:
    """Forget cached clients, e.g. after changing ``OPENAI_BASE_URL`` in a notebook.

    Clients that hold a process (an embedded model's worker) end it.
    """
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        close = getattr(client, "close", None)
        if close is not None:
            close()


class Model:
    """A model ready to call. Get one with :func:`get_model`.

    Attributes:
        spec: What the registry knows of it (provider, tier, price reference).
        retry: The retry policy of its calls.
    """

    def __init__(self, spec: ModelSpec, *, retry: RetryPolicy | None = None) -> None:
        self.spec = spec
        self.retry = retry or RetryPolicy()

    @property
    def name(self) -> str:
        """Koderz's name for the model."""
        return self.spec.name

    @property
    def provider(self) -> str:
        """The provider that serves it."""
        return self.spec.provider

    @property
    def tier(self) -> str:
        """``local``, ``small_frontier`` or ``frontier``."""
        return self.spec.tier

    def __repr__(self) -> str:
        return f"<Model {self.name} ({self.provider}, {self.tier})>"

    def complete(
        self,
        messages: Sequence[Message] | str,
        *,
        system: str | None = None,
        config: GenerateConfig | None = None,
        **settings: Any,
    ) -> Completion:
        """Send ``messages`` (or one user message) and return the completion.

        Args:
            messages: The conversation, or a string for a single user message.
            system: A system prompt, put before ``messages``.
            config: Call settings; keyword ``settings`` (``max_tokens``, ``temperature``,
                ``seed``, ``timeout_s``, ``cache_prompt``) override single fields.

        Returns:
            The completion. An empty, refused or context-overflowing answer is a completion
            whose ``stop_reason`` says so, not an exception.

        Raises:
            ProviderError: The call still failed after the retry policy's attempts.
            MissingKeyError: The provider's key is not set.
        """
        msgs = [Message("user", messages)] if isinstance(messages, str) else list(messages)
        if system is not None:
            msgs.insert(0, Message("system", system))
        cfg = replace(config or GenerateConfig(), **settings)
        client = client_for(self.spec)
        consult = _consultant(cfg) if cfg.advisor is not None else None
        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            try:
                result = client.generate(self.spec, msgs, cfg, consult=consult)
            except Exception as exc:
                err = (
                    exc
                    if isinstance(exc, ProviderError)
                    else client.translate_error(exc, self.spec)
                )
                if err is None:
                    raise
                err.attempts = attempt
                if cfg.advisor is not None and _refuses_tools(err):
                    raise tools_refused(err, self.name) from exc
                if err.kind == "context_overflow":
                    return Completion(
                        text="",
                        usage=Usage(),
                        latency_s=time.perf_counter() - started,
                        model=self.name,
                        provider=self.provider,
                        stop_reason="context_overflow",
                        attempts=attempt,
                    )
                if not err.retryable or attempt >= self.retry.max_attempts:
                    if err is exc:
                        raise
                    raise err from exc
                self.retry.sleep(self.retry.delay(attempt, err.retry_after_s))
                continue
            # A client that timed the model itself (latency_s > 0) knows better than the
            # wall clock here, which also counts waiting for the model.
            latency = result.latency_s or time.perf_counter() - started
            return replace(result, latency_s=latency, attempts=attempt)


def _refuses_tools(err: ProviderError) -> bool:
    """Whether a failed call is a server refusing the advisor tool (tools unsupported)."""
    return err.kind == "bad_request" and "tool" in str(err).lower()


ADVISOR_ASK = (
    "A programmer working on the task below asks for your advice:\n{question}\n\n"
    "The conversation so far:\n{transcript}"
)


def _consultant(config: GenerateConfig) -> Consult:
    """The call to the advisor that an emulated advisor tool makes for the worker."""
    advisor = config.advisor
    assert advisor is not None
    model = get_model(advisor.model)
    settings = GenerateConfig(
        max_tokens=config.max_tokens, timeout_s=config.timeout_s, reasoning=advisor.reasoning
    )

    def consult(question: str, transcript: str) -> Consultation:
        messages = [Message("user", ADVISOR_ASK.format(question=question, transcript=transcript))]
        if advisor.instructions:
            messages.insert(0, Message("system", advisor.instructions))
        try:
            got = model.complete(messages, config=settings)
        except ProviderError as e:
            # The worker goes on without this advice; the advisor's failure is said to it.
            return Consultation(
                model.name, Usage(), f"(the advisor could not answer: {e})", question
            )
        return Consultation(model.name, got.usage, got.text.strip(), question, got.latency_s)

    return consult


def get_model(name: str, *, retry: RetryPolicy | None = None) -> Model:
    """The model of that name, ready to call.

    Args:
        name: A registered name (``koderz models`` lists them), an Ollama name with a ``:``,
            ``NAME@URL`` for an OpenAI-compatible server, a ``.gguf`` path, or ``smollm2``.
        retry: How failed calls are retried; the default retries 6 times with backoff.

    Raises:
        UnknownModelError: No such model; the message lists the closest names.

    Examples:
        >>> get_model("gpt-4o-mini")
        <Model gpt-4o-mini (openai, small_frontier)>
    """
    return Model(resolve_model(name), retry=retry)


CHECK_PROMPT = "Reply with the single word: ok"


def check_model(name: str, *, timeout_s: float = 60.0) -> dict[str, Any]:
    """Send ``name`` a tiny prompt; report latency, tokens and cost, or the error in words.

    Never raises for a failing model: the failure is the ``error`` field.
    """
    from koderz.errors import KoderzError
    from koderz.models.lifecycle import deprecation
    from koderz.models.prices import price_call

    row: dict[str, Any] = {
        "model": name,
        "ok": False,
        "provider": None,
        "tier": None,
        "latency_s": None,
        "input_tokens": None,
        "output_tokens": None,
        "cache_read_tokens": None,
        "cost_usd": None,
        "price_source": None,
        "output_tokens_per_s": None,
        "reply": None,
        "error": None,
        "deprecated": None,
    }
    try:
        model = get_model(name, retry=RetryPolicy(max_attempts=2))
        row.update(
            provider=model.provider, tier=model.tier, deprecated=deprecation(model.spec) or None
        )
        c = model.complete(CHECK_PROMPT, max_tokens=16, temperature=0.0, timeout_s=timeout_s)
        cost = price_call(model.spec, c.usage, latency_s=c.latency_s)
    except KoderzError as e:
        row["error"] = str(e)
        return row
    row.update(
        ok=True,
        latency_s=round(c.latency_s, 4),
        input_tokens=c.usage.input_tokens,
        output_tokens=c.usage.output_tokens,
        cache_read_tokens=c.usage.cache_read_tokens,
        cost_usd=cost.usd + cost.hardware_usd,
        price_source=cost.source,
        output_tokens_per_s=(c.usage.output_tokens / c.latency_s if c.latency_s > 0 else None),
        reply=c.text.strip()[:80],
    )
    return row
