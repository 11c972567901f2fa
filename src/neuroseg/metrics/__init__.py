"""Metrics and losses for segmentation.

Functional metrics (:func:`dice`, :func:`iou`, :func:`precision`, :func:`recall`) take
NumPy arrays or tensors and make aggregation and empty-mask handling explicit. The Keras
classes (:class:`Dice`, :class:`IoU`, :class:`Precision`, :class:`Recall`) stream the
pooled value during training. Losses have a pure function and a Keras class each.

Example:
    >>> import numpy as np
    >>> from neuroseg.metrics import dice
    >>> dice(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]]))
    0.6666666666666666
"""

from neuroseg.metrics.losses import DiceBCELoss, DiceLoss, dice_bce_loss, dice_loss
from neuroseg.metrics.overlap import confusion_counts, dice, iou, precision, recall
from neuroseg.metrics.streaming import Dice, IoU, Precision, Recall

__all__ = [
    "Dice",
    "DiceBCELoss",
    "DiceLoss",
    "IoU",
    "Precision",
    "Recall",
    "confusion_counts",
    "dice",
    "dice_bce_loss",
    "dice_loss",
    "iou",
    "precision",
    "recall",
]
