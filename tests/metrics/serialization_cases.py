"""Serialisation cases for neuroseg.metrics, used by tests/test_serialization.py.

METRIC_CASES: (id, factory). LOSS_CASES: (id, factory); losses are also compared on data.
"""

from neuroseg import metrics

METRIC_CASES = [
    ("Dice", lambda: metrics.Dice(threshold=0.4)),
    ("IoU", lambda: metrics.IoU(from_logits=True)),
    ("Precision", lambda: metrics.Precision()),
    ("Recall", lambda: metrics.Recall()),
    ("Specificity", lambda: metrics.Specificity(threshold=0.3)),
    ("Dice-multiclass", lambda: metrics.Dice(num_classes=4, class_id=2)),
    ("IoU-multiclass", lambda: metrics.IoU(num_classes=3, include_background=False)),
]

LOSS_CASES = [
    ("DiceLoss", lambda: metrics.DiceLoss(smooth=2.0)),
    ("DiceBCELoss", lambda: metrics.DiceBCELoss(bce_weight=0.5)),
    ("DiceLoss-weights", lambda: metrics.DiceLoss(class_weights=[0.5, 1.0])),
    ("FocalLoss", lambda: metrics.FocalLoss(gamma=1.5, class_weights=[0.25, 0.75])),
    ("TverskyLoss", lambda: metrics.TverskyLoss(alpha=0.4, beta=0.6, smooth=0.5)),
    ("FocalTverskyLoss", lambda: metrics.FocalTverskyLoss(gamma=1.2, from_logits=True)),
]
