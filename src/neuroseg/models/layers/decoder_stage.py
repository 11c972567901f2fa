"""A decoder stage of the ResUNet family (:class:`DecoderStage`): up-sample, fuse, unit."""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from neuroseg.errors import ConfigError
from neuroseg.models.layers.attention_gate import ATTENTION_MODES, AttentionGate
from neuroseg.models.layers.residual_unit import PreActResidualUnit

__all__ = ["DecoderStage"]


@keras.saving.register_keras_serializable(package="neuroseg", name="DecoderStage")
class DecoderStage(layers.Layer):
    """Up-sample ×2, fuse the skip connection, then a pre-activation residual unit.

    Called on ``[x, skip]``; ``skip`` has twice ``x``'s spatial size. Fusion is
    concatenation; with ``attention="gate"`` the skip is first weighted by an additive
    :class:`~neuroseg.models.AttentionGate` driven by ``x`` (Attention ResUNet), with
    ``attention="resunetpp"`` ``x`` is re-weighted by ResUNet++'s attention block before
    up-sampling.

    Args:
        filters: Output channels.
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Any Keras activation name.
        dropout: Dropout rate inside the residual unit.
        interpolation: Up-sampling interpolation, ``"nearest"`` or ``"bilinear"``.
        attention: ``None``, ``"gate"`` or ``"resunetpp"``.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((1, 8, 8, 16), "float32")
        >>> skip = np.zeros((1, 16, 16, 8), "float32")
        >>> tuple(DecoderStage(8)([x, skip]).shape)
        (1, 16, 16, 8)
        >>> tuple(DecoderStage(8, attention="gate")([x, skip]).shape)
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
        attention: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if attention is not None and attention not in ATTENTION_MODES:
            raise ConfigError(
                f"Unknown attention {attention!r}; choose None or one of {ATTENTION_MODES}."
            )
        self.filters = int(filters)
        self.norm = norm
        self.activation = activation
        self.dropout = float(dropout)
        self.interpolation = interpolation
        self.attention = attention
        self.upsample = layers.UpSampling2D(2, interpolation=interpolation, name="upsample")
        self.concat = layers.Concatenate(axis=-1, name="concat")
        self.unit = PreActResidualUnit(
            filters, norm=norm, activation=activation, dropout=dropout, name="unit"
        )
        self.gate: AttentionGate | None = None

    def build(self, input_shape: list[tuple[int | None, ...]]) -> None:
        x_shape, skip_shape = input_shape
        if self.attention == "gate":
            self.gate = AttentionGate(
                max(1, self.filters // 2), mode="gate", activation=self.activation, name="gate"
            )
            self.gate.build([skip_shape, x_shape])
        elif self.attention == "resunetpp":
            self.gate = AttentionGate(
                int(x_shape[-1]),  # type: ignore[arg-type]
                mode="resunetpp",
                norm=self.norm,
                activation=self.activation,
                name="gate",
            )
            self.gate.build([skip_shape, x_shape])
        up = self.upsample.compute_output_shape(x_shape)
        cat = self.concat.compute_output_shape([up, skip_shape])
        self.unit.build(cat)
        self.built = True

    def call(self, inputs: list[Any], training: bool | None = None) -> Any:
        x, skip = inputs
        if self.gate is not None and self.attention == "resunetpp":
            x = self.gate([skip, x], training=training)
        elif self.gate is not None:
            skip = self.gate([skip, x], training=training)
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
        if self.attention is not None:  # keep configs of plain stages unchanged
            config["attention"] = self.attention
        return config
