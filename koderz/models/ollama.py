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
from koderz.models.advice import (
    FUNCTION_TOOL,
    Step,
    ToolCall,
    advise_loop,
    render_transcript,
)
from koderz.models.base import (
    Consult,
    GenerateConfig,
    http_error,
    kind_for_status,
    parse_retry_after,
)
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
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        config: GenerateConfig,
        *,
        consult: Consult | None = None,
    ) -> Completion:
        options: dict[str, Any] = {"num_predict": config.max_tokens}
        if config.temperature is not None:
            options["temperature"] = config.temperature
        if config.seed is not None:
            options["seed"] = config.seed
        request: dict[str, Any] = {
            "model": spec.api_model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "options": options,
            "stream": False,
        }
        if config.reasoning is not None:
            # Ollama's think: off, or a level (models that know levels take it, the others
            # think at their default); a model that cannot think is asked again without it.
            request["think"] = False if config.reasoning == "none" else config.reasoning
        notes: list[str] = []
        sdk = self._sdk(config.timeout_s)
        if config.advisor is None:
            step = self._step(sdk, spec, request, notes)
            return step.completion(spec, step.usage, notes=notes)
        assert consult is not None
        request["tools"] = [FUNCTION_TOOL]
        transcript = render_transcript(messages)
        said: list[str] = [""]

        def send(results: Sequence[tuple[ToolCall, str]]) -> Step:
            if results:
                calls = [
                    {"function": {"name": call.name, "arguments": call.arguments}}
                    for call, _ in results
                ]
                request["messages"] = [
                    *request["messages"],
                    {"role": "assistant", "content": said[0], "tool_calls": calls},
                    *({"role": "tool", "tool_name": c.name, "content": r} for c, r in results),
                ]
            step = self._step(sdk, spec, request, notes)
            said[0] = step.text
            return step

        step, usage, consultations = advise_loop(
            send, consult, transcript, max_uses=config.advisor.max_uses
        )
        return step.completion(spec, usage, consultations, notes)

    def _step(self, sdk: Any, spec: ModelSpec, request: dict[str, Any], notes: list[str]) -> Step:
        import ollama

        self._seen.retry_after = None
        try:
            response = sdk.chat(**request)
        except ollama.ResponseError as e:
            if "think" not in request or "think" not in str(e.error).lower():
                raise
            level = request.pop("think")
            notes.append(f"reasoning {level} ignored: {spec.name} cannot think ({e.error})")
            response = sdk.chat(**request)
        text = response.message.content or ""
        reason = response.done_reason or "stop"
        stop = _STOP.get(reason, reason)
        calls = tuple(
            ToolCall(f"call_{n}", call.function.name, dict(call.function.arguments or {}))
            for n, call in enumerate(response.message.tool_calls or [])
        )
        if not text and stop == "end" and not calls:
            stop = "empty"
        usage = Usage(
            input_tokens=response.prompt_eval_count or 0,
            output_tokens=response.eval_count or 0,
        )
        return Step(text, usage, stop, calls)

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
