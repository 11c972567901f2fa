"""Pictures: side-by-side panels, montages and heatmap overlays (RGB ``uint8`` arrays)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from neuroseg.data.io import write_image
from neuroseg.errors import ConfigError
from neuroseg.inference.overlay import overlay_contours, to_rgb8

__all__ = [
    "MIN_TITLED_HEIGHT",
    "curve_from_dict",
    "gradcam_panels",
    "heatmap_overlay",
    "montage",
    "reliability_picture",
    "save_png",
    "side_by_side",
    "title_strip",
    "uncertainty_panel",
]


#: Pictures lower than this carry no titles (the text would cover the image).
MIN_TITLED_HEIGHT = 64


def title_strip(rgb: np.ndarray, text: str | Sequence[str]) -> np.ndarray:
    """``rgb`` under a black title strip holding ``text`` (one line per string).

    The image's own pixels are not covered: the strip is added above them, so the
    picture's last ``H`` rows are the panel itself. The font scales with the height; a line
    too wide for the panel is drawn smaller so that it fits.

    Example:
        >>> import numpy as np
        >>> pic = title_strip(np.zeros((80, 60, 3), np.uint8), ["a title", "a legend"])
        >>> pic.shape[1:], pic.shape[0] > 80  # the strip stands above the 80 rows
        ((60, 3), True)
    """
    lines = [text] if isinstance(text, str) else list(text)
    h, w = rgb.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(h / 600, 0.35)
    (_, th), base = cv2.getTextSize("Ag", font, scale, 1)
    step = th + base + 4
    strip = np.zeros((step * len(lines) + 2, w, 3), np.uint8)
    for k, line in enumerate(lines):
        fit = scale
        width = cv2.getTextSize(line, font, scale, 1)[0][0]
        if width > w - 6:
            fit = max(scale * (w - 6) / width, 0.25)
        y = k * step + th + 3
        cv2.putText(strip, line, (3, y), font, fit, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([strip, rgb], axis=0)


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
    ``"<title>: not given"`` so that it is not mistaken for an empty mask, and an empty
    mask's panel is titled ``"<title>: empty"`` (it shows no contour). The titles
    stand in a black strip above the panels (the picture's last ``H`` rows are the panels
    themselves); images lower than :data:`MIN_TITLED_HEIGHT` pixels get none.

    Example:
        >>> import numpy as np
        >>> side_by_side(np.zeros((8, 8)), None, np.ones((8, 8), np.uint8)).shape
        (8, 24, 3)
    """
    panels = [
        overlay_contours(image),
        overlay_contours(image, truth=truth),
        overlay_contours(image, pred=pred),
    ]
    if titles and image.shape[0] >= MIN_TITLED_HEIGHT:
        shown = [
            t if i == 0 else f"{t}: not given" if m is None else t if np.any(m) else f"{t}: empty"
            for i, (t, m) in enumerate(zip(titles, (image, truth, pred)))
        ]
        panels = [title_strip(p, t) for p, t in zip(panels, shown)]
    return np.concatenate(panels, axis=1)


def gradcam_panels(
    image: np.ndarray,
    heatmap: np.ndarray,
    *,
    predicted: str,
    probability: float,
    truth: str | None = None,
) -> np.ndarray:
    """A classifier's picture: the image | its Grad-CAM, titled with the call.

    The image panel is titled ``image`` and ``truth: <class>`` (``truth: not given``
    without one); the heatmap panel ``Grad-CAM of <predicted>`` and
    ``predicted <class>, p = <probability>``, marked ``right`` or ``WRONG`` when the truth
    is known. The titles stand in a black strip above the panels (the picture's last
    ``H`` rows are the panels); images lower than :data:`MIN_TITLED_HEIGHT` pixels get none.

    Args:
        image: The slice as read, ``(H, W)`` or ``(H, W, C)``.
        heatmap: ``(H, W)`` map in ``[0, 1]`` in the image's frame (e.g.
            :meth:`~neuroseg.inference.Predictor.grad_cam`).
        predicted: The predicted class's name.
        probability: Its probability.
        truth: The true class's name, when known.

    Example:
        >>> import numpy as np
        >>> pic = gradcam_panels(np.zeros((80, 60)), np.zeros((80, 60)), predicted="glioma",
        ...                      probability=0.9)
        >>> pic.shape[1:], pic.shape[0] > 80  # two panels under a strip of titles
        ((120, 3), True)
    """
    left = to_rgb8(image)
    right = heatmap_overlay(image, heatmap)
    if image.shape[0] >= MIN_TITLED_HEIGHT:
        call = f"predicted {predicted}, p = {probability:.2f}"
        if truth is not None:
            call += ": right" if truth == predicted else ": WRONG"
        left = title_strip(left, ["image", f"truth: {truth if truth is not None else 'not given'}"])
        right = title_strip(right, [f"Grad-CAM of {predicted}", call])
    return np.concatenate([left, right], axis=1)


