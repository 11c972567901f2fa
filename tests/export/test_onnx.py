import json

import numpy as np
import pytest

from neuroseg.data import SlicePreprocessor
from neuroseg.errors import ModelError
from neuroseg.export.compare import compare_export
from neuroseg.export.metadata import metadata_path
from neuroseg.export.onnx import export_onnx
from neuroseg.export.runtime import load_exported

from .conftest import tiny_model

pytest.importorskip("tf2onnx")
pytest.importorskip("onnxruntime")


@pytest.mark.data
def test_onnx_checked_with_onnxruntime(model, val_inputs, tmp_path):
    x = val_inputs
    runner = load_exported(export_onnx(model, tmp_path / "m.onnx"))
    assert runner.kind == "onnx" and runner.input_shape[1:] == (64, 64, 1)
    np.testing.assert_allclose(runner(x)["mask"], np.asarray(model(x)), atol=1e-4)
    with pytest.raises(ModelError, match="input of shape"):
        runner(np.zeros((1, 32, 32, 1), "float32"))


@pytest.mark.data
def test_onnx_with_preparation_records_it_in_the_file(model, val, tmp_path):
    import onnx

    pre = SlicePreprocessor(channels=1, image_size=64, crop="brain")
    path = export_onnx(model, tmp_path / "m.onnx", preprocessor=pre)
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    meta = json.loads(props["neuroseg"])
    assert meta["input"]["dtype"] == "uint8"
    assert meta["preprocessor"]["config"]["crop"] == "brain"
    report = compare_export(model, path, val, preprocessor=pre, repeats=3)
    assert report["input_dtype"] == "uint8"
    assert abs(report["dice_delta"]) < 0.01


# ---------------------------------------------------------------- tiny models, no real data
def test_dynamic_batch_and_hand_computed_output(tmp_path):
    import onnx

    # 3 x + 0.5 per pixel
    path = export_onnx(tiny_model(kernel=3.0, bias=0.5), tmp_path / "sub" / "m.onnx")
    assert path == tmp_path / "sub" / "m.onnx"
    runner = load_exported(path)
    assert runner.input_shape == (None, 4, 4, 1) and runner.input_dtype == np.float32
    x = np.zeros((3, 4, 4, 1), np.float32)
    x[2, 1, 1, 0] = 1.0
    got = runner(x)["mask"]
    assert got.shape == (3, 4, 4, 1)
    assert got[2, 1, 1, 0] == pytest.approx(3.5, abs=1e-6)
    assert np.count_nonzero(np.abs(got - 0.5) > 1e-6) == 1
    # the same metadata inside the file and beside it
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    beside = json.loads(metadata_path(path).read_text())
    assert json.loads(props["neuroseg"]) == beside
    assert beside["input"] == {"shape": [1, 4, 4, 1], "dtype": "float32"}
    assert beside["quantize"] == "none"


def test_preparation_inside_takes_uint8_rgb(tmp_path):
    # grey model, RGB pixels in: equal channels stay the grey value; min-max to [0, 1]
    pre = SlicePreprocessor(channels=1, image_size=4)
    path = export_onnx(tiny_model(), tmp_path / "rgb.onnx", preprocessor=pre, raw_channels=3)
    runner = load_exported(path)
    assert runner.input_dtype == np.uint8 and runner.input_shape[1:] == (4, 4, 3)
    pixels = np.zeros((1, 4, 4, 3), np.uint8)
    pixels[0, 0, 0] = 200
    pixels[0, 3, 3] = 100
    got = runner(pixels)["mask"][0, ..., 0]
    assert got[0, 0] == pytest.approx(1.0, abs=1e-6) and got[3, 3] == pytest.approx(0.5, abs=1e-6)
    assert got[1, 1] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ModelError, match="8-bit"):
        runner(pixels.astype(np.float32))


def test_size_agnostic_model_with_preparation_needs_input_size(tmp_path):
    pre = SlicePreprocessor(channels=1)
    free = tiny_model(size=(None, None))
    with pytest.raises(ModelError, match="fix the input size"):
        export_onnx(free, tmp_path / "x.onnx", preprocessor=pre)
    path = export_onnx(free, tmp_path / "ok.onnx", preprocessor=pre, input_size=(8, 4))
    assert load_exported(path).input_shape[1:] == (8, 4, 1)
