"""An experiment told as a story (spec, each attempt's code and result, guidance), and the
runs of a data folder in one line each. Pure functions over the steps table, plus an export
to files for people who grep."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from koderz.errors import ConfigError
from koderz.store import CODE_ROLES, finished_ends, flag, spent_usd

__all__ = [
    "Story",
    "StoryStep",
    "experiment_rows",
    "experiment_story",
    "export_experiment",
    "runs_table",
    "story",
]

_RULE = "-" * 72


def runs_table(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per run: strategies, experiments, solved, cost, first and last step.

    Examples:
        >>> runs_table(pd.DataFrame(columns=["run_id"])).empty
        True
    """
    columns = [
        "run_id",
        "strategies",
        "experiments",
        "finished",
        "solved",
        "cost_usd",
        "started",
        "last_step",
    ]
    if steps.empty:
        return pd.DataFrame(columns=columns)
    rows: list[dict[str, Any]] = []
    for run_id, g in steps.groupby("run_id", sort=False):
        ends = finished_ends(g)
        rows.append(
            {
                "run_id": run_id,
                "strategies": ",".join(sorted(g["strategy"].dropna().unique())),
                "experiments": g["experiment_id"].nunique(),
                "finished": len(ends),
                "solved": int((ends["status"] == "solved").sum()),
                "cost_usd": spent_usd(g),
                "started": g["started_at"].min(),
                "last_step": g["finished_at"].max(),
            }
        )
    return pd.DataFrame(rows, columns=columns).sort_values("started").reset_index(drop=True)


def experiment_rows(steps: pd.DataFrame, experiment_id: str) -> pd.DataFrame:
    """The rows of one experiment in time order.

    Raises:
        ConfigError: No such experiment; the message names a few that exist.
    """
    rows = steps[steps["experiment_id"] == experiment_id]
    if rows.empty:
        known = list(dict.fromkeys(steps["experiment_id"].dropna()))[:5]
        hint = f" Some that exist: {', '.join(known)}." if known else " The folder has none."
        raise ConfigError(f"No experiment {experiment_id!r}.{hint} `koderz runs` lists runs.")
    return rows.sort_values("started_at", kind="stable")


@dataclass(frozen=True)
class StoryStep:
    """One row of an experiment, as every telling of its story shows it."""

    role: str
    """The row's role: spec, plan, attempt, repair, checkpoint or end."""
    iteration: int
    """The attempt's number; for a checkpoint or the end, the attempts before it."""
    model: str = ""
    """The model called (empty for the end)."""
    tier: str = ""
    """The model's tier."""
    cost_usd: float = 0.0
    """Tokens plus hardware."""
    tokens: tuple[int, int] | None = None
    """Input and output tokens, when the call reported them."""
    text: str = ""
    """The spec, plan or guidance; the code of an attempt; why a model call failed."""
    call_failed: bool = False
    """The model call failed (``text`` says why)."""
    passed: bool = False
    """An attempt's verdict."""
    tests: str = ""
    """An attempt's score on the hidden tests, ``3/7 tests``, or its sandbox status when it
    ran no test."""
    visible: str = ""
    """An attempt's score on the tests the experiment could see, ``2/2``; the end's, of the
    submitted answer (empty when unknown)."""
    feedback: str = ""
    """What the worker was shown of a failed attempt next time."""
    rung: int | None = None
    """A cascade's rung that wrote the attempt."""
    reused: bool = False
    """A spec or plan taken from an earlier run, free."""
    plateau: bool = False
    """A checkpoint that saw the same partial score three times running."""
    status: str = ""
    """The end's status."""
    submitted: int | None = None
    """The end: the attempt whose answer was submitted."""
    false_stop: bool = False
    """The end: the submitted answer passed every visible test and failed the hidden ones."""
    error: str = ""
    """What went wrong (a spec with no text, an error end)."""

    @property
    def who(self) -> str:
        """``model (tier)``."""
        return f"{self.model} ({self.tier})"

    @property
    def title(self) -> str:
        """The step's name: ``Attempt 2``, ``Attempt 3 (model, rung 2)``, ``Repair by M``,
        ``Checkpoint after attempt 2 (plateau)``, ``Spec (reused, free)``."""
        if self.role in ("spec", "plan"):
            return self.role.capitalize() + (" (reused, free)" if self.reused else "")
        if self.role == "repair":
            return f"Repair {self.iteration} by {self.model}"
        if self.role == "attempt":
            rung = f" ({self.model}, rung {self.rung})" if self.rung is not None else ""
            return f"Attempt {self.iteration}{rung}"
        if self.role == "checkpoint":
            return f"Checkpoint after attempt {self.iteration}" + (
                " (plateau)" if self.plateau else ""
            )
        if self.role == "advice":
            return f"Advice asked for during attempt {self.iteration}"
        if self.role == "tests":
            return f"Tests written ({self.tests})"
        return "End"


