import json

import pytest

from neuroseg.cli import main


@pytest.mark.slow
def test_quickstart_one_epoch(tmp_path, capsys):
    assert main(["quickstart", "--epochs", "1", "--image-size", "64", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for word in ("Dice", "IoU", "Precision", "Recall", "patient-wise"):
        assert word in out
    assert (tmp_path / "model.keras").is_file()
    overlays = sorted((tmp_path / "overlays").glob("*.png"))
    assert len(overlays) == 11
    summary = json.loads((tmp_path / "metrics.json").read_text())
    assert summary["n_test"] == 11 and 0.0 <= summary["per_image"]["dice"] <= 1.0


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "quickstart" in capsys.readouterr().out
