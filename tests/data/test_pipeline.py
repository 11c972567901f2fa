import shutil

import cv2
import numpy as np
import pytest
import tensorflow as tf

from neuroseg.data import (
    Compose,
    RandomFlip,
    Record,
    SliceDataset,
    load_dataset,
    load_figshare,
    load_pairs,
    load_sample,
)
from neuroseg.errors import ConfigError, EmptyDatasetError, MaskError


def test_segmentation_pipeline_on_sample():
    ds = load_sample()[:10]
    tfds = ds.to_tf_dataset("segmentation", image_size=64, batch_size=4)
    batches = list(tfds)
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.shape == (4, 64, 64, 1) and y.shape == (4, 64, 64, 1)
    assert float(np.min(x)) >= 0.0 and float(np.max(x)) == pytest.approx(1.0)
    assert set(np.unique(y)) <= {0.0, 1.0}


def test_augmented_pipeline_is_seeded():
    ds = load_sample()[:6]
    kw = dict(image_size=32, batch_size=6, shuffle=True, augment=Compose([RandomFlip()]))
    a = [x.numpy() for x, _ in ds.to_tf_dataset(seed=1, **kw)]
    b = [x.numpy() for x, _ in ds.to_tf_dataset(seed=1, **kw)]
    np.testing.assert_array_equal(a[0], b[0])


def test_classification_and_multitask_outputs():
    ds = load_sample()[::8]
    x, y = next(iter(ds.to_tf_dataset("classification", image_size=32, batch_size=8)))
    assert x.shape == (6, 32, 32, 1)
    assert y.numpy().tolist() == ds.labels.tolist()
    _x, y = next(iter(ds.to_tf_dataset("multitask", image_size=32, batch_size=8)))
    assert set(y) == {"mask", "label"}


def test_real_figshare_pipeline_rgb_conversion(figshare_root):
    ds = load_figshare(figshare_root, folds=[1])[:4]
    x, _ = next(iter(ds.to_tf_dataset(image_size=64, channels=3, batch_size=4)))
    assert x.shape == (4, 64, 64, 3)


def test_pipeline_errors():
    with pytest.raises(EmptyDatasetError):
        SliceDataset([]).to_tf_dataset()
    with pytest.raises(ConfigError, match="Unknown task"):
        load_sample().to_tf_dataset("detection")
    no_label = SliceDataset([Record(np.zeros((4, 4, 1), np.uint8), source="a.png")])
    with pytest.raises(MaskError, match="a.png"):
        no_label.to_tf_dataset("classification")


def test_crop_to_brain_before_resize():
    # a 40x60 "brain" inside black borders: cropped, it fills the 20x30 output exactly
    image = np.zeros((100, 90, 1), np.uint8)
    rng = np.random.default_rng(0)
    image[30:70, 10:70, 0] = rng.integers(50, 255, (40, 60))
    mask = np.zeros((100, 90), np.uint8)
    mask[40:50, 20:30] = 1
    ds = SliceDataset([Record(image, mask=mask, label=1)])
    x, y = next(iter(ds.to_tf_dataset(image_size=(20, 30), batch_size=1, crop="brain")))
    import tensorflow as tf

    want = tf.image.resize(image[30:70, 10:70].astype("float32"), (20, 30), antialias=True)
    want = (want - tf.reduce_min(want)) / (tf.reduce_max(want) - tf.reduce_min(want))
    np.testing.assert_allclose(x.numpy()[0], want.numpy(), atol=1e-5)
    # the mask is cropped with the image: rows 40-50 of 30-70 -> 5-10 of 20
    rows = np.flatnonzero(y.numpy()[0, :, :, 0].any(1))
    assert rows.min() == 5 and rows.max() == 9
    x2, _ = next(iter(ds.to_tf_dataset("classification", image_size=20, batch_size=1)))
    assert not np.allclose(x2.numpy()[0], tf.image.resize(want, (20, 20)).numpy(), atol=1e-2)
    with pytest.raises(ConfigError, match="crop"):
        ds.to_tf_dataset(image_size=20, crop="skull")


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
