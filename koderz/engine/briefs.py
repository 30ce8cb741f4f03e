"""Briefs (specs and plans) kept for ``reuse_spec``: one file per (model, problem prompt,
prompt version, role) under ``data/specs/``, shared by threads, processes and Dask workers."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from koderz.engine.prompts import PROMPTS_VERSION
from koderz.store import safe_name

__all__ = ["BriefCache"]


class BriefCache:
    """The folder of kept briefs, specs and plans (``None``: none is kept)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def path(self, model: str, role: str, task_id: str, prompt: str) -> Path | None:
        """Where the brief of ``role`` (``spec`` or ``plan``) by ``model`` for this prompt is
        kept."""
        if self.folder is None:
            return None
        # Keyed by the prompt's text and the prompts' version too: a HumanEval+ problem with
        # a HumanEval id, or a changed spec prompt, must not get an old spec. A plan is kept
        # apart from a spec by the same model.
        digest = hashlib.sha256(f"{PROMPTS_VERSION}\0{role}\0{prompt}".encode()).hexdigest()[:12]
        return self.folder / safe_name(model) / f"{safe_name(task_id)}-{digest}.txt"

    def get(self, model: str, role: str, task_id: str, prompt: str) -> str | None:
        """The kept text, or None."""
        path = self.path(model, role, task_id, prompt)
        if path is None or not path.is_file():
            return None
        return path.read_text() or None

    def put(self, model: str, role: str, task_id: str, prompt: str, text: str) -> None:
        """Keep ``text`` (atomically: another process may read it at once)."""
        path = self.path(model, role, task_id, prompt)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own: threads, processes and Dask workers on other hosts share the
        # folder (a thread id is unique only within one process).
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
