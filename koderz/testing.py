"""Local servers that speak the providers' HTTP protocols, with scripted answers.

They let the real SDKs run end to end with no network: Koderz's own tests, the benchmarks
under ``benchmarks/``, and a dry run of an experiment before spending money. Each server
listens on 127.0.0.1 and records the requests it got.

Examples:
    >>> from koderz.testing import Answer, ProtocolServer
    >>> with ProtocolServer("openai", script=[Answer("def f(): pass", input_tokens=12)]) as s:
    ...     s.url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from koderz.records import BuildTests, Problem

__all__ = [
    "Advice",
    "Answer",
    "ProtocolServer",
    "Recorded",
    "Reply",
    "ScriptedCoder",
    "error_reply",
]

Protocol = Literal["openai", "anthropic", "ollama"]


@dataclass(frozen=True)
class Advice:
    """An advisor sub-inference inside an Anthropic answer (the advisor tool): rendered as a
    ``server_tool_use`` block, an ``advisor_tool_result`` block and an ``advisor_message``
    entry of ``usage.iterations``, as the SDK's beta types define them."""

    text: str
    """The advice (an ``advisor_result``); None-like empty for a redacted one."""
    model: str = "claude-opus-4-8"
    """The advisor model the API names."""
    input_tokens: int = 800
    """The advisor's prompt tokens."""
    output_tokens: int = 500
    """The advisor's generated tokens."""


@dataclass(frozen=True)
class Answer:
    """A successful model answer, rendered in the server's protocol."""

    text: str
    """The reply text."""
    input_tokens: int | None = None
    """All prompt tokens, cache included (Koderz's convention); None estimates 1 per 4 chars."""
    output_tokens: int | None = None
    """Generated tokens; None estimates 1 per 4 characters."""
    cache_read_tokens: int = 0
    """Part of ``input_tokens`` read from the cache."""
    cache_write_tokens: int = 0
    """Part of ``input_tokens`` written to the cache (Anthropic only)."""
    stop: str = "end"
    """``end``, ``max_tokens`` or ``refusal``."""
    delay_s: float = 0.0
    """Seconds to wait before answering."""
    reasoning_tokens: int = 0
    """Part of ``output_tokens`` spent reasoning (OpenAI's ``reasoning_tokens``, Anthropic's
    ``thinking_tokens``)."""
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    """Tools the model calls, as (name, arguments) (OpenAI and Ollama)."""
    advice: tuple[Advice, ...] = ()
    """Advisor sub-inferences before the text (Anthropic's advisor tool)."""


@dataclass(frozen=True)
class Reply:
    """A raw HTTP reply: any status, headers and JSON body; or a dropped connection."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Seconds to wait before answering (longer than the client's timeout = a timeout)."""
    drop: bool = False
    """Close the connection without answering."""


@dataclass(frozen=True)
class Recorded:
    """One request the server got."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        """All message texts of the request, joined by blank lines."""
        parts: list[str] = []
        system = self.body.get("system")
        if isinstance(system, list):
            parts.extend(str(b.get("text", "")) for b in system)
        elif isinstance(system, str):
            parts.append(system)
        for m in self.body.get("messages", []):
            content = m.get("content")
            if isinstance(content, list):
                parts.extend(str(b.get("text", "")) for b in content if isinstance(b, dict))
            elif content is not None:
                parts.append(str(content))
        return "\n\n".join(parts)


Responder = Callable[[Recorded], "Answer | Reply | str"]


def error_reply(
    protocol: Protocol, status: int, message: str = "", *, retry_after: float | None = None
) -> Reply:
    """An error in the protocol's own shape, e.g. ``error_reply("openai", 429, retry_after=1)``."""
    message = message or {
        429: "Rate limit reached",
        500: "Internal server error",
        401: "Invalid API key",
        529: "Overloaded",
    }.get(status, "Error")
    headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
    if protocol == "openai":
        body: Any = {"error": {"message": message, "type": "error", "code": None}}
    elif protocol == "anthropic":
        kind = {
            429: "rate_limit_error",
            529: "overloaded_error",
            401: "authentication_error",
            400: "invalid_request_error",
        }.get(status, "api_error")
        body = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {"error": message}
    return Reply(status=status, body=body, headers=headers)


