import csv
import json
from dataclasses import replace

import keras
import numpy as np
import pytest

from neuroseg.data import Record, SliceDataset, load_figshare
from neuroseg.errors import DataError, ModelError
from neuroseg.inference import Predictor, evaluate
from neuroseg.metrics import dice, hd95, iou
from neuroseg.tables import format_number


@pytest.fixture(scope="module")
def figshare_few(figshare_root):
    ds = load_figshare(figshare_root)
    # Two slices from each of three folds (folds group patients).
    picks = [i for f in (1, 2, 3) for i in np.flatnonzero([r.fold == f for r in ds])[:2]]
    return ds[picks]


def _lines(text: str, first: str) -> list[list[str]]:
    """The cells after ``first`` of every printed line that starts with it."""
    return [ln[len(first) :].split() for ln in text.splitlines() if ln.startswith(first + " ")]


def _line(text: str, first: str) -> list[str]:
    """The cells of the one printed line that starts with ``first``."""
    found = _lines(text, first)
    assert len(found) == 1, (first, text)
    return found[0]


@pytest.mark.data
def test_segmentation_rows_and_summary(small_seg_model, figshare_few, tmp_path):
    result = evaluate(
        Predictor(small_seg_model), figshare_few, keep_predictions=True, n_bootstrap=100
    )
    assert result.task == "segmentation" and len(result.rows) == 6
    for row, pred in zip(result.rows, result.predictions):
        assert row["dice"] == pytest.approx(dice(pred.truth, pred.mask), abs=1e-6)
        assert row["iou"] == pytest.approx(iou(pred.truth, pred.mask), abs=1e-6)
        assert row["hd95"] == pytest.approx(hd95(pred.truth, pred.mask), abs=1e-6)
    s = result.summary
    assert s["dice"] == pytest.approx(np.mean([r["dice"] for r in result.rows]), abs=1e-6)
    assert s["hd95"] == pytest.approx(np.mean([r["hd95"] for r in result.rows]), abs=1e-5)
    truths = np.stack([p.truth for p in result.predictions])
    masks = np.stack([p.mask for p in result.predictions])
    assert s["pooled"]["dice"] == pytest.approx(dice(truths, masks, reduction="pooled"))
    assert s["pooled"]["hd95"] == pytest.approx(hd95(truths, masks, reduction="pooled"))
    # Figshare records carry the publisher's fold, not a patient: no per-patient figures.
    assert all(r.patient_id is None and r.group for r in figshare_few)
    assert "dice_per_patient" not in s and "n_patients" not in s
    block = s["segmentation"]
    assert block["bootstrap"]["unit"] == "image" and block["n_patients"] is None
    dice_block = block["metrics"]["dice"]["per_image"]
    assert dice_block["ci_low"] <= s["dice"] <= dice_block["ci_high"]
    text = result.format()
    assert str(result) == text
    assert "patients unknown" in text and "per patient" not in text
    cells = _line(text, "Dice")
    assert cells[0] == format_number(s["dice"]) and cells[-1] == format_number(s["pooled"]["dice"])
    assert _line(text, "HD95 (px)")[0] == format_number(s["hd95"])
    doc = json.loads(result.write_json(tmp_path / "e.json").read_text())
    assert doc["task"] == "segmentation" and doc["n_items"] == 6 and "recall" in doc["summary"]
    assert doc["summary"]["segmentation"]["metrics"]["hd95"]["pooled"] == s["pooled"]["hd95"]
    with result.write_csv(tmp_path / "e.csv").open() as fh:
        read = list(csv.DictReader(fh))
    assert len(read) == 6 and list(read[0])[:7] == [
        "source",
        "group",
        "dice",
        "iou",
        "precision",
        "recall",
        "hd95",
    ]
    assert float(read[0]["hd95"]) == pytest.approx(result.rows[0]["hd95"])


