"""The steps table on disk: atomic files, compaction, reading back whatever the folder holds."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from koderz.errors import DataError
from koderz.redaction import redact
from koderz.store import SCHEMA, StepWriter, compact_run, data_folder, load_steps, run_ids

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def rows(n, **extra):
    return [
        {
            "role": "attempt",
            "iteration": i + 1,
            "problem_id": f"P{i}",
            "prompt": "p" * 50,
            "started_at": T0 + dt.timedelta(seconds=i),
            "passed": i % 2 == 0,
            **extra,
        }
        for i in range(n)
    ]


def test_rows_round_trip_with_nullable_types(tmp_path):
    w = StepWriter(tmp_path, "r1")
    for r in rows(3):
        w.write(r)
    df = load_steps(tmp_path)
    assert list(df["problem_id"]) == ["P0", "P1", "P2"]
    assert list(df["passed"]) == [True, False, True]
    assert df["tests_total"].isna().all()  # never set: missing, not 0
    assert set(df["run_id"]) == {"r1"} and df["step_id"].is_unique
    assert list(df.columns) == SCHEMA.names


def test_no_temporary_file_is_left_and_every_file_is_whole(tmp_path):
    w = StepWriter(tmp_path, "r1")
    w.write_many(rows(5))
    files = list((tmp_path / "steps" / "run=r1").iterdir())
    assert len(files) == 1 and files[0].suffix == ".parquet"
    assert pq.read_table(files[0]).num_rows == 5


def test_corrupt_and_foreign_files_are_skipped_with_a_warning_naming_them(tmp_path):
    StepWriter(tmp_path, "r1").write_many(rows(2))
    folder = tmp_path / "steps" / "run=r1"
    (folder / "broken.parquet").write_bytes(b"PAR1 truncated")
    pq.write_table(pa.table({"x": [1, 2]}), folder / "foreign.parquet")
    with pytest.warns(UserWarning) as caught:
        df = load_steps(tmp_path)
    assert len(df) == 2
    messages = " ".join(str(w.message) for w in caught)
    assert "broken.parquet" in messages and "foreign.parquet" in messages


def test_an_older_schema_reads_with_newer_columns_missing(tmp_path):
    folder = tmp_path / "steps" / "run=old"
    folder.mkdir(parents=True)
    old = pa.table(
        {
            "step_id": ["a"],
            "run_id": ["old"],
            "role": ["attempt"],
            "started_at": pa.array([T0], pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(old, folder / "part-1.parquet")
    df = load_steps(tmp_path)
    assert list(df["role"]) == ["attempt"] and df["cost_usd"].isna().all()


def test_compaction_merges_and_a_crash_during_it_duplicates_nothing(tmp_path):
    w = StepWriter(tmp_path, "r1")
    for r in rows(4):
        w.write(r)
    folder = tmp_path / "steps" / "run=r1"
    parts = sorted(folder.glob("part-*.parquet"))
    keep = tmp_path / "keep.parquet"
    shutil.copy(parts[0], keep)
    target = compact_run(tmp_path, "r1")
    assert sorted(folder.iterdir()) == [target]
    shutil.copy(keep, folder / parts[0].name)  # as if the crash came before the delete
    df = load_steps(tmp_path)
    assert len(df) == 4 and df["step_id"].is_unique


def test_writer_compaction_reuses_its_tables(tmp_path):
    w = StepWriter(tmp_path, "r1")
    for r in rows(3):
        w.write(r)
    other = StepWriter(tmp_path, "r1")  # e.g. a Dask worker
    other.write(rows(1)[0])
    w.compact()
    assert len(list((tmp_path / "steps" / "run=r1").iterdir())) == 1
    assert len(load_steps(tmp_path)) == 4


def test_columns_and_filters(tmp_path):
    StepWriter(tmp_path, "r1").write_many(rows(3, strategy="a"))
    StepWriter(tmp_path, "r2").write_many(rows(2, strategy="b"))
    assert run_ids(tmp_path) == ["r1", "r2"]
    df = load_steps(tmp_path, columns=["problem_id"], strategy="b")
    assert set(df.columns) == {"step_id", "role", "started_at", "strategy", "problem_id"}
    assert list(df["problem_id"]) == ["P0", "P1"]
    assert len(load_steps(tmp_path, run_id=["r1", "r2"])) == 5
    assert len(load_steps(tmp_path, run_id=None)) == len(load_steps(tmp_path, run_id=[])) == 5
    with pytest.raises(DataError, match="No column 'nope'"):
        load_steps(tmp_path, nope=1)


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match=r"absent \(the data_dir given\).*`koderz benchmark`"):
        load_steps(tmp_path / "absent")


# --------------------------------------------------------------------------- the data folder


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project root with notebooks/ and no data/ yet; the test runs in the root."""
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_project_roots_data_is_found_from_notebooks(project, monkeypatch):
    (project / "data").mkdir()
    assert data_folder() == Path("data")
    monkeypatch.chdir(project / "notebooks")
    assert data_folder() == Path("..", "data")
    (project / "notebooks" / "data").mkdir()  # a folder of its own comes first
    assert data_folder() == Path("data")


def test_the_variable_comes_before_the_folders_and_an_argument_before_both(project, monkeypatch):
    (project / "data").mkdir()
    (project / "mine").mkdir()
    monkeypatch.setenv("KODERZ_DATA_DIR", str(project / "mine"))
    assert data_folder() == project / "mine"
    assert data_folder(project / "data") == project / "data"
    monkeypatch.setenv("KODERZ_DATA_DIR", str(project / "gone"))
    with pytest.raises(DataError, match=r"gone \(\$KODERZ_DATA_DIR\)"):
        data_folder()


def test_nothing_found_says_where_it_looked_and_how_to_name_one(project, monkeypatch):
    monkeypatch.chdir(project / "notebooks")
    with pytest.raises(DataError) as e:
        load_steps()
    message = str(e.value)
    assert f"no data/ in {project / 'notebooks'} or in {project}" in message
    for fix in ("`koderz benchmark` from the project root", "$KODERZ_DATA_DIR", "--data-dir"):
        assert fix in message
    assert "data_dir in a notebook's parameters cell" in message


def test_a_writer_gets_a_new_folder_where_none_is_found(project, monkeypatch):
    assert data_folder(create=True) == Path("data")
    assert data_folder(project / "new", create=True) == project / "new"
    (project / "data").mkdir()
    monkeypatch.chdir(project / "notebooks")
    assert data_folder(create=True) == Path("..", "data")  # where the readers will look


def test_unknown_column_in_a_row_is_refused(tmp_path):
    with pytest.raises(DataError, match="Not columns of the steps schema: bogus"):
        StepWriter(tmp_path, "r1").write({"role": "attempt", "bogus": 1})


def test_secrets_are_redacted_from_every_text_column(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_API_KEY", "acme-very-secret-value")
    w = StepWriter(tmp_path, "r1")
    w.write(
        {
            "role": "attempt",
            "response": "key=acme-very-secret-value",
            "code": "k = '" + "sk-" + "ant-api03-abcdefghijklmnopqrstuvwxyz'",
        }
    )
    row = load_steps(tmp_path).iloc[0]
    assert row["response"] == "key=[redacted]"
    assert row["code"] == "k = '[redacted]'"
    assert redact("nothing here", ["secret"]) == "nothing here"
