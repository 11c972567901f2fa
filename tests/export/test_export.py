import json

import keras
import numpy as np
import pytest

from neuroseg.data import load_figshare
from neuroseg.errors import ConfigError, ModelError
from neuroseg.export import compare_export, export_model, export_onnx, export_tflite, load_exported
from neuroseg.inference import Predictor
from neuroseg.models import pretrained_info

pytest.importorskip("tf2onnx")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def model():
    from neuroseg.data import load_sample
    from neuroseg.models import create_model

    keras.utils.set_random_seed(0)
    m = create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8)
    # A few epochs on real slices so activations (and batch-norm statistics) are realistic.
    train = load_sample().to_tf_dataset("segmentation", image_size=64, batch_size=8)
    m.compile(optimizer="adam", loss="binary_crossentropy")
    m.fit(train, epochs=5, verbose=0, shuffle=False)
    return m


@pytest.fixture(scope="module")
def val(figshare_root):
    return load_figshare(figshare_root, folds=[4])[:8]


def _inputs(model, val):
    p = Predictor(model)
    return np.stack([p.preprocess(r.load_image()) for r in val])


@pytest.mark.data
@pytest.mark.parametrize("quantize", [None, "float16", "int8"])
def test_tflite_matches_keras(model, val, tmp_path, quantize):
    x = _inputs(model, val)
    path = export_tflite(model, tmp_path / "m.tflite", quantize=quantize, representative_data=x)
    runner = load_exported(path)
    assert runner.kind == "tflite" and runner.input_shape == (1, 64, 64, 1)
    got = runner(x)["mask"]
    want = np.asarray(model(x, training=False))
    assert got.shape == want.shape
    diff = np.abs(got - want)
    print(quantize, diff.max(), diff.mean())
    if quantize is None:
        assert diff.max() < 1e-4
    elif quantize == "float16":
        assert diff.max() < 0.02
    else:  # int8: 8-bit weights and activations
        assert diff.mean() < 0.05


@pytest.mark.slow
@pytest.mark.data
def test_int8_is_smaller_and_needs_data(model, val, tmp_path):
    x = _inputs(model, val)
    f32 = export_tflite(model, tmp_path / "f.tflite").stat().st_size
    i8 = export_tflite(model, tmp_path / "i.tflite", quantize="int8", representative_data=x)
    assert i8.stat().st_size < f32 / 2.5
    with pytest.raises(ConfigError, match="representative"):
        export_tflite(model, tmp_path / "x.tflite", quantize="int8")
    with pytest.raises(ConfigError):
        export_tflite(model, tmp_path / "x.tflite", quantize="int4")
    with pytest.raises(ModelError, match="shape"):
        export_tflite(model, tmp_path / "x.tflite", quantize="int8", representative_data=x[:, :32])


@pytest.mark.data
def test_onnx_checked_with_onnxruntime(model, val, tmp_path):
    x = _inputs(model, val)
    runner = load_exported(export_onnx(model, tmp_path / "m.onnx"))
    assert runner.kind == "onnx" and runner.input_shape[1:] == (64, 64, 1)
    np.testing.assert_allclose(runner(x)["mask"], np.asarray(model(x)), atol=1e-4)
    with pytest.raises(ModelError, match="input of shape"):
        runner(np.zeros((1, 32, 32, 1), "float32"))


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


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="no such"):
        load_exported(tmp_path / "x.tflite")


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


# ---------------------------------------------------------------- preparation inside the file
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


@pytest.mark.data
def test_raw_file_probabilities_match_the_prepared_model(model, val, tmp_path):
    from neuroseg.data import SlicePreprocessor

    pre = SlicePreprocessor(channels=1, image_size=64)
    path = export_tflite(model, tmp_path / "m.tflite", preprocessor=pre, raw_channels=3)
    runner = load_exported(path)
    assert runner.input_shape == (1, 64, 64, 3)
    for record in val[:4]:
        rgb = np.repeat(record.load_image(), 3, axis=-1)  # an app's RGB pixels
        pixels, done = pre.prepare_raw(rgb, channels=3)
        got = runner(pixels[None])["mask"][0, ..., 0]
        x = pre.prepare_raw(record.load_image())[0].astype(np.float32)
        want = np.asarray(model(pre.prepare_array(x)[None]))[0, ..., 0]
        np.testing.assert_allclose(got, want, atol=1e-4)
        assert pre.invert(got, done).shape == record.load_image().shape[:2]


@pytest.mark.data
def test_onnx_with_preparation_records_it_in_the_file(model, val, tmp_path):
    import onnx

    from neuroseg.data import SlicePreprocessor

    pre = SlicePreprocessor(channels=1, image_size=64, crop="brain")
    path = export_onnx(model, tmp_path / "m.onnx", preprocessor=pre)
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    meta = json.loads(props["neuroseg"])
    assert meta["input"]["dtype"] == "uint8"
    assert meta["preprocessor"]["config"]["crop"] == "brain"
    report = compare_export(model, path, val, preprocessor=pre, repeats=3)
    assert report["input_dtype"] == "uint8"
    assert abs(report["dice_delta"]) < 0.01


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
