import json

import pytest

from neuroseg.cli import main
from neuroseg.cli.export import format_report

SEG_REPORT = {
    "format": "tflite",
    "file": "m.tflite",
    "size_bytes": 2048,
    "quantize": "int8",
    "n_items": 8,
    "latency_ms_keras": 12.5,
    "latency_ms_exported": 2.5,
    "latency_ms_keras_predict": 30.0,
    "latency_ratio": 0.2,
    "dice_keras": 0.8,
    "dice_exported": 0.75,
    "dice_delta": -0.05,
}


def test_report_without_data_is_one_line():
    report = {"format": "onnx", "file": "m.onnx", "size_bytes": 1000}
    assert format_report(report) == "m.onnx (onnx, quantize none): 1000 bytes"


def test_segmentation_report_by_hand():
    w = 28  # the longest measure, "latency of model.predict, ms"
    assert format_report(SEG_REPORT).splitlines() == [
        "m.tflite (tflite, quantize int8): 2048 bytes, compared on 8 items",
        f"{'measure':<{w}}   Keras  tflite",
        f"{'latency, ms (batch 1)':<{w}}   12.50   2.500",
        f"{'latency of model.predict, ms':<{w}}   30.00       -",
        f"{'Dice (per-image mean)':<{w}}  0.8000  0.7500",
        "latency ratio tflite/Keras: 0.2",
        "dice change (tflite - Keras): -0.0500",
    ]


def test_classification_report_shows_accuracy():
    report = {
        **{k: v for k, v in SEG_REPORT.items() if not k.startswith("dice")},
        "format": "onnx",
        "quantize": "none",
        "accuracy_keras": 0.9,
        "accuracy_exported": 0.925,
        "accuracy_delta": 0.025,
    }
    lines = format_report(report).splitlines()
    assert lines[0] == "m.tflite (onnx, quantize none): 2048 bytes, compared on 8 items"
    assert lines[1].split() == ["measure", "Keras", "onnx"]
    assert lines[4].split() == ["accuracy", "0.9000", "0.9250"]
    assert lines[-1] == "accuracy change (onnx - Keras): +0.0250"
    assert not any("Dice" in line or "dice" in line for line in lines)


def test_errors_before_any_export_exit_2(tmp_path, capsys):
    out = str(tmp_path / "m.onnx")
    args = ["export", "--model", str(tmp_path / "missing.keras"), "--out", out]
    assert main([*args, "--format", "onnx", "--quantize", "int8"]) == 2
    assert "neuroseg: error: --quantize applies to TFLite only" in capsys.readouterr().err
    assert main([*args, "--format", "onnx", "--data", "figshare"]) == 2
    assert "Expected FORMAT:PATH" in capsys.readouterr().err
    assert main([*args, "--format", "onnx"]) == 2
    assert "missing.keras" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
    with pytest.raises(SystemExit):
        main([*args, "--format", "coreml"])
    assert "invalid choice: 'coreml'" in capsys.readouterr().err


@pytest.mark.slow
def test_export_command(seg_model_path, figshare_small, tmp_path):
    pytest.importorskip("tf2onnx")
    out, rep = tmp_path / "m.tflite", tmp_path / "r.json"
    args = ["export", "--model", str(seg_model_path), "--format", "tflite", "--quantize", "int8"]
    data = ["--data", f"figshare:{figshare_small}"]
    assert main([*args, *data, "--out", str(out), "--json", str(rep)]) == 0
    report = json.loads(rep.read_text())
    assert report["size_bytes"] == out.stat().st_size
    assert {"latency_ms_keras", "latency_ms_exported", "dice_keras", "dice_exported"} <= set(report)
    assert main([*args, "--out", str(out)]) == 2
