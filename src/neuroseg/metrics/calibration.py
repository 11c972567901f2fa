"""Calibration metrics: reliability curve, ECE, MCE, Brier score and negative log-likelihood.

A model is calibrated when, of the items it calls with confidence ``c``, a fraction ``c`` is
right. All functions take ``y_true`` as ``(N,)`` integer labels and ``y_score`` as ``(N, C)``
class probabilities, or ``(N,)`` probabilities of class 1 for a binary problem (e.g. the
flattened pixels of a segmentation: truth 0/1, foreground probability). The confidence of
an item is the probability of its predicted (top) class; in the binary form that is
``max(p, 1 - p)``, the prediction ``p > 0.5``.

Binned figures use ``n_bins`` equal-width confidence bins ``(k/n, (k+1)/n]`` (a confidence
of 0 falls in the first), as Guo et al., "On Calibration of Modern Neural Networks", ICML
2017. :class:`ReliabilityCurve` holds the per-bin sums, so curves of parts of a large set
(e.g. the pixels of one slice at a time) add up with :meth:`ReliabilityCurve.merge`.

Example:
    >>> from neuroseg.metrics import brier_score, maximum_calibration_error
    >>> maximum_calibration_error([0, 1], [[0.9, 0.1], [0.8, 0.2]], n_bins=10)
    0.8
    >>> round(brier_score([1, 0], [0.75, 0.25]), 4)
    0.0625
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError
from neuroseg.metrics._inputs import to_numpy

__all__ = [
    "ReliabilityCurve",
    "brier_score",
    "expected_calibration_error",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "reliability_curve",
]


def _inputs(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(N,)`` integer labels and ``(N,)`` or ``(N, C)`` float64 scores."""
    t = to_numpy(y_true)
    s = to_numpy(y_score).astype(np.float64)
    if t.ndim == 2:
        t = np.argmax(t, axis=1)
    t = t.reshape(-1) if t.ndim != 1 else t
    if np.issubdtype(t.dtype, np.floating) and np.any(t != np.round(t)):
        raise ConfigError("y_true holds non-integer labels; pass (N,) class labels.")
    t = t.astype(np.int64)
    if s.ndim not in (1, 2) or len(s) != len(t):
        raise ConfigError(f"y_score must be (N,) or (N, C) for {len(t)} items, got {s.shape}")
    if not len(t):
        raise ConfigError("no items to score: y_true is empty")
    if not np.isfinite(s).all():
        raise ConfigError("y_score contains NaN or infinite values.")
    if s.min() < 0 or s.max() > 1:
        raise ConfigError(
            f"y_score must hold probabilities in [0, 1], got values in [{s.min():g}, "
            f"{s.max():g}]; apply the softmax/sigmoid first."
        )
    columns = 2 if s.ndim == 1 else s.shape[1]
    if t.min() < 0 or t.max() >= columns:
        raise ConfigError(f"labels must lie in 0..{columns - 1}, got {t.min()}..{t.max()}")
    return t, s


def _confidence(t: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-class confidence and correctness (float64) of each item."""
    if s.ndim == 1:
        pred = (s > 0.5).astype(np.int64)
        return np.maximum(s, 1.0 - s), (pred == t).astype(np.float64)
    return s.max(axis=1), (s.argmax(axis=1) == t).astype(np.float64)


@dataclass(frozen=True)
class ReliabilityCurve:
    """Accuracy against confidence in equal-width confidence bins.

    Attributes:
        edges: ``n_bins + 1`` bin edges from 0 to 1.
        counts: Items per bin.
        correct: Correct items per bin (sum of 0/1 correctness).
        confidence_sum: Sum of the confidences per bin.

    Example:
        >>> c = reliability_curve([0, 1, 1], [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], n_bins=5)
        >>> c.counts.tolist(), c.accuracy[3:].tolist()
        ([0, 0, 0, 2, 1], [0.5, 1.0])
        >>> round(c.ece, 4), round(c.mce, 4)
        (0.2, 0.25)
    """

    edges: np.ndarray
    counts: np.ndarray
    correct: np.ndarray
    confidence_sum: np.ndarray

    @property
    def n_bins(self) -> int:
        """The number of bins."""
        return len(self.counts)

    @property
    def n(self) -> int:
        """The number of items."""
        return int(self.counts.sum())

    @property
    def accuracy(self) -> np.ndarray:
        """Fraction correct per bin (NaN in an empty bin)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.correct / self.counts, np.nan)

    @property
    def confidence(self) -> np.ndarray:
        """Mean confidence per bin (NaN in an empty bin)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.confidence_sum / self.counts, np.nan)

    @property
    def ece(self) -> float:
        """Expected calibration error: ``Σ_b (|b| / N) · |accuracy(b) - confidence(b)|``."""
        return float(np.sum(np.abs(self.correct - self.confidence_sum)) / max(self.n, 1))

    @property
    def mce(self) -> float:
        """Maximum calibration error: the largest gap over the non-empty bins."""
        filled = self.counts > 0
        if not filled.any():
            return 0.0
        return float(np.max(np.abs(self.accuracy[filled] - self.confidence[filled])))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: edges, counts, accuracy and confidence (``None`` when empty)."""

        def clean(a: np.ndarray) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in a]

        return {
            "edges": [float(e) for e in self.edges],
            "counts": [int(c) for c in self.counts],
            "accuracy": clean(self.accuracy),
            "confidence": clean(self.confidence),
            "ece": self.ece,
            "mce": self.mce,
        }

    @classmethod
    def merge(cls, curves: Iterable[ReliabilityCurve]) -> ReliabilityCurve:
        """One curve of the union of the items of ``curves`` (all with the same bins).

        Example:
            >>> a = reliability_curve([1], [0.9], n_bins=2)
            >>> b = reliability_curve([0], [0.8], n_bins=2)
            >>> ReliabilityCurve.merge([a, b]).counts.tolist()
            [0, 2]
        """
        items = list(curves)
        if not items:
            raise ConfigError("merge needs at least one curve")
        if any(c.n_bins != items[0].n_bins for c in items):
            raise ConfigError("curves with different numbers of bins cannot be merged")
        return cls(
            edges=items[0].edges,
            counts=np.sum([c.counts for c in items], axis=0),
            correct=np.sum([c.correct for c in items], axis=0),
            confidence_sum=np.sum([c.confidence_sum for c in items], axis=0),
        )


