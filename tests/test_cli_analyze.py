"""`koderz analyze`: the text summary and the JSON, thin over koderz.analysis (stats and text)."""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import pytest

from koderz import analyze, demo_data
from koderz.cli import main
from koderz.store import load_steps
from tests.analysis.worked import JSON_FIELDS, write_free_baseline


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_data(tmp_path_factory.mktemp("data"), problems=6, runs=2)


def test_json_has_the_documented_fields(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analyze", "--data-dir", str(data), "--baseline", "frontier-only"]
    assert main([*argv, "--estimate-model", "claude-opus-4-5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"] == "frontier-only"
    by = {s["strategy"]: s for s in out["strategies"]}
    assert set(by) == {"local+frontier", "small+frontier", "frontier-only"}
    cheap = by["local+frontier"]
    for key in JSON_FIELDS:
        assert key in cheap, key
    assert set(cheap["cost_by_tier"]) == {"local", "small_frontier", "frontier"}
    assert by["frontier-only"]["savings_usd"] is None  # the baseline is not compared to itself
    # The command adds nothing to the API's numbers.
    api = analyze(load_steps(data), baseline="frontier-only", estimate_model="claude-opus-4-5")
    expected = next(s for s in api.to_dict()["strategies"] if s["strategy"] == "local+frontier")
    assert cheap == json.loads(json.dumps(expected))


def test_text_and_json_show_pass_at_k(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(data)]) == 0
    text = capsys.readouterr().out
    assert main(["analyze", "--data-dir", str(data), "--json"]) == 0
    by = {s["strategy"]: s for s in json.loads(capsys.readouterr().out)["strategies"]}
    summary = analyze(load_steps(data)).summary.set_index("strategy")
    for strategy, row in summary.iterrows():
        assert by[strategy]["pass@1"] == pytest.approx(row["pass@1"])
        # The strategy's block of the text carries its pass@1 as a percent.
        block = text.split(f"{strategy}: ", 1)[1].split("\n\n", 1)[0]
        assert f"\n  pass@1 {100 * row['pass@1']:.1f}%\n" in block


def test_run_filter(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(data), "--run-id", "demo-1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {s["runs"] for s in out["strategies"]} == {1}


def test_text_shows_three_tiers_with_calls(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analyze", "--data-dir", str(data), "--baseline", "frontier-only"]
    assert main([*argv, "--estimate-model", "claude-opus-4-5"]) == 0
    text = capsys.readouterr().out
    a = analyze(load_steps(data), baseline="frontier-only")
    cheap = a.summary.set_index("strategy").loc["local+frontier"]
    assert re.search(rf"\n    local +{cheap['calls_local']} +\$0\.0000\n", text)
    for tier in ("small_frontier", "frontier"):
        assert f"\n    {tier}" in text
    assert "local+frontier is " in text and "times" in text
    assert "ESTIMATE (same tokens re-priced at claude-opus-4-5)" in text


def test_unknown_baseline_lists_strategies(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(data), "--baseline", "nope"]) == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and "frontier-only, local+frontier, small+frontier" in err


def test_missing_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(tmp_path / "none")]) == 2
    assert "No data folder" in capsys.readouterr().err


def test_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(tmp_path)]) == 0
    assert "No finished experiments" in capsys.readouterr().out


def test_a_free_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_free_baseline(tmp_path)
    argv = ["analyze", "--data-dir", str(tmp_path), "--baseline", "local_only"]
    assert main(argv) == 0
    assert "which costs nothing (times cheaper: undefined)" in capsys.readouterr().out
    assert main([*argv, "--json"]) == 0
    by = {s["strategy"]: s for s in json.loads(capsys.readouterr().out)["strategies"]}
    assert by["cheap"]["cost_ratio"] is None and by["cheap"]["savings_pct"] is None
    assert "costs nothing" in by["cheap"]["headline"]


def test_k_asks_for_more_pass_at_k(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(data), "-k", "1,2", "--json"]) == 0
    by = {s["strategy"]: s for s in json.loads(capsys.readouterr().out)["strategies"]}
    summary = analyze(load_steps(data), ks=(1, 2)).summary.set_index("strategy")
    for strategy, row in summary.iterrows():
        assert by[strategy]["pass@2"] == pytest.approx(row["pass@2"])
        assert by[strategy]["pass@2"] >= by[strategy]["pass@1"]


@pytest.mark.parametrize("k", ["ten", "0", ""])
def test_bad_k_is_one_line(data: Path, capsys: pytest.CaptureFixture[str], k: str) -> None:
    assert main(["analyze", "--data-dir", str(data), "-k", k]) == 2
    assert "give whole numbers >= 1" in capsys.readouterr().err


def test_the_baseline_chooses_itself(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(data), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"] == "frontier-only"  # its every call is frontier tier
    assert out["baseline_reason"].startswith("frontier-only is the measured baseline: every")
    assert main(["analyze", "--data-dir", str(data), "--baseline", "none", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"] is None and all(s["savings_usd"] is None for s in out["strategies"])
    api = analyze(load_steps(data), baseline="none")
    assert api.baseline is None and "turned off" in api.baseline_reason


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv", "json"])
def test_format_writes_the_table(fmt: str, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(data), "--format", fmt]) == 0
    out = capsys.readouterr().out
    summary = analyze(load_steps(data)).summary.set_index("strategy")
    cheap = summary.loc["local+frontier"]
    if fmt == "json":  # --format json is --json
        assert main(["analyze", "--data-dir", str(data), "--json"]) == 0
        assert json.loads(out) == json.loads(capsys.readouterr().out)
    elif fmt == "csv":
        import pandas as pd

        table = pd.read_csv(io.StringIO(out)).set_index("strategy")
        assert table.loc["local+frontier", "pass_rate"] == pytest.approx(cheap["pass_rate"])
        lo, hi = cheap["savings_pct_ci95"]
        assert table.loc["local+frontier", "savings_pct_lo"] == pytest.approx(lo)
        assert table.loc["local+frontier", "savings_pct_hi"] == pytest.approx(hi)
        assert math.isnan(table.loc["frontier-only", "savings_pct"])
    else:
        rate = f"{100 * cheap['pass_rate']:.1f}%"
        assert rate.replace("%", r"\%" if fmt == "latex" else "%") in out
        assert ("local+frontier" in out) and ("\\toprule" in out) == (fmt == "latex")
        assert out.startswith("| strategy |") == (fmt == "markdown")


def test_the_headline_leads_the_text(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--data-dir", str(data)]) == 0
    first = capsys.readouterr().out.split("\n\n")[0].splitlines()
    assert first == analyze(load_steps(data)).headlines()