@pytest.mark.data
def test_per_patient_figures_only_for_real_patient_ids(small_seg_model, figshare_few):
    patients = ["p1", "p1", "p2", "p2", "p2", "p3"]
    known = SliceDataset(
        [replace(r, patient_id=p) for r, p in zip(figshare_few, patients)],
        name="with patients",
    )
    result = evaluate(Predictor(small_seg_model), known, keep_predictions=True, n_bootstrap=100)
    s = result.summary
    truths = np.stack([p.truth for p in result.predictions])
    masks = np.stack([p.mask for p in result.predictions])
    expected = dice(truths, masks, reduction="per_patient", groups=patients)
    assert s["dice_per_patient"] == pytest.approx(expected, abs=1e-9) and s["n_patients"] == 3
    per_patient = s["segmentation"]["metrics"]["hd95"]["per_patient"]
    assert per_patient["mean"] == pytest.approx(
        hd95(truths, masks, reduction="per_patient", groups=patients)
    )
    assert s["segmentation"]["bootstrap"]["unit"] == "patient"
    text = result.format()
    assert "3 patients" in text and "per patient" in text
    assert format_number(s["dice_per_patient"]) in _line(text, "Dice")
    # IDs a loader only assumed (near-copy groups) are not patients.
    assumed = known.with_replaced(meta={"patient_id_assumed": True})
    s2 = evaluate(Predictor(small_seg_model), assumed, n_bootstrap=20).summary
    assert "dice_per_patient" not in s2 and s2["segmentation"]["n_patients"] is None


