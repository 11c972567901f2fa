import json
import time

import numpy as np
import pytest

from neuroseg.data import Record, SliceDataset, SlicePreprocessor, load_figshare
from neuroseg.errors import ConfigError, EmptyDatasetError, ModelError
from neuroseg.export.compare import (
    FORMATS,
    compare_export,
    export_model,
    interleaved_latency_ms,
    median_latency_ms,
)
from neuroseg.export.onnx import export_onnx
from neuroseg.export.runtime import load_exported
from neuroseg.export.tflite import export_tflite
from neuroseg.inference import Predictor
from neuroseg.models import pretrained_info

from .conftest import tiny_model


@pytest.mark.data
def test_export_model_report(model, val, tmp_path):
    report = export_model(
        model, tmp_path / "m.tflite", quantize="int8", data=val, json_out=tmp_path / "r.json"
    )
    assert json.loads((tmp_path / "r.json").read_text()) == report
    for key in (
        "size_bytes",
        "latency_ms_keras",
        "latency_ms_exported",
        "dice_keras",
        "dice_exported",
        "dice_delta",
        "latency_ms_keras_predict",
    ):
        assert key in report
    assert report["size_bytes"] == (tmp_path / "m.tflite").stat().st_size
    assert report["n_items"] == 8 and report["quantize"] == "int8"
    assert report["dice_delta"] == pytest.approx(report["dice_exported"] - report["dice_keras"])
    # what `neuroseg export` prints
    from neuroseg.cli.export import format_report
    from neuroseg.tables import format_number

    text = format_report(report)
    assert text.splitlines()[0].endswith("compared on 8 items")
    dice_row = next(ln for ln in text.splitlines() if ln.startswith("Dice (per-image mean)"))
    assert dice_row.split()[-2:] == [
        format_number(report["dice_keras"]),
        format_number(report["dice_exported"]),
    ]
    assert f"dice change (tflite - Keras): {report['dice_delta']:+.4f}" in text
    with pytest.raises(ConfigError, match="TFLite only"):
        export_model(model, tmp_path / "m.onnx", format="onnx", quantize="int8", data=val)
    with pytest.raises(ConfigError, match="format"):
        export_model(model, tmp_path / "m.x", format="coreml")


