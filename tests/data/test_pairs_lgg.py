import shutil

import cv2
import numpy as np
import pytest
import tensorflow as tf

from neuroseg.data import load_dataset, load_figshare, load_lgg, load_pairs
from neuroseg.errors import EmptyDatasetError, MaskError


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


def test_native_and_python_decoding_agree(figshare_root):
    ds = load_figshare(figshare_root, folds=[3])[:6]
    kw = dict(image_size=128, batch_size=6, channels=1)
    xn, yn = next(iter(ds.to_tf_dataset(decode="native", **kw)))
    xp, yp = next(iter(ds.to_tf_dataset(decode="python", **kw)))
    np.testing.assert_allclose(xn.numpy(), xp.numpy(), atol=1e-5)
    np.testing.assert_array_equal(yn.numpy(), yp.numpy())
    assert yn.dtype == tf.float32 and yn.shape == (6, 128, 128, 1)


def test_native_decoding_names_a_bad_mask(tmp_path, figshare_root):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
        shutil.copy(figshare_root / d / "7.png", tmp_path / d / "7.png")
    m = cv2.imread(str(tmp_path / "masks" / "7.png"), 0)
    m[0, 0] = 128
    cv2.imwrite(str(tmp_path / "masks" / "7.png"), m)
    ds = load_dataset("pairs", tmp_path)
    # validated up front: the strict reader's MaskError, naming the file, on either path
    for decode in ("native", "python"):
        with pytest.raises(MaskError, match=r"7\.png.*\{128\}"):
            ds.to_tf_dataset(decode=decode)
    # unvalidated, the in-graph check still names the file
    with pytest.raises(tf.errors.InvalidArgumentError, match="7.png"):
        list(ds.to_tf_dataset(decode="native", validate=False))


def test_16bit_png_takes_the_strict_path(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    image = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "images" / "a.png"), image)
    cv2.imwrite(str(tmp_path / "masks" / "a.png"), (image > 30000).astype(np.uint8) * 255)
    ds = load_pairs(tmp_path)
    with pytest.raises(Exception, match="native"):
        ds.to_tf_dataset(decode="native")
    x, y = next(iter(ds.to_tf_dataset(normalize=None, batch_size=1)))
    np.testing.assert_array_equal(x.numpy()[0, ..., 0], image.astype(np.float32))
    assert y.numpy().sum() == (image > 30000).sum()


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
