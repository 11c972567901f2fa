"""Reusable ResUNet building blocks, written with Keras layers and ``keras.ops``.

All blocks assume channels-last tensors ``(batch, height, width, channels)`` and are
registered for ``.keras`` serialisation under the ``neuroseg`` package.

Reference: Z. Zhang, Q. Liu, Y. Wang, "Road Extraction by Deep Residual U-Net",
IEEE GRSL 15(5), 2018 (ResUNet); K. He et al., "Identity Mappings in Deep Residual
Networks", ECCV 2016 (pre-activation units).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers, ops

from neuroseg.errors import ConfigError

__all__ = ["DecoderStage", "PreActResidualUnit", "ResidualStem", "make_norm"]

_NORMS = ("batch", "group", "none")


def make_norm(norm: str, *, groups: int = 8, name: str | None = None) -> layers.Layer:
    """Return a normalisation layer: ``"batch"``, ``"group"`` or ``"none"`` (identity).

    Raises:
        ConfigError: Unknown ``norm``.
    """
    if norm == "batch":
        return layers.BatchNormalization(name=name)
    if norm == "group":
        return layers.GroupNormalization(groups=groups, name=name)
    if norm == "none":
        return layers.Identity(name=name)
    raise ConfigError(f"Unknown norm {norm!r}; choose one of {', '.join(_NORMS)}.")


class _ConvBlockBase(layers.Layer):
    """Shared options and config for the residual blocks."""

    def __init__(
        self,
        filters: int,
        *,
        strides: int = 1,
        kernel_size: int = 3,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if norm not in _NORMS:
            raise ConfigError(f"Unknown norm {norm!r}; choose one of {', '.join(_NORMS)}.")
        self.filters = int(filters)
        self.strides = int(strides)
        self.kernel_size = int(kernel_size)
        self.norm = norm
        self.activation = activation
        self.dropout = float(dropout)
        self._groups = math.gcd(8, self.filters)

    def _conv(self, filters: int, kernel: int, strides: int, name: str) -> layers.Conv2D:
        return layers.Conv2D(
            filters,
            kernel,
            strides=strides,
            padding="same",
            use_bias=self.norm == "none",
            kernel_initializer="he_normal",
            name=name,
        )

    def _make_shortcut(self, in_channels: int) -> None:
        self.shortcut_conv: layers.Layer | None = None
        self.shortcut_norm: layers.Layer | None = None
        if self.strides != 1 or in_channels != self.filters:
            # A strided 1x1 'same' convolution samples every `strides`-th pixel; we subsample
            # first (in `_shortcut`) and convolve unstrided. Same function, and it avoids
            # a oneDNN fault in TensorFlow 2.21's backward pass of strided 1x1 convolutions
            # with few channels (heap corruption with 4->8 or 8->16 channels on CPU).
            self.shortcut_conv = self._conv(self.filters, 1, 1, "shortcut_conv")
            self.shortcut_norm = make_norm(self.norm, groups=self._groups, name="shortcut_norm")

    def _shortcut(self, inputs: Any, training: bool | None) -> Any:
        if self.shortcut_conv is None or self.shortcut_norm is None:
            return inputs
        if self.strides > 1:
            inputs = inputs[:, :: self.strides, :: self.strides, :]
        return self.shortcut_norm(self.shortcut_conv(inputs), training=training)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        h, w = input_shape[1], input_shape[2]
        s = self.strides
        return (
            input_shape[0],
            None if h is None else -(-h // s),
            None if w is None else -(-w // s),
            self.filters,
        )

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            filters=self.filters,
            strides=self.strides,
            kernel_size=self.kernel_size,
            norm=self.norm,
            activation=self.activation,
            dropout=self.dropout,
        )
        return config


@keras.saving.register_keras_serializable(package="neuroseg")
class PreActResidualUnit(_ConvBlockBase):
    """Pre-activation residual unit: (norm → act → conv) × 2, plus a shortcut.

    The first convolution carries the stride, as in ResUNet's encoder (no pooling). The
    shortcut is the identity when shapes match, else a strided 1×1 convolution with
    normalisation.

    Args:
        filters: Output channels.
        strides: Stride of the first convolution (2 to down-sample).
        kernel_size: Convolution kernel size.
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Any Keras activation name.
        dropout: Dropout rate between the two convolutions.

    Example:
        >>> import numpy as np
        >>> PreActResidualUnit(8, strides=2)(np.zeros((1, 16, 16, 4), "float32")).shape
        (1, 8, 8, 8)
    """

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        in_channels = int(input_shape[-1])  # type: ignore[arg-type]
        self.norm1 = make_norm(self.norm, groups=math.gcd(8, in_channels), name="norm1")
        self.act1 = layers.Activation(self.activation, name="act1")
        self.conv1 = self._conv(self.filters, self.kernel_size, self.strides, "conv1")
        self.norm2 = make_norm(self.norm, groups=self._groups, name="norm2")
        self.act2 = layers.Activation(self.activation, name="act2")
        self.drop = layers.Dropout(self.dropout, name="dropout")
        self.conv2 = self._conv(self.filters, self.kernel_size, 1, "conv2")
        self._make_shortcut(in_channels)
        self.norm1.build(input_shape)
        self.conv1.build(input_shape)
        mid = self.conv1.compute_output_shape(input_shape)
        self.norm2.build(mid)
        self.conv2.build(mid)
        if self.shortcut_conv is not None and self.shortcut_norm is not None:
            self.shortcut_conv.build(input_shape)
            self.shortcut_norm.build(mid)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = self.conv1(self.act1(self.norm1(inputs, training=training)))
        x = self.drop(self.act2(self.norm2(x, training=training)), training=training)
        x = self.conv2(x)
        return ops.add(x, self._shortcut(inputs, training))


@keras.saving.register_keras_serializable(package="neuroseg")
class ResidualStem(_ConvBlockBase):
    """ResUNet's first unit: conv → norm → act → conv, plus a 1×1 shortcut.

    The raw input is not pre-activated (ResUNet, Zhang et al. 2018, Fig. 2).

    Example:
        >>> import numpy as np
        >>> ResidualStem(8)(np.zeros((1, 16, 16, 1), "float32")).shape
        (1, 16, 16, 8)
    """

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        in_channels = int(input_shape[-1])  # type: ignore[arg-type]
        self.conv1 = self._conv(self.filters, self.kernel_size, self.strides, "conv1")
        self.norm1 = make_norm(self.norm, groups=self._groups, name="norm1")
        self.act1 = layers.Activation(self.activation, name="act1")
        self.drop = layers.Dropout(self.dropout, name="dropout")
        self.conv2 = self._conv(self.filters, self.kernel_size, 1, "conv2")
        self._make_shortcut(in_channels)
        if self.shortcut_conv is None:  # the stem always projects its input
            self.shortcut_conv = self._conv(self.filters, 1, 1, "shortcut_conv")
            self.shortcut_norm = make_norm(self.norm, groups=self._groups, name="shortcut_norm")
        self.conv1.build(input_shape)
        mid = self.conv1.compute_output_shape(input_shape)
        self.norm1.build(mid)
        self.conv2.build(mid)
        self.shortcut_conv.build(input_shape)  # a 1x1 kernel's shape ignores the stride
        assert self.shortcut_norm is not None
        self.shortcut_norm.build(mid)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = self.act1(self.norm1(self.conv1(inputs), training=training))
        x = self.conv2(self.drop(x, training=training))
        return ops.add(x, self._shortcut(inputs, training))


@keras.saving.register_keras_serializable(package="neuroseg")
class DecoderStage(layers.Layer):
    """Up-sample ×2, concatenate the skip connection, then a pre-activation residual unit.

    Called on ``[x, skip]``; ``skip`` has twice ``x``'s spatial size.

    Args:
        filters: Output channels.
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Any Keras activation name.
        dropout: Dropout rate inside the residual unit.
        interpolation: Up-sampling interpolation, ``"nearest"`` or ``"bilinear"``.

    Example:
        >>> import numpy as np
        >>> x, skip = np.zeros((1, 8, 8, 16), "float32"), np.zeros((1, 16, 16, 8), "float32")
        >>> DecoderStage(8)([x, skip]).shape
        (1, 16, 16, 8)
    """

    def __init__(
        self,
        filters: int,
        *,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.norm = norm
        self.activation = activation
        self.dropout = float(dropout)
        self.interpolation = interpolation
        self.upsample = layers.UpSampling2D(2, interpolation=interpolation, name="upsample")
        self.concat = layers.Concatenate(axis=-1, name="concat")
        self.unit = PreActResidualUnit(
            filters, norm=norm, activation=activation, dropout=dropout, name="unit"
        )

    def build(self, input_shape: list[tuple[int | None, ...]]) -> None:
        x_shape, skip_shape = input_shape
        up = self.upsample.compute_output_shape(x_shape)
        cat = self.concat.compute_output_shape([up, skip_shape])
        self.unit.build(cat)
        self.built = True

    def call(self, inputs: list[Any], training: bool | None = None) -> Any:
        x, skip = inputs
        return self.unit(self.concat([self.upsample(x), skip]), training=training)

    def compute_output_shape(
        self, input_shape: list[tuple[int | None, ...]]
    ) -> tuple[int | None, ...]:
        skip_shape = input_shape[1]
        return (skip_shape[0], skip_shape[1], skip_shape[2], self.filters)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            filters=self.filters,
            norm=self.norm,
            activation=self.activation,
            dropout=self.dropout,
            interpolation=self.interpolation,
        )
        return config
