import numpy as np
import pytest
import tensorflow as tf

from neuroseg.data import (
    Compose,
    RandomFlip,
    RandomRotate90,
    Resize,
    flip,
    normalize_minmax,
    resize_image,
    resize_mask,
    tf_normalize_minmax,
    tf_resize_mask,
    to_grayscale,
)
from neuroseg.errors import ChannelError


def test_array_level():
    m = np.zeros((6, 6), np.uint8)
    m[2:4, 2:4] = 1
    assert set(np.unique(resize_mask(m, 13))) == {0, 1}
    assert resize_image(np.zeros((6, 6, 1), np.uint8), (3, 4)).shape == (3, 4, 1)
    np.testing.assert_allclose(normalize_minmax(np.array([1.0, 3.0])), [0.0, 1.0])
    assert normalize_minmax(np.ones(3)).tolist() == [0.0, 0.0, 0.0]
    img, _mk = flip(np.arange(4).reshape(1, 4, 1), m[:1, :4], axis=1)
    assert img[0, :, 0].tolist() == [3, 2, 1, 0]
    with pytest.raises(ChannelError):
        to_grayscale(np.zeros((2, 2, 4), np.uint8))


def test_tensor_level_matches_array_level():
    x = np.array([[2.0, 4.0], [6.0, 10.0]], np.float32)[..., None]
    np.testing.assert_allclose(tf_normalize_minmax(x).numpy(), normalize_minmax(x))
    m = tf.constant(np.eye(4, dtype=np.int32)[..., None])
    assert set(np.unique(tf_resize_mask(m, 7).numpy())) <= {0, 1}


@pytest.mark.parametrize(
    "transform", [RandomFlip(horizontal=True, vertical=True), RandomRotate90()]
)
def test_joint_spatial_transforms_keep_image_and_mask_aligned(transform):
    # the mask is exactly "image > 0", so it must stay so after any joint transform
    rng = np.random.default_rng(0)
    image = (rng.random((8, 8, 1)) > 0.7).astype(np.float32) * rng.random((8, 8, 1)).astype(
        np.float32
    )
    mask = (image > 0).astype(np.int32)
    outs = set()
    for s in range(12):
        out = Compose([transform])(
            {"image": tf.constant(image), "mask": tf.constant(mask)}, tf.constant([s, 1])
        )
        np.testing.assert_array_equal(
            out["mask"].numpy(), (out["image"].numpy() > 0).astype(np.int32)
        )
        outs.add(out["image"].numpy().tobytes())
        again = Compose([transform])(
            {"image": tf.constant(image), "mask": tf.constant(mask)}, tf.constant([s, 1])
        )
        np.testing.assert_array_equal(again["image"].numpy(), out["image"].numpy())  # seeded
    assert len(outs) > 1


def test_resize_dict():
    out = Resize(4)({"image": tf.zeros((8, 8, 1)), "mask": tf.zeros((8, 8, 1), tf.int32)})
    assert out["image"].shape == (4, 4, 1) and out["mask"].dtype == tf.int32


@pytest.mark.parametrize("shape", [(6, 6, 1), (6, 6, 3), (4, 7, 1)])
@pytest.mark.parametrize("vertical", [False, True])
def test_fused_flip_rot90_equals_the_two_steps(shape, vertical):
    # Compose fuses RandomFlip + RandomRotate90 into one transpose and one reverse; the
    # result must be exactly the unfused sequence's for every seed.
    image = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    mask = (image[..., :1] % 3 == 0).astype(np.uint8)
    steps = [RandomFlip(vertical=vertical), RandomRotate90()]
    seen = set()
    for s in range(24):
        seed = tf.constant([s, 7], tf.int64)
        sample = {"image": tf.constant(image), "mask": tf.constant(mask)}
        fused = Compose(steps)(sample, seed)
        x = sample
        for i, t in enumerate(steps):  # the unfused sequence, with Compose's sub-seeds
            x = t(x, tf.random.experimental.stateless_fold_in(seed, i))
        np.testing.assert_array_equal(fused["image"].numpy(), x["image"].numpy())
        np.testing.assert_array_equal(fused["mask"].numpy(), x["mask"].numpy())
        seen.add(fused["image"].numpy().tobytes())
    # 4 turns x (flipped or not) = all 8 symmetries of the rectangle's pixel grid
    assert len(seen) == 8


def test_convert_channels():
    from neuroseg.data import convert_channels

    rgba = np.full((3, 4, 4), 200, np.uint8)
    rgba[..., 3] = 255  # opaque: the alpha goes
    assert convert_channels(rgba, 3).shape == (3, 4, 3)
    np.testing.assert_array_equal(convert_channels(rgba, 1), to_grayscale(rgba[..., :3]))
    assert convert_channels(np.zeros((3, 4, 1), np.uint8), 3).shape == (3, 4, 3)
    rgba[0, 0, 3] = 10  # transparent, or a 4-sequence BraTS slice: refuse, naming the file
    with pytest.raises(ChannelError, match=r"scan\.png.*4-channel"):
        convert_channels(rgba, 1, source="scan.png")
    with pytest.raises(ChannelError, match="expects 2"):
        convert_channels(np.zeros((2, 2, 3), np.uint8), 2)
