"""Reusable ResUNet building blocks, written with Keras layers and ``keras.ops``.

All blocks assume channels-last tensors ``(batch, height, width, channels)`` and are
registered for ``.keras`` serialisation under the ``neuroseg`` package.

Reference: Z. Zhang, Q. Liu, Y. Wang, "Road Extraction by Deep Residual U-Net",
IEEE GRSL 15(5), 2018 (ResUNet); K. He et al., "Identity Mappings in Deep Residual
Networks", ECCV 2016 (pre-activation units); D. Jha et al., "ResUNet++: An Advanced
Architecture for Medical Image Segmentation", IEEE ISM 2019 (squeeze-and-excitation, ASPP and
attention in a ResUNet); J. Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018;
L.-C. Chen et al., "DeepLab", TPAMI 2018 (ASPP); O. Oktay et al., "Attention U-Net", MIDL 2018
(additive attention gates).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers, ops

from neuroseg.errors import ConfigError
from neuroseg.models.batch_norm import FusedBatchNormalization

__all__ = [
    "ASPP",
    "AttentionGate",
    "Bridge",
    "DecoderStage",
    "EncoderStage",
    "PreActResidualUnit",
    "ResidualStem",
    "SqueezeExcitation",
    "make_norm",
]

_NORMS = ("batch", "group", "none")


_ATTENTION = ("gate", "resunetpp")


def _check_norm(norm: str) -> None:
    if norm not in _NORMS:
        raise ConfigError(f"Unknown norm {norm!r}; choose one of {', '.join(_NORMS)}.")


def make_norm(norm: str, *, groups: int = 8, name: str | None = None) -> layers.Layer:
    """Return a normalisation layer: ``"batch"``, ``"group"`` or ``"none"`` (identity).

    Args:
        norm: ``"batch"`` (batch normalisation, :class:`FusedBatchNormalization`),
            ``"group"`` (group normalisation, good for small batches) or ``"none"``
            (identity).
        groups: Groups for group normalisation; must divide the channel count.
        name: Layer name.

    Raises:
        ConfigError: Unknown ``norm``.

    Example:
        >>> make_norm("group", groups=4).groups
        4
    """
    if norm == "batch":
        return FusedBatchNormalization(name=name)
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


@keras.saving.register_keras_serializable(package="neuroseg")
class ResidualStem(_ConvBlockBase):
    """ResUNet's first unit: conv → norm → act → conv, plus a 1×1 shortcut.

    The raw input is not pre-activated (ResUNet, Zhang et al. 2018, Fig. 2).

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


@keras.saving.register_keras_serializable(package="neuroseg")
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


@keras.saving.register_keras_serializable(package="neuroseg")
class ASPP(layers.Layer):
    """Atrous spatial pyramid pooling (Chen et al. 2018), as used in ResUNet++.

    Parallel 3×3 convolutions with the given dilation ``rates``, each followed by
    normalisation; the branches are summed and mixed by a 1×1 convolution. Keeps the
    spatial size; works with ``None`` spatial sizes.

    Args:
        filters: Output channels.
        rates: Dilation rates, one branch each.
        norm: ``"batch"``, ``"group"`` or ``"none"``.

    Example:
        >>> import numpy as np
        >>> tuple(ASPP(8, rates=(1, 2))(np.ones((1, 16, 16, 4), "float32")).shape)
        (1, 16, 16, 8)
    """

    def __init__(
        self,
        filters: int,
        *,
        rates: tuple[int, ...] | list[int] = (1, 6, 12, 18),
        norm: str = "batch",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_norm(norm)
        if not rates:
            raise ConfigError("ASPP needs at least one dilation rate")
        self.filters = int(filters)
        self.rates = tuple(int(r) for r in rates)
        self.norm = norm
        groups = math.gcd(8, self.filters)
        self.branches = [
            layers.Conv2D(
                self.filters,
                3,
                padding="same",
                dilation_rate=r,
                use_bias=norm == "none",
                kernel_initializer="he_normal",
                name=f"branch_{r}",
            )
            for r in self.rates
        ]
        self.norms = [make_norm(norm, groups=groups, name=f"norm_{r}") for r in self.rates]
        self.project = layers.Conv2D(self.filters, 1, name="project")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        mid = (*input_shape[:-1], self.filters)
        for conv, norm in zip(self.branches, self.norms):
            conv.build(input_shape)
            norm.build(mid)
        self.project.build(mid)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        out = None
        for conv, norm in zip(self.branches, self.norms):
            y = norm(conv(inputs), training=training)
            out = y if out is None else ops.add(out, y)
        return self.project(out)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(filters=self.filters, rates=list(self.rates), norm=self.norm)
        return config


@keras.saving.register_keras_serializable(package="neuroseg")
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
    it avoids a oneDNN fault in TensorFlow 2.21, see :class:`PreActResidualUnit`).

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
        if mode not in _ATTENTION:
            raise ConfigError(f"Unknown attention mode {mode!r}; choose one of {_ATTENTION}.")
        _check_norm(norm)
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