@dataclass(frozen=True)
class Story:
    """An experiment's rows as steps, with what names it."""

    experiment_id: str
    problem_id: str
    strategy: str
    worker: str
    spec_model: str
    reviewer: str
    steps: tuple[StoryStep, ...]
    total_usd: float
    """What the whole experiment cost (tokens and hardware)."""


def _cell(row: Any, name: str) -> Any:
    value = getattr(row, name, None)
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _str(row: Any, name: str) -> str:
    value = _cell(row, name)
    return "" if value is None else str(value)


def story(steps: pd.DataFrame, experiment_id: str) -> Story:
    """The experiment's rows as :class:`StoryStep` records, in time order: the one walk of
    the rows that the text (:func:`experiment_story`) and the HTML
    (:func:`koderz.analysis.text.pages.story_html`) both render.

    Raises:
        ConfigError: No such experiment; the message names a few that exist.
    """
    rows = experiment_rows(steps, experiment_id)
    told: list[StoryStep] = []
    r: Any  # a row of the steps table
    for r in rows.itertuples():
        role = _str(r, "role")
        if role not in ("spec", "plan", "tests", "checkpoint", "advice", "end", *CODE_ROLES):
            continue
        tokens_in, tokens_out = _cell(r, "input_tokens"), _cell(r, "output_tokens")
        rung = _cell(r, "rung")
        step = StoryStep(
            role=role,
            iteration=int(_cell(r, "iteration") or 0),
            model=_str(r, "model"),
            tier=_str(r, "tier"),
            cost_usd=float(_cell(r, "cost_usd") or 0.0) + float(_cell(r, "hardware_cost_usd") or 0),
            tokens=None if tokens_in is None else (int(tokens_in), int(tokens_out or 0)),
            rung=None if rung is None else int(rung),
            visible=_score(_cell(r, "visible_passed"), _cell(r, "visible_total")),
            submitted=None if _cell(r, "submitted") is None else int(_cell(r, "submitted")),
            false_stop=flag(_cell(r, "false_stop")),
            reused=flag(_cell(r, "spec_reused")),
            plateau=flag(_cell(r, "plateau")),
            status=_str(r, "status"),
            error=_str(r, "error"),
        )
        if role in CODE_ROLES and step.status == "provider_error":
            step = replace(step, call_failed=True, text=step.error)
        elif role in CODE_ROLES:
            total = _cell(r, "tests_total")
            passed = flag(_cell(r, "passed"))
            step = replace(
                step,
                text=_str(r, "code"),
                passed=passed,
                tests=f"{_cell(r, 'tests_passed')}/{total} tests"
                if total is not None
                else step.status,
                feedback="" if passed else _str(r, "feedback"),
            )
        elif role == "end":
            step = replace(step, passed=flag(_cell(r, "passed")))
        elif role == "tests":
            kept, dropped = _cell(r, "own_total") or 0, _cell(r, "own_dropped") or 0
            dropped_why = f"\nDropped: {step.error}" if step.error else ""
            step = replace(
                step,
                tests=f"{int(kept)} kept, {int(dropped)} dropped",
                text=(_str(r, "code") or "(none kept)") + dropped_why,
            )
        elif role == "advice":
            question = _str(r, "prompt")
            asked = f"Asked: {question}\n" if question else ""
            step = replace(step, text=asked + (_str(r, "guidance") or "(advice not readable)"))
        else:
            text = _str(r, "guidance")
            what = "guidance" if role == "checkpoint" else role
            step = replace(step, text=text or f"(no {what}: {step.error})")
        told.append(step)
    first = rows.iloc[0]

    def setting(name: str) -> str:
        value = first.get(name)
        return "" if value is None or pd.isna(value) else str(value)

    return Story(
        experiment_id=experiment_id,
        problem_id=setting("problem_id"),
        strategy=setting("strategy"),
        worker=setting("worker_model"),
        spec_model=setting("spec_model"),
        reviewer=setting("reviewer_model"),
        steps=tuple(told),
        total_usd=sum(step.cost_usd for step in told),
    )


