"""Augmentation inside ``tf.data``: graph mode, parallel, seeded.

Every ``tf_*`` function takes a shape-``(2,)`` integer ``seed`` and uses stateless random
ops only, so the same seed gives the same output in any process. Spatial transforms move
image and mask together; images are resampled bilinearly and masks by nearest neighbour,
so labels stay exact. Intensity transforms change the image only.

The dict-level classes (:class:`RandomAffine`, :class:`RandomElastic`,
:class:`RandomBrightness`, …) take ``{"image", "mask", ...}`` and a seed, each with a
probability ``p``; chain them with :class:`~neuroseg.data.Compose` or use
:func:`default_augmentation`.

Example:
    >>> from neuroseg.data import Compose, RandomAffine, RandomGamma, RandomFlip
    >>> augment = Compose([RandomFlip(), RandomAffine(rotation=15, p=0.5), RandomGamma()])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from neuroseg.data.transforms import Compose, RandomFlip, RandomRotate90
from neuroseg.errors import ConfigError

__all__ = [
    "RandomAffine",
    "RandomBiasField",
    "RandomBlur",
    "RandomBrightness",
    "RandomContrast",
    "RandomElastic",
    "RandomGamma",
    "RandomNoise",
    "default_augmentation",
    "tf_random_affine",
    "tf_random_bias_field",
    "tf_random_blur",
    "tf_random_brightness",
    "tf_random_contrast",
    "tf_random_elastic",
    "tf_random_gamma",
    "tf_random_noise",
]

Sample = dict[str, Any]


def _sub(seed: tf.Tensor, i: int) -> tf.Tensor:
    return tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), i)


def _u(seed: tf.Tensor, i: int, lo: float, hi: float) -> tf.Tensor:
    return tf.random.stateless_uniform((), seed=_sub(seed, i), minval=lo, maxval=hi)


def _range(image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    lo = tf.reduce_min(image)
    return lo, tf.maximum(tf.reduce_max(image) - lo, 1e-6)


# ---------------------------------------------------------------- spatial
def _warp_affine(x: tf.Tensor, matrix: tf.Tensor, nearest: bool) -> tf.Tensor:
    shape = tf.shape(x)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=x[None],
        transforms=matrix[None],
        output_shape=shape[:2],
        interpolation="NEAREST" if nearest else "BILINEAR",
        fill_mode="CONSTANT",
        fill_value=0.0,
    )[0]
    return tf.ensure_shape(out, x.shape)


def tf_random_affine(
    image: tf.Tensor,
    mask: tf.Tensor | None,
    seed: tf.Tensor,
    *,
    rotation: float = 15.0,
    scale: tuple[float, float] = (0.9, 1.1),
    shift: float = 0.05,
    shear: float = 5.0,
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Random rotation, scale, shift and shear about the centre, applied to both.

    Args:
        image: ``(H, W, C)`` float tensor.
        mask: ``(H, W, 1)`` integer labels, or ``None``.
        seed: Shape ``(2,)`` seed.
        rotation: Maximum rotation in degrees (uniform in ``±rotation``).
        scale: Zoom range.
        shift: Maximum shift as a fraction of the size.
        shear: Maximum shear in degrees.
    """
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    h, w = shape[0], shape[1]
    a = _u(seed, 0, -rotation, rotation) * math.pi / 180
    s = _u(seed, 1, scale[0], scale[1])
    sh = _u(seed, 2, -shear, shear) * math.pi / 180
    tx = _u(seed, 3, -shift, shift) * w
    ty = _u(seed, 4, -shift, shift) * h
    # forward map (output <- input is its inverse; tf wants output->input coordinates)
    cos, sin, tan = tf.cos(a), tf.sin(a), tf.tan(sh)
    # inverse of R(a) @ Sh(sh) @ S(s): S^-1 @ Sh^-1 @ R^-1
    r00, r01, r10, r11 = cos, sin, -sin, cos  # R^-1
    m00 = (r00 - tan * r10) / s
    m01 = (r01 - tan * r11) / s
    m10 = r10 / s
    m11 = r11 / s
    cx, cy = (w - 1) / 2, (h - 1) / 2
    ox, oy = cx + tx, cy + ty  # output centre
    b0 = cx - (m00 * ox + m01 * oy)
    b1 = cy - (m10 * ox + m11 * oy)
    zero = tf.zeros(())
    matrix = tf.stack([m00, m01, b0, m10, m11, b1, zero, zero])
    out_image = _warp_affine(tf.cast(image, tf.float32), matrix, nearest=False)
    out_mask = None if mask is None else _warp_affine(mask, matrix, nearest=True)
    return out_image, out_mask


