import numpy as np
import pytest

from neuroseg.data import SlicePreprocessor
from neuroseg.errors import ConfigError, ModelError
from neuroseg.export.raw_input import with_preprocessing

from .conftest import tiny_model


def test_uint8_slices_in_normalised_by_the_graph():
    model = with_preprocessing(tiny_model(size=(2, 2)), SlicePreprocessor(image_size=2))
    assert model.name == "tiny_with_preprocessing"
    assert model.input_shape == (None, 2, 2, 1) and model.inputs[0].dtype == "uint8"
    pixels = np.array([[[[0], [51]], [[102], [255]]]], np.uint8)
    got = np.asarray(model(pixels))[0, ..., 0]
    np.testing.assert_allclose(got, [[0.0, 0.2], [0.4, 1.0]], atol=1e-6)  # (x - 0) / 255


def test_raw_channels_let_a_grey_model_take_rgb():
    pre = SlicePreprocessor(channels=1, image_size=2)
    model = with_preprocessing(tiny_model(size=(2, 2)), pre, raw_channels=3)
    assert model.input_shape == (None, 2, 2, 3)
    grey = np.array([[[[0], [50]], [[100], [200]]]], np.uint8)
    got = np.asarray(model(np.repeat(grey, 3, axis=-1)))[0, ..., 0]
    np.testing.assert_allclose(got, [[0.0, 0.25], [0.5, 1.0]], atol=1e-6)


def test_default_raw_channels_are_the_preprocessors():
    pre = SlicePreprocessor(channels=3, image_size=2)
    model = with_preprocessing(tiny_model(size=(2, 2), channels=3), pre)
    assert model.input_shape == (None, 2, 2, 3)


def test_size_agnostic_model_is_refused():
    with pytest.raises(ModelError, match="fix the input size"):
        with_preprocessing(tiny_model(size=(None, None)), SlicePreprocessor())


def test_percentile_normalisation_has_no_in_graph_form():
    with pytest.raises(ConfigError, match="percentile"):
        with_preprocessing(tiny_model(), SlicePreprocessor(image_size=4, normalize="percentile"))
