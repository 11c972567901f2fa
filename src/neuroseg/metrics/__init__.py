"""Metrics and losses for segmentation and classification.

Functional segmentation metrics (:func:`dice`, :func:`iou`, :func:`precision`,
:func:`recall`, :func:`specificity`, :func:`hd95`, :func:`assd`, and the localisation
metrics :func:`box_iou` and :func:`centroid_distance`) take NumPy arrays or
tensors, binary or multi-class, and make aggregation and empty-mask handling explicit. The
Keras classes (:class:`Dice`, :class:`IoU`, :class:`Precision`, :class:`Recall`) stream the
pooled value during training. Losses have a pure function and a Keras class each.
Classification metrics and the evaluation reports (:func:`evaluate_segmentation`,
:func:`evaluate_classification`) are NumPy-based; so are the calibration metrics
(:func:`expected_calibration_error`, :func:`maximum_calibration_error`, :func:`brier_score`,
:func:`negative_log_likelihood`, :func:`reliability_curve`).

Example:
    >>> import numpy as np
    >>> from neuroseg.metrics import dice
    >>> dice(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]]))
    0.6666666666666666
"""

# ruff: noqa: E402
# TensorFlow is imported first, quietly (see neuroseg.logs), then the modules using it.
import neuroseg.logs

neuroseg.logs.import_tensorflow()

from neuroseg.metrics.calibration import (
    ReliabilityCurve,
    brier_score,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_curve,
)
from neuroseg.metrics.classification import (
    ClassificationReport,
    accuracy,
    balanced_accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_f1,
    recall_by_group,
    roc_auc,
)
from neuroseg.metrics.comparison import PairedDifference, compare_evaluations, paired_difference
from neuroseg.metrics.distance import assd, hd95
from neuroseg.metrics.evaluation import (
    LOWER_IS_BETTER,
    SEGMENTATION_METRICS,
    EvaluationResult,
    evaluate_classification,
    evaluate_segmentation,
    jsonable,
    segmentation_by_class,
)
from neuroseg.metrics.localisation import BoxIoU, CentroidDistance, box_iou, centroid_distance
from neuroseg.metrics.losses import (
    DiceBCELoss,
    DiceLoss,
    FocalLoss,
    FocalTverskyLoss,
    TverskyLoss,
    dice_bce_loss,
    dice_loss,
    focal_loss,
    focal_tversky_loss,
    tversky_loss,
)
from neuroseg.metrics.overlap import (
    confusion_counts,
    dice,
    iou,
    precision,
    recall,
    scores_from_counts,
    specificity,
)
from neuroseg.metrics.pooling import pool_items
from neuroseg.metrics.result import MetricResult
from neuroseg.metrics.streaming import Dice, IoU, Precision, Recall, Specificity

__all__ = [
    "LOWER_IS_BETTER",
    "SEGMENTATION_METRICS",
    "BoxIoU",
    "CentroidDistance",
    "ClassificationReport",
    "Dice",
    "DiceBCELoss",
    "DiceLoss",
    "EvaluationResult",
    "FocalLoss",
    "FocalTverskyLoss",
    "IoU",
    "MetricResult",
    "PairedDifference",
    "Precision",
    "Recall",
    "ReliabilityCurve",
    "Specificity",
    "TverskyLoss",
    "accuracy",
    "assd",
    "balanced_accuracy",
    "box_iou",
    "brier_score",
    "centroid_distance",
    "classification_report",
    "compare_evaluations",
    "confusion_counts",
    "confusion_matrix",
    "dice",
    "dice_bce_loss",
    "dice_loss",
    "evaluate_classification",
    "evaluate_segmentation",
    "expected_calibration_error",
    "focal_loss",
    "focal_tversky_loss",
    "hd95",
    "iou",
    "jsonable",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "paired_difference",
    "pool_items",
    "precision",
    "precision_recall_f1",
    "recall",
    "recall_by_group",
    "reliability_curve",
    "roc_auc",
    "scores_from_counts",
    "segmentation_by_class",
    "specificity",
    "tversky_loss",
]
