"""The shared round-trip test for every registered neuroseg layer, model, loss and metric.

Cases live beside each subpackage's tests (``tests/*/serialization_cases.py``); the
completeness test fails when a registered ``neuroseg>`` class has no case.
"""

import keras
import numpy as np
import pytest

from neuroseg import metrics, models
from tests.data.serialization_cases import LAYER_CASES as DATA_LAYER_CASES
from tests.data.serialization_cases import PREPROCESSOR_CASES
from tests.metrics.serialization_cases import LOSS_CASES, METRIC_CASES
from tests.models.serialization_cases import LAYER_CASES as MODEL_LAYER_CASES
from tests.models.serialization_cases import MODEL_CASES

LAYER_CASES = MODEL_LAYER_CASES + DATA_LAYER_CASES

RNG = np.random.default_rng(0)


def _registry_cases():
    out = []
    for name in models.list_models():
        spec = models.get_spec(name)
        shape = tuple(spec.kwargs.get("input_shape", (32, 32, 1)))
        marks = [pytest.mark.slow] if spec.heavy else []  # ImageNet-size backbones
        out.append(pytest.param(name, lambda n=name: models.create_model(n), shape, marks=marks))
    return out


def _covered_classes():
    covered = {type(f()).__name__ for _, f, _ in LAYER_CASES + MODEL_CASES}
    covered |= {type(f()).__name__ for _, f in METRIC_CASES + LOSS_CASES}
    covered |= {type(f()).__name__ for _, f, _ in PREPROCESSOR_CASES}
    covered |= {
        type(models.create_model(n)).__name__
        for n in models.list_models()
        if not models.get_spec(n).heavy
    }
    return covered


def test_every_registered_class_has_a_case():
    registered = {
        key.split(">", 1)[1]
        for key in keras.saving.get_custom_objects()
        if key.startswith("neuroseg>")
    }
    missing = {n for n in registered if n[:1].isupper()} - _covered_classes()
    assert not missing, (
        f"registered neuroseg classes without a serialisation case: {sorted(missing)}"
    )


@pytest.mark.parametrize(("cid", "factory", "inputs"), LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layer_round_trip(cid, factory, inputs, tmp_path):
    layer = factory()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    tensors = [keras.Input(shape=a.shape[1:]) for a in inputs]
    out = layer(tensors if len(tensors) > 1 else tensors[0])
    model = keras.Model(tensors, out)
    expected = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    got = loaded.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    keras.tree.map_structure(np.testing.assert_array_equal, got, expected)


@pytest.mark.parametrize(
    ("cid", "factory", "image"), PREPROCESSOR_CASES, ids=[c[0] for c in PREPROCESSOR_CASES]
)
def test_preprocessor_round_trip(cid, factory, image, tmp_path):
    import json

    pre = factory()
    data = json.loads(json.dumps(keras.saving.serialize_keras_object(pre)))
    clone = keras.saving.deserialize_keras_object(data, safe_mode=True)
    assert type(clone) is type(pre) and clone.get_config() == pre.get_config()
    np.testing.assert_array_equal(clone.prepare_array(image), pre.prepare_array(image))
    pre.save(tmp_path / "p.json")
    again = type(pre).load(tmp_path / "p.json")
    np.testing.assert_array_equal(again.prepare_array(image), pre.prepare_array(image))


def _model_round_trip(model, x, tmp_path):
    expected = model.predict(x, verbose=0)
    config = model.get_config()
    assert type(model).from_config(config).get_config() == config
    model.save(tmp_path / "m.keras")
    loaded = models.load_model(tmp_path / "m.keras")
    assert type(loaded) is type(model)
    keras.tree.map_structure(np.testing.assert_array_equal, loaded.predict(x, verbose=0), expected)


def _model_params():
    # the classifier wrapper is one class: every keras.applications backbone round-trips
    # with -m slow; the small MobileNetV3 stands for them in the default suite
    out = []
    for cid, factory, x in MODEL_CASES:
        heavy = cid.startswith("classifier-") and "mobilenetv3small" not in cid
        out.append(pytest.param(cid, factory, x, id=cid, marks=[pytest.mark.slow] if heavy else []))
    return out


@pytest.mark.parametrize(("cid", "factory", "x"), _model_params())
def test_model_round_trip(cid, factory, x, tmp_path):
    _model_round_trip(factory(), x, tmp_path)


@pytest.mark.parametrize(
    ("name", "factory", "shape"), _registry_cases(), ids=[c.values[0] for c in _registry_cases()]
)
def test_registry_model_round_trip_at_default_size(name, factory, shape, tmp_path):
    x = RNG.random((1, *(s if s is not None else 32 for s in shape)), dtype=np.float32)
    _model_round_trip(factory(), x, tmp_path)


@pytest.mark.parametrize(("cid", "factory"), METRIC_CASES, ids=[c[0] for c in METRIC_CASES])
def test_metric_round_trip(cid, factory):
    obj = factory()
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    assert type(clone) is type(obj) and clone.get_config() == obj.get_config()


@pytest.mark.parametrize(("cid", "factory"), LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_loss_round_trip(cid, factory):
    obj = factory()
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    assert type(clone) is type(obj) and clone.get_config() == obj.get_config()
    t = (RNG.random((2, 8, 8, 1)) > 0.5).astype("float32")
    p = RNG.random((2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(clone(t, p)), np.asarray(obj(t, p)))


def test_compiled_model_reloads_with_custom_loss_and_metrics(tmp_path):
    model = models.create_model("resunet-small", input_shape=(16, 16, 1), base_filters=4)
    model.compile("adam", loss=metrics.DiceBCELoss(), metrics=[metrics.Dice(), metrics.IoU()])
    x = RNG.random((2, 16, 16, 1), dtype=np.float32)
    model.fit(x, (x > 0.5).astype("float32"), epochs=1, verbose=0)
    model.save(tmp_path / "c.keras")
    loaded = models.load_model(tmp_path / "c.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.loss, metrics.DiceBCELoss)
