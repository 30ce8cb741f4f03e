"""OpenAI's Chat Completions API through the ``openai`` SDK, also for OpenAI-compatible local
servers (vLLM, llama.cpp server, LM Studio).

The endpoint follows the SDK's own ``OPENAI_BASE_URL`` unless the model has a fixed
``base_url`` (``NAME@URL``); the key is ``OPENAI_API_KEY``, which a local server does not
need. OpenAI counts cached tokens *inside* ``prompt_tokens``, as Koderz does.
"""

from __future__ import annotations

import json
import os
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
from koderz.models.base import Consult, GenerateConfig, api_key, error_body, translate_sdk_error
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
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        config: GenerateConfig,
        *,
        consult: Consult | None = None,
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
        notes: list[str] = []
        if config.reasoning is not None:
            if reasoning or self._compat:
                # A compatible server's model may reason or not; one that refuses the
                # setting is asked again without it (see _create).
                kwargs["reasoning_effort"] = config.reasoning
            else:
                notes.append(f"reasoning {config.reasoning} ignored: {spec.name} cannot reason")
        if config.advisor is None:
            step = self._step(spec, kwargs, notes)
            return step.completion(spec, step.usage, notes=notes)
        assert consult is not None
        kwargs["tools"] = [FUNCTION_TOOL]
        transcript = render_transcript(messages)
        sent = _Said()

        def send(results: Sequence[tuple[ToolCall, str]]) -> Step:
            if results:
                calls = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                    for call, _ in results
                ]
                kwargs["messages"] = [
                    *kwargs["messages"],
                    {"role": "assistant", "content": sent.text or None, "tool_calls": calls},
                    *({"role": "tool", "tool_call_id": c.id, "content": r} for c, r in results),
                ]
            step = self._step(spec, kwargs, notes)
            sent.text = step.text
            return step

        step, usage, consultations = advise_loop(
            send, consult, transcript, max_uses=config.advisor.max_uses
        )
        return step.completion(spec, usage, consultations, notes)

    def _step(self, spec: ModelSpec, kwargs: dict[str, Any], notes: list[str]) -> Step:
        """One request; a compatible server that refuses the reasoning setting is asked
        again without it (a model that cannot reason ignores the setting, with a note)."""
        import openai

        try:
            response = self._sdk.chat.completions.create(**kwargs)
        except openai.BadRequestError as e:
            if "reasoning_effort" not in kwargs or "reasoning" not in str(e).lower():
                raise
            level = kwargs.pop("reasoning_effort")
            notes.append(f"reasoning {level} ignored: {spec.name}'s server refused it")
            response = self._sdk.chat.completions.create(**kwargs)
        return _parse(response)

    def translate_error(self, exc: Exception, spec: ModelSpec) -> ProviderError | None:
        import openai

        return translate_sdk_error(openai, exc, PROVIDER, spec, refine=_refine)


class _Said:
    """What the worker said before its tool calls (sent back with them)."""

    text = ""


def _parse(response: Any) -> Step:
    """A chat completion as one step of the loop: text, usage, stop reason, tool calls."""
    choice = response.choices[0] if response.choices else None
    text = (choice.message.content or "") if choice else ""
    stop = _STOP.get(str(choice.finish_reason), str(choice.finish_reason)) if choice else "empty"
    if choice is not None and getattr(choice.message, "refusal", None):
        stop = "refusal"
    elif not text and stop == "end":
        stop = "empty"
    calls = []
    for n, call in enumerate((choice.message.tool_calls or []) if choice else []):
        function = getattr(call, "function", None)
        if function is None:
            continue
        try:
            arguments = json.loads(function.arguments or "{}")
        except ValueError:
            arguments = {"question": function.arguments}
        calls.append(
            ToolCall(
                call.id or f"call_{n}",
                function.name,
                arguments if isinstance(arguments, dict) else {},
            )
        )
    u = response.usage
    cached = reasoned = 0
    if u is not None and u.prompt_tokens_details is not None:
        cached = u.prompt_tokens_details.cached_tokens or 0
    if u is not None and getattr(u, "completion_tokens_details", None) is not None:
        reasoned = u.completion_tokens_details.reasoning_tokens or 0
    output = (u.completion_tokens or 0) if u else 0
    usage = Usage(
        input_tokens=(u.prompt_tokens or 0) if u else 0,
        output_tokens=output,
        cache_read_tokens=cached,
        reasoning_tokens=min(reasoned, output),
    )
    return Step(text, usage, stop, tuple(calls))


def _refine(exc: Any, kind: str, detail: str) -> str:
    code = getattr(exc, "code", None) or error_body(exc).get("code")
    if code == "context_length_exceeded" or (
        kind == "bad_request" and "maximum context length" in detail.lower()
    ):
        return "context_overflow"
    return kind
