"""Uncertainty: entropies by hand, MC dropout on dropout layers only, TTA maps, AUROC."""

import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError, ModelError
from neuroseg.inference import Predictor
from neuroseg.inference.uncertainty import (
    binary_entropy,
    classification_uncertainty,
    dropout_layers,
    mc_dropout,
    mutual_information,
    predictive_entropy,
    sample_predictions,
    segmentation_uncertainty,
    slice_uncertainty,
    uncertainty_auroc,
)
from neuroseg.models import create_model


def test_entropies_by_hand():
    assert predictive_entropy([[0.5, 0.25, 0.25]]) == pytest.approx([1.5 * np.log(2)])
    assert binary_entropy([0.0, 0.25]) == pytest.approx(
        [0.0, -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))]
    )
    s = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # two certain passes that disagree
    assert mutual_information(s) == pytest.approx([np.log(2)])
    assert uncertainty_auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)


def test_slice_score_uses_mask_and_border():
    p = np.zeros((2, 9, 9))
    p[0, 4, 4] = 0.9
    u = np.ones((2, 9, 9))
    u[:, 0, 0] = 100.0  # far from slice 0's mask: not counted; slice 1 (empty) counts all
    assert slice_uncertainty(p, u, border=1).tolist() == [1.0, pytest.approx(1 + 99 / 81)]


def _dropout_bn_model():
    inp = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same")(inp)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.5)(x)
    out = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inp, out, name="tiny")
    bn = model.layers[2]
    bn.moving_mean.assign(np.full(4, 5.0, "float32"))  # inference-mode BN is visible
    return model, bn


def test_mc_dropout_switches_dropout_only():
    model, bn = _dropout_bn_model()
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    base = model(x, training=False).numpy()
    with mc_dropout(model) as layers:
        assert len(layers) == 1
        a, b = model(x, training=False).numpy(), model(x, training=False).numpy()
    assert not np.allclose(a, b)  # dropout samples a mask per call
    np.testing.assert_allclose(bn.moving_mean.numpy(), 5.0)  # BN statistics untouched
    # with dropout off again the output is the deterministic one
    np.testing.assert_allclose(model(x, training=False).numpy(), base)
    # BN in training mode would use the batch statistics: the mean of many MC passes is
    # close to the inference output, not to the training-mode output
    with mc_dropout(model):
        mean = np.mean([model(x, training=False).numpy() for _ in range(200)], axis=0)
    assert np.abs(mean - base).max() < np.abs(model(x, training=True).numpy() - base).max()


def test_mc_dropout_refuses_models_without_dropout():
    net = create_model("resunet-small", input_shape=(32, 32, 1))
    assert dropout_layers(net) == []
    with pytest.raises(ModelError, match="no dropout layer"), mc_dropout(net):
        pass


def test_classification_uncertainty_with_mc_dropout():
    model, _ = _dropout_bn_model()
    p = Predictor(model)
    x = np.random.default_rng(1).random((5, 8, 8, 1)).astype("float32")
    u = classification_uncertainty(p, x, method="mc-dropout", n_samples=6)
    assert u.probabilities.shape == (5, 3) and u.n_samples == 6
    assert (u.mutual_information > 0).all()
    assert (u.mutual_information <= u.entropy + 1e-9).all()
    one = classification_uncertainty(p, x)
    assert one.n_samples == 1 and (one.mutual_information == 0).all()
    with pytest.raises(ConfigError):
        sample_predictions(p, x, method="ensemble")


def test_segmentation_tta_maps_come_back_aligned():
    p = Predictor(create_model("resunet-small", input_shape=(32, 32, 1)))
    x = np.random.default_rng(2).random((2, 32, 32, 1)).astype("float32")
    samples = sample_predictions(p, x, method="tta")["mask"]
    assert samples.shape == (8, 2, 32, 32)
    np.testing.assert_allclose(samples[0], p.predict_batch(x)["mask"], atol=1e-6)
    u = segmentation_uncertainty(p, x)
    np.testing.assert_allclose(u.probability, samples.mean(0), atol=1e-6)
    assert u.variance.shape == u.entropy.shape == (2, 32, 32) and u.score.shape == (2,)
    assert (u.entropy <= np.log(2) + 1e-6).all()
    with pytest.raises(ModelError):
        classification_uncertainty(p, x)
