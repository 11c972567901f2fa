import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.inference import Predictor, tta_transforms


def test_inverse_undoes_forward():
    x = np.random.default_rng(0).random((2, 6, 6, 1))
    ts = tta_transforms()
    assert len(ts) == 8 and len({t.name for t in ts}) == 8
    for t in ts:
        np.testing.assert_array_equal(t.inverse(t.forward(x)), x)
    outs = {t.forward(x).tobytes() for t in ts}
    assert len(outs) == 8  # all eight dihedral images differ
    assert len(tta_transforms(square=False)) == 4


def _pointwise_model():
    inp = keras.Input((16, 16, 1))
    out = keras.layers.Conv2D(1, 1, activation="sigmoid", name="head")(inp)
    return keras.Model(inp, out)


def test_tta_is_exact_for_a_pointwise_model():
    # A 1x1 convolution commutes with flips and rotations, so TTA must change nothing
    # if every prediction is mapped back correctly before averaging.
    model = _pointwise_model()
    x = np.random.default_rng(1).random((3, 16, 16, 1)).astype("float32")
    plain = Predictor(model).predict_batch(x)["mask"]
    tta = Predictor(model, tta=True).predict_batch(x)["mask"]
    np.testing.assert_allclose(tta, plain, atol=1e-6)


@pytest.mark.parametrize(("tta", "n"), [(True, 2), ("flip", 2), ("all", 8)])
def test_tta_averages_a_non_equivariant_model(small_seg_model, tta, n):
    x = np.random.default_rng(2).random((2, 64, 64, 1)).astype("float32")
    plain = Predictor(small_seg_model).predict_batch(x)["mask"]
    got = Predictor(small_seg_model, tta=tta).predict_batch(x)["mask"]
    assert got.shape == plain.shape == (2, 64, 64)
    assert not np.allclose(got, plain)
    # the mean of the back-mapped predictions: image and mirror, or all eight
    transforms = tta_transforms(rotations=n == 8)
    assert len(transforms) == n
    manual = np.mean(
        [
            t.inverse(np.asarray(small_seg_model(t.forward(x), training=False))[..., 0])
            for t in transforms
        ],
        axis=0,
    )
    np.testing.assert_allclose(got, manual, atol=1e-5)


def test_unknown_tta_mode_is_refused(small_seg_model):
    with pytest.raises(ConfigError, match="'flip' or 'all'"):
        Predictor(small_seg_model, tta="rotations")


def test_predict_batch_overrides_tta_for_one_call_only(small_seg_model):
    x = np.random.default_rng(3).random((2, 64, 64, 1)).astype("float32")
    plain = Predictor(small_seg_model).predict_batch(x)["mask"]
    flipped = Predictor(small_seg_model, tta="flip").predict_batch(x)["mask"]
    p = Predictor(small_seg_model, tta="flip")
    np.testing.assert_allclose(p.predict_batch(x, tta=False)["mask"], plain, atol=1e-6)
    assert p.tta is True  # the predictor keeps its own setting
    np.testing.assert_allclose(p.predict_batch(x)["mask"], flipped, atol=1e-6)
    q = Predictor(small_seg_model)
    np.testing.assert_allclose(q.predict_batch(x, tta=True)["mask"], flipped, atol=1e-6)
    assert q.tta is False
