"""Segmentation losses: Dice, Dice + cross-entropy, focal, Tversky and focal Tversky.

Each loss has a pure function (``keras.ops`` only, one value per sample) and a registered
:class:`keras.losses.Loss` class for ``model.compile``.

Inputs:
    Binary: ``y_pred`` is one probability per pixel (``(B, H, W, 1)``, or any shape whose
    last axis is 1 or which has fewer than four axes), or logits with ``from_logits=True``
    (sigmoid). ``y_true`` holds 0/1 of the same size.
    Multi-class: ``y_pred`` is ``(B, H, W, C)`` with ``C > 1``: probabilities, or logits with
    ``from_logits=True`` (softmax over the last axis). ``y_true`` is one-hot ``(B, H, W, C)``
    or an integer label map ``(B, H, W)`` / ``(B, H, W, 1)``.

Class weights (``class_weights``, one per class):
    Region losses (Dice, Tversky, focal Tversky) are computed per class and per sample and
    combined as ``Σ w_c·L_c / Σ w_c``. Multi-class default: every class weighs 1. Binary
    inputs are the classes (background, foreground) with default weights ``(0, 1)``, i.e.
    the foreground loss alone; pass two weights to include the background.
    Pixel losses (cross-entropy, focal) multiply each pixel's loss by the weight of its true
    class and average over pixels (no renormalisation). Default: no weighting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from neuroseg.errors import ConfigError

__all__ = [
    "DiceBCELoss",
    "DiceLoss",
    "FocalLoss",
    "FocalTverskyLoss",
    "TverskyLoss",
    "dice_bce_loss",
    "dice_loss",
    "focal_loss",
    "focal_tversky_loss",
    "tversky_loss",
]

_EPS = 1e-7


def _is_multiclass(y_pred: Any) -> bool:
    return len(y_pred.shape) >= 4 and y_pred.shape[-1] is not None and y_pred.shape[-1] > 1


def _weights(class_weights: Sequence[float] | None, k: int, default: Sequence[float]) -> Any:
    w = list(default) if class_weights is None else [float(x) for x in class_weights]
    if len(w) != k:
        raise ConfigError(
            f"class_weights has {len(w)} values but the inputs have {k} classes "
            "(binary inputs: two values, background then foreground)"
        )
    if any(x < 0 for x in w) or sum(w) <= 0:
        raise ConfigError(f"class_weights must be non-negative with a positive sum, got {w}")
    return ops.convert_to_tensor(w, dtype="float32")


def _truth_like(y_true: Any, y_pred: Any) -> Any:
    """Truth as float with the shape of ``y_pred`` (one-hot for multi-class)."""
    y_true = ops.convert_to_tensor(y_true)
    if _is_multiclass(y_pred):
        c = y_pred.shape[-1]
        if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == c:
            return ops.cast(y_true, y_pred.dtype)
        labels = ops.reshape(ops.cast(y_true, "int32"), ops.shape(y_pred)[:-1])
        return ops.one_hot(labels, c, dtype=y_pred.dtype)
    return ops.cast(ops.reshape(y_true, ops.shape(y_pred)), y_pred.dtype)


def _probs(y_pred: Any, from_logits: bool) -> Any:
    if not from_logits:
        return y_pred
    return ops.softmax(y_pred, axis=-1) if _is_multiclass(y_pred) else ops.sigmoid(y_pred)


def _region_sums(y_true: Any, y_pred: Any, from_logits: bool) -> tuple[Any, Any, Any]:
    """Per sample and class: soft TP, Σtruth, Σprediction, shape (B, K)."""
    y_pred = ops.convert_to_tensor(y_pred)
    t = _truth_like(y_true, y_pred)
    p = _probs(y_pred, from_logits)
    if _is_multiclass(y_pred):
        axes = tuple(range(1, len(p.shape) - 1))
        return ops.sum(t * p, axis=axes), ops.sum(t, axis=axes), ops.sum(p, axis=axes)
    axes = tuple(range(1, len(p.shape)))
    total = ops.sum(ops.ones_like(p), axis=axes)
    inter, st, sp = ops.sum(t * p, axis=axes), ops.sum(t, axis=axes), ops.sum(p, axis=axes)
    # class 0 = background (complements), class 1 = foreground
    bg_inter = total - st - sp + inter
    return (
        ops.stack([bg_inter, inter], axis=-1),
        ops.stack([total - st, st], axis=-1),
        ops.stack([total - sp, sp], axis=-1),
    )


def _ratio_loss(num: Any, den: Any) -> Any:
    """``1 - num / den``, and 0 where ``den`` is 0 (empty truth and prediction, no smoothing)."""
    safe = ops.where(den > 0, den, ops.ones_like(den))
    return ops.where(den > 0, 1.0 - num / safe, ops.zeros_like(den))


def _combine(per_class: Any, class_weights: Sequence[float] | None, multiclass: bool) -> Any:
    k = per_class.shape[-1]
    w = _weights(class_weights, k, [1.0] * k if multiclass else [0.0, 1.0])
    w = ops.cast(w, per_class.dtype)
    return ops.sum(per_class * w, axis=-1) / ops.sum(w)


def dice_loss(
    y_true: Any,
    y_pred: Any,
    *,
    smooth: float = 1.0,
    from_logits: bool = False,
    class_weights: Sequence[float] | None = None,
) -> Any:
    """Soft Dice loss per sample: ``1 - (2·Σtp + s) / (Σt + Σp + s)`` per class, weighted.

    Sums run over all axes but the batch (and class) axis. ``smooth`` keeps empty masks
    finite: an empty truth with an empty prediction costs 0.

    Example:
        >>> import numpy as np
        >>> t = np.ones((1, 2, 2, 1), "float32")
        >>> float(dice_loss(t, t, smooth=0.0)[0])
        0.0
    """
    y_pred = ops.convert_to_tensor(y_pred)
    inter, st, sp = _region_sums(y_true, y_pred, from_logits)
    per_class = _ratio_loss(2.0 * inter + smooth, st + sp + smooth)
    return _combine(per_class, class_weights, _is_multiclass(y_pred))


def tversky_loss(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: float = 0.3,
    beta: float = 0.7,
    smooth: float = 1.0,
    from_logits: bool = False,
    class_weights: Sequence[float] | None = None,
) -> Any:
    """Tversky loss per sample: ``1 - (TP + s) / (TP + α·FP + β·FN + s)`` (Salehi 2017).

    ``alpha`` weighs false positives and ``beta`` false negatives; ``alpha = beta = 0.5`` is
    the Dice loss. The default ``beta > alpha`` favours recall (small tumours).

    Example:
        >>> import numpy as np
        >>> t = np.array([[[[1.0], [1.0], [0.0], [0.0]]]], "float32")
        >>> p = np.array([[[[1.0], [0.0], [1.0], [0.0]]]], "float32")
        >>> round(float(tversky_loss(t, p, smooth=0.0)[0]), 4)  # 1 - 1 / (1 + 0.3 + 0.7)
        0.5
    """
    y_pred = ops.convert_to_tensor(y_pred)
    inter, st, sp = _region_sums(y_true, y_pred, from_logits)
    den = inter + alpha * (sp - inter) + beta * (st - inter) + smooth
    return _combine(_ratio_loss(inter + smooth, den), class_weights, _is_multiclass(y_pred))


def focal_tversky_loss(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: float = 0.3,
    beta: float = 0.7,
    gamma: float = 0.75,
    smooth: float = 1.0,
    from_logits: bool = False,
    class_weights: Sequence[float] | None = None,
) -> Any:
    """Focal Tversky loss per sample: ``(1 - TI)^γ`` per class (Abraham & Khan 2019).

    ``TI`` is the Tversky index of :func:`tversky_loss`; ``gamma = 0.75`` is the paper's
    ``1/γ`` with ``γ = 4/3``. ``gamma = 1`` is the Tversky loss.

    Example:
        >>> import numpy as np
        >>> t = np.array([[[[1.0], [1.0], [0.0], [0.0]]]], "float32")
        >>> p = np.array([[[[1.0], [0.0], [1.0], [0.0]]]], "float32")
        >>> round(float(focal_tversky_loss(t, p, smooth=0.0, gamma=2.0)[0]), 4)
        0.25
    """
    y_pred = ops.convert_to_tensor(y_pred)
    inter, st, sp = _region_sums(y_true, y_pred, from_logits)
    den = inter + alpha * (sp - inter) + beta * (st - inter) + smooth
    per_class = ops.power(ops.maximum(_ratio_loss(inter + smooth, den), 0.0), gamma)
    return _combine(per_class, class_weights, _is_multiclass(y_pred))


def _pixel_log_pt(y_true: Any, y_pred: Any, from_logits: bool) -> tuple[Any, Any, Any]:
    """Per-pixel log-probability of the true class.

    Returns ``(log_pt, t, multiclass)`` where ``log_pt`` has the pixel shape (no class
    axis) and ``t`` is the truth like ``y_pred``.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    t = _truth_like(y_true, y_pred)
    multi = _is_multiclass(y_pred)
    if multi:
        if from_logits:
            logp = ops.log_softmax(y_pred, axis=-1)
        else:
            logp = ops.log(ops.clip(y_pred, _EPS, 1.0))
        return ops.sum(t * logp, axis=-1), t, multi
    if from_logits:
        log_p, log_q = ops.log_sigmoid(y_pred), ops.log_sigmoid(-y_pred)
    else:
        p = ops.clip(y_pred, _EPS, 1.0 - _EPS)
        log_p, log_q = ops.log(p), ops.log(1.0 - p)
    return t * log_p + (1.0 - t) * log_q, t, multi


