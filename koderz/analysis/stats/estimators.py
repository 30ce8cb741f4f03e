"""The pass@k estimator, pure Python: ``koderz evaluate`` uses it without importing pandas."""

from __future__ import annotations

import math

__all__ = ["pass_at_k"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator of Chen et al. (2021): ``1 - C(n-c, k) / C(n, k)``.

    The chance that at least one of ``k`` samples drawn without replacement from ``n``
    samples, ``c`` of them correct, is correct.

    Args:
        n: Samples (here: finished experiments of one problem).
        c: Correct samples (solved experiments).
        k: Samples allowed.

    Raises:
        ValueError: Unless ``0 <= c <= n`` and ``1 <= k <= n``.

    Examples:
        >>> pass_at_k(5, 0, 1), pass_at_k(5, 5, 3), pass_at_k(4, 1, 2)
        (0.0, 1.0, 0.5)
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    # The product form of Chen et al., numerically stable for large n.
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))
