"""Ollama's chat API through the ``ollama`` SDK.

The endpoint follows the SDK's own ``OLLAMA_HOST``; no key. The SDK retries nothing by
itself and keeps no response headers on its errors, so an httpx response hook remembers the
last ``Retry-After`` per thread for the retry policy.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from koderz.errors import ProviderError
from koderz.models.base import GenerateConfig, http_error, kind_for_status, parse_retry_after
from koderz.models.registry import ModelSpec
from koderz.records import Completion, Message, Usage

PROVIDER = "ollama"
DEFAULT_HOST = "http://127.0.0.1:11434"  # the SDK's own default

_STOP = {"stop": "end", "length": "max_tokens"}


def client_key(spec: ModelSpec) -> tuple[str, ...]:
    return (PROVIDER, os.environ.get("OLLAMA_HOST", ""))


def make_client(spec: ModelSpec) -> OllamaClient:
    return OllamaClient()


class OllamaClient:
    provider = PROVIDER

    def __init__(self) -> None:
        self._seen = threading.local()
        self._lock = threading.Lock()
        # The SDK takes its timeout per client, not per call: one SDK client per timeout.
        self._sdks: dict[float, Any] = {}

    def _sdk(self, timeout_s: float) -> Any:
        import ollama

        with self._lock:
            sdk = self._sdks.get(timeout_s)
            if sdk is None:
                sdk = self._sdks[timeout_s] = ollama.Client(
                    timeout=timeout_s, event_hooks={"response": [self._remember]}
                )
        return sdk

    def _remember(self, response: Any) -> None:
        self._seen.retry_after = parse_retry_after(response.headers)

    def generate(
        self, spec: ModelSpec, messages: Sequence[Message], config: GenerateConfig
    ) -> Completion:
        options: dict[str, Any] = {"num_predict": config.max_tokens}
        if config.temperature is not None:
            options["temperature"] = config.temperature
        if config.seed is not None:
            options["seed"] = config.seed
        self._seen.retry_after = None
        response = self._sdk(config.timeout_s).chat(
            model=spec.api_model,
            messages=[{"role": m.role, "content": m.content} for m in messages],
            options=options,
            stream=False,
        )
        text = response.message.content or ""
        reason = response.done_reason or "stop"
        stop = _STOP.get(reason, reason)
        if not text and stop == "end":
            stop = "empty"
        usage = Usage(
            input_tokens=response.prompt_eval_count or 0,
            output_tokens=response.eval_count or 0,
        )
        return Completion(text, usage, 0.0, spec.name, PROVIDER, stop)

    def translate_error(self, exc: Exception, spec: ModelSpec) -> ProviderError | None:
        import httpx
        import ollama

        if isinstance(exc, ollama.ResponseError):
            status = exc.status_code if exc.status_code > 0 else None
            kind = kind_for_status(status) if status else "other"
            detail = str(exc.error)
            if kind == "not_found":
                detail += f" (pull it first: ollama pull {spec.api_model})"
            if "context" in detail.lower() and "exceed" in detail.lower():
                kind = "context_overflow"
            return http_error(
                PROVIDER,
                spec,
                status=status,
                kind=kind,
                detail=detail,
                retry_after_s=getattr(self._seen, "retry_after", None),
            )
        if isinstance(exc, httpx.TimeoutException):
            return http_error(PROVIDER, spec, status=None, kind="timeout", detail=str(exc))
        if isinstance(exc, ConnectionError | httpx.TransportError):
            host = os.environ.get("OLLAMA_HOST", DEFAULT_HOST)
            return http_error(
                PROVIDER,
                spec,
                status=None,
                kind="connection",
                detail=f"no Ollama server answered at {host} (start one with `ollama serve`, "
                "or set OLLAMA_HOST)",
            )
        return None
