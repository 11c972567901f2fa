"""The ResUNet family for 2-D MRI segmentation.

- :class:`ResUNet` (Zhang, Liu & Wang 2018);
- :class:`ResUNetPlusPlus` (Jha et al. 2019: squeeze-and-excitation, ASPP and attention);
- :class:`AttentionResUNet` (ResUNet with Oktay et al.'s additive attention gates).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from neuroseg.errors import ConfigError
from neuroseg.models.blocks import (
    ASPP,
    Bridge,
    DecoderStage,
    EncoderStage,
    PreActResidualUnit,
    ResidualStem,
    make_norm,
)

__all__ = ["AttentionResUNet", "ResUNet", "ResUNetPlusPlus"]


def _levels(
    input_shape: Sequence[int | None],
    num_classes: int,
    depth: int,
    base_filters: int,
    filters: Sequence[int] | None,
    *,
    extra_stride: int = 1,
) -> tuple[list[int], int]:
    """Validate the common options; return the per-level filters and the depth."""
    if len(input_shape) != 3:
        raise ConfigError(f"input_shape must be (height, width, channels), got {input_shape}")
    if num_classes < 1:
        raise ConfigError(f"num_classes must be >= 1, got {num_classes}")
    if filters is None:
        if depth < 1:
            raise ConfigError(f"depth must be >= 1, got {depth}")
        levels = [int(base_filters) * 2**i for i in range(depth + 1)]
    else:
        levels = [int(f) for f in filters]
        if len(levels) < 2:
            raise ConfigError("filters needs at least two levels (stem and bridge)")
        depth = len(levels) - 1
    step = 2**depth * extra_stride
    for size in input_shape[:2]:
        if size is not None and size % step:
            what = "2**depth" if extra_stride == 1 else "2**depth * stem_stride"
            raise ConfigError(
                f"input size {tuple(input_shape[:2])} must be divisible by {what} = {step}; "
                "resize or pad the images, or lower depth."
            )
    return levels, depth


def _head(x: Any, num_classes: int, return_logits: bool) -> Any:
    x = layers.Conv2D(num_classes, 1, name="head")(x)
    if not return_logits:
        act = "sigmoid" if num_classes == 1 else "softmax"
        x = layers.Activation(act, dtype="float32", name="probabilities")(x)
    return x


class _SegmentationModel(keras.Model):
    """Shared ``get_config``/``from_config`` of the ResUNet family."""

    _config: dict[str, Any]

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {"name": self.name, "trainable": self.trainable, **self._config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Any:
        """Rebuild the model from :meth:`get_config`."""
        return cls(**config)


@keras.saving.register_keras_serializable(package="neuroseg")
class ResUNet(_SegmentationModel):
    """Deep residual U-Net built from pre-activation residual units.

    The encoder is a :class:`ResidualStem` followed by ``depth - 1`` strided
    :class:`PreActResidualUnit` stages; a strided unit forms the bridge; ``depth``
    :class:`DecoderStage` blocks up-sample and fuse the skips; a 1×1 convolution gives
    the output. Spatial sizes must be divisible by ``2 ** depth``; ``None`` sizes are
    allowed for inference on other sizes.

    Args:
        input_shape: ``(height, width, channels)``; height and width may be ``None``.
        num_classes: ``1`` for binary segmentation (sigmoid), ``>= 2`` for multi-class
            (softmax over classes, background included).
        depth: Number of down-sampling steps.
        base_filters: Filters of the first stage; each stage doubles them.
        filters: Explicit per-level filters (length ``depth + 1``), overriding the two above.
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Activation inside the blocks.
        dropout: Dropout rate inside the residual units.
        stem_stride: ``2`` makes the first stage cheap: the stem's first convolution is
            strided, every residual unit works at half resolution or below (about a
            quarter of the FLOPs), and a narrow full-resolution refinement (bilinear
            up-sampling, the image as a skip, one 3×3 convolution of ``refine_filters``)
            gives the full-size output. ``1`` is the original ResUNet.
        refine_filters: Filters of that refinement (``stem_stride=2`` only).
        return_logits: Return pre-activation logits instead of probabilities.
        name: Model name.

    Example:
        >>> import numpy as np
        >>> model = ResUNet(input_shape=(64, 64, 1), depth=3, base_filters=8)
        >>> tuple(model(np.zeros((2, 64, 64, 1), "float32")).shape)
        (2, 64, 64, 1)
    """

    def __init__(
        self,
        *,
        input_shape: Sequence[int | None] = (256, 256, 1),
        num_classes: int = 1,
        depth: int = 3,
        base_filters: int = 16,
        filters: Sequence[int] | None = None,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        stem_stride: int = 1,
        refine_filters: int = 8,
        return_logits: bool = False,
        name: str = "resunet",
        **kwargs: Any,
    ) -> None:
        if stem_stride not in (1, 2):
            raise ConfigError(f"stem_stride must be 1 or 2, got {stem_stride}")
        if refine_filters < 1:
            raise ConfigError(f"refine_filters must be >= 1, got {refine_filters}")
        levels, depth = _levels(
            input_shape, num_classes, depth, base_filters, filters, extra_stride=stem_stride
        )
        opts: dict[str, Any] = {"norm": norm, "activation": activation, "dropout": dropout}
        inputs = keras.Input(shape=tuple(input_shape), name="image")
        x = ResidualStem(levels[0], strides=stem_stride, **opts, name="stem")(inputs)
        skips = [x]
        for i, f in enumerate(levels[1:-1], start=1):
            x = PreActResidualUnit(f, strides=2, **opts, name=f"encoder_{i}")(x)
            skips.append(x)
        x = PreActResidualUnit(levels[-1], strides=2, **opts, name="bridge")(x)
        for i, (f, skip) in enumerate(zip(reversed(levels[:-1]), reversed(skips)), start=1):
            x = DecoderStage(f, **opts, name=f"decoder_{i}")([x, skip])
        if stem_stride == 2:
            # Back to full resolution cheaply: bilinear up-sampling, the raw image as a
            # skip (edges), one narrow 3x3 convolution.
            x = layers.UpSampling2D(2, interpolation="bilinear", name="refine_up")(x)
            x = layers.Concatenate(name="refine_concat")([x, inputs])
            x = layers.Conv2D(
                refine_filters, 3, padding="same", use_bias=norm == "none", name="refine_conv"
            )(x)
            x = make_norm(norm, groups=min(8, refine_filters), name="refine_norm")(x)
            x = layers.Activation(activation, name="refine_act")(x)
        x = _head(x, num_classes, return_logits)
        super().__init__(inputs=inputs, outputs=x, name=name, **kwargs)
        self._config = {
            "input_shape": tuple(input_shape),
            "num_classes": int(num_classes),
            "depth": int(depth),
            "base_filters": int(levels[0]),
            "filters": tuple(levels) if filters is not None else None,
            "norm": norm,
            "activation": activation,
            "dropout": float(dropout),
            "stem_stride": int(stem_stride),
            "refine_filters": int(refine_filters),
            "return_logits": bool(return_logits),
        }


def _family(
    *,
    input_shape: Sequence[int | None],
    levels: list[int],
    num_classes: int,
    return_logits: bool,
    squeeze_excite: bool,
    aspp: bool,
    attention: str | None,
    opts: dict[str, Any],
) -> tuple[Any, Any]:
    """Build the inputs and outputs of a ResUNet++ / attention ResUNet graph."""
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = ResidualStem(levels[0], **opts, name="stem")(inputs)
    skips = [x]
    for i, f in enumerate(levels[1:-1], start=1):
        x = EncoderStage(f, squeeze_excite=squeeze_excite, **opts, name=f"encoder_{i}")(x)
        skips.append(x)
    x = Bridge(levels[-1], squeeze_excite=squeeze_excite, aspp=aspp, **opts, name="bridge")(x)
    for i, (f, skip) in enumerate(zip(reversed(levels[:-1]), reversed(skips)), start=1):
        x = DecoderStage(f, attention=attention, **opts, name=f"decoder_{i}")([x, skip])
    if aspp:
        x = ASPP(levels[0], norm=opts["norm"], name="output_aspp")(x)
    return inputs, _head(x, num_classes, return_logits)


@keras.saving.register_keras_serializable(package="neuroseg")
class ResUNetPlusPlus(_SegmentationModel):
    """ResUNet++ (Jha et al., IEEE ISM 2019).

    ResUNet plus three additions: squeeze-and-excitation before every down-sampling
    :class:`EncoderStage`, :class:`ASPP` in the :class:`Bridge` and before the head, and
    ResUNet++'s attention block in each :class:`DecoderStage`
    (``attention="resunetpp"``). Same options and input-size rules as :class:`ResUNet`.

    Args:
        input_shape: ``(height, width, channels)``; height and width may be ``None``.
        num_classes: ``1`` (sigmoid) or ``>= 2`` (softmax).
        depth: Number of down-sampling steps.
        base_filters: Filters of the first stage; each stage doubles them.
        filters: Explicit per-level filters (length ``depth + 1``).
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Activation inside the blocks.
        dropout: Dropout rate inside the residual units.
        return_logits: Return logits instead of probabilities.
        name: Model name.

    Example:
        >>> import numpy as np
        >>> model = ResUNetPlusPlus(input_shape=(32, 32, 1), depth=2, base_filters=8)
        >>> tuple(model(np.zeros((1, 32, 32, 1), "float32")).shape)
        (1, 32, 32, 1)
    """

    _attention: str | None = "resunetpp"
    _squeeze_excite = True
    _aspp = True

    def __init__(
        self,
        *,
        input_shape: Sequence[int | None] = (256, 256, 1),
        num_classes: int = 1,
        depth: int = 3,
        base_filters: int = 16,
        filters: Sequence[int] | None = None,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        return_logits: bool = False,
        name: str = "resunetpp",
        **kwargs: Any,
    ) -> None:
        levels, depth = _levels(input_shape, num_classes, depth, base_filters, filters)
        opts: dict[str, Any] = {"norm": norm, "activation": activation, "dropout": dropout}
        inputs, outputs = _family(
            input_shape=input_shape,
            levels=levels,
            num_classes=num_classes,
            return_logits=return_logits,
            squeeze_excite=self._squeeze_excite,
            aspp=self._aspp,
            attention=self._attention,
            opts=opts,
        )
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self._config = {
            "input_shape": tuple(input_shape),
            "num_classes": int(num_classes),
            "depth": int(depth),
            "base_filters": int(levels[0]),
            "filters": tuple(levels) if filters is not None else None,
            "norm": norm,
            "activation": activation,
            "dropout": float(dropout),
            "return_logits": bool(return_logits),
        }


@keras.saving.register_keras_serializable(package="neuroseg")
class AttentionResUNet(ResUNetPlusPlus):
    """ResUNet with additive attention gates on the skip connections (Oktay et al. 2018).

    Each :class:`DecoderStage` weights its skip by an :class:`AttentionGate`
    (``attention="gate"``) driven by the coarser decoder feature; no SE and no ASPP. Same
    arguments as :class:`ResUNetPlusPlus` (default ``name="attention_resunet"``).

    Example:
        >>> import numpy as np
        >>> model = AttentionResUNet(input_shape=(32, 32, 1), depth=2, base_filters=8)
        >>> tuple(model(np.zeros((1, 32, 32, 1), "float32")).shape)
        (1, 32, 32, 1)
    """

    _attention = "gate"
    _squeeze_excite = False
    _aspp = False

    def __init__(self, *, name: str = "attention_resunet", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
