"""The Jupyter kernels a report's notebooks run in, without jupyter_client's noise in Koderz's
output.

ipykernel warns on every start over TCP ("Kernel is running over TCP without encryption ..."),
and the kernel's stderr is the user's terminal, so ``koderz report`` printed it every time.
The kernel and Koderz are on one machine, so the kernel talks over IPC (Unix domain sockets,
private to the user) where ZeroMQ has it, which is also what the warning itself advises;
where it does not (Windows builds of ZeroMQ without IPC), the kernel runs over TCP and its
stderr passes through a filter that drops exactly that warning and keeps everything else.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import IO, Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

__all__ = ["TCP_WARNING", "kernel_manager_class", "without_tcp_warning"]

TCP_WARNING = "Kernel is running over TCP without encryption"
"""The start of the line ipykernel logs on every start over TCP."""


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels talk over IPC (Unix domain sockets)."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"


class QuietTcpKernelManager(AsyncKernelManager):
    """A kernel manager over TCP whose kernels' stderr reaches ours without the TCP warning."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kw["stderr"] = subprocess.PIPE
        await super()._async_launch_kernel(kernel_cmd, **kw)
        process = getattr(self.provisioner, "process", None)
        if process is not None and process.stderr is not None:
            threading.Thread(
                target=without_tcp_warning,
                args=(process.stderr, sys.stderr),
                name="kernel-stderr",
                daemon=True,
            ).start()


def without_tcp_warning(source: IO[bytes], sink: IO[str]) -> None:
    """Copy ``source`` to ``sink`` line by line, leaving out the TCP warning's lines.

    Examples:
        >>> import io
        >>> out = io.StringIO()
        >>> without_tcp_warning(io.BytesIO(
        ...     b"[IPKernelApp] WARNING | Kernel is running over TCP without encryption. ...\\n"
        ...     b"a real problem\\n"), out)
        >>> out.getvalue()
        'a real problem\\n'
    """
    for line in iter(source.readline, b""):
        text = line.decode(errors="replace")
        if TCP_WARNING not in text:
            sink.write(text)
            sink.flush()


def ipc_available() -> bool:
    """Whether this machine's ZeroMQ can talk over IPC."""
    try:
        import zmq
    except ImportError:
        return False
    return bool(zmq.has("ipc")) and sys.platform != "win32"


def kernel_manager_class(*, ipc: bool | None = None) -> type[AsyncKernelManager]:
    """The kernel manager for a report's kernels: IPC where ZeroMQ has it (``ipc=None``),
    else TCP with the warning filtered out.

    Examples:
        >>> kernel_manager_class(ipc=False).__name__
        'QuietTcpKernelManager'
    """
    use_ipc = ipc_available() if ipc is None else ipc
    return IpcKernelManager if use_ipc else QuietTcpKernelManager
