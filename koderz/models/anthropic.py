"""Anthropic's Messages API through the ``anthropic`` SDK.

The endpoint follows the SDK's own ``ANTHROPIC_BASE_URL``; the key is ``ANTHROPIC_API_KEY``.
Anthropic reports cache reads and writes *beside* ``input_tokens``; Koderz's
:class:`~koderz.records.Usage` counts them *in* it, so they are added here.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from typing import Any

from koderz.errors import ProviderError
from koderz.models.base import GenerateConfig, api_key, error_body, translate_sdk_error
from koderz.models.registry import ModelSpec
from koderz.records import Completion, Message, Usage

PROVIDER = "anthropic"
KEY_VAR = "ANTHROPIC_API_KEY"

_STOP = {
    "end_turn": "end",
    "stop_sequence": "end",
    "max_tokens": "max_tokens",
    "refusal": "refusal",
    "model_context_window_exceeded": "context_overflow",
}


def client_key(spec: ModelSpec) -> tuple[str, ...]:
    return (PROVIDER, os.environ.get("ANTHROPIC_BASE_URL", ""), api_key(PROVIDER, KEY_VAR))


def make_client(spec: ModelSpec) -> AnthropicClient:
    return AnthropicClient(api_key(PROVIDER, KEY_VAR))


class AnthropicClient:
    provider = PROVIDER

    def __init__(self, key: str) -> None:
        import anthropic

        # max_retries=0: Koderz's own policy retries, uniformly across providers.
        self._sdk = anthropic.Anthropic(api_key=key, max_retries=0)
        # Recent SDKs dropped sampling arguments from create(); the API still takes them
        # for the models that support them, so they then go in the request body.
        params = inspect.signature(self._sdk.messages.create).parameters
        self._sdk_has_temperature = "temperature" in params

    def generate(
        self, spec: ModelSpec, messages: Sequence[Message], config: GenerateConfig
    ) -> Completion:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        kwargs: dict[str, Any] = {
            "model": spec.api_model,
            "max_tokens": config.max_tokens,
            "messages": [
                {"role": m.role, "content": m.content} for m in messages if m.role != "system"
            ],
            "timeout": config.timeout_s,
        }
        if system:
            block: dict[str, Any] = {"type": "text", "text": system}
            if config.cache_prompt:
                block["cache_control"] = {"type": "ephemeral"}
            kwargs["system"] = [block]
        if config.temperature is not None:
            if self._sdk_has_temperature:
                kwargs["temperature"] = config.temperature
            else:
                kwargs["extra_body"] = {"temperature": config.temperature}
        response = self._sdk.messages.create(**kwargs)
        text = "".join(
            getattr(b, "text", "") for b in response.content if getattr(b, "type", "") == "text"
        )
        u = response.usage
        read = getattr(u, "cache_read_input_tokens", None) or 0
        write = getattr(u, "cache_creation_input_tokens", None) or 0
        usage = Usage(
            input_tokens=(u.input_tokens or 0) + read + write,
            output_tokens=u.output_tokens or 0,
            cache_read_tokens=read,
            cache_write_tokens=write,
        )
        stop = _STOP.get(str(response.stop_reason), str(response.stop_reason))
        if not text and stop == "end":
            stop = "empty"
        return Completion(text, usage, 0.0, spec.name, PROVIDER, stop)

    def translate_error(self, exc: Exception, spec: ModelSpec) -> ProviderError | None:
        import anthropic

        return translate_sdk_error(anthropic, exc, PROVIDER, spec, refine=_refine)


def _refine(exc: Any, kind: str, detail: str) -> str:
    if error_body(exc).get("type") == "overloaded_error":
        return "overloaded"
    if kind == "bad_request" and "prompt is too long" in detail.lower():
        return "context_overflow"
    return kind
