"""TemperatureScaling: the same numbers as NumPy, no change of the predicted class."""

import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.inference.calibration import apply_temperature, with_temperature
from neuroseg.models import TemperatureScaling, create_model

RNG = np.random.default_rng(0)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("t", [0.5, 1.0, 2.5])
def test_softmax_matches_numpy_and_keeps_argmax(t):
    p = _softmax(RNG.normal(size=(6, 4)) * 3).astype("float32")
    out = keras.ops.convert_to_numpy(TemperatureScaling(t)(p))
    np.testing.assert_allclose(out, apply_temperature(p, t), atol=1e-5)
    np.testing.assert_allclose(out, _softmax(np.log(p) / t), atol=1e-5)
    assert (out.argmax(1) == p.argmax(1)).all()
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-5)


def test_sigmoid_per_pixel():
    p = RNG.random((2, 5, 5, 1)).astype("float32")
    layer = TemperatureScaling(3.0, activation="sigmoid")
    out = keras.ops.convert_to_numpy(layer(p))
    z = np.log(p) - np.log1p(-p)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-z / 3.0)), atol=1e-5)
    assert ((out > 0.5) == (p > 0.5)).all()
    assert np.abs(out - 0.5).max() < np.abs(p - 0.5).max()  # T > 1 softens


@pytest.mark.parametrize(
    "kwargs", [{"temperature": 0.0}, {"temperature": float("nan")}, {"activation": "relu"}]
)
def test_bad_arguments(kwargs):
    with pytest.raises(ConfigError):
        TemperatureScaling(**kwargs)


def test_calibrated_model_round_trips(tmp_path):
    net = create_model("resunet-small", input_shape=(32, 32, 1))
    model = with_temperature(net, 2.0, activation="sigmoid")
    x = RNG.random((1, 32, 32, 1)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    back = keras.saving.load_model(path)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert back.layers[-1].temperature == 2.0
