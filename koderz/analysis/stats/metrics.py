"""The per-experiment table and the per-strategy summary over the steps table, by the
definitions in :mod:`koderz.analysis`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from koderz.analysis.stats.estimators import pass_at_k
from koderz.analysis.stats.leakage import SETUP_COLUMNS
from koderz.analysis.stats.savings import N_BOOT, bootstrap_ci, finished, nan_ratio, per_problem
from koderz.errors import ConfigError
from koderz.models.prices import Price, list_price, price_call
from koderz.models.registry import TIERS, resolve_model
from koderz.records import Usage
from koderz.store import CALL_ROLES, CODE_ROLES, FINAL_STATUSES

__all__ = [
    "ANALYSIS_COLUMNS",
    "PROBLEM_COLUMNS",
    "complete_steps",
    "cost_breakdown",
    "cost_curve",
    "experiments",
    "pass_at_iteration",
    "reprice",
    "require_price",
    "summarize",
]


PROBLEM_COLUMNS = (
    "problem_source",
    "problem_released",
    "problem_difficulty",
    "problem_platform",
    "problem_language",
)
"""What the rows say of an experiment's problem; the experiments table carries them."""

ANALYSIS_COLUMNS = (
    "run_id",
    "strategy",
    "experiment_id",
    "problem_id",
    "role",
    "iteration",
    "model",
    "tier",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "hardware_cost_usd",
    "latency_s",
    "passed",
    "tests_passed",
    "tests_total",
    "exec_s",
    "status",
    "spec_reused",
    "started_at",
    "worker_model",
    "max_iterations",
    "feedback_level",
    "epoch",
    "submitted",
    "oracle_passed",
    "false_stop",
    "visible_total",
    "tester_model",
    "own_total",
    "own_failed",
    "own_dropped",
    *PROBLEM_COLUMNS,
    "model_cutoff",
    *(c for c in SETUP_COLUMNS if c not in ("worker_model", "max_iterations")),
)
"""The columns of the steps table that the analysis reads. Load with
``load_steps(data_dir, columns=ANALYSIS_COLUMNS)`` when analysing only: the text columns
(prompts, replies, code) left out are most of the memory."""

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]
_IntArray = np.ndarray[Any, np.dtype[np.int64]]
# Long-context price tiers start at 200k prompt tokens; rows above this are priced one by one.
_LONG_CONTEXT = 128_000


# --------------------------------------------------------------------------- re-pricing


def reprice(steps: pd.DataFrame, model: str) -> pd.Series:
    """What each row's tokens would cost on ``model``: the frontier-only *estimate*.

    Rows that are not model calls (``end`` rows, reused specs) re-price to 0.

    Raises:
        ConfigError: ``model`` has no known price.

    Examples:
        >>> rows = pd.DataFrame({"role": ["attempt", "end"], "model": ["qwen:7b", ""],
        ...     "spec_reused": [False, None], "input_tokens": [1000, 0],
        ...     "output_tokens": [200, 0], "cache_read_tokens": [0, 0],
        ...     "cache_write_tokens": [0, 0]})
        >>> reprice(rows, "claude-opus-4-8").round(6).tolist()  # 1000*$5/M + 200*$25/M
        [0.01, 0.0]
    """
    price = require_price(model)
    tokens = {
        c: steps[c].to_numpy(dtype=float, na_value=0.0)
        for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    }
    usd = price.cost_many(
        tokens["input_tokens"],
        tokens["output_tokens"],
        tokens["cache_read_tokens"],
        tokens["cache_write_tokens"],
    )
    usd = np.where(_call_mask(steps), usd, 0.0)
    for i in np.flatnonzero((tokens["input_tokens"] > _LONG_CONTEXT) & (usd > 0)):
        # Rare, and a list price would miss a long-context surcharge: price exactly.
        usage = Usage(*(int(tokens[c][i]) for c in tokens))
        usd[i] = price_call(model, usage).usd
    return pd.Series(usd, index=steps.index, name="estimate_usd")


