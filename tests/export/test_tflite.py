import json

import keras
import numpy as np
import pytest

from neuroseg.data import SlicePreprocessor
from neuroseg.errors import ConfigError, ModelError
from neuroseg.export.runtime import load_exported
from neuroseg.export.tflite import QUANTIZATIONS, export_tflite, metadata_path

from .conftest import tiny_model


@pytest.mark.data
@pytest.mark.parametrize("quantize", [None, "float16", "int8"])
def test_tflite_matches_keras(model, val_inputs, tmp_path, quantize):
    x = val_inputs
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
def test_int8_is_smaller_and_needs_data(model, val_inputs, tmp_path):
    x = val_inputs
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
def test_raw_file_probabilities_match_the_prepared_model(model, val, tmp_path):
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


# ---------------------------------------------------------------- tiny models, no real data
def test_quantizations_are_the_documented_three():
    assert QUANTIZATIONS == (None, "float16", "int8")


def test_float32_file_computes_what_the_model_computes(tmp_path):
    # 2 x - 1 per pixel: 0 -> -1, 0.25 -> -0.5, 0.5 -> 0, 1 -> 1
    path = export_tflite(tiny_model(kernel=2.0, bias=-1.0), tmp_path / "sub" / "m.tflite")
    assert path == tmp_path / "sub" / "m.tflite" and path.stat().st_size > 0
    runner = load_exported(path)
    assert runner.input_shape == (1, 4, 4, 1) and runner.input_dtype == np.float32
    x = np.zeros((2, 4, 4, 1), np.float32)
    x[0, 0, :, 0] = [0.0, 0.25, 0.5, 1.0]
    got = runner(x)["mask"]
    assert got.shape == (2, 4, 4, 1)
    np.testing.assert_allclose(got[0, 0, :, 0], [-1.0, -0.5, 0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(got[1], -1.0, atol=1e-6)
    meta = json.loads(metadata_path(path).read_text())
    assert meta["input"] == {"shape": [1, 4, 4, 1], "dtype": "float32"}
    assert meta["quantize"] == "none" and "preprocessor" not in meta


def test_float16_is_recorded_in_the_metadata(tmp_path):
    path = export_tflite(tiny_model(kernel=0.5), tmp_path / "h.tflite", quantize="float16")
    assert json.loads(metadata_path(path).read_text())["quantize"] == "float16"
    x = np.full((1, 4, 4, 1), 0.5, np.float32)
    np.testing.assert_allclose(load_exported(path)(x)["mask"], 0.25, atol=1e-3)


def test_preparation_inside_the_file_takes_raw_pixels(tmp_path):
    # min-max inside the file: pixels 0 and 255 become 0 and 1; the model doubles them
    pre = SlicePreprocessor(channels=1, image_size=4)
    path = export_tflite(tiny_model(kernel=2.0), tmp_path / "raw.tflite", preprocessor=pre)
    runner = load_exported(path)
    assert runner.input_dtype == np.uint8
    pixels = np.zeros((1, 4, 4, 1), np.uint8)
    pixels[0, :2] = 255
    got = runner(pixels)["mask"][0, ..., 0]
    np.testing.assert_allclose(got[:2], 2.0, atol=1e-6)
    np.testing.assert_allclose(got[2:], 0.0, atol=1e-6)
    meta = json.loads(metadata_path(path).read_text())
    assert meta["input"]["dtype"] == "uint8" and meta["preprocessor"]["config"]["image_size"]


def test_input_size_fixes_a_size_agnostic_model(tmp_path):
    free = tiny_model(size=(None, None))
    with pytest.raises(ModelError, match="input_size"):
        export_tflite(free, tmp_path / "x.tflite")
    path = export_tflite(free, tmp_path / "fixed.tflite", input_size=(8, 6))
    assert load_exported(path).input_shape == (1, 8, 6, 1)


def test_bad_arguments_are_refused_before_converting(tmp_path):
    m = tiny_model()
    with pytest.raises(ConfigError, match="quantize"):
        export_tflite(m, tmp_path / "x.tflite", quantize="int4")
    with pytest.raises(ConfigError, match="representative"):
        export_tflite(m, tmp_path / "x.tflite", quantize="int8")
    with pytest.raises(ConfigError, match="representative"):
        export_tflite(m, tmp_path / "x.tflite", quantize="int8", representative_data=np.zeros(0))
    with pytest.raises(ModelError, match="takes"):
        export_tflite(
            m,
            tmp_path / "x.tflite",
            quantize="int8",
            representative_data=np.zeros((2, 4, 5, 1), np.float32),
        )
    with pytest.raises(ModelError, match="fixed at"):
        export_tflite(m, tmp_path / "x.tflite", input_size=(8, 8))
    flat = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ModelError, match="not \\(N, H, W, C\\)"):
        export_tflite(flat, tmp_path / "x.tflite")
    assert not (tmp_path / "x.tflite").exists()
