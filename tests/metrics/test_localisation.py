import math

import numpy as np
import pytest

from neuroseg.data import read_mask
from neuroseg.errors import ConfigError
from neuroseg.metrics import (
    BoxIoU,
    CentroidDistance,
    box_iou,
    centroid_distance,
    evaluate_segmentation,
)


def _pair():
    t = np.zeros((3, 10, 10), np.uint8)
    p = np.zeros_like(t)
    t[0, 2:6, 2:6] = 1  # box area 16
    p[0, 4:8, 4:8] = 1  # overlap 2x2 = 4: IoU 4 / 28
    t[1, 1, 1] = 1  # truth only
    return t, p  # image 2: both empty


def test_box_iou_by_hand_and_empty_rules():
    t, p = _pair()
    v = box_iou(t, p, reduction="none")
    assert v == pytest.approx([4 / 28, 0.0, 1.0])
    assert box_iou(t, p) == pytest.approx((4 / 28 + 1.0) / 3)
    nan = box_iou(t, p, reduction="none", empty="nan")
    assert nan[:2] == pytest.approx([4 / 28, 0.0]) and math.isnan(nan[2])
    assert box_iou(t, p, empty="nan") == pytest.approx(2 / 28)
    # the box of all components: two far dots give one big box
    a = np.zeros((10, 10))
    a[0, 0] = a[9, 9] = 1
    b = np.zeros((10, 10))
    b[0:10, 0:10] = 1
    assert box_iou(a, b) == 1.0


def test_centroid_distance_by_hand_and_empty_rules():
    t, p = _pair()
    v = centroid_distance(t, p, reduction="none", spacing=(0.5, 1.0))
    # centroids (3.5, 3.5) and (5.5, 5.5): 2 rows (1 mm) and 2 cols (2 mm)
    assert v[0] == pytest.approx(math.hypot(1.0, 2.0))
    assert v[1] == pytest.approx(math.hypot(10 * 0.5, 10 * 1.0))  # the diagonal
    assert v[2] == 0.0
    nan = centroid_distance(t, p, reduction="none", empty="nan")
    assert nan[0] == pytest.approx(math.sqrt(8)) and np.isnan(nan[1:]).all()
    assert centroid_distance(t, p, reduction="per_patient", groups=["a", "a", "b"]) == (
        pytest.approx(((math.sqrt(8) + math.hypot(10, 10)) / 2 + 0.0) / 2)
    )


def test_multiclass_gives_one_value_per_class():
    t = np.zeros((1, 6, 6), np.int64)
    t[0, :2, :2] = 1
    t[0, 4:, 4:] = 2
    v = box_iou(t, t, num_classes=3, include_background=False)
    assert v.shape == (2,) and (v == 1).all()


def test_bad_options_say_what_to_do():
    t, p = _pair()
    with pytest.raises(ConfigError, match="locates nothing"):
        box_iou(t, p, reduction="pooled")
    with pytest.raises(ConfigError, match="groups"):
        centroid_distance(t, p, reduction="per_patient")
    with pytest.raises(ConfigError, match="spacing"):
        centroid_distance(t, p, spacing=(1.0, -1.0))


def test_cumulative_classes():
    t, p = _pair()
    m = BoxIoU()
    m(t[:1], p[:1])
    m(t[1:], p[1:])
    assert m.values == pytest.approx([4 / 28, 0.0, 1.0])
    assert m.aggregate() == pytest.approx(box_iou(t, p))
    m.reset()
    assert math.isnan(m.aggregate())
    c = CentroidDistance(empty="nan")
    c(t, p)
    assert c.aggregate() == pytest.approx(math.sqrt(8))


def test_evaluation_table_and_summary_on_real_masks(figshare_root):
    # Two real Figshare masks; the prediction is each truth shifted 10 pixels right.
    truths = [read_mask(figshare_root / "masks" / f"{i}.png") for i in (1, 2)]
    preds = [np.roll(m, 10, axis=1) for m in truths]
    r = evaluate_segmentation(
        truths, preds, metrics=["dice", "box_iou", "centroid_distance"], n_bootstrap=20
    )
    assert r.table["centroid_distance"] == pytest.approx([10.0, 10.0])
    for i, m in enumerate(truths):
        rows, cols = np.nonzero(m)
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        inter = h * max(w - 10, 0)
        assert r.table["box_iou"][i] == pytest.approx(inter / (2 * h * w - inter))
    block = r.summary["metrics"]["box_iou"]
    assert math.isnan(block["pooled"]) and block["per_image"]["n"] == 2
    text = r.format()
    assert "box IoU" in text and "centroid distance (px)" in text
    assert "no pooled value" in text