def require_price(model: str) -> Price:
    """The list price of ``model``.

    Raises:
        UnknownModelError: ``model`` is not known.
        ConfigError: It has no price; the message says how to give one.
    """
    price = list_price(model)  # an unknown model raises here
    if price is None:
        price_call(model, Usage())  # raises the ConfigError that says how to give a price
        raise ConfigError(f"No price known for {model!r}.")  # pragma: no cover
    return price


# --------------------------------------------------------------------------- experiments


def _call_mask(steps: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.bool_]]:
    role = steps["role"].to_numpy(dtype=object)
    model = steps["model"].fillna("").to_numpy(dtype=object)
    reused = steps["spec_reused"].to_numpy(dtype=bool, na_value=False)
    # reprice() takes hand-made frames, which may have no status column.
    status = steps["status"] if "status" in steps.columns else pd.Series("", index=steps.index)
    failed = status.fillna("").to_numpy(dtype=object) == "provider_error"
    mask: np.ndarray[Any, np.dtype[np.bool_]] = (
        np.isin(role, CALL_ROLES) & (model != "") & ~reused & ~failed
    )
    return mask


@cache
def _tier_of(model: str) -> str:
    try:
        return resolve_model(model).tier
    except Exception:  # a model this installation does not know: its tier is unknown
        return "unknown"


def _tiers(steps: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.object_]]:
    tier = steps["tier"].fillna("").to_numpy(dtype=object)
    missing = tier == ""
    if missing.any():  # older rows without a tier: ask the registry
        models = steps["model"].fillna("").to_numpy(dtype=object)[missing]
        tier[missing] = [_tier_of(m) if m else "" for m in models]
    return tier


def _sum_by(codes: _IntArray, n: int, weights: _FloatArray | None = None) -> _FloatArray:
    return np.bincount(codes, weights=weights, minlength=n).astype(float)


def experiments(steps: pd.DataFrame, *, estimate_model: str | None = None) -> pd.DataFrame:
    """One row per experiment (run x experiment_id): its outcome, calls, time and costs.

    Columns: ``run_id, strategy, experiment_id, problem_id, worker_model, max_iterations,
    started_at, stop, finished, status, solved`` (the submitted answer passed the hidden
    tests), ``oracle_solved`` (some attempt did), ``false_stop, nothing_visible, submitted,
    attempts, solved_at, solved_tier`` (the tier of the model that wrote the submitted
    answer), ``tests_passed, tests_total`` (of the submitted answer, else the last attempt),
    ``calls, token_cost_usd, hardware_cost_usd, cost_usd, wall_s``
    (model and sandbox time), ``cost_<tier>, calls_<tier>`` for each tier, ``cost_<role>,
    calls_<role>`` for spec, attempt and checkpoint, what the rows say of the problem
    (:data:`PROBLEM_COLUMNS`: ``problem_released`` ...) and ``estimate_usd`` when an
    ``estimate_model`` is given (see :func:`reprice`).

    Examples:
        >>> steps = pd.DataFrame({"run_id": "r", "strategy": "s", "experiment_id": "e",
        ...     "problem_id": "p", "role": ["attempt", "attempt", "end"],
        ...     "model": ["qwen:7b", "qwen:7b", ""], "tier": ["local", "local", ""],
        ...     "iteration": [1, 2, 2], "passed": [False, True, True],
        ...     "status": ["failed", "passed", "solved"], "cost_usd": [0.0, 0.0, 0.0]})
        >>> experiments(steps)[["solved", "attempts", "solved_at", "calls_local"]].values
        array([[True, 2, 2, 2]], dtype=object)
    """
    steps = complete_steps(steps)
    codes, n = _experiment_codes(steps)
    first = np.full(n, len(steps), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(steps), dtype=np.int64))
    head = steps.iloc[first]
    out = pd.DataFrame(
        {
            c: head[c].to_numpy()
            for c in ("run_id", "strategy", "experiment_id", "problem_id", "worker_model")
        }
    )
    out["feedback_level"] = head["feedback_level"].fillna("").to_numpy(dtype=object)
    for c in PROBLEM_COLUMNS:
        out[c] = head[c].to_numpy(dtype=object)
    # Rows written before the stop rule ran as an oracle does.
    out["stop"] = head["stop"].fillna("").replace("", "oracle").to_numpy(dtype=object)
    out["epoch"] = pd.to_numeric(head["epoch"], errors="coerce").fillna(1).to_numpy(dtype=int)
    out["max_iterations"] = head["max_iterations"].to_numpy(dtype=float, na_value=np.nan)
    out["started_at"] = _first_time(steps["started_at"], codes, n)
    # One number per setup (every setting but the name and feedback level), for the gaps.
    setup = head[list(SETUP_COLUMNS)].assign(stop=out["stop"].to_numpy())
    out["setup"] = setup.groupby(list(SETUP_COLUMNS), dropna=False, sort=False).ngroup().to_numpy()
    _add_outcomes(out, steps, codes)
    _add_costs(out, steps, codes)
    if estimate_model is not None:
        out["estimate_usd"] = _sum_by(codes, n, reprice(steps, estimate_model).to_numpy())
    return out


