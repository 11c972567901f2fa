import json

import keras
import numpy as np
import pytest

from neuroseg.data import load_figshare
from neuroseg.errors import DataError, ModelError
from neuroseg.inference import Predictor, evaluate
from neuroseg.metrics import dice, iou


@pytest.fixture(scope="module")
def figshare_few(figshare_root):
    ds = load_figshare(figshare_root)
    # Two slices from each of three folds (folds group patients).
    picks = [i for f in (1, 2, 3) for i in np.flatnonzero([r.fold == f for r in ds])[:2]]
    return ds[picks]


def test_segmentation_rows_and_summary(small_seg_model, figshare_few, tmp_path):
    result = evaluate(Predictor(small_seg_model), figshare_few, keep_predictions=True)
    assert result.task == "segmentation" and len(result.rows) == 6
    for row, pred in zip(result.rows, result.predictions):
        assert row["dice"] == pytest.approx(dice(pred.truth, pred.mask), abs=1e-6)
        assert row["iou"] == pytest.approx(iou(pred.truth, pred.mask), abs=1e-6)
    s = result.summary
    assert s["dice"] == pytest.approx(np.mean([r["dice"] for r in result.rows]), abs=1e-6)
    truths = np.stack([p.truth for p in result.predictions])
    masks = np.stack([p.mask for p in result.predictions])
    groups = [r.group for r in figshare_few]
    expected = dice(truths, masks, reduction="per_patient", groups=groups)
    assert s["dice_per_patient"] == pytest.approx(expected, abs=1e-6) and s["n_patients"] == 3
    assert s["pooled"]["dice"] == pytest.approx(dice(truths, masks, reduction="pooled"))
    doc = json.loads(result.write_json(tmp_path / "e.json").read_text())
    assert doc["task"] == "segmentation" and doc["n_items"] == 6 and "recall" in doc["summary"]
    lines = result.write_csv(tmp_path / "e.csv").read_text().splitlines()
    assert len(lines) == 7 and lines[0].startswith("source,group,dice")


def _constant_classifier(cls: int, num_classes: int = 4):
    inp = keras.Input((32, 32, 1))
    x = keras.layers.GlobalAveragePooling2D()(inp)
    bias = np.full(num_classes, -5.0, "float32")
    bias[cls] = 5.0
    out = keras.layers.Dense(
        num_classes,
        activation="softmax",
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(bias),
    )(x)
    return keras.Model(inp, out)


def test_classification_hand_computed(figshare_few):
    labels = figshare_few.labels
    result = evaluate(Predictor(_constant_classifier(1)), figshare_few)
    s = result.summary
    assert result.task == "classification"
    assert s["accuracy"] == pytest.approx(np.mean(labels == 1))
    cm = np.array(s["confusion_matrix"])
    assert cm[:, 1].sum() == len(labels) and cm.sum() == len(labels)
    present = sorted(set(labels.tolist()))
    assert s["balanced_accuracy"] == pytest.approx((1 in present) / len(present))


def test_task_mismatch_errors(figshare_few, small_seg_model):
    with pytest.raises(ModelError, match="3 class names|predicts 3"):
        evaluate(Predictor(_constant_classifier(0, num_classes=3)), figshare_few)
    no_masks = figshare_few.with_replaced(mask=None)
    with pytest.raises(DataError, match="no mask"):
        evaluate(Predictor(small_seg_model), no_masks)
