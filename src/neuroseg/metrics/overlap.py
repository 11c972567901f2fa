"""Overlap metrics for binary segmentation: Dice, IoU, precision and recall.

All four are computed from per-image confusion counts (TP, FP, FN) and share one
signature::

    f(y_true, y_pred, *, reduction="per_image", threshold=0.5, from_logits=False,
      empty="one", groups=None)

Inputs are a single ``(H, W)`` image or a batch ``(N, H, W)`` / ``(N, H, W, 1)``, as NumPy
arrays or tensors. ``y_true`` holds 0/1 labels; ``y_pred`` holds labels, probabilities or
(with ``from_logits=True``) logits, binarised at ``threshold``.

Reductions:
    ``"per_image"`` (default): the mean over images of the per-image value.
    ``"pooled"``: the value of the counts summed over all pixels of all images.
    ``"per_patient"``: with ``groups=`` (one ID per image), counts summed per patient
    (the patient's slices form one volume), then the mean over patients.
    ``"none"``: one value per image.

Empty-mask rule (``empty``), for an image (or pooled set, or patient) where the value's
denominator is zero:
    ``"one"`` (default): if truth and prediction are both empty the value is 1.0 for all
    four metrics; if only one of them is empty the value is 0.0 (Dice and IoU are 0.0 by
    their formula; precision with an empty prediction and recall with an empty truth are
    undefined and set to 0.0).
    ``"nan"``: undefined values are NaN and left out of the mean (``nanmean``); the mean of
    nothing is NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from neuroseg.errors import ConfigError

__all__ = ["confusion_counts", "dice", "iou", "precision", "recall"]

Reduction = Literal["per_image", "pooled", "per_patient", "none"]
EmptyRule = Literal["one", "nan"]
_REDUCTIONS = ("per_image", "pooled", "per_patient", "none")


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def _has_fraction(a: np.ndarray) -> bool:
    """True if a float array in [0, 1] holds values other than 0 and 1."""
    return bool(np.issubdtype(a.dtype, np.floating) and np.any((a != 0) & (a != 1)))


def _binarize(y: Any, *, threshold: float, from_logits: bool, is_pred: bool) -> np.ndarray:
    a = _to_numpy(y)
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 4:
        if a.shape[-1] != 1:
            raise ConfigError(
                f"expected one channel for binary metrics, got shape {a.shape}; select the "
                "foreground channel first."
            )
        a = a[..., 0]
    if a.ndim != 3:
        raise ConfigError(f"expected (H, W), (N, H, W) or (N, H, W, 1), got shape {a.shape}")
    if not is_pred:
        if a.dtype != bool and a.size and (a.min() < 0 or a.max() > 1 or _has_fraction(a)):
            raise ConfigError("y_true must hold only 0 and 1 labels.")
        return a if a.dtype == bool else a != 0
    if a.dtype == bool:
        return a
    if np.issubdtype(a.dtype, np.floating) and np.isnan(a).any():
        raise ConfigError("y_pred contains NaN.")
    if from_logits:
        a = 1.0 / (1.0 + np.exp(-a.astype(np.float64)))
    return a >= threshold if np.issubdtype(a.dtype, np.floating) else a.astype(bool)


def confusion_counts(
    y_true: Any, y_pred: Any, *, threshold: float = 0.5, from_logits: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-image true positives, false positives, false negatives and true negatives.

    Returns:
        Four ``int64`` arrays of length N.

    Example:
        >>> import numpy as np
        >>> t = np.array([[1, 1, 0, 0]]); p = np.array([[1, 0, 1, 0]])
        >>> tuple(int(c[0]) for c in confusion_counts(t, p))
        (1, 1, 1, 1)
    """
    t = _binarize(y_true, threshold=threshold, from_logits=from_logits, is_pred=False)
    p = _binarize(y_pred, threshold=threshold, from_logits=from_logits, is_pred=True)
    if t.shape != p.shape:
        raise ConfigError(f"y_true shape {t.shape} differs from y_pred shape {p.shape}")
    tp = _row_counts(t & p)
    fp = _row_counts(p) - tp
    fn = _row_counts(t) - tp
    tn = t.shape[1] * t.shape[2] - tp - fp - fn
    return tp, fp, fn, tn


def _row_counts(a: np.ndarray) -> np.ndarray:
    """Count True per image.

    One ``count_nonzero`` per row is about 3x faster than ``count_nonzero(axis=...)``,
    which falls back to a generic sum (see benchmarks/metrics.py).
    """
    return np.fromiter((np.count_nonzero(row) for row in a), dtype=np.int64, count=len(a))