def _experiment_codes(steps: pd.DataFrame) -> tuple[_IntArray, int]:
    """Each row's experiment as a number 0..n-1 (run x experiment_id), and n."""
    run_codes, _ = pd.factorize(steps["run_id"], use_na_sentinel=False)
    exp_codes, _ = pd.factorize(steps["experiment_id"], use_na_sentinel=False)
    codes, _ = pd.factorize(run_codes.astype(np.int64) * (exp_codes.max(initial=0) + 1) + exp_codes)
    codes = codes.astype(np.int64)
    return codes, int(codes.max(initial=-1)) + 1


def _add_outcomes(out: pd.DataFrame, steps: pd.DataFrame, codes: _IntArray) -> None:
    """``finished, status, solved, oracle_solved, false_stop, nothing_visible, submitted,
    attempts, solved_at, solved_tier, tests_passed, tests_total`` of each experiment, into
    ``out``."""
    n = len(out)
    role = steps["role"].to_numpy(dtype=object)
    is_attempt = np.isin(role, CODE_ROLES)  # a repair is judged like an attempt
    iteration = steps["iteration"].to_numpy(dtype=float, na_value=np.nan)
    passed = steps["passed"].to_numpy(dtype=bool, na_value=False)
    # The end row with a final status decides the outcome. One written on a budget stop or
    # an interrupt only says where the experiment stood: a resumed run ends it again, and
    # rows come back from the store in no particular order, so "the last end row" is no rule.
    status = steps["status"].fillna("").to_numpy(dtype=object)
    end_rows = np.flatnonzero(role == "end")
    final_rows = end_rows[np.isin(status[end_rows], list(FINAL_STATUSES))]
    any_end = np.full(n, -1, dtype=np.int64)
    np.maximum.at(any_end, codes[end_rows], end_rows)
    last_end = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_end, codes[final_rows], final_rows)
    has_end = last_end >= 0
    end = np.maximum(last_end, 0)
    shown = np.where(has_end, last_end, any_end)
    out["finished"] = has_end
    out["status"] = np.where(shown >= 0, status[np.maximum(shown, 0)], "unfinished")
    solved = has_end & passed[end]
    out["solved"] = solved
    attempts_from_rows = np.zeros(n)
    att = np.flatnonzero(is_attempt & ~np.isnan(iteration))
    np.maximum.at(attempts_from_rows, codes[att], iteration[att])
    end_iter = iteration[end]
    out["attempts"] = np.where(has_end & ~np.isnan(end_iter), end_iter, attempts_from_rows).astype(
        np.int64
    )
    # The first attempt that passed the hidden tests: an oracle stop would have ended there.
    ok = np.flatnonzero(is_attempt & passed & ~np.isnan(iteration))
    first_ok = np.full(n, -1, dtype=np.int64)
    by_iteration = ok[np.lexsort((-ok, -iteration[ok]))]  # latest first: the first one wins
    first_ok[codes[by_iteration]] = by_iteration
    recorded = steps["oracle_passed"].to_numpy(dtype=float, na_value=np.nan)[end]
    out["oracle_solved"] = has_end & np.where(np.isnan(recorded), first_ok >= 0, recorded > 0)
    out["false_stop"] = has_end & steps["false_stop"].to_numpy(dtype=bool, na_value=False)[end]
    visible = steps["visible_total"].to_numpy(dtype=float, na_value=np.nan)[end]
    out["nothing_visible"] = has_end & (out["stop"].to_numpy() == "visible") & (visible == 0)
    # The submitted answer: its attempt row (older rows name none: the first that passed,
    # else the last attempt, which is what their oracle loop ended on).
    submitted = steps["submitted"].to_numpy(dtype=float, na_value=np.nan)[end]
    submitted = np.where(has_end, submitted, np.nan)
    last_att = np.full(n, -1, dtype=np.int64)
    order = att[np.lexsort((att, iteration[att]))]  # by iteration, then row: last wins
    last_att[codes[order]] = order
    chosen = np.where(first_ok >= 0, first_ok, last_att)
    named = att[submitted[codes[att]] == iteration[att]]
    chosen[codes[named]] = named
    out["submitted"] = pd.array(
        np.where(np.isnan(submitted), np.where(chosen >= 0, iteration[chosen], np.nan), submitted),
        dtype="Int64",
    )
    won = (chosen >= 0) & solved
    out["solved_at"] = pd.array(
        np.where(won, iteration[np.maximum(chosen, 0)], np.nan), dtype="Int64"
    )
    out["solved_tier"] = np.where(won, _tiers(steps)[np.maximum(chosen, 0)], "")
    # Partial credit: the tests the submitted answer passed (unfinished: the last attempt).
    pick = np.where(has_end & (chosen >= 0), chosen, last_att)
    for col in ("tests_passed", "tests_total"):
        vals = steps[col].to_numpy(dtype=float, na_value=np.nan)[np.maximum(pick, 0)]
        out[col] = np.where(pick >= 0, vals, np.nan)


