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
    "convert_channels",
    "flip",
    "normalize_minmax",
    "resize_image",
    "resize_mask",
    "size_pair",
    "tf_normalize_minmax",
    "tf_random_flip",
    "tf_random_flip_rot90",
    "tf_random_rot90",
    "tf_resize_image",
    "tf_resize_mask",
    "to_grayscale",
]

Sample = dict[str, Any]


def size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    """``(height, width)`` from an int (square) or a pair.

    Raises:
        ConfigError: Neither an int nor two numbers.

    Example:
        >>> size_pair(64), size_pair((32, 48))
        ((64, 64), (32, 48))
    """
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
    h, w = size_pair(size)
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
    h, w = size_pair(size)
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


def convert_channels(image: np.ndarray, channels: int, *, source: str = "image") -> np.ndarray:
    """Convert an ``(H, W, C)`` image to ``channels`` channels: grey ↔ RGB, opaque RGBA.

    An RGBA image whose alpha is fully opaque loses the alpha (some JPEG-named files of the
    public sets are RGBA PNGs); any other mismatch raises, as does an RGBA image with
    transparent pixels.

    Raises:
        ChannelError: The channels cannot be converted; the message names ``source``.

    Example:
        >>> import numpy as np
        >>> convert_channels(np.zeros((2, 2, 4), np.uint8) + 255, 1).shape
        (2, 2, 1)
    """
    c = image.shape[-1]
    if c == channels:
        return image
    if c == 4 and channels in (1, 3):
        opaque = np.iinfo(image.dtype).max if image.dtype.kind == "u" else 1
        if image[..., 3].min() < opaque:
            raise ChannelError(
                f"{source}: 4-channel image (RGBA with transparent pixels, or 4 MRI "
                f"sequences) for a {channels}-channel model. Flatten RGBA onto a background, "
                "or select the sequence(s) the model was trained on."
            )
        image = image[..., :3]
        if channels == 3:
            return image
        c = 3
    if channels == 1 and c == 3:
        return to_grayscale(image)
    if channels == 3 and c == 1:
        return np.repeat(image, 3, axis=-1)
    raise ChannelError(
        f"{source}: image has {c} channel(s) but the model expects {channels}. Select or "
        "convert the channels first (e.g. one MRI sequence), or use a model trained on this "
        "channel count."
    )


def flip(
    image: np.ndarray, mask: np.ndarray | None = None, *, axis: int = 1
) -> tuple[np.ndarray, np.ndarray | None]:
    """Flip an image and its mask together along ``axis`` (0: rows, 1: columns)."""
    out_mask = None if mask is None else np.flip(mask, axis=axis).copy()
    return np.flip(image, axis=axis).copy(), out_mask


# ---------------------------------------------------------------- tensor level
def tf_resize_image(image: tf.Tensor, size: int | Sequence[int]) -> tf.Tensor:
    """Resize an ``(H, W, C)`` float tensor (bilinear with antialiasing)."""
    h, w = size_pair(size)
    return tf.image.resize(image, (h, w), method="bilinear", antialias=True)


def tf_resize_mask(mask: tf.Tensor, size: int | Sequence[int]) -> tf.Tensor:
    """Resize an ``(H, W, 1)`` label tensor with nearest neighbour."""
    h, w = size_pair(size)
    return tf.cast(tf.image.resize(mask, (h, w), method="nearest"), mask.dtype)


def tf_normalize_minmax(image: tf.Tensor) -> tf.Tensor:
    """Scale a tensor to ``[0, 1]`` by its own minimum and maximum."""
    x = tf.cast(image, tf.float32)
    lo = tf.reduce_min(x)
    span = tf.reduce_max(x) - lo
    return tf.where(span > 0, (x - lo) / tf.maximum(span, 1e-12), tf.zeros_like(x))


def _on_plane(x: tf.Tensor, op: Any) -> tf.Tensor:
    """Apply a spatial ``op`` to ``(H, W, C)`` ``x``; a single channel is dropped first.

    TensorFlow's CPU reverse and transpose kernels are about 1.4x faster on an ``(H, W)``
    plane than on ``(H, W, 1)``; the reshapes around them copy nothing.
    """
    if x.shape.rank == 3 and x.shape[-1] == 1:
        y = op(tf.reshape(x, tf.shape(x)[:2]))
        return tf.expand_dims(y, -1)
    return op(x)


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
    # one reverse over the chosen axes (none: the input passes through), no control flow
    axes = tf.boolean_mask(tf.constant([0, 1]), _flip_mask(seed, horizontal, vertical))

    def flip(x: tf.Tensor) -> tf.Tensor:
        return _on_plane(x, lambda p: tf.reverse(p, axes))

    return flip(image), (None if mask is None else flip(mask))


