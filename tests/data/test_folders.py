import json
import shutil

import cv2
import pytest

from neuroseg.cli import main
from neuroseg.data import CLASS_NAMES, load_class_folders, load_dataset
from neuroseg.errors import ConfigError, EmptyDatasetError, UnknownNameError

KAGGLE = {"glioma": 2, "meningioma": 1, "pituitary": 3}  # Cheng's labels


def _kaggle(tmp_path, figshare_root, shared_data, n=4):
    """root/{Training,Testing}/{glioma,meningioma,notumor,pituitary}/*.jpg from real images."""
    meta = [ln.split(",") for ln in (figshare_root / "metadata.csv").read_text().splitlines()[1:]]
    br35h = sorted((shared_data / "br35h-no-tumor").glob("*.jpg"))
    for split, offset in (("Training", 0), ("Testing", n)):
        for name, label in KAGGLE.items():
            d = tmp_path / split / name
            d.mkdir(parents=True)
            idx = [row[0] for row in meta if int(row[1]) == label][offset : offset + n]
            for i in idx:  # the Kaggle sets hold these slices as JPEG
                image = cv2.imread(str(figshare_root / "images" / f"{i}.png"))
                cv2.imwrite(str(d / f"Te-{name[:2]}_{i}.jpg"), image)
        d = tmp_path / split / "notumor"
        d.mkdir()
        for f in br35h[offset : offset + n]:
            shutil.copy(f, d / f.name)
    return tmp_path


def test_kaggle_layout_both_splits(tmp_path, figshare_root, shared_data):
    root = _kaggle(tmp_path, figshare_root, shared_data)
    ds = load_class_folders(root)
    assert len(ds) == 32
    assert {r.meta["split"] for r in ds} == {"training", "testing"}
    test = load_dataset("class-folders", root, split="testing")
    assert len(test) == 16
    counts = {c: sum(CLASS_NAMES[r.label] == c for r in test) for c in CLASS_NAMES}
    assert counts == {"glioma": 4, "meningioma": 4, "no_tumor": 4, "pituitary": 4}


def test_cli_on_testing_folder(tmp_path, figshare_root, shared_data):
    root = _kaggle(tmp_path, figshare_root, shared_data)
    out = tmp_path / "r.json"
    rc = main(
        ["data", "check", "--format", "class-folders", str(root / "Testing"), "--json", str(out)]
    )
    report = json.loads(out.read_text())
    assert rc == 0, report["problems"]
    assert report["classes"] == {"glioma": 4, "meningioma": 4, "no_tumor": 4, "pituitary": 4}
    assert report["n_items"] == 16 and report["n_patients"] is None


def test_aliases_and_unknown_folder(tmp_path, shared_data):
    src = sorted((shared_data / "br35h-no-tumor").glob("*.jpg"))[:2]
    for name in ("glioma_tumor", "no_tumor", "meningioma_tumor", "pituitary_tumor"):
        (tmp_path / name).mkdir()
        shutil.copy(src[0], tmp_path / name / "a.jpg")
    ds = load_class_folders(tmp_path)
    assert sorted(CLASS_NAMES[r.label] for r in ds) == sorted(CLASS_NAMES)
    (tmp_path / "astrocytoma").mkdir()
    shutil.copy(src[1], tmp_path / "astrocytoma" / "b.jpg")
    with pytest.raises(UnknownNameError, match=r"astrocytoma.*Known class names.*glioma_tumor"):
        load_class_folders(tmp_path)
    problems = []
    assert len(load_class_folders(tmp_path, on_error=problems)) == 4
    assert "astrocytoma" in problems[0].path


def test_flat_folder_is_one_class(shared_data, tmp_path):
    ds = load_class_folders(shared_data / "br35h-no-tumor")
    assert len(ds) == 1200 and set(ds.labels.tolist()) == {CLASS_NAMES.index("no_tumor")}
    flat = tmp_path / "scans"
    flat.mkdir()
    shutil.copy(sorted((shared_data / "br35h-no-tumor").glob("*.jpg"))[0], flat / "x.jpg")
    with pytest.raises(ConfigError, match="class_name"):
        load_class_folders(flat)
    assert load_class_folders(flat, class_name="notumor")[0].label == CLASS_NAMES.index("no_tumor")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyDatasetError, match="empty"):
        load_class_folders(tmp_path / "empty")


def test_png_named_jpg_is_read(shared_data):
    # Br35H holds five PNG files named .jpg; they are read by content
    from neuroseg.data import read_image

    assert read_image(shared_data / "br35h-no-tumor" / "3895.jpg").shape[-1] == 3
