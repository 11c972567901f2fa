"""The ResUNet family for 2-D MRI segmentation.

- :class:`ResUNet` (Zhang, Liu & Wang 2018);
- :class:`ResUNetPlusPlus` (Jha et al. 2019: squeeze-and-excitation, ASPP and attention);
- :class:`AttentionResUNet` (ResUNet with Oktay et al.'s additive attention gates).

Each is a segmentation head (an optional refinement or ASPP, a 1×1 convolution and a
sigmoid or softmax) on the features of
:func:`~neuroseg.models.resunet_backbone.resunet_features`, the encoder, bridge and
decoder that :class:`~neuroseg.models.ResUNetBackbone` also builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from neuroseg.errors import ConfigError
from neuroseg.models.config_model import ConfigModel
from neuroseg.models.layers.aspp import ASPP
from neuroseg.models.layers.norm import make_norm
from neuroseg.models.resunet_backbone import resunet_features, resunet_levels

__all__ = ["AttentionResUNet", "ResUNet", "ResUNetPlusPlus", "check_num_classes"]


def check_num_classes(num_classes: int) -> None:
    """Raise :class:`~neuroseg.errors.ConfigError` unless ``num_classes >= 1``.

    Example:
        >>> check_num_classes(1)
    """
    if num_classes < 1:
        raise ConfigError(f"num_classes must be >= 1, got {num_classes}")


def _head(x: Any, num_classes: int, return_logits: bool, *, upsample: bool = False) -> Any:
    if upsample:
        # Sub-pixel head: each half-resolution pixel's features give its 2x2 full-resolution
        # outputs (a 1x1 convolution followed by depth-to-space, as one layer).
        x = layers.Conv2DTranspose(num_classes, 2, strides=2, name="head")(x)
    else:
        x = layers.Conv2D(num_classes, 1, name="head")(x)
    if not return_logits:
        act = "sigmoid" if num_classes == 1 else "softmax"
        x = layers.Activation(act, dtype="float32", name="probabilities")(x)
    return x


@keras.saving.register_keras_serializable(package="neuroseg", name="ResUNet")
class ResUNet(ConfigModel):
    """Deep residual U-Net built from pre-activation residual units.

    The encoder is a :class:`~neuroseg.models.ResidualStem` followed by ``depth - 1``
    strided :class:`~neuroseg.models.PreActResidualUnit` stages; a strided unit forms the
    bridge; ``depth`` :class:`~neuroseg.models.DecoderStage` blocks up-sample and fuse the
    skips (the graph of :class:`~neuroseg.models.ResUNetBackbone`); a 1×1 convolution gives
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
        refine: Where that refinement works (``stem_stride=2`` only). ``"full"``: at full
            resolution, as above. ``"half"``: at half resolution, on the last decoder
            stage and the image folded 2×2 into channels (a 2×2 strided convolution of
            four filters per channel, enough to carry every pixel), and a sub-pixel head
            (a 2×2 stride-2 transposed convolution) gives each pixel's 2×2
            full-resolution outputs. The refinement then sees a quarter of the pixels;
            the whole model's FLOPs fall by only about 7 %, but the widest tensors (the
            full-size concatenation and its gradient) are gone, which is what makes it
            faster to train on a CPU (see docs/benchmarks.md).
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
        refine: str = "full",
        refine_filters: int = 8,
        return_logits: bool = False,
        name: str = "resunet",
        **kwargs: Any,
    ) -> None:
        if refine_filters < 1:
            raise ConfigError(f"refine_filters must be >= 1, got {refine_filters}")
        if refine not in ("full", "half"):
            raise ConfigError(f"refine must be 'full' or 'half', got {refine!r}")
        check_num_classes(num_classes)
        levels, depth = resunet_levels(
            input_shape, depth, base_filters, filters, stem_stride=stem_stride
        )
        inputs = keras.Input(shape=tuple(input_shape), name="image")
        features = resunet_features(
            inputs,
            levels,
            norm=norm,
            activation=activation,
            dropout=dropout,
            stem_stride=stem_stride,
        )
        x = features[f"decoder_{depth}"]
        half = stem_stride == 2 and refine == "half"
        if stem_stride == 2:
            # Back to full resolution cheaply, with the raw image as a skip (edges): either
            # bilinear up-sampling and one narrow 3x3 convolution at full resolution, or
            # the image folded to half resolution, one 3x3 convolution there and a
            # sub-pixel head.
            if half:
                image = layers.Conv2D(
                    4 * inputs.shape[-1], 2, strides=2, use_bias=False, name="refine_fold"
                )(inputs)
            else:
                x = layers.UpSampling2D(2, interpolation="bilinear", name="refine_up")(x)
                image = inputs
            x = layers.Concatenate(name="refine_concat")([x, image])
            x = layers.Conv2D(
                refine_filters, 3, padding="same", use_bias=norm == "none", name="refine_conv"
            )(x)
            x = make_norm(norm, groups=min(8, refine_filters), name="refine_norm")(x)
            x = layers.Activation(activation, name="refine_act")(x)
        x = _head(x, num_classes, return_logits, upsample=half)
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
            "refine": refine,
            "refine_filters": int(refine_filters),
            "return_logits": bool(return_logits),
        }


@keras.saving.register_keras_serializable(package="neuroseg", name="ResUNetPlusPlus")
class ResUNetPlusPlus(ConfigModel):
    """ResUNet++ (Jha et al., IEEE ISM 2019).

    ResUNet plus three additions: squeeze-and-excitation before every down-sampling
    :class:`~neuroseg.models.EncoderStage`, :class:`~neuroseg.models.ASPP` in the
    :class:`~neuroseg.models.Bridge` and before the head, and ResUNet++'s attention block
    in each :class:`~neuroseg.models.DecoderStage` (``attention="resunetpp"``): the
    graph of ``ResUNetBackbone(stages=True, squeeze_excite=True, aspp=True,
    attention="resunetpp")``. Same options and input-size rules as :class:`ResUNet`.

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
        check_num_classes(num_classes)
        levels, depth = resunet_levels(input_shape, depth, base_filters, filters)
        inputs = keras.Input(shape=tuple(input_shape), name="image")
        features = resunet_features(
            inputs,
            levels,
            norm=norm,
            activation=activation,
            dropout=dropout,
            stages=True,
            squeeze_excite=self._squeeze_excite,
            aspp=self._aspp,
            attention=self._attention,
        )
        x = features[f"decoder_{depth}"]
        if self._aspp:
            x = ASPP(levels[0], norm=norm, name="output_aspp")(x)
        outputs = _head(x, num_classes, return_logits)
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


@keras.saving.register_keras_serializable(package="neuroseg", name="AttentionResUNet")
class AttentionResUNet(ResUNetPlusPlus):
    """ResUNet with additive attention gates on the skip connections (Oktay et al. 2018).

    Each :class:`~neuroseg.models.DecoderStage` weights its skip by an
    :class:`~neuroseg.models.AttentionGate` (``attention="gate"``) driven by the coarser
    decoder feature; no SE and no ASPP. Same arguments as :class:`ResUNetPlusPlus`
    (default ``name="attention_resunet"``).

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
