"""Streaming Keras metrics for training: pooled Dice, IoU, precision and recall.

Each metric accumulates TP, FP and FN over every batch it sees (sum-aggregated variables,
so they are reduced across replicas under ``tf.distribute``). Its value after a full pass
equals the functional metric with ``reduction="pooled"``, whatever the batch split.
If nothing positive was seen at all, the value is 1.0, as for the functional ``empty="one"``
rule.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["IoU", "Dice", "Precision", "Recall"]


class _PooledOverlap(keras.metrics.Metric):
    """Accumulates confusion counts of a binary segmentation."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        from_logits: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.threshold = float(threshold)
        self.from_logits = bool(from_logits)
        self.tp = self.add_variable(shape=(), initializer="zeros", name="tp", aggregation="sum")
        self.fp = self.add_variable(shape=(), initializer="zeros", name="fp", aggregation="sum")
        self.fn = self.add_variable(shape=(), initializer="zeros", name="fn", aggregation="sum")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch's counts (``sample_weight`` is not supported and must be None)."""
        y_pred = ops.convert_to_tensor(y_pred)
        if self.from_logits:
            y_pred = ops.sigmoid(y_pred)
        p = ops.cast(ops.greater_equal(y_pred, self.threshold), "float32")
        t = ops.cast(ops.greater(ops.convert_to_tensor(y_true), 0.5), "float32")
        t = ops.reshape(t, ops.shape(p))
        self.tp.assign_add(ops.sum(t * p))
        self.fp.assign_add(ops.sum((1.0 - t) * p))
        self.fn.assign_add(ops.sum(t * (1.0 - p)))

    def _ratio(self, num: Any, den: Any) -> Any:
        return ops.where(den > 0, num / ops.maximum(den, 1.0), 1.0)

    def reset_state(self) -> None:
        """Zero the counts."""
        for v in (self.tp, self.fp, self.fn):
            v.assign(ops.zeros((), dtype=v.dtype))

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "threshold": self.threshold,
            "from_logits": self.from_logits,
        }


@keras.saving.register_keras_serializable(package="neuroseg")
class Dice(_PooledOverlap):
    """Pooled Dice ``2·TP / (2·TP + FP + FN)`` over all batches.

    Example:
        >>> import numpy as np
        >>> m = Dice()
        >>> m.update_state(np.array([[1.0, 1.0, 0.0]]), np.array([[0.9, 0.2, 0.1]]))
        >>> round(float(m.result()), 4)
        0.6667
    """

    def __init__(self, *, name: str = "dice", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def result(self) -> Any:
        """The pooled Dice so far."""
        return self._ratio(2.0 * self.tp, 2.0 * self.tp + self.fp + self.fn)


@keras.saving.register_keras_serializable(package="neuroseg")
class IoU(_PooledOverlap):
    """Pooled intersection over union ``TP / (TP + FP + FN)`` over all batches."""

    def __init__(self, *, name: str = "iou", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def result(self) -> Any:
        """The pooled IoU so far."""
        return self._ratio(self.tp, self.tp + self.fp + self.fn)


@keras.saving.register_keras_serializable(package="neuroseg")
class Precision(_PooledOverlap):
    """Pooled precision ``TP / (TP + FP)`` over all batches (1.0 if nothing was seen)."""

    def __init__(self, *, name: str = "precision", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def result(self) -> Any:
        """The pooled precision so far."""
        return ops.where(
            self.tp + self.fp > 0,
            self.tp / ops.maximum(self.tp + self.fp, 1.0),
            ops.where(self.fn > 0, 0.0, 1.0),
        )


@keras.saving.register_keras_serializable(package="neuroseg")
class Recall(_PooledOverlap):
    """Pooled recall ``TP / (TP + FN)`` over all batches (1.0 if nothing was seen)."""

    def __init__(self, *, name: str = "recall", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def result(self) -> Any:
        """The pooled recall so far."""
        return ops.where(
            self.tp + self.fn > 0,
            self.tp / ops.maximum(self.tp + self.fn, 1.0),
            ops.where(self.fp > 0, 0.0, 1.0),
        )
