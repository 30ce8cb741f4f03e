"""Every setting of a strategy, in one table: :data:`SWITCHES`.

A row per setting: its name (the :class:`~koderz.engine.strategies.Strategy` field, the
strategy file's key and :func:`~koderz.engine.benchmark.run_benchmark`'s keyword), its
default, its choices, a line of help, and how the command line reads it, if it has a flag
(the flag is the name with dashes: ``max_iterations`` is ``--max-iterations``). Made from it:

- the defaults of :class:`~koderz.engine.strategies.Strategy` (:func:`default`);
- the flags and help of ``koderz run`` and ``koderz benchmark`` (``koderz/cli.py``), and the
  settings list of ``koderz strategies --help``;
- the switches :func:`~koderz.engine.benchmark.run_benchmark` takes and passes on
  (:data:`RUN_SWITCHES`);
- the table in ``docs/strategies.md`` (:func:`markdown_table`; ``python -m
  koderz.engine.switches`` prints it, and a test keeps the page current).

The command line builds its parser from this module at every start, so it imports nothing
but the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = [
    "ADVICE_CHOICES",
    "FEEDBACK_CHOICES",
    "KINDS",
    "MODES",
    "REASONING_CHOICES",
    "REASONING_ROLES",
    "RUN_SWITCHES",
    "STOP_CHOICES",
    "SWITCHES",
    "Advice",
    "Feedback",
    "Kind",
    "Mode",
    "Stop",
    "Switch",
    "default",
    "markdown_table",
    "model_or_none",
    "parse_reasoning",
    "settings_help",
]

Kind = Literal["advised", "architect", "cascade", "repair", "sample"]
Feedback = Literal["auto", "public", "full", "assertion", "summary"]
Stop = Literal["visible", "oracle"]
Advice = Literal["interval", "on_failure", "on_request"]
Mode = Literal["iterative", "zero_shot"]

KINDS: tuple[str, ...] = get_args(Kind)
"""The algorithms a strategy may be (:mod:`koderz.engine.strategies` says what each does)."""
# The last three are the sandbox's FEEDBACK_LEVELS (a test keeps them equal); spelled out
# so that the command line builds its parser without importing the sandbox.
FEEDBACK_CHOICES: tuple[str, ...] = get_args(Feedback)
"""``public``: only the results of the tests the experiment can see (the problem's public
tests); ``full``, ``assertion``, ``summary``: the hidden tests' (the failing test and its
traceback, which test failed, only k of n passed), with ``stop="oracle"`` only. ``auto``:
``public``; under ``stop="oracle"``, ``full`` where the problem has no public tests."""
STOP_CHOICES: tuple[str, ...] = get_args(Stop)
"""``visible``: an experiment stops when every test it can see passes (the problem's public
tests) and submits that answer; when the attempts run out it submits the one that passed
the most of them (the latest among equals); with nothing visible, its first answer. Only the
submitted answer is judged by the hidden tests, and no hidden-test result steers anything.
``oracle``: it stops as soon as an attempt passes the hidden tests (the hidden tests pick the
answer: an upper bound, no deployed system has them)."""
ADVICE_CHOICES: tuple[str, ...] = get_args(Advice)
"""When the reviewer is consulted: ``interval``, a review every ``checkpoint_interval``
attempts; ``on_failure``, a review after each attempt that fails its visible tests (never
before the first); ``on_request``, a consultation whenever the worker asks, in the middle of
its answer (Anthropic's advisor tool for a Claude pair, an ``advisor`` function tool for
other workers that call tools). ``max_advice`` caps the reviewer's calls of an experiment in
every mode."""
MODES: tuple[str, ...] = get_args(Mode)
"""``iterative``: each attempt sees the previous code and its failure. ``zero_shot``: each
attempt starts afresh (independent samples, for pass@k)."""
REASONING_ROLES = ("worker", "spec", "reviewer", "repairer", "tester")
"""The roles a reasoning level can be set for: ``spec`` is the spec model and the
architect (whoever writes the brief), ``reviewer`` its reviews and consultations alike."""
# The models layer's REASONING_LEVELS, spelled out so that the command line's parser needs
# no model client (a test keeps them equal).
REASONING_CHOICES = ("none", "low", "medium", "high")


def model_or_none(value: str) -> str | None:
    """A model given on the command line; ``none`` (or nothing) for no model.

    Examples:
        >>> model_or_none("qwen2.5-coder:7b"), model_or_none("none")
        ('qwen2.5-coder:7b', None)
    """
    return None if value.lower() in ("none", "") else value


def parse_reasoning(value: str) -> str | dict[str, str]:
    """``--reasoning high`` (every role) or ``--reasoning worker=low,reviewer=high``.

    Examples:
        >>> parse_reasoning("high"), parse_reasoning("worker=low, reviewer=high")
        ('high', {'worker': 'low', 'reviewer': 'high'})
    """
    if "=" not in value:
        return value
    pairs = [item.partition("=") for item in value.split(",") if item.strip()]
    return {role.strip(): level.strip() for role, _, level in pairs}


@dataclass(frozen=True)
class Switch:
    """One setting of a strategy."""

    name: str
    """The :class:`~koderz.engine.strategies.Strategy` field, the strategy file's key and
    :func:`~koderz.engine.benchmark.run_benchmark`'s keyword."""
    default: Any
    """The strategy's value when none is given."""
    help: str
    """What it does, in a line: the command line's help and the docs' table."""
    type: Callable[[str], Any] | None = None
    """How the command line reads the flag's value (``int``, ``float`` ...; ``bool``: a
    flag without a value); None: no flag (a strategy file or Python sets it)."""
    choices: tuple[str, ...] = ()
    """The values it takes, where they are few."""
    metavar: str | None = None
    """The flag's value in the help (``N``, ``MODEL``)."""
    role: bool = False
    """A model playing a role (the command line's "roles" group), not a switch of the
    algorithm."""
    default_text: str | None = None
    """What the help says of the default, where the value itself would not say it."""

    @property
    def flag(self) -> str | None:
        """The command line's flag, e.g. ``--max-iterations``; None when it has none."""
        return None if self.type is None else "--" + self.name.replace("_", "-")

    def shown_default(self) -> str:
        """The default as the help and the docs say it."""
        if self.default_text is not None:
            return self.default_text
        if self.default is None or self.default == ():
            return "none"
        if isinstance(self.default, bool):
            return str(self.default).lower()
        return str(self.default)

    def cli_help(self) -> str:
        """The flag's help: the line, then the default."""
        return f"{self.help} (default: {self.shown_default()})"


