"""An encoder stage of the ResUNet family (:class:`EncoderStage`): SE, then residual units."""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from neuroseg.errors import ConfigError
from neuroseg.models.layers.norm import check_norm
from neuroseg.models.layers.residual_unit import PreActResidualUnit
from neuroseg.models.layers.squeeze_excitation import SqueezeExcitation

__all__ = ["EncoderStage"]


@keras.saving.register_keras_serializable(package="neuroseg", name="EncoderStage")
class EncoderStage(layers.Layer):
    """An encoder stage: optional squeeze-and-excitation, then residual units.

    The first :class:`~neuroseg.models.PreActResidualUnit` carries the stride
    (down-sampling by a strided convolution, no pooling); ``num_units - 1`` more units
    follow at the same size. With ``squeeze_excite=True`` the stage's input is recalibrated
    first (:class:`~neuroseg.models.SqueezeExcitation`), as in ResUNet++.

    Args:
        filters: Output channels.
        strides: Stride of the first unit.
        num_units: Residual units in the stage.
        squeeze_excite: Apply squeeze-and-excitation to the input first.
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Any Keras activation name.
        dropout: Dropout rate inside the residual units.

    Example:
        >>> import numpy as np
        >>> tuple(EncoderStage(8, num_units=2)(np.ones((1, 16, 16, 4), "float32")).shape)
        (1, 8, 8, 8)
    """

    def __init__(
        self,
        filters: int,
        *,
        strides: int = 2,
        num_units: int = 1,
        squeeze_excite: bool = False,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_norm(norm)
        if num_units < 1:
            raise ConfigError(f"num_units must be >= 1, got {num_units}")
        self.filters = int(filters)
        self.strides = int(strides)
        self.num_units = int(num_units)
        self.squeeze_excite = bool(squeeze_excite)
        self.norm = norm
        self.activation = activation
        self.dropout = float(dropout)
        self.se = SqueezeExcitation(name="se") if self.squeeze_excite else None
        opts: dict[str, Any] = {"norm": norm, "activation": activation, "dropout": dropout}
        self.units = [
            PreActResidualUnit(
                self.filters, strides=self.strides if i == 0 else 1, **opts, name=f"unit_{i}"
            )
            for i in range(self.num_units)
        ]

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if self.se is not None:
            self.se.build(input_shape)
        shape = input_shape
        for unit in self.units:
            unit.build(shape)
            shape = unit.compute_output_shape(shape)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = inputs if self.se is None else self.se(inputs)
        for unit in self.units:
            x = unit(x, training=training)
        return x

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return self.units[0].compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            filters=self.filters,
            strides=self.strides,
            num_units=self.num_units,
            squeeze_excite=self.squeeze_excite,
            norm=self.norm,
            activation=self.activation,
            dropout=self.dropout,
        )
        return config
