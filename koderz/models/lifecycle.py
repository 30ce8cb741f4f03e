"""Whether a model is deprecated, from what its provider's SDK and the price database say.

Anthropic's SDK keeps a table of deprecated models with their end-of-life dates (and warns
at every call to one); genai-prices flags the models its maintainers know are deprecated.
Either is enough for ``koderz models`` and ``koderz check`` to flag a model, so that a study
is not built on one about to disappear.
"""

from __future__ import annotations

import functools
from typing import Any

from koderz.models.registry import ModelSpec

__all__ = ["deprecation"]


def deprecation(spec: ModelSpec) -> str:
    """Why ``spec`` is deprecated, in words (empty if nothing says it is).

    Examples:
        >>> from koderz.models.registry import resolve_model
        >>> deprecation(resolve_model("claude-opus-4-5"))
        'deprecated: end of life January 22nd, 2027 (the anthropic SDK)'
        >>> deprecation(resolve_model("claude-opus-4-8"))
        ''
    """
    if spec.provider == "anthropic":
        when = _anthropic_table().get(spec.api_model)
        if when:
            return f"deprecated: end of life {when} (the anthropic SDK)"
    if spec.price_ref and spec.price_provider and _flagged(spec.price_provider, spec.price_ref):
        return "deprecated (genai-prices)"
    return ""


@functools.cache
def _anthropic_table() -> dict[str, str]:
    try:
        from anthropic.resources.messages import DEPRECATED_MODELS
    except ImportError:  # an SDK without the table (or none at all): nothing to say
        return {}
    return dict(DEPRECATED_MODELS)


@functools.cache
def _flagged(provider: str, ref: str) -> bool:
    try:
        import genai_prices

        found: Any = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=0), ref, provider_id=provider
        )
    except Exception:  # unknown to the database: priced elsewhere, flagged by nobody
        return False
    return bool(getattr(getattr(found, "model", None), "deprecated", False))
