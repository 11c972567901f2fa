import shutil

import cv2
import numpy as np
import pytest

from neuroseg.data import load_lgg, load_pairs
from neuroseg.errors import ConfigError, EmptyDatasetError, MaskError


def test_lgg_real_patients_and_numeric_order(shared_data):
    ds = load_lgg(shared_data / "lgg-kaggle3m")
    assert len(ds) == 919 and len(ds.patients) == 26
    first = ds.patients[0]
    slices = [r.meta["slice"] for r in ds if r.patient_id == first]
    assert slices == list(range(1, len(slices) + 1))  # 1, 2, ..., 10 (not 1, 10, 11, 2)
    r = ds[0]
    assert r.load_image().shape == (256, 256, 3) and set(np.unique(r.load_mask())) <= {0, 1}
    x, y = next(iter(ds[:4].to_tf_dataset(batch_size=4)))  # TIFF: strict Python decoding
    assert x.shape == (4, 256, 256, 3) and y.shape == (4, 256, 256, 1)


def test_lgg_missing_mask_and_orphan_mask(tmp_path, shared_data):
    src = sorted(p for p in (shared_data / "lgg-kaggle3m").iterdir() if p.is_dir())[0]
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    (dst / f"{src.name}_3_mask.tif").unlink()
    (dst / f"{src.name}_5.tif").unlink()
    with pytest.raises(MaskError, match=f"{src.name}_5_mask.tif: mask without an image"):
        load_lgg(tmp_path)
    problems = []
    ds = load_lgg(tmp_path, on_error=problems)
    assert len(ds) == len(list(src.glob("*_mask.tif"))) - 2
    assert sorted(p.path.rsplit("/", 1)[1] for p in problems) == [
        f"{src.name}_3.tif",
        f"{src.name}_5_mask.tif",
    ]


def test_generic_pairs_mask_name_rule(tmp_path, figshare_root):
    (tmp_path / "img").mkdir()
    (tmp_path / "lab").mkdir()
    for i in (1, 2, 10):
        shutil.copy(figshare_root / "images" / f"{i}.png", tmp_path / "img" / f"{i}.png")
        shutil.copy(figshare_root / "masks" / f"{i}.png", tmp_path / "lab" / f"{i}_seg.png")
    ds = load_pairs(tmp_path, images="img", masks="lab", mask_name="{stem}_seg.png")
    assert [r.source.rsplit("/", 1)[1] for r in ds] == ["1.png", "2.png", "10.png"]
    with pytest.raises(MaskError, match="1.png: image without a mask"):
        load_pairs(tmp_path, images="img", masks="lab")
    with pytest.raises(EmptyDatasetError, match="masks"):
        load_pairs(tmp_path)


def test_skip_logs_each_file(tmp_path, figshare_root, caplog):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    for i in (1, 2):
        shutil.copy(figshare_root / "images" / f"{i}.png", tmp_path / "images" / f"{i}.png")
    shutil.copy(figshare_root / "masks" / "1.png", tmp_path / "masks" / "1.png")
    with caplog.at_level("WARNING", logger="neuroseg.data"):
        ds = load_pairs(tmp_path, on_error="skip")
    assert len(ds) == 1
    assert "2.png" in caplog.text and "without a mask" in caplog.text


def _write_pair(image_path, mask_path, value):
    """An 8x8 grey image of constant ``value`` and a 0/255 mask with a 2x2 square."""
    image_path.parent.mkdir(parents=True, exist_ok=True)
    mask_path.parent.mkdir(parents=True, exist_ok=True)
    mask = np.zeros((8, 8), np.uint8)
    mask[2:4, 2:4] = 255
    assert cv2.imwrite(str(image_path), np.full((8, 8), value, np.uint8))
    assert cv2.imwrite(str(mask_path), mask)


