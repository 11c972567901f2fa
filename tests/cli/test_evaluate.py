"""`neuroseg evaluate` on copies of real data with the shipped models: what it prints."""

import csv
import json
import re
import shutil

import cv2
import pytest

from neuroseg.cli import main
from tests.inference.conftest import make_figshare_subset

pytestmark = pytest.mark.data

CLASSES = ("glioma", "meningioma", "no_tumor", "pituitary")


def _split(text):
    return [ln.split() for ln in text.splitlines()]


def _is_bin(line):
    """A row of the reliability table: 'LOW-HIGH  n  accuracy  confidence  gap'."""
    return bool(re.match(r"^\d\.\d\d?-\d\.\d\d?\s+\d+\s", line))


def _rows(text, first):
    """The cells after ``first`` of every printed line that starts with it."""
    return [ln[len(first) :].split() for ln in text.splitlines() if ln.startswith(first + " ")]


def test_reliability_bin_labels_tell_fifteen_bins_apart():
    """15 bins of width 1/15: tenths would print 0.5-0.5 for [0.467, 0.533); hundredths."""
    from neuroseg.cli.evaluate import format_reliability
    from neuroseg.metrics import reliability_curve

    # two classes: a top-class confidence is >= 0.5, so one case at the centre of each of
    # the 8 bins from [7/15, 8/15) up
    scores = [[(k + 0.5) / 15, 1 - (k + 0.5) / 15] for k in range(7, 15)]
    text = format_reliability(reliability_curve([0] * 8, scores, n_bins=15).to_dict())
    labels = [ln.split()[0] for ln in text.splitlines()[2:]]
    assert labels[0] == "0.47-0.53" and labels[-1] == "0.93-1.00"
    assert len(labels) == len(set(labels)) == 8


@pytest.fixture(scope="module")
def kaggle_eight(shared_data, tmp_path_factory):
    """Eight real images per class from the Kaggle 4-class training folders."""
    root = tmp_path_factory.mktemp("kaggle8")
    for folder in ("glioma", "meningioma", "notumor", "pituitary"):
        (root / folder).mkdir()
        for src in sorted((shared_data / "kaggle4-training" / folder).glob("*.jpg"))[:8]:
            shutil.copy(src, root / folder / src.name)
    return root