def _add_costs(out: pd.DataFrame, steps: pd.DataFrame, codes: _IntArray) -> None:
    """Calls, costs (token, hardware, all in; by tier and by role) and busy time, into ``out``."""
    n = len(out)
    role = steps["role"].to_numpy(dtype=object)
    is_call = _call_mask(steps)
    token = steps["cost_usd"].to_numpy(dtype=float, na_value=0.0)
    hardware = steps["hardware_cost_usd"].to_numpy(dtype=float, na_value=0.0)
    busy = steps["latency_s"].to_numpy(dtype=float, na_value=0.0) + steps["exec_s"].to_numpy(
        dtype=float, na_value=0.0
    )
    out["calls"] = np.bincount(codes[is_call], minlength=n)
    out["token_cost_usd"] = _sum_by(codes, n, token)
    out["hardware_cost_usd"] = _sum_by(codes, n, hardware)
    out["cost_usd"] = out["token_cost_usd"] + out["hardware_cost_usd"]
    out["wall_s"] = _sum_by(codes, n, busy)
    tiers = _tiers(steps)
    total = token + hardware
    for key, mask in [
        *((tier, tiers == tier) for tier in TIERS),
        *((r, role == r) for r in CALL_ROLES),
    ]:
        m = is_call & mask
        out[f"cost_{key}"] = _sum_by(codes[m], n, total[m])
        out[f"calls_{key}"] = np.bincount(codes[m], minlength=n)


def _first_time(started: pd.Series, codes: _IntArray, n: int) -> Any:
    """The earliest value of ``started`` per experiment (NaT where it has none)."""
    if not isinstance(started.dtype, pd.DatetimeTZDtype):  # a hand-made frame
        return pd.Series(started.to_numpy(), index=codes).groupby(level=0).min().reindex(range(n))
    # As integers: a million timestamps as objects would take seconds.
    ints = started.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    ints = ints.view(np.int64)
    nat, top = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    first = np.full(n, top, dtype=np.int64)
    np.minimum.at(first, codes, np.where(ints == nat, top, ints))
    first[first == top] = nat
    return pd.DatetimeIndex(first.view("datetime64[us]")).tz_localize("UTC")


