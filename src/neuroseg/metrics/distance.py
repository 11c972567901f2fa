"""Surface-distance metrics: HD95 and ASSD, with a defined worst value for empty masks.

Definitions (the convention of MedPy's ``hd95`` and of Taha & Hanbury 2015):

- The **surface** of a mask is its pixels that have at least one 4-connected neighbour
  outside the mask (6-connected in 3-D): ``mask & ~binary_erosion(mask)``, with pixels on
  the image edge counting as surface.
- The **directed surface distances** from A to B are, for every surface pixel of A, the
  Euclidean distance in physical units (``spacing``) to the nearest surface pixel of B,
  from ``scipy.ndimage.distance_transform_edt``.
- **HD95** is the 95th percentile (NumPy's default linear interpolation) of the union of
  both directed sets, truth→prediction and prediction→truth. (MONAI's
  ``HausdorffDistanceMetric(percentile=95)`` instead takes the larger of the two directed
  95th percentiles; the two agree to within a pixel on typical masks.)
- **ASSD** is the mean of that same union (Heimann et al. 2009; MONAI's symmetric
  ``SurfaceDistanceMetric``). MedPy's ``assd`` averages the two directed means instead.

Empty masks (``empty="one"``, default): both empty is 0.0; exactly one empty (a missed or a
spurious tumour) is the **worst value**, the diagonal of the item in physical units:
``sqrt((H·row)² + (W·col)²)`` for an image, ``sqrt((D·slice)² + (H·row)² + (W·col)²)`` for a
patient volume of D slices. Never NaN. With ``empty="nan"`` every item with an empty truth
or prediction is NaN and left out of the mean, and ``details=True`` reports the count.

Reductions: ``"per_image"`` (mean of per-image values), ``"none"`` (per-image values),
``"per_patient"`` (each patient's slices, in input order, stacked into a 3-D volume and
measured in 3-D; then the mean over patients) and ``"pooled"`` (the percentile / mean of the
union of the per-image surface distances of all images, where each surface pixel of an image
with only one mask empty counts at that image's worst value).

Spacing: ``spacing=(row, col)`` in mm per pixel (default 1.0, i.e. pixels). For
``"per_patient"`` a third value may lead, ``(slice, row, col)``; without it the slice
spacing is taken as 1.0 in the same unit, so pass the slice thickness for real volumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError
from neuroseg.metrics._inputs import check_options, group_index, prepare
from neuroseg.metrics.overlap import EmptyRule, Reduction, finish

__all__ = ["assd", "hd95"]


def _ndi() -> Any:
    import scipy.ndimage as ndi  # type: ignore[import-untyped, unused-ignore]

    return ndi


def _spacing(spacing: Sequence[float] | None, ndim: int) -> tuple[float, ...]:
    if spacing is None:
        return (1.0,) * ndim
    sp = tuple(float(s) for s in spacing)
    if ndim == 3 and len(sp) == 2:
        sp = (1.0, *sp)
    if len(sp) != ndim or any(not np.isfinite(s) or s <= 0 for s in sp):
        raise ConfigError(
            f"spacing must be {ndim} positive numbers "
            f"({'(row, col)' if ndim == 2 else '(slice, row, col) or (row, col)'}), got {spacing}"
        )
    return sp


def _diagonal(shape: Sequence[int], spacing: Sequence[float]) -> float:
    return float(np.sqrt(sum((n * s) ** 2 for n, s in zip(shape, spacing))))


def _surface(mask: np.ndarray, structure: np.ndarray) -> np.ndarray:
    eroded = _ndi().binary_erosion(mask, structure=structure, border_value=0)
    return np.asarray(mask & ~eroded)


def _bbox(mask: np.ndarray) -> tuple[slice, ...]:
    """Bounding box of the non-zero pixels (cropping there leaves distances unchanged)."""
    out = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        out.append(slice(int(hit[0]), int(hit[-1]) + 1))
    return tuple(out)


def _slice_distances(
    t: np.ndarray, p: np.ndarray, spacing: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Directed surface distances of a stack (N, H, W) where every slice has both masks.

    Each slice is cropped to the bounding box of its two masks before the distance
    transforms (exact: every surface pixel lies in the box, and pixels on the box edge are
    surface pixels of the full image too); tumours are small, so this is what makes HD95
    fast (see benchmarks/metrics.py).

    Returns:
        ``(values, slice_index)``: all distances of both directions and their slice.
    """
    values, index = [], []
    for i in range(len(t)):
        d = _volume_distances(t[i], p[i], spacing)
        values.append(d)
        index.append(np.full(len(d), i, np.int64))
    return np.concatenate(values), np.concatenate(index)


