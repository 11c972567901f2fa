import csv
import json

import numpy as np
import pytest

from neuroseg.errors import ConfigError, UnknownNameError
from neuroseg.metrics import (
    LOWER_IS_BETTER,
    SEGMENTATION_METRICS,
    classification_report,
    dice,
    evaluate_classification,
    evaluate_segmentation,
    hd95,
    segmentation_by_class,
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


def test_every_listed_metric_is_computed_and_lower_is_better_for_distances():
    t, _, _ = _data()
    # a prediction shifted by one pixel: overlap falls below 1, distances rise above 0
    r = evaluate_segmentation(t, np.roll(t, 1, axis=2), metrics=SEGMENTATION_METRICS)
    assert set(SEGMENTATION_METRICS) <= set(r.table)
    tumour = t.reshape(len(t), -1).any(axis=1)
    for name in SEGMENTATION_METRICS:
        values = np.asarray(r.table[name], dtype=float)[tumour]
        if name in LOWER_IS_BETTER:
            assert np.all(values > 0), name  # a shift costs distance
        elif name != "specificity":
            assert np.all(values < 1), name  # and overlap
    assert {"hd95", "assd", "centroid_distance"} == LOWER_IS_BETTER


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


def _cells(text, first):
    """The cells after ``first`` of the printed lines that start with it."""
    return [ln[len(first) :].split() for ln in text.splitlines() if ln.startswith(first + " ")]


def test_segmentation_format_by_hand():
    """Image 1: truth [1 1 0 0], prediction [1 0 0 0]; image 2: both empty.

    Dice: 2/3 and 1 (both empty) -> per-image mean 0.8333, pooled 2/3.
    HD95 of image 1: distances {0, 1} (truth -> prediction) and {0} (back); the 95th
    percentile of [0, 0, 1] is 0.9; image 2 scores 0 -> mean 0.45; pooled 0.9.
    """
    t = np.array([[[1, 1, 0, 0]], [[0, 0, 0, 0]]], np.uint8)
    p = np.array([[[1, 0, 0, 0]], [[0, 0, 0, 0]]], np.uint8)
    r = evaluate_segmentation(t, p, metrics=["dice", "hd95"], n_bootstrap=50)
    text = r.format()
    assert str(r) == text
    assert text.splitlines()[0] == "segmentation: 2 images (patients unknown)"
    (dice_row,) = _cells(text, "Dice")
    (hd_row,) = _cells(text, "HD95 (px)")
    assert dice_row[0] == "0.8333" and dice_row[-1] == "0.6667"
    assert hd_row[0] == "0.4500" and hd_row[-1] == "0.9000"
    lo, hi = r.summary["metrics"]["dice"]["per_image"]["ci_low"], 1.0
    assert dice_row[1:3] == [f"[{lo:.4f},", f"{hi:.3f}]"]
    assert "both empty score 1 (HD95 0)" in text and "1000" not in text
    assert "50 resamples of images (seed 0)" in text
    with_groups = evaluate_segmentation(t, p, groups=["a", "b"], metrics=["dice"], n_bootstrap=20)
    text = with_groups.format()
    assert "2 images, 2 patients" in text and "per patient" in text
    assert with_groups.headline()["Dice per patient"][0] == pytest.approx(5 / 6)


def test_classification_format_two_classes_by_hand():
    """Truth 0,0,0,0,1,1; prediction 0,0,1,1,1,1.

    class a: TP 2, FP 0, FN 2 -> precision 1, recall 0.5, F1 2/3, support 4
    class b: TP 2, FP 2, FN 0 -> precision 0.5, recall 1, F1 2/3, support 2
    """
    r = evaluate_classification(
        [0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 1, 1], class_names=["a", "b"], n_bootstrap=100
    )
    text = r.format()
    assert _cells(text, "class") == [["precision", "recall", "F1", "support"]]
    (a, a_cm), (b, b_cm) = _cells(text, "a"), _cells(text, "b")
    assert a == ["1.000", "0.5000", "0.6667", "4"] and b == ["0.5000", "1.000", "0.6667", "2"]
    assert _cells(text, "macro average") == [["0.7500", "0.7500", "0.6667", "6"]]
    assert _cells(text, "truth \\ prediction") == [["a", "b"]]
    assert (a_cm, b_cm) == (["2", "2"], ["0", "2"])
    assert _cells(text, "accuracy")[0][0] == "0.6667"
    assert _cells(text, "balanced accuracy")[0][0] == "0.7500"
    assert "ROC AUC" not in text  # labels only: no scores, no AUC
    assert r.headline()["macro F1"][0] == pytest.approx(2 / 3)
    # every resample that holds class b gets all of it right: its recall interval is [1, 1]
    assert r.summary["recall_ci"]["b"] == [1.0, 1.0]
    lo, hi = r.summary["recall_ci"]["a"]
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0
    assert _cells(text, "recall b") == [["1.000", "[1.000,", "1.000]"]]


def test_recall_interval_leaves_out_resamples_without_the_class():
    """One 'b' in ten, always right: resamples without it are left out, not scored 0."""
    truth = [0] * 9 + [1]
    r = evaluate_classification(truth, truth, class_names=["a", "b"], n_bootstrap=200)
    assert r.summary["recall_ci"] == {"a": [1.0, 1.0], "b": [1.0, 1.0]}


def _counts(truths, preds):
    t = [a.astype(bool) for a in truths]
    p = [a.astype(bool) for a in preds]
    tp = sum(int((a & b).sum()) for a, b in zip(t, p))
    fp = sum(int((~a & b).sum()) for a, b in zip(t, p))
    fn = sum(int((a & ~b).sum()) for a, b in zip(t, p))
    return tp, fp, fn


def test_images_of_different_sizes():
    rng = np.random.default_rng(1)
    shapes = [(16, 16), (12, 20), (16, 16), (10, 14), (12, 20)]
    truths, preds = [], []
    for h, w in shapes:
        t = np.zeros((h, w), np.uint8)
        t[2:7, 3:8] = 1
        truths.append(t)
        preds.append(np.roll(t, int(rng.integers(0, 3)), axis=1))
    preds[3][:] = 0  # a missed tumour: HD95 is the diagonal of that image
    groups = ["p1", "p2", "p1", "p3", "p3"]  # p3's slices have two sizes
    r = evaluate_segmentation(truths, preds, groups=groups, n_bootstrap=20)
    for i, (t, p) in enumerate(zip(truths, preds)):
        assert r.table["dice"][i] == pytest.approx(dice(t, p))
        assert r.table["hd95"][i] == pytest.approx(hd95(t, p))
    assert r.table["hd95"][3] == pytest.approx(np.hypot(10, 14))
    m = r.summary["metrics"]
    tp, fp, fn = _counts(truths, preds)
    assert m["dice"]["pooled"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert np.isnan(m["hd95"]["pooled"]) and r.summary["n_image_sizes"] == 3
    assert json.loads(r.to_json())["metrics"]["hd95"]["pooled"] is None
    # per patient: Dice from each patient's summed counts, whatever the sizes
    per_patient_dice = []
    for rows in ([0, 2], [1], [3, 4]):
        tp, fp, fn = _counts([truths[i] for i in rows], [preds[i] for i in rows])
        per_patient_dice.append(2 * tp / (2 * tp + fp + fn))
    assert m["dice"]["per_patient"]["mean"] == pytest.approx(np.mean(per_patient_dice))
    # ... HD95 only for a patient whose slices share one size (one volume)
    p1 = hd95(np.stack([truths[0], truths[2]]), np.stack([preds[0], preds[2]]),
              reduction="per_patient", groups=["p1", "p1"])  # fmt: skip
    assert m["hd95"]["per_patient"]["n_excluded"] == 1
    assert m["hd95"]["per_patient"]["mean"] == pytest.approx(
        np.mean([p1, hd95(truths[1], preds[1])])
    )
    text = r.format()
    assert "excluded patients" in text and "not computed for images of 3 sizes" in text
    # one size given as a list equals the stacked result
    same = [truths[0], truths[2]], [preds[0], preds[2]]
    a = evaluate_segmentation(*same, groups=["x", "y"], n_bootstrap=30)
    b = evaluate_segmentation(
        np.stack(same[0]), np.stack(same[1]), groups=["x", "y"], n_bootstrap=30
    )
    assert a.summary == b.summary and a.table == b.table


def test_per_image_inputs_checked():
    with pytest.raises(ConfigError, match="image 1"):
        evaluate_segmentation(
            [np.zeros((4, 4)), np.zeros((4, 4))], [np.zeros((4, 4)), np.zeros((3, 4))]
        )
    with pytest.raises(ConfigError, match="2 images but y_pred 1"):
        evaluate_segmentation([np.zeros((4, 4)), np.zeros((5, 4))], [np.zeros((4, 4))])
    with pytest.raises(ConfigError, match="no images"):
        evaluate_segmentation(np.zeros((0, 4, 4)), np.zeros((0, 4, 4)))


def test_segmentation_by_class_hand_computed():
    """Class "a": a perfect mask and one half right; class "b": one mask missed entirely.

    a: Dice 1 and 2*2/(4+4) = 0.5, per image 0.75; pooled 2*(4+2)/(8+8) = 0.75; precision
    1 and 2/4, mean 0.75.
    b: Dice 0 (truth 4 px, nothing predicted); class "c" has no image and no entry.
    """
    t = np.zeros((3, 4, 4), np.uint8)
    p = np.zeros_like(t)
    t[0, :1] = p[0, :1] = 1  # 4 px, perfect
    t[1, :1] = 1  # 4 px truth, prediction overlaps 2 and adds 2
    p[1, 0, :2] = p[1, 1, :2] = 1
    t[2, 2:3] = 1  # 4 px truth, empty prediction
    out = segmentation_by_class(
        t, p, [0, 0, 1], class_names=["a", "b", "c"], groups=["x", "y", "x"], n_bootstrap=20
    )
    assert list(out) == ["a", "b"]
    a, b = out["a"], out["b"]
    assert a["n_items"] == 2 and b["n_items"] == 1
    assert a["metrics"]["dice"]["per_image"]["mean"] == pytest.approx(0.75)
    assert a["metrics"]["dice"]["pooled"] == pytest.approx(0.75)
    assert a["metrics"]["precision"]["per_image"]["mean"] == pytest.approx(0.75)
    assert a["metrics"]["dice"]["per_patient"]["n"] == 2  # patients x and y
    assert b["metrics"]["dice"]["per_image"]["mean"] == 0.0
    assert b["metrics"]["recall"]["pooled"] == 0.0
    assert set(a["metrics"]) == {"dice", "iou", "precision", "recall"}


def test_segmentation_by_class_errors():
    t = np.zeros((2, 4, 4), np.uint8)
    with pytest.raises(ConfigError, match="one label per image"):
        segmentation_by_class(t, t, [0], class_names=["a"])
    with pytest.raises(ConfigError, match="label 3 is not a class index"):
        segmentation_by_class(t, t, [0, 3], class_names=["a", "b"])
    with pytest.raises(ConfigError, match="2 images but 1 groups"):
        segmentation_by_class(t, t, [0, 1], class_names=["a", "b"], groups=["x"])
