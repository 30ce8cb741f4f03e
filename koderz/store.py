"""The steps table: its Parquet schema, atomic writes, compaction, and reading back.

Layout of a data folder::

    data/
      steps/run=<run_id>/part-<time>-<uuid>.parquet     one file per step, while a run runs
      steps/run=<run_id>/compact-<time>-<uuid>.parquet  the run's steps, after it ends
      specs/...                                         briefs (specs, plans) kept for --reuse-spec
      runs/<run_id>.json                                what a run was asked to do

Which folder that is, when none is named, is one rule for the command line, the API and the
notebooks (:func:`data_folder`): ``$KODERZ_DATA_DIR``, else ``data`` in the working folder,
else ``../data`` (the project root's, seen from ``notebooks/``).

Every step is written as its own file: to a temporary name first, fsynced, then renamed into
place, so a crash or ``kill -9`` loses at most the steps in flight and every file in the
folder is whole. When a run ends its part files are compacted into one file; rows carry a
unique ``step_id`` so a crash during compaction duplicates nothing on reading.

Schema version 1 — one row per step, ``role`` saying which:

``spec``        the spec model wrote the brief, a spec (``spec_reused`` when taken from an
                earlier run); its text in ``guidance``
``plan``        the architect wrote the brief, an implementation plan (as ``spec``)
``tests``       the tester wrote tests for the problem from its prompt (``code``: those kept,
                ``own_total`` of them; ``own_dropped`` that did not parse or run, and why in
                ``error``)
``attempt``     the worker wrote code (``iteration`` 1, 2, ...), graded against the tests
``repair``      the repairer fixed the last code itself, graded like an attempt
``advice``      a consultation: the reviewer answered the worker's question during an attempt,
                through the advisor tool (advice ``on_request``): its own tokens and cost, the
                question in ``prompt``, the answer in ``guidance``; the attempt's row holds the
                worker's tokens alone
``checkpoint``  a review: the reviewer looked at the attempts so far and wrote ``guidance``
``end``         the experiment ended; ``status`` says why: ``stopped`` (its stop rule was
                met: the visible tests passed, or nothing was visible), ``solved`` (stop
                ``oracle``: an attempt passed the hidden tests), ``exhausted`` (max
                iterations) or ``error`` (final), or ``budget`` (the run's --max-cost was
                reached) or ``interrupted`` (the run was stopped), which a resumed run
                continues, writing a later end row. An experiment's end row with a final
                status is its outcome. ``iteration`` is the number of attempts made,
                ``submitted`` the attempt it submitted, ``passed`` whether that answer passed
                the hidden tests (the experiment's verdict), ``oracle_passed`` whether any
                attempt did; the row costs nothing.

Rows written before the stop rule existed have no ``stop``: they read as ``oracle``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import uuid
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from koderz.errors import DataError
from koderz.redaction import redact, secret_values

__all__ = [
    "DATA_DIR_ENV",
    "ROLES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "StepWriter",
    "compact_run",
    "data_folder",
    "flag",
    "load_steps",
    "paid_usd",
    "run_ids",
    "spent_usd",
]

SCHEMA_VERSION = 1
DATA_DIR_ENV = "KODERZ_DATA_DIR"
"""The variable that names the data folder when no argument does."""
ROLES = ("spec", "plan", "tests", "attempt", "advice", "repair", "checkpoint", "end")

CALL_ROLES = ("spec", "plan", "tests", "attempt", "advice", "repair", "checkpoint")
"""Roles of rows that are model calls (every role but ``end``)."""

CODE_ROLES = ("attempt", "repair")
"""Roles of rows whose code is judged by the tests."""

FINAL_STATUSES = frozenset({"stopped", "solved", "exhausted", "error"})
"""End-row statuses of a finished experiment (a resumed run skips it). The others,
``interrupted`` and ``budget``, mark one stopped in flight, which a resumed run goes on with."""

_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("step_id", pa.string(), "Unique id of the row."),
    ("run_id", pa.string(), "The run (one invocation of a benchmark, resumable)."),
    ("strategy", pa.string(), "Name of the strategy (a set of the settings below)."),
    ("experiment_id", pa.string(), "One problem under one strategy in one run."),
    ("problem_id", pa.string(), "The problem's task id, e.g. HumanEval/3."),
    ("problem_source", pa.string(), "Where the problem came from (humaneval, a path...)."),
    ("problem_shape", pa.string(), "How its tests run: function, io (a program's output) ..."),
    ("problem_released", pa.string(), "When the problem was published (YYYY-MM-DD), if known."),
    ("problem_difficulty", pa.string(), "The set's difficulty label (easy/medium/hard), if any."),
    ("problem_platform", pa.string(), "Where it was posed (leetcode, atcoder...), if known."),
    ("problem_language", pa.string(), "The language the answer is written in (python, go...)."),
    (
        "role",
        pa.string(),
        "spec, plan (an architect's implementation plan), tests (the tester's), attempt,"
        " advice (the advisor, asked during an attempt), repair (code fixed by the"
        " repairer), checkpoint or end.",
    ),
    ("epoch", pa.int32(), "Which repeat of the (problem, strategy) this is, from 1."),
    (
        "iteration",
        pa.int32(),
        "Attempt number (1-based); for spec 0; for checkpoints and end"
        " the number of attempts before it.",
    ),
    ("model", pa.string(), "Model called for the step (empty for end rows)."),
    ("provider", pa.string(), "anthropic, openai, ollama or llamacpp."),
    ("tier", pa.string(), "local, small_frontier or frontier."),
    (
        "model_cutoff",
        pa.string(),
        "The model's training data cutoff (YYYY-MM-DD) as the run knew it (--cutoff, else"
        " registered); empty: unknown.",
    ),
    ("input_tokens", pa.int64(), "All prompt tokens, cache included."),
    ("output_tokens", pa.int64(), "Generated tokens."),
    ("cache_read_tokens", pa.int64(), "Part of input_tokens read from the cache."),
    ("cache_write_tokens", pa.int64(), "Part of input_tokens written to the cache."),
    (
        "reasoning_tokens",
        pa.int64(),
        "Part of output_tokens spent reasoning (thinking); billed as output.",
    ),
    ("cost_usd", pa.float64(), "Token cost in dollars, cache-aware."),
    ("hardware_cost_usd", pa.float64(), "Local latency_s at the hardware rate (0 by default)."),
    ("price_source", pa.string(), "Which price source and version priced the call."),
    (
        "latency_s",
        pa.float64(),
        "Seconds the model call took, retries included (an embedded model: the time"
        " llama.cpp spent on it, measured in its worker); waits are wait_s.",
    ),
    (
        "wait_s",
        pa.float64(),
        "Seconds the call waited for a call slot or for the model (an embedded model serves"
        " one call at a time) before it ran; not part of latency_s.",
    ),
    ("call_attempts", pa.int32(), "HTTP attempts the call took (retries + 1)."),
    ("stop_reason", pa.string(), "Why generation stopped (end, max_tokens, refusal...)."),
    ("cached", pa.bool_(), "The call was answered from the call cache (tokens as first made)."),
    (
        "paid_usd",
        pa.float64(),
        "Money actually paid for the call: cost_usd + hardware_cost_usd, or 0 when cached.",
    ),
    ("rung", pa.int32(), "Cascade: which rung of the ladder made the call (from 1)."),
    (
        "passed",
        pa.bool_(),
        "Attempt: every hidden test passed (for analysis: it steers nothing under stop"
        " visible). End: the submitted answer passed the hidden tests (the verdict).",
    ),
    (
        "tests_passed",
        pa.int32(),
        "Attempt: hidden test cases passed (partial credit). End: the submitted answer's.",
    ),
    ("tests_total", pa.int32(), "Attempt and end: hidden test cases of the problem."),
    ("public_passed", pa.int32(), "Attempt: the problem's public test cases passed."),
    ("public_total", pa.int32(), "Attempt: the problem's public test cases."),
    (
        "visible_passed",
        pa.int32(),
        "Attempt: test cases passed of those the experiment can see (its public tests)."
        " End: the submitted answer's.",
    ),
    (
        "visible_total",
        pa.int32(),
        "Attempt and end: test cases the experiment can see (0: nothing visible).",
    ),
    (
        "own_passed",
        pa.int32(),
        "Attempt: test cases passed of those the strategy's tester wrote (part of visible).",
    ),
    ("own_total", pa.int32(), "Tests and attempt rows: the tester's test cases kept."),
    (
        "own_failed",
        pa.string(),
        "Attempt: which of the tester's test cases failed, by index from 0, comma-separated.",
    ),
    ("own_dropped", pa.int32(), "Tests: the tester's tests dropped (did not parse or run)."),
    ("submitted", pa.int32(), "End: the attempt whose answer was submitted (null: none)."),
    ("oracle_passed", pa.bool_(), "End: some attempt passed the hidden tests."),
    (
        "false_stop",
        pa.bool_(),
        "End: the submitted answer passed every visible test but failed the hidden ones.",
    ),
    ("exec_s", pa.float64(), "Attempt: wall time of the sandbox run."),
    (
        "status",
        pa.string(),
        "ok / the sandbox status of an attempt / why an experiment ended;"
        " provider_error when the model call failed.",
    ),
    ("error", pa.string(), "What went wrong, in words (empty when nothing did)."),
    (
        "notes",
        pa.string(),
        "What a call left out and why (a reasoning level for a model that cannot reason).",
    ),
    ("code", pa.string(), "Attempt: the program that was run."),
    ("feedback", pa.string(), "Attempt: what the worker is shown of the result next time."),
    ("guidance", pa.string(), "Checkpoint: the reviewer's guidance. Spec: the spec."),
    ("prompt", pa.string(), "The prompt sent (all messages, joined)."),
    ("response", pa.string(), "The raw reply."),
    ("spec_reused", pa.bool_(), "Spec: taken from an earlier run at no cost."),
    ("plateau", pa.bool_(), "Checkpoint: the same partial pass count 3 times running."),
    ("started_at", pa.timestamp("us", tz="UTC"), "When the step started."),
    ("finished_at", pa.timestamp("us", tz="UTC"), "When the step finished."),
    ("koderz_version", pa.string(), "Koderz version that wrote the row."),
    ("schema_version", pa.int16(), "This schema's version."),
    # The strategy's settings, repeated on every row so any row stands alone.
    ("kind", pa.string(), "Setting: advised, architect, cascade, repair or sample."),
    ("worker_model", pa.string(), "Setting: the worker model (a cascade's first rung)."),
    ("rungs", pa.string(), "Setting: a cascade's ladder of workers, comma-separated."),
    ("rung_attempts", pa.int32(), "Setting: attempts each rung of a cascade gets."),
    ("repairer_model", pa.string(), "Setting: the model that repairs code (kind repair)."),
    ("samples", pa.int32(), "Setting: answers drawn (kind sample, best-of-n)."),
    ("tester_model", pa.string(), "Setting: the model that writes tests (empty: none)."),
    ("tests_per_problem", pa.int32(), "Setting: tests the tester is asked to write."),
    (
        "escalate_below",
        pa.float64(),
        "Setting: a cascade's rung hands over when its best answer passes less than this"
        " share of the visible tests (null: after rung_attempts).",
    ),
    ("repair_after", pa.int32(), "Setting: worker attempts before the repair (kind repair)."),
    ("spec_model", pa.string(), "Setting: the spec model (empty: no spec)."),
    ("reviewer_model", pa.string(), "Setting: the reviewer model (empty: no checkpoints)."),
    ("max_iterations", pa.int32(), "Setting: attempts allowed."),
    ("checkpoint_interval", pa.int32(), "Setting: a review every this many attempts."),
    (
        "feedback_level",
        pa.string(),
        "Setting: public (only the public tests' results), full, assertion or summary"
        " (what the hidden tests leak).",
    ),
    ("mode", pa.string(), "Setting: iterative or zero_shot."),
    (
        "advice",
        pa.string(),
        "Setting: when the reviewer (advisor) is consulted: interval, on_failure or on_request.",
    ),
    ("max_advice", pa.int32(), "Setting: the most consultations in one experiment (null: any)."),
    (
        "reasoning",
        pa.string(),
        "Setting: reasoning levels per role, e.g. all=high or worker=low,reviewer=high.",
    ),
    (
        "stop",
        pa.string(),
        "Setting: visible (stop on the visible tests, submit one answer) or oracle (stop"
        " when the hidden tests pass: an upper bound); null in older rows: oracle.",
    ),
    ("temperature", pa.float64(), "Setting: sampling temperature (NaN: provider default)."),
    ("seed", pa.int64(), "Setting: sampling seed (null: none)."),
]

SCHEMA = pa.schema(
    [pa.field(name, typ, metadata={"doc": doc}) for name, typ, doc in _FIELDS],
    metadata={"koderz_schema_version": str(SCHEMA_VERSION)},
)
COLUMNS = [name for name, _, _ in _FIELDS]
_STRINGS = {name for name, typ, _ in _FIELDS if pa.types.is_string(typ)}

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(text: str) -> str:
    """``text`` usable as a file or folder name (characters outside ``A-Za-z0-9._-`` -> ``_``).

    Examples:
        >>> safe_name("HumanEval/3")
        'HumanEval_3'
    """
    return _SAFE.sub("_", text)


def data_folder(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    create: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """The data folder: the one rule of the command line, the API and the notebooks.

    1. ``data_dir``, when given (``--data-dir``, a notebook's ``data_dir`` parameter);
    2. else ``$KODERZ_DATA_DIR``;
    3. else ``data`` in the working folder, or ``../data`` where there is none: run from
       ``notebooks/``, a notebook finds what ``koderz benchmark`` wrote at the project root.

    Args:
        data_dir: The folder, if one was named.
        create: For a writer: a folder that does not exist yet is fine (rule 3 then gives
            ``data`` in the working folder).
        environ: Where ``KODERZ_DATA_DIR`` is read (default: the process's environment).

    Raises:
        DataError: Without ``create``, no such folder; the message says where it looked
            and how to name one, on the command line and in a notebook alike.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     data_folder(d, environ={}) == Path(d)
        True
        >>> data_folder(create=True, environ={"KODERZ_DATA_DIR": "/srv/koderz"})
        PosixPath('/srv/koderz')
    """
    env = os.environ if environ is None else environ
    named = "" if data_dir is None else "the data_dir given"
    if data_dir is None and env.get(DATA_DIR_ENV, "").strip():
        data_dir, named = env[DATA_DIR_ENV].strip(), f"${DATA_DIR_ENV}"
    if data_dir is not None:
        path = Path(data_dir).expanduser()
        if not create and not path.is_dir():
            raise DataError(
                f"No data folder at {path.resolve()} ({named}). Check the path, or run "
                "`koderz benchmark` first: it writes the data there."
            )
        return path
    for path in (Path("data"), Path("..", "data")):
        if path.is_dir():
            return path
    if create:
        return Path("data")
    here = Path.cwd()
    raise DataError(
        f"No data folder: ${DATA_DIR_ENV} is not set, and there is no data/ in {here} or in "
        f"{here.parent}. Run `koderz benchmark` from the project root (it writes data/ "
        f"there), or name the folder: set ${DATA_DIR_ENV}, pass --data-dir on the command "
        "line, or set data_dir in a notebook's parameters cell."
    )


def _run_dir(data_dir: Path, run_id: str) -> Path:
    return data_dir / "steps" / f"run={safe_name(run_id)}"


def _now_tag() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")


def _atomic_write(table: pa.Table, path: Path, *, compression: str = "zstd") -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        pq.write_table(table, f, compression=compression)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def to_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts) as a table of :data:`SCHEMA`; missing columns are null, strings empty."""
    rows = list(rows)
    columns: dict[str, list[Any]] = {}
    for name in COLUMNS:
        default = "" if name in _STRINGS else None
        columns[name] = [r.get(name, default) for r in rows]
    for r in rows:
        unknown = set(r) - set(COLUMNS)
        if unknown:
            raise DataError(f"Not columns of the steps schema: {', '.join(sorted(unknown))}.")
    return pa.table(columns, schema=SCHEMA)


class StepWriter:
    """Writes one run's steps into a data folder, one atomic file per step. Thread-safe.

    No secret reaches a row: the values of secret-looking environment variables (``*KEY*``,
    ``*TOKEN*``, ``*SECRET*`` ...) and anything shaped like an API key are replaced by
    ``[redacted]`` in every text column before writing (:func:`koderz.redaction.redact`).
    """

    # Tables this writer wrote, kept (up to this many bytes) so that compaction need not
    # read its own files back from disk.
    CACHE_BYTES = 256 * 2**20

    def __init__(self, data_dir: str | os.PathLike[str], run_id: str) -> None:
        self.data_dir = Path(data_dir)
        self.run_id = run_id
        self.folder = _run_dir(self.data_dir, run_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._secrets = list(secret_values())  # read once, not per row
        self._lock = threading.Lock()
        self._written: dict[Path, pa.Table] = {}
        self._cached_bytes = 0

    def write(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Write one step now; returns the row as stored (with ``step_id`` and ``run_id``)."""
        return self.write_many([row])[0]

    def write_many(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Write several steps as one file, atomically (all or none)."""
        full = [
            {
                "step_id": uuid.uuid4().hex,
                "schema_version": SCHEMA_VERSION,
                **{k: redact(v, self._secrets) if isinstance(v, str) else v for k, v in r.items()},
                "run_id": self.run_id,
            }
            for r in rows
        ]
        if full:
            path = self.folder / f"part-{_now_tag()}-{full[0]['step_id']}.parquet"
            table = to_table(full)
            # Part files live until compaction; compressing a row or two costs more than
            # it saves (0.8 of 2.5 ms per step).
            _atomic_write(table, path, compression="none")
            with self._lock:
                if self._cached_bytes + table.nbytes <= self.CACHE_BYTES:
                    self._written[path] = table
                    self._cached_bytes += table.nbytes
        return full

    def compact(self) -> Path | None:
        """Merge the run's files into one (see :func:`compact_run`), reusing what this
        writer wrote instead of reading it back."""
        with self._lock:
            known, self._written, self._cached_bytes = self._written, {}, 0
        return compact_run(self.data_dir, self.run_id, known=known)


def compact_run(
    data_dir: str | os.PathLike[str], run_id: str, *, known: Mapping[Path, pa.Table] | None = None
) -> Path | None:
    """Merge a run's files into one (atomically), then delete the merged ones.

    ``known`` maps files to their contents where the caller has them already.
    """
    folder = _run_dir(Path(data_dir), run_id)
    files = sorted(folder.glob("*.parquet"))
    if len(files) <= 1:
        return files[0] if files else None
    known = known or {}
    read = [(f, known[f] if f in known else _read_file(f)) for f in files]
    good = [(f, t) for f, t in read if t is not None]
    if not good:
        return None
    target = folder / f"compact-{_now_tag()}-{uuid.uuid4().hex[:8]}.parquet"
    _atomic_write(pa.concat_tables([t for _, t in good]), target)
    # A file that could not be read is left where it is, for the user to inspect.
    for f, _ in good:
        f.unlink(missing_ok=True)
    return target


def _read_file(path: Path, *, columns: list[str] | None = None) -> pa.Table | None:
    """One steps file as a table of the schema (or of ``columns`` of it); None if it is
    corrupt or foreign, with a warning naming it."""
    want = columns or COLUMNS
    try:
        pf = pq.ParquetFile(path)
        names = set(pf.schema_arrow.names)
        if "step_id" not in names or "role" not in names:
            warnings.warn(
                f"Skipping {path}: not a Koderz steps file (no step_id/role columns).",
                stacklevel=3,
            )
            return None
        table = pf.read(columns=[c for c in want if c in names])
    except Exception as e:  # corrupt, truncated or not Parquet at all
        warnings.warn(
            f"Skipping {path}: not a readable Parquet file ({e}). Move it out of the data "
            "folder to silence this.",
            stacklevel=3,
        )
        return None
    target = SCHEMA if columns is None else pa.schema([SCHEMA.field(c) for c in want])
    if table.schema.equals(target):  # the common case: written by this version
        return table
    for name in want:  # an older schema: newer columns are nulls
        if name not in table.column_names:
            f = SCHEMA.field(name)
            table = table.append_column(f, pa.nulls(len(table), f.type))
    try:
        return table.select(want).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        warnings.warn(f"Skipping {path}: its columns do not fit the schema ({e}).", stacklevel=3)
        return None


def run_ids(data_dir: str | os.PathLike[str]) -> list[str]:
    """The runs recorded in a data folder, oldest first."""
    root = Path(data_dir) / "steps"
    if not root.is_dir():
        return []
    dirs = [d for d in root.iterdir() if d.is_dir() and d.name.startswith("run=")]
    dirs.sort(key=lambda d: min((f.stat().st_mtime for f in d.glob("*.parquet")), default=0.0))
    return [d.name.removeprefix("run=") for d in dirs]


def load_steps(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    columns: Iterable[str] | None = None,
    **filters: Any,
) -> pd.DataFrame:
    """The recorded steps as a DataFrame, one row per step, in time order.

    Args:
        data_dir: The data folder (default: :func:`data_folder`'s rule).
        columns: Read only these columns (and those the filters, order and dedupe need);
            the text columns (prompts, replies, code) are most of the memory, so analyses
            of large folders should leave them out.
        **filters: Column equalities, e.g. ``run_id="r1"``, ``strategy="cheap"``; a list or
            tuple value matches any of its items; ``None`` or an empty list means no filter.

    A corrupt or foreign file in the folder is skipped with a warning naming it.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = StepWriter(d, "r1").write({"role": "attempt", "problem_id": "HumanEval/0"})
        ...     load_steps(d, run_id="r1")[["run_id", "role", "problem_id"]].values.tolist()
        [['r1', 'attempt', 'HumanEval/0']]
    """
    filters = {k: v for k, v in filters.items() if v is not None and not _empty_list(v)}
    root = data_folder(data_dir)
    wanted_runs = filters.get("run_id")
    runs = run_ids(root)
    if wanted_runs is not None:
        wanted = {wanted_runs} if isinstance(wanted_runs, str) else set(wanted_runs)
        runs = [r for r in runs if r in wanted]
    for col in [*filters, *(columns or [])]:
        if col not in COLUMNS:
            raise DataError(f"No column {col!r} in the steps table; see koderz/store.py.")
    wanted_cols = None
    if columns is not None:
        needed = {"step_id", "role", "started_at", *filters, *columns}
        wanted_cols = [c for c in COLUMNS if c in needed]
    tables = []
    for run in runs:
        for f in sorted(_run_dir(root, run).glob("*.parquet")):
            t = _read_file(f, columns=wanted_cols)
            if t is not None:
                tables.append(t)
    schema = SCHEMA if wanted_cols is None else pa.schema([SCHEMA.field(c) for c in wanted_cols])
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    df = table.to_pandas(types_mapper=_types_mapper)
    # Each of these copies the frame, so only when there is something to do.
    repeated = df["step_id"].duplicated()
    if repeated.any():  # a crash during compaction left a row in two files
        df = df[~repeated]
    for col, value in filters.items():
        if isinstance(value, list | tuple | set):
            df = df[df[col].isin(list(value))]
        else:
            df = df[df[col] == value]
    if not df["started_at"].is_monotonic_increasing:
        df = df.sort_values(["started_at", "step_id"], kind="stable")
    result: pd.DataFrame = df.reset_index(drop=True)
    return result


def _empty_list(value: Any) -> bool:
    return isinstance(value, list | tuple | set) and not value


def finished_ends(steps: pd.DataFrame) -> pd.DataFrame:
    """The end row of each finished experiment (run_id x experiment_id): one with a final
    status (:data:`FINAL_STATUSES`); an end row written when the engine stopped the
    experiment in flight does not finish it."""
    ends = steps[steps["role"] == "end"]
    if "status" in ends.columns:
        ends = ends[ends["status"].isin(FINAL_STATUSES)]
    return ends.drop_duplicates(["run_id", "experiment_id"], keep="last")


def spent_usd(steps: pd.DataFrame) -> float:
    """Dollars the rows cost: tokens plus local hardware (a missing value counts as 0).

    Examples:
        >>> spent_usd(pd.DataFrame({"cost_usd": [0.5, None], "hardware_cost_usd": [0.25, None]}))
        0.75
    """
    return float(steps["cost_usd"].fillna(0).sum() + steps["hardware_cost_usd"].fillna(0).sum())


def paid_usd(steps: pd.DataFrame) -> float:
    """Dollars actually paid for the rows: ``paid_usd`` where a row has it (0 for a call
    answered from the cache), else its token and hardware cost (rows of older versions).

    Examples:
        >>> paid_usd(pd.DataFrame({"cost_usd": [0.5, 0.5], "hardware_cost_usd": [0.0, 0.0],
        ...     "paid_usd": [0.5, 0.0]}))
        0.5
    """
    if "paid_usd" not in steps:
        return spent_usd(steps)
    own = steps["cost_usd"].fillna(0) + steps["hardware_cost_usd"].fillna(0)
    return float(steps["paid_usd"].astype("float64").fillna(own).sum())


def flag(value: Any) -> bool:
    """A cell of a nullable boolean column as a plain bool (missing is False).

    Rows from ``itertuples`` hold ``numpy.bool_``, for which ``is True`` is never true.

    Examples:
        >>> [flag(v) for v in pd.array([True, None, False], dtype="boolean")]
        [True, False, False]
    """
    return bool(value) if not pd.isna(value) else False


def _types_mapper(typ: pa.DataType) -> Any:
    # Nullable pandas dtypes keep "no value" apart from 0 / False.
    if pa.types.is_integer(typ):
        return pd.Int64Dtype()
    if pa.types.is_boolean(typ):
        return pd.BooleanDtype()
    return None