def _volume_distances(t: np.ndarray, p: np.ndarray, spacing: tuple[float, ...]) -> np.ndarray:
    """Directed surface distances of both directions for one 2-D or 3-D item."""
    ndi = _ndi()
    structure = ndi.generate_binary_structure(t.ndim, 1)
    box = _bbox(t | p)
    tc, pc = t[box], p[box]
    st, sp = _surface(tc, structure), _surface(pc, structure)
    d1 = ndi.distance_transform_edt(~st, sampling=spacing)[sp]
    d2 = ndi.distance_transform_edt(~sp, sampling=spacing)[st]
    return np.concatenate([d1, d2])


def _group_stat(values: np.ndarray, index: np.ndarray, n: int, stat: str) -> np.ndarray:
    """Per-slice 95th percentile (linear, as ``np.percentile``) or mean of grouped values."""
    out = np.full(n, np.nan)
    if not len(values):
        return out
    counts = np.bincount(index, minlength=n)
    if stat == "mean":
        sums = np.bincount(index, weights=values, minlength=n)
        nonzero = counts > 0
        out[nonzero] = sums[nonzero] / counts[nonzero]
        return out
    order = np.lexsort((values, index))
    v = values[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = np.flatnonzero(counts > 0)
    pos = 0.95 * (counts[has] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    frac = pos - lo
    a, b = v[starts[has] + lo], v[starts[has] + hi]
    out[has] = a + (b - a) * frac
    return out


def _stat(values: np.ndarray, stat: str) -> float:
    return float(np.percentile(values, 95) if stat == "hd95" else np.mean(values))


def _distance_metric(
    stat: str,
    y_true: Any,
    y_pred: Any,
    *,
    reduction: str,
    spacing: Sequence[float] | None,
    threshold: float,
    from_logits: bool,
    empty: str,
    groups: Sequence[Any] | None,
    num_classes: int | None,
    include_background: bool,
    details: bool,
) -> Any:
    prep = prepare(
        y_true,
        y_pred,
        threshold=threshold,
        from_logits=from_logits,
        num_classes=num_classes,
        include_background=include_background,
    )
    n, h, w = prep.truth.shape
    check_options(reduction, empty, groups, n)
    sp2 = _spacing(spacing if spacing is None or len(spacing) == 2 else spacing[-2:], 2)
    worst2 = _diagonal((h, w), sp2)
    ids = None
    columns = []
    for k in range(prep.n_classes_scored):
        t, p = prep.masks(k)
        if reduction == "per_patient":
            assert groups is not None
            sp3 = _spacing(spacing, 3)
            ids, patient_rows = group_index(groups)
            col = np.empty(len(ids))
            for j, rows in enumerate(patient_rows):
                tv, pv = t[rows], p[rows]
                et, ep = not tv.any(), not pv.any()
                if et or ep:
                    both = et and ep
                    col[j] = (
                        np.nan if empty == "nan" else (0.0 if both else _diagonal(tv.shape, sp3))
                    )
                else:
                    col[j] = _stat(_volume_distances(tv, pv, sp3), stat)
            columns.append(col)
            continue
        has_t = np.asarray(t.reshape(n, -1).any(axis=1))
        has_p = np.asarray(p.reshape(n, -1).any(axis=1))
        full = np.flatnonzero(has_t & has_p)
        values, index = np.empty(0), np.empty(0, np.int64)
        if len(full):
            values, index = _slice_distances(t[full], p[full], (sp2[0], sp2[1]))
        one_empty = has_t ^ has_p
        if reduction == "pooled":
            pooled: list[np.ndarray] = [values]
            if empty == "one":
                for i in np.flatnonzero(one_empty):
                    m = np.asarray(t[i] if has_t[i] else p[i])
                    n_surface = int(_surface(m, _ndi().generate_binary_structure(2, 1)).sum())
                    pooled.append(np.full(n_surface, worst2))
            allv = np.concatenate(pooled)
            if len(allv):
                columns.append(np.array([_stat(allv, stat)]))
            else:
                columns.append(np.array([0.0 if empty == "one" else np.nan]))
            continue
        col = np.full(n, np.nan)
        col[full] = _group_stat(values, index, len(full), "mean" if stat == "assd" else "p95")
        if empty == "one":
            col[~has_t & ~has_p] = 0.0
            col[one_empty] = worst2
        columns.append(col)
    return finish(
        np.stack(columns, axis=1),
        reduction=reduction,
        multiclass=prep.multiclass,
        details=details,
        groups=ids,
    )


def hd95(
    y_true: Any,
    y_pred: Any,
    *,
    reduction: Reduction = "per_image",
    spacing: Sequence[float] | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: EmptyRule = "one",
    groups: Sequence[Any] | None = None,
    num_classes: int | None = None,
    include_background: bool = True,
    details: bool = False,
) -> Any:
    """95th-percentile symmetric Hausdorff distance between mask surfaces.

    See the module docs for the exact definition, the worst value for empty masks and the
    reductions. Other options are as for :func:`~neuroseg.metrics.dice`.

    Args:
        y_true: Truth, ``(H, W)``, ``(N, H, W)`` or ``(N, H, W, C)``.
        y_pred: Prediction of the same layout.
        reduction: ``"per_image"``, ``"pooled"``, ``"per_patient"`` or ``"none"``.
        spacing: Pixel size ``(row, col)`` (``(slice, row, col)`` for per-patient volumes).
        threshold: Foreground if ``probability >= threshold`` (binary only).
        from_logits: Apply a sigmoid to ``y_pred`` first (binary only).
        empty: ``"one"``: both empty 0.0, one empty the diagonal; ``"nan"``: excluded.
        groups: One patient ID per image, for ``reduction="per_patient"``.
        num_classes: Number of classes for multi-class label maps.
        include_background: Score class 0 too (multi-class only).
        details: Return a :class:`~neuroseg.metrics.MetricResult` instead of the value.

    Returns:
        Distance in the units of ``spacing``: a float, or one value per class or image.

    Example:
        >>> import numpy as np
        >>> t = np.zeros((8, 8), np.uint8); t[2:5, 2:5] = 1
        >>> p = np.roll(t, 2, axis=1)  # shifted right by 2 pixels
        >>> hd95(t, p), hd95(t, p, spacing=(1.0, 0.5))
        (2.0, 1.0)
        >>> round(hd95(t, np.zeros_like(t)), 3)  # missed tumour: the diagonal 8·√2
        11.314
    """
    return _distance_metric(
        "hd95",
        y_true,
        y_pred,
        reduction=reduction,
        spacing=spacing,
        threshold=threshold,
        from_logits=from_logits,
        empty=empty,
        groups=groups,
        num_classes=num_classes,
        include_background=include_background,
        details=details,
    )


def assd(
    y_true: Any,
    y_pred: Any,
    *,
    reduction: Reduction = "per_image",
    spacing: Sequence[float] | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: EmptyRule = "one",
    groups: Sequence[Any] | None = None,
    num_classes: int | None = None,
    include_background: bool = True,
    details: bool = False,
) -> Any:
    """Average symmetric surface distance: the mean of both directed surface-distance sets.

    Options, empty-mask rule and reductions as :func:`hd95`.

    Example:
        >>> import numpy as np
        >>> t = np.zeros((8, 8), np.uint8); t[2:5, 2:5] = 1
        >>> assd(t, np.roll(t, 1, axis=0))  # shifted down by 1: half of 16 distances are 1
        0.5
    """
    return _distance_metric(
        "assd",
        y_true,
        y_pred,
        reduction=reduction,
        spacing=spacing,
        threshold=threshold,
        from_logits=from_logits,
        empty=empty,
        groups=groups,
        num_classes=num_classes,
        include_background=include_background,
        details=details,
    )
