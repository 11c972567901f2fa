import json
import shutil

import cv2
import numpy as np
import pytest

from neuroseg.cli import main
from neuroseg.cli.data import FORMAT_NAMES


def _pairs(root):
    """Two synthetic pairs: 1.png (8x8, a 2x2 tumour) and 2.png (8x6, an empty mask)."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = np.zeros((8, 8), np.uint8)
    mask[2:4, 2:4] = 255
    cv2.imwrite(str(root / "images" / "1.png"), np.full((8, 8), 9, np.uint8))
    cv2.imwrite(str(root / "masks" / "1.png"), mask)
    cv2.imwrite(str(root / "images" / "2.png"), np.full((8, 6), 9, np.uint8))
    cv2.imwrite(str(root / "masks" / "2.png"), np.zeros((8, 6), np.uint8))
    return root


def test_clean_folder_prints_counts_and_exits_0(tmp_path, capsys):
    root = _pairs(tmp_path / "d")
    out = tmp_path / "r.json"
    assert main(["data", "check", "-q", "--format", "pairs", str(root), "--json", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"pairs: {root}"
    assert lines[1].startswith("  items: 2   patients: unknown (no patient IDs")
    assert lines[2:] == [
        "  sizes: 8x8 (1), 8x6 (1)",
        "  channels: {'1': 2}   dtypes: {'uint8': 2}",
        "  mask values: [0, 1]   empty masks: 50.0%",
        "  problems: 0",
    ]
    report = json.loads(out.read_text())
    assert (report["n_items"], report["empty_mask_fraction"], report["problems"]) == (2, 0.5, [])


def test_data_options_reach_the_loader(tmp_path, capsys):
    root = _pairs(tmp_path / "d")
    args = ["data", "check", "-q", "--format", "pairs", str(root)]
    assert main([*args, "--data-option", r"patient_pattern=images/(\d)"]) == 0
    assert "  items: 2   patients: 2\n" in capsys.readouterr().out
    assert main([*args, "--data-option", "nope=1"]) == 2
    assert "Data format 'pairs' takes no loader option nope" in capsys.readouterr().err
    assert main([*args, "--data-option", "nope"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_a_pattern_that_misses_files_stops_loading_and_says_so(tmp_path, capsys):
    root = _pairs(tmp_path / "d")
    out = tmp_path / "r.json"
    args = ["data", "check", "-q", "--format", "pairs", str(root), "--json", str(out)]
    assert main([*args, "--data-option", r"patient_pattern=images/(1)"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        "  items: not counted: loading stopped at the problem below; fix it and check again"
    )
    assert lines[2] == "  problems: 1"
    assert "2.png: the patient pattern 'images/(1)' does not match" in lines[3]
    report = json.loads(out.read_text())
    assert (report["loaded"], report["n_items"]) == (False, 0)
    assert main(args) == 0
    assert json.loads(out.read_text())["loaded"] is True


def test_problems_are_listed_and_exit_1(tmp_path, capsys):
    root = _pairs(tmp_path / "d")
    (root / "images" / "2.png").unlink()
    out = tmp_path / "r.json"
    assert main(["data", "check", "-q", "--format", "pairs", str(root), "--json", str(out)]) == 1
    text = capsys.readouterr().out
    orphan = root / "masks" / "2.png"
    assert f"  problems: 1\n    {orphan}: mask without an image" in text
    assert json.loads(out.read_text())["problems"] == [
        {"path": str(orphan), "problem": f"{orphan}: mask without an image."}
    ]


def test_errors_that_stop_the_check_exit_2(tmp_path, capsys):
    root = _pairs(tmp_path / "d")
    assert main(["data", "check", "--format", "pairs", str(root), "--recursive"]) == 2
    err = capsys.readouterr().err
    assert err == "neuroseg: error: --recursive applies to --format class-folders, not pairs.\n"
    assert main(["data"]) == 2  # no action: the help, and an error code
    assert "check" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["data", "check", "--format", "png-folder", str(root)])
    assert "invalid choice: 'png-folder'" in capsys.readouterr().err


def test_format_names_match_the_loaders():
    from neuroseg.data import FORMATS

    assert tuple(sorted(FORMATS)) == FORMAT_NAMES


@pytest.mark.data
def test_four_class_takes_its_folder_as_a_data_option(tmp_path, shared_data, capsys):
    from tests.inference.conftest import make_figshare_subset

    fig = make_figshare_subset(shared_data / "figshare-cheng", tmp_path / "fig", list(range(1, 7)))
    no_tumor = tmp_path / "no-tumour"
    no_tumor.mkdir()
    for src in sorted((shared_data / "br35h-no-tumor").glob("*.jpg"))[:3]:
        shutil.copy(src, no_tumor / src.name)
    args = ["data", "check", "--format", "four-class", str(fig)]

    assert main(args) == 2  # cannot run: the required folder is missing
    err = capsys.readouterr().err
    assert "needs the loader option no_tumor_root" in err and "--data-option" in err

    out = tmp_path / "r.json"
    assert main([*args, "--data-option", f"no_tumor_root={no_tumor}", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["n_items"] == 9 and report["classes"]["no_tumor"] == 3
    assert sum(report["classes"].values()) == 9 and report["problems"] == []

    # a damaged "no tumour" image is a problem naming the file (exit 1), not a crash
    bad = sorted(no_tumor.glob("*.jpg"))[1]
    bad.write_bytes(bad.read_bytes()[:2000])
    assert main([*args, "--data-option", f"no_tumor_root={no_tumor}", "--json", str(out)]) == 1
    problems = json.loads(out.read_text())["problems"]
    assert [p["path"] for p in problems] == [str(bad)]

    assert main([*args, "--data-option", f"no_tumor_root={no_tumor}", "--recursive"]) == 2
    assert "--recursive applies to --format class-folders" in capsys.readouterr().err