def _pixel_weights(t: Any, multi: bool, class_weights: Sequence[float] | None) -> Any:
    if class_weights is None:
        return None
    if multi:
        w = ops.cast(_weights(class_weights, t.shape[-1], class_weights), t.dtype)
        return ops.sum(t * w, axis=-1)
    w = ops.cast(_weights(class_weights, 2, class_weights), t.dtype)
    return (1.0 - t) * w[0] + t * w[1]


def _pixel_mean(values: Any) -> Any:
    axes = tuple(range(1, len(values.shape)))
    return ops.mean(values, axis=axes) if axes else values


def _cross_entropy(
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    class_weights: Sequence[float] | None = None,
) -> Any:
    """Mean pixel cross-entropy per sample: binary (sigmoid) or categorical (softmax).

    Example:
        >>> import numpy as np
        >>> t = np.array([[[[1.0], [0.0]]]], "float32")
        >>> p = np.array([[[[0.5], [0.5]]]], "float32")
        >>> round(float(_cross_entropy(t, p)[0]), 4)  # ln 2
        0.6931
    """
    log_pt, t, multi = _pixel_log_pt(y_true, y_pred, from_logits)
    loss = -log_pt
    w = _pixel_weights(t, multi, class_weights)
    if w is not None:
        loss = loss * w
    if not multi and len(loss.shape) >= 2:
        loss = ops.mean(loss, axis=-1)  # the channel axis of size 1, as Keras BCE
    return _pixel_mean(loss)