def _flip_mask(seed: tf.Tensor, horizontal: bool, vertical: bool) -> tf.Tensor:
    """``[reverse axis 0, reverse axis 1]`` of a random flip (as :func:`tf_random_flip`)."""
    draws = tf.random.stateless_uniform((2,), seed=seed)
    chosen = (draws < 0.5) & tf.constant([horizontal, vertical])  # [left-right, up-down]
    return tf.stack([chosen[1], chosen[0]])


def _rot90_parts(seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``(transpose?, [reverse axis 0, reverse axis 1] after it)`` of a random quarter turn.

    ``k`` quarter turns counter-clockwise (as ``np.rot90``) = an optional transpose of the
    two spatial axes, then a reverse along a ``k``-dependent set of axes.
    """
    k = tf.random.stateless_uniform((), seed=seed, minval=0, maxval=4, dtype=tf.int32)
    # reversed axes after the transpose: k=0 none, k=1 [0], k=2 [0, 1], k=3 [1]
    table = tf.constant([[False, False], [True, False], [True, True], [False, True]])
    return tf.equal(k % 2, 1), tf.gather(table, k)


def _transpose_reverse(
    image: tf.Tensor, mask: tf.Tensor | None, odd: tf.Tensor, reverse: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Optionally transpose the spatial axes, then reverse the flagged ones.

    Any of the eight symmetries of the square costs at most one transpose and one reverse,
    without control flow: both ops take their permutation / axes as tensors and pass the
    input through untouched for the identity.
    """
    perm = tf.where(odd, tf.constant([1, 0, 2]), tf.constant([0, 1, 2]))
    axes = tf.boolean_mask(tf.constant([0, 1]), reverse)

    def apply(x: tf.Tensor) -> tf.Tensor:
        def plane(p: tf.Tensor) -> tf.Tensor:
            return tf.reverse(tf.transpose(p, perm[:2] if p.shape.rank == 2 else perm), axes)

        y = _on_plane(x, plane)
        if x.shape.rank is not None:  # the dynamic permutation hides the static shape
            h, w = x.shape[0], x.shape[1]
            side = h if h is not None and h == w else None
            y.set_shape([side, side, *x.shape[2:]])
        return y

    return apply(image), (None if mask is None else apply(mask))


def tf_random_rot90(
    image: tf.Tensor, mask: tf.Tensor | None, seed: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Rotate image and mask together by the same random multiple of 90 degrees.

    Square inputs keep their shape; non-square inputs swap height and width on odd turns.
    """
    odd, reverse = _rot90_parts(seed)
    return _transpose_reverse(image, mask, odd, reverse)


def tf_random_flip_rot90(
    image: tf.Tensor,
    mask: tf.Tensor | None,
    flip_seed: tf.Tensor,
    rot_seed: tf.Tensor,
    *,
    horizontal: bool = True,
    vertical: bool = False,
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """:func:`tf_random_flip` then :func:`tf_random_rot90` in one transpose and one reverse.

    The same output for the same seeds as the two steps, with one tensor pass fewer.
    :class:`Compose` uses it for a ``RandomFlip`` directly followed by ``RandomRotate90``.

    A flip before the transpose reverses the other axis after it, so the flip's axes
    swap on odd turns and combine with the turn's own by exclusive or.
    """
    flips = _flip_mask(flip_seed, horizontal, vertical)
    odd, reverse = _rot90_parts(rot_seed)
    flips = tf.where(odd, tf.reverse(flips, [0]), flips)
    return _transpose_reverse(image, mask, odd, tf.math.logical_xor(flips, reverse))


# ---------------------------------------------------------------- dict level
class Resize:
    """Resize ``sample["image"]`` (bilinear) and ``sample["mask"]`` (nearest) in a tf graph.

    Args:
        size: Output ``(height, width)`` or one int for a square.
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = size_pair(size)

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
        steps = self.transforms
        i = 0
        while i < len(steps):
            t = steps[i]
            sub = None if seed is None else tf.random.experimental.stateless_fold_in(seed, i)
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            if seed is not None and type(t) is RandomFlip and type(nxt) is RandomRotate90:
                # a flip followed by a quarter turn: one fused pass, same result
                out = dict(sample)
                out["image"], out["mask"] = tf_random_flip_rot90(
                    sample["image"],
                    sample.get("mask"),
                    sub,
                    tf.random.experimental.stateless_fold_in(seed, i + 1),
                    horizontal=t.horizontal,
                    vertical=t.vertical,
                )
                sample, i = out, i + 2
                continue
            sample = t(sample, sub)
            i += 1
        return sample
