import csv
import json

from neuroseg.cli import main

CONFIG = """
[data]
format = "figshare"
path = "{path}"
image_size = 32
batch_size = 8
limit = {limit}
val_groups = ["fold-2"]

[model]
name = "resunet-small"
base_filters = 4

[augment]
flip = true

[train]
epochs = 2
seed = 1

[cv]
folds = 4
"""


def _config(tmp_path, figshare_root, limit=48):
    path = tmp_path / "run.toml"
    path.write_text(CONFIG.format(path=figshare_root, limit=limit))
    return path


def test_train_then_resume(tmp_path, figshare_root, capsys):
    cfg = _config(tmp_path, figshare_root)
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--set", "train.epochs=1"]) == 0
    assert main(["train", "--config", str(cfg), "--out", str(out), "--resume"]) == 0
    with (out / "history.csv").open() as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == [0, 1]
    assert "validation slices (patient-wise)" in capsys.readouterr().out
    assert (out / "experiment.toml").is_file() and (out / "best.keras").is_file()


def test_cv_two_folds(tmp_path, figshare_root, capsys):
    cfg = _config(tmp_path, figshare_root, limit=400)
    out = tmp_path / "cv"
    argv = [
        "cv",
        "--config",
        str(cfg),
        "--out",
        str(out),
        "--set",
        "train.epochs=1",
        "--folds",
        "2",
    ]
    assert main(argv) == 0
    summary = json.loads((out / "cv_summary.json").read_text())
    assert [f["fold"] for f in summary["folds"]] == [1, 2]
    held_out = [f["val_groups"] for f in summary["folds"]]
    assert all(held_out) and not set(held_out[0]) & set(held_out[1])  # patient-wise
    with (out / "cv_folds.csv").open() as fh:
        assert [r["val_groups"].split() for r in csv.DictReader(fh)] == held_out
    assert {"dice", "iou", "precision", "recall", "dice_pooled"} <= set(summary["summary"])
    assert (out / "fold_1" / "best.keras").is_file() and (out / "fold_2" / "eval.json").is_file()
    assert "±" in capsys.readouterr().out


def test_bad_config_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\nformat = "figshare"\n')
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "[data] needs 'path'" in capsys.readouterr().err
