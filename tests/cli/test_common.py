import argparse

import cv2
import numpy as np
import pytest

from neuroseg.cli._common import (
    add_data_arguments,
    add_groups_argument,
    add_model_argument,
    add_preprocessing_arguments,
    add_tta_argument,
    load_data_spec,
    select_groups,
    tta_option,
)
from neuroseg.data import Record, SliceDataset
from neuroseg.errors import ConfigError, UnknownNameError


def _parser(*adders):
    p = argparse.ArgumentParser(prog="demo")
    for add in adders:
        add(p)
    return p


def test_data_arguments(capsys):
    p = _parser(add_data_arguments)
    args = p.parse_args(["--data", "pairs:x", "--data-option", "a=1", "--data-option", "b=c"])
    assert (args.data, args.data_option) == ("pairs:x", ["a=1", "b=c"])
    with pytest.raises(SystemExit):
        p.parse_args([])  # required by default
    assert "the following arguments are required: --data" in capsys.readouterr().err
    optional = _parser(lambda q: add_data_arguments(q, required=False)).parse_args([])
    assert (optional.data, optional.data_option) == (None, [])


def test_model_and_preprocessing_arguments(capsys):
    p = _parser(add_model_argument, add_preprocessing_arguments)
    args = p.parse_args(["--model", "resunet-lgg"])
    assert (args.model, args.threshold, args.crop) == ("resunet-lgg", None, None)
    args = p.parse_args(["--model", "m.keras", "--threshold", "0.3", "--crop", "brain"])
    assert (args.threshold, args.crop) == (0.3, "brain")
    for bad, message in (
        (["--crop", "skull"], "argument --crop: invalid choice: 'skull'"),
        (["--threshold", "half"], "argument --threshold: invalid float value: 'half'"),
    ):
        with pytest.raises(SystemExit):
            p.parse_args(["--model", "m.keras", *bad])
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        p.parse_args([])
    assert "the following arguments are required: --model" in capsys.readouterr().err


def test_groups_argument_names_its_purpose():
    p = _parser(lambda q: add_groups_argument(q, purpose="a model card's split"))
    assert p.parse_args([]).groups is None
    assert p.parse_args(["--groups", "fold-1", "fold-4"]).groups == ["fold-1", "fold-4"]
    assert "(a model card's split)" in " ".join(p.format_help().split())


def test_tta_argument():
    p = _parser(add_tta_argument)
    assert p.parse_args([]).tta is None  # the pretrained model's own setting
    assert p.parse_args(["--tta"]).tta == "flip"
    assert p.parse_args(["--tta", "flip"]).tta == "flip"
    assert p.parse_args(["--tta", "all"]).tta == "all"
    assert p.parse_args(["--tta", "none"]).tta == "none"
    assert [tta_option(v) for v in (None, "flip", "all", "none")] == [None, "flip", "all", False]


def test_select_groups_keeps_the_named_groups():
    ds = SliceDataset(
        [Record(np.zeros((2, 2, 1)), patient_id=f"p{i % 3}", source=str(i)) for i in range(6)]
    )
    kept = select_groups(ds, ["p0", "p2"], "pairs:x")
    assert [r.source for r in kept] == ["0", "2", "3", "5"]
    with pytest.raises(ConfigError) as info:
        select_groups(ds, ["p9", "p0", "fold-1"], "pairs:x", flag="--train-groups")
    assert str(info.value) == (
        "--train-groups ['fold-1', 'p9'] not in pairs:x; its groups: p0, p1, p2."
    )
    many = SliceDataset([Record(np.zeros((2, 2, 1)), patient_id=f"q{i:02d}") for i in range(25)])
    with pytest.raises(ConfigError, match=r"its groups: q00, q01, .*, q19 \.\.\.\.$"):
        select_groups(many, ["x"], "spec")


def test_load_data_spec_with_options(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    for n in (1, 2):
        cv2.imwrite(str(tmp_path / "images" / f"{n}.png"), np.full((4, 4), n, np.uint8))
        cv2.imwrite(str(tmp_path / "masks" / f"{n}_seg.png"), np.zeros((4, 4), np.uint8))
    ds = load_data_spec(f"pairs:{tmp_path}", ["mask_name={stem}_seg.png"])
    assert len(ds) == 2 and ds[1].mask.endswith("2_seg.png")
    with pytest.raises(ConfigError, match="Expected FORMAT:PATH"):
        load_data_spec(str(tmp_path))
    with pytest.raises(UnknownNameError, match="Unknown data format 'png'"):
        load_data_spec(f"png:{tmp_path}")
    with pytest.raises(ConfigError, match="takes no loader option masks_dir"):
        load_data_spec(f"pairs:{tmp_path}", ["masks_dir=x"])


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_tta_flag_means_the_mirror_and_all_asks_for_quarter_turns(command):
    from neuroseg.cli import build_parser

    base = [command, "--model", "m.keras"] + (
        ["--data", "figshare:x"] if command == "evaluate" else ["x.png", "--out", "o"]
    )
    parse = build_parser().parse_args
    assert parse(base).tta is None
    assert parse([*base, "--tta"]).tta == "flip"
    assert parse([*base, "--tta", "all"]).tta == "all"
    with pytest.raises(SystemExit):
        parse([*base, "--tta", "rot90"])
