"""Reports: run a notebook on a data folder with Papermill, then write the executed notebook
and a self-contained HTML page.

The HTML page works offline, as a file sent by mail: images are embedded as data URIs, the
styles are inline, code cells are hidden, and every script or stylesheet the templates would
fetch from a CDN (require.js, MathJax, the widget manager) is removed; :func:`to_html` checks
that no ``src``/``href`` pointing at the network is left.

No secret can reach a report. Keys are never parameters (a notebook's parameters are its data
folder, runs, baseline, estimate model, held-out share, groups and models' cutoffs); the
kernel runs without the environment's secret variables (``*KEY*``, ``*TOKEN*``, ``*SECRET*``
...); and the executed notebook and the page are scanned for those variables' values and for
API-key shapes before anything is kept (see :mod:`koderz.redaction`, which also keeps them
out of the data).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from koderz.analysis.stats.groups import check_group_key
from koderz.errors import ConfigError, DataError, KoderzError
from koderz.redaction import find_secrets, is_secret_name

__all__ = [
    "Report",
    "external_references",
    "notebook_folders",
    "notebook_path",
    "render_report",
    "to_html",
]

# A tag that loads something: <script src=...>, <link href=...>, <img src=...>, @import url(...).
_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?|@import\s+(?:url\()?["']?|url\(["']?)(?:https?:)?//""",
    re.IGNORECASE,
)
# The page is static (images and tables): every script goes, with what it would have loaded
# (require.js, MathJax, mermaid, the widget manager), and so does any remote stylesheet.
_SCRIPT_TAG = re.compile(r"<script\b", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_REMOTE_LINK = re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^>]*>""", re.IGNORECASE)
# Inline images and fonts: base64 text in which a key's shape turns up by chance (one page in
# a few dozen holds "AIza" and 35 more letters somewhere in its PNGs), so no secret is looked for
# in them; the images' text is what the notebook's own outputs hold, which is searched.
_EMBEDDED = re.compile(r"data:[\w.+/-]+;base64,[A-Za-z0-9+/=\s]+")


@dataclass(frozen=True)
class Report:
    """The files of one rendered report."""

    notebook: Path
    """The executed notebook, outputs included."""
    html: Path
    """The self-contained HTML page (code hidden, images embedded)."""


def notebook_folders() -> list[Path]:
    """Where Koderz's own notebooks are, in the order they are looked for.

    The repository keeps them in its top-level ``notebooks/``; a wheel carries them as
    ``koderz/notebooks/`` (pyproject.toml maps the one folder into the other at build time),
    so an installed Koderz finds them inside the package and a checkout beside it.
    """
    package = Path(__file__).resolve().parents[2]  # koderz/, above analysis/report/
    return [package / "notebooks", package.parent / "notebooks"]


def notebook_path(name: str, notebook_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the notebook ``name`` (e.g. ``tier_comparison``) is: in ``notebook_dir``, or
    among Koderz's own notebooks (:func:`notebook_folders`).

    Raises:
        ConfigError: No such notebook; the message lists the ones there are.
    """
    folders = [Path(notebook_dir)] if notebook_dir else notebook_folders()
    file = f"{name.removesuffix('.ipynb')}.ipynb"
    for folder in folders:
        if (folder / file).is_file():
            return folder / file
    there = sorted({p.stem for f in folders if f.is_dir() for p in f.glob("*.ipynb")})
    where = " or ".join(str(f) for f in folders)
    hint = "" if notebook_dir else " (a Koderz install without its notebooks: reinstall it)"
    raise ConfigError(
        f"No notebook {name!r} in {where}; there are: {', '.join(there) or '(none)'}{hint}."
    )


def external_references(page: str) -> list[str]:
    """The places in an HTML page that would fetch something from the network (and any
    script, which could).

    Examples:
        >>> external_references('<link rel="stylesheet" href="https://cdn.example/x.css">')
        ['<link rel="stylesheet" href="https://cdn.example/x.css">']
        >>> external_references('<img src="data:image/png;base64,AAAA">')
        []
    """
    found = [m for pattern in (_EXTERNAL, _SCRIPT_TAG) for m in pattern.finditer(page)]
    return [page[max(0, m.start() - 40) : m.end() + 40] for m in found]


def to_html(notebook: Any) -> str:
    """An executed notebook as one offline HTML page: code hidden, images inline, no CDN.

    Raises:
        KoderzError: Something in the page would still load from the network.
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    page, _ = exporter.from_notebook_node(notebook)
    page = _REMOTE_LINK.sub("", _SCRIPT.sub("", page))
    left = external_references(page)
    if left:
        raise KoderzError(f"The HTML report would load from the network: {left[0]!r}.")
    return str(page)


@contextlib.contextmanager
def _without_secrets() -> Iterator[None]:
    """Run the block (and the kernels it starts) without the environment's secrets."""
    saved = {k: v for k, v in os.environ.items() if is_secret_name(k)}
    for k in saved:
        del os.environ[k]
    try:
        yield
    finally:
        os.environ.update(saved)


def _tag(run_ids: Sequence[str] | None) -> str:
    if not run_ids:
        return "all-runs"
    runs = list(run_ids)
    tag = "_".join(runs) if len(runs) <= 3 else f"{runs[0]}_and_{len(runs) - 1}_more"
    return re.sub(r"[^A-Za-z0-9._-]", "_", tag)[:80]


def _outputs_text(notebook: Any) -> str:
    parts: list[str] = []
    for cell in notebook.cells:
        parts.append(str(cell.get("source", "")))
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.extend(
                str(v) for k, v in out.get("data", {}).items() if not k.startswith("image/")
            )
            parts.append(str(out.get("evalue", "")))
    return "\n".join(parts)


