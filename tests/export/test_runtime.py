import keras
import numpy as np
import pytest

from neuroseg.data import SlicePreprocessor
from neuroseg.errors import ModelError, ReadError
from neuroseg.export.runtime import ExportedModel, load_exported
from neuroseg.export.tflite import export_tflite

from .conftest import tiny_model


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="no such"):
        load_exported(tmp_path / "x.tflite")


# ---------------------------------------------------------------- tiny models, no real data
@pytest.fixture(scope="module")
def float_file(tmp_path_factory):
    """x + 1 per pixel, float32 input (1, 4, 4, 1)."""
    return export_tflite(tiny_model(bias=1.0), tmp_path_factory.mktemp("rt") / "f.tflite")


def test_unknown_suffix_is_refused(tmp_path):
    path = tmp_path / "m.pb"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="unknown exported format"):
        load_exported(path)


def test_unreadable_onnx_file_is_a_read_error(tmp_path):
    pytest.importorskip("onnxruntime")
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x00garbage, not a protobuf")
    with pytest.raises(ReadError, match="onnxruntime cannot load it"):
        load_exported(path)


def test_tflite_runs_a_batch_image_by_image(float_file):
    runner = load_exported(float_file, num_threads=1)
    assert isinstance(runner, ExportedModel)
    assert runner.path == float_file and runner.kind == "tflite"
    assert runner.input_shape == (1, 4, 4, 1) and runner.input_dtype == np.float32
    assert runner.input_quantization == (0.0, 0)  # a float input is not quantised
    x = np.arange(3 * 16, dtype=np.float32).reshape(3, 4, 4, 1)
    out = runner(x)
    assert list(out) == ["mask"] and out["mask"].dtype == np.float32
    np.testing.assert_allclose(out["mask"], x + 1.0, atol=1e-5)
    raw = runner.run_one(x[1:2])
    assert len(raw) == 1
    np.testing.assert_allclose(raw[0], x[1:2] + 1.0, atol=1e-5)
    # float64 input is cast to the file's float32
    np.testing.assert_allclose(runner(x.astype(np.float64))["mask"], x + 1.0, atol=1e-5)


def test_wrong_input_shapes_are_refused(float_file):
    runner = load_exported(float_file)
    with pytest.raises(ModelError, match="input of shape"):
        runner(np.zeros((1, 4, 5, 1), np.float32))
    with pytest.raises(ModelError, match="input of shape"):
        runner(np.zeros((4, 4, 1), np.float32))  # no batch axis


def test_raw_file_refuses_float_input(tmp_path):
    path = export_tflite(
        tiny_model(), tmp_path / "raw.tflite", preprocessor=SlicePreprocessor(image_size=4)
    )
    runner = load_exported(path)
    assert runner.input_dtype == np.uint8
    with pytest.raises(ModelError, match="raw 8-bit slices"):
        runner(np.zeros((1, 4, 4, 1), np.float32))


def test_classifier_output_is_the_label(tmp_path):
    inp = keras.Input((4, 4, 1))
    x = keras.layers.GlobalAveragePooling2D()(inp)
    out = keras.layers.Dense(3, activation="softmax")(x)
    path = export_tflite(keras.Model(inp, out), tmp_path / "c.tflite")
    got = load_exported(path)(np.ones((2, 4, 4, 1), np.float32))
    assert list(got) == ["label"] and got["label"].shape == (2, 3)
    np.testing.assert_allclose(got["label"].sum(axis=1), 1.0, atol=1e-5)