def test_pairs_order_numbers_first_then_names(tmp_path):
    for i, stem in enumerate(("b", "10", "a", "2", "1")):
        _write_pair(tmp_path / "images" / f"{stem}.png", tmp_path / "masks" / f"{stem}.png", i)
    ds = load_pairs(tmp_path, mask_encoding="labels")
    assert ds.name == f"pairs:{tmp_path.name}"
    names = [r.source.rsplit("/", 1)[1] for r in ds]
    assert names == ["1.png", "2.png", "10.png", "a.png", "b.png"]
    assert [r.mask.rsplit("/", 1)[1] for r in ds] == names
    assert {r.mask_encoding for r in ds} == {"labels"} and ds.patients == []
    assert int(ds[2].load_image()[0, 0, 0]) == 1  # 10.png was written second
    assert ds[0].load_mask().max() == 255  # "labels": stored values kept as they are
    assert load_pairs(tmp_path)[0].load_mask().sum() == 4  # "binary": 0/255 -> 0/1


def test_pairs_bad_patterns_and_layouts(tmp_path):
    with pytest.raises(EmptyDatasetError, match=r"images: folder not found"):
        load_pairs(tmp_path)
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    with pytest.raises(EmptyDatasetError, match=r"images: empty folder"):
        load_pairs(tmp_path)
    _write_pair(tmp_path / "images" / "1.png", tmp_path / "masks" / "1_mask.png", 0)
    for pattern in ("{stem}/x.png", "{nope}.png", "{0}.png", "{stem"):
        with pytest.raises(ConfigError, match="mask_name"):
            load_pairs(tmp_path, mask_name=pattern)
    assert len(load_pairs(tmp_path, mask_name="{stem}_mask{ext}")) == 1
    _write_pair(tmp_path / "images" / "3.png", tmp_path / "masks" / "4_mask.png", 0)
    with pytest.raises(MaskError, match=r"3\.png: image without a mask"):
        load_pairs(tmp_path, mask_name="{stem}_mask.png")
    problems = []
    assert len(load_pairs(tmp_path, mask_name="{stem}_mask.png", on_error=problems)) == 1
    images, masks = tmp_path / "images", tmp_path / "masks"
    assert [p.to_dict() for p in problems] == [
        {
            "path": str(images / "3.png"),
            "problem": f"{images / '3.png'}: image without a mask (expected "
            f"{masks / '3_mask.png'}).",
        },
        {
            "path": str(masks / "4_mask.png"),
            "problem": f"{masks / '4_mask.png'}: mask without an image.",
        },
    ]


def test_lgg_synthetic_patient_in_numeric_slice_order(tmp_path):
    patient = tmp_path / "TCGA_CS_4941_19960909"
    for n in (10, 2, 1):
        stem = patient / f"{patient.name}_{n}"
        _write_pair(stem.with_suffix(".tif"), stem.parent / f"{stem.name}_mask.tif", n)
    (tmp_path / "data.csv").write_text("ignored\n")
    ds = load_lgg(tmp_path)
    assert ds.name == "lgg" and ds.patients == [patient.name]
    assert [r.meta["slice"] for r in ds] == [1, 2, 10]
    assert [int(r.load_image()[0, 0, 0]) for r in ds] == [1, 2, 10]
    single = load_lgg(patient)  # one patient's folder as the root
    assert [r.source for r in single] == [r.source for r in ds]
    _write_pair(patient / "scan.tif", patient / "scan_mask.tif", 0)
    with pytest.raises(EmptyDatasetError, match=r"scan\.tif: name does not end in _<slice"):
        load_lgg(tmp_path)
    problems = []
    assert len(load_lgg(tmp_path, on_error=problems)) == 3
    assert [p.path for p in problems] == [str(patient / "scan.tif")]


def test_lgg_without_patients(tmp_path):
    with pytest.raises(EmptyDatasetError, match="not a folder"):
        load_lgg(tmp_path / "missing")
    with pytest.raises(EmptyDatasetError, match="no patient folder"):
        load_lgg(tmp_path)
    (tmp_path / "TCGA_empty").mkdir()
    with pytest.raises(EmptyDatasetError, match=r"TCGA_empty: empty patient folder"):
        load_lgg(tmp_path)
