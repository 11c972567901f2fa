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
