"""Files of strategies: TOML tables of settings, a list value sweeping over its values, and
the built-in presets as such a file.

Many strategies are compared in one run from a TOML file (:func:`load_strategies`); with
``LOCAL``, ``SMALL`` and ``FRONTIER`` standing for model names (``koderz strategies`` prints
the built-in presets as such a file, with :mod:`koderz.models.registry`'s defaults)::

    [defaults]                     # optional: applies to every strategy below
    max_iterations = 4

    [strategies."local+frontier"]
    worker = "LOCAL"
    spec_model = "FRONTIER"
    reviewer = "FRONTIER"
    checkpoint_interval = [1, 2]   # a list expands: one strategy per value

    [strategies.ladder]
    kind = "cascade"
    rungs = ["LOCAL", "SMALL", "FRONTIER"]

    [cutoffs]                      # optional: models' training data cutoffs, as --cutoff
    "qwen2.5-coder:7b" = 2024-09-30

The settings a file may give are :class:`~koderz.engine.strategies.Strategy`'s fields, the
table :data:`koderz.engine.switches.SWITCHES`; the cutoffs are read by :func:`load_cutoffs`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from koderz.engine.strategies import Strategy
from koderz.errors import ConfigError, iso_date, read_toml
from koderz.models.registry import DEFAULT_ADVISOR, DEFAULT_FRONTIER, DEFAULT_LOCAL, DEFAULT_SMALL

__all__ = ["FIELDS", "expand", "load_cutoffs", "load_strategies", "presets", "strategies_toml"]

_TABLES = ("defaults", "strategies", "cutoffs")
"""The top-level tables a strategies file may have."""


def _list(items: Sequence[str]) -> str:
    return ", ".join(items)


FIELDS = tuple(f.name for f in fields(Strategy))
"""Every setting a strategy file may give."""


def expand(name: str, settings: Mapping[str, Any]) -> list[Strategy]:
    """One strategy per combination of the list values in ``settings``, named after them.

    ``rungs`` is a list by nature: it expands only when it is a list of lists.

    Raises:
        ConfigError: An unknown setting, or a value the strategy refuses.

    Examples:
        >>> [s.name for s in expand("adv", {"worker": "m:7b", "checkpoint_interval": [1, 2]})]
        ['adv@checkpoint_interval=1', 'adv@checkpoint_interval=2']
    """
    unknown = sorted(set(settings) - set(FIELDS) - {"name"})
    if unknown:
        raise ConfigError(
            f"Strategy {name!r}: unknown setting(s) {_list(unknown)}; "
            f"the settings are {_list(FIELDS[1:])}."
        )
    fixed: dict[str, Any] = {}
    varying: dict[str, list[Any]] = {}
    for key, value in settings.items():
        if key == "name":
            continue
        many = isinstance(value, list) and (
            key != "rungs" or all(isinstance(v, list) for v in value)
        )
        if many and not value:
            raise ConfigError(f"Strategy {name!r}: {key} is an empty list.")
        if many:
            varying[key] = value
        else:
            fixed[key] = tuple(value) if key == "rungs" else value
    out = []
    for combo in itertools.product(*varying.values()):
        chosen = dict(zip(varying, combo, strict=True))
        label = ",".join(f"{k}={_label(v)}" for k, v in chosen.items())
        values: dict[str, Any] = {k: tuple(v) if k == "rungs" else v for k, v in chosen.items()}
        full = f"{name}@{label}" if label else name
        try:
            out.append(Strategy(full, **fixed, **values))
        except TypeError as e:
            raise ConfigError(f"Strategy {full!r}: {e}.") from e
    return out


def _label(value: Any) -> str:
    return "+".join(map(str, value)) if isinstance(value, list) else str(value)


def load_strategies(path: str | os.PathLike[str]) -> list[Strategy]:
    """The strategies of a TOML file (format in this module's docstring).

    Raises:
        ConfigError: The file is missing, is not TOML, or names an unknown setting or a
            value a strategy refuses; the message names the file and the strategy.
    """
    source = Path(path)
    data = read_toml(source, "strategies file")
    unknown = sorted(set(data) - set(_TABLES))
    tables = data.get("strategies")
    if unknown or not isinstance(tables, dict) or not tables:
        raise ConfigError(
            f"The strategies file {source} must hold [strategies.NAME] tables (and optionally "
            f"[defaults] and [cutoffs]){'; unknown: ' + _list(unknown) if unknown else ''}. "
            "`koderz strategies --write FILE` writes a file to start from."
        )
    defaults = data.get("defaults", {})
    strategies: list[Strategy] = []
    try:
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise ConfigError(f"[strategies.{name}] must be a table of settings.")
            strategies += expand(name, {**defaults, **table})
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from e
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: strategy names repeat: {names}.")
    return strategies


def load_cutoffs(path: str | os.PathLike[str]) -> dict[str, str]:
    """The models' training data cutoffs a strategies file gives in its ``[cutoffs]`` table
    (``"MODEL" = YYYY-MM-DD``, a TOML date or a string); empty when it has none.

    Raises:
        ConfigError: The file cannot be read, or a cutoff is not a date.
    """
    source = Path(path)
    table = read_toml(source, "strategies file").get("cutoffs", {})
    if not isinstance(table, dict):
        raise ConfigError(f'{source}: [cutoffs] must be a table of "MODEL" = YYYY-MM-DD.')
    return {str(m): iso_date(d, f"{source}: [cutoffs] {m}") for m, d in table.items()}


def presets(
    local: str = DEFAULT_LOCAL,
    small: str = DEFAULT_SMALL,
    frontier: str = DEFAULT_FRONTIER,
    advisor: str = DEFAULT_ADVISOR,
) -> list[Strategy]:
    """The built-in strategies: every kind, with a model per tier (edit them to taste), and
    each way of consulting a reviewer (``advisor``: the reviewer consulted on request, through
    Anthropic's advisor tool with ``small`` as the executor).

    Examples:
        >>> [s.kind for s in presets()][-5:]
        ['architect', 'cascade', 'repair', 'sample', 'cascade']
        >>> [s.advice for s in presets() if s.reviewer]
        ['interval', 'interval', 'on_failure', 'on_request']
    """
    return [
        Strategy("local-only", worker=local),
        Strategy("small-only", worker=small),
        Strategy("frontier-only", worker=frontier),
        Strategy("local+frontier", worker=local, spec_model=frontier, reviewer=frontier),
        Strategy("small+frontier", worker=small, spec_model=frontier, reviewer=frontier),
        # The reviewer only after a failure; or when the worker asks (Anthropic's advisor
        # tool: a Haiku executor, an Opus advisor).
        Strategy("local+advice-on-failure", worker=local, reviewer=frontier, advice="on_failure"),
        Strategy(
            "small+advisor-on-request",
            worker=small,
            reviewer=advisor,
            advice="on_request",
            max_advice=3,
        ),
        Strategy("architect", kind="architect", worker=local, architect=frontier),
        Strategy("cascade", kind="cascade", rungs=(local, small, frontier), rung_attempts=2),
        Strategy("repair", kind="repair", worker=local, repairer=frontier, repair_after=3),
        # The worker writes its own tests, draws three answers and submits the best by them.
        Strategy("best-of-3", kind="sample", worker=local, samples=3, tester=local),
        Strategy(
            "cascade-by-tests",
            kind="cascade",
            rungs=(local, small, frontier),
            rung_attempts=2,
            tester=small,
            escalate_below=0.8,
        ),
    ]


def strategies_toml(strategies: Sequence[Strategy]) -> str:
    """``strategies`` as a TOML file :func:`load_strategies` reads back (settings that
    differ from the defaults only)."""
    default = {f.name: f.default for f in fields(Strategy)}
    lines = [
        "# Strategies for `koderz benchmark --strategies FILE`; see docs/strategies.md.",
        "# A list value (checkpoint_interval = [1, 2]) expands into one strategy per value.",
    ]
    for s in strategies:
        lines += ["", f"[strategies.{_toml_key(s.name)}]"]
        data = s.to_dict()
        for key, value in {"kind": data.pop("kind"), **data}.items():
            if key == "name" or (key != "kind" and value == default.get(key)):
                continue
            if s.kind == "cascade" and key in ("worker", "max_iterations"):
                continue  # both follow from the rungs
            if s.kind == "sample" and key in ("max_iterations", "mode"):
                continue  # both follow from the samples
            if value is None or (key in ("rungs", "reasoning") and not value):
                continue
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_key(name: str) -> str:
    return name if name.replace("-", "").replace("_", "").isalnum() else _toml_value(name)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)
