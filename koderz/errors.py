"""Koderz's exceptions. Every message says what went wrong *and* how to fix it.

The CLI prints ``str(error)`` for any :class:`KoderzError` and exits with status 2, so a
mistake of the user's never shows a traceback. Anything else is a bug and keeps its traceback.
:func:`read_toml` reads a settings file with its failures as :class:`ConfigError`, and
:func:`iso_date` a date the user gave (a window's ends, a model's cutoff).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "KoderzError",
    "MissingKeyError",
    "ProblemFileError",
    "ProviderError",
    "SandboxError",
    "UnknownModelError",
    "iso_date",
    "read_toml",
]


class KoderzError(Exception):
    """Base class of every error Koderz raises on purpose."""


class ConfigError(KoderzError):
    """A setting, argument or file given by the user cannot be used as it is."""


class UnknownModelError(KoderzError, KeyError):
    """No model of that name is known.

    Attributes:
        name: The name that was asked for.
        suggestions: The closest known names, best first.
    """

    def __init__(self, name: str, suggestions: list[str] | None = None) -> None:
        self.name = name
        self.suggestions = list(suggestions or [])
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"Unknown model {name!r}.{hint} Run `koderz models` for the full list; an Ollama "
            "model is any name with a ':' (e.g. 'qwen2.5-coder:7b'), a GGUF file is its path, "
            "and a model on an OpenAI-compatible server is NAME@URL "
            "(e.g. 'qwen2.5-coder@http://127.0.0.1:8000/v1')."
        )

    def __str__(self) -> str:  # KeyError would repr() the message.
        return str(self.args[0])


class MissingKeyError(ConfigError):
    """The API key a provider needs is not set."""

    def __init__(self, provider: str, env_var: str) -> None:
        self.provider = provider
        self.env_var = env_var
        super().__init__(
            f"No key found for {provider} - set the {env_var} environment variable "
            f"(or put {env_var}=... in a .env file in the working folder)."
        )


class ProviderError(KoderzError):
    """A model call failed after the retries its policy allows.

    Attributes:
        provider: ``anthropic``, ``openai``, ``ollama`` or ``llamacpp``.
        model: The model that was called.
        kind: What happened, one of ``rate_limit``, ``overloaded``, ``server``, ``timeout``,
            ``connection``, ``auth``, ``bad_request``, ``not_found``, ``context_overflow``,
            ``crashed`` (an embedded model's worker process died; not retried, the next call
            starts a new one), ``hung`` (an embedded model's worker gave no answer in time and
            was killed; not retried either), ``other``.
        status: The HTTP status, where there was one.
        attempts: How many times the call was tried.
        retry_after_s: How long the provider asked us to wait before trying again, if it did.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str,
        kind: str,
        status: int | None = None,
        attempts: int = 1,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.model = model
        self.kind = kind
        self.status = status
        self.attempts = attempts
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        """Whether trying the same call again may succeed."""
        return self.kind in {"rate_limit", "overloaded", "server", "timeout", "connection"}


class ProblemFileError(ConfigError):
    """A JSONL input file (problems, or samples for `koderz evaluate`) is malformed.

    Attributes:
        path: The file.
        line: The 1-based line number, where the fault is on one line.
        field: The field at fault, where one is.
    """

    def __init__(
        self, message: str, *, path: str, line: int | None = None, field: str | None = None
    ) -> None:
        where = path if line is None else f"{path}, line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.field = field


class DataError(KoderzError):
    """Recorded data cannot be read or does not fit the schema."""


class SandboxError(KoderzError):
    """The sandbox itself cannot run (not the candidate code: that failure is data)."""


def read_toml(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """A TOML settings file (``what``: "price file", "strategies file" ...) as a dict.

    Raises:
        ConfigError: It cannot be read (missing, a folder, no permission) or is not TOML;
            the message names the file.
    """
    import tomllib  # here: most commands read no TOML

    source = Path(path)
    try:
        return tomllib.loads(source.read_text())
    except OSError as e:
        raise ConfigError(f"Cannot read the {what} {source}: {e.strerror}.") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"The {what} {source} is not valid TOML: {e}.") from e


def iso_date(value: object, what: str) -> str:
    """``value`` as an ISO date, ``YYYY-MM-DD`` (a ``datetime.date``, as TOML reads a bare
    date, is one too); ``what`` says where it was given (``--since``, ``--cutoff gpt-4o``).

    Raises:
        ConfigError: It is not a date of that form; the message names ``what`` and the form.

    Examples:
        >>> iso_date(" 2025-01-31 ", "--since")
        '2025-01-31'
        >>> iso_date("2025-02-30", "--until")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        koderz.errors.ConfigError: --until '2025-02-30' is not a date: give YYYY-MM-DD, ...
    """
    import datetime as dt

    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    text = str(value).strip()
    try:
        if len(text) == 10:  # fromisoformat also takes 20250131 and week dates: not here
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise ConfigError(f"{what} {text!r} is not a date: give YYYY-MM-DD, e.g. 2025-01-31.")
