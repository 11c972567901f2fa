"""``neuroseg predict`` on real folders: class sub-folders, globs, truth masks, CSV, pictures."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuroseg.cli import build_parser, main
from neuroseg.cli.predict import expand_inputs, run
from neuroseg.data import read_mask
from neuroseg.errors import EmptyDatasetError, ReadError
from neuroseg.inference import (
    PRED_COLOUR,
    TRUTH_COLOUR,
    Predictor,
    gradcam_panels,
    overlay_contours,
    to_rgb8,
)
from neuroseg.metrics import dice, evaluate_segmentation
from neuroseg.models import pretrained_info
from tests.cli.folders import CLASSES, copy_kaggle_classes, read_csv

LGG_PATIENT = "TCGA_HT_7690_19960312"
LGG_SLICES = (13, 15, 18)  # 13 has a small truth region, 15 and 18 large ones
FIGSHARE_SIZE = 256


@pytest.fixture(scope="module")
def kaggle_tree(shared_data, tmp_path_factory) -> Path:
    """Two real Kaggle images per class folder, named 1.jpg and 2.jpg in every folder."""
    return copy_kaggle_classes(
        shared_data, tmp_path_factory.mktemp("kaggle") / "scans", per_class=2
    )


@pytest.fixture(scope="module")
def lgg_folder(shared_data, tmp_path_factory) -> Path:
    """Three real LGG slices with their _mask.tif beside them."""
    src = shared_data / "lgg-kaggle3m" / LGG_PATIENT
    dest = tmp_path_factory.mktemp("lgg") / LGG_PATIENT
    dest.mkdir()
    for k in LGG_SLICES:
        for name in (f"{LGG_PATIENT}_{k}.tif", f"{LGG_PATIENT}_{k}_mask.tif"):
            shutil.copy(src / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def figshare_fold4(figshare_root, tmp_path_factory) -> Path:
    """The first fold-4 Figshare slice of each class, with its mask beside it as X_mask.png."""
    dest = tmp_path_factory.mktemp("figshare") / "fold4"
    dest.mkdir()
    with (figshare_root / "metadata.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["cv_fold"] == "4"]
    for label in ("1", "2", "3"):
        index = next(r["index"] for r in rows if r["label"] == label)
        shutil.copy(figshare_root / "images" / f"{index}.png", dest / f"{index}.png")
        shutil.copy(figshare_root / "masks" / f"{index}.png", dest / f"{index}_mask.png")
    return dest


def _rgb(path: str | Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.mark.data
def test_classifier_on_class_folders(kaggle_tree, tmp_path, capsys):
    out = tmp_path / "pred"
    assert (
        main(["predict", "--model", "classifier-4class", "-r", str(kaggle_tree), "--out", str(out)])
        == 0
    )
    names = list(pretrained_info("classifier-4class").class_names or ())
    doc = json.loads((out / "predictions.json").read_text())
    assert doc["task"] == "classification" and doc["class_names"] == names
    assert "threshold" not in doc
    preds = doc["predictions"]
    expected = [f"{c}/{i}.jpg" for c in CLASSES for i in (1, 2)]
    assert [p["relative_path"] for p in preds] == expected  # sorted, no clash
    for p in preds:
        probs = p["class_probabilities"]
        assert list(probs) == names
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
        assert p["label"] == max(probs, key=probs.__getitem__)
        assert p["label_index"] == names.index(p["label"])
        assert p["confidence"] == probs[p["label"]]
        assert "threshold" not in p and "mask_file" not in p
    # The Python API gives the same labelled summary for the same file.
    from neuroseg.inference import Predictor

    api = Predictor("classifier-4class").predict(kaggle_tree / "pituitary" / "2.jpg")[0].summary()
    cli = preds[-1]
    assert cli["label"] == api["label"]
    for name in names:
        assert cli["class_probabilities"][name] == pytest.approx(
            api["class_probabilities"][name], abs=1e-5
        )
    rows = read_csv(out / "predictions.csv")
    assert list(rows[0]) == [
        "file",
        "relative_path",
        "task",
        "label",
        "confidence",
        *(f"p_{n}" for n in names),
    ]
    assert [r["relative_path"] for r in rows] == expected
    for r, p in zip(rows, preds):
        assert sum(float(r[f"p_{n}"]) for n in names) == pytest.approx(1.0, abs=1e-4)
        assert r["label"] == p["label"] and float(r["confidence"]) == p["confidence"]
    # Not a terminal: one JSON line per input with the label and confidence.
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["label"], x["confidence"]) for x in lines] == [
        (p["label"], p["confidence"]) for p in preds
    ]
    assert all("class_probabilities" not in x for x in lines)


@pytest.mark.data
def test_overlays_keep_sub_paths(kaggle_tree, tmp_path):
    out = tmp_path / "pred"
    assert (
        main(
            [
                "predict",
                "--model",
                "classifier-4class",
                "-r",
                str(kaggle_tree),
                "--out",
                str(out),
                "--overlay",
            ]
        )
        == 0
    )
    written = sorted(
        p.relative_to(out / "overlays").as_posix() for p in (out / "overlays").rglob("*.png")
    )
    assert written == sorted(f"{c}/{i}.png" for c in CLASSES for i in (1, 2))


@pytest.mark.data
def test_glob_inputs(kaggle_tree, tmp_path):
    found, skipped = expand_inputs([str(kaggle_tree / "**" / "*.jpg")])
    assert [i.relative for i in found] == [f"{c}/{i}.jpg" for c in CLASSES for i in (1, 2)]
    assert skipped == 0
    found, _ = expand_inputs(
        [str(kaggle_tree / "glioma" / "*.jpg"), str(kaggle_tree / "glioma" / "1.jpg")]
    )
    assert [i.relative for i in found] == ["1.jpg", "2.jpg"]  # each file once
    out = tmp_path / "pred"
    pattern = str(kaggle_tree / "me*" / "[12].jpg")
    assert main(["predict", "--model", "classifier-4class", pattern, "--out", str(out)]) == 0
    rows = read_csv(out / "predictions.csv")
    assert [r["relative_path"] for r in rows] == ["meningioma/1.jpg", "meningioma/2.jpg"]


def test_unmatched_glob_and_folder_errors(tmp_path, capsys):
    with pytest.raises(EmptyDatasetError, match=r"\*\.png: the pattern matches no path"):
        expand_inputs([str(tmp_path / "*.png")])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(EmptyDatasetError, match="1 path.*none of them"):
        expand_inputs([str(tmp_path / "*.txt")])
    (tmp_path / "glioma").mkdir()
    cv2.imwrite(str(tmp_path / "glioma" / "1.png"), np.zeros((8, 8), np.uint8))
    with pytest.raises(EmptyDatasetError, match="--recursive"):
        expand_inputs([str(tmp_path)])
    assert [i.relative for i in expand_inputs([str(tmp_path)], recursive=True)[0]] == [
        "glioma/1.png"
    ]
    with pytest.raises(ReadError, match="no such file or folder"):
        expand_inputs([str(tmp_path / "missing")])
    # The command line reports it as an error naming the pattern.
    assert (
        main(
            [
                "predict",
                "--model",
                "resunet-lgg",
                str(tmp_path / "*.jpg"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "*.jpg: the pattern matches no path" in capsys.readouterr().err


def test_folder_walk_order_masks_and_names(tmp_path):
    img = np.zeros((8, 8), np.uint8)
    for name in (
        "s_10.png",
        "s_2.png",
        "s_2_mask.png",
        "s_3_seg.png",
        "s_3.png",
        "b/1.png",
        "c/1.png",
        ".hidden/1.png",
        "lone_mask.png",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / name), img)
    found, skipped = expand_inputs([str(tmp_path)], recursive=True)
    assert [i.relative for i in found] == ["b/1.png", "c/1.png", "s_2.png", "s_3.png", "s_10.png"]
    assert skipped == 3
    # A mask named on its own is an input.
    assert [i.relative for i in expand_inputs([str(tmp_path / "s_2_mask.png")])[0]] == [
        "s_2_mask.png"
    ]


@pytest.mark.data
def test_lgg_truth_masks_give_dice(lgg_folder, tmp_path, capsys):
    out = tmp_path / "pred"
    assert (
        main(
            [
                "predict",
                "--model",
                "resunet-lgg",
                "-r",
                str(lgg_folder),
                "--out",
                str(out),
                "--overlay",
            ]
        )
        == 0
    )
    doc = json.loads((out / "predictions.json").read_text())
    assert doc["threshold"] == 0.5 and doc["skipped_mask_files"] == len(LGG_SLICES)
    preds = doc["predictions"]
    assert [p["relative_path"] for p in preds] == [f"{LGG_PATIENT}_{k}.tif" for k in LGG_SLICES]
    rows = read_csv(out / "predictions.csv")
    for p, row in zip(preds, rows):
        truth = read_mask(p["truth_file"])
        mask = read_mask(p["mask_file"])
        assert p["truth_file"].endswith("_mask.tif") and truth.any()
        assert p["area_px"] == int(mask.sum())
        assert p["dice"] == pytest.approx(dice(truth, mask), abs=1e-5)
        assert 0.0 <= p["iou"] <= p["dice"] <= 1.0
        assert float(row["dice"]) == p["dice"] and row["mask_file"] == p["mask_file"]
    assert max(p["dice"] for p in preds) > 0.8  # the model finds the large tumours
    # The overlay draws both contours: truth in green, prediction in red.
    big = preds[1]
    overlay = cv2.cvtColor(cv2.imread(big["overlay"]), cv2.COLOR_BGR2RGB)
    assert (overlay == TRUTH_COLOUR).all(axis=-1).sum() > 50
    assert (overlay == PRED_COLOUR).all(axis=-1).sum() > 50
    capsys.readouterr()
    # --no-truth ignores the masks: no Dice, no truth contour.
    out2 = tmp_path / "pred2"
    assert (
        main(
            [
                "predict",
                "--model",
                "resunet-lgg",
                "-r",
                str(lgg_folder),
                "--out",
                str(out2),
                "--overlay",
                "--no-truth",
            ]
        )
        == 0
    )
    preds2 = json.loads((out2 / "predictions.json").read_text())["predictions"]
    assert all("dice" not in p and "truth_file" not in p for p in preds2)
    overlay2 = cv2.cvtColor(cv2.imread(preds2[1]["overlay"]), cv2.COLOR_BGR2RGB)
    assert (overlay2 == TRUTH_COLOUR).all(axis=-1).sum() == 0


@pytest.mark.data
def test_terminal_output_is_a_table(lgg_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEUROSEG_PROGRESS", "0")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    out = tmp_path / "pred"
    assert (
        main(["predict", "--model", "resunet-lgg", "-r", str(lgg_folder), "--out", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert not any(line.startswith("{") for line in text.splitlines())
    assert text.splitlines()[0].split() == ["file", "area_px", "dice"]
    assert "per-image mean" in text and "pooled" in text
    assert f"wrote {out / 'predictions.csv'}" in text
    assert f"{len(LGG_SLICES)} mask file(s) skipped" in text
    # --quiet (set by the command line's shared option) prints nothing.
    args = build_parser().parse_args(
        ["predict", "--model", "resunet-lgg", str(lgg_folder), "--out", str(tmp_path / "q")]
    )
    args.quiet = True
    assert run(args) == 0
    assert capsys.readouterr().out == ""
    assert (tmp_path / "q" / "predictions.csv").is_file()


def test_bad_truth_masks_are_named(tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / "scans"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), rng.integers(0, 255, (64, 64), dtype=np.uint8))
    soft = np.zeros((64, 64), np.uint8)
    soft[10:20, 10:20] = 128
    cv2.imwrite(str(folder / "a_mask.png"), soft)
    args = ["predict", "--model", "resunet-lgg", str(folder), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "a_mask.png" in err and "128" in err and "--no-truth" in err
    cv2.imwrite(str(folder / "a_mask.png"), np.zeros((32, 64), np.uint8))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "a_mask.png" in err and "32x64" in err and "64x64" in err
    assert main([*args, "--no-truth"]) == 0


def test_class_names_of_an_own_model(tmp_path, capsys):
    from tests.inference.conftest import make_classifier

    model = tmp_path / "clf.keras"
    make_classifier().save(model)
    cv2.imwrite(
        str(tmp_path / "x.png"), np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    )
    base = ["predict", "--model", str(model), str(tmp_path / "x.png")]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    entry = json.loads((tmp_path / "a" / "predictions.json").read_text())["predictions"][0]
    assert list(entry["class_probabilities"]) == ["class_0", "class_1", "class_2", "class_3"]
    assert main([*base, "--out", str(tmp_path / "b"), "--class-names", "a, b,c,d"]) == 0
    doc = json.loads((tmp_path / "b" / "predictions.json").read_text())
    assert doc["class_names"] == ["a", "b", "c", "d"] and doc["predictions"][0]["label"] in "abcd"
    header = list(read_csv(tmp_path / "b" / "predictions.csv")[0])
    assert header[-4:] == ["p_a", "p_b", "p_c", "p_d"]
    capsys.readouterr()
    assert main([*base, "--out", str(tmp_path / "c"), "--class-names", "a,b"]) == 2
    assert "2 class names (a, b) for a model with 4 classes" in capsys.readouterr().err


@pytest.mark.data
def test_figshare_pictures_are_titled_and_pooled_dice_is_the_cores(
    figshare_fold4, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("NEUROSEG_PROGRESS", "0")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    out = tmp_path / "pred"
    args = ["predict", "--model", "resunet-figshare", str(figshare_fold4), "--out", str(out)]
    assert main([*args, "--overlay", "--gradcam"]) == 0
    text = capsys.readouterr().out
    preds = json.loads((out / "predictions.json").read_text())["predictions"]
    assert len(preds) == 3
    # The printed pooled Dice is evaluate_segmentation's on the same masks.
    truths = [read_mask(p["truth_file"]) for p in preds]
    masks = [read_mask(p["mask_file"]) for p in preds]
    core = evaluate_segmentation(truths, masks, metrics=["dice"], n_bootstrap=10)
    printed = re.search(r"pooled over their pixels (\d\.\d+)", text)
    assert printed is not None
    assert float(printed.group(1)) == pytest.approx(
        core.summary["metrics"]["dice"]["pooled"], abs=5e-5
    )
    mean = re.search(r"per-image mean (\d\.\d+)", text)
    assert mean is not None
    assert float(mean.group(1)) == pytest.approx(np.mean([p["dice"] for p in preds]), abs=5e-5)
    n = FIGSHARE_SIZE
    for p, truth, mask in zip(preds, truths, masks):
        image = cv2.imread(p["source"], cv2.IMREAD_GRAYSCALE)
        plain = to_rgb8(image)
        # Overlay: a strip of titles above the image, the image below with its contours.
        overlay = _rgb(p["overlay"])
        strip = overlay.shape[0] - n
        assert overlay.shape[1:] == (n, 3) and strip > 20
        assert (overlay[:strip] > 128).any(axis=-1).sum() > 100  # white text on black
        below = overlay[strip:]
        assert np.array_equal(below, overlay_contours(image, truth, mask))
        assert (below != plain).any(axis=-1).sum() > 20  # the contours
        assert (below == TRUTH_COLOUR).all(axis=-1).any()
        # Side by side: image | truth | prediction under a strip with one title each.
        pair = _rgb(p["side_by_side"])
        line = pair.shape[0] - n
        assert pair.shape[1:] == (3 * n, 3) and 10 < line < strip
        assert np.array_equal(pair[line:, :n], plain)
        assert (pair[line:, n : 2 * n] == TRUTH_COLOUR).all(axis=-1).any()
        assert (pair[line:, 2 * n :] == PRED_COLOUR).all(axis=-1).any()
        for k in range(3):
            assert (pair[:line, k * n : (k + 1) * n] > 128).any(axis=-1).sum() > 30
        # Grad-CAM: contoured image | heat, titled; the heat changes the right panel.
        cam = _rgb(p["gradcam"])
        assert cam.shape[0] > n and cam.shape[1:] == (2 * n, 3)
        top = cam.shape[0] - n
        assert (cam[:top] > 128).any(axis=-1).sum() > 100
        assert (cam[top:, n:] != cam[top:, :n]).any(axis=-1).sum() > 50  # the heat
    # Montage: one titled tile per slice (each 256 high plus its strip), 3 in a row.
    tiles = _rgb(out / "montage.png")
    assert tiles.shape[1] == 3 * n + 2 * 2
    assert tiles.shape[0] == overlay.shape[0]  # same legend lines as the overlays
    assert (tiles[:strip] > 128).any(axis=-1).sum() > 300


@pytest.mark.data
def test_classifier_gradcam_panels_name_the_call(kaggle_tree, tmp_path):
    out = tmp_path / "pred"
    args = ["predict", "--model", "classifier-4class", "-r", str(kaggle_tree), "--out", str(out)]
    assert main([*args, "--gradcam", "--overlay"]) == 0
    preds = json.loads((out / "predictions.json").read_text())["predictions"]
    assert len(preds) == 2 * len(CLASSES)
    assert not (out / "side_by_side").exists()  # a classifier has no masks to compare
    predictor = Predictor("classifier-4class")
    folder_class = {"notumor": "no_tumor"}
    for p in preds[::3]:  # glioma/1, meningioma/2, pituitary/1: three checked in full
        image = cv2.imread(p["source"], cv2.IMREAD_UNCHANGED)
        h, w = image.shape[:2]
        cam = _rgb(p["gradcam"])
        assert cam.shape[0] > h and cam.shape[1:] == (2 * w, 3)  # image | Grad-CAM
        strip = cam.shape[0] - h
        assert (cam[:strip] > 128).any(axis=-1).sum() > 100
        assert (cam[strip:, w:] != cam[strip:, :w]).any(axis=-1).mean() > 0.01  # the heat
        # The picture is gradcam_panels' with the predicted class, its probability and the
        # class folder's name as the truth.
        folder = Path(p["relative_path"]).parent.name
        expected = gradcam_panels(
            image,
            predictor.grad_cam(image, source=p["source"]),
            predicted=p["label"],
            probability=p["confidence"],
            truth=folder_class.get(folder, folder),
        )
        assert np.abs(cam.astype(int) - expected.astype(int)).max() <= 1
        # The overlay: the image under its titles (file, predicted class, truth).
        overlay = _rgb(p["overlay"])
        assert overlay.shape[1:] == (w, 3) and overlay.shape[0] > h
        top = overlay.shape[0] - h
        assert (overlay[:top] > 128).any(axis=-1).sum() > 100
        assert np.array_equal(overlay[top:], to_rgb8(image))
    montage = _rgb(out / "montage.png")
    assert montage.shape[1] == 4 * 256 + 3 * 2 and montage.shape[0] > 2 * 256


@pytest.mark.data
def test_figshare_localisation_columns_and_boxes(figshare_fold4, tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSEG_PROGRESS", "0")
    out = tmp_path / "pred"
    args = ["predict", "--model", "resunet-figshare", str(figshare_fold4), "--out", str(out)]
    assert main([*args, "--overlay", "--show-box", "--orientation", "radiological", "-q"]) == 0
    preds = json.loads((out / "predictions.json").read_text())["predictions"]
    rows = {r["relative_path"]: r for r in read_csv(out / "predictions.csv")}
    assert len(preds) == 3
    for p in preds:
        mask = read_mask(p["mask_file"])
        assert mask.any()  # every held-out Figshare slice here has a predicted tumour
        rs, cs = np.nonzero(mask)
        box = (p["bbox_top"], p["bbox_left"], p["bbox_bottom"], p["bbox_right"])
        assert box == (rs.min(), cs.min(), rs.max() + 1, cs.max() + 1)
        assert (p["centroid_row"], p["centroid_col"]) == pytest.approx(
            (rs.mean(), cs.mean()), abs=1e-3
        )
        assert p["side"] == ("left" if cs.mean() > 127.5 else "right")
        assert p["components"] >= 1 and p["diameter_px"] > 0
        row = rows[p["relative_path"]]
        assert int(row["bbox_top"]) == p["bbox_top"] and row["side"] == p["side"]
        assert row["centroid_row_mm"] == "" and row["diameter_mm"] == ""  # no spacing in PNGs
        # The overlay (below its title strip) is overlay_contours with the boxes drawn.
        image = cv2.imread(p["source"], cv2.IMREAD_GRAYSCALE)
        truth = read_mask(p["truth_file"])
        overlay = _rgb(p["overlay"])
        below = overlay[overlay.shape[0] - FIGSHARE_SIZE :]
        assert np.array_equal(below, overlay_contours(image, truth, mask, box=True, centroid=True))
        assert (below[box[0], box[1] : box[3]] == PRED_COLOUR).all()  # the box's top edge


@pytest.mark.data
def test_predict_warns_once_about_inputs_with_one_image_in_every_channel(
    shared_data, tmp_path, capsys
):
    from neuroseg.data import load_lgg

    records = load_lgg(shared_data / "lgg-kaggle3m").filter(
        lambda r: r.group == "TCGA_HT_7690_19960312"
    )[14:17]
    scans = tmp_path / "scans"
    scans.mkdir()
    for k, r in enumerate(records):
        image = r.load_image()
        if k < 2:  # FLAIR in every channel, as when the other sequences are missing
            image = np.repeat(image[..., 1:2], 3, axis=-1)
        cv2.imwrite(str(scans / f"s{k}.tif"), np.ascontiguousarray(image[..., ::-1]))
    out = tmp_path / "pred"
    assert main(["predict", "--model", "resunet-lgg", str(scans), "--out", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "same image in all 3 channels" in line]
    assert len(lines) == 1 and lines[0].startswith("neuroseg: warning: 2 input(s)")
    assert "s2.tif" not in lines[0]
    doc = json.loads((out / "predictions.json").read_text())
    assert [Path(p).name for p in doc["repeated_channels"]] == ["s0.tif", "s1.tif"]
