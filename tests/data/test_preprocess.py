import numpy as np
import pytest
import tensorflow as tf

from neuroseg.data import (
    Preprocess,
    brain_bbox,
    clahe,
    crop_to_brain,
    load_figshare,
    normalize_percentile,
    normalize_zscore,
    resize_pad,
    tf_clahe,
    tf_crop_to_brain,
    tf_normalize_percentile,
    tf_normalize_zscore,
    tf_resize_pad,
    tf_to_grayscale,
    tf_to_rgb,
    to_grayscale,
    to_rgb,
)
from neuroseg.errors import ConfigError


@pytest.fixture(scope="module")
def real(figshare_root):
    r = load_figshare(figshare_root, folds=[1])[5]
    return r.load_image(), r.load_mask()


def test_zscore_and_percentile_match_tf(real):
    image, _ = real
    np.testing.assert_allclose(
        tf_normalize_zscore(image).numpy(), normalize_zscore(image), atol=1e-4
    )
    z = normalize_zscore(image)
    fg = image > image.min()
    assert abs(z[fg].mean()) < 1e-4 and abs(z[fg].std() - 1) < 1e-3 and (z[~fg] == 0).all()
    p = normalize_percentile(image, low=2, high=98)
    np.testing.assert_allclose(tf_normalize_percentile(image, low=2, high=98).numpy(), p, atol=1e-5)
    assert p.min() == 0.0 and p.max() == 1.0


def test_resize_pad_keeps_aspect_and_labels(real):
    image, mask = real
    wide = np.concatenate([image, image], axis=1)
    wmask = np.concatenate([mask, mask], axis=1)
    img, m = resize_pad(wide, 128, wmask)
    assert img.shape == (128, 128, 1) and (img[:32] == 0).all() and set(np.unique(m)) <= {0, 1}
    timg, tm = tf_resize_pad(wide, 128, wmask[..., None])
    assert timg.shape == (128, 128, 1) and set(np.unique(tm.numpy())) <= {0, 1}
    np.testing.assert_array_equal(tm.numpy()[..., 0] > 0, m > 0)


def test_crop_to_brain(real):
    image, mask = real
    t, left, b, r = brain_bbox(image)
    assert 0 <= t < b <= 256 and 0 <= left < r <= 256 and (b - t) < 256
    c, cm = crop_to_brain(image, mask)
    tc, tcm = tf_crop_to_brain(image, mask[..., None])
    np.testing.assert_array_equal(tc.numpy(), c)
    np.testing.assert_array_equal(tcm.numpy()[..., 0], cm)
    assert cm.sum() == mask.sum()  # the tumour is inside the brain


def test_clahe_grey_rgb(real):
    image, _ = real
    out = clahe(image)
    assert out.dtype == np.uint8 and out.shape == image.shape
    np.testing.assert_allclose(tf_clahe(image).numpy(), out / 255.0, atol=1e-6)
    rgb = to_rgb(image)
    assert rgb.shape[-1] == 3 and tf_to_rgb(tf.constant(image)).shape[-1] == 3
    np.testing.assert_array_equal(to_grayscale(rgb), image)
    np.testing.assert_allclose(
        tf_to_grayscale(tf.constant(rgb, tf.float32)).numpy(), image, atol=0.6
    )


def test_preprocess_dict():
    out = Preprocess("zscore")({"image": tf.constant([[[1.0], [3.0]]])})
    np.testing.assert_allclose(out["image"].numpy().ravel(), [0.0, 0.0])
    with pytest.raises(ConfigError):
        Preprocess("sharpen")
    with pytest.raises(ConfigError, match="size"):
        Preprocess("resize_pad")
