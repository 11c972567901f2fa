import keras
import numpy as np

from neuroseg.inference.predict import predict_masks


def _passthrough() -> keras.Model:
    """A segmenter whose foreground probability is its input."""
    inp = keras.Input((2, 3, 1))
    return keras.Model(inp, keras.layers.Activation("linear")(inp))


def test_masks_are_the_probabilities_at_or_above_the_threshold():
    x = np.array([[[0.1, 0.5, 0.9], [0.49, 0.51, 0.0]]], np.float32)[..., None]
    masks, probs = predict_masks(_passthrough(), x)
    assert masks.shape == probs.shape == (1, 2, 3)
    assert masks.dtype == np.uint8 and probs.dtype == np.float32
    np.testing.assert_allclose(probs, x[..., 0])
    assert masks.tolist() == [[[0, 1, 1], [0, 1, 0]]]  # 0.5 itself is foreground


def test_threshold_and_batches():
    x = np.random.default_rng(0).random((5, 2, 3, 1), dtype=np.float32)
    masks, probs = predict_masks(_passthrough(), x, threshold=0.8, batch_size=2)
    assert masks.shape == (5, 2, 3)
    np.testing.assert_array_equal(masks, (x[..., 0] >= 0.8).astype(np.uint8))
    np.testing.assert_allclose(probs, x[..., 0])
