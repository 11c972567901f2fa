"""The ResUNet model (Zhang, Liu & Wang 2018) for 2-D MRI segmentation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from neuroseg.errors import ConfigError
from neuroseg.models.blocks import DecoderStage, PreActResidualUnit, ResidualStem

__all__ = ["ResUNet"]


@keras.saving.register_keras_serializable(package="neuroseg")
class ResUNet(keras.Model):
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
        return_logits: Return pre-activation logits instead of probabilities.
        name: Model name.

    Example:
        >>> import numpy as np
        >>> model = ResUNet(input_shape=(64, 64, 1), depth=3, base_filters=8)
        >>> model(np.zeros((2, 64, 64, 1), "float32")).shape
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
        return_logits: bool = False,
        name: str = "resunet",
        **kwargs: Any,
    ) -> None:
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
        step = 2**depth
        for size in input_shape[:2]:
            if size is not None and size % step:
                raise ConfigError(
                    f"input size {tuple(input_shape[:2])} must be divisible by 2**depth = {step}; "
                    "resize or pad the images, or lower depth."
                )
        opts: dict[str, Any] = {"norm": norm, "activation": activation, "dropout": dropout}
        inputs = keras.Input(shape=tuple(input_shape), name="image")
        x = ResidualStem(levels[0], **opts, name="stem")(inputs)
        skips = [x]
        for i, f in enumerate(levels[1:-1], start=1):
            x = PreActResidualUnit(f, strides=2, **opts, name=f"encoder_{i}")(x)
            skips.append(x)
        x = PreActResidualUnit(levels[-1], strides=2, **opts, name="bridge")(x)
        for i, (f, skip) in enumerate(zip(reversed(levels[:-1]), reversed(skips)), start=1):
            x = DecoderStage(f, **opts, name=f"decoder_{i}")([x, skip])
        x = layers.Conv2D(num_classes, 1, name="head")(x)
        if not return_logits:
            act = "sigmoid" if num_classes == 1 else "softmax"
            x = layers.Activation(act, dtype="float32", name="probabilities")(x)
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
            "return_logits": bool(return_logits),
        }

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {"name": self.name, "trainable": self.trainable, **self._config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> ResUNet:
        """Rebuild the model from :meth:`get_config`."""
        return cls(**config)
