"""The shared base of the residual blocks (:class:`ConvBlockBase`)."""

from __future__ import annotations

import math
from typing import Any

from keras import layers

from neuroseg.models.layers.norm import check_norm, make_norm

__all__ = ["ConvBlockBase"]


class ConvBlockBase(layers.Layer):
    """Shared options, shortcut and config of the residual blocks.

    Not registered and not exported: :class:`~neuroseg.models.PreActResidualUnit` and
    :class:`~neuroseg.models.ResidualStem` subclass it.

    Args:
        filters: Output channels.
        strides: Stride of the first convolution.
        kernel_size: Convolution kernel size.
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Any Keras activation name.
        dropout: Dropout rate between the two convolutions.
    """

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
        check_norm(norm)
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
