import keras
import numpy as np
import pytest
import tensorflow as tf

from neuroseg.errors import ModelError
from neuroseg.inference.outputs import foreground, split_outputs


def test_a_single_mask_output():
    out = split_outputs(None, np.ones((2, 4, 4, 1), np.float64))
    assert list(out) == ["mask"]
    assert out["mask"].shape == (2, 4, 4, 1) and out["mask"].dtype == np.float32


def test_a_single_class_output_from_a_tensor():
    out = split_outputs(None, tf.constant([[0.25, 0.75]]))
    assert list(out) == ["label"]
    np.testing.assert_array_equal(out["label"], np.array([[0.25, 0.75]], np.float32))


def test_dict_outputs_are_told_apart_by_shape_not_name():
    out = split_outputs(None, {"label": np.zeros((1, 8, 8, 1)), "mask": np.zeros((1, 3))})
    assert out["mask"].shape == (1, 8, 8, 1) and out["label"].shape == (1, 3)


def test_list_outputs_need_the_models_output_names():
    inp = keras.Input((4, 4, 1))
    mask = keras.layers.Conv2D(1, 1, name="seg")(inp)
    label = keras.layers.Dense(3, name="cls")(keras.layers.GlobalAveragePooling2D()(inp))
    model = keras.Model(inp, [mask, label], name="two_heads")
    outs = model(np.zeros((2, 4, 4, 1), np.float32))
    got = split_outputs(model, outs)
    assert got["mask"].shape == (2, 4, 4, 1) and got["label"].shape == (2, 3)
    with pytest.raises(ModelError, match="2 outputs without names"):
        split_outputs(None, [np.zeros((1, 4, 4, 1)), np.zeros((1, 3))])


@pytest.mark.parametrize(
    "out",
    [
        np.zeros((2, 4, 4)),  # 3-D: neither masks nor class probabilities
        {"a": np.zeros((1, 4, 4, 1)), "b": np.zeros((1, 4, 4, 1))},  # two masks
        {"a": np.zeros((1, 3)), "b": np.zeros((1, 2))},  # two class heads
    ],
)
def test_outputs_that_are_neither_or_repeated_are_refused(out):
    with pytest.raises(ModelError, match="expected masks"):
        split_outputs(None, out)


def test_foreground_of_sigmoid_and_softmax_masks():
    sigmoid = np.array([[[[0.2], [0.9]]]])  # (1, 1, 2, 1)
    np.testing.assert_array_equal(foreground(sigmoid), [[[0.2, 0.9]]])
    softmax = np.array([[[[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]]])  # background is channel 0
    np.testing.assert_allclose(foreground(softmax), [[[0.3, 0.9]]])