def _require_finished(data: Path, run_ids: Sequence[str] | None) -> None:
    """Refuse to render a report of nothing: the runs must have a finished experiment."""
    from koderz.store import finished_ends, load_steps

    steps = load_steps(data, columns=["run_id", "experiment_id", "role", "status"], run_id=run_ids)
    if finished_ends(steps).empty:
        which = f" (runs: {', '.join(run_ids)})" if run_ids else ""
        raise DataError(
            f"No finished experiments in {data}{which}, so nothing to report. Run "
            "`koderz benchmark` first, or check --data-dir and --run-id."
        )


def render_report(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    run_ids: Sequence[str] | None = None,
    out_dir: str | os.PathLike[str] = "reports",
    baseline: str | None = "auto",
    estimate_model: str | None = None,
    heldout: float | None = None,
    heldout_seed: int = 0,
    split_by: str | None = None,
    cutoffs: Mapping[str, str] | None = None,
    notebooks: Sequence[str] = ("tier_comparison",),
    notebook_dir: str | os.PathLike[str] | None = None,
    date: dt.date | None = None,
    timeout_s: float = 600,
) -> list[Report]:
    """Run each notebook on ``data_dir`` and write ``NAME_RUNS_DATE.ipynb`` and ``.html``.

    Args:
        data_dir: The data folder (default: $KODERZ_DATA_DIR, else ``data``, else
            ``../data``: :func:`koderz.store.data_folder`).
        run_ids: Only these runs (default: every run); they name the report.
        out_dir: Where to write.
        baseline: The measured baseline strategy; ``"auto"`` (the default): the strategy
            whose calls are all frontier tier, if any; ``None`` or ``"none"``: none.
        estimate_model: The model the frontier-only estimate re-prices at.
        heldout: Hold out this share of the problems and show how the Pareto front chosen on
            the rest does on them (:func:`koderz.analysis.stats.choice.heldout_front`).
        heldout_seed: The seed of that split.
        split_by: Also show the analysis per group of problems: ``difficulty``,
            ``platform``, ``month``, ``source`` or ``language``.
        cutoffs: Models' training data cutoffs (``{"qwen2.5-coder:7b": "2024-09-30"}``),
            beside or instead of those the rows recorded and the registered ones.
        notebooks: Which notebooks of ``notebook_dir`` (by name: ``tier_comparison``,
            ``explore``).
        notebook_dir: Where the notebooks are (default: Koderz's own, from the package or
            the checkout).
        date: The date in the names (default: today, UTC).
        timeout_s: Longest a cell may run.

    Raises:
        DataError: No data folder, or no finished experiment in it (in ``run_ids``).
        KoderzError: A cell failed (the message gives the notebook, the cell and the error),
            or a secret was found in the outputs (then nothing is kept).
    """
    import papermill as pm

    from koderz.store import data_folder

    if split_by is not None:
        check_group_key(split_by)  # before a kernel starts
    data = data_folder(data_dir).resolve()
    _require_finished(data, run_ids)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    day = (date or dt.datetime.now(dt.UTC).date()).isoformat()
    values: dict[str, Any] = {
        "data_dir": str(data),
        "run_ids": list(run_ids or []),
        "baseline": baseline,
        "estimate_model": estimate_model,
        "heldout": heldout,
        "heldout_seed": heldout_seed,
        "split_by": split_by,
        "cutoffs": dict(cutoffs or {}),
    }
    reports = []
    for name in notebooks:
        source = notebook_path(name, notebook_dir)
        declared = pm.inspect_notebook(str(source))
        parameters = {k: v for k, v in values.items() if k in declared}
        stem = f"{source.stem}_{_tag(run_ids)}_{day}"
        executed = out / f"{stem}.ipynb"
        _execute(source, executed, parameters, timeout_s)
        reports.append(Report(notebook=executed, html=_write_page(source, executed)))
    return reports


def _execute(source: Path, executed: Path, parameters: dict[str, Any], timeout_s: float) -> None:
    """Run one notebook with Papermill, without the environment's secrets.

    Raises:
        KoderzError: A cell failed; the message names the cell, the error and where the
            executed notebook is.
    """
    import papermill as pm

    from koderz.analysis.report.kernels import kernel_manager_class

    try:
        with _without_secrets():
            pm.execute_notebook(
                str(source),
                str(executed),
                parameters=parameters,
                kernel_name="python3",
                # IPC, so ipykernel's warning about TCP is not printed into Koderz's output.
                kernel_manager_class=kernel_manager_class(),
                progress_bar=False,
                cwd=str(source.parent),
                execution_timeout=timeout_s,
            )
    except pm.PapermillExecutionError as e:
        raise KoderzError(
            f"{source.name} failed in cell {e.exec_count}: {e.ename}: {e.evalue} "
            f"(the executed notebook, with the error, is {executed})."
        ) from e


def _write_page(source: Path, executed: Path) -> Path:
    """The executed notebook's HTML page beside it, once no secret is found in either.

    Raises:
        KoderzError: A secret is in the outputs; the executed notebook is deleted.
    """
    import nbformat

    notebook = nbformat.read(executed, as_version=4)  # type: ignore[no-untyped-call]
    page = to_html(notebook)
    leaks = find_secrets(_outputs_text(notebook)) + find_secrets(_EMBEDDED.sub("data:", page))
    if leaks:
        executed.unlink(missing_ok=True)
        raise KoderzError(
            f"Not writing the {source.stem} report: its outputs contain {leaks[0]}. "
            "Remove the secret from the data (or the environment) and render again."
        )
    page_path = executed.with_suffix(".html")
    page_path.write_text(page, encoding="utf-8")
    return page_path