@keras.saving.register_keras_serializable(package="neuroseg")
class EncoderStage(layers.Layer):
    """An encoder stage: optional squeeze-and-excitation, then residual units.

    The first :class:`PreActResidualUnit` carries the stride (down-sampling by a strided
    convolution, no pooling); ``num_units - 1`` more units follow at the same size. With
    ``squeeze_excite=True`` the stage's input is recalibrated first, as in ResUNet++.

    Args:
        filters: Output channels.
        strides: Stride of the first unit.
        num_units: Residual units in the stage.
        squeeze_excite: Apply :class:`SqueezeExcitation` to the input first.
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
        _check_norm(norm)
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


@keras.saving.register_keras_serializable(package="neuroseg")
class Bridge(EncoderStage):
    """The bottleneck between encoder and decoder: an :class:`EncoderStage`, optionally + ASPP.

    In ResUNet the bridge is one more strided residual unit; ResUNet++ adds
    squeeze-and-excitation before it and :class:`ASPP` after it (``aspp=True``).

    Args:
        filters: Output channels.
        aspp: Follow the residual units with :class:`ASPP`.
        aspp_rates: Dilation rates of the ASPP branches.
        **kwargs: The options of :class:`EncoderStage`.

    Example:
        >>> import numpy as np
        >>> tuple(Bridge(8, aspp=True, aspp_rates=(1, 2))(np.ones((1, 8, 8, 4), "float32")).shape)
        (1, 4, 4, 8)
    """

    def __init__(
        self,
        filters: int,
        *,
        aspp: bool = False,
        aspp_rates: tuple[int, ...] | list[int] = (1, 6, 12, 18),
        **kwargs: Any,
    ) -> None:
        super().__init__(filters, **kwargs)
        self.aspp = bool(aspp)
        self.aspp_rates = tuple(int(r) for r in aspp_rates)
        self.aspp_block = (
            ASPP(self.filters, rates=self.aspp_rates, norm=self.norm, name="aspp")
            if self.aspp
            else None
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        super().build(input_shape)
        if self.aspp_block is not None:
            self.aspp_block.build(self.compute_output_shape(input_shape))

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = super().call(inputs, training=training)
        return x if self.aspp_block is None else self.aspp_block(x, training=training)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(aspp=self.aspp, aspp_rates=list(self.aspp_rates))
        return config


@keras.saving.register_keras_serializable(package="neuroseg")
class DecoderStage(layers.Layer):
    """Up-sample ×2, fuse the skip connection, then a pre-activation residual unit.

    Called on ``[x, skip]``; ``skip`` has twice ``x``'s spatial size. Fusion is
    concatenation; with ``attention="gate"`` the skip is first weighted by an additive
    :class:`AttentionGate` driven by ``x`` (Attention ResUNet), with
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
        >>> x, skip = np.zeros((1, 8, 8, 16), "float32"), np.zeros((1, 16, 16, 8), "float32")
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
        if attention is not None and attention not in _ATTENTION:
            raise ConfigError(
                f"Unknown attention {attention!r}; choose None or one of {_ATTENTION}."
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
