"""Segmentation losses: soft Dice and Dice + binary cross-entropy.

Each loss has a pure function (``keras.ops`` only, returns one value per sample) and a
registered :class:`keras.losses.Loss` class for ``model.compile``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["DiceBCELoss", "DiceLoss", "dice_bce_loss", "dice_loss"]


def dice_loss(y_true: Any, y_pred: Any, *, smooth: float = 1.0, from_logits: bool = False) -> Any:
    """Soft Dice loss per sample: ``1 - (2·Σtp + s) / (Σt + Σp + s)``.

    Sums run over all axes but the batch axis. ``smooth`` keeps empty masks finite: an empty
    truth with an empty prediction costs 0.

    Example:
        >>> import numpy as np
        >>> t = np.ones((1, 2, 2, 1), "float32")
        >>> float(dice_loss(t, t, smooth=0.0)[0])
        0.0
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    y_true = ops.cast(ops.reshape(ops.convert_to_tensor(y_true), ops.shape(y_pred)), y_pred.dtype)
    axes = tuple(range(1, len(y_pred.shape)))
    inter = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return 1.0 - (2.0 * inter + smooth) / (total + smooth)


def dice_bce_loss(
    y_true: Any,
    y_pred: Any,
    *,
    smooth: float = 1.0,
    bce_weight: float = 1.0,
    from_logits: bool = False,
) -> Any:
    """Soft Dice plus ``bce_weight`` × mean binary cross-entropy, per sample."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.reshape(ops.convert_to_tensor(y_true), ops.shape(y_pred)), y_pred.dtype)
    bce = keras.losses.binary_crossentropy(y_true, y_pred, from_logits=from_logits)
    axes = tuple(range(1, len(bce.shape)))
    bce = ops.mean(bce, axis=axes) if axes else bce
    return dice_loss(y_true, y_pred, smooth=smooth, from_logits=from_logits) + bce_weight * bce


@keras.saving.register_keras_serializable(package="neuroseg")
class DiceLoss(keras.losses.Loss):
    """Soft Dice loss; see :func:`dice_loss`.

    Args:
        smooth: Additive smoothing.
        from_logits: Whether predictions are logits.
    """

    def __init__(
        self,
        *,
        smooth: float = 1.0,
        from_logits: bool = False,
        name: str = "dice_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.smooth = float(smooth)
        self.from_logits = bool(from_logits)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss."""
        return dice_loss(y_true, y_pred, smooth=self.smooth, from_logits=self.from_logits)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        config: dict[str, Any] = super().get_config()
        config.update(smooth=self.smooth, from_logits=self.from_logits)
        return config


@keras.saving.register_keras_serializable(package="neuroseg")
class DiceBCELoss(keras.losses.Loss):
    """Soft Dice plus binary cross-entropy; see :func:`dice_bce_loss`.

    Args:
        smooth: Additive smoothing of the Dice term.
        bce_weight: Weight of the cross-entropy term.
        from_logits: Whether predictions are logits.
    """

    def __init__(
        self,
        *,
        smooth: float = 1.0,
        bce_weight: float = 1.0,
        from_logits: bool = False,
        name: str = "dice_bce_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.smooth = float(smooth)
        self.bce_weight = float(bce_weight)
        self.from_logits = bool(from_logits)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss."""
        return dice_bce_loss(
            y_true,
            y_pred,
            smooth=self.smooth,
            bce_weight=self.bce_weight,
            from_logits=self.from_logits,
        )

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        config: dict[str, Any] = super().get_config()
        config.update(smooth=self.smooth, bce_weight=self.bce_weight, from_logits=self.from_logits)
        return config
