"""Serialisation cases for neuroseg.metrics, used by tests/test_serialization.py.

METRIC_CASES: (id, factory). LOSS_CASES: (id, factory); losses are also compared on data.
"""

from neuroseg import metrics

METRIC_CASES = [
    ("Dice", lambda: metrics.Dice(threshold=0.4)),
    ("IoU", lambda: metrics.IoU(from_logits=True)),
    ("Precision", lambda: metrics.Precision()),
    ("Recall", lambda: metrics.Recall()),
]

LOSS_CASES = [
    ("DiceLoss", lambda: metrics.DiceLoss(smooth=2.0)),
    ("DiceBCELoss", lambda: metrics.DiceBCELoss(bce_weight=0.5)),
]
