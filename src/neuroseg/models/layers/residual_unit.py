"""The pre-activation residual unit of ResUNet (:class:`PreActResidualUnit`).

Reference: Z. Zhang, Q. Liu, Y. Wang, "Road Extraction by Deep Residual U-Net", IEEE GRSL
15(5), 2018; K. He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers, ops

from neuroseg.models.layers.conv_block import ConvBlockBase
from neuroseg.models.layers.norm import make_norm

__all__ = ["PreActResidualUnit"]


@keras.saving.register_keras_serializable(package="neuroseg", name="PreActResidualUnit")
class PreActResidualUnit(ConvBlockBase):
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
        >>> tuple(PreActResidualUnit(8, strides=2)(np.zeros((1, 16, 16, 4), "float32")).shape)
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
