"""Samples files: how each format is read, and what program a sample is.

A format is one entry of :data:`FORMATS`: a reader from a file to :class:`Sample` records,
and the program a sample runs as, given its problem. Adding a format (LiveCodeBench's list
of outputs, polyglot-benchmark's files, MultiPL-E's completions) is one entry here, or a
module of its own that this registry names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from koderz.errors import ConfigError, ProblemFileError
from koderz.extract import listing
from koderz.problems import multiple, read_jsonl
from koderz.records import Problem

__all__ = ["FORMATS", "Sample", "SampleFormat", "check_known", "read_samples", "sniff"]


@dataclass(frozen=True)
class Sample:
    """One sample as read from its file."""

    line: int
    """Its line (or item) number in the file, for error messages."""
    task_id: str
    """The problem it answers."""
    fields: dict[str, Any]
    """Everything the file gave for it; its results row repeats these."""


@dataclass(frozen=True)
class SampleFormat:
    """How one kind of samples file is read, and what program a sample is."""

    read: Callable[[Path], list[Sample]]
    """The file's samples, in order; raises :class:`~koderz.errors.ConfigError` naming
    the line of a malformed one."""
    program: Callable[[Problem, Sample], str]
    """The complete program that runs against the problem's tests."""


def _read_human_eval(path: Path) -> list[Sample]:
    samples = []
    for number, row in read_jsonl(path):
        for name in ("task_id", "completion"):
            if not isinstance(row.get(name), str):
                raise ProblemFileError(f"{name!r} must be a string", path=str(path), line=number)
        samples.append(Sample(number, row["task_id"], row))
    return samples


def _human_eval_program(problem: Problem, sample: Sample) -> str:
    # A completion may be a body or, as chat models answer, the whole function: either way
    # human-eval runs the prompt and then the completion. A program's tests (io, calls)
    # have no code in their prompt: the completion is the whole program.
    completion: str = sample.fields["completion"]  # a string: read_samples checked
    if problem.shape == "script":  # a MultiPL-E row: prompt, completion, tests
        return multiple.program(problem, completion)
    if problem.shape != "function":
        return completion
    return problem.prompt + completion


def _whole_program(problem: Problem, sample: Sample) -> str:
    program: str = sample.fields["completion"]
    return program


def _read_lcb(path: Path) -> list[Sample]:
    """LiveCodeBench's custom output: a JSON list of ``{question_id, code_list}``; one
    sample per program, each question's in the order of its list."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ProblemFileError(f"not a JSON file ({e})", path=str(path)) from None
    if not isinstance(items, list):
        raise ProblemFileError("must be a JSON list of {question_id, code_list}", path=str(path))
    samples = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or "question_id" not in item:
            raise ProblemFileError("each item needs a question_id", path=str(path), line=number)
        codes = item.get("code_list")
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ProblemFileError(
                "code_list must be a list of program texts", path=str(path), line=number
            )
        task_id = str(item["question_id"])
        for index, code in enumerate(codes):
            fields = {"task_id": task_id, "code_index": index, "completion": code}
            samples.append(Sample(number, task_id, fields))
    return samples


def _read_polyglot(path: Path) -> list[Sample]:
    samples = []
    for number, row in read_jsonl(path):
        files = row.get("files")
        if not isinstance(row.get("task_id"), str):
            raise ProblemFileError("'task_id' must be a string", path=str(path), line=number)
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise ProblemFileError(
                "'files' must be an object of paths to texts", path=str(path), line=number
            )
        samples.append(Sample(number, row["task_id"], row))
    return samples


def _polyglot_program(problem: Problem, sample: Sample) -> str:
    # The sandbox lays only the files the worker may write; the rest are noted in the row.
    return listing(sample.fields["files"], problem.language)


FORMATS: dict[str, SampleFormat] = {
    # JSON Lines (plain or gzipped) of task_id and completion, any other fields kept: for a
    # function's tests the prompt and the completion (a MultiPL-E row's between its prompt
    # and its tests), for a program's the completion whole.
    "human-eval": SampleFormat(_read_human_eval, _human_eval_program),
    # The same file, each completion run whole whatever the problem's shape.
    "program": SampleFormat(_read_human_eval, _whole_program),
    # LiveCodeBench's custom output file (lcb_runner.runner.custom_evaluator).
    "lcb": SampleFormat(_read_lcb, _whole_program),
    # Polyglot exercises: task_id and files, {path: text}, the worker's solution files.
    "polyglot": SampleFormat(_read_polyglot, _polyglot_program),
}
"""Samples formats by name."""


def sniff(path: Path) -> str:
    """The format of a samples file by its content: a JSON list is LiveCodeBench's custom
    output; JSON Lines whose first row has ``files`` are polyglot exercises' samples;
    anything else human-eval's JSON Lines."""
    with path.open("rb") as f:
        head = f.read(4096).lstrip()
    if head[:1] == b"[":
        return "lcb"
    for _, row in read_jsonl(path):
        return "polyglot" if "files" in row else "human-eval"
    return "human-eval"


def read_samples(path: Path, sample_format: str = "human-eval") -> list[Sample]:
    """The samples of ``path`` in ``sample_format`` (a name in :data:`FORMATS`, or
    ``auto``: by its content, :func:`sniff`).

    Raises:
        ConfigError: The file is missing or malformed, or the format unknown.
    """
    if sample_format == "auto" and path.is_file():
        sample_format = sniff(path)
    if sample_format not in FORMATS:
        known = ", ".join(FORMATS)
        raise ConfigError(f"Unknown samples format {sample_format!r}; the formats are {known}.")
    if not path.is_file():
        raise ConfigError(f"Samples file {str(path)!r} does not exist.")
    return FORMATS[sample_format].read(path)


def check_known(samples: list[Sample], problems: dict[str, Problem], path: Path) -> None:
    """Refuse a sample of a problem the problem set does not have.

    Raises:
        ProblemFileError: naming the sample's line and the fix.
    """
    for sample in samples:
        if sample.task_id not in problems:
            raise ProblemFileError(
                f"unknown task_id {sample.task_id!r}; give the problem set it belongs to "
                "with --problem-file.",
                path=str(path),
                line=sample.line,
            )
