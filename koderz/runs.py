"""A run's manifest: what it was asked to do, kept beside its rows, so that a resumed run asks
the same."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from koderz.errors import ConfigError
from koderz.experiment import Strategy

__all__ = ["write_manifest"]


def write_manifest(
    data_dir: Path, run_id: str, strategies: Sequence[Strategy], problems: str
) -> None:
    """Record what the run was asked to do; a resumed run must ask the same."""
    from koderz.prompts import PROMPTS_VERSION
    from koderz.version import __version__

    path = data_dir / "runs" / f"{run_id}.json"
    wanted = {s.name: s.to_dict() for s in strategies}
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("problems") not in (None, problems):
            raise ConfigError(
                f"Run {run_id} was started on problems {old['problems']!r}, not {problems!r}; "
                "resume it with the same problem file, or start a new --run-id."
            )
        for name, settings in wanted.items():
            before = old.get("strategies", {}).get(name)
            if before is not None and before != settings:
                raise ConfigError(
                    f"Run {run_id} was started with other settings for strategy {name!r} "
                    f"({before}); resume it with the same settings, or start a new --run-id."
                )
        wanted = {**old.get("strategies", {}), **wanted}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "run_id": run_id,
                "koderz_version": __version__,
                "prompts_version": PROMPTS_VERSION,
                "problems": problems,
                "strategies": wanted,
                "updated_at": dt.datetime.now(dt.UTC).isoformat(),
            },
            indent=2,
        )
    )
    tmp.replace(path)
