"""The ceilings a sceptic asks of any cost claim: what a perfect per-problem router over the
run's strategies would have reached, and whether the strategies chosen on some problems hold
on the others.

- :func:`router_ceiling`: for each problem, the cheapest strategy whose submitted answer
  passed (the best pass share, then the lowest cost, when several ran it more than once). No
  real router knows which strategy will pass, so this is a ceiling, like the oracle pass
  rate: a strategy near it leaves little to gain from routing.
- :func:`heldout_front`: the problems split at random into a validation part and a test
  part; the strategies on the validation part's Pareto front, with how they did on the test
  part. A choice made on the same problems it is reported on is optimistic; the test part
  shows by how much.

Both read the :func:`~koderz.analysis.stats.metrics.experiments` table; strategies with the oracle
stop are left out (the grader picked their answers: nothing a router could deploy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from koderz.analysis.stats.compare import pareto_front
from koderz.analysis.stats.savings import finished, per_problem
from koderz.errors import ConfigError

__all__ = ["HELDOUT_COLUMNS", "HeldOut", "deployable", "heldout_front", "router_ceiling"]

HELDOUT_COLUMNS = (
    "strategy",
    "validation_pass_rate",
    "validation_cost_usd",
    "test_pass_rate",
    "test_cost_usd",
    "validation_problems",
    "test_problems",
)


def deployable(exps: pd.DataFrame) -> pd.DataFrame:
    """The finished experiments of strategies a deployed system could run (not oracle)."""
    done = finished(exps)
    if "stop" in done.columns:
        done = done[done["stop"].fillna("oracle") != "oracle"]
    return done


def router_ceiling(exps: pd.DataFrame) -> dict[str, Any]:
    """What a perfect per-problem router over the deployable strategies would reach, on the
    problems every one of them finished: ``strategies, problems, pass_rate, cost_usd`` (the
    mean cost per problem, as the cost/quality plane's axis) and ``per_problem``, for each
    problem the strategy chosen, its pass share and its cost.

    Examples:
        Problem a: only "big" passed (cost 4); b: both passed, "small" is cheaper.

        >>> exps = pd.DataFrame({"strategy": ["small", "small", "big", "big"],
        ...     "problem_id": ["a", "b", "a", "b"], "finished": True, "stop": "visible",
        ...     "solved": [False, True, True, True], "cost_usd": [1.0, 1.0, 4.0, 4.0]})
        >>> c = router_ceiling(exps)
        >>> c["pass_rate"], c["cost_usd"], [p["strategy"] for p in c["per_problem"]]
        (1.0, 2.5, ['big', 'small'])
    """
    done = deployable(exps)
    names = sorted(str(s) for s in done["strategy"].unique())
    empty: dict[str, Any] = {
        "strategies": names,
        "problems": 0,
        "pass_rate": None,
        "cost_usd": None,
        "per_problem": [],
    }
    if not names:
        return empty
    pp = per_problem(done, ["cost_usd"])
    everyone = pp.groupby("problem_id")["strategy"].nunique() == len(names)
    pp = pp[pp["problem_id"].isin(everyone[everyone].index)]
    if pp.empty:
        return empty
    # The best pass share, then the cheapest, then the first by name.
    order = pp.sort_values(
        ["problem_id", "rate", "cost_usd", "strategy"], ascending=[True, False, True, True]
    )
    best = order.groupby("problem_id").head(1)
    return {
        "strategies": names,
        "problems": len(best),
        "pass_rate": float(best["rate"].mean()),
        "cost_usd": float(best["cost_usd"].mean()),
        "per_problem": [
            {"problem_id": str(p), "strategy": str(s), "pass_rate": float(r), "cost_usd": float(c)}
            for p, s, r, c in zip(
                best["problem_id"],
                best["strategy"],
                best["rate"].to_numpy(float),
                best["cost_usd"].to_numpy(float),
                strict=True,
            )
        ],
    }


@dataclass(frozen=True)
class HeldOut:
    """A choice made on some problems and tried on the others."""

    front: pd.DataFrame
    """The strategies on the validation part's Pareto front (:data:`HELDOUT_COLUMNS`)."""
    test_problems: tuple[str, ...]
    """The problems held out (the test part), sorted."""
    fraction: float
    """The share of the problems held out."""
    seed: int
    """The seed of the split."""


def heldout_front(exps: pd.DataFrame, fraction: float, *, seed: int = 0) -> HeldOut:
    """The strategies on the Pareto front of a validation part of the problems, with how
    they did on the held-out rest (:data:`HELDOUT_COLUMNS`).

    ``fraction`` of the problems (at random, by ``seed``) are held out as the test part; the
    front is chosen on the others, by cost per problem and pass rate, as on the cost/quality
    plane.

    Raises:
        ConfigError: ``fraction`` is not between 0 and 1, or leaves a part empty.
    """
    if not 0 < fraction < 1:
        raise ConfigError(
            f"--heldout takes the share of problems held out, between 0 and 1; got {fraction}."
        )
    done = deployable(exps)
    problems = sorted(str(p) for p in done["problem_id"].unique())
    held = round(fraction * len(problems))
    if held < 1 or held >= len(problems):
        raise ConfigError(
            f"--heldout {fraction} of {len(problems)} problems leaves a part empty; hold out "
            "a share that leaves at least one problem on each side."
        )
    rng = np.random.default_rng(seed)
    test = set(rng.choice(problems, size=held, replace=False).tolist())
    pp = per_problem(done, ["cost_usd"])
    pp["part"] = np.where(pp["problem_id"].isin(test), "test", "validation")
    parts = pp.groupby(["strategy", "part"]).agg(
        pass_rate=("rate", "mean"), cost_usd=("cost_usd", "mean"), problems=("rate", "size")
    )
    flat = parts.reset_index()
    found = {
        (str(strategy), str(part)): (float(rate), float(cost), int(count))
        for strategy, part, rate, cost, count in zip(
            flat["strategy"],
            flat["part"],
            flat["pass_rate"].to_numpy(float),
            flat["cost_usd"].to_numpy(float),
            flat["problems"].to_numpy(int),
            strict=True,
        )
    }
    rows = []
    for strategy in sorted(str(s) for s in pp["strategy"].unique()):
        row: dict[str, Any] = {"strategy": strategy}
        for part in ("validation", "test"):
            rate, cost, count = found.get((strategy, part), (math.nan, math.nan, 0))
            row |= {f"{part}_pass_rate": rate, f"{part}_cost_usd": cost, f"{part}_problems": count}
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(HELDOUT_COLUMNS))
    on_front = pareto_front(
        table["validation_cost_usd"].tolist(), table["validation_pass_rate"].tolist()
    )
    return HeldOut(table[on_front].reset_index(drop=True), tuple(sorted(test)), fraction, seed)
