"""Streaming Keras metrics for training: pooled Dice, IoU, precision and recall.

Each metric accumulates TP, FP and FN over every batch it sees (sum-aggregated variables,
so they are reduced across replicas under ``tf.distribute``). Its value after a full pass
equals the functional metric with ``reduction="pooled"``, whatever the batch split.
If nothing positive was seen at all, the value is 1.0, as for the functional ``empty="one"``
rule.

Binary by default (``num_classes=None``): ``y_pred`` is a probability (or logit, with
``from_logits=True``) map binarised at ``threshold``. Multi-class (``num_classes=C``):
``y_pred`` is ``(B, H, W, C)`` scores turned into labels by ``argmax``; ``y_true`` is a label
map (``(B, H, W)`` or ``(B, H, W, 1)``) or one-hot ``(B, H, W, C)``. Counts are kept per
class; the value is the pooled value of class ``class_id`` if given, else the mean of the
per-class pooled values (over classes ``0..C-1``, or ``1..C-1`` with
``include_background=False``), i.e. the mean of the functional pooled array.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from neuroseg.errors import ConfigError

__all__ = ["Dice", "IoU", "Precision", "Recall", "Specificity"]


class _PooledOverlap(keras.metrics.Metric):
    """Accumulates confusion counts of a binary or multi-class segmentation."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        from_logits: bool = False,
        num_classes: int | None = None,
        class_id: int | None = None,
        include_background: bool = True,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if num_classes is not None and num_classes < 2:
            raise ConfigError(f"num_classes must be at least 2 (or None), got {num_classes}")
        if class_id is not None and (num_classes is None or not 0 <= class_id < num_classes):
            raise ConfigError(
                f"class_id={class_id} needs num_classes= and must lie in 0..num_classes-1"
            )
        self.threshold = float(threshold)
        self.from_logits = bool(from_logits)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.class_id = None if class_id is None else int(class_id)
        self.include_background = bool(include_background)
        shape = () if self.num_classes is None else (self.num_classes,)
        self.tp = self.add_variable(shape=shape, initializer="zeros", name="tp", aggregation="sum")
        self.fp = self.add_variable(shape=shape, initializer="zeros", name="fp", aggregation="sum")
        self.fn = self.add_variable(shape=shape, initializer="zeros", name="fn", aggregation="sum")

    def _binarized(self, y_true: Any, y_pred: Any) -> tuple[Any, Any, Any]:
        """0/1 truth and prediction (one-hot for multi-class) and the axes to sum over."""
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true)
        if self.num_classes is None:
            if self.from_logits:
                y_pred = ops.sigmoid(y_pred)
            p = ops.cast(ops.greater_equal(y_pred, self.threshold), "float32")
            t = ops.cast(ops.greater(y_true, 0.5), "float32")
            return ops.reshape(t, ops.shape(p)), p, None
        c = self.num_classes
        p = ops.one_hot(ops.argmax(y_pred, axis=-1), c, dtype="float32")
        if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == c:
            t = ops.cast(y_true, "float32")
        else:
            labels = ops.reshape(ops.cast(y_true, "int32"), ops.shape(p)[:-1])
            t = ops.one_hot(labels, c, dtype="float32")
        return t, p, tuple(range(len(p.shape) - 1))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch's counts (``sample_weight`` is not supported and must be None)."""
        if sample_weight is not None:
            raise ConfigError(f"{type(self).__name__} does not support sample_weight.")
        t, p, axes = self._binarized(y_true, y_pred)
        self.tp.assign_add(ops.sum(t * p, axis=axes))
        self.fp.assign_add(ops.sum((1.0 - t) * p, axis=axes))
        self.fn.assign_add(ops.sum(t * (1.0 - p), axis=axes))

    def _values(self) -> Any:
        raise NotImplementedError

    def result(self) -> Any:
        """The pooled value so far (multi-class: of ``class_id`` or the class mean)."""
        values = self._values()
        if self.num_classes is None:
            return values
        if self.class_id is not None:
            return values[self.class_id]
        return ops.mean(values if self.include_background else values[1:])

    def _ratio(self, num: Any, den: Any) -> Any:
        """``num / den``; where ``den`` is 0: 1.0 if nothing was seen, else 0.0."""
        both_empty = ops.equal(self.tp + self.fp + self.fn, 0.0)
        return ops.where(den > 0, num / ops.maximum(den, 1.0), ops.where(both_empty, 1.0, 0.0))

    def reset_state(self) -> None:
        """Zero the counts."""
        for v in (self.tp, self.fp, self.fn):
            v.assign(ops.zeros(v.shape, dtype=v.dtype))

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "threshold": self.threshold,
            "from_logits": self.from_logits,
            "num_classes": self.num_classes,
            "class_id": self.class_id,
            "include_background": self.include_background,
        }


