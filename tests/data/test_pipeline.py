import numpy as np
import pytest

from neuroseg.data import Compose, RandomFlip, Record, SliceDataset, load_figshare, load_sample
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