def _sample(x: tf.Tensor, ys: tf.Tensor, xs: tf.Tensor, nearest: bool) -> tf.Tensor:
    """Sample ``x`` (H, W, C) at float coordinates (H, W); zeros outside."""
    shape = tf.shape(x)
    h, w = shape[0], shape[1]
    if nearest:
        yi = tf.cast(tf.round(ys), tf.int32)
        xi = tf.cast(tf.round(xs), tf.int32)
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        idx = tf.stack([tf.clip_by_value(yi, 0, h - 1), tf.clip_by_value(xi, 0, w - 1)], -1)
        out = tf.gather_nd(x, idx)
        return tf.where(inside[..., None], out, tf.zeros_like(out))
    y0 = tf.floor(ys)
    x0 = tf.floor(xs)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    y0i, x0i = tf.cast(y0, tf.int32), tf.cast(x0, tf.int32)
    acc = tf.zeros(tf.concat([tf.shape(ys), shape[2:]], 0), x.dtype)
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        yi, xi = y0i + dy, x0i + dx
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        idx = tf.stack([tf.clip_by_value(yi, 0, h - 1), tf.clip_by_value(xi, 0, w - 1)], -1)
        weight = (wy if dy else 1 - wy) * (wx if dx else 1 - wx)
        val = tf.gather_nd(x, idx) * weight
        acc += tf.where(inside[..., None], val, tf.zeros_like(val))
    return acc


def tf_random_elastic(
    image: tf.Tensor,
    mask: tf.Tensor | None,
    seed: tf.Tensor,
    *,
    alpha: float = 8.0,
    grid: int = 4,
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Elastic deformation: a smooth random displacement field, the same for both.

    The field is drawn on a ``grid × grid`` lattice (uniform in ``±alpha`` pixels) and
    upsampled bicubically, which keeps it smooth.

    Args:
        image: ``(H, W, C)`` float tensor.
        mask: ``(H, W, 1)`` labels or ``None`` (resampled by nearest neighbour).
        seed: Shape ``(2,)`` seed.
        alpha: Maximum displacement in pixels.
        grid: Control points per side.
    """
    shape = tf.shape(image)
    h, w = shape[0], shape[1]
    coarse = tf.random.stateless_uniform((grid, grid, 2), seed=_sub(seed, 0), minval=-1, maxval=1)
    field = tf.image.resize(coarse[None], tf.stack([h, w]), method="bicubic")[0] * alpha
    yy, xx = tf.meshgrid(tf.range(h), tf.range(w), indexing="ij")
    ys = tf.cast(yy, tf.float32) + field[..., 0]
    xs = tf.cast(xx, tf.float32) + field[..., 1]
    out_image = _sample(tf.cast(image, tf.float32), ys, xs, nearest=False)
    out_image = tf.ensure_shape(out_image, image.shape)
    out_mask = None
    if mask is not None:
        out_mask = tf.ensure_shape(_sample(mask, ys, xs, nearest=True), mask.shape)
    return out_image, out_mask


# ---------------------------------------------------------------- intensity
def tf_random_brightness(image: tf.Tensor, seed: tf.Tensor, *, delta: float = 0.1) -> tf.Tensor:
    """Add ``U(-delta, delta)`` times the image's intensity range."""
    _lo, span = _range(image)
    return image + _u(seed, 0, -delta, delta) * span


def tf_random_contrast(
    image: tf.Tensor, seed: tf.Tensor, *, factor: tuple[float, float] = (0.8, 1.2)
) -> tf.Tensor:
    """Scale the deviation from the mean by a factor drawn from ``factor``."""
    mean = tf.reduce_mean(image)
    return (image - mean) * _u(seed, 0, factor[0], factor[1]) + mean


def tf_random_gamma(
    image: tf.Tensor, seed: tf.Tensor, *, gamma: tuple[float, float] = (0.7, 1.5)
) -> tf.Tensor:
    """Gamma curve on the image's own range (the range is kept)."""
    lo, span = _range(image)
    x = tf.clip_by_value((image - lo) / span, 0.0, 1.0)
    return tf.pow(x, _u(seed, 0, gamma[0], gamma[1])) * span + lo


def tf_random_noise(image: tf.Tensor, seed: tf.Tensor, *, std: float = 0.03) -> tf.Tensor:
    """Add Gaussian noise with standard deviation ``U(0, std)`` × the intensity range."""
    _lo, span = _range(image)
    sigma = _u(seed, 0, 0.0, std) * span
    return image + tf.random.stateless_normal(tf.shape(image), seed=_sub(seed, 1)) * sigma


def tf_random_blur(
    image: tf.Tensor, seed: tf.Tensor, *, sigma: tuple[float, float] = (0.1, 1.5)
) -> tf.Tensor:
    """Gaussian blur with ``sigma`` drawn from the range (kernel 7×7)."""
    s = _u(seed, 0, sigma[0], sigma[1])
    r = tf.range(-3.0, 4.0)
    k1 = tf.exp(-(r**2) / (2 * s**2))
    k1 = k1 / tf.reduce_sum(k1)
    channels = tf.shape(image)[-1]
    kernel = tf.tile((k1[:, None] * k1[None, :])[:, :, None, None], [1, 1, channels, 1])
    x = tf.cast(image, tf.float32)[None]
    out = tf.nn.depthwise_conv2d(
        tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]], mode="SYMMETRIC"),
        kernel,
        strides=[1, 1, 1, 1],
        padding="VALID",
    )[0]
    return tf.ensure_shape(out, image.shape)


