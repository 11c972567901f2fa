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


def test_leak_free_figures_on_real_kaggle_copies(shared_data, tmp_path):
    """Two Kaggle images are copies of Figshare 6.png (one mirrored); one is not."""
    import shutil

    from neuroseg.cli import main
    from neuroseg.data import load_class_folders

    kag = shared_data / "kaggle4-training" / "meningioma"
    test_dir = tmp_path / "test" / "meningioma"
    test_dir.mkdir(parents=True)
    for name in ("Tr-me_0269.jpg", "Tr-me_1153.jpg", "Tr-me_0103.jpg"):
        shutil.copy(kag / name, test_dir / name)
    train_dir = tmp_path / "train"
    for sub in ("images", "masks"):
        (train_dir / sub).mkdir(parents=True)
    fig = shared_data / "figshare-cheng"
    lines = (fig / "metadata.csv").read_text().splitlines()
    keep = [ln for ln in lines[1:] if ln.split(",")[0] in ("6", "7", "8")]
    (train_dir / "metadata.csv").write_text("\n".join([lines[0], *keep]) + "\n")
    for n in ("6", "7", "8"):
        shutil.copy(fig / "images" / f"{n}.png", train_dir / "images" / f"{n}.png")
        shutil.copy(fig / "masks" / f"{n}.png", train_dir / "masks" / f"{n}.png")

    test = load_class_folders(tmp_path / "test")
    train = load_figshare(train_dir)
    result = evaluate(Predictor(_constant_classifier(1)), test, train_data=train)
    flags = {row["source"].rsplit("/", 1)[-1]: row["copy_in_train"] for row in result.rows}
    assert flags == {"Tr-me_0269.jpg": 1, "Tr-me_1153.jpg": 1, "Tr-me_0103.jpg": 0}
    assert {row["train_copy"].rsplit("/", 1)[-1] for row in result.rows} == {"6.png", ""}
    s = result.summary
    assert s["n_with_copy_in_train"] == 2 and s["leak_free"]["n_items"] == 1
    assert s["accuracy"] == 1.0 and s["leak_free"]["accuracy"] == 1.0  # all meningioma

    out = tmp_path / "eval.json"
    rc = main(
        [
            "evaluate",
            "--model",
            "classifier-4class",
            "--data",
            f"class-folders:{tmp_path / 'test'}",
            "--train-data",
            f"figshare:{train_dir}",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    summary = json.loads(out.read_text())["summary"]
    assert summary["leak_free"]["n_items"] == 1 and summary["n_with_copy_in_train"] == 2