def test_classifier_prints_per_class_table_and_confusion_matrix(kaggle_eight, tmp_path, capsys):
    csv_out, png = tmp_path / "items.csv", tmp_path / "rel" / "reliability.png"
    args = ["evaluate", "--model", "classifier-4class", "--data", f"class-folders:{kaggle_eight}"]
    more = ["--csv", str(csv_out), "--bootstrap", "200", "-q", "--reliability-picture", str(png)]
    assert main([*args, *more]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "32 items" in out.splitlines()[0]
    assert _rows(out, "class") == [["precision", "recall", "F1", "support", "ROC", "AUC"]]
    for name in CLASSES:
        per_class, cm_row = _rows(out, name)  # the per-class row, then the matrix row
        assert per_class[3] == "8" and len(per_class) == 5
        assert len(cm_row) == 4 and sum(int(v) for v in cm_row) == 8  # rows are the truth
    assert _rows(out, "truth \\ prediction") == [list(CLASSES)]
    for metric in ("accuracy", "balanced accuracy", "macro F1", "ROC AUC (macro)"):
        (cells,) = _rows(out, metric)
        assert cells[1].startswith("[") and cells[2].endswith("]")  # value [low, high]
    assert "200 resamples of cases" in out
    # calibration: ECE, MCE and Brier figures, the reliability bins and the diagram
    for metric in ("calibration error (ECE)", "maximum calibration error (MCE)", "Brier score"):
        (cells,) = _rows(out, metric)
        assert 0.0 <= float(cells[0]) <= 2.0
    bins = [cells for line, cells in zip(out.splitlines(), _split(out)) if _is_bin(line)]
    assert bins and sum(int(c[1]) for c in bins) == 32  # the non-empty bins hold every case
    assert "reliability (top-class confidence in 15 bins" in out and f"wrote {png}" in out
    diagram = cv2.imread(str(png))
    assert diagram is not None and diagram.shape[0] > 360 and diagram.shape[1] > 360
    assert "{" not in out  # tables, not JSON
    assert captured.err.count("evaluate ") == 0  # -q: no progress bar
    with csv_out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 32
    assert {f"p_{n}" for n in CLASSES} | {"confidence", "true_class"} <= set(rows[0])
    # --json - prints the full summary to standard output instead
    assert main([*args, "--json", "-", "--bootstrap", "50"]) == 0
    doc = json.loads(capsys.readouterr().out)
    s = doc["summary"]
    assert doc["n_items"] == 32 and s["class_names"] == list(CLASSES)
    assert sum(map(sum, s["confusion_matrix"])) == 32
    assert s["accuracy"] == pytest.approx(sum(r["correct"] == "1" for r in rows) / 32)
    assert len(s["classification"]["ci"]["roc_auc_macro"]) == 2
    curve = s["classification"]["reliability"]
    assert len(curve["edges"]) == 16 and sum(curve["counts"]) == 32
    assert curve["ece"] == pytest.approx(s["classification"]["ece"])
    assert {"mce", "brier"} <= set(s["classification"])


@pytest.fixture(scope="module")
def lgg_two_patients(shared_data, tmp_path_factory):
    """Slices 8-15 of two real LGG patients (tumour and tumour-free slices)."""
    root = tmp_path_factory.mktemp("lgg2")
    patients = sorted(p for p in (shared_data / "lgg-kaggle3m").iterdir() if p.is_dir())[:2]
    for patient in patients:
        (root / patient.name).mkdir()
        for n in range(8, 16):
            for suffix in ("", "_mask"):
                name = f"{patient.name}_{n}{suffix}.tif"
                shutil.copy(patient / name, root / patient.name / name)
    return root


def test_segmentation_per_patient_only_when_patients_are_known(
    lgg_two_patients, figshare_root, tmp_path, capsys
):
    args = ["evaluate", "--model", "resunet-lgg", "--data", f"lgg:{lgg_two_patients}"]
    assert main([*args, "--bootstrap", "100", "--json", str(tmp_path / "lgg.json")]) == 0
    out = capsys.readouterr().out
    assert "segmentation: 16 images, 2 patients" in out
    assert _rows(out, "metric")[0][:4] == ["per", "image", "95", "%"]
    assert "per patient" in out.splitlines()[3]  # the table's header
    for metric in ("Dice", "IoU", "precision", "recall", "HD95 (px)"):
        (cells,) = _rows(out, metric)
        assert len(cells) == 7  # mean [lo, hi] pooled mean [lo, hi]
    s = json.loads((tmp_path / "lgg.json").read_text())["summary"]
    assert s["n_patients"] == 2 and 0 <= s["dice_per_patient"] <= 1
    assert s["segmentation"]["bootstrap"]["unit"] == "patient"

    fig = make_figshare_subset(figshare_root, tmp_path / "fig", [1, 2, 3, 1000, 1001, 1002])
    args = ["evaluate", "--model", "resunet-figshare", "--data", f"figshare:{fig}"]
    assert main([*args, "--bootstrap", "100", "--csv", str(tmp_path / "fig.csv")]) == 0
    out = capsys.readouterr().out
    assert "segmentation: 6 images (patients unknown)" in out and "per patient" not in out
    (dice_row,) = _rows(out, "Dice")
    (hd_row,) = _rows(out, "HD95 (px)")
    assert len(dice_row) == len(hd_row) == 4  # mean [lo, hi] pooled
    with (tmp_path / "fig.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and all(float(r["hd95"]) >= 0 for r in rows)


def test_train_data_options_reach_every_train_data_loader(shared_data, tmp_path, capsys):
    """--train-data four-class:... needs --train-data-option no_tumor_root=...; its Br35H
    images then count as training data (one is copied into the test set)."""
    from tests.inference.conftest import make_classifier

    fig, br35h = shared_data / "figshare-cheng", shared_data / "br35h-no-tumor"
    train_dir = make_figshare_subset(fig, tmp_path / "train", [6, 7, 8])
    no_tumor = tmp_path / "no-tumour"
    no_tumor.mkdir()
    scans = sorted(br35h.glob("*.jpg"))[:2]
    for src in scans:
        shutil.copy(src, no_tumor / src.name)
    test = tmp_path / "test"
    (test / "meningioma").mkdir(parents=True)
    (test / "notumor").mkdir()
    # two Kaggle copies of Figshare 6.png (one mirrored) and one image with no copy
    for name in ("Tr-me_0269.jpg", "Tr-me_1153.jpg", "Tr-me_0103.jpg"):
        shutil.copy(shared_data / "kaggle4-training" / "meningioma" / name, test / "meningioma")
    shutil.copy(scans[0], test / "notumor" / "copy.jpg")
    model = tmp_path / "clf.keras"
    make_classifier().save(model)
    args = ["evaluate", "--model", str(model), "--data", f"class-folders:{test}", "-q"]
    args += ["--train-data", f"four-class:{train_dir}", "--bootstrap", "20"]

    assert main(args) == 2  # the loader's required option is missing: a clear error
    err = capsys.readouterr().err
    assert "'four-class' needs the loader option no_tumor_root" in err

    out = tmp_path / "eval.json"
    more = ["--train-data-option", f"no_tumor_root={no_tumor}", "--json", str(out)]
    assert main([*args, *more]) == 0
    summary = json.loads(out.read_text())["summary"]
    assert summary["n_with_copy_in_train"] == 3 and summary["leak_free"]["n_items"] == 1

    # --train-groups keeps part of the training data: Figshare fold 1 (6-8.png), without
    # the "no tumour" folder's images, so the copied Br35H image counts as leak-free
    assert main([*args, *more, "--train-groups", "fold-1"]) == 0
    summary = json.loads(out.read_text())["summary"]
    assert summary["n_with_copy_in_train"] == 2 and summary["leak_free"]["n_items"] == 2
    assert main([*args, *more, "--train-groups", "fold-9"]) == 2
    assert "--train-groups ['fold-9'] not in four-class:" in capsys.readouterr().err

    assert main([*args, "--train-data-option", "no_tumor_root=x", "--train-data-option", "k=3"])
    assert "takes no loader option k" in capsys.readouterr().err
    bare = ["evaluate", "--model", str(model), "--data", f"class-folders:{test}"]
    assert main([*bare, "--train-data-option", "no_tumor_root=x"]) == 2
    assert "--train-data-option applies to --train-data" in capsys.readouterr().err
    assert main([*bare, "--train-groups", "fold-1"]) == 2
    assert "--train-groups applies to --train-data" in capsys.readouterr().err


def test_postprocessing_options_clean_the_masks_that_are_scored(figshare_root, tmp_path, capsys):
    """--largest-component drops the shipped model's side blobs on 619, 643 and 752 (fold 4)."""
    fig = make_figshare_subset(figshare_root, tmp_path / "fig", [26, 27, 619, 643, 752])
    args = ["evaluate", "--model", "resunet-figshare", "--data", f"figshare:{fig}"]
    tables = {}
    for name, extra in (("plain", []), ("largest", ["--largest-component"])):
        out = tmp_path / f"{name}.csv"
        assert main([*args, *extra, "--bootstrap", "20", "--csv", str(out)]) == 0
        with out.open() as fh:
            tables[name] = {r["source"].rsplit("/", 1)[-1]: r for r in csv.DictReader(fh)}
    capsys.readouterr()
    plain, largest = tables["plain"], tables["largest"]
    for name, row in plain.items():
        assert int(largest[name]["pred_px"]) <= int(row["pred_px"])
        assert float(largest[name]["recall"]) <= float(row["recall"]) + 1e-9
    for name in ("619.png", "643.png", "752.png"):
        assert int(largest[name]["pred_px"]) < int(plain[name]["pred_px"]), name
    # a minimum size above every component empties every mask: Dice 0 on tumour slices
    assert main([*args, "--min-size", "100000", "--bootstrap", "20", "--json", "-"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["dice"] == 0.0
    # the JSON records how the masks were made: the card's threshold and TTA, the clean-up
    settings = summary["predictor"]
    assert (settings["threshold"], settings["tta"], settings["min_size"]) == (0.4, "flip", 100000)
    assert settings["largest_component"] is False and settings["model"]
    assert main([*args, "--min-size", "-1"]) == 2
    assert "min_size must be 0 or more" in capsys.readouterr().err
