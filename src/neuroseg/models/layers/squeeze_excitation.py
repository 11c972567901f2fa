"""Squeeze-and-excitation channel attention (:class:`SqueezeExcitation`).

Reference: J. Hu, L. Shen, G. Sun, "Squeeze-and-Excitation Networks", CVPR 2018.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

from neuroseg.errors import ConfigError

__all__ = ["SqueezeExcitation"]


@keras.saving.register_keras_serializable(package="neuroseg", name="SqueezeExcitation")
class SqueezeExcitation(layers.Layer):
    """Squeeze-and-excitation channel attention (Hu et al. 2018).

    Global average pooling, a bottleneck ``Dense`` (``channels // ratio``, activation), a
    ``Dense`` with sigmoid, and a channel-wise rescaling of the input. Output shape equals
    input shape; works with ``None`` spatial sizes.

    Args:
        ratio: Channel reduction ratio of the bottleneck.
        activation: Activation of the bottleneck.

    Example:
        >>> import numpy as np
        >>> tuple(SqueezeExcitation(ratio=2)(np.ones((1, 8, 8, 4), "float32")).shape)
        (1, 8, 8, 4)
    """

    def __init__(self, *, ratio: int = 8, activation: str = "relu", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if ratio < 1:
            raise ConfigError(f"SqueezeExcitation ratio must be >= 1, got {ratio}")
        self.ratio = int(ratio)
        self.activation = activation

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = int(input_shape[-1])  # type: ignore[arg-type]
        hidden = max(1, channels // self.ratio)
        self.squeeze = layers.Dense(hidden, activation=self.activation, name="squeeze")
        self.excite = layers.Dense(channels, activation="sigmoid", name="excite")
        self.squeeze.build((None, channels))
        self.excite.build((None, hidden))
        self.built = True

    def call(self, inputs: Any) -> Any:
        w = self.excite(self.squeeze(ops.mean(inputs, axis=(1, 2))))
        return ops.multiply(inputs, w[:, None, None, :])

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(ratio=self.ratio, activation=self.activation)
        return config
