"""ResUNet's first unit (:class:`ResidualStem`), which does not pre-activate the image.

Reference: Z. Zhang, Q. Liu, Y. Wang, "Road Extraction by Deep Residual U-Net", IEEE GRSL
15(5), 2018, Fig. 2.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

from neuroseg.models.layers.conv_block import ConvBlockBase
from neuroseg.models.layers.norm import make_norm

__all__ = ["ResidualStem"]


@keras.saving.register_keras_serializable(package="neuroseg", name="ResidualStem")
class ResidualStem(ConvBlockBase):
    """ResUNet's first unit: conv → norm → act → conv, plus a 1×1 shortcut.

    The raw input is not pre-activated (ResUNet, Zhang et al. 2018, Fig. 2). Same
    arguments as :class:`~neuroseg.models.PreActResidualUnit`.

    Example:
        >>> import numpy as np
        >>> tuple(ResidualStem(8)(np.zeros((1, 16, 16, 1), "float32")).shape)
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
