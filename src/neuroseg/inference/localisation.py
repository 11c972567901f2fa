"""Where a tumour is: bounding box, centroid, largest diameter, components and side.

:func:`localise` measures a binary mask (a predicted or a true one) and returns a
:class:`Localisation`. Conventions, shared by :class:`~neuroseg.inference.Prediction`,
``neuroseg predict``'s JSON/CSV and :mod:`neuroseg.metrics.localisation`:

* Coordinates are NumPy ``(row, col)`` pixel indices: row 0 is the top of the image, and
  a pixel's centre is at its index (the centroid of a single pixel at ``[3, 5]`` is
  ``(3.0, 5.0)``).
* The bounding box is ``(top, left, bottom, right)`` with ``bottom`` and ``right``
  *exclusive*, as in slicing: ``mask[top:bottom, left:right]`` holds all the tumour, and
  its height is ``bottom - top``.
* The largest diameter is the maximum Feret (calliper) diameter of the *union* of all
  components, taking each pixel as a square: the largest distance between any two points
  of the tumour's pixel squares. One pixel measures ``sqrt(2)``; a 10×10 square
  ``sqrt(200)``. With a pixel spacing the squares are rectangles of that size in mm.
* Components are counted with full connectivity (8 neighbours in 2-D, 26 in 3-D), as
  :func:`~neuroseg.inference.postprocess_mask` does.
* ``side`` is where the centroid lies against the image's vertical midline (the centre
  column, not a detected brain midline), in patient terms: ``"left"`` or ``"right"`` with
  a known orientation, ``"midline"`` when it lies exactly on the centre column, and
  ``"unknown"`` without one. Figshare slices (``figshare-cheng``) and the slices of
  :mod:`neuroseg.data.nifti` are in the *radiological* convention: the patient's left is
  on the image's right.

A 3-D volume ``(H, W, Z)`` (slices along the last axis, as a
:class:`~neuroseg.inference.Prediction` holds it) gives the whole-volume box and centroid
plus one :class:`Localisation` per slice (:attr:`Localisation.per_slice`); its diameter is
the largest in-plane diameter over its slices (the slice-wise measurement of RANO/RECIST).

Example:
    >>> import numpy as np
    >>> from neuroseg.inference.localisation import localise
    >>> mask = np.zeros((8, 8), np.uint8); mask[2:4, 5:8] = 1
    >>> loc = localise(mask, spacing=(0.5, 0.5), orientation="radiological")
    >>> loc.bbox, loc.centroid, loc.side
    ((2, 5, 4, 8), (2.5, 6.0), 'left')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from skimage import measure

from neuroseg.errors import ConfigError, MaskError

__all__ = ["ORIENTATIONS", "Localisation", "feret_diameter", "localise"]

#: Accepted ``orientation`` values: ``"radiological"`` (patient's left on the image's
#: right, as Figshare and neuroseg's NIfTI slices), ``"neurological"`` (patient's left on
#: the image's left) and ``"unknown"`` (the same as ``None``).
ORIENTATIONS = ("radiological", "neurological", "unknown")


@dataclass(frozen=True)
class Localisation:
    """Where the tumour of one mask is, as :func:`localise` measures it.

    Every field except ``shape``, ``area_px``, ``components`` and ``per_slice`` is
    ``None`` when the mask is empty (:attr:`found` is then ``False``).

    Attributes:
        shape: The mask's shape, ``(H, W)`` or ``(H, W, Z)``.
        area_px: Tumour pixels (voxels for a volume).
        components: Number of connected components (full connectivity).
        bbox: ``(top, left, bottom, right)`` in pixels, ``bottom``/``right`` exclusive; a
            volume's spans all its slices.
        centroid: ``(row, col)`` in pixels (the mean pixel position).
        centroid_mm: ``centroid`` times the pixel spacing, when the spacing is known.
        diameter_px: Largest (maximum Feret) diameter of the union of all components in
            pixels; a volume's is the largest in-plane one over its slices.
        diameter_mm: The same in mm, when the pixel spacing is known.
        area_mm: Area in mm² when the pixel spacing is known; a volume's is its volume in
            mm³, known only with a ``(row, col, slice)`` spacing.
        side: ``"left"``, ``"right"`` or ``"midline"`` (patient's side) with a known
            orientation, ``"unknown"`` without one, ``None`` when empty.
        slices: A volume's first and last-plus-one slice holding tumour, else ``None``.
        centroid_slice: A volume's centroid along the slice axis, else ``None``.
        per_slice: A volume's :class:`Localisation` for each slice (empty tuple for 2-D).
    """

    shape: tuple[int, ...]
    area_px: int
    components: int
    bbox: tuple[int, int, int, int] | None = None
    centroid: tuple[float, float] | None = None
    centroid_mm: tuple[float, float] | None = None
    diameter_px: float | None = None
    diameter_mm: float | None = None
    area_mm: float | None = None
    side: str | None = None
    slices: tuple[int, int] | None = None
    centroid_slice: float | None = None
    per_slice: tuple[Localisation, ...] = ()

    @property
    def found(self) -> bool:
        """Whether the mask holds any tumour."""
        return self.area_px > 0

    def as_dict(self) -> dict[str, Any]:
        """Flat, JSON- and CSV-ready measurements (``None`` where not known).

        Keys: ``tumour_found``, ``bbox_top``, ``bbox_left``, ``bbox_bottom``, ``bbox_right``
        (bottom/right exclusive), ``centroid_row``, ``centroid_col``, ``centroid_row_mm``,
        ``centroid_col_mm``, ``diameter_px``, ``diameter_mm``, ``components`` and
        ``side``; for a volume also ``slice_first``, ``slice_last`` (exclusive) and
        ``centroid_slice``. Floats are rounded to 3 decimals.

        Example:
            >>> import numpy as np
            >>> m = np.zeros((4, 4), np.uint8); m[1, 1] = 1
            >>> d = localise(m).as_dict()
            >>> d["bbox_top"], d["bbox_bottom"], d["centroid_row_mm"], d["side"]
            (1, 2, None, 'unknown')
        """
        box = self.bbox or (None, None, None, None)
        cen = self.centroid or (None, None)
        cen_mm = self.centroid_mm or (None, None)
        out: dict[str, Any] = {
            "tumour_found": self.found,
            "bbox_top": box[0],
            "bbox_left": box[1],
            "bbox_bottom": box[2],
            "bbox_right": box[3],
            "centroid_row": _round(cen[0]),
            "centroid_col": _round(cen[1]),
            "centroid_row_mm": _round(cen_mm[0]),
            "centroid_col_mm": _round(cen_mm[1]),
            "diameter_px": _round(self.diameter_px),
            "diameter_mm": _round(self.diameter_mm),
            "components": self.components,
            "side": self.side,
        }
        if len(self.shape) == 3:
            first, last = self.slices or (None, None)
            out.update(
                slice_first=first, slice_last=last, centroid_slice=_round(self.centroid_slice)
            )
        return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _check_orientation(orientation: str | None) -> str:
    if orientation is None:
        return "unknown"
    if orientation not in ORIENTATIONS:
        raise ConfigError(
            f"Unknown orientation {orientation!r}; use 'radiological' (patient's left on the "
            "image's right: Figshare and neuroseg's NIfTI slices), 'neurological' or None."
        )
    return orientation


def _side(col: float, width: int, orientation: str) -> str:
    if orientation == "unknown":
        return "unknown"
    centre = (width - 1) / 2.0
    if col == centre:
        return "midline"
    image_right = col > centre
    # Radiological: the image's right shows the patient's left.
    patient_left = image_right if orientation == "radiological" else not image_right
    return "left" if patient_left else "right"


def feret_diameter(mask: np.ndarray, spacing: Sequence[float] | None = None) -> float:
    """The maximum Feret diameter of a 2-D mask's foreground, pixels taken as squares.

    The largest distance between two points of the union of the foreground pixels' squares
    (all components together). With ``spacing=(row, col)`` in mm the squares are that
    size and the result is in mm.

    Args:
        mask: ``(H, W)`` binary mask (any value above 0 is foreground).
        spacing: Pixel spacing ``(row, col)``; ``None``: 1 pixel.

    Returns:
        The diameter; 0.0 for an empty mask.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((6, 6), np.uint8); m[1:4, 1:5] = 1
        >>> feret_diameter(m), feret_diameter(m, spacing=(2.0, 1.0))
        (5.0, 7.211102550927978)
    """
    fg = np.asarray(mask) > 0
    if fg.ndim != 2:
        raise MaskError(f"feret_diameter needs a 2-D mask, got shape {fg.shape}.")
    rows, cols = np.nonzero(fg)
    if rows.size == 0:
        return 0.0
    sr, sc = (1.0, 1.0) if spacing is None else (float(spacing[0]), float(spacing[1]))
    # The four corners of every pixel square, in mm; their convex hull holds the extremes.
    corners = np.concatenate(
        [
            np.stack([(rows + dr) * sr, (cols + dc) * sc], axis=1)
            for dr in (-0.5, 0.5)
            for dc in (-0.5, 0.5)
        ]
    ).astype(np.float32)
    hull = cv2.convexHull(corners).reshape(-1, 2).astype(np.float64)
    diff = hull[:, None, :] - hull[None, :, :]
    return float(math.sqrt(float((diff**2).sum(axis=-1).max())))


def _components(fg: np.ndarray) -> int:
    labels = measure.label(fg, connectivity=fg.ndim)  # type: ignore[no-untyped-call]
    return int(np.asarray(labels).max())


def _localise_2d(
    fg: np.ndarray, spacing: tuple[float, float] | None, orientation: str
) -> Localisation:
    area = int(np.count_nonzero(fg))
    shape = (int(fg.shape[0]), int(fg.shape[1]))
    if area == 0:
        return Localisation(shape=shape, area_px=0, components=0)
    rows, cols = np.nonzero(fg)
    bbox = (int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)
    centroid = (float(rows.mean()), float(cols.mean()))
    diameter = feret_diameter(fg)
    return Localisation(
        shape=shape,
        area_px=area,
        components=_components(fg),
        bbox=bbox,
        centroid=centroid,
        centroid_mm=None
        if spacing is None
        else (centroid[0] * spacing[0], centroid[1] * spacing[1]),
        diameter_px=diameter,
        diameter_mm=None if spacing is None else feret_diameter(fg, spacing),
        area_mm=None if spacing is None else area * spacing[0] * spacing[1],
        side=_side(centroid[1], shape[1], orientation),
    )


def localise(
    mask: Any,
    *,
    spacing: Sequence[float] | None = None,
    orientation: str | None = None,
) -> Localisation:
    """Measure where the tumour of a binary mask is.

    See the module's conventions (box, centroid, diameter, side). An empty mask gives a
    :class:`Localisation` with ``found`` ``False`` and ``None`` measurements, never an
    error.

    Args:
        mask: ``(H, W)`` (or ``(H, W, 1)``) mask, or an ``(H, W, Z)`` volume with slices
            along the last axis; any value above 0 is tumour. Arrays or tensors.
        spacing: Pixel spacing ``(row, col)`` in mm, or ``(row, col, slice)`` for a
            volume (the slice spacing only scales ``area_mm`` to mm³); ``None``: unknown,
            and the mm fields are ``None``.
        orientation: ``"radiological"`` (patient's left on the image's right; Figshare
            and neuroseg's NIfTI slices), ``"neurological"``, or ``None``/``"unknown"``
            (``side`` is then ``"unknown"``).

    Returns:
        The :class:`Localisation`.

    Raises:
        MaskError: The mask is not 2-D or 3-D.
        ConfigError: Unknown ``orientation``, or a ``spacing`` of the wrong length or not
            positive.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((10, 10), np.uint8); m[1:3, 1:3] = 1; m[6:9, 5:7] = 1
        >>> loc = localise(m, spacing=(0.5, 0.5))
        >>> loc.components, loc.bbox, loc.centroid_mm
        (2, (1, 1, 9, 7), (2.4, 1.95))
        >>> localise(np.zeros((4, 4))).found, localise(np.zeros((4, 4))).bbox
        (False, None)
    """
    arr = np.asarray(mask.numpy() if hasattr(mask, "numpy") else mask)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3):
        raise MaskError(
            f"localise needs an (H, W) mask or an (H, W, Z) volume, got shape {arr.shape}."
        )
    orient = _check_orientation(orientation)
    fg = arr > 0
    sp: tuple[float, ...] | None = None
    if spacing is not None:
        sp = tuple(float(s) for s in spacing)
        if len(sp) not in (2, arr.ndim) or any(not (s > 0) for s in sp):
            raise ConfigError(
                f"spacing={tuple(spacing)} for a mask of shape {arr.shape}: give positive "
                "(row, col) mm (or (row, col, slice) for a volume), or None."
            )
    plane = None if sp is None else (sp[0], sp[1])
    if fg.ndim == 2:
        return _localise_2d(fg, plane, orient)
    per_slice = tuple(_localise_2d(fg[:, :, k], plane, orient) for k in range(fg.shape[2]))
    shape = tuple(int(s) for s in fg.shape)
    area = int(np.count_nonzero(fg))
    if area == 0:
        return Localisation(shape=shape, area_px=0, components=0, per_slice=per_slice)
    rows, cols, ks = np.nonzero(fg)
    centroid = (float(rows.mean()), float(cols.mean()))
    diameters = [s.diameter_px for s in per_slice if s.diameter_px is not None]
    diameters_mm = [s.diameter_mm for s in per_slice if s.diameter_mm is not None]
    area_mm = None
    if sp is not None:
        area_mm = area * sp[0] * sp[1] * (sp[2] if len(sp) == 3 else 1.0)
    return Localisation(
        shape=shape,
        area_px=area,
        components=_components(fg),
        bbox=(int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1),
        centroid=centroid,
        centroid_mm=None if plane is None else (centroid[0] * plane[0], centroid[1] * plane[1]),
        diameter_px=max(diameters),
        diameter_mm=max(diameters_mm) if diameters_mm else None,
        area_mm=area_mm if len(sp or ()) == 3 else None,
        side=_side(centroid[1], shape[1], orient),
        slices=(int(ks.min()), int(ks.max()) + 1),
        centroid_slice=float(ks.mean()),
        per_slice=per_slice,
    )
