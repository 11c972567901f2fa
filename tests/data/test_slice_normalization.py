import cv2
import keras
import numpy as np
import pytest

from neuroseg.data.slice_normalization import SliceNormalization
from neuroseg.errors import ConfigError


def _run(layer, x):
    return np.asarray(layer(np.asarray(x)))


def test_minmax_is_per_slice():
    x = np.array([[0, 50], [100, 200]], np.uint8)[None, ..., None]  # (1, 2, 2, 1)
    batch = np.concatenate([x, x // 2 + 10], 0)  # the second slice spans 10..110
    out = _run(SliceNormalization(channels=1), batch)
    assert out.dtype == np.float32 and out.shape == (2, 2, 2, 1)
    want = [[0.0, 0.25], [0.5, 1.0]]
    np.testing.assert_allclose(out[0, ..., 0], want)
    np.testing.assert_allclose(out[1, ..., 0], want)


def test_constant_slice_becomes_zeros_not_nan():
    out = _run(SliceNormalization(channels=1), np.full((1, 3, 3, 1), 7, np.uint8))
    np.testing.assert_array_equal(out, np.zeros((1, 3, 3, 1), np.float32))


def test_zscore_over_the_pixels_above_the_minimum():
    x = np.array([0, 2, 4, 6], np.float32).reshape(1, 2, 2, 1)
    out = _run(SliceNormalization(channels=1, normalize="zscore"), x)
    # foreground 2, 4, 6: mean 4, sd sqrt(8 / 3); the minimum (background) becomes 0
    sd = np.sqrt(8 / 3)
    np.testing.assert_allclose(out.ravel(), [0.0, -2 / sd, 0.0, 2 / sd], rtol=1e-6)


def test_none_only_casts():
    x = np.array([[[[3], [250]]]], np.uint8)
    out = _run(SliceNormalization(channels=1, normalize=None), x)
    assert out.dtype == np.float32 and out.ravel().tolist() == [3.0, 250.0]


def test_rgb_to_grey_matches_opencv():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 0, 0)  # OpenCV's fixed point: (255 * 4899 + 8192) >> 14 = 76
    want = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    assert want[0, 0] == 76
    out = _run(SliceNormalization(channels=1, normalize=None), rgb[None])
    np.testing.assert_array_equal(out[0, ..., 0], want)
    rgba = np.concatenate([rgb, np.full((5, 7, 1), 9, np.uint8)], -1)  # alpha is ignored
    np.testing.assert_array_equal(
        _run(SliceNormalization(channels=1, normalize=None), rgba[None])[0, ..., 0], want
    )


def test_grey_to_rgb_and_rgba_to_rgb():
    grey = np.array([[1, 2]], np.uint8)[None, ..., None]
    out = _run(SliceNormalization(channels=3, normalize=None), grey)
    assert out.shape == (1, 1, 2, 3) and out[0, 0].tolist() == [[1, 1, 1], [2, 2, 2]]
    rgba = np.array([[[1, 2, 3, 4]]], np.uint8)[None]
    out = _run(SliceNormalization(channels=3, normalize=None), rgba)
    assert out.ravel().tolist() == [1.0, 2.0, 3.0]


def test_bad_options_and_channel_counts():
    for channels in (0, True, 1.0, "1"):
        with pytest.raises(ConfigError, match="channels must be a positive int"):
            SliceNormalization(channels=channels)
    with pytest.raises(ConfigError, match="normalize='percentile' cannot run inside"):
        SliceNormalization(normalize="percentile")
    with pytest.raises(ConfigError, match=r"2 channel\(s\) cannot be converted to 1"):
        SliceNormalization(channels=1)(np.zeros((1, 2, 2, 2), np.float32))
    with pytest.raises(ConfigError, match=r"3 channel\(s\) cannot be converted to 4"):
        SliceNormalization(channels=4)(np.zeros((1, 2, 2, 3), np.float32))


def test_config_and_output_shape():
    layer = SliceNormalization(channels=3, normalize="zscore", name="prep")
    config = layer.get_config()
    assert (config["channels"], config["normalize"], config["name"]) == (3, "zscore", "prep")
    copy = SliceNormalization.from_config(config)
    assert (copy.channels, copy.normalize) == (3, "zscore")
    assert layer.compute_output_shape((None, 8, 8, 1)) == (None, 8, 8, 3)
    inputs = keras.Input((8, 8, 1))
    assert tuple(SliceNormalization(channels=3)(inputs).shape) == (None, 8, 8, 3)