@pytest.mark.data
def test_images_of_different_sizes(small_seg_model, figshare_few):
    """Each image is scored at its own size; pooled Dice sums the counts of all sizes."""
    sizes = [(256, 256), (200, 240), (180, 256)]
    records = []
    for r, (h, w) in zip(figshare_few[:3], sizes):
        image, mask = r.load_image(), r.load_mask()
        records.append(Record(image[:h, :w], mask=mask[:h, :w], source=f"crop {h}x{w}"))
    result = evaluate(
        Predictor(small_seg_model), SliceDataset(records), keep_predictions=True, n_bootstrap=20
    )
    tp = fp = fn = 0
    for row, pred, (h, w) in zip(result.rows, result.predictions, sizes):
        assert pred.truth.shape == (h, w)
        assert row["dice"] == pytest.approx(dice(pred.truth, pred.mask), abs=1e-6)
        assert row["hd95"] == pytest.approx(hd95(pred.truth, pred.mask), abs=1e-6)
        t, p = pred.truth.astype(bool), pred.mask.astype(bool)
        tp, fp, fn = tp + int((t & p).sum()), fp + int((~t & p).sum()), fn + int((t & ~p).sum())
    s = result.summary
    assert s["pooled"]["dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert np.isnan(s["pooled"]["hd95"]) and result.to_json()["summary"]["pooled"]["hd95"] is None
    assert "not computed for images of 3 sizes" in result.format()


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


@pytest.mark.data
def test_classification_hand_computed(figshare_few, tmp_path):
    labels = figshare_few.labels
    result = evaluate(Predictor(_constant_classifier(1)), figshare_few, n_bootstrap=100)
    s = result.summary
    assert result.task == "classification"
    assert s["accuracy"] == pytest.approx(np.mean(labels == 1))
    cm = np.array(s["confusion_matrix"])
    assert cm[:, 1].sum() == len(labels) and cm.sum() == len(labels)
    present = sorted(set(labels.tolist()))
    assert s["balanced_accuracy"] == pytest.approx((1 in present) / len(present))
    # Everything is called "meningioma": its precision is its share, its recall 1.
    names = list(figshare_few.class_names)
    share = float(np.mean(labels == 1))
    text = result.format()
    per_class, cm_row = _lines(text, "meningioma")  # a per-class and a confusion-matrix row
    assert per_class[:4] == [
        format_number(share),
        format_number(1.0),
        format_number(2 * share / (share + 1)),
        str(int((labels == 1).sum())),
    ]
    assert cm_row == [str(v) for v in cm[1]]
    glioma = _lines(text, "glioma")[0]
    assert glioma[:4] == ["0.000", "0.000", "0.000", str(int((labels == 0).sum()))]
    assert _line(text, "truth \\ prediction") == names
    assert _line(text, "accuracy")[0] == format_number(s["accuracy"])
    # CSV rows carry the class probabilities.
    with result.write_csv(tmp_path / "c.csv").open() as fh:
        read = list(csv.DictReader(fh))
    for row in read:
        probs = [float(row[f"p_{n}"]) for n in names]
        assert sum(probs) == pytest.approx(1.0, abs=1e-5) and probs[1] > 0.99
        assert float(row["confidence"]) == pytest.approx(max(probs))
        assert row["pred_class"] == "meningioma" and row["pred_label"] == "1"


def _area_classifier() -> keras.Model:
    """Class 1 when more than 30 % of the (min-max scaled) image is bright."""
    inp = keras.Input((32, 32, 1))
    x = keras.layers.GlobalAveragePooling2D()(inp)
    out = keras.layers.Dense(
        2,
        activation="softmax",
        kernel_initializer=keras.initializers.Constant([[0.0, 40.0]]),
        bias_initializer=keras.initializers.Constant([0.0, -12.0]),
    )(x)
    return keras.Model(inp, out)


def test_two_class_table_computed_by_hand(capsys):
    """Truth 0,0,0,0,1,1; predictions 0,0,1,1,1,1 (two bright class-0 images).

    healthy: TP 2, FP 0, FN 2 -> precision 1, recall 0.5, F1 2/3, support 4
    tumour:  TP 2, FP 2, FN 0 -> precision 0.5, recall 1, F1 2/3, support 2
    accuracy 4/6, balanced accuracy (0.5 + 1) / 2 = 0.75, macro F1 2/3.
    """
    records = []
    for i, (label, bright) in enumerate([(0, 8), (0, 8), (0, 48), (0, 48), (1, 48), (1, 48)]):
        image = np.zeros((64, 64, 1), np.uint8)
        image[:bright, :] = 200  # 12.5 % or 75 % of the image is bright
        records.append(Record(image, label=label, source=f"img{i}"))
    data = SliceDataset(records, class_names=("healthy", "tumour"), name="two")
    result = evaluate(Predictor(_area_classifier()), data, n_bootstrap=200, progress=True)
    assert [r["pred_label"] for r in result.rows] == [0, 0, 1, 1, 1, 1]
    text = result.format()
    assert _line(text, "class") == ["precision", "recall", "F1", "support", "ROC", "AUC"]
    (healthy, healthy_cm), (tumour, tumour_cm) = _lines(text, "healthy"), _lines(text, "tumour")
    assert healthy[:4] == ["1.000", "0.5000", "0.6667", "4"]
    assert tumour[:4] == ["0.5000", "1.000", "0.6667", "2"]
    assert _line(text, "truth \\ prediction") == ["healthy", "tumour"]
    assert (healthy_cm, tumour_cm) == (["2", "2"], ["0", "2"])  # rows: truth
    assert _line(text, "accuracy")[0] == "0.6667"
    assert _line(text, "balanced accuracy")[0] == "0.7500"
    assert _line(text, "macro F1")[0] == "0.6667"
    lo, hi = result.summary["classification"]["ci"]["accuracy"]
    assert _line(text, "accuracy")[1:] == [f"[{format_number(lo)},", f"{format_number(hi)}]"]
    assert "cases (seed 0); no patient IDs" in text
    # progress=True drew a bar over the items on standard error
    err = capsys.readouterr().err
    assert "evaluate  6/6" in err
    evaluate(Predictor(_area_classifier()), data, n_bootstrap=10, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.data
def test_task_mismatch_errors(figshare_few, small_seg_model):
    with pytest.raises(ModelError, match="3 class names|predicts 3"):
        evaluate(Predictor(_constant_classifier(0, num_classes=3)), figshare_few)
    no_masks = figshare_few.with_replaced(mask=None)
    with pytest.raises(DataError, match="no mask"):
        evaluate(Predictor(small_seg_model), no_masks)


@pytest.mark.data
def test_leak_free_figures_on_real_kaggle_copies(shared_data, tmp_path, capsys):
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
    result = evaluate(Predictor(_constant_classifier(1)), test, train_data=train, n_bootstrap=50)
    flags = {row["source"].rsplit("/", 1)[-1]: row["copy_in_train"] for row in result.rows}
    assert flags == {"Tr-me_0269.jpg": 1, "Tr-me_1153.jpg": 1, "Tr-me_0103.jpg": 0}
    assert {row["train_copy"].rsplit("/", 1)[-1] for row in result.rows} == {"6.png", ""}
    s = result.summary
    assert s["n_with_copy_in_train"] == 2 and s["leak_free"]["n_items"] == 1
    assert s["accuracy"] == 1.0 and s["leak_free"]["accuracy"] == 1.0  # all meningioma
    assert result.leak_free is not None and len(result.leak_free.rows) == 1
    text = result.format()
    assert "leak-free: 1 of 3 items have no near-copy in the training data (2 have one)" in text
    main_table, beside = _lines(text, "accuracy")  # all items; then all beside leak-free
    assert main_table[0] == "1.000"
    assert beside == ["1.000", "[1.000,", "1.000]", "1.000", "[1.000,", "1.000]"]

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
            "--bootstrap",
            "50",
        ]
    )
    assert rc == 0
    summary = json.loads(out.read_text())["summary"]
    assert summary["leak_free"]["n_items"] == 1 and summary["n_with_copy_in_train"] == 2
    assert "leak-free: 1 of 3 items" in capsys.readouterr().out


