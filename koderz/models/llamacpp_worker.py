"""The process that runs llama.cpp for :mod:`koderz.models.llamacpp`; never imported by Koderz.

llama.cpp is native code: a segfault, an abort or an out-of-memory kill inside it ends the
process it runs in. So it runs here, in a process of its own per loaded model, and the
Koderz process only talks to it. Started as ``python -m koderz.models.llamacpp_worker``, it
reads one JSON request per line on stdin and writes one JSON reply per line:

``{"op": "load", "path", "n_ctx", "n_threads", "extra_bufts"}``
    Load the model. Reply ``{"ok": true, "extra_bufts": "on" | "off" | "unsupported"}`` or
    ``{"ok": false, "kind": "load", "message"}``.
``{"op": "generate", "messages", "max_tokens", "temperature"?, "seed"?}``
    One chat completion. Reply ``{"ok": true, "text", "finish_reason", "prompt_tokens",
    "completion_tokens", "model_s"}``, where ``model_s`` is the time llama.cpp spent on it,
    or ``{"ok": false, "kind": "context_overflow" | "other", "message"}``.

It imports nothing of Koderz beyond its (light) packages, so it starts about as fast as
llama-cpp-python does. End of input (the Koderz process went away) ends it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

EXTRA_BUFTS_FIELD = "use_extra_bufts"


@contextlib.contextmanager
def extra_bufts(on: bool) -> Iterator[bool]:
    """While inside, llama.cpp loads models with (``on``) or without its extra buffer types
    (weight repacking, and AMX on CPUs that have it, which crashes: ggml-org/llama.cpp#20824).
    Yields whether the binding has the switch: an older or newer one without the field loads
    as llama.cpp's defaults.

    ``llama_cpp.Llama`` takes no argument for it, so the default model parameters every load
    starts from are wrapped; the ``koderz serve`` server loads under the same wrapper.
    """
    from llama_cpp import llama_cpp as native

    fields = {name for name, *_ in native.llama_model_params._fields_}
    supported = EXTRA_BUFTS_FIELD in fields
    default_params = native.llama_model_default_params

    def params() -> Any:
        p = default_params()
        if supported:
            setattr(p, EXTRA_BUFTS_FIELD, bool(on))
        return p

    native.llama_model_default_params = params
    try:
        yield supported
    finally:
        native.llama_model_default_params = default_params


def load(request: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The model ``request`` asks for and the reply that says how it was loaded (with or
    without llama.cpp's extra buffer types: :func:`extra_bufts`)."""
    try:
        import llama_cpp

        with extra_bufts(bool(request["extra_bufts"])) as supported:
            llm = llama_cpp.Llama(
                model_path=request["path"],
                n_ctx=request["n_ctx"],
                n_threads=request["n_threads"],
                verbose=False,
            )
    except ImportError as e:
        return None, {"ok": False, "kind": "import", "message": str(e)}
    except (ValueError, RuntimeError, OSError) as e:
        return None, {"ok": False, "kind": "load", "message": str(e)}
    if not supported:
        return llm, {"ok": True, "extra_bufts": "unsupported"}
    # Read back from what the model was loaded with, not from what was asked.
    loaded = getattr(llm.model_params, EXTRA_BUFTS_FIELD)
    return llm, {"ok": True, "extra_bufts": "on" if loaded else "off"}


def generate(llm: Any, request: dict[str, Any]) -> dict[str, Any]:
    """One chat completion as a reply; llama.cpp's own time on it is ``model_s``."""
    kwargs: dict[str, Any] = {"messages": request["messages"], "max_tokens": request["max_tokens"]}
    for name in ("temperature", "seed"):
        if request.get(name) is not None:
            kwargs[name] = request[name]
    started = time.perf_counter()
    try:
        response: Any = llm.create_chat_completion(**kwargs)
    except ValueError as e:
        kind = "context_overflow" if "context window" in str(e) else "other"
        return {"ok": False, "kind": kind, "message": str(e)}
    except Exception as e:  # reported to the caller as a failed call, not a dead worker
        return {"ok": False, "kind": "other", "message": f"{type(e).__name__}: {e}"}
    model_s = time.perf_counter() - started
    choice = response["choices"][0]
    usage = response.get("usage") or {}
    return {
        "ok": True,
        "text": choice["message"].get("content") or "",
        "finish_reason": choice.get("finish_reason") or "stop",
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
        "model_s": model_s,
    }


def serve(requests: Iterable[str], replies: IO[str]) -> None:
    """Answer each request line with a reply line until the input ends."""
    llm: Any = None
    for line in requests:
        request = json.loads(line)
        if request["op"] == "load":
            llm, reply = load(request)
        elif llm is None:
            reply = {"ok": False, "kind": "other", "message": "no model loaded"}
        else:
            reply = generate(llm, request)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    """Serve on stdin/stdout, with anything native code prints sent to stderr instead."""
    # The replies get a private copy of stdout; fd 1 then points at stderr, so that a
    # printf inside llama.cpp cannot corrupt the protocol.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
