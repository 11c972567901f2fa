import keras
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models.flops import count_flops


def _conv(input_shape, *, use_bias: bool) -> keras.Model:
    inp = keras.Input(input_shape)
    out = keras.layers.Conv2D(4, 3, padding="same", use_bias=use_bias)(inp)
    return keras.Model(inp, out, name="conv")


def test_a_convolution_by_hand():
    # 8 x 8 outputs x 4 filters, each 3 x 3 x 2 multiply-adds (2 operations each)
    assert count_flops(_conv((8, 8, 2), use_bias=False)) == 2 * 9 * 2 * 4 * 8 * 8
    # the bias adds one addition per output value
    assert count_flops(_conv((8, 8, 2), use_bias=True)) == 2 * 9 * 2 * 4 * 8 * 8 + 4 * 8 * 8


def test_a_dense_layer_by_hand():
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(3, use_bias=False)(inp))
    assert count_flops(model) == 2 * 4 * 3


def test_any_size_model_needs_and_uses_input_shape():
    free = _conv((None, None, 2), use_bias=False)
    with pytest.raises(ConfigError, match="pass input_shape=\\(H, W, C\\)"):
        count_flops(free)
    assert count_flops(free, (8, 8, 2)) == 2 * 9 * 2 * 4 * 64
    assert count_flops(free, (16, 8, 2)) == 2 * count_flops(free, (8, 8, 2))
    with pytest.raises(ConfigError, match="'conv'"):
        count_flops(free, (None, 8, 2))