def focal_loss(
    y_true: Any,
    y_pred: Any,
    *,
    gamma: float = 2.0,
    from_logits: bool = False,
    class_weights: Sequence[float] | None = None,
) -> Any:
    """Focal loss per sample: mean over pixels of ``-w·(1 - p_t)^γ·log p_t`` (Lin 2017).

    ``p_t`` is the predicted probability of the true class; ``class_weights`` plays the role
    of the paper's ``α`` (binary: ``(1 - α, α)``). ``gamma = 0`` is the cross-entropy.

    Example:
        >>> import numpy as np
        >>> t = np.array([[[[1.0], [0.0]]]], "float32")
        >>> p = np.array([[[[0.5], [0.5]]]], "float32")
        >>> round(float(focal_loss(t, p)[0]), 4)  # 0.25 · ln 2
        0.1733
    """
    log_pt, t, multi = _pixel_log_pt(y_true, y_pred, from_logits)
    loss = -ops.power(1.0 - ops.exp(log_pt), gamma) * log_pt
    w = _pixel_weights(t, multi, class_weights)
    if w is not None:
        loss = loss * w
    if not multi and len(loss.shape) >= 2:
        loss = ops.mean(loss, axis=-1)
    return _pixel_mean(loss)


def dice_bce_loss(
    y_true: Any,
    y_pred: Any,
    *,
    smooth: float = 1.0,
    bce_weight: float = 1.0,
    from_logits: bool = False,
    class_weights: Sequence[float] | None = None,
) -> Any:
    """Soft Dice plus ``bce_weight`` × mean cross-entropy, per sample.

    Binary inputs use binary cross-entropy, multi-class inputs categorical cross-entropy;
    ``class_weights`` applies to both terms (see the module docs).

    Example:
        >>> import numpy as np
        >>> t = np.array([[[[1.0], [0.0]]]], "float32")
        >>> p = np.array([[[[0.5], [0.5]]]], "float32")
        >>> round(float(dice_bce_loss(t, p, smooth=0.0)[0]), 4)  # (1 - 1/2) + ln 2
        1.1931
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true_t = _truth_like(y_true, y_pred)
    ce = _cross_entropy(y_true_t, y_pred, from_logits=from_logits, class_weights=class_weights)
    d = dice_loss(
        y_true_t, y_pred, smooth=smooth, from_logits=from_logits, class_weights=class_weights
    )
    return d + bce_weight * ce


class _NeurosegLoss(keras.losses.Loss):
    """Stores ``from_logits`` and ``class_weights`` and serialises the options."""

    _options: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        from_logits: bool = False,
        class_weights: Sequence[float] | None = None,
        name: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.from_logits = bool(from_logits)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]

    def _kwargs(self) -> dict[str, Any]:
        return {
            "from_logits": self.from_logits,
            "class_weights": self.class_weights,
            **{k: getattr(self, k) for k in self._options},
        }

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        config: dict[str, Any] = super().get_config()
        config.update(self._kwargs())
        return config


@keras.saving.register_keras_serializable(package="neuroseg")
class DiceLoss(_NeurosegLoss):
    """Soft Dice loss; see :func:`dice_loss`.

    Args:
        smooth: Additive smoothing.
        from_logits: Whether predictions are logits.
        class_weights: One weight per class (binary: background, foreground).
        name: Loss name.
        **kwargs: Passed to :class:`keras.losses.Loss` (e.g. ``reduction``).

    Example:
        >>> import numpy as np
        >>> t = np.ones((1, 2, 2, 1), "float32")
        >>> float(DiceLoss(smooth=0.0)(t, t))
        0.0
    """

    _options = ("smooth",)

    def __init__(
        self,
        *,
        smooth: float = 1.0,
        from_logits: bool = False,
        class_weights: Sequence[float] | None = None,
        name: str = "dice_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(from_logits=from_logits, class_weights=class_weights, name=name, **kwargs)
        self.smooth = float(smooth)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss."""
        return dice_loss(y_true, y_pred, **self._kwargs())


