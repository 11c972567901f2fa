"""``neuroseg predict --uncertainty``: maps, scores, abstention and pictures on real scans."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuroseg.cli import main
from neuroseg.cli.predict import abstention_warning
from tests.cli.folders import copy_kaggle_classes, read_csv

LOG2 = math.log(2)


@pytest.fixture(scope="module")
def figshare_two(figshare_root, tmp_path_factory) -> Path:
    """The first two fold-4 Figshare slices (resunet-figshare's selection fold), with masks."""
    dest = tmp_path_factory.mktemp("figshare-unc") / "fold4"
    dest.mkdir()
    with (figshare_root / "metadata.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["cv_fold"] == "4"][:2]
    for r in rows:
        shutil.copy(figshare_root / "images" / f"{r['index']}.png", dest / f"{r['index']}.png")
        shutil.copy(figshare_root / "masks" / f"{r['index']}.png", dest / f"{r['index']}_mask.png")
    return dest


@pytest.fixture(scope="module")
def kaggle_four(shared_data, tmp_path_factory) -> Path:
    """One real Kaggle training image per class folder."""
    return copy_kaggle_classes(
        shared_data, tmp_path_factory.mktemp("kaggle-unc") / "scans", per_class=1
    )


@pytest.mark.data
def test_segmentation_tta_maps_scores_abstention_and_panel(figshare_two, tmp_path, capsys):
    out = tmp_path / "pred"
    args = ["predict", "--model", "resunet-figshare", str(figshare_two), "--out", str(out)]
    threshold = 0.3
    args += ["--uncertainty", "tta", "--abstain-above", str(threshold), "--overlay", "-q"]
    assert main(args) == 0
    err = capsys.readouterr().err
    doc = json.loads((out / "predictions.json").read_text())
    preds = doc["predictions"]
    assert doc["uncertainty"]["method"] == "tta" and doc["uncertainty"]["n_samples"] == 8
    assert doc["uncertainty"]["abstain_above"] == threshold
    n_abstained = sum(e["abstained"] for e in preds)
    assert doc["uncertainty"]["n_abstained"] == n_abstained
    rows = read_csv(out / "predictions.csv")
    for e, row in zip(preds, rows, strict=True):
        assert 0 < e["uncertainty"] <= LOG2
        assert e["abstained"] == (e["uncertainty"] > threshold)
        assert (
            row["abstained"] == str(e["abstained"])
            and float(row["uncertainty"]) == e["uncertainty"]
        )
        image = cv2.imread(e["source"], cv2.IMREAD_GRAYSCALE)
        # the map: entropy in the input's own frame, highest around the predicted tumour
        umap = np.load(e["uncertainty_map"])
        assert umap.shape == image.shape and umap.dtype == np.float32
        assert umap.min() >= 0 and umap.max() <= LOG2 + 1e-6
        mask = cv2.imread(e["mask_file"], cv2.IMREAD_GRAYSCALE) > 0  # written even if abstained
        assert mask.any()
        near = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        assert umap[near].mean() > 10 * umap[~near].mean()
        assert row["uncertainty_map"] == e["uncertainty_map"]
        # the overlay: contours | uncertainty panel, each under a title strip
        pic = cv2.imread(e["overlay"])
        assert pic.shape[1] == 2 * image.shape[1] and pic.shape[0] > image.shape[0]
        panel = pic[-image.shape[0] :, image.shape[1] :].astype(int)
        grey = np.abs(panel[..., 2] - panel[..., 0])  # jet colours only in the right panel
        hot, cold = umap > 0.5 * LOG2, umap < 0.01 * LOG2  # colour weight follows the entropy
        assert hot.any() and grey[hot].mean() > 40 and grey[cold].mean() < 5
    if n_abstained:
        assert f"neuroseg: warning: {n_abstained} of 2 input(s)" in err
    else:
        assert "warning" not in err


def testabstention_warning_names_the_inputs_and_counts():
    results = [
        {"relative_path": f"{i}.png", "abstained": i % 2 == 0, "uncertainty": i} for i in range(25)
    ]
    text = abstention_warning(results, 0.2)
    assert text is not None
    assert text.startswith("13 of 25 input(s) have an uncertainty above 0.2")
    assert "0.png, 2.png" in text and "and 3 more" in text
    assert abstention_warning([{"relative_path": "a", "abstained": False}], 0.2) is None


@pytest.mark.data
def test_classifier_mc_dropout_entropy_and_mutual_information(kaggle_four, tmp_path, capsys):
    out = tmp_path / "pred"
    args = ["predict", "--model", "classifier-4class", "-r", str(kaggle_four), "--out", str(out)]
    args += ["--uncertainty", "mc-dropout", "--uncertainty-samples", "3"]
    assert main([*args, "--abstain-above", "0", "--overlay", "-q"]) == 0
    err = capsys.readouterr().err
    doc = json.loads((out / "predictions.json").read_text())
    assert doc["uncertainty"]["n_samples"] == 3
    preds = doc["predictions"]
    for e in preds:
        assert 0 <= e["mutual_information"] <= e["uncertainty"] <= math.log(4) + 1e-9
        assert e["abstained"] == (e["uncertainty"] > 0) and "uncertainty_map" not in e
        assert "label" in e  # the label is still written
    assert not (out / "uncertainty").exists()  # a classifier has no per-pixel map
    n = sum(e["abstained"] for e in preds)
    assert n >= 1 and f"neuroseg: warning: {n} of 4 input(s)" in err
    header = read_csv(out / "predictions.csv")[0].keys()
    assert {"uncertainty", "abstained", "mutual_information"} <= set(header)
    assert "uncertainty_map" not in header


def test_mc_dropout_without_dropout_and_bad_options_exit_2(tmp_path, capsys):
    from neuroseg.models import create_model

    path = tmp_path / "net.keras"
    create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4).save(path)
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), np.full((32, 32), 80, np.uint8))
    base = ["predict", "--model", str(path), str(image), "--out", str(tmp_path / "o"), "-q"]
    assert main([*base, "--uncertainty", "mc-dropout"]) == 2
    err = capsys.readouterr().err
    assert "neuroseg: error:" in err and "no dropout layer" in err and "--uncertainty tta" in err
    assert not (tmp_path / "o" / "predictions.json").exists()
    assert main([*base, "--abstain-above", "0.2"]) == 2
    assert "--abstain-above needs --uncertainty" in capsys.readouterr().err
    assert main([*base, "--uncertainty", "tta", "--abstain-above", "nan"]) == 2
    assert "finite" in capsys.readouterr().err
