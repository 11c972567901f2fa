"""Localisation metrics: bounding-box IoU and centroid distance against the truth.

Dice says how well the predicted tumour overlaps the true one; these two say whether it was
found in the right place, as a detection would be scored:

* :func:`box_iou`: the intersection over union of the two masks' bounding boxes (the
  smallest axis-aligned boxes holding all foreground, as
  :func:`neuroseg.inference.localise` gives them).
* :func:`centroid_distance`: the Euclidean distance between the two masks' centroids
  (mean foreground pixel positions), in pixels, or in mm with ``spacing=(row, col)``.

Both take ``y_true``/``y_pred`` as the overlap metrics do (:func:`~neuroseg.metrics.dice`):
one ``(H, W)`` image or a batch ``(N, H, W)``/``(N, H, W, C)``, binary (probabilities are
binarised at ``threshold``) or multi-class (one value per scored class). Each image is
measured on its own (boxes and centroids of 2-D slices); a mask's box and centroid span
all its components.

Reductions: ``"per_image"`` (default): the mean over images; ``"none"``: one value per
image; ``"per_patient"`` (with ``groups=``): the mean of each patient's per-image values,
then the mean over patients. There is no ``"pooled"`` value: a box or centroid of all
images together locates nothing.

Empty-mask rule (``empty``), as for Dice and HD95:
    ``"one"`` (default): truth and prediction both empty: box IoU 1.0 and centroid
    distance 0.0 (nothing to find, nothing found); only one empty: box IoU 0.0 and
    centroid distance the image's diagonal (in the units of ``spacing``), the worst value.
    ``"nan"``: both empty gives NaN for both; only one empty gives box IoU 0.0 (its
    formula) and a NaN centroid distance. NaN values are left out of the means.

:class:`BoxIoU` and :class:`CentroidDistance` are cumulative versions in MONAI's style:
call them on batches, then :meth:`~BoxIoU.aggregate` and :meth:`~BoxIoU.reset`.

Example:
    >>> import numpy as np
    >>> t = np.zeros((8, 8), np.uint8); t[2:6, 2:6] = 1
    >>> p = np.zeros((8, 8), np.uint8); p[2:6, 4:8] = 1
    >>> box_iou(t, p), centroid_distance(t, p, spacing=(0.5, 0.5))
    (0.3333333333333333, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError
from neuroseg.metrics._inputs import check_options, group_index, prepare

__all__ = ["BoxIoU", "CentroidDistance", "box_iou", "centroid_distance"]

_REDUCTIONS = ("per_image", "none", "per_patient")
_WHY_NOT = {"pooled": "a box or centroid of all images together locates nothing"}


def _box(m: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(top, left, bottom, right)`` of a 2-D boolean mask (bottom/right exclusive)."""
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(m.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _box_iou_one(t: np.ndarray, p: np.ndarray, empty: str) -> float:
    bt, bp = _box(t), _box(p)
    if bt is None and bp is None:
        return 1.0 if empty == "one" else float("nan")
    if bt is None or bp is None:
        return 0.0
    h = min(bt[2], bp[2]) - max(bt[0], bp[0])
    w = min(bt[3], bp[3]) - max(bt[1], bp[1])
    inter = max(h, 0) * max(w, 0)
    area_t = (bt[2] - bt[0]) * (bt[3] - bt[1])
    area_p = (bp[2] - bp[0]) * (bp[3] - bp[1])
    return inter / (area_t + area_p - inter)


def _centroid(m: np.ndarray) -> tuple[float, float] | None:
    rows, cols = np.nonzero(m)
    if rows.size == 0:
        return None
    return float(rows.mean()), float(cols.mean())


def _centroid_distance_one(
    t: np.ndarray, p: np.ndarray, empty: str, spacing: tuple[float, float]
) -> float:
    ct, cp = _centroid(t), _centroid(p)
    if ct is None and cp is None:
        return 0.0 if empty == "one" else float("nan")
    if ct is None or cp is None:
        if empty == "nan":
            return float("nan")
        return math.hypot(t.shape[0] * spacing[0], t.shape[1] * spacing[1])
    return math.hypot((ct[0] - cp[0]) * spacing[0], (ct[1] - cp[1]) * spacing[1])


def _nanmean(values: np.ndarray) -> Any:
    ok = ~np.isnan(values)
    counts = ok.sum(axis=0)
    sums = np.where(ok, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)


def _reduce(values: np.ndarray, reduction: str, groups: Sequence[Any] | None, binary: bool) -> Any:
    """``values`` ``(N, K)`` reduced; a float for binary inputs, else an array ``(K,)``."""
    if reduction == "none":
        return values[:, 0] if binary else values
    if reduction == "per_patient":
        assert groups is not None
        if len(groups) != len(values):
            raise ConfigError(f"groups has {len(groups)} entries for {len(values)} images")
        values = np.stack([_nanmean(values[idx]) for idx in group_index(groups)[1]])
    mean = _nanmean(values)
    return float(mean[0]) if binary else mean


def _per_image(
    y_true: Any,
    y_pred: Any,
    fn: Any,
    *,
    threshold: float,
    from_logits: bool,
    num_classes: int | None,
    include_background: bool,
) -> tuple[np.ndarray, bool]:
    prep = prepare(
        y_true,
        y_pred,
        threshold=threshold,
        from_logits=from_logits,
        num_classes=num_classes,
        include_background=include_background,
    )
    n, k = prep.truth.shape[0], prep.n_classes_scored
    out = np.empty((n, k))
    for j in range(k):
        t, p = prep.masks(j)
        for i in range(n):
            out[i, j] = fn(t[i], p[i])
    return out, not prep.multiclass


def box_iou(
    y_true: Any,
    y_pred: Any,
    *,
    reduction: str = "per_image",
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: str = "one",
    groups: Sequence[Any] | None = None,
    num_classes: int | None = None,
    include_background: bool = True,
) -> Any:
    """IoU of the bounding boxes of the truth and predicted masks, per image.

    Boxes are half-open pixel boxes (as :func:`neuroseg.inference.localise`); the IoU is
    their overlap area over the area of their union. Empty masks follow the module's rule:
    both empty 1.0 (``empty="one"``) or NaN (``"nan"``); only one empty 0.0.

    Args:
        y_true: Truth masks: ``(H, W)``, ``(N, H, W)`` or ``(N, H, W, C)``.
        y_pred: Predicted masks, probabilities or logits of the same layout.
        reduction: ``"per_image"`` (mean), ``"none"`` (one value per image) or
            ``"per_patient"`` (with ``groups=``).
        threshold: Foreground threshold for probabilities (binary).
        from_logits: ``y_pred`` holds logits (binary).
        empty: Empty-mask rule, ``"one"`` or ``"nan"``.
        groups: One patient ID per image for ``reduction="per_patient"``.
        num_classes: Number of classes of label maps (multi-class).
        include_background: Score class 0 too (multi-class).

    Returns:
        A float (binary) or one value per scored class; ``reduction="none"`` gives
        ``(N,)`` (or ``(N, K)``).

    Raises:
        ConfigError: Mismatched shapes, an unknown reduction (``"pooled"`` has no
            meaning here) or empty rule, or ``per_patient`` without ``groups``.

    Example:
        >>> import numpy as np
        >>> t = np.zeros((2, 6, 6), np.uint8); t[0, 1:3, 1:3] = 1
        >>> p = np.zeros_like(t); p[0, 1:3, 1:4] = 1
        >>> tuple(round(float(v), 4) for v in box_iou(t, p, reduction="none"))  # 4/6; empty
        (0.6667, 1.0)
    """
    check_options(reduction, empty, groups, reductions=_REDUCTIONS, why_not=_WHY_NOT)
    values, binary = _per_image(
        y_true,
        y_pred,
        lambda t, p: _box_iou_one(t, p, empty),
        threshold=threshold,
        from_logits=from_logits,
        num_classes=num_classes,
        include_background=include_background,
    )
    return _reduce(values, reduction, groups, binary)


def centroid_distance(
    y_true: Any,
    y_pred: Any,
    *,
    spacing: Sequence[float] | None = None,
    reduction: str = "per_image",
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: str = "one",
    groups: Sequence[Any] | None = None,
    num_classes: int | None = None,
    include_background: bool = True,
) -> Any:
    """Distance between the centroids of the truth and predicted masks, per image.

    The centroid is the mean position of a mask's foreground pixels (all components).
    Empty masks follow the module's rule: both empty 0.0 (``empty="one"``) or NaN; only
    one empty: the image's diagonal (``"one"``) or NaN.

    Args:
        y_true: Truth masks: ``(H, W)``, ``(N, H, W)`` or ``(N, H, W, C)``.
        y_pred: Predicted masks, probabilities or logits of the same layout.
        spacing: Pixel spacing ``(row, col)`` in mm; ``None``: distances in pixels.
        reduction: ``"per_image"`` (mean), ``"none"`` or ``"per_patient"``.
        threshold: Foreground threshold for probabilities (binary).
        from_logits: ``y_pred`` holds logits (binary).
        empty: Empty-mask rule, ``"one"`` or ``"nan"``.
        groups: One patient ID per image for ``reduction="per_patient"``.
        num_classes: Number of classes of label maps (multi-class).
        include_background: Score class 0 too (multi-class).

    Returns:
        A float (binary) or one value per scored class; ``reduction="none"`` gives
        ``(N,)`` (or ``(N, K)``).

    Raises:
        ConfigError: As :func:`box_iou`, or a ``spacing`` that is not two positive numbers.

    Example:
        >>> import numpy as np
        >>> t = np.zeros((10, 10), np.uint8); t[1, 1] = 1
        >>> p = np.zeros_like(t); p[4, 5] = 1
        >>> centroid_distance(t, p), centroid_distance(t, p, spacing=(2.0, 1.0))
        (5.0, 7.211102550927978)
    """
    check_options(reduction, empty, groups, reductions=_REDUCTIONS, why_not=_WHY_NOT)
    sp = (1.0, 1.0)
    if spacing is not None:
        sp2 = tuple(float(s) for s in spacing)
        if len(sp2) != 2 or any(not (s > 0) for s in sp2):
            raise ConfigError(
                f"spacing must be two positive numbers (row, col) in mm, got {spacing}"
            )
        sp = (sp2[0], sp2[1])
    values, binary = _per_image(
        y_true,
        y_pred,
        lambda t, p: _centroid_distance_one(t, p, empty, sp),
        threshold=threshold,
        from_logits=from_logits,
        num_classes=num_classes,
        include_background=include_background,
    )
    return _reduce(values, reduction, groups, binary)


class _Cumulative:
    """Per-image values gathered over calls, MONAI's ``Cumulative`` pattern."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self._values: list[np.ndarray] = []

    def _compute(self, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any) -> np.ndarray:
        """Score a batch: its per-image values (also kept for :meth:`aggregate`)."""
        values = np.asarray(self._compute(y_true, y_pred), np.float64)
        self._values.append(values)
        return values

    @property
    def values(self) -> np.ndarray:
        """Every per-image value so far, in call order."""
        if not self._values:
            return np.zeros((0,))
        return np.concatenate(self._values)

    def aggregate(self) -> Any:
        """The mean of the values so far (NaN left out; NaN when there is none)."""
        v = self.values
        if v.shape[0] == 0:
            return float("nan")
        mean = _nanmean(v.reshape(v.shape[0], -1))
        return float(mean[0]) if v.ndim == 1 else mean

    def reset(self) -> None:
        """Forget the values so far."""
        self._values = []


class BoxIoU(_Cumulative):
    """Cumulative :func:`box_iou`: call on batches, then :meth:`aggregate`.

    Args:
        **options: Keyword options of :func:`box_iou` (``threshold``, ``empty``, ...;
            not ``reduction``).

    Example:
        >>> import numpy as np
        >>> m = BoxIoU()
        >>> t = np.zeros((1, 6, 6)); t[0, :2, :2] = 1
        >>> _ = m(t, t); _ = m(t, np.zeros_like(t))
        >>> m.aggregate(), m.values.shape
        (0.5, (2,))
    """

    def _compute(self, y_true: Any, y_pred: Any) -> Any:
        return box_iou(y_true, y_pred, reduction="none", **self.options)


class CentroidDistance(_Cumulative):
    """Cumulative :func:`centroid_distance`: call on batches, then :meth:`aggregate`.

    Args:
        **options: Keyword options of :func:`centroid_distance` (``spacing``,
            ``empty``, ...; not ``reduction``).

    Example:
        >>> import numpy as np
        >>> m = CentroidDistance(spacing=(0.5, 0.5))
        >>> t = np.zeros((1, 6, 6)); t[0, 1, 1] = 1
        >>> p = np.zeros((1, 6, 6)); p[0, 1, 5] = 1
        >>> _ = m(t, p)
        >>> m.aggregate()
        2.0
    """

    def _compute(self, y_true: Any, y_pred: Any) -> Any:
        return centroid_distance(y_true, y_pred, reduction="none", **self.options)
