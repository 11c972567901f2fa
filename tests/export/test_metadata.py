import json
from pathlib import Path

from neuroseg.data import SlicePreprocessor
from neuroseg.export.metadata import export_metadata, metadata_path


def test_metadata_path_appends_json_to_the_full_name(tmp_path):
    assert metadata_path("out/m.int8.tflite") == Path("out/m.int8.tflite.json")
    assert metadata_path(tmp_path / "model.onnx") == tmp_path / "model.onnx.json"


def test_without_preprocessor_the_app_prepares_the_slices():
    meta = export_metadata(None, (1, 8, 6, 3), raw=False)
    assert meta["input"] == {"shape": [1, 8, 6, 3], "dtype": "float32"}
    assert meta["in_graph"].startswith("nothing")
    assert "preprocessor" not in meta and "before_the_graph" not in meta
    assert "classification" in meta["outputs"] and "segmentation" in meta["outputs"]
    json.dumps(meta)  # JSON-ready


def test_raw_input_says_what_is_inside_and_what_is_left_to_the_app():
    pre = SlicePreprocessor(channels=1, image_size=8, normalize="zscore")
    meta = export_metadata(pre, (1, 8, 8, 1), raw=True)
    assert meta["input"] == {"shape": [1, 8, 8, 1], "dtype": "uint8"}
    assert meta["in_graph"] == "channel conversion and per-slice z-score over the foreground"
    assert meta["before_the_graph"] == [
        "resize the slice to the input size (bilinear, antialiased)"
    ]
    assert meta["steps"] == pre.describe()
    assert meta["preprocessor"]["config"]["normalize"] == "zscore"
    json.dumps(meta)  # JSON-ready


def test_a_brain_cropped_model_asks_the_app_to_crop_first():
    pre = SlicePreprocessor(channels=1, image_size=8, crop="brain")
    meta = export_metadata(pre, (1, 8, 8, 1), raw=True)
    steps = meta["before_the_graph"]
    assert len(steps) == 2 and steps[0] == pre.describe()["crop"]
    assert steps[1].startswith("resize")


def test_float_input_with_preprocessor_records_the_preprocessor():
    pre = SlicePreprocessor(channels=3, image_size=8)
    meta = export_metadata(pre, (1, 8, 8, 3), raw=False)
    assert meta["input"]["dtype"] == "float32"
    assert meta["preprocessor"]["config"]["channels"] == 3
    assert meta["steps"]["channels"] == pre.describe()["channels"]
    assert "before_the_graph" not in meta  # nothing is left out of a float file's graph
