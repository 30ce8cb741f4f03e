"""Anthropic's Messages API through the ``anthropic`` SDK.

The endpoint follows the SDK's own ``ANTHROPIC_BASE_URL``; the key is ``ANTHROPIC_API_KEY``.
Anthropic reports cache reads and writes *beside* ``input_tokens``; Koderz's
:class:`~koderz.records.Usage` counts them *in* it, so they are added here.

Two features of the API are used when a strategy asks for them:

- **Reasoning**: extended thinking with a token budget per level on the models that take one
  (Haiku 4.5, the 4.5 generation and older), adaptive thinking with an effort level on the
  newer ones (:data:`THINKING`); thinking tokens are output tokens, and the usage says how
  many (``reasoning_tokens``).
- **The advisor tool** (beta ``advisor-tool-2026-03-01``): a Claude executor consults a Claude
  advisor in the middle of its answer; the API reports each model's tokens in
  ``usage.iterations``, and each advisor sub-inference becomes a
  :class:`~koderz.records.Consultation` priced at the advisor's rate. Only the pairs of
  :data:`ADVISORS` are accepted (:func:`advisor_pair_problem`).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from typing import Any

from koderz.errors import ProviderError
from koderz.models.base import (
    Consult,
    GenerateConfig,
    api_key,
    error_body,
    translate_sdk_error,
)
from koderz.models.registry import ModelSpec, known_models
from koderz.records import Completion, Consultation, Message, Usage

PROVIDER = "anthropic"
KEY_VAR = "ANTHROPIC_API_KEY"
ADVISOR_BETA = "advisor-tool-2026-03-01"
ADVISOR_TOOL = "advisor_20260301"

_STOP = {
    "end_turn": "end",
    "stop_sequence": "end",
    "max_tokens": "max_tokens",
    "refusal": "refusal",
    "model_context_window_exceeded": "context_overflow",
}

THINKING_BUDGET = {"low": 1024, "medium": 4096, "high": 16384}
"""Extended thinking's ``budget_tokens`` per reasoning level (1024 is the API's least)."""

_BUDGET: tuple[str, ...] = (
    "claude-haiku-4-5",
    "claude-sonnet-4-5",
    "claude-opus-4-5",
    "claude-opus-4-1",
)
_BUDGET += ("claude-opus-4", "claude-sonnet-4")
_ADAPTIVE: tuple[str, ...] = (
    "claude-sonnet-4-6",
    "claude-opus-4-6",
    "claude-opus-4-7",
    "claude-opus-4-8",
)
_ADAPTIVE += ("claude-opus-5", "claude-sonnet-5", "claude-fable-5", "claude-mythos-5")
_ADAPTIVE += ("claude-fable-5-1", "claude-mythos-5-1", "claude-opus-5-5", "claude-sonnet-5-5")
_ADAPTIVE += ("claude-haiku-5-5", "claude-fable-5-2", "claude-mythos-5-2")
THINKING: dict[str, str] = {
    **dict.fromkeys(_BUDGET, "budget"),
    **dict.fromkeys(_ADAPTIVE, "adaptive"),
}
"""How each model reasons: ``budget`` (extended thinking with ``budget_tokens``) or
``adaptive`` (adaptive thinking, with ``output_config.effort``); a model not here cannot."""
_ALWAYS_THINKS = ("claude-opus-5-5", "claude-fable-5", "claude-fable-5-1", "claude-fable-5-2")

_TOP = ("claude-mythos-5-1", "claude-fable-5-1", "claude-mythos-5", "claude-fable-5")
_TOP_AND_OPUS_5 = (*_TOP, "claude-opus-5")
_FROM_OPUS_4_7 = (*_TOP_AND_OPUS_5, "claude-opus-4-8", "claude-opus-4-7")
_FOR_SMALL = (*_FROM_OPUS_4_7, "claude-opus-4-6", "claude-sonnet-5", "claude-sonnet-4-6")
ADVISORS: dict[str, tuple[str, ...]] = {
    "claude-haiku-4-5": _FOR_SMALL,
    "claude-sonnet-4-6": _FOR_SMALL,
    "claude-sonnet-5": (*_FROM_OPUS_4_7, "claude-sonnet-5"),
    "claude-opus-4-6": (*_FROM_OPUS_4_7, "claude-opus-4-6", "claude-sonnet-5"),
    "claude-opus-4-7": _FROM_OPUS_4_7,
    "claude-opus-4-8": _FROM_OPUS_4_7,
    "claude-opus-5": _TOP_AND_OPUS_5,
    "claude-fable-5": _TOP_AND_OPUS_5,
    "claude-mythos-5": _TOP_AND_OPUS_5,
    "claude-fable-5-1": ("claude-mythos-5-1", "claude-fable-5-1"),
    "claude-mythos-5-1": ("claude-mythos-5-1", "claude-fable-5-1"),
}
"""Executor -> the advisors Anthropic's advisor tool accepts for it (its documentation's
table: the advisor must be Sonnet 4.6 or more capable, and at least as capable as the
executor); any other pair is refused with HTTP 400."""


def advisor_pair_problem(executor: str, advisor: str) -> str | None:
    """Why Anthropic's advisor tool would refuse this pair, naming the valid ones; None if
    it takes it.

    Examples:
        >>> advisor_pair_problem("claude-haiku-4-5", "claude-opus-4-8") is None
        True
        >>> advisor_pair_problem("claude-opus-4-7", "claude-sonnet-4-6")[:60]
        "Anthropic's advisor tool does not take claude-sonnet-4-6 as "
    """
    valid = ADVISORS.get(executor)
    if valid is None:
        return (
            f"Anthropic's advisor tool does not document {executor} as an executor; the "
            f"executors it takes are {', '.join(ADVISORS)}. Choose one of them as the worker, "
            "or use --advice on_failure."
        )
    if advisor not in valid:
        return (
            f"Anthropic's advisor tool does not take {advisor} as the advisor of {executor}: "
            f"the advisor must be at least as capable; for {executor} it takes "
            f"{', '.join(valid)}. Or use --advice on_failure."
        )
    return None


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
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        config: GenerateConfig,
        *,
        consult: Consult | None = None,
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
        notes = self._reasoning(spec, config, kwargs)
        if config.temperature is not None and "thinking" not in kwargs:
            if self._sdk_has_temperature:
                kwargs["temperature"] = config.temperature
            else:
                kwargs["extra_body"] = {"temperature": config.temperature}
        elif config.temperature is not None:
            notes.append("temperature left out: the API takes none with thinking")
        if config.advisor is not None:
            return self._advised(spec, config, kwargs, notes)
        response = self._sdk.messages.create(**kwargs)
        return self._completion(spec, response, self._usage(response.usage), (), notes)

    def _reasoning(
        self, spec: ModelSpec, config: GenerateConfig, kwargs: dict[str, Any]
    ) -> list[str]:
        """Put the reasoning level into ``kwargs``; returns notes on what was left out."""
        level = config.reasoning
        if level is None:
            return []
        how = THINKING.get(spec.api_model)
        if how is None:
            return [f"reasoning {level} ignored: {spec.name} cannot reason"]
        if level == "none":
            if spec.api_model in _ALWAYS_THINKS:
                return [f"reasoning none ignored: {spec.name} always thinks"]
            return []  # no thinking parameter: no thinking
        if how == "budget":
            budget = THINKING_BUDGET[level]
            # Thinking counts toward max_tokens: the answer keeps its own allowance.
            kwargs["max_tokens"] = config.max_tokens + budget
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": budget}
        else:
            kwargs["thinking"] = {"type": "adaptive"}
            kwargs["output_config"] = {"effort": level}
        return []

    def _advised(
        self, spec: ModelSpec, config: GenerateConfig, kwargs: dict[str, Any], notes: list[str]
    ) -> Completion:
        """A call with the advisor tool; a paused turn (the advisor still working) is sent
        again with what came back, as the API asks."""
        advisor = config.advisor
        assert advisor is not None
        tool: dict[str, Any] = {
            "type": ADVISOR_TOOL,
            "name": "advisor",
            "model": _api(advisor.model),
        }
        if advisor.max_uses is not None:
            tool["max_uses"] = advisor.max_uses
        kwargs = {**kwargs, "tools": [tool], "betas": [ADVISOR_BETA]}
        usage, consultations = Usage(), []
        for _ in range(5):
            response = self._sdk.beta.messages.create(**kwargs)
            step_usage, found = self._iterations(response)
            usage = usage + step_usage
            consultations += found
            if str(response.stop_reason) != "pause_turn":
                break
            kwargs["messages"] = [
                *kwargs["messages"],
                {"role": "assistant", "content": [b.model_dump() for b in response.content]},
            ]
        return self._completion(spec, response, usage, tuple(consultations), notes)

    def _iterations(self, response: Any) -> tuple[Usage, list[Consultation]]:
        """The executor's own usage and the advisor's consultations, from
        ``usage.iterations`` (the top-level counts are the executor's alone, and where the
        API gives no iterations they are all there is)."""
        iterations = getattr(response.usage, "iterations", None) or []
        if not iterations:
            return self._usage(response.usage), []
        advice = iter(_advice_texts(response.content))
        executor = Usage()
        found: list[Consultation] = []
        for it in iterations:
            kind = getattr(it, "type", "message")
            usage = self._usage(it)
            if kind == "advisor_message":
                name = _koderz_name(str(getattr(it, "model", "") or ""))
                found.append(Consultation(name, usage, next(advice, "")))
            else:  # the executor's sampling (and any step the API adds of its own)
                executor = executor + usage
        details = getattr(response.usage, "output_tokens_details", None)
        thinking = getattr(details, "thinking_tokens", None) or 0
        if thinking:
            executor = Usage(
                executor.input_tokens,
                executor.output_tokens,
                executor.cache_read_tokens,
                executor.cache_write_tokens,
                min(thinking, executor.output_tokens),
            )
        return executor, found

    @staticmethod
    def _usage(u: Any) -> Usage:
        read = getattr(u, "cache_read_input_tokens", None) or 0
        write = getattr(u, "cache_creation_input_tokens", None) or 0
        output = getattr(u, "output_tokens", None) or 0
        details = getattr(u, "output_tokens_details", None)
        thinking = getattr(details, "thinking_tokens", None) or 0
        return Usage(
            input_tokens=(getattr(u, "input_tokens", None) or 0) + read + write,
            output_tokens=output,
            cache_read_tokens=read,
            cache_write_tokens=write,
            reasoning_tokens=min(thinking, output),
        )

    @staticmethod
    def _completion(
        spec: ModelSpec,
        response: Any,
        usage: Usage,
        consultations: tuple[Consultation, ...],
        notes: list[str],
    ) -> Completion:
        text = "".join(
            getattr(b, "text", "") or ""
            for b in response.content
            if getattr(b, "type", "") == "text"
        )
        stop = _STOP.get(str(response.stop_reason), str(response.stop_reason))
        if not text and stop == "end":
            stop = "empty"
        return Completion(
            text,
            usage,
            0.0,
            spec.name,
            PROVIDER,
            stop,
            consultations=consultations,
            notes=tuple(notes),
        )

    def translate_error(self, exc: Exception, spec: ModelSpec) -> ProviderError | None:
        import anthropic

        return translate_sdk_error(anthropic, exc, PROVIDER, spec, refine=_refine)


def _advice_texts(content: Sequence[Any]) -> list[str]:
    """The advice of each advisor result block, in order (a redacted one has none to read;
    an error says which)."""
    texts = []
    for block in content:
        if getattr(block, "type", "") != "advisor_tool_result":
            continue
        result = getattr(block, "content", None)
        kind = getattr(result, "type", "")
        if kind == "advisor_result":
            texts.append(str(getattr(result, "text", "") or ""))
        elif kind == "advisor_tool_result_error":
            texts.append(f"(advisor error: {getattr(result, 'error_code', 'unknown')})")
        else:
            texts.append("")  # encrypted: the executor reads it, nobody else
    return texts


def _api(name: str) -> str:
    """A model's name as Anthropic's API knows it."""
    from koderz.models.registry import resolve_model

    return resolve_model(name).api_model


def _koderz_name(api_model: str) -> str:
    """The registry's name of an Anthropic model the API names (itself if unregistered)."""
    for spec in known_models():
        if spec.provider == PROVIDER and spec.api_model == api_model:
            return spec.name
    return api_model


def _refine(exc: Any, kind: str, detail: str) -> str:
    if error_body(exc).get("type") == "overloaded_error":
        return "overloaded"
    if kind == "bad_request" and "prompt is too long" in detail.lower():
        return "context_overflow"
    return kind
