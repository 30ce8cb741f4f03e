"""Run a candidate in the chosen isolation and turn what its judge reported into an
:class:`~koderz.records.ExecResult`.

A pass needs a record of every test case, in the nonce-tagged frames only the judge can write
(``koderz/sandbox/judge/__init__.py`` says why the candidate cannot forge them), and a ``done``
record whose counts agree; anything less is a failure, with the reason.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from koderz.errors import ConfigError
from koderz.records import ExecResult, Problem, TestOutcome
from koderz.sandbox.cases import Cases
from koderz.sandbox.limits import Limits
from koderz.sandbox.pipes import Raw
from koderz.sandbox.proc import run_rlimits
from koderz.sandbox.shapes import SHAPES, Shape
from koderz.sandbox.zygote import SandboxKind, run_in_zygote

__all__ = ["run_candidate", "sandbox_kind"]


def run_candidate(
    mode: str,
    shape: Shape,
    problem: Problem,
    code: str,
    limits: Limits,
    *,
    chosen: bool = True,
) -> ExecResult:
    """Run ``code`` against ``problem``'s tests as ``shape`` judges them, in ``mode``;
    ``chosen``: the caller chose ``limits`` (else they are the shape's defaults)."""
    plan = shape.plan(problem)
    cases = shape.cases(plan)
    if cases.static_total == 0:
        raise ConfigError(
            f"The tests of {problem.task_id} contain no assertion, so every program would "
            "pass; give the problem at least one assert."
        )
    limits, told = shape.sample_limits(plan, problem, limits, chosen=chosen)
    tests = {**shape.tests(plan, problem), **told, "shape": shape.name}
    program = shape.program(problem, code)
    if mode == "bwrap":
        raw = run_in_zygote(sandbox_kind(shape, limits), program, tests, limits)
        return _verdict(raw, cases, "bwrap")
    return _verdict(run_rlimits(program, tests, limits), cases, "rlimits-only")


def sandbox_kind(shape: Shape, limits: Limits) -> SandboxKind:
    """The kind of sandbox a shape's candidates run in: every shape of equal needs shares
    it (their judge halves load in it once)."""
    spec = shape.sandbox
    shapes = tuple(sorted(name for name, s in SHAPES.items() if s.sandbox == spec))
    return SandboxKind(limits.disk_bytes, spec, shapes)


def _parse_records(data: bytes, nonce: str) -> list[tuple[Any, ...]]:
    lines = data.decode("utf-8", "replace").splitlines()
    try:  # all at once: one parse per run, not one per record
        parsed = json.loads("[" + ",".join(lines) + "]")
    except (ValueError, RecursionError):  # a line cut at the cap: skip just that one
        parsed = [_json_or_none(line) for line in lines]
    return [
        tuple(record[1:])
        for record in parsed
        if type(record) is list and len(record) >= 2 and record[0] == nonce
    ]


def _json_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _text(value: Any, cap: int = 4000) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= cap else "..." + text[-cap:]


@dataclass
class _Report:
    """What the judge reported, sorted by kind; only well-formed records count."""

    outcomes: list[TestOutcome] = field(default_factory=list)
    load: tuple[Any, ...] | None = None
    setup_failure: tuple[Any, ...] | None = None
    setup_failures: list[TestOutcome] = field(default_factory=list)
    done: tuple[Any, ...] | None = None
    last_item: int = -1


def _read_report(records: list[tuple[Any, ...]], cases: Cases) -> _Report:
    report = _Report()
    for record in records:
        kind = record[0]
        if kind == "load" and len(record) == 4:
            report.load = record
        elif kind == "setup" and len(record) == 5 and isinstance(record[1], int):
            if report.setup_failure is None:
                report.setup_failure = record
            report.setup_failures.append(_setup_outcome(record, cases, len(report.setup_failures)))
        elif kind == "case" and len(record) == 7:
            _, item, iteration, passed, tkind, message, tb = record
            if not (isinstance(item, int) and 0 <= item < len(cases.kinds)):
                continue
            report.last_item = item
            label = cases.labels[item]
            if isinstance(iteration, int) and iteration >= 0:
                label = f"{label}  # iteration {iteration}" + cases.detail(item)
            report.outcomes.append(
                TestOutcome(
                    index=len(report.outcomes),
                    passed=passed is True,
                    kind=str(tkind) if passed is not True else "passed",
                    source=label,
                    message=_text(message),
                    traceback=_text(tb),
                    item=item,
                    iteration=iteration if isinstance(iteration, int) else -1,
                )
            )
        elif kind == "done" and len(record) == 3:
            report.done = record
    return report


def _setup_outcome(record: tuple[Any, ...], cases: Cases, index: int) -> TestOutcome:
    """A set-up step that raised, as an outcome of its own (item -1: the prelude)."""
    _, item, kind, message, tb = record
    known = 0 <= item < len(cases.kinds)
    return TestOutcome(
        index=index,
        passed=False,
        kind=str(kind),
        source=cases.labels[item] if known else cases.prelude,
        message=_text(message),
        traceback=_text(tb),
        item=item if known else -1,
    )


def _verdict(raw: Raw, cases: Cases, mode: str) -> ExecResult:
    report = _read_report(_parse_records(bytes(raw.records), raw.nonce), cases)
    common: dict[str, Any] = {
        "stdout": raw.stdout.decode("utf-8", "replace"),
        "stderr": raw.stderr.decode("utf-8", "replace"),
        "duration_s": raw.duration_s,
        "isolation": mode,
        "setup_failures": tuple(report.setup_failures),
    }
    if report.load is not None and report.load[1] != "ok":
        return _load_failed(report.load, cases, common)
    if report.done is None:
        return _unfinished(report, cases, raw.killed, common)
    return _finished(report, cases, common)


def _load_failed(load: tuple[Any, ...], cases: Cases, common: dict[str, Any]) -> ExecResult:
    """The program did not load: a syntax error, an exception, a timeout, ..."""
    status = str(load[1]) if load[1] in ("syntax_error", "timeout", "memory", "crash") else "error"
    failed = TestOutcome(0, False, kind=status, message=_text(load[2]), traceback=_text(load[3]))
    return ExecResult(
        passed=False,
        status=status,
        tests_passed=0,
        tests_total=cases.static_total,
        outcomes=(failed,),
        **common,
    )


def _unfinished(report: _Report, cases: Cases, killed: bool, common: dict[str, Any]) -> ExecResult:
    """The run never finished: the case in flight timed out or crashed, the rest never ran."""
    outcomes = report.outcomes
    why = "timeout" if killed else "crash"
    message = (
        "the sample ran past its deadline (and the time allowed to start) and was killed"
        if killed
        else "the sandbox ended without reporting (killed, out of memory or crashed)"
    )
    # Without a load record no case ran either, so last_item is -1: all of them.
    running = [i for i, kind in enumerate(cases.kinds) if kind != "setup" and i > report.last_item]
    for n, i in enumerate(running):
        outcomes.append(
            TestOutcome(
                index=len(outcomes),
                passed=False,
                kind=why if n == 0 else "not_run",
                source=cases.labels[i],
                message=message if n == 0 else "",
                item=i,
            )
        )
    if not outcomes:
        outcomes.append(TestOutcome(0, False, kind=why, message=message))
    return ExecResult(
        passed=False,
        status=why,
        tests_passed=sum(o.passed for o in outcomes),
        tests_total=len(outcomes),
        outcomes=tuple(outcomes),
        **common,
    )


def _count_cut_off(outcomes: list[TestOutcome]) -> None:
    """Say in the message of the case the deadline interrupted how many it cut off."""
    cut = sum(o.kind == "not_run" for o in outcomes)
    timed_out = next((i for i, o in enumerate(outcomes) if o.kind == "timeout"), None)
    if cut and timed_out is not None:
        first = outcomes[timed_out]
        message = f"{first.message}; the {cut} test case(s) after it were cut off and failed"
        outcomes[timed_out] = replace(first, message=message)


def _finished(report: _Report, cases: Cases, common: dict[str, Any]) -> ExecResult:
    """A pass needs the load, every case passed, no failed set-up and a done record whose
    counts agree with the cases reported."""
    outcomes, setup_failure, done = report.outcomes, report.setup_failure, report.done
    assert done is not None
    _count_cut_off(outcomes)
    n_passed = sum(o.passed for o in outcomes)
    complete = done[1] == len(outcomes) and done[2] == n_passed
    passed = (
        report.load is not None and complete and n_passed == len(outcomes) and setup_failure is None
    )
    first = next((o for o in outcomes if not o.passed), None)
    if passed:
        status = "passed"
    elif first is not None:
        # A case is cut off only once the deadline has passed (in a set-up step, if no case
        # before it timed out).
        kind = "timeout" if first.kind == "not_run" else first.kind
        status = kind if kind in ("timeout", "memory", "crash") else "failed"
    elif setup_failure is not None:
        # A build that fails (the build shape) is a program that does not compile.
        kind = setup_failure[2]
        status = kind if kind in ("timeout", "syntax_error") else "error"
        outcomes.append(
            TestOutcome(
                index=len(outcomes),
                passed=False,
                kind=str(setup_failure[2]),
                source=cases.labels[setup_failure[1]] if setup_failure[1] >= 0 else cases.prelude,
                # A build's failure says what failed itself.
                message=("" if kind == "syntax_error" else "set-up statement failed: ")
                + _text(setup_failure[3]),
                traceback=_text(setup_failure[4]),
            )
        )
    else:
        status = "crash"
    return ExecResult(
        passed=passed,
        status=status,
        tests_passed=n_passed,
        tests_total=len(outcomes),
        outcomes=tuple(outcomes),
        **common,
    )
