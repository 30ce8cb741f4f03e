"""OpenAI's Chat Completions API through the ``openai`` SDK, also for OpenAI-compatible local
servers (vLLM, llama.cpp server, LM Studio).

The endpoint follows the SDK's own ``OPENAI_BASE_URL`` unless the model has a fixed
``base_url`` (``NAME@URL``); the key is ``OPENAI_API_KEY``, which a local server does not
need. OpenAI counts cached tokens *inside* ``prompt_tokens``, as Koderz does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from koderz.errors import ProviderError
from koderz.models.base import GenerateConfig, api_key, error_body, translate_sdk_error
from koderz.models.registry import ModelSpec
from koderz.records import Completion, Message, Usage

PROVIDER = "openai"
KEY_VAR = "OPENAI_API_KEY"

_STOP = {
    "stop": "end",
    "length": "max_tokens",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
}
# Reasoning models accept neither ``max_tokens`` nor a temperature other than the default.
_REASONING_PREFIXES = ("gpt-5", "o1", "o3", "o4")


def _key(spec: ModelSpec) -> str:
    if spec.base_url is not None:
        # A local server usually ignores the key, but the SDK insists on one.
        return os.environ.get(KEY_VAR) or "not-needed"
    return api_key(PROVIDER, KEY_VAR)


def client_key(spec: ModelSpec) -> tuple[str, ...]:
    return (PROVIDER, spec.base_url or os.environ.get("OPENAI_BASE_URL", ""), _key(spec))


def make_client(spec: ModelSpec) -> OpenAIClient:
    return OpenAIClient(_key(spec), spec.base_url)


class OpenAIClient:
    provider = PROVIDER

    def __init__(self, key: str, base_url: str | None) -> None:
        import openai

        # max_retries=0: Koderz's own policy retries, uniformly across providers.
        self._sdk = openai.OpenAI(api_key=key, base_url=base_url, max_retries=0)
        self._compat = base_url is not None

    def generate(
        self, spec: ModelSpec, messages: Sequence[Message], config: GenerateConfig
    ) -> Completion:
        reasoning = not self._compat and spec.api_model.startswith(_REASONING_PREFIXES)
        kwargs: dict[str, Any] = {
            "model": spec.api_model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "timeout": config.timeout_s,
        }
        # Compatible servers know max_tokens; OpenAI's own API prefers the newer name.
        kwargs["max_tokens" if self._compat else "max_completion_tokens"] = config.max_tokens
        if config.temperature is not None and not reasoning:
            kwargs["temperature"] = config.temperature
        if config.seed is not None:
            kwargs["seed"] = config.seed
        response = self._sdk.chat.completions.create(**kwargs)
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content or "") if choice else ""
        stop = (
            _STOP.get(str(choice.finish_reason), str(choice.finish_reason)) if choice else "empty"
        )
        if choice is not None and getattr(choice.message, "refusal", None):
            stop = "refusal"
        elif not text and stop == "end":
            stop = "empty"
        u = response.usage
        cached = 0
        if u is not None and u.prompt_tokens_details is not None:
            cached = u.prompt_tokens_details.cached_tokens or 0
        usage = Usage(
            input_tokens=(u.prompt_tokens or 0) if u else 0,
            output_tokens=(u.completion_tokens or 0) if u else 0,
            cache_read_tokens=cached,
        )
        return Completion(text, usage, 0.0, spec.name, PROVIDER, stop)

    def translate_error(self, exc: Exception, spec: ModelSpec) -> ProviderError | None:
        import openai

        return translate_sdk_error(openai, exc, PROVIDER, spec, refine=_refine)


def _refine(exc: Any, kind: str, detail: str) -> str:
    code = getattr(exc, "code", None) or error_body(exc).get("code")
    if code == "context_length_exceeded" or (
        kind == "bad_request" and "maximum context length" in detail.lower()
    ):
        return "context_overflow"
    return kind
