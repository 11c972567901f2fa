import keras
import numpy as np
import pytest

from neuroseg.models.layers.residual_unit import PreActResidualUnit

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("size", [16, 15])
def test_strided_shortcut_equals_strided_1x1_conv(size):
    x = RNG.random((2, size, size, 4), dtype=np.float32)
    unit = PreActResidualUnit(8, strides=2, norm="none")
    unit(x)
    ref = keras.layers.Conv2D(8, 1, strides=2, padding="same")
    ref.build(x.shape)
    ref.set_weights(unit.shortcut_conv.get_weights())
    np.testing.assert_allclose(
        np.asarray(unit._shortcut(x, False)), np.asarray(ref(x)), rtol=1e-5, atol=1e-6
    )


def test_identity_shortcut_when_shapes_match():
    unit = PreActResidualUnit(4)
    unit(np.zeros((1, 8, 8, 4), "float32"))
    assert unit.shortcut_conv is None


@pytest.mark.parametrize(("cin", "cout"), [(4, 8), (8, 16)])
def test_small_channel_strided_unit_trains(cin, cout):
    # TensorFlow 2.21's oneDNN strided 1x1 conv backward pass corrupted the heap here.
    inp = keras.Input((32, 32, cin))
    model = keras.Model(inp, PreActResidualUnit(cout, strides=2)(inp))
    model.compile("adam", "mse")
    x = RNG.random((8, 32, 32, cin), dtype=np.float32)
    hist = model.fit(x, np.zeros((8, 16, 16, cout), "float32"), batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()


def test_output_shape_and_options():
    x = np.zeros((1, 16, 16, 3), "float32")
    assert PreActResidualUnit(12, strides=2, norm="group", dropout=0.5)(x).shape == (1, 8, 8, 12)
