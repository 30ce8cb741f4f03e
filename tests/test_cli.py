"""`koderz models` and `koderz check`: output shape, exit status, no traceback for mistakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from koderz.cli import main
from koderz.testing import Answer, error_reply


def run_json(capsys, *argv):
    status = main(list(argv))
    return status, json.loads(capsys.readouterr().out)


def test_models_json_lists_every_tier_with_prices(capsys):
    status, rows = run_json(capsys, "models", "--json")
    assert status == 0
    by_name = {r["name"]: r for r in rows}
    assert {"name", "provider", "tier", "input_usd_per_mtok", "output_usd_per_mtok"} <= set(rows[0])
    assert (
        by_name["claude-opus-4-5"]["input_usd_per_mtok"],
        by_name["claude-opus-4-5"]["output_usd_per_mtok"],
    ) == (5.0, 25.0)
    assert by_name["smollm2"]["tier"] == "local"
    assert {r["tier"] for r in rows} == {"local", "small_frontier", "frontier"}


def test_models_table(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["name", "provider", "tier"]
    assert "gpt-4o-mini" in out


def test_check_reports_tokens_cost_and_errors(serve, capsys, monkeypatch):
    serve("openai", script=[Answer("ok", 1000, 200, cache_read_tokens=600)])
    status, rows = run_json(capsys, "check", "gpt-4o-mini", "no-such-model", "--json")
    assert status == 1  # one model failed
    ok, bad = rows
    assert ok["ok"] is True
    assert (ok["input_tokens"], ok["output_tokens"], ok["cache_read_tokens"]) == (1000, 200, 600)
    assert ok["cost_usd"] == pytest.approx(0.000225)
    assert ok["latency_s"] > 0 and ok["output_tokens_per_s"] > 0
    assert ok["error"] is None
    assert bad["ok"] is False and "Unknown model 'no-such-model'" in bad["error"]
    for key in (
        "model",
        "ok",
        "latency_s",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cost_usd",
        "output_tokens_per_s",
        "error",
    ):
        assert key in bad


def test_check_provider_failure_is_words_not_a_traceback(serve, capsys, monkeypatch):
    serve("anthropic", respond=lambda r: error_reply("anthropic", 401))
    status = main(["check", "claude-haiku-4-5"])
    out = capsys.readouterr().out
    assert status == 1
    assert out.startswith("FAIL  claude-haiku-4-5:") and "HTTP 401" in out
    assert "Traceback" not in out


def test_check_missing_key(capsys, tmp_cwd):
    status, rows = run_json(capsys, "check", "gpt-4o-mini", "--json")
    assert status == 1
    assert "set the OPENAI_API_KEY environment variable" in rows[0]["error"]


def test_bad_price_file_is_one_line_on_stderr(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text("[[[")
    proc = subprocess.run(
        [sys.executable, "-m", "koderz.cli", "--prices", str(bad), "models"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "not valid TOML" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_corrupt_file_is_one_warning_line_and_the_rest_is_shown(tmp_path):
    from koderz.store import StepWriter

    StepWriter(tmp_path, "r1").write({"role": "end", "strategy": "s", "experiment_id": "r1/s/P"})
    (tmp_path / "steps" / "run=r1" / "bad.parquet").write_text("not parquet")
    proc = subprocess.run(
        [sys.executable, "-m", "koderz.cli", "runs", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stderr.startswith("koderz: warning: Skipping ") and "bad.parquet" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "r1" in proc.stdout


def test_a_closed_pipe_is_no_traceback():
    # `koderz models | head -1`: the reader is gone (here before the first write, so the
    # test does not depend on timing); the command ends quietly with SIGPIPE's status.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "koderz.cli", "models"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


# The SDK warns at the call too: that is the point.
@pytest.mark.filterwarnings("ignore:The model 'claude-opus-4-5' is deprecated")
def test_models_and_check_flag_a_deprecated_model(serve, capsys):
    status, rows = run_json(capsys, "models", "--json")
    assert status == 0
    flagged = {r["name"]: r["deprecated"] for r in rows}
    assert (
        flagged["claude-opus-4-5"]
        == "deprecated: end of life January 22nd, 2027 (the anthropic SDK)"
    )
    assert flagged["claude-opus-4-8"] is None and flagged["claude-sonnet-4-6"] is None
    serve("anthropic", script=["ok"])
    assert main(["check", "claude-opus-4-5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("NOTE  claude-opus-4-5 is deprecated: end of life January 22nd, 2027")


def test_commands_find_the_project_data_from_notebooks(tmp_path, monkeypatch, capsys):
    from koderz import demo_data

    demo_data(tmp_path / "data", problems=1)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert main(["runs", "--json"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == ["demo-1"]
    monkeypatch.chdir(tmp_path.parent)  # no data/ here or above
    monkeypatch.setenv("KODERZ_DATA_DIR", str(tmp_path / "data"))
    assert main(["analyze", "--json"]) == 0
    monkeypatch.delenv("KODERZ_DATA_DIR")
    capsys.readouterr()
    assert main(["runs"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No data folder: $KODERZ_DATA_DIR is not set" in err
