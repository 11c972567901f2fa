"""Preprocessing and augmentation transforms.

Each transform exists at three levels:

- array level (NumPy, OpenCV): ``resize_image``, ``resize_mask``, ``normalize_minmax``,
  ``to_grayscale``, ``flip``;
- tensor level (TensorFlow, graph-safe, used inside ``tf.data``): ``tf_resize_image``,
  ``tf_resize_mask``, ``tf_normalize_minmax``, ``tf_random_flip``;
- dict level: callables such as :class:`Resize` and :class:`RandomFlip` that take and
  return ``{"image": ..., "mask": ...}`` so that image and mask are always transformed
  together. :class:`Compose` chains them.

Masks are always resampled with nearest neighbour, so labels stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import tensorflow as tf

from neuroseg.errors import ChannelError, ConfigError

__all__ = [
    "Compose",
    "NormalizeMinMax",
    "RandomFlip",
    "RandomRotate90",
    "Resize",
    "flip",
    "normalize_minmax",
    "resize_image",
    "resize_mask",
    "tf_normalize_minmax",
    "tf_random_flip",
    "tf_random_rot90",
    "tf_resize_image",
    "tf_resize_mask",
    "to_grayscale",
]

Sample = dict[str, Any]


def _size(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ConfigError(f"image size must be an int or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


# ---------------------------------------------------------------- array level
def resize_image(image: np.ndarray, size: int | Sequence[int]) -> np.ndarray:
    """Resize an ``(H, W, C)`` image (area interpolation down, linear up).

    Example:
        >>> import numpy as np
        >>> resize_image(np.zeros((8, 8, 1), np.uint8), 4).shape
        (4, 4, 1)
    """
    h, w = _size(size)
    if image.shape[:2] == (h, w):
        return image
    shrink = h < image.shape[0] or w < image.shape[1]
    out = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return out[..., None] if out.ndim == 2 else out


def resize_mask(mask: np.ndarray, size: int | Sequence[int]) -> np.ndarray:
    """Resize an ``(H, W)`` label mask with nearest neighbour; labels stay exact.

    Example:
        >>> import numpy as np
        >>> sorted(set(resize_mask(np.eye(8, dtype=np.uint8), 5).ravel().tolist()))
        [0, 1]
    """
    h, w = _size(size)
    if mask.shape[:2] == (h, w):
        return mask
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)


def normalize_minmax(image: np.ndarray) -> np.ndarray:
    """Scale an image to ``[0, 1]`` by its own minimum and maximum (float32).

    A constant image maps to zeros.

    Example:
        >>> import numpy as np
        >>> normalize_minmax(np.array([[2, 4, 6]])).tolist()
        [[0.0, 0.5, 1.0]]
    """
    x = image.astype(np.float32)
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.zeros_like(x)
    return (x - lo) / (hi - lo)


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """Convert an ``(H, W, 3)`` RGB image to ``(H, W, 1)``; one channel passes through.

    Raises:
        ChannelError: The image has neither 1 nor 3 channels.

    Example:
        >>> import numpy as np
        >>> to_grayscale(np.zeros((2, 2, 3), np.uint8)).shape
        (2, 2, 1)
    """
    if image.ndim == 2:
        return image[..., None]
    if image.shape[-1] == 1:
        return image
    if image.shape[-1] != 3:
        raise ChannelError(
            f"to_grayscale expects 1 or 3 channels, got {image.shape[-1]}; select the "
            "channels you need first."
        )
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None]


def flip(
    image: np.ndarray, mask: np.ndarray | None = None, *, axis: int = 1
) -> tuple[np.ndarray, np.ndarray | None]:
    """Flip an image and its mask together along ``axis`` (0: rows, 1: columns)."""
    out_mask = None if mask is None else np.flip(mask, axis=axis).copy()
    return np.flip(image, axis=axis).copy(), out_mask


# ---------------------------------------------------------------- tensor level
def tf_resize_image(image: tf.Tensor, size: int | Sequence[int]) -> tf.Tensor:
    """Resize an ``(H, W, C)`` float tensor (bilinear with antialiasing)."""
    h, w = _size(size)
    return tf.image.resize(image, (h, w), method="bilinear", antialias=True)


def tf_resize_mask(mask: tf.Tensor, size: int | Sequence[int]) -> tf.Tensor:
    """Resize an ``(H, W, 1)`` label tensor with nearest neighbour."""
    h, w = _size(size)
    return tf.cast(tf.image.resize(mask, (h, w), method="nearest"), mask.dtype)


def tf_normalize_minmax(image: tf.Tensor) -> tf.Tensor:
    """Scale a tensor to ``[0, 1]`` by its own minimum and maximum."""
    x = tf.cast(image, tf.float32)
    lo = tf.reduce_min(x)
    span = tf.reduce_max(x) - lo
    return tf.where(span > 0, (x - lo) / tf.maximum(span, 1e-12), tf.zeros_like(x))


def tf_random_flip(
    image: tf.Tensor,
    mask: tf.Tensor | None,
    seed: tf.Tensor,
    *,
    horizontal: bool = True,
    vertical: bool = False,
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Flip image and mask together, each direction with probability 0.5.

    Args:
        image: ``(H, W, C)`` tensor.
        mask: ``(H, W, 1)`` tensor or ``None``.
        seed: A shape-``(2,)`` integer seed for the stateless random ops.
        horizontal: Allow left-right flips.
        vertical: Allow up-down flips.
    """
    draws = tf.random.stateless_uniform((2,), seed=seed)
    for axis, allowed in ((1, horizontal), (0, vertical)):
        if not allowed:
            continue
        do = draws[1 - axis] < 0.5
        if mask is None:
            x = image
            image = tf.cond(do, lambda x=x, a=axis: tf.reverse(x, [a]), lambda x=x: x)
        else:
            pair = (image, mask)
            image, mask = tf.cond(
                do,
                lambda p=pair, a=axis: (tf.reverse(p[0], [a]), tf.reverse(p[1], [a])),
                lambda p=pair: p,
            )
    return image, mask


