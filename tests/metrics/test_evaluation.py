import csv
import json

import numpy as np
import pytest

from neuroseg.errors import ConfigError, UnknownNameError
from neuroseg.metrics import (
    classification_report,
    dice,
    evaluate_classification,
    evaluate_segmentation,
    hd95,
)


def _data(seed=0, n=12):
    rng = np.random.default_rng(seed)
    t = np.zeros((n, 16, 16), np.uint8)
    p = np.zeros_like(t)
    for i in range(n):
        if i % 3:  # every third slice has no tumour
            r, c = rng.integers(2, 9, 2)
            t[i, r : r + 5, c : c + 5] = 1
            p[i, r + rng.integers(0, 3) : r + 5, c : c + 4] = 1
    p[0, 1:3, 1:3] = 1  # one spurious prediction
    groups = np.repeat(["p1", "p2", "p3", "p4"], 3)
    return t, p, groups


def test_segmentation_table_and_summary(tmp_path):
    t, p, groups = _data()
    r = evaluate_segmentation(t, p, groups=groups, spacing=(0.5, 0.5), n_bootstrap=200)
    rows = r.rows()
    assert len(rows) == 12 and rows[0]["group"] == "p1" and rows[0]["pred_pixels"] == 4
    np.testing.assert_allclose(r.table["dice"], dice(t, p, reduction="none"))
    np.testing.assert_allclose(r.table["hd95"], hd95(t, p, reduction="none", spacing=(0.5, 0.5)))
    m = r.summary["metrics"]["dice"]
    assert m["per_image"]["mean"] == pytest.approx(dice(t, p))
    assert m["pooled"] == pytest.approx(dice(t, p, reduction="pooled"))
    assert m["per_patient"]["mean"] == pytest.approx(
        dice(t, p, reduction="per_patient", groups=groups)
    )
    for block in (m["per_image"], m["per_patient"]):
        assert block["ci_low"] <= block["mean"] <= block["ci_high"]
        assert block["ci_low"] < block["ci_high"]
    assert r.summary["bootstrap"]["unit"] == "patient" and r.summary["n_patients"] == 4
    # CSV round trip
    path = r.to_csv(tmp_path / "items.csv")
    with path.open() as f:
        read = list(csv.DictReader(f))
    assert len(read) == 12 and float(read[4]["dice"]) == pytest.approx(r.table["dice"][4])
    data = json.loads(r.to_json(tmp_path / "summary.json"))
    assert data["metrics"]["hd95"]["pooled"] == pytest.approx(
        hd95(t, p, reduction="pooled", spacing=(0.5, 0.5))
    )


def test_bootstrap_is_seeded_and_patient_level():
    t, p, groups = _data()
    a = evaluate_segmentation(t, p, groups=groups, metrics=["dice"], n_bootstrap=300, seed=1)
    b = evaluate_segmentation(t, p, groups=groups, metrics=["dice"], n_bootstrap=300, seed=1)
    c = evaluate_segmentation(t, p, metrics=["dice"], n_bootstrap=300, seed=1)
    assert a.summary == b.summary
    assert (
        c.summary["bootstrap"]["unit"] == "image"
        and "per_patient" not in (c.summary["metrics"]["dice"])
    )
    # one patient only: every patient-level resample is the same -> zero-width interval
    one = evaluate_segmentation(t, p, groups=["x"] * 12, metrics=["dice"], n_bootstrap=50)
    blk = one.summary["metrics"]["dice"]["per_image"]
    assert blk["ci_low"] == pytest.approx(blk["ci_high"]) == pytest.approx(blk["mean"])


def test_nan_rule_counts_and_csv_blank(tmp_path):
    t, p, _ = _data()
    r = evaluate_segmentation(t, p, metrics=["dice", "hd95"], empty="nan", n_bootstrap=20)
    blk = r.summary["metrics"]["dice"]["per_image"]
    assert blk["n_excluded"] == 3  # slices 3, 6, 9: no truth, no prediction
    assert r.summary["metrics"]["hd95"]["per_image"]["n_excluded"] == 4  # and slice 0
    with r.to_csv(tmp_path / "x.csv").open() as f:
        read = list(csv.DictReader(f))
    assert read[3]["dice"] == "" and read[3]["hd95"] == ""  # NaN written as an empty cell
    assert read[0]["dice"] == "0.0" and read[0]["hd95"] == ""


def test_multiclass_columns():
    t = np.array([[[0, 1, 1], [2, 2, 0]], [[0, 0, 0], [0, 0, 0]]])
    p = np.array([[[0, 1, 2], [2, 2, 1]], [[0, 0, 0], [0, 0, 1]]])
    r = evaluate_segmentation(
        t, p, num_classes=3, include_background=False, metrics=["dice"], n_bootstrap=10
    )
    assert set(r.table) == {"id", "dice_1", "dice_2"}
    assert r.summary["metrics"]["dice_2"]["pooled"] == pytest.approx(0.8)


def test_segmentation_errors():
    t, p, _ = _data()
    with pytest.raises(UnknownNameError, match="dice"):
        evaluate_segmentation(t, p, metrics=["dsc"])
    with pytest.raises(ConfigError, match="ids"):
        evaluate_segmentation(t, p, ids=["a"])
    with pytest.raises(ConfigError, match="n_bootstrap"):
        evaluate_segmentation(t, p, n_bootstrap=0)


def test_classification(tmp_path):
    rng = np.random.default_rng(0)
    t = rng.integers(0, 3, 60)
    s = rng.dirichlet(np.ones(3), 60) + np.eye(3)[t] * 0.5
    s /= s.sum(1, keepdims=True)
    groups = np.repeat(np.arange(20), 3)
    r = evaluate_classification(
        t, s, class_names=["a", "b", "c"], groups=groups, n_bootstrap=200, seed=3
    )
    assert r.report is not None and r.summary["accuracy"] == classification_report(t, s).accuracy
    for name in ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc_macro"):
        lo, hi = r.summary["ci"][name]
        assert lo < hi
    assert r.summary["ci"]["accuracy"][0] <= r.summary["accuracy"] <= r.summary["ci"]["accuracy"][1]
    assert r.table["true"][:3] == ["abc"[k] for k in t[:3]]
    assert r.table["confidence"][0] == pytest.approx(s[0].max())
    r.to_csv(tmp_path / "cases.csv")
    assert (tmp_path / "cases.csv").read_text().splitlines()[0].startswith("id,group,true,pred")
    assert json.loads(r.to_json())["bootstrap"]["unit"] == "patient"
