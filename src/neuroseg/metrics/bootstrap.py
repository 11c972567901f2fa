"""Percentile bootstrap of a mean, resampling items or groups of items (patients).

The evaluation reports (:mod:`neuroseg.metrics.evaluation`) and the paired comparison
(:mod:`neuroseg.metrics.comparison`) draw their confidence intervals here, so both resample
the same way: with ``units`` (the item indices of each patient) a drawn patient brings all
its items, otherwise every item is drawn on its own. NaN values are left out of each
resample's mean (an HD95 with an empty mask, say) rather than propagated.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> boot = bootstrap_means(np.array([1.0, 1.0, 1.0]), None, n_bootstrap=5, rng=rng)
    >>> boot.tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    >>> percentile_interval(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 0.5)
    (1.0, 3.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroseg.errors import ConfigError

__all__ = ["bootstrap_means", "check_bootstrap", "mean_interval", "percentile_interval"]


def check_bootstrap(n_bootstrap: int, confidence: float) -> None:
    """Raise :class:`~neuroseg.errors.ConfigError` on ``n_bootstrap < 1`` or a bad confidence."""
    if n_bootstrap < 1:
        raise ConfigError(f"n_bootstrap must be at least 1, got {n_bootstrap}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie in (0, 1), got {confidence}")


def percentile_interval(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of the non-NaN values of ``boot`` (NaNs if none)."""
    ok = boot[~np.isnan(boot)]
    if not len(ok):
        return float("nan"), float("nan")
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(ok, [tail, 100 - tail])
    return float(lo), float(hi)


def bootstrap_means(
    values: np.ndarray,
    units: list[np.ndarray] | None,
    *,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n_bootstrap`` resampled NaN-ignoring means of ``values``.

    Args:
        values: One value per item (NaN: left out of the mean).
        units: The item indices of each resampling unit (each patient's items), or None
            to resample items.
        n_bootstrap: Resamples.
        rng: The generator (seeded by the caller, so reruns give the same intervals).

    Returns:
        One mean per resample; NaN where a resample drew no non-NaN value.
    """
    ok = ~np.isnan(values)
    v = np.where(ok, values, 0.0)
    if units is None:
        sums, counts = v, ok.astype(np.float64)
    else:
        sums = np.array([v[u].sum() for u in units])
        counts = np.array([ok[u].sum() for u in units], dtype=np.float64)
    draw = rng.integers(0, len(sums), size=(n_bootstrap, len(sums)))
    s, c = sums[draw].sum(axis=1), counts[draw].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.where(c > 0, c, 1), np.nan)


def mean_interval(
    values: np.ndarray,
    units: list[np.ndarray] | None,
    *,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """The NaN-ignoring mean of ``values`` with its percentile bootstrap interval.

    Returns ``{"mean", "ci_low", "ci_high", "n", "n_excluded"}``: ``n`` counts every
    value, ``n_excluded`` the NaNs left out (the block every neuroseg report uses).

    Example:
        >>> import numpy as np
        >>> b = mean_interval(np.array([1.0, np.nan, 3.0]), None, n_bootstrap=20,
        ...                   confidence=0.95, rng=np.random.default_rng(0))
        >>> b["mean"], b["n"], b["n_excluded"], 1.0 <= b["ci_low"] <= b["ci_high"] <= 3.0
        (2.0, 3, 1, True)
    """
    ok = ~np.isnan(values)
    mean = float(values[ok].mean()) if ok.any() else float("nan")
    lo, hi = percentile_interval(
        bootstrap_means(values, units, n_bootstrap=n_bootstrap, rng=rng), confidence
    )
    return {
        "mean": mean,
        "ci_low": lo,
        "ci_high": hi,
        "n": len(values),
        "n_excluded": int((~ok).sum()),
    }