@pytest.mark.data
def test_each_file_is_read_once(small_seg_model, figshare_few, monkeypatch):
    """evaluate() reads every image and mask file once, also when it looks for near-copies."""
    from collections import Counter
    from pathlib import Path

    reads: Counter[str] = Counter()
    real = Path.read_bytes

    def counted(self):
        reads[str(self)] += 1
        return real(self)

    # a spy that counts and calls the real method: neuroseg.data.read_image (and so
    # read_mask) reads every PNG/JPEG/TIFF file's bytes with Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", counted)
    test, train = figshare_few[:4], figshare_few[4:]
    result = evaluate(Predictor(small_seg_model), test, train_data=train, n_bootstrap=10)
    assert len(result.rows) == 4
    files = {str(r.image) for r in figshare_few} | {str(r.mask) for r in test}
    assert set(reads) == files  # the training masks are not needed
    assert set(reads.values()) == {1}, reads


def _bright_segmenter() -> keras.Model:
    """Foreground where the (normalised) image is above 0.5: the bright block."""
    inp = keras.Input((32, 32, 1))
    out = keras.layers.Conv2D(
        1,
        1,
        activation="sigmoid",
        kernel_initializer=keras.initializers.Constant(40.0),
        bias_initializer=keras.initializers.Constant(-20.0),
    )(inp)
    return keras.Model(inp, out)


def test_segmentation_by_true_class_computed_by_hand(tmp_path):
    """Every image is bright in rows 0-7 (256 px), which the model segments.

    class "a": truth rows 0-7 -> Dice 1, IoU 1, precision 1, recall 1
    class "b": truth rows 4-11 -> overlap 128 px: Dice 2*128/512 = 0.5, IoU 128/384 = 1/3,
    precision 0.5, recall 0.5; over all four images Dice 0.75.
    """
    records = []
    for i, (label, first) in enumerate([(0, 0), (1, 4), (0, 0), (1, 4)]):
        image = np.zeros((32, 32, 1), np.uint8)
        image[:8] = 200
        mask = np.zeros((32, 32), np.uint8)
        mask[first : first + 8] = 1
        records.append(Record(image, mask=mask, label=label, source=f"img{i}"))
    data = SliceDataset(records, class_names=("a", "b", "c"), name="three")
    result = evaluate(Predictor(_bright_segmenter()), data, n_bootstrap=50)
    assert result.summary["dice"] == pytest.approx(0.75)
    by_class = result.summary["by_class"]
    assert list(by_class) == ["a", "b"]  # no image of class "c": no row
    a, b = (by_class[k]["metrics"] for k in "ab")
    assert by_class["a"]["n_items"] == by_class["b"]["n_items"] == 2
    assert a["dice"]["per_image"]["mean"] == pytest.approx(1.0)
    assert b["dice"]["per_image"]["mean"] == pytest.approx(0.5)
    assert b["dice"]["pooled"] == pytest.approx(0.5)
    assert b["iou"]["per_image"]["mean"] == pytest.approx(1 / 3)
    assert b["precision"]["per_image"]["mean"] == pytest.approx(0.5)
    assert b["recall"]["per_image"]["mean"] == pytest.approx(0.5)
    assert [r["true_class"] for r in result.rows] == ["a", "b", "a", "b"]
    text = result.format()
    assert "segmentation by true class" in text
    assert _line(text, "a")[:3] == ["2", "1.000", "[1.000,"]
    assert _line(text, "b")[:2] == ["2", "0.5000"]
    doc = json.loads(result.write_json(tmp_path / "e.json").read_text())
    assert doc["summary"]["by_class"]["b"]["metrics"]["dice"]["pooled"] == pytest.approx(0.5)
    # Without labels there is no per-class block.
    unlabelled = SliceDataset([replace(r, label=None) for r in records], name="plain")
    assert "by_class" not in evaluate(Predictor(_bright_segmenter()), unlabelled).summary