def reliability_curve(y_true: Any, y_score: Any, *, n_bins: int = 15) -> ReliabilityCurve:
    """The reliability curve (accuracy and mean confidence per confidence bin).

    Args:
        y_true: ``(N,)`` labels (0/1 for binary scores).
        y_score: ``(N, C)`` class probabilities, or ``(N,)`` probabilities of class 1.
        n_bins: Number of equal-width confidence bins.

    Returns:
        A :class:`ReliabilityCurve`.

    Example:
        >>> c = reliability_curve([1, 0], [0.9, 0.4], n_bins=4)
        >>> c.counts.tolist(), c.accuracy[2:].tolist()
        ([0, 0, 1, 1], [1.0, 1.0])
    """
    if n_bins < 1:
        raise ConfigError(f"n_bins must be at least 1, got {n_bins}")
    t, s = _inputs(y_true, y_score)
    conf, correct = _confidence(t, s)
    idx = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    return ReliabilityCurve(
        edges=np.linspace(0.0, 1.0, n_bins + 1),
        counts=np.bincount(idx, minlength=n_bins).astype(np.int64),
        correct=np.bincount(idx, weights=correct, minlength=n_bins),
        confidence_sum=np.bincount(idx, weights=conf, minlength=n_bins),
    )


def expected_calibration_error(y_true: Any, y_score: Any, *, n_bins: int = 15) -> float:
    """Expected calibration error of the top-class confidence (Guo et al. 2017).

    Items fall in ``n_bins`` equal-width confidence bins ``(k/n, (k+1)/n]`` (a confidence
    of 0 in the first); ECE = ``Σ_b (|b| / N) · |accuracy(b) - mean confidence(b)|``.

    Example:
        >>> round(expected_calibration_error([0, 1], [[0.9, 0.1], [0.8, 0.2]], n_bins=10), 4)
        0.45
    """
    return reliability_curve(y_true, y_score, n_bins=n_bins).ece


def maximum_calibration_error(y_true: Any, y_score: Any, *, n_bins: int = 15) -> float:
    """Maximum calibration error: the largest ``|accuracy - confidence|`` over filled bins.

    Example:
        >>> maximum_calibration_error([0, 0], [[0.6, 0.4], [0.6, 0.4]], n_bins=10)
        0.4
    """
    return reliability_curve(y_true, y_score, n_bins=n_bins).mce


def brier_score(y_true: Any, y_score: Any) -> float:
    """Brier score: the mean squared distance between probabilities and the one-hot truth.

    Multi-class ``(N, C)`` scores give ``mean_i Σ_k (p_ik - [y_i = k])²`` (0 is perfect,
    2 the worst); binary ``(N,)`` scores the usual ``mean_i (p_i - y_i)²`` (0 to 1).

    Example:
        >>> brier_score([0, 1], [[1.0, 0.0], [0.5, 0.5]])
        0.25
    """
    t, s = _inputs(y_true, y_score)
    if s.ndim == 1:
        return float(np.mean((s - t) ** 2))
    onehot = np.eye(s.shape[1])[t]
    return float(np.mean(np.sum((s - onehot) ** 2, axis=1)))


def negative_log_likelihood(y_true: Any, y_score: Any, *, eps: float = 1e-7) -> float:
    """Mean negative log-likelihood of the true class (probabilities clipped to ``eps``).

    Example:
        >>> round(negative_log_likelihood([0, 1], [[0.5, 0.5], [0.5, 0.5]]), 4)
        0.6931
    """
    t, s = _inputs(y_true, y_score)
    p = np.where(t == 1, s, 1.0 - s) if s.ndim == 1 else s[np.arange(len(t)), t]
    return float(-np.mean(np.log(np.clip(p, eps, 1.0))))
