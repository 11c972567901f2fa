import re

import cv2
import numpy as np
import pytest
import tensorflow as tf

from neuroseg.data import (
    BRATS_LABELS,
    BRATS_REGIONS,
    BratsRegions,
    brats_regions,
    load_brats_slices,
    read_brats_mask,
    tf_brats_regions,
)
from neuroseg.errors import EmptyDatasetError, MaskError

# one pixel of each BraTS colour, in RGB: black, red, green, blue -> labels 0, 1, 2, 3
COLOURS = np.array([[[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)


def _write_rgb(path, rgb):
    """Write an RGB(A) array as PNG (OpenCV stores BGR(A))."""
    code = cv2.COLOR_RGBA2BGRA if rgb.shape[-1] == 4 else cv2.COLOR_RGB2BGR
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, code))
    return path


def test_colour_mask_decodes_to_labels(tmp_path):
    mask = read_brats_mask(_write_rgb(tmp_path / "m.png", COLOURS))
    assert mask.dtype == np.uint8 and mask.tolist() == [[0, 1, 2, 3]]
    # an opaque alpha channel is allowed; the colours still decide
    rgba = np.concatenate([COLOURS, np.full((1, 4, 1), 255, np.uint8)], -1)
    assert read_brats_mask(_write_rgb(tmp_path / "a.png", rgba)).tolist() == [[0, 1, 2, 3]]
    assert read_brats_mask(tmp_path / "m.png", shape=(1, 4)).tolist() == [[0, 1, 2, 3]]


def test_bad_masks_name_the_file(tmp_path):
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.zeros((2, 2), np.uint8))
    with pytest.raises(MaskError, match=r"grey\.png: a BraTS mask must be RGB, got 1 channel"):
        read_brats_mask(grey)
    with pytest.raises(MaskError, match=r"m\.png: mask is 1x4 but its image is 4x4"):
        read_brats_mask(_write_rgb(tmp_path / "m.png", COLOURS), shape=(4, 4))
    for name, colour in (("mixed", [255, 255, 0]), ("dim", [0, 128, 0])):
        bad = COLOURS.copy()
        bad[0, 1] = colour
        with pytest.raises(MaskError, match=re.escape(f"{name}.png: colour {colour} is not")):
            read_brats_mask(_write_rgb(tmp_path / f"{name}.png", bad))


def test_regions_by_hand():
    assert BRATS_LABELS[3] == "enhancing" and BRATS_REGIONS["tumor_core"] == (1, 3)
    labels = np.array([[0, 1], [2, 3]], np.uint8)
    want = np.array(
        [[[0, 0, 0], [1, 1, 0]], [[1, 0, 0], [1, 1, 1]]], np.uint8
    )  # WT, TC, ET per pixel
    np.testing.assert_array_equal(brats_regions(labels), want)
    np.testing.assert_array_equal(brats_regions(labels[..., None]), want)  # (H, W, 1)
    out = tf_brats_regions(tf.constant(labels[..., None], tf.float32))
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), want.astype(np.float32))


def test_brats_regions_transform_replaces_only_the_mask():
    image = tf.ones((2, 2, 4))
    sample = {"image": image, "mask": tf.constant([[[0], [1]], [[2], [3]]], tf.uint8)}
    out = BratsRegions()(sample)
    assert out["image"] is image and sample["mask"].shape == (2, 2, 1)  # input untouched
    assert out["mask"].dtype == tf.uint8
    np.testing.assert_array_equal(out["mask"].numpy(), brats_regions(np.array([[0, 1], [2, 3]])))


def test_load_synthetic_slices(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    image = np.arange(64, dtype=np.uint8).reshape(1, 4, 4, 4)[0]  # (4, 4) pixels, 4 sequences
    for n in (2, 10):
        _write_rgb(tmp_path / "images" / f"{n}.png", image)
        _write_rgb(tmp_path / "masks" / f"{n}_mask.png", np.repeat(COLOURS, 4, 0))
    ds = load_brats_slices(tmp_path)
    assert ds.name == "brats-slices" and [r.source.rsplit("/", 1)[1] for r in ds] == [
        "2.png",
        "10.png",
    ]
    assert ds.patients == []  # the slices carry no patient ID
    np.testing.assert_array_equal(ds[0].load_image(), image)
    assert ds[1].load_mask().tolist() == [[0, 1, 2, 3]] * 4
    (tmp_path / "masks" / "10_mask.png").unlink()
    with pytest.raises(MaskError, match=r"10\.png: image without a mask"):
        load_brats_slices(tmp_path)
    problems = []
    assert len(load_brats_slices(tmp_path, on_error=problems)) == 1
    assert [p.path.rsplit("/", 1)[1] for p in problems] == ["10.png"]
    with pytest.raises(EmptyDatasetError, match="images"):
        load_brats_slices(tmp_path / "nowhere")


def test_brats_real_labels_and_regions(shared_data):
    ds = load_brats_slices(shared_data / "brats2020-slices")
    assert len(ds) == 300
    r = next(r for r in ds if r.load_mask().max() == 3)
    image, mask = r.load_image(), r.load_mask()
    assert image.shape == (240, 240, 4) and mask.dtype == np.uint8
    regions = brats_regions(mask)
    assert regions.shape == (240, 240, 3)
    np.testing.assert_array_equal(regions[..., 0], mask > 0)
    np.testing.assert_array_equal(regions[..., 1], np.isin(mask, (1, 3)))
    np.testing.assert_array_equal(regions[..., 2], mask == 3)
    np.testing.assert_array_equal(tf_brats_regions(mask[..., None]).numpy(), regions)
    # the enhancing tumour (3) is bright on T1-CE (channel 2), the necrotic core (1) dark
    t1ce = image[..., 2].astype(float)
    enh = np.mean(
        [
            r.load_image()[..., 2][r.load_mask() == 3].mean()
            for r in ds[:60]
            if (r.load_mask() == 3).sum() > 50
        ]
    )
    core = np.mean(
        [
            r.load_image()[..., 2][r.load_mask() == 1].mean()
            for r in ds[:60]
            if (r.load_mask() == 1).sum() > 50
        ]
    )
    assert enh > core and t1ce.max() > 0
    x, y = next(iter(ds[:4].to_tf_dataset("segmentation", batch_size=4)))
    assert x.shape == (4, 240, 240, 4) and set(np.unique(y.numpy())) <= {0, 1, 2, 3}


def test_brats_bad_colour(tmp_path, shared_data):
    import cv2

    src = shared_data / "brats2020-slices" / "masks" / "1_mask.png"
    m = cv2.imread(str(src))
    m[0, 0] = (0, 128, 0)
    cv2.imwrite(str(tmp_path / "m.png"), m)
    with pytest.raises(MaskError, match=r"m.png.*colour"):
        read_brats_mask(tmp_path / "m.png")
