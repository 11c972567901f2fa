"""``neuroseg train`` and ``neuroseg cv``."""

import csv
import json

import numpy as np
import pytest

from neuroseg.cli import build_parser, main

CONFIG = """
[data]
format = "figshare"
path = "{path}"
image_size = 32
batch_size = 8
limit = 48
val_groups = ["fold-2"]

[model]
name = "resunet-small"
base_filters = 4

[train]
epochs = 3
schedule = "cosine"
warmup_epochs = 2
seed = 1
"""


def _config(tmp_path, data_path):
    path = tmp_path / "run.toml"
    path.write_text(CONFIG.format(path=data_path))
    return path


@pytest.mark.parametrize("command", ["train", "cv"])
def test_a_failed_run_leaves_no_run_directory(tmp_path, capsys, command):
    cfg = _config(tmp_path, tmp_path / "no-such-data")
    out = tmp_path / "runs" / "a"
    assert main([command, "--config", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "metadata.csv: not found" in err and "removed the run directory" in err
    assert not out.exists() and (tmp_path / "runs").is_dir()  # only what the run made


@pytest.mark.parametrize("where", ["", "fold_2/"])
def test_an_epoch_committed_before_its_state_json_counts_as_finished(tmp_path, capsys, where):
    # killed between the commit (checkpoints/manifest.json) and the top-level state.json:
    # the failed-run clean-up must keep the folder and say how to resume
    cfg = _config(tmp_path, tmp_path / "no-such-data")
    out = tmp_path / "run"
    manifest = out / f"{where}checkpoints" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"completed_epochs": 1, "folder": "epoch-0001"}))
    assert main(["train", "--config", str(cfg), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "finished epochs are kept" in err and "1 epoch(s)" in err
    assert manifest.is_file()


def test_a_failed_run_keeps_a_folder_that_was_there(tmp_path, capsys):
    cfg = _config(tmp_path, tmp_path / "no-such-data")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "old").mkdir()
    assert main(["train", "--config", str(cfg), "--out", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "old"]
    assert (out / "notes.txt").read_text() == "keep me"
    assert "experiment.toml" in capsys.readouterr().err  # what it removed, named


@pytest.mark.slow
@pytest.mark.data
def test_a_failed_resume_keeps_finished_epochs_and_says_how_to_resume(
    tmp_path, figshare_root, capsys
):
    cfg = _config(tmp_path, figshare_root)
    out = tmp_path / "run"
    argv = ["train", "--config", str(cfg), "--out", str(out)]
    assert main([*argv, "--set", "train.epochs=1"]) == 0
    printed = capsys.readouterr().out
    assert "warmup_epochs = 2 lowered to 0" in printed  # said in the run summary
    assert (out / "state.json").is_file()
    missing = ["--set", f"data.path={tmp_path / 'gone'}", "--resume"]
    assert main([*argv, *missing]) == 2
    err = capsys.readouterr().err
    assert "finished epochs are kept" in err and f"{out}: 1 epoch(s)" in err
    assert "--resume" in err.split("Continue with:")[1]
    assert (out / "best.keras").is_file() and (out / "history.csv").is_file()


@pytest.mark.parametrize(
    ("command", "described", "example"),
    [
        (
            "train",
            "A killed run continues with --resume",
            "neuroseg train --config examples/configs/resunet_lgg.toml --out runs/lgg",
        ),
        (
            "cv",
            "one run directory per fold",
            "neuroseg cv --config examples/configs/figshare_segmentation.toml",
        ),
        ("report", "a model file has no training curves", "neuroseg report --model resunet-lgg"),
        ("quickstart", "patient-wise hold-out", "neuroseg quickstart --epochs 5 --out /tmp/qs"),
    ],
)
def test_help_has_a_description_and_an_example(capsys, command, described, example):
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # the same with or without reflowing
    assert described in text and "examples:" in text and example in text


# Training and cross-validation runs on the real data (were tests/train/test_cli_train.py).

CV_CONFIG = """
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


def _cv_config(tmp_path, figshare_root, limit=48):
    path = tmp_path / "run.toml"
    path.write_text(CV_CONFIG.format(path=figshare_root, limit=limit))
    return path


@pytest.mark.slow
def test_train_then_resume(tmp_path, figshare_root, capsys):
    cfg = _cv_config(tmp_path, figshare_root)
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--set", "train.epochs=1"]) == 0
    assert main(["train", "--config", str(cfg), "--out", str(out), "--resume"]) == 0
    with (out / "history.csv").open() as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == [0, 1]
    assert "validation slices (patient-wise)" in capsys.readouterr().out
    assert (out / "experiment.toml").is_file() and (out / "best.keras").is_file()
    # the run's preprocessor travels with its checkpoints: the Predictor prepares as training did
    from neuroseg.data import SlicePreprocessor
    from neuroseg.inference import Predictor

    saved = SlicePreprocessor.load(out / "preprocessor.json")
    assert saved.image_size == (32, 32) and saved.channels == 1
    assert Predictor(out / "best.keras").preprocessor == saved


@pytest.mark.slow
def test_cv_two_folds(tmp_path, figshare_root, capsys):
    cfg = _cv_config(tmp_path, figshare_root, limit=400)
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
    # every held-out slice once, with its fold, and the figures pooled over all of them
    with (out / "cv_items.csv").open() as fh:
        items = list(csv.DictReader(fh))
    assert len(items) == sum(f["n_val"] for f in summary["folds"])
    assert len({r["source"] for r in items}) == len(items)
    for f in summary["folds"]:  # a fold's mean is the mean of its own rows
        mine = [float(r["dice"]) for r in items if r["fold"] == str(f["fold"])]
        assert np.mean(mine) == pytest.approx(f["dice"], abs=1e-5)
    pooled = summary["pooled"]["segmentation"]["metrics"]["dice"]
    assert pooled["per_image"]["mean"] == pytest.approx(
        np.mean([float(r["dice"]) for r in items]), abs=1e-5
    )
    assert pooled["per_image"]["ci_low"] <= pooled["per_image"]["mean"]
    assert summary["pooled"]["bootstrap"]["unit"] == "image"  # publisher folds, no patients
    assert (out / "fold_1" / "best.keras").is_file() and (out / "fold_2" / "eval.json").is_file()
    # each fold says which model and epoch its figures are of (1 epoch: the first)
    assert [(f["scored"], f["scored_epoch"]) for f in summary["folds"]] == [("best.keras", 1)] * 2
    assert not {"scored", "scored_epoch"} & set(summary["summary"])  # not averaged
    # resuming finished folds trains nothing and names the same epochs
    assert main([*argv, "--resume"]) == 0
    again = json.loads((out / "cv_summary.json").read_text())
    assert [f["scored_epoch"] for f in again["folds"]] == [1, 1]
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"all {len(items)} held-out items pooled: ") for line in printed)
    assert any(line.split()[:1] == ["mean"] for line in printed)
    assert any(line.split()[:1] == ["std"] for line in printed)
    # each fold's model finds how its slices were prepared
    from neuroseg.data import load_preprocessor

    for k in (1, 2):
        pre = load_preprocessor(out / f"fold_{k}" / "best.keras")
        assert pre is not None and pre.image_size is not None


def test_bad_config_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\nformat = "figshare"\n')
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "[data] needs 'path'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "key"),
    [("data.image_size=abc", "data.image_size"), ("train.epochs=abc", "train.epochs")],
)
@pytest.mark.parametrize("command", ["train", "cv"])
def test_a_bad_set_value_names_the_key(tmp_path, capsys, command, override, key):
    cfg = _config(tmp_path, tmp_path / "data")
    out = tmp_path / "o"
    assert main([command, "--config", str(cfg), "--out", str(out), "--set", override]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}: {key} must be" in err and f"--set {override}" in err
    assert not out.exists()
