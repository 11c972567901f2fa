"""Temperature scaling of probabilities (:class:`TemperatureScaling`).

Reference: C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern Neural
Networks", ICML 2017.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers, ops

from neuroseg.errors import ConfigError

__all__ = ["TemperatureScaling"]

_ACTIVATIONS = ("softmax", "sigmoid")


@keras.saving.register_keras_serializable(package="neuroseg", name="TemperatureScaling")
class TemperatureScaling(layers.Layer):
    """Divide a model's logits by a temperature ``T``, taking and giving probabilities.

    The layer sits after a model's softmax or sigmoid: it recovers the logits (``log p``
    for a softmax, ``log(p / (1 - p))`` for a sigmoid, with ``p`` clipped to
    ``[epsilon, 1 - epsilon]``), divides them by ``T`` and applies the activation again.
    ``T > 1`` softens over-confident probabilities, ``T < 1`` sharpens them, ``T = 1``
    changes nothing (up to the clipping); the arg-max class (and a sigmoid's 0.5
    threshold) never moves. A softmax acts on the last axis, a sigmoid on each value, so
    one ``T`` scales every pixel of a segmentation map.

    Args:
        temperature: The temperature, > 0 (fit it with
            :func:`neuroseg.inference.calibrate_model`).
        activation: ``"softmax"`` (class probabilities, or multi-class masks) or
            ``"sigmoid"`` (independent probabilities, e.g. a binary mask).
        epsilon: Clipping of the probabilities before the logarithm.

    Example:
        >>> import numpy as np
        >>> layer = TemperatureScaling(2.0, activation="softmax")
        >>> tuple(round(float(v), 4) for v in layer(np.array([[0.8, 0.2]], "float32"))[0])
        (0.6667, 0.3333)
        >>> float(TemperatureScaling(2.0, activation="sigmoid")(np.array([0.9], "float32"))[0])
        0.75
    """

    def __init__(
        self,
        temperature: float = 1.0,
        *,
        activation: str = "softmax",
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        t = float(temperature)
        if not math.isfinite(t) or t <= 0:
            raise ConfigError(f"temperature must be a finite number > 0, got {temperature}")
        if activation not in _ACTIVATIONS:
            raise ConfigError(f"Unknown activation {activation!r}; use 'softmax' or 'sigmoid'.")
        if not 0 < epsilon < 0.5:
            raise ConfigError(f"epsilon must lie in (0, 0.5), got {epsilon}")
        self.temperature = t
        self.activation = activation
        self.epsilon = float(epsilon)

    def call(self, inputs: Any) -> Any:
        p = ops.clip(ops.cast(inputs, self.compute_dtype), self.epsilon, 1.0 - self.epsilon)
        if self.activation == "softmax":
            return ops.softmax(ops.log(p) / self.temperature, axis=-1)
        logit = ops.log(p) - ops.log1p(-p)
        return ops.sigmoid(logit / self.temperature)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            temperature=self.temperature, activation=self.activation, epsilon=self.epsilon
        )
        return config
