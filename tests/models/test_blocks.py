import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models import (
    ASPP,
    AttentionGate,
    Bridge,
    DecoderStage,
    EncoderStage,
    PreActResidualUnit,
    ResidualStem,
    SqueezeExcitation,
    make_norm,
)

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


def test_output_shapes_and_options():
    x = np.zeros((1, 16, 16, 3), "float32")
    assert ResidualStem(6, norm="group", activation="elu")(x).shape == (1, 16, 16, 6)
    assert PreActResidualUnit(12, strides=2, norm="group", dropout=0.5)(x).shape == (1, 8, 8, 12)
    assert DecoderStage(5, interpolation="bilinear")(
        [np.zeros((1, 8, 8, 7), "float32"), x]
    ).shape == (1, 16, 16, 5)
    with pytest.raises(ConfigError, match="norm"):
        make_norm("instance")


def _train(layer_factory, inputs, target_shape):
    tensors = [keras.Input(a.shape[1:]) for a in inputs]
    out = layer_factory()(tensors if len(tensors) > 1 else tensors[0])
    model = keras.Model(tensors, out)
    model.compile("adam", "mse")
    y = np.zeros((inputs[0].shape[0], *target_shape), "float32")
    hist = model.fit(inputs if len(inputs) > 1 else inputs[0], y, batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    return model


@pytest.mark.parametrize(("cin", "cout"), [(4, 8), (8, 16)])
def test_small_channel_new_blocks_train(cin, cout):
    # Same oneDNN hazard as above: every down-sampling path of the new blocks trains.
    x = RNG.random((8, 16, 16, cin), dtype=np.float32)
    g = RNG.random((8, 8, 8, cout), dtype=np.float32)
    _train(lambda: EncoderStage(cout, num_units=2, squeeze_excite=True), [x], (8, 8, cout))
    _train(lambda: Bridge(cout, aspp=True, aspp_rates=(1, 2)), [x], (8, 8, cout))
    _train(lambda: AttentionGate(cin), [x, g], (16, 16, cin))
    _train(lambda: AttentionGate(cout, mode="resunetpp"), [x, g], (8, 8, cout))
    _train(lambda: DecoderStage(cin, attention="gate"), [g, x], (16, 16, cin))


def test_squeeze_excitation_rescales_channels():
    x = RNG.random((2, 8, 8, 4), dtype=np.float32)
    se = SqueezeExcitation(ratio=2)
    y = np.asarray(se(x))
    w = y / x  # one weight per (image, channel), in (0, 1)
    assert np.allclose(w, w[:, :1, :1, :], atol=1e-5)
    assert ((w > 0) & (w < 1)).all()


def test_aspp_is_sum_of_dilated_branches():
    x = RNG.random((1, 12, 12, 3), dtype=np.float32)
    aspp = ASPP(4, rates=(1, 3), norm="none")
    y = np.asarray(aspp(x))
    summed = sum(np.asarray(b(x)) for b in aspp.branches)
    np.testing.assert_allclose(y, np.asarray(aspp.project(summed)), rtol=1e-5, atol=1e-5)


def test_attention_gate_weights_skip_in_unit_interval():
    skip = RNG.random((2, 16, 16, 4), dtype=np.float32) + 0.5
    g = RNG.random((2, 8, 8, 8), dtype=np.float32)
    out = np.asarray(AttentionGate(4)([skip, g]))
    ratio = out / skip
    assert out.shape == skip.shape and ((ratio > 0) & (ratio < 1)).all()


def test_new_block_options_and_errors():
    x = np.zeros((1, 16, 16, 3), "float32")
    assert EncoderStage(6, strides=1, norm="group", activation="elu")(x).shape == (1, 16, 16, 6)
    assert Bridge(8, norm="none", dropout=0.2)(x).shape == (1, 8, 8, 8)
    skip = np.zeros((1, 32, 32, 4), "float32")
    assert DecoderStage(4, attention="resunetpp")([x, skip]).shape == (1, 32, 32, 4)
    with pytest.raises(ConfigError, match="attention"):
        DecoderStage(4, attention="oktay")
    with pytest.raises(ConfigError, match="norm"):
        ASPP(4, norm="layer")
    with pytest.raises(ConfigError, match="num_units"):
        EncoderStage(4, num_units=0)
    with pytest.raises(ConfigError, match="gating channels"):
        AttentionGate(5, mode="resunetpp")([skip, x])
    # configs without attention keep the foundation's keys (old .keras files reload)
    assert "attention" not in DecoderStage(4).get_config()
