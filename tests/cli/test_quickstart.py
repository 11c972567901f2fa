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


def test_quickstart_other_preset_with_averaged_weights(tmp_path, capsys):
    args = ["quickstart", "--epochs", "1", "--image-size", "64", "--out", str(tmp_path),
            "--model", "resunet-fast", "--ema", "0.9"]  # fmt: skip
    assert main(args) == 0
    assert "Training resunet-fast (" in capsys.readouterr().out
    summary = json.loads((tmp_path / "metrics.json").read_text())
    assert summary["model"] == "resunet-fast" and summary["ema_momentum"] == 0.9
    from neuroseg.models import load_model

    assert load_model(tmp_path / "model.keras").optimizer.use_ema


def test_quickstart_refuses_a_classifier(tmp_path, capsys):
    assert main(["quickstart", "--model", "classifier-cnn", "--out", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "segmentation" in err and "resunet-fast" in err
    assert not (tmp_path / "model.keras").exists()


def test_quickstart_refuses_zero_epochs(tmp_path, capsys):
    out = tmp_path / "qs"
    assert main(["quickstart", "--epochs", "0", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "neuroseg: error: --epochs must be >= 1\n"
    assert not out.exists()


def test_quickstart_options_and_defaults():
    from neuroseg.cli import build_parser
    from neuroseg.quickstart import DEFAULT_EPOCHS, DEFAULT_MODEL

    args = build_parser().parse_args(["quickstart"])
    assert (args.epochs, args.model, args.image_size, args.ema, args.seed, args.out) == (
        DEFAULT_EPOCHS, DEFAULT_MODEL, 128, None, 0, "neuroseg-quickstart",
    )  # fmt: skip
    args = build_parser().parse_args(["quickstart", "--ema", "0.99", "--seed", "3"])
    assert (args.ema, args.seed) == (0.99, 3)
