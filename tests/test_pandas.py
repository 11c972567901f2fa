"""``to_pandas()`` of evaluation, cross-validation, data-check, training and prediction results."""

from __future__ import annotations

import csv
import importlib
import math
import shutil

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from neuroseg.data import read_mask  # noqa: E402
from neuroseg.data.check import CheckReport, check  # noqa: E402
from neuroseg.errors import ConfigError, MissingDependencyError  # noqa: E402
from neuroseg.inference import Prediction, predictions_to_pandas  # noqa: E402
from neuroseg.metrics import evaluate_segmentation  # noqa: E402
from neuroseg.train.cv import CVResult  # noqa: E402
from neuroseg.train.fit import FitResult  # noqa: E402


@pytest.fixture(scope="module")
def figshare_masks(figshare_root):
    return [read_mask(figshare_root / "masks" / f"{i}.png") for i in (1, 2, 3)]


def test_evaluation_per_image_and_per_patient(figshare_masks):
    truths = figshare_masks
    preds = [np.roll(m, 10, axis=1) for m in truths]  # every mask 10 pixels to the right
    r = evaluate_segmentation(
        truths,
        preds,
        groups=["p1", "p1", "p2"],
        ids=["1.png", "2.png", "3.png"],
        metrics=["dice", "box_iou", "centroid_distance"],
        n_bootstrap=10,
    )
    df = r.to_pandas()
    assert list(df.columns) == [
        "id",
        "group",
        "truth_pixels",
        "pred_pixels",
        "dice",
        "box_iou",
        "centroid_distance",
    ]
    assert list(df["id"]) == ["1.png", "2.png", "3.png"]
    assert list(df["truth_pixels"]) == [int(m.sum()) for m in truths]
    assert df["centroid_distance"].tolist() == pytest.approx([10.0, 10.0, 10.0])
    overlap = [int((t & p).sum()) for t, p in zip(truths, preds)]
    dice = [2 * o / (t.sum() + p.sum()) for o, t, p in zip(overlap, truths, preds)]
    assert df["dice"].tolist() == pytest.approx(dice)
    patients = r.to_pandas("patient")
    assert list(patients["group"]) == ["p1", "p2"]
    # p1: its two slices as one volume (counts summed); box IoU: the mean of its slices
    p1 = 2 * (overlap[0] + overlap[1]) / (2 * (truths[0].sum() + truths[1].sum()))
    assert patients["dice"].tolist() == pytest.approx([p1, dice[2]])
    assert patients["box_iou"][0] == pytest.approx(df["box_iou"][:2].mean())
    no_groups = evaluate_segmentation(truths, preds, metrics=["dice"], n_bootstrap=5)
    with pytest.raises(ConfigError, match="groups="):
        no_groups.to_pandas("patient")
    with pytest.raises(ConfigError, match="level"):
        no_groups.to_pandas("fold")


def test_cv_result_one_row_per_fold():
    r = CVResult(
        folds=[
            {"fold": 1, "n_train": 1200, "n_val": 600, "val_groups": ["fold-1"], "dice": 0.8},
            {"fold": 2, "n_train": 1200, "n_val": 600, "val_groups": ["fold-2"], "dice": 0.7},
        ],
        summary={"dice": {"mean": 0.75, "std": 0.05}},
    )
    df = r.to_pandas()
    assert list(df.columns) == ["fold", "n_train", "n_val", "val_groups", "dice"]
    assert list(df["val_groups"]) == ["fold-1", "fold-2"]
    assert df["dice"].mean() == pytest.approx(r.summary["dice"]["mean"])


def test_fit_history_one_row_per_epoch():
    df = FitResult(history={"loss": [0.9, 0.6, 0.5], "val_dice": [0.3, 0.5, 0.6]}).to_pandas()
    assert list(df.columns) == ["epoch", "loss", "val_dice"]
    assert list(df["epoch"]) == [0, 1, 2] and df["val_dice"].idxmax() == 2
    assert FitResult().to_pandas().empty


def test_data_check_rows_name_problems_and_duplicates(figshare_root, tmp_path):
    root = tmp_path / "fs"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    with (figshare_root / "metadata.csv").open(newline="") as fh:
        rows = {r["index"]: r for r in csv.DictReader(fh)}
    with (root / "metadata.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["index", "label", "label_name", "cv_fold"])
        w.writeheader()
        for i in ("1", "2", "3"):
            shutil.copy(figshare_root / "masks" / f"{i}.png", root / "masks" / f"{i}.png")
            w.writerow({k: rows[i][k] for k in ("index", "label", "label_name", "cv_fold")})
    shutil.copy(figshare_root / "images" / "1.png", root / "images" / "1.png")
    shutil.copy(figshare_root / "images" / "1.png", root / "images" / "2.png")  # a copy
    (root / "images" / "3.png").write_bytes(b"not a png")  # damaged
    report = check("figshare", root, progress=False)
    df = report.to_pandas()
    assert list(df.columns) == ["kind", "path", "problem"]
    kinds = dict(zip(df["path"].map(lambda p: p.rsplit("/", 1)[-1]), df["kind"]))
    assert kinds.get("3.png") == "problem" and kinds.get("2.png") == "duplicate"
    assert len(df) == len(report.problems) + sum(len(g) - 1 for g in report.duplicates)
    assert CheckReport("figshare", "x").to_pandas().empty


def test_predictions_one_row_per_image_with_localisation(figshare_masks):
    preds = [
        Prediction(
            f"{i}.png",
            np.zeros((*m.shape, 1)),
            mask=m,
            spacing=(0.5, 0.5),
            orientation="radiological",
        )
        for i, m in enumerate(figshare_masks, start=1)
    ]
    preds.append(Prediction("empty.png", np.zeros((8, 8, 1)), mask=np.zeros((8, 8), np.uint8)))
    df = predictions_to_pandas(preds)
    assert len(df) == 4 and list(df["source"][:2]) == ["1.png", "2.png"]
    for k, m in enumerate(figshare_masks):
        rows, cols = np.nonzero(m)
        assert df["bbox_top"][k] == rows.min() and df["bbox_right"][k] == cols.max() + 1
        assert df["centroid_col_mm"][k] == pytest.approx(cols.mean() * 0.5, abs=1e-3)
        assert df["side"][k] == ("left" if cols.mean() > 127.5 else "right")
    assert not df["tumour_found"][3] and math.isnan(df["bbox_top"][3])
    assert df["spacing_row_mm"][0] == 0.5


def test_classifier_predictions_spread_probabilities():
    p = Prediction(
        "x.png",
        np.zeros((4, 4, 1)),
        label=1,
        class_probabilities=np.array([0.25, 0.75]),
        class_names=("a", "b"),
    )
    df = predictions_to_pandas([p])
    assert (df["label"][0], df["p_a"][0], df["p_b"][0]) == ("b", 0.25, 0.75)
    assert "bbox_top" not in df.columns


def test_without_pandas_the_error_names_the_extra(monkeypatch):
    import neuroseg._optional as optional

    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(optional.importlib, "import_module", fake)
    for call in (
        lambda: FitResult(history={"loss": [1.0]}).to_pandas(),
        lambda: CVResult().to_pandas(),
        lambda: CheckReport("figshare", "x").to_pandas(),
        lambda: predictions_to_pandas([]),
        lambda: evaluate_segmentation(
            np.ones((1, 4, 4)), np.ones((1, 4, 4)), metrics=["dice"], n_bootstrap=2
        ).to_pandas(),
    ):
        with pytest.raises(MissingDependencyError, match=r"neuroseg\[pandas\]"):
            call()