@keras.saving.register_keras_serializable(package="neuroseg")
class DiceBCELoss(_NeurosegLoss):
    """Soft Dice plus (binary or categorical) cross-entropy; see :func:`dice_bce_loss`.

    Args:
        smooth: Additive smoothing of the Dice term.
        bce_weight: Weight of the cross-entropy term.
        from_logits: Whether predictions are logits.
        class_weights: One weight per class (binary: background, foreground).
        name: Loss name.
        **kwargs: Passed to :class:`keras.losses.Loss`.

    Example:
        >>> import numpy as np
        >>> t = np.eye(3, dtype="float32")[[[[0, 1], [2, 2]]]]  # one-hot (1, 2, 2, 3)
        >>> float(DiceBCELoss(smooth=0.0)(t, t)) < 1e-6
        True
    """

    _options = ("smooth", "bce_weight")

    def __init__(
        self,
        *,
        smooth: float = 1.0,
        bce_weight: float = 1.0,
        from_logits: bool = False,
        class_weights: Sequence[float] | None = None,
        name: str = "dice_bce_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(from_logits=from_logits, class_weights=class_weights, name=name, **kwargs)
        self.smooth = float(smooth)
        self.bce_weight = float(bce_weight)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss."""
        return dice_bce_loss(y_true, y_pred, **self._kwargs())


@keras.saving.register_keras_serializable(package="neuroseg")
class FocalLoss(_NeurosegLoss):
    """Focal loss; see :func:`focal_loss`.

    Args:
        gamma: Focusing parameter.
        from_logits: Whether predictions are logits.
        class_weights: One weight per class (the ``α`` of the paper).
        name: Loss name.
        **kwargs: Passed to :class:`keras.losses.Loss`.

    Example:
        >>> import numpy as np
        >>> t = np.array([[[[1.0], [0.0]]]], "float32")
        >>> round(float(FocalLoss(gamma=0.0)(t, np.full_like(t, 0.5))), 4)
        0.6931
    """

    _options = ("gamma",)

    def __init__(
        self,
        *,
        gamma: float = 2.0,
        from_logits: bool = False,
        class_weights: Sequence[float] | None = None,
        name: str = "focal_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(from_logits=from_logits, class_weights=class_weights, name=name, **kwargs)
        self.gamma = float(gamma)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss."""
        return focal_loss(y_true, y_pred, **self._kwargs())


@keras.saving.register_keras_serializable(package="neuroseg")
class TverskyLoss(_NeurosegLoss):
    """Tversky loss; see :func:`tversky_loss`.

    Args:
        alpha: Weight of false positives.
        beta: Weight of false negatives.
        smooth: Additive smoothing.
        from_logits: Whether predictions are logits.
        class_weights: One weight per class (binary: background, foreground).
        name: Loss name.
        **kwargs: Passed to :class:`keras.losses.Loss`.

    Example:
        >>> import numpy as np
        >>> t = np.ones((1, 2, 2, 1), "float32")
        >>> float(TverskyLoss()(t, t))
        0.0
    """

    _options = ("alpha", "beta", "smooth")

    def __init__(
        self,
        *,
        alpha: float = 0.3,
        beta: float = 0.7,
        smooth: float = 1.0,
        from_logits: bool = False,
        class_weights: Sequence[float] | None = None,
        name: str = "tversky_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(from_logits=from_logits, class_weights=class_weights, name=name, **kwargs)
        self.alpha, self.beta, self.smooth = float(alpha), float(beta), float(smooth)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss."""
        return tversky_loss(y_true, y_pred, **self._kwargs())


@keras.saving.register_keras_serializable(package="neuroseg")
class FocalTverskyLoss(_NeurosegLoss):
    """Focal Tversky loss; see :func:`focal_tversky_loss`.

    Args:
        alpha: Weight of false positives.
        beta: Weight of false negatives.
        gamma: Exponent applied to ``1 - TI``.
        smooth: Additive smoothing.
        from_logits: Whether predictions are logits.
        class_weights: One weight per class (binary: background, foreground).
        name: Loss name.
        **kwargs: Passed to :class:`keras.losses.Loss`.

    Example:
        >>> import numpy as np
        >>> t = np.ones((1, 2, 2, 1), "float32")
        >>> float(FocalTverskyLoss()(t, t))
        0.0
    """

    _options = ("alpha", "beta", "gamma", "smooth")

    def __init__(
        self,
        *,
        alpha: float = 0.3,
        beta: float = 0.7,
        gamma: float = 0.75,
        smooth: float = 1.0,
        from_logits: bool = False,
        class_weights: Sequence[float] | None = None,
        name: str = "focal_tversky_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(from_logits=from_logits, class_weights=class_weights, name=name, **kwargs)
        self.alpha, self.beta = float(alpha), float(beta)
        self.gamma, self.smooth = float(gamma), float(smooth)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss."""
        return focal_tversky_loss(y_true, y_pred, **self._kwargs())
