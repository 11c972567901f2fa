"""The ResUNet family's encoder, bridge and decoder, written once, with named features.

:func:`resunet_features` lays the stem, the encoder stages, the bridge and the decoder
stages on an input tensor and returns every stage's output by name; the segmentation
models (:class:`~neuroseg.models.ResUNet`, :class:`~neuroseg.models.ResUNetPlusPlus`,
:class:`~neuroseg.models.AttentionResUNet`) and :class:`~neuroseg.models.MultiTaskResUNet`
put their heads on those features. :class:`ResUNetBackbone` is the same graph as a model
of its own, with the named features as its outputs (a feature extractor, in the style of
keras-hub's backbones).

Feature names are the names of the layers that produce them, in a task model too:

- ``stem``: the :class:`~neuroseg.models.ResidualStem` (full size, or half with
  ``stem_stride=2``);
- ``encoder_1`` … ``encoder_{depth-1}``: each down-sampling stage (×2 smaller each);
- ``bridge``: the bottleneck, ``2**depth * stem_stride`` times smaller than the input;
- ``decoder_1`` … ``decoder_{depth}``: each up-sampling stage, ``decoder_{depth}`` at the
  stem's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from neuroseg.errors import ConfigError
from neuroseg.models.config_model import ConfigModel
from neuroseg.models.layers.bridge import Bridge
from neuroseg.models.layers.decoder_stage import DecoderStage
from neuroseg.models.layers.encoder_stage import EncoderStage
from neuroseg.models.layers.residual_stem import ResidualStem
from neuroseg.models.layers.residual_unit import PreActResidualUnit

__all__ = ["ResUNetBackbone", "feature_names", "resunet_features", "resunet_levels"]


def resunet_levels(
    input_shape: Sequence[int | None],
    depth: int,
    base_filters: int,
    filters: Sequence[int] | None,
    *,
    stem_stride: int = 1,
) -> tuple[list[int], int]:
    """Validate the common options of the ResUNet family; return per-level filters and depth.

    Args:
        input_shape: ``(height, width, channels)``; height and width may be ``None``.
        depth: Number of down-sampling steps (ignored when ``filters`` is given).
        base_filters: Filters of the first level; each level doubles them.
        filters: Explicit per-level filters (stem, encoder stages, bridge), or ``None``.
        stem_stride: Stride of the stem (``1`` or ``2``).

    Returns:
        ``(levels, depth)``: ``depth + 1`` filter counts and the number of down-sampling
        steps.

    Raises:
        ConfigError: A malformed shape, a stem stride other than 1 or 2, a depth below 1,
            fewer than two levels, or a height or width not divisible by
            ``2**depth * stem_stride``.

    Example:
        >>> resunet_levels((64, 64, 1), 3, 16, None)
        ([16, 32, 64, 128], 3)
    """
    if len(input_shape) != 3:
        raise ConfigError(f"input_shape must be (height, width, channels), got {input_shape}")
    if stem_stride not in (1, 2):
        raise ConfigError(f"stem_stride must be 1 or 2, got {stem_stride}")
    if filters is None:
        if depth < 1:
            raise ConfigError(f"depth must be >= 1, got {depth}")
        levels = [int(base_filters) * 2**i for i in range(depth + 1)]
    else:
        levels = [int(f) for f in filters]
        if len(levels) < 2:
            raise ConfigError("filters needs at least two levels (stem and bridge)")
        depth = len(levels) - 1
    step = 2**depth * stem_stride
    for size in input_shape[:2]:
        if size is not None and size % step:
            what = "2**depth" if stem_stride == 1 else "2**depth * stem_stride"
            raise ConfigError(
                f"input size {tuple(input_shape[:2])} must be divisible by {what} = {step}; "
                "resize or pad the images, or lower depth."
            )
    return levels, depth


def feature_names(depth: int) -> tuple[str, ...]:
    """The names of the features of a ResUNet backbone with ``depth`` down-sampling steps.

    In graph order: stem, encoder stages, bridge, decoder stages (coarse to fine).

    Example:
        >>> feature_names(2)
        ('stem', 'encoder_1', 'bridge', 'decoder_1', 'decoder_2')
    """
    return (
        "stem",
        *(f"encoder_{i}" for i in range(1, depth)),
        "bridge",
        *(f"decoder_{i}" for i in range(1, depth + 1)),
    )


def resunet_features(
    inputs: Any,
    levels: Sequence[int],
    *,
    norm: str = "batch",
    activation: str = "relu",
    dropout: float = 0.0,
    stem_stride: int = 1,
    stages: bool = False,
    squeeze_excite: bool = False,
    aspp: bool = False,
    attention: str | None = None,
) -> dict[str, Any]:
    """Lay a ResUNet encoder, bridge and decoder on ``inputs``; return the named features.

    The layers are created in the caller's graph (no nested model), named as the
    features (see :func:`feature_names`), so a model built on them keeps the flat layer
    names of the ResUNet family's ``.keras`` files.

    Args:
        inputs: A symbolic ``(batch, height, width, channels)`` tensor.
        levels: Filters per level: stem, encoder stages, bridge (``depth + 1`` values,
            e.g. from :func:`resunet_levels`).
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Activation inside the blocks.
        dropout: Dropout rate inside the residual units.
        stem_stride: Stride of the stem's first convolution (``1`` or ``2``).
        stages: Build the encoder and bridge from :class:`~neuroseg.models.EncoderStage`
            and :class:`~neuroseg.models.Bridge` (ResUNet++'s and Attention ResUNet's
            layout) instead of bare strided :class:`~neuroseg.models.PreActResidualUnit`
            layers (ResUNet's layout). Without SE and ASPP both compute the same function;
            their weights are laid out differently.
        squeeze_excite: Squeeze-and-excitation before every down-sampling stage and the
            bridge (needs ``stages=True``).
        aspp: ASPP after the bridge's residual unit (needs ``stages=True``).
        attention: ``None``, ``"gate"`` or ``"resunetpp"``: the decoder stages' attention.

    Returns:
        ``{name: tensor}`` in graph order (see :func:`feature_names`).

    Raises:
        ConfigError: ``squeeze_excite`` or ``aspp`` without ``stages``, or fewer than two
            levels.

    Example:
        >>> import keras
        >>> features = resunet_features(keras.Input((32, 32, 1)), [4, 8, 16])
        >>> {name: tuple(x.shape[1:]) for name, x in features.items()}["bridge"]
        (8, 8, 16)
    """
    if (squeeze_excite or aspp) and not stages:
        raise ConfigError("squeeze_excite and aspp need stages=True (EncoderStage / Bridge)")
    if len(levels) < 2:
        raise ConfigError("levels needs at least two values (stem and bridge)")
    opts: dict[str, Any] = {"norm": norm, "activation": activation, "dropout": dropout}
    features: dict[str, Any] = {}
    x = ResidualStem(levels[0], strides=stem_stride, **opts, name="stem")(inputs)
    features["stem"] = x
    skips = [x]
    for i, f in enumerate(levels[1:-1], start=1):
        name = f"encoder_{i}"
        if stages:
            x = EncoderStage(f, squeeze_excite=squeeze_excite, **opts, name=name)(x)
        else:
            x = PreActResidualUnit(f, strides=2, **opts, name=name)(x)
        features[name] = x
        skips.append(x)
    if stages:
        x = Bridge(levels[-1], squeeze_excite=squeeze_excite, aspp=aspp, **opts, name="bridge")(x)
    else:
        x = PreActResidualUnit(levels[-1], strides=2, **opts, name="bridge")(x)
    features["bridge"] = x
    for i, (f, skip) in enumerate(zip(reversed(levels[:-1]), reversed(skips)), start=1):
        name = f"decoder_{i}"
        x = DecoderStage(f, attention=attention, **opts, name=name)([x, skip])
        features[name] = x
    return features


@keras.saving.register_keras_serializable(package="neuroseg", name="ResUNetBackbone")
class ResUNetBackbone(ConfigModel):
    """The ResUNet family's encoder, bridge and decoder, returning named features.

    A functional model ``image → {"stem", "encoder_1", …, "bridge", "decoder_1", …}``
    (see :func:`feature_names`): the graph that :class:`~neuroseg.models.ResUNet`,
    :class:`~neuroseg.models.ResUNetPlusPlus`, :class:`~neuroseg.models.AttentionResUNet`
    and :class:`~neuroseg.models.MultiTaskResUNet` put their heads on, as a feature
    extractor for your own heads. ``decoder_{depth}`` is the last decoder feature (at the
    stem's size); ``bridge`` the most compressed one.

    Args:
        input_shape: ``(height, width, channels)``; height and width may be ``None``.
            Sizes must be divisible by ``2**depth * stem_stride``.
        depth: Number of down-sampling steps.
        base_filters: Filters of the first level; each level doubles them.
        filters: Explicit per-level filters (length ``depth + 1``), overriding the two above.
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Activation inside the blocks.
        dropout: Dropout rate inside the residual units.
        stem_stride: ``1``, or ``2`` for a strided stem (everything at half size or below).
        stages: Encoder and bridge as :class:`~neuroseg.models.EncoderStage` /
            :class:`~neuroseg.models.Bridge` layers (see :func:`resunet_features`).
        squeeze_excite: Squeeze-and-excitation before each down-sampling stage (ResUNet++).
        aspp: ASPP in the bridge (ResUNet++).
        attention: Decoder attention: ``None``, ``"gate"`` (Attention ResUNet) or
            ``"resunetpp"``.
        name: Model name.

    Example:
        >>> import numpy as np
        >>> backbone = ResUNetBackbone(input_shape=(32, 32, 1), depth=2, base_filters=4)
        >>> features = backbone(np.zeros((1, 32, 32, 1), "float32"))
        >>> tuple(features["bridge"].shape), tuple(features["decoder_2"].shape)
        ((1, 8, 8, 16), (1, 32, 32, 4))
    """

    def __init__(
        self,
        *,
        input_shape: Sequence[int | None] = (256, 256, 1),
        depth: int = 3,
        base_filters: int = 16,
        filters: Sequence[int] | None = None,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        stem_stride: int = 1,
        stages: bool = False,
        squeeze_excite: bool = False,
        aspp: bool = False,
        attention: str | None = None,
        name: str = "resunet_backbone",
        **kwargs: Any,
    ) -> None:
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
            stages=stages,
            squeeze_excite=squeeze_excite,
            aspp=aspp,
            attention=attention,
        )
        super().__init__(inputs=inputs, outputs=features, name=name, **kwargs)
        self._config = {
            "input_shape": tuple(input_shape),
            "depth": int(depth),
            "base_filters": int(levels[0]),
            "filters": tuple(levels) if filters is not None else None,
            "norm": norm,
            "activation": activation,
            "dropout": float(dropout),
            "stem_stride": int(stem_stride),
            "stages": bool(stages),
            "squeeze_excite": bool(squeeze_excite),
            "aspp": bool(aspp),
            "attention": attention,
        }

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of the outputs, in graph order (see :func:`feature_names`)."""
        return feature_names(self._config["depth"])