def _estimate(text: str) -> int:
    return max(1, len(text) // 4)


def _render(protocol: Protocol, request: Recorded, answer: Answer) -> dict[str, Any]:
    model = request.body.get("model", "model")
    tin = answer.input_tokens if answer.input_tokens is not None else _estimate(request.prompt)
    tout = answer.output_tokens if answer.output_tokens is not None else _estimate(answer.text)
    if protocol == "openai":
        finish = {"end": "stop", "max_tokens": "length"}.get(answer.stop, "stop")
        refusal = answer.text if answer.stop == "refusal" else None
        calls = [
            {
                "id": f"call_{n}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for n, (name, args) in enumerate(answer.tool_calls)
        ]
        return {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None if refusal or (calls and not answer.text) else answer.text,
                        "refusal": refusal,
                        **({"tool_calls": calls} if calls else {}),
                    },
                    "finish_reason": "tool_calls" if calls else finish,
                }
            ],
            "usage": {
                "prompt_tokens": tin,
                "completion_tokens": tout,
                "total_tokens": tin + tout,
                "prompt_tokens_details": {"cached_tokens": answer.cache_read_tokens},
                "completion_tokens_details": {"reasoning_tokens": answer.reasoning_tokens},
            },
        }
    if protocol == "anthropic":
        return _anthropic(model, answer, tin, tout)
    done = {"end": "stop", "max_tokens": "length"}.get(answer.stop, "stop")
    message: dict[str, Any] = {"role": "assistant", "content": answer.text}
    if answer.tool_calls:  # Ollama's arguments are an object, and its calls have no id
        message["tool_calls"] = [
            {"function": {"name": name, "arguments": args}} for name, args in answer.tool_calls
        ]
    return {
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "message": message,
        "done": True,
        "done_reason": done,
        "total_duration": 1,
        "prompt_eval_count": tin,
        "eval_count": tout,
    }


