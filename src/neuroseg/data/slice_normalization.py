"""A Keras layer that turns raw slices into a model's input: channels and intensity.

:class:`SliceNormalization` is the in-graph half of a
:class:`~neuroseg.data.SlicePreprocessor`: it takes raw 8-bit (or any numeric) slices at
the model's size, converts the channels as the NumPy readers do (OpenCV's fixed-point
RGB → grey, or grey → RGB) and normalises each slice. Exported models put it in front of
the network, so an app feeds the pixels it has and does not re-implement the
normalisation. It uses ``keras.ops`` only, so it runs on every Keras backend.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from neuroseg.errors import ConfigError

__all__ = ["SliceNormalization"]

# OpenCV's RGB -> grey in fixed point (imgproc/src/color.hpp: 14 fractional bits)
_R, _G, _B, _SHIFT = 4899.0, 9617.0, 1868.0, 16384.0


@keras.saving.register_keras_serializable(package="neuroseg")
class SliceNormalization(keras.layers.Layer):
    """Convert channels and normalise each slice of a raw ``(N, H, W, C)`` batch.

    Args:
        channels: The model's input channels (grey ↔ RGB is converted; other counts
            must match the raw slices).
        normalize: ``"minmax"`` (per slice to ``[0, 1]``), ``"zscore"`` (mean 0, sd 1 over
            the pixels above the slice's minimum; those at the minimum become 0) or
            ``None`` (cast to float32 only).
        **kwargs: Layer options (``name``...).

    Raises:
        ConfigError: Unknown option values.

    Example:
        >>> import numpy as np
        >>> layer = SliceNormalization(channels=1)
        >>> x = np.array([[[[0, 0, 0]], [[255, 255, 255]]]], np.uint8)  # (1, 2, 1, 3)
        >>> np.asarray(layer(x)).ravel().tolist()
        [0.0, 1.0]
    """

    def __init__(self, *, channels: int = 1, normalize: str | None = "minmax", **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ConfigError(f"channels must be a positive int, got {channels!r}.")
        if normalize not in ("minmax", "zscore", None):
            raise ConfigError(
                f"normalize={normalize!r} cannot run inside an exported graph; use 'minmax', "
                "'zscore' or None."
            )
        self.channels = int(channels)
        self.normalize = normalize

    def _convert(self, x: Any, have: int) -> Any:
        if have == self.channels:
            return x
        if have == 1 and self.channels == 3:
            return ops.repeat(x, 3, axis=-1)
        if have in (3, 4) and self.channels == 1:
            r, g, b = x[..., 0:1], x[..., 1:2], x[..., 2:3]
            return ops.floor((r * _R + g * _G + b * _B + _SHIFT / 2) / _SHIFT)
        if have == 4 and self.channels == 3:
            return x[..., :3]
        raise ConfigError(
            f"raw slices with {have} channel(s) cannot be converted to {self.channels}."
        )

    def call(self, inputs: Any) -> Any:
        x = ops.cast(inputs, "float32")
        x = self._convert(x, int(inputs.shape[-1]))
        axes = (1, 2, 3)
        if self.normalize == "minmax":
            lo = ops.min(x, axis=axes, keepdims=True)
            span = ops.max(x, axis=axes, keepdims=True) - lo
            # a constant slice has x - lo = 0 everywhere, so it maps to 0 without a select
            # (TFLite's int8 SELECT aborts the interpreter)
            return (x - lo) / ops.maximum(span, 1e-12)
        if self.normalize == "zscore":
            fg = ops.cast(x > ops.min(x, axis=axes, keepdims=True), "float32")
            n = ops.maximum(ops.sum(fg, axis=axes, keepdims=True), 1.0)
            mean = ops.sum(x * fg, axis=axes, keepdims=True) / n
            var = ops.sum(((x - mean) ** 2) * fg, axis=axes, keepdims=True) / n
            return fg * (x - mean) / ops.maximum(ops.sqrt(var), 1e-6)
        return x

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.channels)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update({"channels": self.channels, "normalize": self.normalize})
        return config
