"""pool_items: several folds' held-out item rows pooled into one result (hand-computed)."""

import math

import numpy as np
import pytest

from neuroseg.errors import ConfigError, DataError, EmptyDatasetError
from neuroseg.metrics import dice, pool_items


def _row(source, truth, pred, tp, **extra):
    """A segmentation row as neuroseg evaluate writes it, from its counts."""
    both = truth + pred
    d = 1.0 if both == 0 else 2 * tp / both
    return {
        "source": source,
        "dice": round(d, 6),
        "iou": 1.0 if both == 0 else tp / (both - tp),
        "precision": 1.0 if both == 0 else (tp / pred if pred else 0.0),
        "recall": 1.0 if both == 0 else (tp / truth if truth else 0.0),
        "truth_px": truth,
        "pred_px": pred,
        **extra,
    }


# p1: 4/4 overlap 4, then 2/2 overlap 1; p2: both empty, then a missed tumour of 3 pixels
ROWS = [_row("a", 4, 4, 4), _row("b", 2, 2, 1), _row("c", 0, 0, 0), _row("d", 3, 0, 0)]


def test_per_image_pooled_and_per_patient_by_hand():
    p = pool_items(ROWS, patients=["p1", "p1", "p2", "p2"], n_bootstrap=200)
    seg = p["segmentation"]
    m = seg["metrics"]
    assert m["dice"]["per_image"]["mean"] == pytest.approx((1 + 0.5 + 1 + 0) / 4)
    # pooled: overlap 5 of 9 true and 6 predicted pixels
    assert m["dice"]["pooled"] == pytest.approx(2 * 5 / 15)
    assert m["precision"]["pooled"] == pytest.approx(5 / 6)
    assert m["recall"]["pooled"] == pytest.approx(5 / 9)
    assert m["iou"]["pooled"] == pytest.approx(5 / 10)
    # per patient: p1's counts summed (10 / 12), p2 has a tumour and no prediction (0)
    assert m["dice"]["per_patient"]["mean"] == pytest.approx((10 / 12 + 0) / 2)
    assert seg["n_patients"] == 2 and p["bootstrap"]["unit"] == "patient"
    # resampling whole patients: the per-image interval lies between the two patients'
    # own means (0.75 and 0.5)
    block = m["dice"]["per_image"]
    assert 0.5 - 1e-9 <= block["ci_low"] <= block["mean"] <= block["ci_high"] <= 0.75 + 1e-9


def test_pooled_matches_the_metrics_core_on_masks():
    rng = np.random.default_rng(0)
    truth = rng.random((6, 12, 12)) > 0.7
    pred = rng.random((6, 12, 12)) > 0.6
    rows = []
    for i, (t, q) in enumerate(zip(truth, pred, strict=True)):
        rows.append(_row(f"s{i}", int(t.sum()), int(q.sum()), int((t & q).sum())))
    p = pool_items(rows, n_bootstrap=50)["segmentation"]["metrics"]["dice"]
    assert p["pooled"] == pytest.approx(float(dice(truth, pred, reduction="pooled")))
    assert p["per_image"]["mean"] == pytest.approx(float(dice(truth, pred)), abs=1e-6)


def test_hd95_nan_is_left_out_and_counted():
    rows = [{**r, "hd95": h} for r, h in zip(ROWS, [1.0, 3.0, "", 5.0], strict=True)]
    block = pool_items(rows, n_bootstrap=20)["segmentation"]["metrics"]["hd95"]
    assert block["per_image"]["mean"] == pytest.approx(3.0)
    assert (block["per_image"]["n"], block["per_image"]["n_excluded"]) == (4, 1)
    assert "pooled" not in block


def test_classification_from_probabilities():
    rows = [
        {"source": "x", "true_label": 0, "p_a": 0.9, "p_b": 0.1},
        {"source": "y", "true_label": 1, "p_a": 0.2, "p_b": 0.8},
        {"source": "z", "true_label": 1, "p_a": 0.6, "p_b": 0.4},
    ]
    c = pool_items(rows, n_bootstrap=50)["classification"]
    assert c["accuracy"] == pytest.approx(2 / 3)
    assert c["class_names"] == ["a", "b"]
    assert c["confusion_matrix"] == [[1, 0], [1, 1]]


@pytest.mark.parametrize(
    ("rows", "kwargs", "error", "match"),
    [
        ([], {}, EmptyDatasetError, "no item rows"),
        ([ROWS[0], ROWS[0]], {}, DataError, "a: scored twice"),
        ([{k: v for k, v in ROWS[0].items() if k != "pred_px"}], {}, DataError, "pred_px"),
        ([{**ROWS[0], "dice": math.inf}], {}, DataError, "a: dice is infinite"),
        (ROWS, {"patients": ["p1"]}, DataError, "1 patient IDs for 4 items"),
        ([{"source": "a", "score": 1}], {}, DataError, "neither segmentation"),
        ([{"source": "a", "true_label": 0}], {}, DataError, "class-probability"),
        (ROWS, {"n_bootstrap": 0}, ConfigError, "n_bootstrap"),
    ],
)
def test_bad_rows_are_refused_by_name(rows, kwargs, error, match):
    with pytest.raises(error, match=match):
        pool_items(rows, **kwargs)
