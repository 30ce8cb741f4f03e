"""An experiment told as a story (spec, each attempt's code and result, guidance), and the
runs of a data folder in one line each. Pure functions over the steps table, plus an export
to files for people who grep."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from koderz.errors import ConfigError
from koderz.store import CODE_ROLES, finished_ends, flag, spent_usd

__all__ = ["experiment_rows", "experiment_story", "export_experiment", "runs_table"]

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


def _cost(r: Any) -> str:
    usd = (r.cost_usd if pd.notna(r.cost_usd) else 0.0) + (
        r.hardware_cost_usd if pd.notna(r.hardware_cost_usd) else 0.0
    )
    tokens = (
        f"{int(r.input_tokens)} in / {int(r.output_tokens)} out tokens, "
        if pd.notna(r.input_tokens)
        else ""
    )
    return f"{r.model} ({r.tier}): {tokens}${usd:.6f}"


def experiment_story(steps: pd.DataFrame, experiment_id: str) -> str:
    """The experiment as text: spec, each attempt's code and result, guidance, outcome."""
    rows = experiment_rows(steps, experiment_id)
    first = rows.iloc[0]
    out = [
        f"Experiment {experiment_id}",
        f"problem {first.problem_id} | strategy {first.strategy} | worker {first.worker_model}"
        + (f" | spec {first.spec_model}" if first.spec_model else "")
        + (f" | reviewer {first.reviewer_model}" if first.reviewer_model else ""),
    ]
    r: Any  # a row of the steps table
    for r in rows.itertuples():
        out.append(_RULE)
        if r.role in ("spec", "plan"):
            reused = " (reused, free)" if flag(r.spec_reused) else ""
            out.append(f"{r.role.upper()}{reused} - {_cost(r)}")
            out.append(r.guidance or f"(no {r.role}: {r.error})")
        elif r.role in CODE_ROLES:
            what = f"{_code_step(r)} {r.iteration}"
            if r.status == "provider_error":
                out.append(f"{what} - model call failed: {r.error}")
                continue
            verdict = "PASSED" if flag(r.passed) else "failed"
            score = (
                f"{r.tests_passed}/{r.tests_total} tests" if pd.notna(r.tests_total) else r.status
            )
            out.append(f"{what} - {verdict}, {score} - {_cost(r)}")
            out.append(r.code or "(no code)")
            if not flag(r.passed) and r.feedback:
                out.append(f"feedback shown next:\n{r.feedback}")
        elif r.role == "checkpoint":
            plateau = " (plateau)" if flag(r.plateau) else ""
            out.append(f"CHECKPOINT after attempt {r.iteration}{plateau} - {_cost(r)}")
            out.append(r.guidance or f"(no guidance: {r.error})")
        elif r.role == "end":
            total = spent_usd(rows)
            reason = f": {r.error}" if r.error else ""
            out.append(
                f"END - {r.status}{reason} after {r.iteration} attempt(s); ${total:.6f} in all"
            )
    return "\n".join(out) + "\n"


def _code_step(r: Any) -> str:
    """What wrote a step's code: ``ATTEMPT`` (with the model and rung in a cascade) or
    ``REPAIR by MODEL``."""
    if r.role == "repair":
        return f"REPAIR by {r.model}"
    rung = getattr(r, "rung", None)
    return f"ATTEMPT ({r.model}, rung {int(rung)})" if pd.notna(rung) else "ATTEMPT"


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
