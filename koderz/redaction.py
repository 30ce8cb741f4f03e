"""Secrets: which environment variables hold them, which strings look like API keys, and the
two things done about them. The writer :func:`redacts <redact>` them from every row before it
reaches disk; a report is not kept when :func:`find_secrets` finds one in its outputs (a
secret the writer could not know of, or data written some other way).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from functools import cache

__all__ = ["find_secrets", "is_secret_name", "read_dotenv", "redact", "secret_values"]

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_KEY_SHAPE = re.compile(
    r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|AIza[0-9A-Za-z_-]{30,}"  # Google
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|gh[pousr]_[A-Za-z0-9]{30,})"  # GitHub
)
# Shorter values are too likely to occur in ordinary text to be told apart from it.
_MIN_LENGTH = 8
_REDACTED = "[redacted]"


def is_secret_name(name: str) -> bool:
    """Whether an environment variable of this name holds a secret: its name contains KEY,
    TOKEN, SECRET, PASSWORD, PASSWD or CREDENTIAL.

    Examples:
        >>> [is_secret_name(n) for n in ("OPENAI_API_KEY", "db_password", "GH_TOKEN", "PATH")]
        [True, True, True, False]
    """
    return _SECRET_NAME.search(name) is not None


@cache
def read_dotenv() -> dict[str, str]:
    """The variables of the ``.env`` file found from the working folder up (read once):
    where the providers take keys from when the environment lacks them, and so where
    secrets to redact live too."""
    from dotenv import dotenv_values, find_dotenv

    path = find_dotenv(usecwd=True)
    return {k: v for k, v in dotenv_values(path).items() if v is not None} if path else {}


def secret_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The secret values of an environment, each with the variable that holds it, longest
    first (so that a secret containing another is replaced whole).

    Args:
        environ: Variables to look at; by default this process's environment and the
            ``.env`` file the providers read keys from.

    Examples:
        >>> secret_values({"A_KEY": "abcdefgh", "B_TOKEN": "abcdefgh-1234", "HOME": "/root/x"})
        {'abcdefgh-1234': 'B_TOKEN', 'abcdefgh': 'A_KEY'}
    """
    if environ is None:
        sources: list[Mapping[str, str]] = [os.environ, read_dotenv()]
    else:
        sources = [environ]
    found = {
        value: name
        for source in reversed(sources)  # the environment names a value before .env does
        for name, value in source.items()
        if is_secret_name(name) and len(value) >= _MIN_LENGTH
    }
    return dict(sorted(found.items(), key=lambda item: len(item[0]), reverse=True))


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every secret value and anything shaped like an API key replaced by
    ``[redacted]``.

    Args:
        text: Any text.
        secrets: The values to replace, longest first; by default :func:`secret_values`.

    Examples:
        >>> redact("key=hunter2hunter2, sk-ant-" + "x" * 30, ["hunter2hunter2"])
        'key=[redacted], [redacted]'
    """
    for value in secret_values() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, _REDACTED)
    return _KEY_SHAPE.sub(_REDACTED, text)


def find_secrets(text: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """What in ``text`` looks like a secret: a secret value of the environment (named, not
    shown) or a string shaped like an API key (shown cut short).

    Args:
        text: Any text.
        environ: The environment whose secrets to look for (see :func:`secret_values`).

    Examples:
        >>> find_secrets("key: sk-" + "a" * 30, environ={})
        ['a string shaped like an API key (sk-aaa...)']
        >>> find_secrets("token xyz-123456789", environ={"MY_TOKEN": "xyz-123456789"})
        ['the value of $MY_TOKEN']
        >>> find_secrets("nothing to see", environ={})
        []
    """
    found = [
        f"the value of ${name}" for value, name in secret_values(environ).items() if value in text
    ]
    found += [
        f"a string shaped like an API key ({m.group()[:6]}...)" for m in _KEY_SHAPE.finditer(text)
    ]
    return found
