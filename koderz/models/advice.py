"""Advice on request, emulated: an ``advisor`` function tool for workers that can call tools
but have no advisor of their provider's (OpenAI, Ollama, OpenAI-compatible servers).

The worker gets one tool, ``advisor(question)``. When it calls it, Koderz calls the advisor
model with the question and the conversation so far, returns the advice as the tool's result,
and lets the worker go on; the advisor's call is a :class:`~koderz.records.Consultation` of
its own, billed at its own price. Past ``max_uses`` the tool answers that no more advice is
available. Each provider client speaks its own protocol (:data:`Send`); the loop is here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from koderz.errors import ProviderError
from koderz.models.base import Consult
from koderz.models.registry import ModelSpec
from koderz.records import Completion, Consultation, Message, Usage

__all__ = [
    "FUNCTION_TOOL",
    "NO_MORE_ADVICE",
    "TOOL_DESCRIPTION",
    "TOOL_NAME",
    "TOOL_PARAMETERS",
    "Send",
    "Step",
    "ToolCall",
    "advise_loop",
    "render_transcript",
    "tools_refused",
]

TOOL_NAME = "advisor"
TOOL_DESCRIPTION = (
    "Ask a senior engineer for advice: a plan, a diagnosis, or a pitfall to avoid. Use it when "
    "you are unsure how to solve the task; the answer is advice, not code."
)
TOOL_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "description": "What you want advice on."},
    },
    "required": ["question"],
}
NO_MORE_ADVICE = "No more advice is available for this task: finish it on your own."
FUNCTION_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        "parameters": TOOL_PARAMETERS,
    },
}
"""The tool as OpenAI's and Ollama's chat APIs take it (flat parameters: the Ollama SDK drops
what its schema model does not know)."""


@dataclass(frozen=True)
class ToolCall:
    """A call of a tool in a worker's response."""

    id: str
    """The provider's id of the call (made up where the provider gives none)."""
    name: str
    """The tool's name."""
    arguments: dict[str, Any] = field(default_factory=dict)
    """The arguments, parsed."""


@dataclass(frozen=True)
class Step:
    """One response of the worker in the loop."""

    text: str
    """Its text."""
    usage: Usage
    """Its tokens."""
    stop_reason: str
    """Why it stopped, in Koderz's words."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The tools it called."""

    def completion(
        self,
        spec: ModelSpec,
        usage: Usage,
        consultations: tuple[Consultation, ...] = (),
        notes: Sequence[str] = (),
    ) -> Completion:
        """The call's completion, ending on this step: ``usage`` over every step."""
        return Completion(
            self.text,
            usage,
            0.0,
            spec.name,
            spec.provider,
            self.stop_reason,
            consultations=consultations,
            notes=tuple(notes),
        )


Send = Callable[[Sequence[tuple[ToolCall, str]]], Step]
"""The client's side of the loop: send the results of the previous step's tool calls (none,
the first time) and return the worker's next response."""


def render_transcript(messages: Sequence[Message]) -> str:
    """The worker's conversation as text, for the advisor to read."""
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in messages)


def advise_loop(
    send: Send, consult: Consult, transcript: str, *, max_uses: int | None
) -> tuple[Step, Usage, tuple[Consultation, ...]]:
    """Let the worker consult the advisor until it answers without calling the tool.

    Args:
        send: The client's side (:data:`Send`).
        consult: Calls the advisor.
        transcript: The conversation so far, as text, for the advisor to read.
        max_uses: Consultations allowed; past them the tool answers :data:`NO_MORE_ADVICE`.

    Returns:
        The worker's last response, its tokens over every step, and the consultations.
    """
    step = send(())
    usage = step.usage
    consultations: list[Consultation] = []
    # Each round either consults or tells the worker there is no more advice; a worker that
    # keeps calling the tool after that is stopped by the bound.
    rounds = 0
    while step.tool_calls and rounds <= (max_uses if max_uses is not None else 8) + 1:
        rounds += 1
        said = transcript + (f"\n\n[assistant]\n{step.text}" if step.text else "")
        results: list[tuple[ToolCall, str]] = []
        for call in step.tool_calls:
            if call.name != TOOL_NAME:
                results.append((call, f"There is no tool {call.name!r}; the one tool is advisor."))
            elif max_uses is not None and len(consultations) >= max_uses:
                results.append((call, NO_MORE_ADVICE))
            else:
                question = str(call.arguments.get("question", "")).strip()
                got = consult(question or "How should I solve this task?", said)
                consultations.append(got)
                results.append((call, got.advice or "(the advisor gave no advice)"))
        step = send(results)
        usage = usage + step.usage
    return step, usage, tuple(consultations)


def tools_refused(error: ProviderError, worker: str) -> ProviderError:
    """A worker's server that rejects tools, as an error that says what to do instead."""
    return ProviderError(
        f"{worker} cannot call tools ({error}), so it cannot ask for advice when it wants "
        "(advice on_request). Use --advice on_failure: the advisor then reviews each attempt "
        "that fails its visible tests.",
        provider=error.provider,
        model=error.model,
        kind="bad_request",
        status=error.status,
        attempts=error.attempts,
    )