def tf_random_bias_field(image: tf.Tensor, seed: tf.Tensor, *, strength: float = 0.3) -> tf.Tensor:
    """Multiply by a smooth MRI-like bias field ``exp(p(x, y))``, ``p`` of degree 2.

    The polynomial's coefficients are uniform in ``±strength``; coordinates span
    ``[-1, 1]``.
    """
    shape = tf.shape(image)
    y = tf.linspace(-1.0, 1.0, shape[0])[:, None]
    x = tf.linspace(-1.0, 1.0, shape[1])[None, :]
    c = tf.random.stateless_uniform((5,), seed=_sub(seed, 0), minval=-strength, maxval=strength)
    poly = c[0] * x + c[1] * y + c[2] * x * y + c[3] * x * x + c[4] * y * y
    return image * tf.exp(poly)[..., None]


# ---------------------------------------------------------------- dict level
class _Random:
    """Base: apply with probability ``p``, with a seed derived from the sample's seed."""

    random = True

    def __init__(self, p: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ConfigError(f"p must be in [0, 1], got {p}.")
        self.p = p

    def apply(self, sample: Sample, seed: tf.Tensor) -> Sample:  # pragma: no cover
        raise NotImplementedError

    def __call__(self, sample: Sample, seed: tf.Tensor | None = None) -> Sample:
        if seed is None:
            raise ConfigError(
                f"{type(self).__name__} needs a seed; use it through Compose or the pipeline."
            )
        if self.p >= 1.0:
            return self.apply(sample, _sub(seed, 1))
        do = tf.random.stateless_uniform((), seed=_sub(seed, 0)) < self.p
        done = self.apply(sample, _sub(seed, 1))
        out = dict(sample)
        for key, value in done.items():
            if value is not None and sample.get(key) is not None:
                old = tf.cast(sample[key], value.dtype)
                out[key] = tf.cond(do, lambda v=value: v, lambda o=old: o)
        return out


class _Intensity(_Random):
    def _fn(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:  # pragma: no cover
        raise NotImplementedError

    def apply(self, sample: Sample, seed: tf.Tensor) -> Sample:
        out = dict(sample)
        out["image"] = self._fn(tf.cast(sample["image"], tf.float32), seed)
        return out


class RandomAffine(_Random):
    """Joint random rotation / scale / shift / shear; see :func:`tf_random_affine`.

    Example:
        >>> import tensorflow as tf
        >>> t = RandomAffine(rotation=30, p=1.0)
        >>> out = t({"image": tf.zeros((8, 8, 1)), "mask": tf.zeros((8, 8, 1), tf.int32)},
        ...         tf.constant([1, 2]))
        >>> out["mask"].dtype.name
        'int32'
    """

    def __init__(
        self,
        *,
        rotation: float = 15.0,
        scale: tuple[float, float] = (0.9, 1.1),
        shift: float = 0.05,
        shear: float = 5.0,
        p: float = 1.0,
    ) -> None:
        super().__init__(p)
        self.rotation, self.scale, self.shift, self.shear = rotation, scale, shift, shear

    def apply(self, sample: Sample, seed: tf.Tensor) -> Sample:
        out = dict(sample)
        out["image"], out["mask"] = tf_random_affine(
            sample["image"],
            sample.get("mask"),
            seed,
            rotation=self.rotation,
            scale=self.scale,
            shift=self.shift,
            shear=self.shear,
        )
        return out


class RandomElastic(_Random):
    """Joint elastic deformation; see :func:`tf_random_elastic`."""

    def __init__(self, *, alpha: float = 8.0, grid: int = 4, p: float = 1.0) -> None:
        super().__init__(p)
        self.alpha, self.grid = alpha, grid

    def apply(self, sample: Sample, seed: tf.Tensor) -> Sample:
        out = dict(sample)
        out["image"], out["mask"] = tf_random_elastic(
            sample["image"], sample.get("mask"), seed, alpha=self.alpha, grid=self.grid
        )
        return out


class RandomBrightness(_Intensity):
    """Image-only brightness shift; see :func:`tf_random_brightness`."""

    def __init__(self, delta: float = 0.1, *, p: float = 1.0) -> None:
        super().__init__(p)
        self.delta = delta

    def _fn(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        return tf_random_brightness(image, seed, delta=self.delta)


class RandomContrast(_Intensity):
    """Image-only contrast change; see :func:`tf_random_contrast`."""

    def __init__(self, factor: tuple[float, float] = (0.8, 1.2), *, p: float = 1.0) -> None:
        super().__init__(p)
        self.factor = factor

    def _fn(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        return tf_random_contrast(image, seed, factor=self.factor)


class RandomGamma(_Intensity):
    """Image-only gamma curve; see :func:`tf_random_gamma`."""

    def __init__(self, gamma: tuple[float, float] = (0.7, 1.5), *, p: float = 1.0) -> None:
        super().__init__(p)
        self.gamma = gamma

    def _fn(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        return tf_random_gamma(image, seed, gamma=self.gamma)


class RandomNoise(_Intensity):
    """Image-only Gaussian noise; see :func:`tf_random_noise`."""

    def __init__(self, std: float = 0.03, *, p: float = 1.0) -> None:
        super().__init__(p)
        self.std = std

    def _fn(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        return tf_random_noise(image, seed, std=self.std)


class RandomBlur(_Intensity):
    """Image-only Gaussian blur; see :func:`tf_random_blur`."""

    def __init__(self, sigma: tuple[float, float] = (0.1, 1.5), *, p: float = 1.0) -> None:
        super().__init__(p)
        self.sigma = sigma

    def _fn(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        return tf_random_blur(image, seed, sigma=self.sigma)


class RandomBiasField(_Intensity):
    """Image-only MRI bias field; see :func:`tf_random_bias_field`."""

    def __init__(self, strength: float = 0.3, *, p: float = 1.0) -> None:
        super().__init__(p)
        self.strength = strength

    def _fn(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        return tf_random_bias_field(image, seed, strength=self.strength)


def default_augmentation(*, spatial: bool = True, intensity: bool = True) -> Compose:
    """A sensible MRI augmentation pipeline with a probability per transform.

    Flips and 90° rotations always; affine (p=0.5), elastic (p=0.2); brightness,
    contrast, gamma (p=0.3 each), noise, blur and bias field (p=0.2 each).

    Example:
        >>> from neuroseg.data import default_augmentation
        >>> len(default_augmentation().transforms)
        10
    """
    spatial_ts: Sequence[Any] = (
        [
            RandomFlip(horizontal=True, vertical=True),
            RandomRotate90(),
            RandomAffine(p=0.5),
            RandomElastic(p=0.2),
        ]
        if spatial
        else []
    )
    intensity_ts: Sequence[Any] = (
        [
            RandomBrightness(p=0.3),
            RandomContrast(p=0.3),
            RandomGamma(p=0.3),
            RandomNoise(p=0.2),
            RandomBlur(p=0.2),
            RandomBiasField(p=0.2),
        ]
        if intensity
        else []
    )
    return Compose([*spatial_ts, *intensity_ts])