@pytest.mark.data
def test_classifier_accuracy_report(val, tmp_path, capsys):
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    from tests.inference.conftest import make_classifier

    clf = make_classifier()
    path = export_onnx(clf, tmp_path / "c.onnx")
    capsys.readouterr()
    report = compare_export(clf, path, val, repeats=3, progress=True)
    assert "accuracy_keras" in report and "dice_keras" not in report
    assert report["accuracy_exported"] == pytest.approx(report["accuracy_keras"])
    err = capsys.readouterr().err  # one bar per stage, each over the 8 items
    for stage in ("export: reading", "export: Keras", "export: onnx"):
        assert f"{stage}  8/8" in err
    compare_export(clf, path, val, repeats=3, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.data
def test_dice_with_crop_maps_masks_back_like_the_predictor(model, val, tmp_path):
    # A model used with crop="brain": the report's Keras Dice must score masks pasted back
    # into the full frame, exactly as `neuroseg evaluate` (the Predictor) does.
    from neuroseg.inference import evaluate

    path = export_tflite(model, tmp_path / "m.tflite")
    report = compare_export(model, path, val, crop="brain", repeats=3)
    reference = evaluate(Predictor(model, crop="brain"), val).summary["dice"]
    assert report["dice_keras"] == pytest.approx(reference, abs=1e-6)
    assert report["dice_exported"] == pytest.approx(reference, abs=0.02)  # float32 file


@pytest.mark.data
@pytest.mark.parametrize("quantize", [None, "int8"])
def test_raw_8bit_file_agrees_with_the_predictor(model, val, tmp_path, quantize):
    from neuroseg.data import SlicePreprocessor
    from neuroseg.export import metadata_path

    pre = SlicePreprocessor(channels=1, image_size=64, crop="brain")
    report = export_model(
        model, tmp_path / "m.tflite", quantize=quantize, data=val, preprocessor=pre
    )
    assert report["input_dtype"] == "uint8" and report["preprocessing_in_file"]
    runner = load_exported(tmp_path / "m.tflite")
    assert runner.input_dtype == np.uint8
    if quantize == "int8":
        assert runner.input_quantization == (1.0, 0)  # the uint8 input is the raw pixels
    # the Keras side is the Predictor itself
    from neuroseg.inference import evaluate

    reference = evaluate(Predictor(model, preprocessor=pre), val).summary["dice"]
    assert report["dice_keras"] == pytest.approx(reference, abs=1e-6)
    assert abs(report["dice_delta"]) < (0.01 if quantize is None else 0.05)
    meta = json.loads(metadata_path(tmp_path / "m.tflite").read_text())
    assert meta["input"] == {"shape": [1, 64, 64, 1], "dtype": "uint8"}
    assert meta["preprocessor"]["config"]["crop"] == "brain"
    assert "brain" in meta["before_the_graph"][0]
    with pytest.raises(ModelError, match="8-bit"):
        runner(np.zeros((1, 64, 64, 1), np.float32))


@pytest.mark.slow
@pytest.mark.data
def test_pretrained_int8_raw_export_agrees_with_the_predictor(figshare_root, tmp_path):
    data = load_figshare(figshare_root, folds=[4])[:12]
    report = export_model(
        "resunet-figshare", tmp_path / "rf.tflite", quantize="int8", data=data, progress=False
    )
    expected = list(pretrained_info("resunet-figshare").input_shape)
    assert report["input_shape"] == expected and report["input_dtype"] == "uint8"
    assert report["dice_keras"] > 0.5
    assert abs(report["dice_delta"]) < 0.02


@pytest.mark.data
def test_int8_calibration_mixes_grey_and_rgb_slices(figshare_root, shared_data, tmp_path):
    """Grey Figshare PNGs and RGB Kaggle JPEGs calibrate one int8 file (they used to fail to
    stack: each raw slice kept its own channel count)."""
    import shutil

    from neuroseg.data import load_class_folders, read_image

    kaggle = shared_data / "kaggle4-training"
    for folder, names in {
        "glioma": ["Tr-glTr_0000.jpg", "Tr-glTr_0003.jpg"],
        "notumor": ["Tr-noTr_0000.jpg", "Tr-noTr_0001.jpg"],
    }.items():
        (tmp_path / "d" / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(kaggle / folder / name, tmp_path / "d" / folder / name)
    for i in (1, 2):  # grey Figshare slices (meningioma)
        (tmp_path / "d" / "meningioma").mkdir(exist_ok=True)
        shutil.copy(figshare_root / "images" / f"{i}.png", tmp_path / "d" / "meningioma")
    data = load_class_folders(tmp_path / "d")
    assert {read_image(r.image).shape[-1] for r in data} == {1, 3}  # both kinds are there
    report = export_model(
        "classifier-4class", tmp_path / "c.tflite", quantize="int8", data=data, progress=False
    )
    assert report["input_shape"] == [128, 128, 1] and report["input_dtype"] == "uint8"
    assert abs(report["accuracy_exported"] - report["accuracy_keras"]) <= 1 / 6


# ---------------------------------------------------------------- no real data
def test_formats():
    assert FORMATS == ("tflite", "onnx")


def test_median_latency_calls_warmup_plus_repeats_times():
    calls = []
    ms = median_latency_ms(lambda: calls.append(1), repeats=5, warmup=2)
    assert len(calls) == 7 and ms >= 0.0
    # time.sleep never returns early: every timed call takes at least 2 ms
    assert median_latency_ms(lambda: time.sleep(0.002), repeats=3, warmup=0) >= 2.0


def test_interleaved_latency_alternates_the_functions():
    order = []
    fns = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    times = interleaved_latency_ms(fns, repeats=3, warmup=1)
    assert sorted(times) == ["a", "b"] and all(t >= 0.0 for t in times.values())
    assert order == ["a", "b"] * 4  # one warm-up round, then three timed rounds


def _squares(n: int = 3) -> SliceDataset:
    """8x8 slices: a bright square (255) on black, its mask the square itself."""
    records = []
    for i in range(n):
        image = np.zeros((8, 8, 1), np.uint8)
        image[i : i + 4, 2:6] = 255
        records.append(Record(image, mask=(image[..., 0] > 0).astype(np.uint8)))
    return SliceDataset(records, name="squares")


def test_identity_model_scores_dice_one_on_both_sides(tmp_path):
    # min-max puts the square at 1 and the rest at 0; the model passes that through, so
    # the thresholded output is the mask itself (Dice 1), in Keras and in the raw file
    model = tiny_model(size=(8, 8))
    path = export_tflite(model, tmp_path / "m.tflite", preprocessor=SlicePreprocessor(image_size=8))
    report = compare_export(model, path, _squares(), repeats=3, progress=False)
    assert report["format"] == "tflite" and report["n_items"] == 3
    assert report["input_shape"] == [8, 8, 1]
    assert report["input_dtype"] == "uint8" and report["preprocessing_in_file"] is True
    assert report["size_bytes"] == path.stat().st_size
    assert report["dice_keras"] == pytest.approx(1.0)
    assert report["dice_exported"] == pytest.approx(1.0)
    assert report["dice_delta"] == pytest.approx(0.0, abs=1e-9)
    assert "accuracy_keras" not in report
    assert report["latency_ratio"] == pytest.approx(
        report["latency_ms_exported"] / report["latency_ms_keras"]
    )


def test_export_without_data_reports_the_file_only(tmp_path):
    report = export_model(
        tiny_model(size=(8, 8)), tmp_path / "m.tflite", json_out=tmp_path / "out" / "r.json"
    )
    assert json.loads((tmp_path / "out" / "r.json").read_text()) == report
    assert report == {
        "format": "tflite",
        "file": str(tmp_path / "m.tflite"),
        "size_bytes": (tmp_path / "m.tflite").stat().st_size,
        "quantize": "none",
    }


def test_bad_requests_are_refused(tmp_path):
    model = tiny_model(size=(8, 8))
    with pytest.raises(ConfigError, match="format"):
        export_model(model, tmp_path / "m.x", format="coreml")
    with pytest.raises(ConfigError, match="TFLite only"):
        export_model(model, tmp_path / "m.onnx", format="onnx", quantize="float16")
    with pytest.raises(ConfigError, match="representative"):
        export_model(model, tmp_path / "m.tflite", quantize="int8")
    with pytest.raises(ConfigError, match="representative"):
        export_model(model, tmp_path / "m.tflite", quantize="int8", data=SliceDataset([]))
    assert not list(tmp_path.iterdir())  # refused before anything was written
    with pytest.raises(EmptyDatasetError, match="empty-set"):
        compare_export(model, tmp_path / "m.tflite", SliceDataset([], name="empty-set"))