def tf_random_rot90(
    image: tf.Tensor, mask: tf.Tensor | None, seed: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Rotate image and mask together by the same random multiple of 90 degrees.

    Square inputs keep their shape; non-square inputs swap height and width on odd turns.
    """
    k = tf.random.stateless_uniform((), seed=seed, minval=0, maxval=4, dtype=tf.int32)
    if mask is None:
        return tf.image.rot90(image, k), None
    pair = (image, mask)

    def turn(n: int) -> Any:
        return lambda: (tf.image.rot90(pair[0], n), tf.image.rot90(pair[1], n))

    image, mask = tf.switch_case(k, [lambda: pair, turn(1), turn(2), turn(3)])
    return image, mask


# ---------------------------------------------------------------- dict level
class Resize:
    """Resize ``sample["image"]`` (bilinear) and ``sample["mask"]`` (nearest) in a tf graph.

    Args:
        size: Output ``(height, width)`` or one int for a square.
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _size(size)

    def __call__(self, sample: Sample, seed: tf.Tensor | None = None) -> Sample:
        out = dict(sample)
        out["image"] = tf_resize_image(sample["image"], self.size)
        if sample.get("mask") is not None:
            out["mask"] = tf_resize_mask(sample["mask"], self.size)
        return out


class NormalizeMinMax:
    """Scale ``sample["image"]`` to ``[0, 1]`` by its own range."""

    def __call__(self, sample: Sample, seed: tf.Tensor | None = None) -> Sample:
        out = dict(sample)
        out["image"] = tf_normalize_minmax(sample["image"])
        return out


class RandomFlip:
    """Jointly flip image and mask; see :func:`tf_random_flip`.

    Args:
        horizontal: Allow left-right flips.
        vertical: Allow up-down flips.
    """

    random = True

    def __init__(self, *, horizontal: bool = True, vertical: bool = False) -> None:
        self.horizontal = horizontal
        self.vertical = vertical

    def __call__(self, sample: Sample, seed: tf.Tensor | None = None) -> Sample:
        if seed is None:
            raise ConfigError("RandomFlip needs a seed; use it through Compose or the pipeline.")
        out = dict(sample)
        out["image"], out["mask"] = tf_random_flip(
            sample["image"],
            sample.get("mask"),
            seed,
            horizontal=self.horizontal,
            vertical=self.vertical,
        )
        return out


class RandomRotate90:
    """Jointly rotate image and mask by a random multiple of 90°; see :func:`tf_random_rot90`."""

    random = True

    def __call__(self, sample: Sample, seed: tf.Tensor | None = None) -> Sample:
        if seed is None:
            raise ConfigError(
                "RandomRotate90 needs a seed; use it through Compose or the pipeline."
            )
        out = dict(sample)
        out["image"], out["mask"] = tf_random_rot90(sample["image"], sample.get("mask"), seed)
        return out


class Compose:
    """Apply dict-level transforms in order, giving each random one its own seed.

    Args:
        transforms: The transforms.
    """

    def __init__(self, transforms: Sequence[Any]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample: Sample, seed: tf.Tensor | None = None) -> Sample:
        for i, t in enumerate(self.transforms):
            sub = None
            if seed is not None:
                sub = tf.random.experimental.stateless_fold_in(seed, i)
            sample = t(sample, sub)
        return sample