def montage(
    pictures: Sequence[np.ndarray], *, cols: int = 4, pad: int = 2, size: int | None = None
) -> np.ndarray:
    """Tile RGB pictures into a grid (row-major), padded with black.

    Args:
        pictures: ``(H, W, 3)`` pictures (grey or other dtypes are made 8-bit RGB as
            :func:`~neuroseg.inference.to_rgb8` does); resized to the first one's size (or
            ``size`` pixels high, keeping its aspect ratio).
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
    pictures = [to_rgb8(np.asarray(p)) for p in pictures]  # grey or other dtypes too
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
    visible and hot regions show the colour. A heatmap of another size but the same
    aspect ratio is resized to the image (bilinear); one of another aspect ratio raises
    :class:`~neuroseg.errors.ConfigError` rather than being stretched over the image.

    Example:
        >>> import numpy as np
        >>> heatmap_overlay(np.zeros((8, 8)), np.ones((4, 4))).shape
        (8, 8, 3)
    """
    rgb = to_rgb8(image)
    heat: np.ndarray = np.asarray(heatmap, np.float32)
    (h, w), (hh, hw) = rgb.shape[:2], heat.shape[:2]
    if abs(h * hw - w * hh) > max(h, w, hh, hw):  # aspect ratios differ by more than a pixel
        raise ConfigError(
            f"heatmap {hh}x{hw} has another shape than the image {h}x{w}; stretching it would "
            "misplace the heat. Map it into the image's frame first (Predictor.grad_cam does)."
        )
    if heat.shape[:2] != rgb.shape[:2]:
        heat = cv2.resize(heat, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat8 = np.rint(np.clip(heat, 0.0, 1.0) * 255).astype(np.uint8)
    colour = cv2.cvtColor(cv2.applyColorMap(heat8, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    weight = (alpha * np.clip(heat, 0.0, 1.0))[..., None]
    return np.asarray(np.rint((1 - weight) * rgb + weight * colour), np.uint8)


_CURVE_COLOURS = ((90, 90, 90), (40, 120, 220), (230, 120, 30), (40, 170, 90))


def curve_from_dict(data: dict[str, Any]) -> Any:
    """A :class:`~neuroseg.metrics.ReliabilityCurve` back from its ``to_dict`` form.

    The per-bin sums are rebuilt from the counts, accuracies and mean confidences (exact
    up to rounding), e.g. from the ``reliability`` of ``neuroseg evaluate --json``.

    Example:
        >>> from neuroseg.metrics import reliability_curve
        >>> c = reliability_curve([0, 1, 1, 0], [0.9, 0.8, 0.6, 0.3], n_bins=5)
        >>> back = curve_from_dict(c.to_dict())
        >>> back.counts.tolist() == c.counts.tolist(), round(back.ece, 6) == round(c.ece, 6)
        (True, True)
    """
    from neuroseg.metrics.calibration import ReliabilityCurve

    try:
        counts = np.asarray(data["counts"], np.int64)
        accuracy = np.array([np.nan if v is None else v for v in data["accuracy"]], np.float64)
        confidence = np.array([np.nan if v is None else v for v in data["confidence"]], np.float64)
        edges = np.asarray(data["edges"], np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"not a reliability curve's dict: {exc}") from exc
    if not len(edges) == len(counts) + 1 == len(accuracy) + 1 == len(confidence) + 1:
        raise ConfigError("a reliability curve needs n_bins + 1 edges and n_bins of the rest")
    return ReliabilityCurve(
        edges=edges,
        counts=counts,
        correct=np.nan_to_num(accuracy) * counts,
        confidence_sum=np.nan_to_num(confidence) * counts,
    )


def reliability_picture(
    curves: Any,
    *,
    names: Sequence[str] | None = None,
    title: str | None = None,
    size: int = 360,
) -> np.ndarray:
    """A reliability diagram: accuracy per confidence bin against the diagonal.

    One group of bars per bin (one bar per curve, its height the bin's accuracy), a cross
    at each bin's mean confidence, the diagonal of perfect calibration, axes from 0 to 1
    and a legend with each curve's ECE. Empty bins have no bar.

    Args:
        curves: A :class:`~neuroseg.metrics.ReliabilityCurve` or a list of them (same
            bins), e.g. before and after calibration; each may also be the dict of its
            :meth:`~neuroseg.metrics.ReliabilityCurve.to_dict` (as ``evaluate``'s JSON
            holds it, see :func:`curve_from_dict`).
        names: A legend name per curve.
        title: A line above the plot.
        size: Width and height of the plot area in pixels.

    Returns:
        ``(H, W, 3)`` ``uint8``.

    Example:
        >>> from neuroseg.metrics import reliability_curve
        >>> c = reliability_curve([0, 1, 1, 0], [0.9, 0.8, 0.6, 0.3], n_bins=5)
        >>> pic = reliability_picture([c], names=["model"], title="test")
        >>> pic.dtype, pic.shape[2], pic.shape[0] > 360
        (dtype('uint8'), 3, True)
    """
    items = list(curves) if isinstance(curves, (list, tuple)) else [curves]
    items = [curve_from_dict(c) if isinstance(c, dict) else c for c in items]
    if not items:
        raise ConfigError("reliability_picture needs at least one curve")
    labels = list(names) if names is not None else [f"curve {k + 1}" for k in range(len(items))]
    if len(labels) != len(items):
        raise ConfigError(f"{len(labels)} names for {len(items)} curves")
    if size < 100:
        raise ConfigError(f"size must be at least 100 pixels, got {size}")
    pad_l, pad_b, pad_t, pad_r = 48, 40, 10, 12
    w, h = size + pad_l + pad_r, size + pad_b + pad_t
    pic = np.full((h, w, 3), 255, np.uint8)
    font, grey = cv2.FONT_HERSHEY_SIMPLEX, (60, 60, 60)

    def xy(cx: float, cy: float) -> tuple[int, int]:
        return round(pad_l + cx * size), round(pad_t + (1 - cy) * size)

    for v in np.linspace(0, 1, 6):
        cv2.line(pic, xy(v, 0), xy(v, 1), (225, 225, 225), 1)
        cv2.line(pic, xy(0, v), xy(1, v), (225, 225, 225), 1)
        cv2.putText(pic, f"{v:.1f}", (xy(v, 0)[0] - 10, h - pad_b + 15), font, 0.35, grey, 1)
        cv2.putText(pic, f"{v:.1f}", (8, xy(0, v)[1] + 4), font, 0.35, grey, 1)
    n_bins = items[0].n_bins
    width = 1.0 / n_bins / (len(items) + 0.5)
    for k, (curve, colour) in enumerate(zip(items, _CURVE_COLOURS * len(items))):
        if curve.n_bins != n_bins:
            raise ConfigError("all curves need the same bins")
        acc, conf = curve.accuracy, curve.confidence
        for b in range(n_bins):
            if curve.counts[b] == 0:
                continue
            x0 = curve.edges[b] + (0.25 + k) * width
            cv2.rectangle(pic, xy(x0, 0), xy(x0 + width, float(acc[b])), colour, -1)
            cx, cy = xy(x0 + width / 2, float(conf[b]))
            cv2.drawMarker(pic, (cx, cy), (0, 0, 0), cv2.MARKER_CROSS, 7, 1)
    cv2.line(pic, xy(0, 0), xy(1, 1), (0, 0, 0), 1, cv2.LINE_AA)
    cv2.rectangle(pic, xy(0, 0), xy(1, 1), grey, 1)
    cv2.putText(pic, "confidence", (pad_l + size // 2 - 35, h - 8), font, 0.4, grey, 1)
    for k, (label, colour) in enumerate(zip(labels, _CURVE_COLOURS * len(items))):
        y = pad_t + 16 + 16 * k
        cv2.rectangle(pic, (pad_l + 8, y - 9), (pad_l + 18, y), colour, -1)
        text = f"{label}: ECE {items[k].ece:.4f}"
        cv2.putText(pic, text, (pad_l + 24, y), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    lines = ([title] if title else []) + ["bars: accuracy per bin, +: mean confidence"]
    return title_strip(pic, lines)


def save_png(path: str | os.PathLike[str], rgb: np.ndarray, *, scale: int = 1) -> Path:
    """Write a picture as an 8-bit RGB PNG (enlarged ``scale`` times, nearest).

    An RGB ``uint8`` picture is written as it is; a grey one is repeated over three
    channels and any other dtype is scaled by its range first (:func:`to_rgb8`), never
    clipped.

    Raises:
        WriteError: The file cannot be written (see :func:`neuroseg.data.write_image`).
    """
    rgb = to_rgb8(rgb)
    if scale > 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return write_image(path, rgb)


def uncertainty_panel(
    image: np.ndarray,
    uncertainty: np.ndarray,
    *,
    method: str,
    score: float,
    abstain: float | None = None,
) -> np.ndarray:
    """A per-pixel uncertainty map over the image (jet; 0 to log 2 nats), under its titles.

    Args:
        image: The slice, ``(H, W)`` or ``(H, W, C)``; never modified.
        uncertainty: ``(H, W)`` binary entropy in nats (see
            :mod:`neuroseg.inference.uncertainty`).
        method: How it was sampled (``"tta"``, ``"mc-dropout"``), for the title.
        score: The slice's uncertainty score, for the title.
        abstain: The abstention threshold, if any: the title says whether the score is
            above it.

    Example:
        >>> import numpy as np
        >>> pic = uncertainty_panel(np.zeros((80, 80)), np.zeros((80, 80)), method="tta",
        ...                         score=0.1)
        >>> pic.shape[1:], pic.shape[0] > 80
        ((80, 3), True)
    """
    panel = heatmap_overlay(image, np.asarray(uncertainty, np.float32) / math.log(2), alpha=0.6)
    if image.shape[0] < MIN_TITLED_HEIGHT:
        return panel
    verdict = f"score {score:.3f}"
    if abstain is not None:
        verdict += f" > {abstain:g}: ABSTAINED" if score > abstain else f" <= {abstain:g}"
    return title_strip(panel, [f"uncertainty: {method} entropy (0 to log 2)", verdict])
