import numpy as np
import pytest
import tensorflow as tf

from neuroseg.data import (
    Compose,
    RandomAffine,
    RandomBiasField,
    RandomBlur,
    RandomBrightness,
    RandomContrast,
    RandomElastic,
    RandomGamma,
    RandomNoise,
    default_augmentation,
    load_sample,
    tf_random_affine,
    tf_random_elastic,
)
from neuroseg.errors import ConfigError


def _pair():
    mask = np.zeros((32, 32, 1), np.int32)
    mask[8:20, 10:24] = 1
    mask[12:16, 14:18] = 3
    image = mask.astype(np.float32) * 100 + 10
    return tf.constant(image), tf.constant(mask)


@pytest.mark.parametrize(
    "transform",
    [RandomAffine(rotation=40, shear=10, scale=(0.7, 1.3), shift=0.1), RandomElastic(alpha=6)],
)
def test_spatial_labels_exact_aligned_and_seeded(transform):
    image, mask = _pair()
    outs = []
    for s in range(6):
        seed = tf.constant([s, 7])
        out = transform({"image": image, "mask": mask}, seed)
        again = transform({"image": image, "mask": mask}, seed)
        np.testing.assert_array_equal(out["image"].numpy(), again["image"].numpy())
        m, x = out["mask"].numpy(), out["image"].numpy()
        assert out["mask"].dtype == tf.int32 and set(np.unique(m)) <= {0, 1, 3}
        # nearest-neighbour mask and bilinear image agree away from edges
        inner = (m == 1) & (np.abs(x - 110) < 1)
        assert inner.sum() > 0.5 * (m == 1).sum()
        outs.append(m.tobytes())
    assert len(set(outs)) > 1


def test_identity_affine_is_exact():
    image, mask = _pair()
    x, m = tf_random_affine(
        image, mask, tf.constant([1, 2]), rotation=0, scale=(1, 1), shift=0, shear=0
    )
    np.testing.assert_allclose(x.numpy(), image.numpy(), atol=1e-4)
    np.testing.assert_array_equal(m.numpy(), mask.numpy())
    x, m = tf_random_elastic(image, mask, tf.constant([1, 2]), alpha=0.0)
    np.testing.assert_allclose(x.numpy(), image.numpy(), atol=1e-4)


@pytest.mark.parametrize(
    "transform",
    [
        RandomBrightness(0.2),
        RandomContrast(),
        RandomGamma(),
        RandomNoise(0.1),
        RandomBlur(),
        RandomBiasField(),
    ],
)
def test_intensity_changes_image_only(transform):
    image, mask = _pair()
    out = transform({"image": image, "mask": mask}, tf.constant([3, 4]))
    assert out["mask"] is mask
    assert not np.allclose(out["image"].numpy(), image.numpy())
    assert out["image"].shape == image.shape


def test_probability_zero_and_errors():
    image, mask = _pair()
    out = RandomGamma(p=0.0)({"image": image, "mask": mask}, tf.constant([3, 4]))
    np.testing.assert_array_equal(out["image"].numpy(), image.numpy())
    hits = sum(
        not np.array_equal(
            RandomBrightness(0.5, p=0.5)({"image": image}, tf.constant([s, 0]))["image"].numpy(),
            image.numpy(),
        )
        for s in range(40)
    )
    assert 8 < hits < 32
    with pytest.raises(ConfigError):
        RandomGamma(p=2.0)
    with pytest.raises(ConfigError, match="seed"):
        RandomGamma()({"image": image})


def test_full_pipeline_in_tf_data_is_seeded():
    ds = load_sample()[:8]
    kw = dict(image_size=64, batch_size=8, augment=default_augmentation(), seed=5)
    (x1, y1), (x2, y2) = (next(iter(ds.to_tf_dataset(**kw))) for _ in range(2))
    np.testing.assert_array_equal(x1.numpy(), x2.numpy())
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    assert set(np.unique(y1.numpy())) <= {0.0, 1.0}
    x3, _ = next(iter(ds.to_tf_dataset(**{**kw, "seed": 6})))
    assert not np.array_equal(x1.numpy(), x3.numpy())
    assert len(Compose([RandomAffine(p=0.5)]).transforms) == 1
