"""Preprocessing: resize with padding, normalisation, brain crop, CLAHE, grey/RGB.

Each step is an array function (NumPy/OpenCV/scikit-image) and a ``tf_*`` version for
``tf.data``; the dict-level :class:`Preprocess` wraps them for the pipeline's
``augment=`` (or any ``Compose``). Masks are resampled by nearest neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import cv2
import numpy as np
import tensorflow as tf

from neuroseg.data.transforms import resize_image, resize_mask, size_pair
from neuroseg.errors import ChannelError, ConfigError

__all__ = [
    "Preprocess",
    "brain_bbox",
    "clahe",
    "crop_to_brain",
    "normalize_percentile",
    "normalize_zscore",
    "resize_pad",
    "tf_clahe",
    "tf_crop_to_brain",
    "tf_normalize_percentile",
    "tf_normalize_zscore",
    "tf_resize_pad",
    "tf_to_grayscale",
    "tf_to_rgb",
    "to_rgb",
]


# ---------------------------------------------------------------- array level
def resize_pad(
    image: np.ndarray, size: int | Sequence[int], mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Resize keeping the aspect ratio, then zero-pad (centred) to ``size``.

    Example:
        >>> import numpy as np
        >>> img, _ = resize_pad(np.ones((10, 20, 1), np.float32), 8)
        >>> img.shape, float(img[0, 0, 0]), float(img[4, 4, 0])
        ((8, 8, 1), 0.0, 1.0)
    """
    h, w = size_pair(size)
    ih, iw = image.shape[:2]
    scale = min(h / ih, w / iw)
    nh, nw = max(1, round(ih * scale)), max(1, round(iw * scale))
    top, left = (h - nh) // 2, (w - nw) // 2
    img = resize_image(image, (nh, nw))
    out = np.zeros((h, w, image.shape[-1]), image.dtype)
    out[top : top + nh, left : left + nw] = img
    out_mask = None
    if mask is not None:
        om = np.zeros((h, w), mask.dtype)
        om[top : top + nh, left : left + nw] = resize_mask(mask, (nh, nw))
        out_mask = om
    return out, out_mask


def normalize_zscore(image: np.ndarray, *, foreground: bool = True) -> np.ndarray:
    """Zero mean, unit variance, computed within the foreground (pixels > min) by default.

    Background pixels are set to 0 when ``foreground`` is true.

    Example:
        >>> import numpy as np
        >>> x = normalize_zscore(np.array([[0, 2, 4]], np.float32))
        >>> x.tolist()
        [[0.0, -1.0, 1.0]]
    """
    x = image.astype(np.float32)
    fg = x > x.min() if foreground else np.ones_like(x, bool)
    if not fg.any():
        return np.zeros_like(x)
    mean, std = float(x[fg].mean()), float(x[fg].std())
    out = (x - mean) / max(std, 1e-6)
    return np.where(fg, out, 0.0).astype(np.float32)


