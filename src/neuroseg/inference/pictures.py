"""Pictures: side-by-side panels, montages and heatmap overlays (RGB ``uint8`` arrays)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from neuroseg.errors import ConfigError
from neuroseg.inference.overlay import overlay_contours, to_rgb8

__all__ = ["heatmap_overlay", "montage", "save_png", "side_by_side"]


def _label(rgb: np.ndarray, text: str) -> np.ndarray:
    out = rgb.copy()
    scale = max(out.shape[0] / 512, 0.35)
    cv2.putText(
        out,
        text,
        (4, int(14 * scale / 0.35 * 0.9)),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 0),
        1,
        cv2.LINE_AA,
    )
    return out


def side_by_side(
    image: np.ndarray,
    truth: np.ndarray | None,
    pred: np.ndarray | None,
    *,
    titles: Sequence[str] = ("image", "truth", "prediction"),
) -> np.ndarray:
    """Return the panels image | truth | prediction as one RGB picture.

    The truth panel shows the truth contour (green), the prediction panel the predicted
    contour (red); a missing mask gives the plain image in its panel, titled
    ``"<title>: not given"`` so that it is not mistaken for an empty mask.

    Example:
        >>> import numpy as np
        >>> side_by_side(np.zeros((8, 8)), None, np.ones((8, 8), np.uint8)).shape
        (8, 24, 3)
    """
    base = overlay_contours(image)
    panels = [
        base,
        overlay_contours(image, truth=truth),
        overlay_contours(image, pred=pred),
    ]
    if titles and image.shape[0] >= 64:
        shown = [
            f"{t}: not given" if m is None and i > 0 else t
            for i, (t, m) in enumerate(zip(titles, (image, truth, pred)))
        ]
        panels = [_label(p, t) for p, t in zip(panels, shown)]
    return np.concatenate(panels, axis=1)


def montage(
    pictures: Sequence[np.ndarray], *, cols: int = 4, pad: int = 2, size: int | None = None
) -> np.ndarray:
    """Tile RGB pictures into a grid (row-major), padded with black.

    Args:
        pictures: ``(H, W, 3)`` pictures; resized to the first one's size (or ``size``
            pixels high, keeping its aspect ratio).
        cols: Pictures per row.
        pad: Pixels between pictures.
        size: Height of each tile.

    Raises:
        ConfigError: No pictures, or ``cols < 1``.

    Example:
        >>> import numpy as np
        >>> montage([np.zeros((4, 4, 3), np.uint8)] * 3, cols=2, pad=1).shape
        (9, 9, 3)
    """
    if not pictures:
        raise ConfigError("montage needs at least one picture.")
    if cols < 1:
        raise ConfigError(f"cols must be >= 1, got {cols}")
    h, w = pictures[0].shape[:2]
    if size is not None:
        w, h = round(w * size / h), size
    tiles = [
        p if p.shape[:2] == (h, w) else cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA)
        for p in pictures
    ]
    cols = min(cols, len(tiles))
    rows = -(-len(tiles) // cols)
    canvas = np.zeros((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, 3), np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        canvas[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = tile
    return canvas


def heatmap_overlay(image: np.ndarray, heatmap: np.ndarray, *, alpha: float = 0.45) -> np.ndarray:
    """Blend a ``[0, 1]`` heatmap (jet colour map) over an image.

    Each pixel's blend weight is ``alpha * heat``, so cold regions keep the anatomy
    visible and hot regions show the colour. The heatmap is resized to the image
    (bilinear) if needed.

    Example:
        >>> import numpy as np
        >>> heatmap_overlay(np.zeros((8, 8)), np.ones((4, 4))).shape
        (8, 8, 3)
    """
    rgb = to_rgb8(image)
    heat: np.ndarray = np.asarray(heatmap, np.float32)
    if heat.shape[:2] != rgb.shape[:2]:
        heat = cv2.resize(heat, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat8 = np.rint(np.clip(heat, 0.0, 1.0) * 255).astype(np.uint8)
    colour = cv2.cvtColor(cv2.applyColorMap(heat8, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    weight = (alpha * np.clip(heat, 0.0, 1.0))[..., None]
    return np.rint((1 - weight) * rgb + weight * colour).astype(np.uint8)


def save_png(path: str | os.PathLike[str], rgb: np.ndarray, *, scale: int = 1) -> Path:
    """Write an RGB ``uint8`` picture as a PNG (enlarged ``scale`` times, nearest)."""
    if scale > 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(p), cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    return p
