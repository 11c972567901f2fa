import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError, ModelError
from neuroseg.models import create_model, ensemble_models, load_model


def _constant(value: float, *, shape=(4, 4, 1), name: str = "constant") -> keras.Model:
    """A one-channel 'segmenter' whose every pixel is ``value`` (a 1x1 conv, zero kernel)."""
    inp = keras.Input(shape)
    conv = keras.layers.Conv2D(1, 1, name="probabilities")
    out = conv(inp)
    conv.set_weights([np.zeros((1, 1, shape[-1], 1), "float32"), np.array([value], "float32")])
    return keras.Model(inp, out, name=name)


def test_the_mean_of_three_constants_by_hand():
    ens = ensemble_models([_constant(0.2), _constant(0.5), _constant(0.8)], name="folds")
    x = np.ones((2, 4, 4, 1), "float32")
    out = ens.predict_on_batch(x)
    assert out.shape == (2, 4, 4, 1)
    np.testing.assert_allclose(out, 0.5, atol=1e-6)  # (0.2 + 0.5 + 0.8) / 3
    assert ens.name == "folds"
    assert ens.output_names == ["probabilities"]  # named after the members' output
    assert [layer.name for layer in ens.layers[1:4]] == ["member_0", "member_1", "member_2"]


def test_real_models_average_and_survive_a_safe_mode_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    a = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
    b = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
    x = np.random.default_rng(0).random((3, 32, 32, 1)).astype("float32")
    pa, pb = a.predict_on_batch(x), b.predict_on_batch(x)
    assert not np.allclose(pa, pb)  # two different members
    ens = ensemble_models([a, b])
    np.testing.assert_allclose(ens.predict_on_batch(x), (pa + pb) / 2, atol=1e-6)
    path = tmp_path / "ensemble.keras"
    ens.save(path)
    again = load_model(path)  # safe_mode=True
    np.testing.assert_array_equal(again.predict_on_batch(x), ens.predict_on_batch(x))
    assert again.count_params() == a.count_params() + b.count_params()


def test_a_multitask_ensemble_averages_each_head():
    keras.utils.set_random_seed(1)
    a = create_model("multitask-base", input_shape=(32, 32, 1), base_filters=4)
    b = create_model("multitask-base", input_shape=(32, 32, 1), base_filters=4)
    x = np.random.default_rng(1).random((2, 32, 32, 1)).astype("float32")
    ens = ensemble_models([a, b])
    got, oa, ob = ens.predict_on_batch(x), a.predict_on_batch(x), b.predict_on_batch(x)
    assert isinstance(got, dict) and set(got) == set(oa)
    for key in got:
        np.testing.assert_allclose(got[key], (oa[key] + ob[key]) / 2, atol=1e-6)
    np.testing.assert_allclose(got["label"].sum(axis=1), 1.0, atol=1e-5)  # still softmax


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_models_are_refused(n):
    with pytest.raises(ConfigError, match="at least two models"):
        ensemble_models([_constant(0.5) for _ in range(n)])


def test_the_same_object_twice_is_refused():
    m = _constant(0.5)
    with pytest.raises(ConfigError, match="twice"):
        ensemble_models([m, m])


def test_members_must_agree_on_input_and_output():
    with pytest.raises(ModelError, match=r"member 1 \(wide\) takes inputs of shape \(4, 4, 3\)"):
        ensemble_models([_constant(0.5), _constant(0.5, shape=(4, 4, 3), name="wide")])
    inp = keras.Input((4, 4, 1))
    two = keras.Model(inp, keras.layers.Conv2D(2, 1, name="probabilities")(inp), name="two")
    with pytest.raises(ModelError, match=r"member 1 \(two\) gives outputs"):
        ensemble_models([_constant(0.5), two])
    with pytest.raises(ModelError, match="not a keras.Model"):
        ensemble_models([_constant(0.5), "fold_2/best.keras"])
