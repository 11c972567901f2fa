"""Attention on a skip connection (:class:`AttentionGate`): Attention U-Net's or ResUNet++'s.

Reference: O. Oktay et al., "Attention U-Net: Learning Where to Look for the Pancreas",
MIDL 2018; D. Jha et al., "ResUNet++: An Advanced Architecture for Medical Image
Segmentation", IEEE ISM 2019.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers, ops

from neuroseg.errors import ConfigError
from neuroseg.models.layers.norm import check_norm, make_norm

__all__ = ["ATTENTION_MODES", "AttentionGate"]

#: The attention forms: Oktay et al.'s additive gate and ResUNet++'s attention block.
ATTENTION_MODES: tuple[str, ...] = ("gate", "resunetpp")


@keras.saving.register_keras_serializable(package="neuroseg", name="AttentionGate")
class AttentionGate(layers.Layer):
    """Attention on a skip connection, called on ``[skip, gating]``.

    ``gating`` is the coarser decoder feature (half ``skip``'s spatial size). Two forms:

    - ``mode="gate"`` (Oktay et al. 2018, Attention U-Net): additive attention
      ``alpha = sigmoid(psi(act(W_x · pool(skip) + W_g · gating))))`` computed at the
      coarse size, up-sampled ×2; returns ``skip * alpha`` (``skip``'s shape).
    - ``mode="resunetpp"`` (Jha et al. 2019, ResUNet++): ``norm → act → 3×3 conv`` of
      both inputs, ``skip`` max-pooled to the coarse size, summed, another
      ``norm → act → 3×3 conv``, multiplied with ``gating``; returns ``gating``'s shape.

    ``skip`` is average-pooled before its 1×1 projection rather than using a strided 1×1
    convolution (the same sampling grid a strided convolution would not even average, and
    it avoids a oneDNN fault in TensorFlow 2.21, see
    :class:`~neuroseg.models.PreActResidualUnit`).

    Args:
        filters: Channels of the intermediate (attention) features.
        mode: ``"gate"`` or ``"resunetpp"``.
        norm: Normalisation of the ``"resunetpp"`` form.
        activation: Activation inside the gate.

    Example:
        >>> import numpy as np
        >>> skip, g = np.ones((1, 16, 16, 4), "float32"), np.ones((1, 8, 8, 8), "float32")
        >>> tuple(AttentionGate(4)([skip, g]).shape)
        (1, 16, 16, 4)
        >>> tuple(AttentionGate(8, mode="resunetpp")([skip, g]).shape)
        (1, 8, 8, 8)
    """

    def __init__(
        self,
        filters: int,
        *,
        mode: str = "gate",
        norm: str = "batch",
        activation: str = "relu",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if mode not in ATTENTION_MODES:
            raise ConfigError(f"Unknown attention mode {mode!r}; choose one of {ATTENTION_MODES}.")
        check_norm(norm)
        self.filters = int(filters)
        self.mode = mode
        self.norm = norm
        self.activation = activation

    def build(self, input_shape: list[tuple[int | None, ...]]) -> None:
        skip_shape, g_shape = input_shape
        cs, cg = int(skip_shape[-1]), int(g_shape[-1])  # type: ignore[arg-type]
        coarse = (*g_shape[:-1], self.filters)
        self.pool: layers.Layer
        self.act = layers.Activation(self.activation, name="act")
        if self.mode == "gate":
            self.pool = layers.AveragePooling2D(2, name="pool")
            self.theta = layers.Conv2D(self.filters, 1, use_bias=False, name="theta_skip")
            self.phi = layers.Conv2D(self.filters, 1, name="phi_gating")
            self.psi = layers.Conv2D(1, 1, activation="sigmoid", name="psi")
            self.upsample = layers.UpSampling2D(2, interpolation="bilinear", name="upsample")
            self.theta.build((*g_shape[:-1], cs))
            self.phi.build(g_shape)
            self.psi.build(coarse)
        else:
            if self.filters != cg:
                raise ConfigError(
                    f"AttentionGate(mode='resunetpp') needs filters == gating channels ({cg}), "
                    f"got {self.filters}"
                )
            opts = {"padding": "same", "use_bias": self.norm == "none"}
            self.norm_skip = make_norm(self.norm, groups=math.gcd(8, cs), name="norm_skip")
            self.conv_skip = layers.Conv2D(self.filters, 3, **opts, name="conv_skip")
            self.pool = layers.MaxPooling2D(2, name="pool")
            self.norm_g = make_norm(self.norm, groups=math.gcd(8, cg), name="norm_gating")
            self.conv_g = layers.Conv2D(self.filters, 3, **opts, name="conv_gating")
            self.norm_sum = make_norm(self.norm, groups=math.gcd(8, self.filters), name="norm_sum")
            self.conv_sum = layers.Conv2D(self.filters, 3, **opts, name="conv_sum")
            self.norm_skip.build(skip_shape)
            self.conv_skip.build(skip_shape)
            self.norm_g.build(g_shape)
            self.conv_g.build(g_shape)
            self.norm_sum.build(coarse)
            self.conv_sum.build(coarse)
        self.built = True

    def call(self, inputs: list[Any], training: bool | None = None) -> Any:
        skip, g = inputs
        if self.mode == "gate":
            a = self.act(ops.add(self.theta(self.pool(skip)), self.phi(g)))
            return ops.multiply(skip, self.upsample(self.psi(a)))
        s = self.pool(self.conv_skip(self.act(self.norm_skip(skip, training=training))))
        y = self.conv_g(self.act(self.norm_g(g, training=training)))
        y = self.conv_sum(self.act(self.norm_sum(ops.add(s, y), training=training)))
        return ops.multiply(y, g)

    def compute_output_shape(
        self, input_shape: list[tuple[int | None, ...]]
    ) -> tuple[int | None, ...]:
        return tuple(input_shape[0] if self.mode == "gate" else input_shape[1])

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            filters=self.filters, mode=self.mode, norm=self.norm, activation=self.activation
        )
        return config
