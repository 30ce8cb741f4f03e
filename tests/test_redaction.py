"""Secrets: one definition for the writer (redact) and the reports (find_secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from koderz.redaction import find_secrets, is_secret_name, read_dotenv, redact, secret_values

SHAPED = [
    "sk-ant-api03-" + "a" * 30,
    "sk-proj-" + "b" * 30,
    "AIza" + "C" * 35,
    "hf_" + "D" * 34,
    "ghp_" + "E" * 36,
]


def test_find_secrets() -> None:
    key = "sk-ant-" + "x" * 40
    assert find_secrets(f"reply: {key}", environ={}) == [
        "a string shaped like an API key (sk-ant...)"
    ]
    assert find_secrets("abc hunter2hunter2", environ={"DB_PASSWORD": "hunter2hunter2"}) == [
        "the value of $DB_PASSWORD"
    ]
    assert find_secrets("short", environ={"X_KEY": "short"}) == []  # too short to be a key


@pytest.mark.parametrize("key", SHAPED)
def test_what_the_reports_find_the_writer_redacts(key: str) -> None:
    environ = {"ACME_API_KEY": "acme-very-secret-value"}
    text = f"reply: {key} and acme-very-secret-value"
    assert len(find_secrets(text, environ)) == 2
    clean = redact(text, secret_values(environ))
    assert clean == "reply: [redacted] and [redacted]"
    assert find_secrets(clean, environ) == []


def test_a_secret_containing_another_is_redacted_whole() -> None:
    environ = {"SHORT_TOKEN": "abcdefgh", "LONG_TOKEN": "abcdefgh-12345"}
    assert redact("x abcdefgh-12345 y", secret_values(environ)) == "x [redacted] y"


def test_secret_names() -> None:
    names = ["OPENAI_API_KEY", "GH_TOKEN", "CLIENT_SECRET", "PGPASSWORD", "AWS_CREDENTIALS"]
    assert all(is_secret_name(n) for n in names)
    assert not any(is_secret_name(n) for n in ["PATH", "HOME", "OLLAMA_HOST", "LANG"])


def test_the_environment_and_its_dotenv_by_default(
    tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_cwd / ".env").write_text("FILE_API_KEY=from-the-dotenv-file\nLEVEL=debug-verbose\n")
    monkeypatch.setenv("SHELL_TOKEN", "from-the-environment")
    read_dotenv.cache_clear()
    try:
        found = secret_values()
        assert found["from-the-dotenv-file"] == "FILE_API_KEY"
        assert found["from-the-environment"] == "SHELL_TOKEN"
        assert "debug-verbose" not in found
        assert redact("a from-the-dotenv-file b") == "a [redacted] b"
    finally:
        read_dotenv.cache_clear()
