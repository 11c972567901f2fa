"""The preprocessing contract: how a slice becomes a model input, and how outputs go back.

A :class:`SlicePreprocessor` is the one description of a model's input preparation
(channels, brain crop, size, intensity normalisation). It travels with the model, as
keras-hub's presets carry their preprocessor: ``preprocessor.json`` in a run directory,
``<model>.preprocessor.json`` beside a ``.keras`` file, and the ``preprocessor`` field of a
pretrained model's card. The ``tf.data`` pipeline, :class:`~neuroseg.inference.Predictor`,
Grad-CAM, export, ``report`` and the quickstart all prepare slices through it.

Like MONAI's invertible transforms, :meth:`SlicePreprocessor.prepare` returns what it did
(a :class:`PreparedSlice`) and :meth:`SlicePreprocessor.invert` pastes a model output (a
mask, a probability map, a Grad-CAM) back into the original frame and size.

The NumPy path runs the same TensorFlow ops as the ``tf.data`` path (eagerly), so a slice
prepared either way is identical.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf

from neuroseg.data.preprocess import tf_normalize_percentile, tf_normalize_zscore
from neuroseg.data.slice_normalization import SliceNormalization
from neuroseg.data.transforms import (
    convert_channels,
    resize_image,
    resize_mask,
    tf_normalize_minmax,
)
from neuroseg.errors import ConfigError, DataError, ModelError

__all__ = [
    "NORMALIZATIONS",
    "PreparedSlice",
    "SlicePreprocessor",
    "load_preprocessor",
    "preprocessor_path",
    "repeats_one_image",
]

#: Accepted ``normalize`` values.
NORMALIZATIONS = ("minmax", "zscore", "percentile", None)

Box = tuple[int, int, int, int]
Interpolation = Literal["linear", "nearest"]


@dataclass(frozen=True)
class PreparedSlice:
    """One slice as the model sees it, and what was done to get there.

    Attributes:
        array: ``(h, w, C)`` float32 model input.
        shape: The original slice's ``(H, W)``.
        box: ``(top, left, bottom, right)`` of the original frame that was resized into
            ``array`` (the brain box for ``crop="brain"``, else the whole frame).
    """

    array: np.ndarray
    shape: tuple[int, int]
    box: Box

    @property
    def cropped(self) -> bool:
        """Whether the box is smaller than the frame."""
        return self.box != (0, 0, self.shape[0], self.shape[1])


def repeats_one_image(image: np.ndarray) -> bool:
    """Whether an ``(H, W, C)`` slice with ``C > 1`` holds the same image in every channel.

    A missing MRI sequence copied in from another (some LGG ``kaggle_3m`` scans repeat
    FLAIR), or a grey image converted to RGB; a multi-sequence model sees no sequence
    contrast there (:class:`~neuroseg.errors.RepeatedChannelsWarning`).

    Example:
        >>> grey = np.arange(12.0).reshape(2, 2, 3) // 3
        >>> repeats_one_image(grey), repeats_one_image(np.arange(12.0).reshape(2, 2, 3))
        (True, False)
        >>> repeats_one_image(np.zeros((2, 2)))  # one channel: nothing is repeated
        False
    """
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] < 2:
        return False
    return all(np.array_equal(array[..., 0], array[..., c]) for c in range(1, array.shape[-1]))


def tf_brain_box(image: tf.Tensor, *, threshold: float = 0.05) -> tf.Tensor:
    """``(top, left, bottom, right)`` int32 box of pixels above ``threshold`` × the range.

    The whole frame when no pixel is above it (a constant slice). The same rule as
    :func:`~neuroseg.data.brain_bbox`, computed in float32 in the graph.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((6, 6, 1), np.float32); x[2:4, 1:5] = 1
        >>> tuple(int(v) for v in tf_brain_box(x))
        (2, 1, 4, 5)
    """
    x = tf.reduce_max(tf.cast(image, tf.float32), -1)
    lo, hi = tf.reduce_min(x), tf.reduce_max(x)
    fg = x > lo + tf.constant(threshold, tf.float32) * (hi - lo)
    rows = tf.cast(tf.where(tf.reduce_any(fg, 1))[:, 0], tf.int32)
    cols = tf.cast(tf.where(tf.reduce_any(fg, 0))[:, 0], tf.int32)
    shape = tf.shape(x, out_type=tf.int32)
    empty = tf.equal(tf.size(rows), 0)
    whole = tf.stack([0, 0, shape[0], shape[1]])
    return tf.cond(
        empty,
        lambda: whole,
        lambda: tf.stack([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1]),
    )


def _check_size(image_size: Any) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, bool):
        raise ConfigError(f"image_size must be an int or (height, width), got {image_size!r}.")
    if isinstance(image_size, (int, np.integer)):
        size: Sequence[Any] = (int(image_size), int(image_size))
    elif isinstance(image_size, (list, tuple)) and len(image_size) == 2:
        size = image_size
    else:
        raise ConfigError(f"image_size must be an int or (height, width), got {image_size!r}.")
    out = []
    for v in size:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(
                f"image_size must hold positive integers, got {image_size!r} "
                '(write image_size = 128, not "128").'
            )
        out.append(int(v))
    return out[0], out[1]


@keras.saving.register_keras_serializable(package="neuroseg")
class SlicePreprocessor:
    """Prepare 2-D slices for a model, in NumPy or ``tf.data``, and invert its outputs.

    The steps, in order: convert channels to the model's (grey ↔ RGB, opaque RGBA; in the
    NumPy path, as the readers do), crop to the brain box (``crop="brain"``), resize to
    ``image_size`` (bilinear with antialiasing; masks by nearest neighbour), normalise the
    intensities per slice.

    Args:
        channels: The model's input channels (1 grey, 3 RGB or three MRI sequences, or
            any other count such as BraTS' four sequences; only grey ↔ RGB is converted).
        image_size: ``(height, width)`` (or an int) of the model input; ``None`` for a
            model that accepts any size: each slice is resized to its own size rounded up
            to a multiple of ``size_multiple``.
        crop: ``"brain"``: crop each slice to the bounding box of the pixels above
            ``crop_threshold`` × its intensity range (sources with different borders then
            fill the frame alike); ``None``: whole slices.
        normalize: ``"minmax"`` (per slice to ``[0, 1]``), ``"zscore"`` (foreground mean 0,
            sd 1), ``"percentile"`` (1st-99th percentile to ``[0, 1]``) or ``None`` (raw
            values as float32).
        crop_threshold: The brain box's intensity threshold, a fraction of the range.
        size_multiple: With ``image_size=None``, sizes are rounded up to this multiple
            (the network's total stride).
        channel_names: What each input channel holds (e.g. the MRI sequences), for model
            cards and error messages; one name per channel.

    Raises:
        ConfigError: An option is out of range or of the wrong type.

    Example:
        >>> import numpy as np
        >>> pre = SlicePreprocessor(channels=1, image_size=4, crop="brain")
        >>> img = np.zeros((10, 8), np.uint8); img[2:6, 2:6] = 200
        >>> prepared = pre.prepare(img)
        >>> prepared.array.shape, prepared.box
        ((4, 4, 1), (2, 2, 6, 6))
        >>> pre.invert(np.ones((4, 4), np.float32), prepared).sum()
        np.float32(16.0)
    """

    def __init__(
        self,
        *,
        channels: int = 1,
        image_size: int | Sequence[int] | None = None,
        crop: Literal["brain"] | None = None,
        normalize: Literal["minmax", "zscore", "percentile"] | None = "minmax",
        crop_threshold: float = 0.05,
        size_multiple: int = 32,
        channel_names: Sequence[str] | None = None,
    ) -> None:
        if (
            isinstance(channels, bool)
            or not isinstance(channels, (int, np.integer))
            or int(channels) < 1
        ):
            raise ConfigError(
                f"channels must be a positive int (1 grey, 3 RGB or three sequences, 4 for "
                f"BraTS' four sequences...), got {channels!r}."
            )
        if str(crop) == "none":  # the command line's spelling of no crop
            crop = None
        if crop not in ("brain", None):
            raise ConfigError(f"Unknown crop={crop!r}; use 'brain' or None.")
        if normalize not in NORMALIZATIONS:
            raise ConfigError(
                f"Unknown normalize={normalize!r}; use 'minmax', 'zscore', 'percentile' or None."
            )
        if not 0.0 <= float(crop_threshold) < 1.0:
            raise ConfigError(f"crop_threshold must be in [0, 1), got {crop_threshold!r}.")
        if isinstance(size_multiple, bool) or int(size_multiple) < 1:
            raise ConfigError(f"size_multiple must be >= 1, got {size_multiple!r}.")
        self.channels = int(channels)
        if channel_names is not None:
            if isinstance(channel_names, str) or len(channel_names) != self.channels:
                raise ConfigError(
                    f"channel_names must name each of the {self.channels} channel(s), got "
                    f"{channel_names!r}."
                )
            channel_names = tuple(str(n) for n in channel_names)
        self.channel_names: tuple[str, ...] | None = channel_names
        self.image_size = _check_size(image_size)
        self.crop: Literal["brain"] | None = crop
        self.normalize = normalize
        self.crop_threshold = float(crop_threshold)
        self.size_multiple = int(size_multiple)

    # ------------------------------------------------------------ construction
    @classmethod
    def for_model(cls, model: Any, **options: Any) -> SlicePreprocessor:
        """A preprocessor matching a Keras model's input shape (channels and fixed size).

        ``options`` (``crop``, ``normalize``, ...) are passed on.

        Example:
            >>> from neuroseg.models import create_model
            >>> m = create_model("resunet-small", input_shape=(64, 64, 3))
            >>> SlicePreprocessor.for_model(m, crop="brain").get_config()["image_size"]
            (64, 64)
        """
        shape = tuple(model.input_shape)
        if len(shape) != 4:
            raise ModelError(
                f"{model.name}: input shape {shape} is not (batch, height, width, channels); "
                "neuroseg prepares 2-D slices."
            )
        fixed = shape[1] is not None and shape[2] is not None
        options.setdefault("channels", int(shape[3]) if shape[3] is not None else 1)
        if fixed:
            options.setdefault("image_size", (int(shape[1]), int(shape[2])))
        return cls(**options)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (JSON-serialisable)."""
        return {
            "channels": self.channels,
            "image_size": self.image_size,
            "crop": self.crop,
            "normalize": self.normalize,
            "crop_threshold": self.crop_threshold,
            "size_multiple": self.size_multiple,
            "channel_names": self.channel_names,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SlicePreprocessor:
        """Rebuild from :meth:`get_config`; unknown keys raise :class:`ConfigError`."""
        known = {
            "channels",
            "image_size",
            "crop",
            "normalize",
            "crop_threshold",
            "size_multiple",
            "channel_names",
        }
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigError(
                f"Unknown preprocessor option(s) {', '.join(unknown)}; valid: "
                f"{', '.join(sorted(known))}."
            )
        cfg = dict(config)
        for key in ("image_size", "channel_names"):
            if isinstance(cfg.get(key), list):
                cfg[key] = tuple(cfg[key])
        return cls(**cfg)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlicePreprocessor) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, str(v)) for k, v in self.get_config().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"SlicePreprocessor({args})"

    def describe(self) -> dict[str, str]:
        """The steps in words (for model cards and reports), generated from the config.

        Example:
            >>> SlicePreprocessor(channels=1, image_size=256).describe()["size"]
            'resized to 256x256 (bilinear, antialiased); outputs are resized back'
        """
        grey = "one (grey); RGB inputs are converted to grey"
        rgb = "three (RGB); grey inputs are repeated"
        if self.channels not in (1, 3):
            grey = rgb = f"{self.channels}, as stored"
        if self.channel_names is not None:
            names = ", ".join(self.channel_names)
            grey = rgb = f"{self.channels}: {names}"
        size = (
            f"resized to {self.image_size[0]}x{self.image_size[1]} (bilinear, antialiased); "
            "outputs are resized back"
            if self.image_size is not None
            else f"own size rounded up to a multiple of {self.size_multiple}"
        )
        crop = (
            f"cropped to the brain's bounding box (pixels above {self.crop_threshold * 100:g} % of "
            "the slice's range) before resizing; outputs are pasted back into the box"
            if self.crop == "brain"
            else "none (whole slice)"
        )
        norm = {
            "minmax": "per-slice min-max to [0, 1]",
            "zscore": "per-slice z-score over the foreground",
            "percentile": "per-slice 1st-99th percentile to [0, 1]",
            None: "none (raw values)",
        }[self.normalize]
        return {
            "channels": grey if self.channels == 1 else rgb,
            "crop": crop,
            "size": size,
            "intensity": norm,
        }

    # ------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config as JSON (``keras.saving.serialize_keras_object`` form)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(keras.saving.serialize_keras_object(self), indent=2) + "\n")
        os.replace(tmp, out)
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SlicePreprocessor:
        """Read a file written by :meth:`save`.

        Raises:
            ConfigError: The file is not a valid preprocessor description.
        """
        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"{p}: cannot read the preprocessor ({exc}); re-save it with "
                "SlicePreprocessor.save."
            ) from exc
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "preprocessor") -> SlicePreprocessor:
        """From :meth:`get_config` output or its ``serialize_keras_object`` wrapping."""
        if isinstance(data, dict) and "config" in data and "class_name" in data:
            if data["class_name"] != cls.__name__:
                raise ConfigError(
                    f"{source}: holds a {data['class_name']!r}, not a SlicePreprocessor."
                )
            data = data["config"]
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a preprocessor config (a JSON object).")
        try:
            return cls.from_config(data)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from exc

    # ------------------------------------------------------------ tensors
    def target_size(self, hw: tuple[int, int]) -> tuple[int, int]:
        """The model input size for a (cropped) slice of size ``hw``."""
        if self.image_size is not None:
            return self.image_size
        m = self.size_multiple
        return (int(-(-hw[0] // m) * m), int(-(-hw[1] // m) * m))

    def _tf_normalize(self, image: tf.Tensor) -> tf.Tensor:
        if self.normalize == "minmax":
            return tf_normalize_minmax(image)
        if self.normalize == "zscore":
            return tf_normalize_zscore(image)
        if self.normalize == "percentile":
            return tf_normalize_percentile(image)
        return tf.cast(image, tf.float32)

    def _tf_resize(self, image: tf.Tensor, mask: tf.Tensor | None) -> tuple[Any, Any]:
        shape = tf.shape(image)
        if self.image_size is None:
            m = self.size_multiple
            size = tf.stack([(shape[0] + m - 1) // m * m, (shape[1] + m - 1) // m * m])
        else:
            size = tf.constant(self.image_size, tf.int32)
        same = tf.reduce_all(tf.equal(shape[:2], size))
        channels = image.shape[-1] if image.shape[-1] is not None else -1
        img = tf.cond(
            same,
            lambda: tf.cast(image, tf.float32),
            lambda: tf.image.resize(
                tf.cast(image, tf.float32), size, method="bilinear", antialias=True
            ),
        )
        if self.image_size is not None:
            img = tf.ensure_shape(img, [*self.image_size, channels])
        if mask is None:
            return img, None
        out = tf.cond(
            same,
            lambda: mask,
            lambda: tf.cast(tf.image.resize(mask, size, method="nearest"), mask.dtype),
        )
        if self.image_size is not None:
            out = tf.ensure_shape(out, [*self.image_size, mask.shape[-1]])
        return img, out

    def tf_box(self, image: tf.Tensor) -> tf.Tensor:
        """The ``(top, left, bottom, right)`` box that :meth:`tf_call` resizes."""
        if self.crop == "brain":
            return tf_brain_box(image, threshold=self.crop_threshold)
        shape = tf.shape(image, out_type=tf.int32)
        return tf.stack([0, 0, shape[0], shape[1]])

    def tf_call(
        self, image: tf.Tensor, mask: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor | None]:
        """Prepare one ``(H, W, C)`` tensor (and its ``(H, W, 1)`` label mask) in a graph.

        The image must already have the model's channel count (the pipeline's decoders
        convert channels).
        """
        box = self.tf_box(image)
        img = image[box[0] : box[2], box[1] : box[3]]
        msk = None if mask is None else mask[box[0] : box[2], box[1] : box[3]]
        img, msk = self._tf_resize(img, msk)
        return self._tf_normalize(img), msk

    def __call__(self, sample: dict[str, Any], seed: tf.Tensor | None = None) -> dict[str, Any]:
        """Dict-level transform for ``tf.data`` (``{"image", "mask", ...}``).

        It fits in :class:`~neuroseg.data.Compose` and the pipeline's ``augment=``.
        """
        out = dict(sample)
        out["image"], mask = self.tf_call(sample["image"], sample.get("mask"))
        if sample.get("mask") is not None:
            out["mask"] = mask
        return out

    # ------------------------------------------------------------ arrays
    def as_channels(self, image: np.ndarray, *, source: str = "image") -> np.ndarray:
        """``(H, W, C)`` with the model's channel count (grey ↔ RGB, opaque RGBA).

        Raises:
            ModelError: The array is neither ``(H, W)`` nor ``(H, W, C)``.
            ChannelError: The channels cannot be converted.
            DataError: The slice is empty or holds NaN/inf.
        """
        img = np.asarray(image)
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3:
            raise ModelError(
                f"{source}: expected an (H, W) or (H, W, C) image, got shape {img.shape}."
            )
        if img.shape[0] == 0 or img.shape[1] == 0:
            raise DataError(f"{source}: the image is empty (shape {img.shape}).")
        if img.dtype.kind == "f" and not np.isfinite(img).all():
            n = int((~np.isfinite(img)).sum())
            raise DataError(
                f"{source}: {n} NaN/inf pixel(s); replace them (e.g. np.nan_to_num) first."
            )
        if img.dtype not in (np.uint8, np.uint16, np.float32):
            img = img.astype(np.float32)  # OpenCV colour conversion takes these depths only
        return convert_channels(img, self.channels, source=source)

    def prepare(self, image: np.ndarray, *, source: str = "image") -> PreparedSlice:
        """Prepare one ``(H, W)`` or ``(H, W, C)`` slice; keep what :meth:`invert` needs."""
        img = self.as_channels(image, source=source)
        x, box = _eager_prepare(self, img.astype(np.float32))
        return PreparedSlice(array=x, shape=(int(img.shape[0]), int(img.shape[1])), box=box)

    def prepare_array(self, image: np.ndarray, *, source: str = "image") -> np.ndarray:
        """:meth:`prepare`'s model input only: ``(h, w, C)`` float32."""
        return self.prepare(image, source=source).array

    def prepare_batch(
        self, images: Sequence[np.ndarray], *, source: str = "image"
    ) -> tuple[np.ndarray, list[PreparedSlice]]:
        """Prepare several slices into one ``(N, h, w, C)`` batch (fixed ``image_size``)."""
        prepared = [self.prepare(img, source=f"{source}[{i}]") for i, img in enumerate(images)]
        return np.stack([p.array for p in prepared]), prepared

    def prepare_raw(
        self, image: np.ndarray, *, channels: int | None = None, source: str = "image"
    ) -> tuple[np.ndarray, PreparedSlice]:
        """What an exported model with the preparation in its graph takes: 8-bit pixels.

        The slice is cropped to the same box as :meth:`prepare` and resized to the model's
        size (the same bilinear, antialiased resize, rounded to 8 bits), but neither its
        channels (unless ``channels`` asks for a conversion) nor its intensities are
        changed: the exported graph (:meth:`normalization_layer`) does that. Slices that
        are not 8-bit are scaled to 0-255 first (a min-max normalisation then gives the
        same input up to rounding).

        Returns:
            ``(uint8 (h, w, channels) array, what invert() needs)``.
        """
        img = np.asarray(image)
        if img.ndim == 2:
            img = img[..., None]
        prepared = self.prepare(img, source=source)
        raw = img if channels is None else convert_channels(img, channels, source=source)
        if raw.dtype != np.uint8:
            x = raw.astype(np.float64)
            lo, hi = float(x.min()), float(x.max())
            raw = (
                np.zeros(raw.shape, np.uint8)
                if hi <= lo
                else np.rint((x - lo) / (hi - lo) * 255.0).astype(np.uint8)
            )
        top, left, bottom, right = prepared.box
        crop = raw[top:bottom, left:right].astype(np.float32)
        h, w = prepared.array.shape[:2]
        if crop.shape[:2] != (h, w):
            crop = tf.image.resize(crop, (h, w), method="bilinear", antialias=True).numpy()
        return np.clip(np.rint(crop), 0, 255).astype(np.uint8), prepared

    def normalization_layer(self, **kwargs: Any) -> SliceNormalization:
        """The in-graph channel conversion and normalisation (for exported models).

        Raises:
            ConfigError: ``normalize="percentile"``, which has no in-graph form.
        """
        if self.normalize == "percentile":
            raise ConfigError(
                "normalize='percentile' cannot be put inside an exported graph; export "
                "without the preprocessing and prepare slices with SlicePreprocessor."
            )
        return SliceNormalization(channels=self.channels, normalize=self.normalize, **kwargs)

    def invert(
        self,
        output: np.ndarray,
        prepared: PreparedSlice,
        *,
        interpolation: Interpolation = "linear",
        fill: float = 0.0,
    ) -> np.ndarray:
        """Paste a model-size output back into the original frame and size.

        Args:
            output: ``(h, w)`` or ``(h, w, K)`` at the model's size: a probability map,
                a Grad-CAM, a label mask.
            prepared: What :meth:`prepare` returned for that slice.
            interpolation: ``"linear"`` (probabilities, heat maps; area when shrinking)
                or ``"nearest"`` (label masks).
            fill: The value outside the brain box.

        Returns:
            ``(H, W)`` or ``(H, W, K)``, ``output``'s dtype for ``"nearest"``, else float32.
        """
        out = np.asarray(output)
        squeeze = out.ndim == 2
        if squeeze:
            out = out[..., None]
        if out.ndim != 3:
            raise ModelError(f"invert expects an (h, w) or (h, w, K) output, got {out.shape}.")
        top, left, bottom, right = prepared.box
        box_hw = (bottom - top, right - left)
        if interpolation == "nearest":
            parts = [resize_mask(out[..., k], box_hw) for k in range(out.shape[-1])]
            inside = np.stack(parts, -1)
            dtype = out.dtype
        elif interpolation == "linear":
            inside = resize_image(out.astype(np.float32), box_hw)
            inside = inside if inside.ndim == 3 else inside[..., None]
            dtype = np.dtype(np.float32)
        else:
            raise ConfigError(f"Unknown interpolation={interpolation!r}; use linear or nearest.")
        frame = np.full((*prepared.shape, out.shape[-1]), fill, dtype)
        frame[top:bottom, left:right] = inside
        return frame[..., 0] if squeeze else frame


def _eager_prepare(pre: SlicePreprocessor, image: np.ndarray) -> tuple[np.ndarray, Box]:
    """Run the graph steps eagerly on one float32 ``(H, W, C)`` array."""
    t = tf.convert_to_tensor(image)
    box = tuple(int(v) for v in pre.tf_box(t).numpy())
    x, _ = pre.tf_call(t)
    return np.asarray(x.numpy(), np.float32), (box[0], box[1], box[2], box[3])


def preprocessor_path(model_path: str | os.PathLike[str]) -> Path:
    """Where the preprocessor of a ``.keras`` file lives: ``<stem>.preprocessor.json``.

    A run directory's ``best.keras`` and ``last.keras`` also find the run's
    ``preprocessor.json`` (see :func:`load_preprocessor`).

    Example:
        >>> preprocessor_path("runs/a/best.keras").name
        'best.preprocessor.json'
    """
    p = Path(model_path)
    return p.with_name(p.name.removesuffix(".keras") + ".preprocessor.json")


def load_preprocessor(model_path: str | os.PathLike[str]) -> SlicePreprocessor | None:
    """The preprocessor saved with a ``.keras`` file, or ``None`` when none was saved.

    Looks for ``<stem>.preprocessor.json`` beside the file, then ``preprocessor.json`` in
    its folder (a run directory).

    Raises:
        ConfigError: A preprocessor file exists but is invalid.
    """
    beside = preprocessor_path(model_path)
    if beside.is_file():
        return SlicePreprocessor.load(beside)
    run = Path(model_path).with_name("preprocessor.json")
    if run.is_file():
        return SlicePreprocessor.load(run)
    return None
