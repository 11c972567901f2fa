import csv
import json

import cv2
import numpy as np
import pytest

from neuroseg.cli import main
from neuroseg.data import read_image, read_mask
from tests.inference.conftest import make_classifier, write_figshare_mat
from tests.inference.test_report import check_report_images


def test_predict_files_with_pictures(seg_model_path, figshare_root, shared_data, tmp_path):
    image = read_image(figshare_root / "images" / "9.png")[..., 0].astype(np.int16)
    mask = read_mask(figshare_root / "masks" / "9.png")
    mat = write_figshare_mat(tmp_path / "9.mat", image, mask, 3, "42")
    nii = shared_data / "tcia-brain-tumor-progression" / "01" / "Pre_Scan_T1.nii.gz"
    png = figshare_root / "images" / "1.png"
    out = tmp_path / "out"
    args = [
        "predict",
        "--model",
        str(seg_model_path),
        str(png),
        str(mat),
        str(nii),
        "--out",
        str(out),
        "--overlay",
        "--gradcam",
        "--tta",
        "--largest-component",
    ]
    assert main(args) == 0
    doc = json.loads((out / "predictions.json").read_text())
    assert doc["task"] == "segmentation" and len(doc["predictions"]) == 3
    by_name = {p["source"].split("/")[-1]: p for p in doc["predictions"]}
    png_mask = cv2.imread(str(out / "masks" / "1.png"), cv2.IMREAD_UNCHANGED)
    assert png_mask.shape == (256, 256) and set(np.unique(png_mask)) <= {0, 255}
    assert by_name["1.png"]["area_px"] == int((png_mask > 0).sum())
    assert by_name["9.mat"]["group"] == "42" and by_name["9.mat"]["true_label"] == 3
    vol = by_name["Pre_Scan_T1.nii.gz"]
    assert "volume_mm3" in vol and (out / "masks" / "Pre_Scan_T1_mask.nii.gz").is_file()
    # the NIfTI mask is in the source file's voxel order, under its affine: the Predictor's
    # mask (training frame) mapped back with the scan's orientation
    import nibabel as nib

    from neuroseg.inference import Predictor, read_scan

    written = nib.load(str(out / "masks" / "Pre_Scan_T1_mask.nii.gz"))
    source = nib.load(str(nii))
    np.testing.assert_array_equal(written.affine, source.affine)
    scan = read_scan(nii)
    predicted = Predictor(seg_model_path, tta=True, largest_component=True).predict(scan)[0]
    np.testing.assert_array_equal(
        np.asarray(written.dataobj), scan.meta["orientation"].to_source(predicted.mask)
    )
    for sub in ("overlays", "side_by_side", "gradcam"):
        assert len(list((out / sub).glob("*.png"))) == 3
    side = cv2.imread(str(out / "side_by_side" / "9.png"))
    assert side.shape[1:] == (768, 3) and side.shape[0] > 256  # panels under a title strip
    assert (out / "montage.png").is_file()


def test_predict_errors(seg_model_path, shared_data, tmp_path, capsys):
    brats = sorted((shared_data / "brats2020-slices" / "images").glob("*.png"))[0]
    assert (
        main(["predict", "--model", str(seg_model_path), str(brats), "--out", str(tmp_path)]) == 2
    )
    assert "channel" in capsys.readouterr().err
    assert (
        main(["predict", "--model", str(tmp_path / "no.keras"), str(brats), "--out", str(tmp_path)])
        == 2
    )
    assert "no such model file" in capsys.readouterr().err


def test_evaluate_segmentation(seg_model_path, figshare_small, tmp_path, capsys):
    args = [
        "evaluate",
        "--model",
        str(seg_model_path),
        "--data",
        f"figshare:{figshare_small}",
        "--json",
        str(tmp_path / "e.json"),
        "--csv",
        str(tmp_path / "e.csv"),
    ]
    assert main(args) == 0
    doc = json.loads((tmp_path / "e.json").read_text())
    assert doc["task"] == "segmentation" and doc["n_items"] == 6
    for key in ("dice", "iou", "precision", "recall"):
        assert 0.0 <= doc["summary"][key] <= 1.0
    # Figshare records carry the publisher's fold, not a patient: no per-patient figure.
    assert "dice_per_patient" not in doc["summary"]
    with (tmp_path / "e.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6
    assert np.mean([float(r["dice"]) for r in rows]) == pytest.approx(doc["summary"]["dice"])


def test_evaluate_classifier(figshare_small, tmp_path):
    path = tmp_path / "clf.keras"
    make_classifier().save(path)
    out = tmp_path / "c.json"
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(path),
                "--data",
                f"figshare:{figshare_small}",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    s = json.loads(out.read_text())["summary"]
    assert {"accuracy", "balanced_accuracy", "confusion_matrix"} <= set(s)
    assert np.array(s["confusion_matrix"]).sum() == 6


@pytest.mark.slow
def test_report_command(figshare_small, tmp_path, capsys):
    from neuroseg.data import load_sample
    from neuroseg.models import create_model
    from neuroseg.train import TrainConfig, fit

    run = tmp_path / "run"
    train = load_sample()[:4].to_tf_dataset("segmentation", image_size=64, batch_size=4)
    fit(
        create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8),
        train,
        config=TrainConfig(epochs=1),
        out=run,
        verbose=0,
    )
    assert main(["report", str(run), "--data", f"figshare:{figshare_small}", "--cases", "2"]) == 0
    parser = check_report_images(run / "report.html")
    assert len(parser.srcs) == 4
    assert main(["report", str(tmp_path / "missing")]) == 2
    # Without --data, the validation split recorded by `neuroseg train` is used.
    (run / "experiment.toml").write_text(
        f'[data]\nformat = "figshare"\npath = "{figshare_small}"\nval_fraction = 0.5\n'
        '[model]\nname = "resunet-small"\n'
    )
    assert main(["report", str(run), "--cases", "1", "--out", str(tmp_path / "r2.html")]) == 0
    text = (tmp_path / "r2.html").read_text(encoding="utf-8")
    assert "validation fraction 0.5" in text and f"figshare:{figshare_small}" in text
    assert len(check_report_images(tmp_path / "r2.html").srcs) == 2


def test_evaluate_with_data_options(shared_data, tmp_path, capsys):
    # a flat folder whose name is no class alias: --data-option names its class
    folder = tmp_path / "extra-scans"
    folder.mkdir()
    for src in sorted((shared_data / "br35h-no-tumor").glob("*.jpg"))[:3]:
        (folder / src.name).write_bytes(src.read_bytes())
    path = tmp_path / "clf.keras"
    make_classifier().save(path)
    out = tmp_path / "c.json"
    args = ["evaluate", "--model", str(path), "--data", f"class-folders:{folder}"]
    assert main([*args, "--json", str(out), "--data-option", "class_name=no_tumor"]) == 0
    s = json.loads(out.read_text())["summary"]
    assert np.array(s["confusion_matrix"])[2].sum() == 3  # all three are "no tumour"
    capsys.readouterr()
    assert main(args) != 0  # without it the folder's class is unknown
    assert "class_name" in capsys.readouterr().err
    assert main([*args, "--data-option", "class_name"]) != 0
    assert "KEY=VALUE" in capsys.readouterr().err
