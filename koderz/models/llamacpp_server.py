"""``koderz serve``: llama-cpp-python's OpenAI-compatible server, loading the model as Koderz's
embedded worker does, so that it works on every CPU.

llama-cpp-python's server (``python -m llama_cpp.server``, its ``server`` extra) has no
switch for llama.cpp's extra buffer types, and on a CPU with AMX its first completion
segfaults (ggml-org/llama.cpp#20824). ``koderz serve`` starts it in a process of its own,
``python -m koderz.models.llamacpp_server --extra-bufts on|off SERVER-ARGS``, which loads the
model under :func:`koderz.models.llamacpp_worker.extra_bufts` with the choice the embedded
worker would make (:func:`koderz.models.llamacpp.settings`: off on a CPU with AMX, or when
``KODERZ_LLAMACPP_EXTRA_BUFTS=0``), then waits until the server answers and prints the
``NAME@URL`` to pass to Koderz. A crash of the server is a message that names the signal,
the likely cause and the fix, as for the embedded worker.

The server process imports nothing of Koderz but :mod:`koderz.models.llamacpp_worker`, which
is light; the rest of this module (what ``koderz serve`` runs) imports Koderz lazily.
"""

from __future__ import annotations

import argparse
import importlib.util
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from koderz.models.llamacpp_worker import EXTRA_BUFTS_FIELD, extra_bufts

__all__ = ["SERVER_MODULES", "Served", "main", "serve_command", "start"]

SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
"""What llama-cpp-python's server needs: its ``server`` extra (Koderz's ``embedded`` extra)."""

LOADED = "koderz serve: model loaded; llama.cpp's extra buffer types"
"""The start of the line the server process writes once the model is loaded, with
``on``/``off`` read back from the loaded model."""


@dataclass(frozen=True)
class Served:
    """A running server."""

    name: str
    """The model's name on the server (its alias)."""
    url: str
    """The OpenAI-compatible base URL, ``http://HOST:PORT/v1``."""
    process: subprocess.Popen[bytes]
    """The server process."""
    extra_bufts_why: str
    """Whether llama.cpp's extra buffer types are on, and why, in words."""

    @property
    def model(self) -> str:
        """What to pass to Koderz: ``NAME@URL``."""
        return f"{self.name}@{self.url}"


def _model_file(model: str) -> tuple[str, Path]:
    """The name to serve ``model`` under and its GGUF file.

    Raises:
        ConfigError: ``model`` is neither ``smollm2`` nor a ``.gguf`` file.
    """
    from koderz.errors import ConfigError
    from koderz.models.registry import resolve_model

    spec = resolve_model(model)
    if spec.provider != "llamacpp":
        raise ConfigError(
            f"koderz serve serves a GGUF file: smollm2 (the default) or a path ending in "
            f".gguf, not {model!r} (a {spec.provider} model)."
        )
    path = Path(spec.api_model)
    # A registered name (smollm2) stays itself; a file is served under its stem.
    return (path.stem if model.endswith(".gguf") else model), path


def serve_command(
    path: Path, *, name: str, host: str, port: int, extra: bool, n_ctx: int, n_threads: int
) -> list[str]:
    """The command that starts the guarded server.

    Examples:
        >>> cmd = serve_command(Path("m.gguf"), name="m", host="127.0.0.1", port=8000,
        ...     extra=False, n_ctx=4096, n_threads=2)
        >>> cmd[1:5]
        ['-m', 'koderz.models.llamacpp_server', '--extra-bufts', 'off']
    """
    return [
        sys.executable,
        "-m",
        "koderz.models.llamacpp_server",
        "--extra-bufts",
        "on" if extra else "off",
        "--model",
        str(path),
        "--model_alias",
        name,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(n_threads),
        # llama.cpp's load report is thousands of lines; the server's own log stays.
        "--verbose",
        "False",
    ]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def start(
    model: str = "smollm2",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    timeout_s: float = 120.0,
    log: IO[Any] | None = None,
) -> Served:
    """Start the guarded server for ``model`` and wait until it answers.

    Args:
        model: ``smollm2`` (the embedded model) or the path of a ``.gguf`` file.
        host: The address to listen on.
        port: The port; 0 picks a free one.
        timeout_s: How long loading may take.
        log: Where the server's own output goes (default: this process's stderr).

    Raises:
        ConfigError: The server extra is missing, the model is not a GGUF file, or a
            ``KODERZ_LLAMACPP_*`` variable cannot be used.
        KoderzError: The server ended, or did not answer in time, before serving.
    """
    from koderz.errors import ConfigError, KoderzError
    from koderz.models.llamacpp import settings

    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"koderz serve needs llama-cpp-python's server ({', '.join(missing)} missing): "
            "pip install 'koderz[embedded]'."
        )
    name, path = _model_file(model)
    chosen = settings()
    port = port or free_port(host)
    command = serve_command(
        path,
        name=name,
        host=host,
        port=port,
        extra=chosen.extra_bufts,
        n_ctx=chosen.n_ctx,
        n_threads=chosen.n_threads,
    )
    try:
        # Its stdout too goes to the log (by default file descriptor 2, this process's
        # stderr): this process's stdout carries only NAME@URL.
        process = subprocess.Popen(command, stdout=log or 2, stderr=log)
    except OSError as e:
        raise KoderzError(f"Could not start the server: {e.strerror}.") from e
    url = f"http://{host}:{port}/v1"
    served = Served(name=name, url=url, process=process, extra_bufts_why=chosen.extra_bufts_why)
    deadline = time.monotonic() + timeout_s
    while not _answers(url):
        if process.poll() is not None:
            raise KoderzError(
                crash_text(served, during="while loading the model")
                + f" (the command was: {' '.join(command)})"
            )
        if time.monotonic() > deadline:
            stop(served)
            raise KoderzError(
                f"The server for {name} did not answer within {timeout_s:.0f} s at {url}; "
                "is the port taken by something else? Try --port 0."
            )
        time.sleep(0.2)
    return served


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2):
            return True
    except OSError:
        return False


def crash_text(served: Served, *, during: str) -> str:
    """What ended the server, the likely cause and the fix."""
    from koderz.models.llamacpp import crash_message, settings

    return crash_message(
        served.name,
        served.process.returncode,
        settings(),
        during=during,
        process="server",
        then="Start it again with `koderz serve`.",
    )


def stop(served: Served) -> None:
    """Stop the server (politely, then for sure)."""
    served.process.terminate()
    try:
        served.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()


# --------------------------------------------------------------------------- the server


def main(argv: Sequence[str] | None = None) -> None:
    """Run llama-cpp-python's server with llama.cpp's extra buffer types on or off; every
    other argument is the server's own."""
    parser = argparse.ArgumentParser(prog="python -m koderz.models.llamacpp_server")
    parser.add_argument("--extra-bufts", choices=["on", "off"], required=True)
    ours, theirs = parser.parse_known_args(argv)
    import llama_cpp

    init = llama_cpp.Llama.__init__

    def loaded(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        # Read back from the loaded model, not from what was asked.
        state = getattr(self.model_params, EXTRA_BUFTS_FIELD, None)
        said = "unsupported" if state is None else ("on" if state else "off")
        print(f"{LOADED} {said}", file=sys.stderr, flush=True)

    llama_cpp.Llama.__init__ = loaded  # type: ignore[method-assign]
    with extra_bufts(ours.extra_bufts == "on"):
        sys.argv = ["llama_cpp.server", *theirs]
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