def _score(passed: Any, total: Any) -> str:
    return "" if passed is None or total is None else f"{int(passed)}/{int(total)}"


def end_words(step: StoryStep) -> str:
    """What an end step says of the submitted answer, e.g. ``submitted attempt 2, which
    failed the hidden tests (a false stop: it passed every visible test)``."""
    if step.submitted is None:
        return ""
    verdict = "passed" if step.passed else "failed"
    words = f"submitted attempt {step.submitted}, which {verdict} the hidden tests"
    if step.false_stop:
        words += " (a false stop: it passed every visible test)"
    elif step.visible == "0/0":
        words += " (nothing was visible to check it)"
    return words


def _cost(step: StoryStep) -> str:
    tokens = f"{step.tokens[0]} in / {step.tokens[1]} out tokens, " if step.tokens else ""
    return f"{step.who}: {tokens}${step.cost_usd:.6f}"


def experiment_story(steps: pd.DataFrame, experiment_id: str) -> str:
    """The experiment as text: spec, each attempt's code and result, guidance, outcome."""
    told = story(steps, experiment_id)
    out = [
        f"Experiment {experiment_id}",
        f"problem {told.problem_id} | strategy {told.strategy} | worker {told.worker}"
        + (f" | spec {told.spec_model}" if told.spec_model else "")
        + (f" | reviewer {told.reviewer}" if told.reviewer else ""),
    ]
    for step in told.steps:
        out.append(_RULE)
        word, _, rest = step.title.partition(" ")
        title = f"{word.upper()} {rest}".rstrip()
        if step.role == "end":
            reason = f": {step.error}" if step.error else ""
            answer = f"; {end_words(step)}" if end_words(step) else ""
            out.append(
                f"END - {step.status}{reason} after {step.iteration} attempt(s){answer}; "
                f"${told.total_usd:.6f} in all"
            )
        elif step.call_failed:
            out.append(f"{title} - model call failed: {step.text}")
        elif step.role in CODE_ROLES:
            verdict = "PASSED" if step.passed else "failed"
            seen = f", visible tests {step.visible}" if step.visible else ""
            out.append(f"{title} - {verdict}, {step.tests}{seen} - {_cost(step)}")
            out.append(step.text or "(no code)")
            if step.feedback:
                out.append(f"feedback shown next:\n{step.feedback}")
        else:
            out.append(f"{title} - {_cost(step)}")
            out.append(step.text)
    return "\n".join(out) + "\n"


def export_experiment(
    steps: pd.DataFrame, experiment_id: str, out_dir: str | os.PathLike[str]
) -> list[Path]:
    """Write the experiment as files: per attempt the raw reply, code and result; per
    checkpoint ``{experiment_id}_checkpoint{NN}_guidance.txt``; the spec and the story.

    File names use the experiment id with ``/`` replaced by ``_``. Returns the paths written.
    """
    rows = experiment_rows(steps, experiment_id)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = experiment_id.replace("/", "_")
    written: list[Path] = []

    def put(name: str, text: str) -> None:
        path = folder / f"{stem}_{name}"
        path.write_text(text if text.endswith("\n") else text + "\n")
        written.append(path)

    r: Any
    for r in rows.itertuples():
        if r.role in ("spec", "plan"):
            put(f"{r.role}.txt", r.guidance or "")
        elif r.role in CODE_ROLES:
            n = int(r.iteration)
            put(f"iter{n:02d}_response.txt", r.response or "")
            put(f"iter{n:02d}_code.py", r.code or "")
            put(
                f"iter{n:02d}_result.txt",
                f"status: {r.status}\npassed: {r.passed}\n"
                f"tests: {r.tests_passed}/{r.tests_total}\nerror: {r.error}\n\n{r.feedback or ''}",
            )
        elif r.role == "checkpoint":
            put(f"checkpoint{int(r.iteration):02d}_guidance.txt", r.guidance or "")
    put("story.txt", experiment_story(steps, experiment_id))
    return written