_LEVELS = "|".join(REASONING_CHOICES)

SWITCHES: tuple[Switch, ...] = (
    # In the order of Strategy's fields (its positional order), `name` aside.
    Switch(
        "worker",
        "",
        "the model that writes the code (in a file, a cascade's first rung if not given)",
        str,
        metavar="MODEL",
        role=True,
        default_text="the strategies this machine can run; offline, smollm2",
    ),
    Switch("kind", "advised", f"the algorithm: {', '.join(KINDS)}", choices=KINDS),
    Switch(
        "spec_model",
        None,
        "writes a short spec first (what to build, not how)",
        model_or_none,
        metavar="MODEL|none",
        role=True,
    ),
    Switch("architect", None, "kind architect: writes the implementation plan (how, step by step)"),
    Switch(
        "reviewer",
        None,
        "reviews the attempts and guides the worker; --advice says when",
        model_or_none,
        metavar="MODEL|none",
        role=True,
    ),
    Switch("rungs", (), "kind cascade: the ladder of workers, cheapest first"),
    Switch("rung_attempts", 2, "kind cascade: attempts each rung gets before the next takes over"),
    Switch("repairer", None, "kind repair: fixes the worker's last failing code itself"),
    Switch("repair_after", 2, "kind repair: worker attempts before the repair"),
    Switch(
        "samples",
        3,
        "kind sample: independent answers drawn; the one that passes the most visible tests "
        "is submitted",
    ),
    Switch(
        "tester",
        None,
        "writes tests from the prompt before the first attempt: visible tests beside the "
        "public ones (the worker itself or any model)",
        model_or_none,
        metavar="MODEL|none",
        role=True,
    ),
    Switch("tests_per_problem", 5, "tests the tester writes", int, metavar="N"),
    Switch(
        "escalate_below",
        None,
        "kind cascade: a rung hands over only when its best answer passes less than this "
        "share of the visible tests",
    ),
    Switch(
        "max_iterations",
        5,
        "attempts (a repair counts as one; a cascade has rungs x rung_attempts)",
        int,
        metavar="N",
    ),
    Switch(
        "checkpoint_interval",
        2,
        "a review every N attempts (with --advice interval)",
        int,
        metavar="N",
    ),
    Switch(
        "feedback",
        "auto",
        "what the worker sees of a failure: public (the visible tests' results; auto is the "
        "same), or, with --stop oracle only, what the hidden tests leak: full (failing test "
        "and traceback), assertion (which test), summary (k of n)",
        str,
        choices=FEEDBACK_CHOICES,
    ),
    Switch(
        "stop",
        "visible",
        "visible: stop when every test the experiment can see passes (the problem's public "
        "tests) and submit that answer, else the one that passed the most; the hidden tests "
        "only judge it. oracle: stop when the hidden tests pass (an upper bound no deployed "
        "system reaches)",
        str,
        choices=STOP_CHOICES,
    ),
    Switch(
        "mode",
        "iterative",
        "iterative: each attempt sees the last code and its failure; zero_shot: each starts afresh",
        str,
        choices=MODES,
    ),
    Switch(
        "temperature",
        None,
        "sampling temperature of every call",
        float,
        default_text="the providers'",
    ),
    Switch("seed", None, "sampling seed (each attempt and epoch its own from it)", int),
    Switch("max_tokens", 1024, "most tokens in a reply", int, metavar="N"),
    Switch(
        "reuse_spec",
        False,
        "reuse a spec or plan written earlier for the same problem by the same model (free)",
        bool,
    ),
    Switch(
        "advice",
        "interval",
        "when the reviewer is consulted: interval (a review every --checkpoint-interval "
        "attempts), on_failure (a review after each attempt that fails its visible tests), "
        "on_request (when the worker asks: Anthropic's advisor tool for a Claude pair, an "
        "advisor function tool for other workers)",
        str,
        choices=ADVICE_CHOICES,
    ),
    Switch(
        "max_advice",
        None,
        "most calls of the reviewer in one experiment",
        int,
        metavar="N",
        default_text="no limit",
    ),
    Switch(
        "reasoning",
        (),
        f"how hard the models reason ({_LEVELS}), for every role or per role "
        f"({', '.join(REASONING_ROLES)}), e.g. worker=low,reviewer=high",
        parse_reasoning,
        metavar="LEVEL|ROLE=LEVEL,...",
        default_text="the models' own",
    ),
)
"""Every setting of a strategy but its name."""

RUN_SWITCHES: tuple[Switch, ...] = tuple(s for s in SWITCHES if s.flag is not None)
"""The settings the command line has flags for and
:func:`~koderz.engine.benchmark.run_benchmark` takes as keywords: the roles and the
switches of every kind (a kind's own settings come from a strategy file)."""

_BY_NAME = {s.name: s for s in SWITCHES}


def default(name: str) -> Any:
    """The default of the setting ``name``.

    Examples:
        >>> default("max_iterations"), default("stop")
        (5, 'visible')
    """
    return _BY_NAME[name].default


def settings_help() -> str:
    """Every setting with its default, as ``koderz strategies --help`` lists them."""
    width = max(len(s.name) for s in SWITCHES)
    return "\n".join(f"  {s.name:<{width}}  {s.shown_default()}" for s in SWITCHES)


def markdown_table() -> str:
    """The table of settings in ``docs/strategies.md``."""
    lines = ["| setting | flag | default | what |", "|---|---|---|---|"]
    for s in SWITCHES:
        flag = f"`{s.flag}`" if s.flag else ""
        cells = [f"`{s.name}`", flag, s.shown_default(), s.help]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table(), end="")