@keras.saving.register_keras_serializable(package="neuroseg")
class Dice(_PooledOverlap):
    """Pooled Dice ``2·TP / (2·TP + FP + FN)`` over all batches.

    Keyword options, shared by :class:`Dice`, :class:`IoU`, :class:`Precision` and
    :class:`Recall`:

    - ``threshold`` (0.5): foreground if ``probability >= threshold`` (binary);
    - ``from_logits`` (False): apply a sigmoid first (binary);
    - ``num_classes`` (None): number of classes for multi-class scores ``(B, H, W, C)``;
    - ``class_id`` (None): report this class only (multi-class); default the class mean;
    - ``include_background`` (True): include class 0 in the class mean (multi-class);
    - ``name``, ``dtype``: as for any Keras metric.

    Example:
        >>> import numpy as np
        >>> m = Dice()
        >>> m.update_state(np.array([[1.0, 1.0, 0.0]]), np.array([[0.9, 0.2, 0.1]]))
        >>> round(float(m.result()), 4)
        0.6667
    """

    def __init__(self, *, name: str = "dice", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def _values(self) -> Any:
        return self._ratio(2.0 * self.tp, 2.0 * self.tp + self.fp + self.fn)


@keras.saving.register_keras_serializable(package="neuroseg")
class IoU(_PooledOverlap):
    """Pooled intersection over union ``TP / (TP + FP + FN)``; arguments as :class:`Dice`.

    Example:
        >>> import numpy as np
        >>> m = IoU(num_classes=3, class_id=2)
        >>> m.update_state(np.array([[0, 2, 2]]), np.eye(3)[[[0, 2, 1]]])
        >>> float(m.result())
        0.5
    """

    def __init__(self, *, name: str = "iou", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def _values(self) -> Any:
        return self._ratio(self.tp, self.tp + self.fp + self.fn)


@keras.saving.register_keras_serializable(package="neuroseg")
class Precision(_PooledOverlap):
    """Pooled precision ``TP / (TP + FP)``; arguments as :class:`Dice`.

    1.0 if nothing positive was seen; 0.0 if truth was seen but nothing predicted.

    Example:
        >>> import numpy as np
        >>> m = Precision()
        >>> m.update_state(np.array([[1.0, 0.0]]), np.array([[0.9, 0.8]]))
        >>> float(m.result())
        0.5
    """

    def __init__(self, *, name: str = "precision", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def _values(self) -> Any:
        return self._ratio(self.tp, self.tp + self.fp)


@keras.saving.register_keras_serializable(package="neuroseg")
class Recall(_PooledOverlap):
    """Pooled recall ``TP / (TP + FN)``; arguments as :class:`Dice`.

    1.0 if nothing positive was seen; 0.0 if something was predicted but no truth seen.

    Example:
        >>> import numpy as np
        >>> m = Recall()
        >>> m.update_state(np.array([[1.0, 1.0]]), np.array([[0.9, 0.1]]))
        >>> float(m.result())
        0.5
    """

    def __init__(self, *, name: str = "recall", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def _values(self) -> Any:
        return self._ratio(self.tp, self.tp + self.fn)


@keras.saving.register_keras_serializable(package="neuroseg")
class Specificity(_PooledOverlap):
    """Pooled specificity ``TN / (TN + FP)``; options as :class:`Dice`.

    Also counts true negatives. 1.0 if no background pixel was seen in truth nor
    prediction; 0.0 if only the prediction had background (the functional mirror rule).

    Example:
        >>> import numpy as np
        >>> m = Specificity()
        >>> m.update_state(np.array([[1.0, 0.0, 0.0]]), np.array([[0.9, 0.8, 0.1]]))
        >>> float(m.result())
        0.5
    """

    def __init__(self, *, name: str = "specificity", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        shape = () if self.num_classes is None else (self.num_classes,)
        self.tn = self.add_variable(shape=shape, initializer="zeros", name="tn", aggregation="sum")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch's counts, true negatives included."""
        super().update_state(y_true, y_pred, sample_weight)
        t, p, axes = self._binarized(y_true, y_pred)
        self.tn.assign_add(ops.sum((1.0 - t) * (1.0 - p), axis=axes))

    def reset_state(self) -> None:
        """Zero the counts."""
        super().reset_state()
        self.tn.assign(ops.zeros(self.tn.shape, dtype=self.tn.dtype))

    def _values(self) -> Any:
        den = self.tn + self.fp
        both_empty = ops.equal(self.tn + self.fp + self.fn, 0.0)
        return ops.where(den > 0, self.tn / ops.maximum(den, 1.0), ops.where(both_empty, 1.0, 0.0))
