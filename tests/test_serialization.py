"""One shared round-trip test for every public layer, model, loss and metric."""

import keras
import numpy as np
import pytest

from neuroseg import metrics, models

RNG = np.random.default_rng(0)


def _layer_cases():
    x = RNG.random((2, 16, 16, 4), dtype=np.float32)
    skip = RNG.random((2, 32, 32, 8), dtype=np.float32)
    return [
        ("PreActResidualUnit", models.PreActResidualUnit(8, strides=2, dropout=0.1), [x]),
        ("PreActResidualUnit-group", models.PreActResidualUnit(4, norm="group"), [x]),
        ("ResidualStem", models.ResidualStem(8, norm="none"), [x]),
        ("DecoderStage", models.DecoderStage(8), [[x, skip]]),
    ]


def _wrap(layer, args):
    """A functional model around one layer, so it goes through .keras saving."""
    if isinstance(args[0], list):
        inputs = [keras.Input(shape=a.shape[1:]) for a in args[0]]
        return keras.Model(inputs, layer(inputs)), [args[0]]
    inp = keras.Input(shape=args[0].shape[1:])
    return keras.Model(inp, layer(inp)), args


@pytest.mark.parametrize("case", _layer_cases(), ids=lambda c: c[0])
def test_layer_round_trip(case, tmp_path):
    _, layer, args = case
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    model, call_args = _wrap(layer, args)
    expected = model.predict(*call_args, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(*call_args, verbose=0), expected)


@pytest.mark.parametrize("name", models.list_models())
def test_registry_model_round_trip(name, tmp_path):
    model = models.create_model(name, input_shape=(32, 32, 1))
    x = RNG.random((2, 32, 32, 1), dtype=np.float32)
    expected = model.predict(x, verbose=0)
    config = model.get_config()
    assert type(model).from_config(config).get_config() == config
    model.save(tmp_path / "m.keras")
    loaded = models.load_model(tmp_path / "m.keras")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


@pytest.mark.parametrize(
    "obj",
    [
        metrics.Dice(threshold=0.4),
        metrics.IoU(from_logits=True),
        metrics.Precision(),
        metrics.Recall(),
    ],
    ids=lambda o: type(o).__name__,
)
def test_metric_round_trip(obj):
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    assert type(clone) is type(obj) and clone.get_config() == obj.get_config()


@pytest.mark.parametrize(
    "obj",
    [metrics.DiceLoss(smooth=2.0), metrics.DiceBCELoss(bce_weight=0.5)],
    ids=lambda o: type(o).__name__,
)
def test_loss_round_trip(obj):
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    assert type(clone) is type(obj) and clone.get_config() == obj.get_config()
    t = (RNG.random((2, 8, 8, 1)) > 0.5).astype("float32")
    p = RNG.random((2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(clone(t, p)), np.asarray(obj(t, p)))


def test_compiled_model_reloads_with_custom_loss_and_metrics(tmp_path):
    model = models.create_model("resunet-small", input_shape=(16, 16, 1), base_filters=4)
    model.compile("adam", loss=metrics.DiceBCELoss(), metrics=[metrics.Dice(), metrics.IoU()])
    x = RNG.random((2, 16, 16, 1), dtype=np.float32)
    y = (x > 0.5).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "c.keras")
    loaded = models.load_model(tmp_path / "c.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.loss, metrics.DiceBCELoss)
