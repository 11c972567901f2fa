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