def normalize_percentile(image: np.ndarray, *, low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Clip to the ``[low, high]`` percentiles and scale to ``[0, 1]``.

    Example:
        >>> import numpy as np
        >>> x = normalize_percentile(np.arange(101, dtype=np.float32), low=10, high=90)
        >>> x[[0, 50, 100]].tolist()
        [0.0, 0.5, 1.0]
    """
    x = image.astype(np.float32)
    lo, hi = np.percentile(x, [low, high])
    if hi <= lo:
        return np.zeros_like(x)
    return np.asarray(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def brain_bbox(image: np.ndarray, *, threshold: float = 0.05) -> tuple[int, int, int, int]:
    """``(top, left, bottom, right)`` (exclusive) of pixels above ``threshold`` × the range.

    The whole image when nothing is above it.
    """
    x = image.astype(np.float32)
    if x.ndim == 3:
        x = x.max(-1)
    lo, hi = float(x.min()), float(x.max())
    fg = x > lo + threshold * (hi - lo) if hi > lo else np.zeros_like(x, bool)
    if not fg.any():
        return 0, 0, x.shape[0], x.shape[1]
    rows, cols = np.flatnonzero(fg.any(1)), np.flatnonzero(fg.any(0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def crop_to_brain(
    image: np.ndarray, mask: np.ndarray | None = None, *, threshold: float = 0.05, margin: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """Crop image (and mask) to the brain's bounding box (see :func:`brain_bbox`).

    Example:
        >>> import numpy as np
        >>> x = np.zeros((6, 6, 1)); x[2:4, 1:5] = 1
        >>> crop_to_brain(x)[0].shape
        (2, 4, 1)
    """
    t, left, b, r = brain_bbox(image, threshold=threshold)
    t, left = max(0, t - margin), max(0, left - margin)
    b, r = min(image.shape[0], b + margin), min(image.shape[1], r + margin)
    return image[t:b, left:r], None if mask is None else mask[t:b, left:r]


def clahe(image: np.ndarray, *, clip_limit: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation (OpenCV), per channel, uint8 out.

    Non-uint8 images are min-max scaled to 0–255 first.

    Example:
        >>> import numpy as np
        >>> clahe(np.arange(64, dtype=np.uint8).reshape(8, 8, 1)).dtype.name
        'uint8'
    """
    x = image if image.ndim == 3 else image[..., None]
    if x.dtype != np.uint8:
        f = x.astype(np.float32)
        lo, hi = float(f.min()), float(f.max())
        x = (
            np.zeros(f.shape, np.uint8)
            if hi <= lo
            else ((f - lo) / (hi - lo) * 255).round().astype(np.uint8)
        )
    op = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles))
    return np.stack([op.apply(np.ascontiguousarray(x[..., c])) for c in range(x.shape[-1])], -1)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """``(H, W, 1)`` → ``(H, W, 3)`` by repeating; 3 channels pass through.

    Example:
        >>> import numpy as np
        >>> to_rgb(np.zeros((2, 2, 1))).shape
        (2, 2, 3)
    """
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 3:
        return image
    if image.shape[-1] != 1:
        raise ChannelError(f"to_rgb expects 1 or 3 channels, got {image.shape[-1]}.")
    return np.repeat(image, 3, axis=-1)


