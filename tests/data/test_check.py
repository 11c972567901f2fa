"""`neuroseg data check` on copies of real data, clean and with planted faults."""

import json
import shutil

import cv2
import numpy as np
import pytest

from neuroseg.cli import main
from neuroseg.data import check


def _copy_pairs(figshare_root, dest, indices, *, layout="pairs"):
    (dest / "images").mkdir(parents=True)
    (dest / "masks").mkdir()
    rows = ["index,label,label_name,cv_fold"]
    meta = {
        line.split(",")[0]: line
        for line in (figshare_root / "metadata.csv").read_text().splitlines()[1:]
    }
    for i in indices:
        shutil.copy(figshare_root / "images" / f"{i}.png", dest / "images" / f"{i}.png")
        shutil.copy(figshare_root / "masks" / f"{i}.png", dest / "masks" / f"{i}.png")
        rows.append(meta[str(i)])
    if layout == "figshare":
        (dest / "metadata.csv").write_text("\n".join(rows) + "\n")
    return dest


def _plant_faults(root):
    """Truncated PNG, resized mask, mask holding 128, missing mask; returns the named files."""
    img = root / "images" / "1.png"
    img.write_bytes(img.read_bytes()[:3000])
    m2 = root / "masks" / "2.png"
    cv2.imwrite(str(m2), cv2.resize(cv2.imread(str(m2), 0), (200, 200), interpolation=0))
    m3 = root / "masks" / "3.png"
    m = cv2.imread(str(m3), 0)
    m[0, 0] = 128
    cv2.imwrite(str(m3), m)
    (root / "masks" / "4.png").unlink()
    return {"truncated": img, "resized": m2, "value128": m3, "missing": root / "images" / "4.png"}


@pytest.mark.data
@pytest.mark.parametrize("layout", ["pairs", "figshare"])
def test_clean_copy_counts_and_exit_0(tmp_path, figshare_root, layout, capsys):
    root = _copy_pairs(figshare_root, tmp_path / "d", range(1, 11), layout=layout)
    out = tmp_path / "report.json"
    assert main(["data", "check", "--format", layout, str(root), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["format"] == layout and report["n_items"] == 10 and report["problems"] == []
    assert report["mask_values"] == [0, 1] and report["empty_mask_fraction"] == 0.0
    if layout == "figshare":
        assert report["classes"] == {"meningioma": 10}
    out = capsys.readouterr().out
    assert "items: 10" in out and report["n_patients"] is None
    assert "patients: unknown (no patient IDs; see near-copy grouping" in out
    assert "None" not in out


@pytest.mark.data
def test_progress_bar_over_the_files(tmp_path, figshare_root, capsys):
    root = _copy_pairs(figshare_root, tmp_path / "d", range(1, 6))
    assert check("pairs", root, progress=True).n_items == 5
    assert "check  5/5 [" in capsys.readouterr().err
    assert check("pairs", root, progress=False).ok
    assert capsys.readouterr().err == ""


@pytest.mark.data
@pytest.mark.parametrize("layout", ["pairs", "figshare"])
def test_planted_faults_exit_1_and_named(tmp_path, figshare_root, layout, capsys):
    root = _copy_pairs(figshare_root, tmp_path / "d", range(1, 11), layout=layout)
    faults = _plant_faults(root)
    out = tmp_path / "report.json"
    assert main(["data", "check", "--format", layout, str(root), "--json", str(out)]) == 1
    report = json.loads(out.read_text())
    problems = report["problems"]
    text = capsys.readouterr().out
    assert len(problems) == 4, problems
    by_path = {p["path"]: p["problem"] for p in problems}
    assert "truncated" in by_path[str(faults["truncated"])]
    assert "200x200" in by_path[str(faults["resized"])]
    assert "128" in by_path[str(faults["value128"])]
    assert "without a mask" in by_path[str(faults["missing"])]
    for path in faults.values():
        assert str(path) in text
    assert report["n_items"] == 9  # the pair without a mask is not an item


@pytest.mark.data
def test_real_folders_are_clean(shared_data):
    lgg = check("lgg", shared_data / "lgg-kaggle3m")
    assert lgg.ok and lgg.n_items == 919 and lgg.n_patients == 26
    assert lgg.mask_values == [0, 1] and 0.5 < lgg.empty_mask_fraction < 0.7
    brats = check("brats-slices", shared_data / "brats2020-slices")
    assert brats.ok and brats.n_items == 300 and brats.mask_values == [0, 1, 2, 3]
    assert brats.empty_mask_fraction == 0.5 and brats.channels == {"4": 300}


@pytest.mark.data
def test_duplicates_are_reported(tmp_path, figshare_root):
    root = _copy_pairs(figshare_root, tmp_path / "d", [1, 2])
    shutil.copy(root / "images" / "1.png", root / "images" / "9.png")
    shutil.copy(root / "masks" / "1.png", root / "masks" / "9.png")
    report = check("pairs", root)
    assert not report.ok and report.duplicates == [
        [str(root / "images" / "1.png"), str(root / "images" / "9.png")]
    ]
    assert "duplicate" in report.problems[0].problem


def test_empty_folder_is_a_problem(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    assert main(["data", "check", "--format", "pairs", str(tmp_path)]) == 1


@pytest.mark.data
def test_real_lgg_patient_folders_copy(tmp_path, shared_data, capsys):
    src = sorted(p for p in (shared_data / "lgg-kaggle3m").iterdir() if p.is_dir())[:2]
    for p in src:
        shutil.copytree(p, tmp_path / p.name)
    out = tmp_path / "r.json"
    assert main(["data", "check", "--format", "lgg", str(tmp_path), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    n = sum(len([f for f in p.glob("*.tif") if not f.stem.endswith("_mask")]) for p in src)
    assert report["n_items"] == n and report["n_patients"] == 2
    assert f"items: {n}   patients: 2\n" in capsys.readouterr().out
    assert report["patients"] == {
        p.name: len([f for f in p.glob("*.tif") if not f.stem.endswith("_mask")]) for p in src
    }
    assert np.isclose(sum(report["patients"].values()), n)