Formula = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _reduce(
    formula: Formula,
    y_true: Any,
    y_pred: Any,
    *,
    reduction: str,
    threshold: float,
    from_logits: bool,
    empty: str,
    groups: Sequence[Any] | None,
) -> float | np.ndarray:
    if reduction not in _REDUCTIONS:
        raise ConfigError(
            f"Unknown reduction {reduction!r}; choose one of {', '.join(_REDUCTIONS)}"
        )
    if empty not in ("one", "nan"):
        raise ConfigError(f"Unknown empty rule {empty!r}; choose 'one' or 'nan'")
    tp, fp, fn, _ = confusion_counts(y_true, y_pred, threshold=threshold, from_logits=from_logits)
    if reduction == "pooled":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    elif reduction == "per_patient":
        if groups is None or len(groups) != len(tp):
            raise ConfigError("reduction='per_patient' needs groups= with one ID per image")
        keys = np.asarray([str(g) for g in groups])
        uniq = sorted(set(keys.tolist()))
        tp = np.array([tp[keys == k].sum() for k in uniq])
        fp = np.array([fp[keys == k].sum() for k in uniq])
        fn = np.array([fn[keys == k].sum() for k in uniq])
    num, den = formula(tp, fp, fn)
    both_empty = (tp + fp + fn) == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    if empty == "one":
        values = np.where(both_empty, 1.0, np.where(np.isnan(values), 0.0, values))
    if reduction == "none":
        return values
    if reduction == "pooled":
        return float(values[0])
    if np.all(np.isnan(values)):
        return float("nan")
    return float(np.nanmean(values))


def _dice(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 2.0 * tp, 2.0 * tp + fp + fn


def _iou(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return tp * 1.0, (tp + fp + fn) * 1.0


def _precision(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return tp * 1.0, (tp + fp) * 1.0


def _recall(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return tp * 1.0, (tp + fn) * 1.0


def dice(
    y_true: Any,
    y_pred: Any,
    *,
    reduction: Reduction = "per_image",
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: EmptyRule = "one",
    groups: Sequence[Any] | None = None,
) -> float | np.ndarray:
    """Dice coefficient ``2·TP / (2·TP + FP + FN)``; see the module docs for the options.

    Example:
        >>> import numpy as np
        >>> t = np.array([[[1, 1, 0, 0]], [[0, 0, 0, 0]]])
        >>> p = np.array([[[1, 0, 0, 0]], [[0, 0, 0, 0]]])
        >>> dice(t, p, reduction="none").round(4).tolist()
        [0.6667, 1.0]
        >>> round(dice(t, p), 4), round(dice(t, p, reduction="pooled"), 4)
        (0.8333, 0.6667)
    """
    return _reduce(
        _dice,
        y_true,
        y_pred,
        reduction=reduction,
        threshold=threshold,
        from_logits=from_logits,
        empty=empty,
        groups=groups,
    )


def iou(
    y_true: Any,
    y_pred: Any,
    *,
    reduction: Reduction = "per_image",
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: EmptyRule = "one",
    groups: Sequence[Any] | None = None,
) -> float | np.ndarray:
    """Intersection over union (Jaccard) ``TP / (TP + FP + FN)``.

    Example:
        >>> import numpy as np
        >>> round(iou(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]])), 4)
        0.5
    """
    return _reduce(
        _iou,
        y_true,
        y_pred,
        reduction=reduction,
        threshold=threshold,
        from_logits=from_logits,
        empty=empty,
        groups=groups,
    )


def precision(
    y_true: Any,
    y_pred: Any,
    *,
    reduction: Reduction = "per_image",
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: EmptyRule = "one",
    groups: Sequence[Any] | None = None,
) -> float | np.ndarray:
    """Precision (positive predictive value) ``TP / (TP + FP)``.

    Example:
        >>> import numpy as np
        >>> precision(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 1, 0]]))
        0.5
    """
    return _reduce(
        _precision,
        y_true,
        y_pred,
        reduction=reduction,
        threshold=threshold,
        from_logits=from_logits,
        empty=empty,
        groups=groups,
    )


def recall(
    y_true: Any,
    y_pred: Any,
    *,
    reduction: Reduction = "per_image",
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: EmptyRule = "one",
    groups: Sequence[Any] | None = None,
) -> float | np.ndarray:
    """Recall (sensitivity) ``TP / (TP + FN)``.

    Example:
        >>> import numpy as np
        >>> recall(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]]))
        0.5
    """
    return _reduce(
        _recall,
        y_true,
        y_pred,
        reduction=reduction,
        threshold=threshold,
        from_logits=from_logits,
        empty=empty,
        groups=groups,
    )