def complete_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """``steps`` with the columns of :data:`ANALYSIS_COLUMNS` it lacks (a hand-made frame)
    added as nulls."""
    missing = [c for c in ANALYSIS_COLUMNS if c not in steps.columns]
    if not missing:
        return steps
    steps = steps.copy()
    for name in missing:
        steps[name] = "" if name in ("run_id", "strategy", "tier", "model", "status") else None
    return steps


# --------------------------------------------------------------------------- per strategy


def summarize(
    exps: pd.DataFrame,
    *,
    ks: Sequence[int] = (1,),
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per strategy: outcomes, pass@k, attempts, time and costs by tier and role.

    ``exps`` is the table of :func:`experiments`. Columns: ``strategy, runs, problems,
    experiments, unfinished, solved, pass_rate, pass_rate_ci95, cost_per_problem,
    cost_per_problem_ci95`` (the mean over problems of a problem's mean cost), ``pass@k``
    for each k, ``stop`` (the stop rule), ``oracle_pass_rate`` (some attempt passed the
    hidden tests: the ceiling an oracle stop reaches), ``oracle_gap`` (that minus
    ``pass_rate``), ``false_stops`` (submitted answers that passed every visible test and
    failed the hidden ones), ``nothing_visible`` (problems with no visible test),
    ``mean_attempts_to_solve, tests_passed_share`` (partial credit, submitted answers),
    ``wall_s, token_cost_usd, hardware_cost_usd, cost_usd, cost_<tier>, calls_<tier>,
    cost_<role>, calls_<role>, calls, cost_per_solved`` (inf when nothing was solved) and,
    when the experiments were re-priced, ``frontier_only_estimate_usd``.

    Examples:
        >>> exps = pd.DataFrame({"strategy": "s", "run_id": "r", "problem_id": ["a", "b"],
        ...     "finished": True, "solved": [True, False], "cost_usd": [1.0, 3.0]})
        >>> row = summarize(exps).to_dict("records")[0]
        >>> row["pass_rate"], row["pass_rate_ci95"], row["cost_per_solved"]
        (0.5, (0.0, 1.0), 4.0)
    """
    exps = _complete_exps(exps)
    rows: list[dict[str, Any]] = []
    problems = per_problem(exps, ["cost_usd"])
    oracle = finished(exps).groupby(["strategy", "problem_id"])["oracle_solved"].mean()
    keys = pd.MultiIndex.from_frame(problems[["strategy", "problem_id"]])
    problems["oracle_rate"] = oracle.reindex(keys).to_numpy(dtype=float)
    # Summed per strategy; cost_usd among them ("cost_" covers it and the tiers and roles).
    sum_cols = [
        c
        for c in exps.columns
        if c.startswith(("cost_", "calls_"))
        or c in ("token_cost_usd", "hardware_cost_usd", "calls", "wall_s", "estimate_usd")
    ]
    for strategy, group in exps.groupby("strategy", sort=True):
        done = finished(group)
        pp = problems[problems["strategy"] == strategy]
        rates = pp["rate"].to_numpy(dtype=float)
        costs = pp["cost_usd"].to_numpy(dtype=float)
        solved = int(done["solved"].sum())
        row: dict[str, Any] = {
            "strategy": strategy,
            "runs": group["run_id"].nunique(),
            "problems": len(pp),
            "experiments": len(done),
            "unfinished": len(group) - len(done),
            "solved": solved,
            "pass_rate": float(rates.mean()) if len(rates) else math.nan,
            "pass_rate_ci95": bootstrap_ci(
                [rates], lambda r: r.mean(axis=1), n_boot=n_boot, seed=seed
            ),
            "cost_per_problem": float(costs.mean()) if len(costs) else math.nan,
            "cost_per_problem_ci95": bootstrap_ci(
                [costs], lambda c: c.mean(axis=1), n_boot=n_boot, seed=seed
            ),
        }
        row["feedback"] = "+".join(sorted({str(v) for v in done.get("feedback_level", []) if v}))
        row["stop"] = "+".join(sorted({str(v) for v in done.get("stop", []) if v}))
        ceiling = pp["oracle_rate"].to_numpy(dtype=float)
        row["oracle_pass_rate"] = float(ceiling.mean()) if len(ceiling) else math.nan
        row["oracle_gap"] = row["oracle_pass_rate"] - row["pass_rate"]
        row["false_stops"] = int(done["false_stop"].sum())
        row["nothing_visible"] = int(done.loc[done["nothing_visible"], "problem_id"].nunique())
        row["epochs"], row["epoch_pass_rate_range"] = _epoch_spread(done)
        row |= {f"pass@{k}": _pass_at(pp, k) for k in ks}
        won = done[done["solved"]]
        row["mean_attempts_to_solve"] = _nanmean(_floats(won["solved_at"]))
        share = nan_ratio(_floats(done["tests_passed"]), _floats(done["tests_total"]))
        row["tests_passed_share"] = _nanmean(share)
        for col in sum_cols:
            row[col] = done[col].sum()
        row["cost_per_solved"] = row["cost_usd"] / solved if solved else math.inf
        if "estimate_usd" in row:
            row["frontier_only_estimate_usd"] = row.pop("estimate_usd")
        rows.append(row)
    return pd.DataFrame(rows)


def _epoch_spread(done: pd.DataFrame) -> tuple[int, tuple[float, float] | None]:
    """How many epochs a strategy ran, and the lowest and highest pass rate of one epoch
    (over the problems it finished; None with a single epoch): the spread of repeats.

    Examples:
        >>> done = pd.DataFrame({"epoch": [1, 1, 2, 2], "solved": [True, False, True, True]})
        >>> _epoch_spread(done)
        (2, (0.5, 1.0))
    """
    if "epoch" not in done.columns or done.empty:
        return 1, None
    rates = done.groupby("epoch")["solved"].mean()
    if len(rates) < 2:
        return len(rates), None
    return len(rates), (float(rates.min()), float(rates.max()))


def _pass_at(problems: pd.DataFrame, k: int) -> float:
    """pass@k: the mean over problems run at least k times of :func:`pass_at_k`; NaN when
    no problem was."""
    ok = problems[problems["n"] >= k]
    if not len(ok):
        return math.nan
    return float(
        np.mean([pass_at_k(int(n), int(c), k) for n, c in zip(ok["n"], ok["c"], strict=True)])
    )


def _nanmean(values: _FloatArray) -> float:
    """The mean of the values that are not NaN; NaN (and no warning) when there are none."""
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if len(kept) else math.nan


def _floats(values: pd.Series) -> _FloatArray:
    """A column as floats, any kind of missing value as NaN."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _complete_exps(exps: pd.DataFrame) -> pd.DataFrame:
    defaults: dict[str, Any] = {
        "run_id": "",
        "finished": True,
        "solved_at": pd.NA,
        "tests_passed": np.nan,
        "tests_total": np.nan,
        "token_cost_usd": 0.0,
        "hardware_cost_usd": 0.0,
    }
    missing: dict[str, Any] = {k: v for k, v in defaults.items() if k not in exps.columns}
    # A hand-made table without the stop rule's columns: an oracle's, as older rows are.
    stop_rule = {"stop": "oracle", "false_stop": False, "nothing_visible": False}
    missing |= {k: v for k, v in stop_rule.items() if k not in exps.columns}
    if "oracle_solved" not in exps.columns and "solved" in exps.columns:
        missing["oracle_solved"] = exps["solved"]
    return exps.assign(**missing) if missing else exps


def pass_at_iteration(exps: pd.DataFrame) -> pd.DataFrame:
    """Per strategy, the pass rate within 1, 2, ... attempts (mean over problems).

    At the strategy's last iteration it equals its pass rate.

    Examples:
        >>> exps = pd.DataFrame({"strategy": "s", "problem_id": ["a", "b"], "finished": True,
        ...     "solved": [True, False], "solved_at": [2, None], "attempts": [2, 3],
        ...     "max_iterations": 3})
        >>> pass_at_iteration(exps)["pass_rate"].tolist()
        [0.0, 0.5, 0.5]
    """
    rows = []
    for strategy, group in finished(exps).groupby("strategy", sort=True):
        top = int(
            np.nanmax(
                [group["attempts"].max(), group.get("max_iterations", group["attempts"]).max(), 1]
            )
        )
        at = _floats(group["solved_at"])
        for i in range(1, top + 1):
            within = pd.Series(np.nan_to_num(at, nan=np.inf) <= i, index=group.index)
            rate = within.groupby(group["problem_id"]).mean().mean()
            rows.append({"strategy": strategy, "iteration": i, "pass_rate": float(rate)})
    return pd.DataFrame(rows, columns=["strategy", "iteration", "pass_rate"])


def cost_breakdown(exps: pd.DataFrame, *, by: str = "tier") -> pd.DataFrame:
    """Cost and call counts per strategy and tier (``by="tier"``) or role (``by="role"``).

    Columns: ``strategy``, ``tier`` or ``role``, ``calls``, ``cost_usd``, ``share`` (of the
    strategy's cost). Every tier (role) appears, with zeros where it was not used.

    Examples:
        >>> exps = pd.DataFrame({"strategy": "s", "finished": True, "cost_local": [0.0],
        ...     "calls_local": [3], "cost_small_frontier": [0.0], "calls_small_frontier": [0],
        ...     "cost_frontier": [2.0], "calls_frontier": [1]})
        >>> cost_breakdown(exps)[["tier", "calls", "cost_usd"]].values.tolist()
        [['local', 3, 0.0], ['small_frontier', 0, 0.0], ['frontier', 1, 2.0]]
    """
    if by not in ("tier", "role"):
        raise ConfigError(f"cost_breakdown by {by!r}: use by='tier' or by='role'.")
    keys: Sequence[str] = TIERS if by == "tier" else CALL_ROLES
    rows = []
    for strategy, group in finished(exps).groupby("strategy", sort=True):
        costs = {k: float(group[f"cost_{k}"].sum()) for k in keys}
        total = sum(costs.values())
        for k, cost in costs.items():
            rows.append(
                {
                    "strategy": strategy,
                    by: k,
                    "calls": int(group[f"calls_{k}"].sum()),
                    "cost_usd": cost,
                    "share": cost / total if total else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=["strategy", by, "calls", "cost_usd", "share"])


def cost_curve(exps: pd.DataFrame) -> pd.DataFrame:
    """Cumulative cost against problems solved, per strategy, in the order experiments ran.

    Each strategy's line shows what its money bought as the benchmark went on; plotted
    together they trace the cost/quality frontier.

    Examples:
        >>> exps = pd.DataFrame({"strategy": "s", "finished": True, "solved": [True, False],
        ...     "cost_usd": [1.0, 2.0], "started_at": [1, 2]})
        >>> cost_curve(exps)[["cumulative_cost_usd", "solved"]].values.tolist()
        [[1.0, 1.0], [3.0, 1.0]]
    """
    done = finished(exps)
    sort = ["strategy", "started_at"] if "started_at" in done.columns else ["strategy"]
    done = done.sort_values(sort, kind="stable")
    out = pd.DataFrame({"strategy": done["strategy"].to_numpy()})
    g = done.groupby("strategy", sort=False)
    out["experiments"] = (g.cumcount() + 1).to_numpy()
    out["cumulative_cost_usd"] = g["cost_usd"].cumsum().to_numpy(dtype=float)
    out["solved"] = g["solved"].cumsum().to_numpy(dtype=float)
    return out
