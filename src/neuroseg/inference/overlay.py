"""Overlay pictures: the image with the truth and predicted tumour contours."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from neuroseg.data.io import write_image
from neuroseg.data.transforms import normalize_minmax

__all__ = ["PRED_COLOUR", "TRUTH_COLOUR", "overlay_contours", "save_overlay", "to_rgb8"]

#: RGB colour of the ground-truth contour (green).
TRUTH_COLOUR = (0, 220, 0)
#: RGB colour of the predicted contour (red).
PRED_COLOUR = (255, 40, 40)


def to_rgb8(image: np.ndarray) -> np.ndarray:
    """A new 8-bit RGB copy of ``image`` to draw on; the input is never modified.

    Grey images are repeated over three channels; other dtypes are scaled by their range.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((2, 2, 3), np.uint8)
        >>> y = to_rgb8(x); y[0, 0] = 255
        >>> int(x.max())
        0
    """
    img = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
    if img.dtype != np.uint8:
        img = np.rint(normalize_minmax(img) * 255).astype(np.uint8)
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=-1)
    return np.array(img[..., :3], dtype=np.uint8, order="C", copy=True)


def _draw(canvas: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
    m = np.ascontiguousarray((np.squeeze(mask) > 0).astype(np.uint8))
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(canvas, contours, -1, colour, 1)


def _draw_box(canvas: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
    from neuroseg.inference.localisation import localise

    loc = localise(np.squeeze(mask))
    if loc.bbox is not None:
        top, left, bottom, right = loc.bbox
        cv2.rectangle(canvas, (left, top), (right - 1, bottom - 1), colour, 1)


def _draw_centroid(canvas: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
    from neuroseg.inference.localisation import localise

    loc = localise(np.squeeze(mask))
    if loc.centroid is not None:
        row, col = (round(c) for c in loc.centroid)
        size = max(3, min(canvas.shape[:2]) // 40)
        cv2.drawMarker(canvas, (col, row), colour, cv2.MARKER_CROSS, 2 * size + 1, 1)


def overlay_contours(
    image: np.ndarray,
    truth: np.ndarray | None = None,
    pred: np.ndarray | None = None,
    *,
    box: bool = False,
    centroid: bool = False,
) -> np.ndarray:
    """Draw the truth (green) and predicted (red) contours on an image.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` image, any dtype (scaled to 8 bits by its range).
        truth: ``(H, W)`` ground-truth mask, or ``None``.
        pred: ``(H, W)`` predicted mask, or ``None``.
        box: Also draw each mask's bounding box (see :func:`~neuroseg.inference.localise`)
            in its colour.
        centroid: Also mark each mask's centroid with a cross in its colour.

    Returns:
        An ``(H, W, 3)`` RGB ``uint8`` picture.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((8, 8), np.uint8); m[2:6, 2:6] = 1
        >>> overlay_contours(np.zeros((8, 8)), truth=m).shape
        (8, 8, 3)
        >>> boxed = overlay_contours(np.zeros((8, 8)), pred=m, box=True, centroid=True)
        >>> tuple(int(v) for v in boxed[2, 2]), boxed.shape
        ((255, 40, 40), (8, 8, 3))
    """
    canvas = to_rgb8(image)
    for mask, colour in ((truth, TRUTH_COLOUR), (pred, PRED_COLOUR)):
        if mask is None:
            continue
        _draw(canvas, mask, colour)
        if box:
            _draw_box(canvas, mask, colour)
        if centroid:
            _draw_centroid(canvas, mask, colour)
    return canvas


def save_overlay(
    path: str | os.PathLike[str],
    image: np.ndarray,
    truth: np.ndarray | None = None,
    pred: np.ndarray | None = None,
    *,
    scale: int = 1,
    box: bool = False,
    centroid: bool = False,
) -> Path:
    """Write :func:`overlay_contours` as a PNG (optionally enlarged ``scale`` times).

    ``box`` and ``centroid`` draw the masks' bounding boxes and centroids as
    :func:`overlay_contours` does.
    """
    rgb = overlay_contours(image, truth, pred, box=box, centroid=centroid)
    if scale > 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return write_image(path, rgb)