# ---------------------------------------------------------------- tensor level
def tf_resize_pad(
    image: tf.Tensor, size: int | Sequence[int], mask: tf.Tensor | None = None
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Tensor version of :func:`resize_pad` (``tf.image.resize_with_pad``)."""
    h, w = size_pair(size)
    img = tf.image.resize_with_pad(
        tf.cast(image, tf.float32), h, w, method="bilinear", antialias=True
    )
    out_mask = None
    if mask is not None:
        out_mask = tf.cast(
            tf.image.resize_with_pad(tf.cast(mask, tf.float32), h, w, method="nearest"), mask.dtype
        )
    return img, out_mask


def tf_normalize_zscore(image: tf.Tensor, *, foreground: bool = True) -> tf.Tensor:
    """Tensor version of :func:`normalize_zscore`."""
    x = tf.cast(image, tf.float32)
    fg = x > tf.reduce_min(x) if foreground else tf.ones_like(x, tf.bool)
    n = tf.maximum(tf.reduce_sum(tf.cast(fg, tf.float32)), 1.0)
    mean = tf.reduce_sum(tf.where(fg, x, 0.0)) / n
    var = tf.reduce_sum(tf.where(fg, (x - mean) ** 2, 0.0)) / n
    return tf.where(fg, (x - mean) / tf.maximum(tf.sqrt(var), 1e-6), 0.0)


def _tf_percentile(x: tf.Tensor, q: float) -> tf.Tensor:
    flat = tf.sort(tf.reshape(x, [-1]))
    pos = q / 100.0 * tf.cast(tf.size(flat) - 1, tf.float32)
    lo = tf.cast(tf.floor(pos), tf.int32)
    hi = tf.minimum(lo + 1, tf.size(flat) - 1)
    frac = pos - tf.floor(pos)
    return tf.gather(flat, lo) * (1 - frac) + tf.gather(flat, hi) * frac


def tf_normalize_percentile(image: tf.Tensor, *, low: float = 1.0, high: float = 99.0) -> tf.Tensor:
    """Tensor version of :func:`normalize_percentile` (linear interpolation, like NumPy)."""
    x = tf.cast(image, tf.float32)
    lo, hi = _tf_percentile(x, low), _tf_percentile(x, high)
    span = hi - lo
    return tf.where(span > 0, tf.clip_by_value((x - lo) / tf.maximum(span, 1e-12), 0.0, 1.0), 0.0)


def tf_crop_to_brain(
    image: tf.Tensor, mask: tf.Tensor | None = None, *, threshold: float = 0.05
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Tensor version of :func:`crop_to_brain` (dynamic output size)."""
    image = tf.convert_to_tensor(image)
    mask = None if mask is None else tf.convert_to_tensor(mask)
    x = tf.reduce_max(tf.cast(image, tf.float32), -1)
    lo, hi = tf.reduce_min(x), tf.reduce_max(x)
    fg = x > lo + threshold * (hi - lo)
    rows = tf.where(tf.reduce_any(fg, 1))[:, 0]
    cols = tf.where(tf.reduce_any(fg, 0))[:, 0]
    shape = tf.shape(x, out_type=tf.int64)
    empty = tf.equal(tf.size(rows), 0)
    t = tf.cond(empty, lambda: tf.constant(0, tf.int64), lambda: rows[0])
    b = tf.cond(empty, lambda: shape[0], lambda: rows[-1] + 1)
    left = tf.cond(empty, lambda: tf.constant(0, tf.int64), lambda: cols[0])
    r = tf.cond(empty, lambda: shape[1], lambda: cols[-1] + 1)
    out = image[t:b, left:r]
    return out, None if mask is None else mask[t:b, left:r]


def tf_clahe(image: tf.Tensor, *, clip_limit: float = 2.0, tiles: int = 8) -> tf.Tensor:
    """CLAHE in a tf graph (OpenCV through ``tf.numpy_function``); float32 in ``[0, 1]`` out."""

    def run(x: np.ndarray) -> np.ndarray:
        return clahe(x, clip_limit=clip_limit, tiles=tiles).astype(np.float32) / 255.0

    out = tf.numpy_function(run, [image], tf.float32)
    return tf.ensure_shape(out, image.shape)


def tf_to_grayscale(image: tf.Tensor) -> tf.Tensor:
    """``(H, W, 3)`` → ``(H, W, 1)`` (ITU-R 601 luma, as OpenCV); 1 channel passes."""
    if image.shape[-1] == 1:
        return image
    if image.shape[-1] != 3:
        raise ChannelError(f"tf_to_grayscale expects 1 or 3 channels, got {image.shape[-1]}.")
    return tf.image.rgb_to_grayscale(image)


def tf_to_rgb(image: tf.Tensor) -> tf.Tensor:
    """``(H, W, 1)`` → ``(H, W, 3)``; 3 channels pass."""
    if image.shape[-1] == 3:
        return image
    if image.shape[-1] != 1:
        raise ChannelError(f"tf_to_rgb expects 1 or 3 channels, got {image.shape[-1]}.")
    return tf.image.grayscale_to_rgb(image)


# ---------------------------------------------------------------- dict level
Step = Literal["resize_pad", "zscore", "percentile", "crop_to_brain", "clahe", "grey", "rgb"]


class Preprocess:
    """Dict-level preprocessing step for ``tf.data`` (image and mask kept together).

    Args:
        step: ``"resize_pad"`` (needs ``size``), ``"zscore"``, ``"percentile"``,
            ``"crop_to_brain"`` (follow it with a resize), ``"clahe"``, ``"grey"`` or
            ``"rgb"``.
        **options: Keyword options of the matching ``tf_*`` function (``size`` for
            ``resize_pad``).

    Example:
        >>> import tensorflow as tf
        >>> step = Preprocess("resize_pad", size=4)
        >>> step({"image": tf.ones((2, 8, 1)), "mask": tf.ones((2, 8, 1), tf.int32)})["image"].shape
        TensorShape([4, 4, 1])
    """

    _STEPS = ("resize_pad", "zscore", "percentile", "crop_to_brain", "clahe", "grey", "rgb")

    def __init__(self, step: Step, **options: Any) -> None:
        if step not in self._STEPS:
            raise ConfigError(f"Unknown preprocessing step {step!r}; choose one of {self._STEPS}.")
        if step == "resize_pad" and "size" not in options:
            raise ConfigError("Preprocess('resize_pad') needs size=.")
        self.step, self.options = step, options

    def __call__(self, sample: dict[str, Any], seed: tf.Tensor | None = None) -> dict[str, Any]:
        out = dict(sample)
        image, mask, o = sample["image"], sample.get("mask"), self.options
        if self.step == "resize_pad":
            out["image"], out["mask"] = tf_resize_pad(image, o["size"], mask)
        elif self.step == "crop_to_brain":
            out["image"], out["mask"] = tf_crop_to_brain(image, mask, **o)
        elif self.step == "zscore":
            out["image"] = tf_normalize_zscore(image, **o)
        elif self.step == "percentile":
            out["image"] = tf_normalize_percentile(image, **o)
        elif self.step == "clahe":
            out["image"] = tf_clahe(image, **o)
        elif self.step == "grey":
            out["image"] = tf_to_grayscale(image)
        else:
            out["image"] = tf_to_rgb(image)
        return out