def _anthropic(model: str, answer: Answer, tin: int, tout: int) -> dict[str, Any]:
    """An Anthropic message. With advice, as the advisor tool answers: the executor's text,
    then per consultation a ``server_tool_use`` and an ``advisor_tool_result`` block, then the
    answer; ``usage.iterations`` holds an executor ``message`` entry around each
    ``advisor_message``, and the top level the executor's own tokens (input of its first
    step, output of all), as the API reports them."""
    stop = {"end": "end_turn", "max_tokens": "max_tokens"}.get(answer.stop, answer.stop)
    # Anthropic counts cache tokens beside input_tokens, not in it.
    uncached = tin - answer.cache_read_tokens - answer.cache_write_tokens
    usage: dict[str, Any] = {
        "input_tokens": uncached,
        "output_tokens": tout,
        "cache_read_input_tokens": answer.cache_read_tokens,
        "cache_creation_input_tokens": answer.cache_write_tokens,
    }
    if answer.reasoning_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": answer.reasoning_tokens}
    content: list[dict[str, Any]] = []
    if answer.advice:
        steps = len(answer.advice) + 1
        ins = _split(uncached, steps)
        outs = _split(tout, steps)
        iterations: list[dict[str, Any]] = []
        for n, advice in enumerate(answer.advice):
            tool_id = f"srvtoolu_local{n}"
            content.append(
                {"type": "server_tool_use", "id": tool_id, "name": "advisor", "input": {}}
            )
            result: dict[str, Any] = (
                {"type": "advisor_result", "text": advice.text, "stop_reason": "end_turn"}
                if advice.text
                else {"type": "advisor_redacted_result", "encrypted_content": "EqQBCkYIBxgC"}
            )
            content.append(
                {"type": "advisor_tool_result", "tool_use_id": tool_id, "content": result}
            )
            iterations.append(_iteration("message", ins[n], outs[n], n == 0 and answer))
            iterations.append(
                {
                    **_iteration(
                        "advisor_message", advice.input_tokens, advice.output_tokens, None
                    ),
                    "model": advice.model,
                }
            )
        iterations.append(_iteration("message", ins[-1], outs[-1], None))
        usage |= {"input_tokens": ins[0], "iterations": iterations}
    if answer.text:
        content.append({"type": "text", "text": answer.text})
    return {
        "id": "msg_local",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` whole shares that add up to it."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _iteration(kind: str, tin: int, tout: int, first: Answer | bool | None) -> dict[str, Any]:
    cached = first if isinstance(first, Answer) else None
    return {
        "type": kind,
        "input_tokens": tin,
        "output_tokens": tout,
        "cache_read_input_tokens": cached.cache_read_tokens if cached else 0,
        "cache_creation_input_tokens": cached.cache_write_tokens if cached else 0,
    }


class ProtocolServer:
    """An HTTP server on 127.0.0.1 that speaks one provider's protocol.

    Answers come first from ``script`` (in order), then from ``respond(request)``, else
    ``"ok"``. A script item or a responder's result may be an :class:`Answer`, a raw
    :class:`Reply` (errors, delays, dropped connections) or a plain string.

    Args:
        protocol: ``openai`` (``/v1/chat/completions``), ``anthropic`` (``/v1/messages``) or
            ``ollama`` (``/api/chat``).
        script: Answers for the first requests.
        respond: Called for each request after the script is used up.
        delay_s: Added before every answer (simulates a model's latency).
    """

    def __init__(
        self,
        protocol: Protocol,
        *,
        script: Iterable[Answer | Reply | str] = (),
        respond: Responder | None = None,
        delay_s: float = 0.0,
    ) -> None:
        if protocol not in ("openai", "anthropic", "ollama"):
            raise ValueError(f"unknown protocol {protocol!r}")
        self.protocol: Protocol = protocol
        self.requests: list[Recorded] = []
        self.peak_in_flight = 0
        """The most requests this server was answering at one time."""
        self._in_flight = 0
        self._script: deque[Answer | Reply | str] = deque(script)
        self._respond = respond
        self._delay_s = delay_s
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> ProtocolServer:
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        # A short poll interval makes stop() quick (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ProtocolServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give the SDK."""
        root = f"http://127.0.0.1:{self.port}"
        return root + "/v1" if self.protocol == "openai" else root

    def env(self) -> dict[str, str]:
        """Environment variables that point the provider's SDK here (with a dummy key)."""
        if self.protocol == "openai":
            return {"OPENAI_BASE_URL": self.url, "OPENAI_API_KEY": "sk-local-test"}
        if self.protocol == "anthropic":
            return {"ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": "sk-ant-local-test"}
        return {"OLLAMA_HOST": self.url}

    # ----------------------------------------------------------------- answering

    def add(self, *items: Answer | Reply | str) -> None:
        """Append answers to the script."""
        with self._lock:
            self._script.extend(items)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _next(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            item = self._script.popleft() if self._script else None
        if item is None:
            item = self._respond(request) if self._respond else "ok"
        if isinstance(item, str):
            item = Answer(item)
        if isinstance(item, Answer):
            return Reply(200, _render(self.protocol, request, item), delay_s=item.delay_s)
        return item


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog of 5 drops connections under concurrent load, and each
    # drop costs the client a 1 s SYN retransmit.
    request_queue_size = 128
    daemon_threads = True


def _make_handler(server: ProtocolServer) -> type[BaseHTTPRequestHandler]:
    paths = {
        "openai": "/v1/chat/completions",
        "anthropic": "/v1/messages",
        "ollama": "/api/chat",
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes; without this, Nagle's algorithm
            # and the client's delayed ACK add ~40 ms to every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {}
            request = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            server._enter()
            try:
                if self.path.split("?")[0] != paths[server.protocol]:
                    reply = Reply(404, {"error": f"no route {self.path}"})
                else:
                    reply = server._next(request)
                time.sleep(server._delay_s + reply.delay_s)
            finally:
                server._leave()
            if reply.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            payload = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

    return Handler


class ScriptedCoder:
    """A responder that plays every Koderz role for known problems, deterministically.

    As worker it answers wrong code for a problem's first ``fail_first`` attempts, then the
    problem's canonical solution; as repairer, the canonical solution at once; as spec model,
    architect and reviewer it answers short canned texts.
    Give it to :class:`ProtocolServer` as ``respond``.

    Args:
        problems: The problems it knows (by prompt text).
        fail_first: Wrong answers before the right one, per problem (a mapping overrides
            it per task id).
        delay_s: Seconds to wait before each answer (a model's latency).
    """

    def __init__(
        self,
        problems: Iterable[Problem],
        *,
        fail_first: int | dict[str, int] = 2,
        delay_s: float = 0.0,
    ) -> None:
        self.problems = list(problems)
        self.fail_first = fail_first
        self.delay_s = delay_s
        self.attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def _problem(self, text: str) -> Problem | None:
        return next((p for p in self.problems if p.prompt.strip() in text), None)

    def __call__(self, request: Recorded) -> Answer:
        from koderz.engine import prompts

        text = request.prompt
        asks = prompts.ASKS.values()
        if any(ask.spec in text for ask in asks):
            return Answer(
                "- Return the value the docstring describes.\n- Mind empty input.",
                delay_s=self.delay_s,
            )
        if any(ask.review in text for ask in asks):
            return Answer(
                "- The function returns None; compute the documented result.", delay_s=self.delay_s
            )
        if any(ask.plan in text for ask in asks):
            return Answer(
                "1. Read the arguments.\n2. Compute the documented result.\n3. Return it.",
                delay_s=self.delay_s,
            )
        problem = self._problem(text)
        if problem is None:
            return Answer("I do not know this problem.", delay_s=self.delay_s)
        right, wrong = _SCRIPTED[problem.shape]
        if any(ask.repair in text for ask in asks):
            # The repairer fixes the code at once; it is not one of the worker's attempts.
            return self._code(right(problem), problem)
        with self._lock:
            n = self.attempts[problem.task_id] = self.attempts.get(problem.task_id, 0) + 1
        fails = (
            self.fail_first.get(problem.task_id, 0)
            if isinstance(self.fail_first, dict)
            else self.fail_first
        )
        return self._code(wrong(problem) if n <= fails else right(problem), problem)

    def _code(self, code: str, problem: Problem | None = None) -> Answer:
        if problem is not None and problem.shape == "build":  # a listing of whole files
            return Answer(f"Here they are:\n\n{code}", delay_s=self.delay_s)
        fence = problem.language if problem is not None else "python"
        return Answer(f"Here it is:\n```{fence}\n{code.rstrip()}\n```", delay_s=self.delay_s)


def _function_wrong(problem: Problem) -> str:
    name = getattr(problem.tests, "entry_point", "f")
    return f"def {name}(*args, **kwargs):\n    return None"


def _method_wrong(problem: Problem) -> str:
    name = getattr(problem.tests, "func_name", "f")
    return f"class Solution:\n    def {name}(self, *args):\n        return None"


def _exercise_files(problem: Problem, right: bool) -> str:
    """An exercise's reference solution (right) or its shipped stubs (wrong), as a listing."""
    from koderz.extract import listing

    tests = problem.tests
    assert isinstance(tests, BuildTests)
    files = dict(tests.example) if right else {p: tests.file(p) for p in tests.solution}
    return listing(files, problem.language)


_SCRIPTED: dict[str, tuple[Callable[[Problem], str], Callable[[Problem], str]]] = {
    "function": (lambda p: p.prompt + p.canonical_solution, _function_wrong),
    "io": (lambda p: p.canonical_solution, lambda p: "print('no idea')"),
    "calls": (lambda p: p.canonical_solution, _method_wrong),
    "build": (
        lambda p: _exercise_files(p, right=True),
        lambda p: _exercise_files(p, right=False),
    ),
    # MultiPL-E: the prompt and its reference body; wrong: the prompt closed at once.
    "script": (lambda p: p.prompt + p.canonical_solution, lambda p: p.prompt),
}
"""Per test shape, the scripted model's right answer (the problem's reference solution) and
its wrong one."""
