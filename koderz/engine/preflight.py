"""Checks made before a run spends any money: every model known, priced, with its key, and
its local server answering (or, in-process, its GGUF file loading).

The same checks run on the client and, for a Dask run, on every worker
(:func:`preflight_workers`): a worker started without the API keys or ``OLLAMA_HOST`` would
otherwise fail every call, each after minutes of retries. What travels to the workers is the
models' names; each worker looks at its own environment, so no key crosses the connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from koderz.engine.strategies import Strategy
from koderz.errors import ConfigError, KoderzError
from koderz.models.registry import ModelSpec, resolve_model

__all__ = ["check_advisor_tool", "check_here", "preflight", "preflight_workers"]


def preflight(strategies: Sequence[Strategy]) -> None:
    """Fail before any money is spent if a model is unknown, has no price, misses its key
    (or, in-process, does not load), or its local server does not answer."""
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise ConfigError(f"Strategy names must be unique; got {names}.")
    for strategy in strategies:
        check_advisor_tool(strategy)
    probed: set[str] = set()
    for name in _models(strategies):
        _check_model(name, probed)


def check_advisor_tool(strategy: Strategy) -> None:
    """Refuse advice ``on_request`` that cannot work, before any call. The worker consults
    the reviewer through the advisor tool (Anthropic's, or Koderz's function tool), so a
    worker that cannot call tools cannot ask, and a Claude worker and reviewer must be a pair
    Anthropic's advisor tool takes as executor and advisor (the message names the valid
    pairs).

    Raises:
        ConfigError: The message says which pairs work, or to use ``on_failure``.
    """
    if strategy.advice != "on_request" or strategy.reviewer is None:
        return
    from koderz.models.anthropic import advisor_pair_problem

    worker, advisor = resolve_model(strategy.worker), resolve_model(strategy.reviewer)
    who = f"Strategy {strategy.name!r} (advice on_request)"
    if worker.provider == "llamacpp":
        raise ConfigError(
            f"{who}: {worker.name} runs in llama.cpp without tool calls, so it cannot ask for "
            "advice when it wants; use --advice on_failure."
        )
    if worker.provider != "anthropic":
        return  # the emulated advisor tool; a server that refuses tools says so at once
    if advisor.provider != "anthropic":
        raise ConfigError(
            f"{who}: a Claude worker asks through Anthropic's advisor tool, whose advisor is a "
            f"Claude model; {advisor.name} is not. Use a Claude advisor, or --advice on_failure."
        )
    problem = advisor_pair_problem(worker.api_model, advisor.api_model)
    if problem:
        raise ConfigError(f"{who}: {problem}")


def check_here(models: Sequence[str]) -> list[str]:
    """What this process lacks to call ``models``: one message per problem, none if ready.

    This is what a Dask worker runs (by :func:`preflight_workers`). It takes only model
    names and reads this process's own environment, so no key is ever sent to it.
    """
    problems: list[str] = []
    probed: set[str] = set()
    for name in models:
        try:
            _check_model(name, probed)
        except KoderzError as e:
            problems.append(str(e))
    return problems


def preflight_workers(client: Any, strategies: Sequence[Strategy]) -> None:
    """Run :func:`check_here` on every worker of a Dask ``client``; fail naming each worker
    and what it lacks.

    Raises:
        ConfigError: A worker lacks a key, a server or a file, or there is no worker.
    """
    models = _models(strategies)
    # check_here is sent by reference (koderz.engine.preflight.check_here) with the names only.
    found: dict[str, list[str]] = client.run(check_here, models)
    if not found:
        raise ConfigError(
            "The Dask cluster has no worker; start one with `dask worker SCHEDULER_ADDRESS` "
            "(with the same keys and servers in its environment), then run again."
        )
    bad = {address: problems for address, problems in sorted(found.items()) if problems}
    if bad:
        lines = [f"{address}: {'; '.join(problems)}" for address, problems in bad.items()]
        raise ConfigError(
            f"{len(bad)} of {len(found)} Dask worker(s) cannot run these models - "
            + " | ".join(lines)
            + " - start each worker with the keys and server addresses (OLLAMA_HOST ...) in "
            "its environment or a .env file in its working folder, then run again."
        )


def _models(strategies: Iterable[Strategy]) -> list[str]:
    """Every model the strategies call, each once, in order."""
    return list(dict.fromkeys(name for s in strategies for name in s.models()))


def _check_model(name: str, probed: set[str]) -> None:
    """Raise the first reason ``name`` cannot be called from this process."""
    from koderz.models import client_for
    from koderz.models.prices import price_call
    from koderz.records import Usage

    spec = resolve_model(name)
    price_call(spec, Usage())
    client_for(spec)
    if spec.provider == "ollama" or spec.base_url is not None:
        _probe_server(spec, probed)


def _probe_server(spec: ModelSpec, probed: set[str]) -> None:
    """A local server that does not answer at all is a setup mistake, not a passing fault:
    say so now rather than after every call's retries."""
    import httpx

    if spec.provider == "ollama":
        from koderz.models.ollama import DEFAULT_HOST

        url = os.environ.get("OLLAMA_HOST", DEFAULT_HOST)
        if "://" not in url:
            url = "http://" + url
        fix = "start it with `ollama serve`, or set OLLAMA_HOST to where it runs"
    else:
        url = str(spec.base_url)
        fix = "start the server, or correct the URL in NAME@URL"
    if url in probed:
        return
    probed.add(url)
    try:
        httpx.get(url, timeout=5.0)
    except httpx.HTTPError as e:
        raise ConfigError(f"No server answers at {url} for {spec.name!r} ({e}); {fix}.") from e
