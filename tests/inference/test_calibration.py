"""Temperature scaling: fitting T, the figures before and after, the calibrated model."""

import math

import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError, EmptyDatasetError, ModelError
from neuroseg.inference.calibration import (
    CalibrationResult,
    apply_temperature,
    calibrate_model,
    calibration_figures,
    collect_probabilities,
    evaluate_temperature,
    fit_temperature,
    with_temperature,
)
from neuroseg.inference.predictor import Predictor

RNG = np.random.default_rng(0)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_fit_temperature_recovers_a_known_temperature():
    # labels drawn from softmax(z); the model reports softmax(3 z): T = 3 undoes it
    z = RNG.normal(size=(4000, 3)) * 1.5
    y = np.array([RNG.choice(3, p=q) for q in _softmax(z)])
    t = fit_temperature(_softmax(3 * z), y)
    assert t == pytest.approx(3.0, rel=0.1)
    # sigmoid: probabilities that are too soft get T < 1
    zs = RNG.normal(size=20000) * 2
    ys = RNG.random(20000) < 1 / (1 + np.exp(-zs))
    ts = fit_temperature(1 / (1 + np.exp(-zs / 2)), ys, activation="sigmoid")
    assert ts == pytest.approx(0.5, rel=0.1)


# ---------------------------------------------------------------- apply_temperature
def test_apply_temperature_by_hand():
    # softmax: p ** (1 / T), renormalised: sqrt(0.8) : sqrt(0.2) = 2 : 1
    np.testing.assert_allclose(apply_temperature([[0.8, 0.2]], 2.0), [[2 / 3, 1 / 3]])
    # sigmoid: logit(0.8) = log 4, halved = log 2 -> 2/3; 0.5 stays 0.5
    np.testing.assert_allclose(
        apply_temperature([0.8, 0.5], 2.0, activation="sigmoid"), [2 / 3, 0.5]
    )
    p = np.array([[0.7, 0.2, 0.1]])
    np.testing.assert_allclose(apply_temperature(p, 1.0), p)


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan"), float("inf")])
def test_apply_temperature_refuses_bad_temperatures(t):
    with pytest.raises(ConfigError, match="temperature"):
        apply_temperature([[0.5, 0.5]], t)


def test_unknown_activation_is_refused():
    with pytest.raises(ConfigError, match="activation"):
        apply_temperature([[0.5, 0.5]], 1.0, activation="relu")
    with pytest.raises(ConfigError, match="activation"):
        fit_temperature([[0.5, 0.5]], [0], activation="tanh")


# ---------------------------------------------------------------- fit_temperature
def test_fit_temperature_by_hand():
    # 90 % said, 75 % right: sigmoid(log 9 / T) = 3/4 at T = log 9 / log 3 = 2
    p = np.full(8, 0.9)
    y = np.array([1, 1, 1, 1, 1, 1, 0, 0])
    assert fit_temperature(p, y, activation="sigmoid") == pytest.approx(2.0, rel=1e-3)
    # the same for a softmax over two classes
    probs = np.tile([0.9, 0.1], (4, 1))
    assert fit_temperature(probs, [0, 0, 0, 1]) == pytest.approx(2.0, rel=1e-3)
    # said with 75 % and right 75 % of the time: already calibrated
    assert fit_temperature(np.full(8, 0.75), y, activation="sigmoid") == pytest.approx(
        1.0, rel=1e-3
    )


def test_always_right_ends_at_the_lower_bound():
    # the NLL keeps falling as T -> 0: the fit stops at the bound
    t = fit_temperature([[0.9, 0.1], [0.2, 0.8]], [0, 1], bounds=(0.1, 10.0))
    assert t == pytest.approx(0.1)


def test_fit_temperature_subsamples_with_max_samples():
    y = np.array([1] * 75 + [0] * 25)
    p = np.full(100, 0.9)
    full = fit_temperature(p, y, activation="sigmoid")
    same = fit_temperature(p, y, activation="sigmoid", max_samples=100)
    assert same == full
    drawn = fit_temperature(p, y, activation="sigmoid", max_samples=40, seed=1)
    assert drawn == fit_temperature(p, y, activation="sigmoid", max_samples=40, seed=1)


@pytest.mark.parametrize(
    ("probs", "targets", "kwargs", "error", "match"),
    [
        (
            [0.5, 0.5],
            [1, 0],
            {"activation": "sigmoid", "bounds": (2.0, 1.0)},
            ConfigError,
            "bounds",
        ),
        (
            [0.5, 0.5],
            [1, 0],
            {"activation": "sigmoid", "bounds": (0.0, 1.0)},
            ConfigError,
            "bounds",
        ),
        ([0.5, 0.5], [1, 0, 1], {"activation": "sigmoid"}, ConfigError, "differ in shape"),
        ([0.5, 0.5], [0, 1], {}, ConfigError, "expected \\(N, C\\)"),
        ([[0.5, 0.5]], [0, 1], {}, ConfigError, "expected \\(N, C\\)"),
        ([[0.5, 0.5]], [2], {}, ConfigError, "labels must lie in 0..1"),
        ([[0.5, 0.5]], [-1], {}, ConfigError, "labels must lie"),
        ([[np.nan, 0.5]], [0], {}, ConfigError, "NaN"),
        (np.zeros((0, 2)), np.zeros(0), {}, EmptyDatasetError, "no items"),
        (np.zeros(0), np.zeros(0), {"activation": "sigmoid"}, EmptyDatasetError, "no items"),
    ],
)
def test_fit_temperature_refuses_bad_inputs(probs, targets, kwargs, error, match):
    with pytest.raises(error, match=match):
        fit_temperature(probs, targets, **kwargs)


# ---------------------------------------------------------------- figures and result
def test_calibration_figures_by_hand():
    # confidences 0.9 (right) and 0.8 (right, class 0): ECE = (0.1 + 0.2) / 2
    figures, curve = calibration_figures([1, 0], [0.9, 0.2], n_bins=10)
    assert figures["ece"] == pytest.approx(0.15)
    assert figures["mce"] == pytest.approx(0.2)
    assert figures["brier"] == pytest.approx((0.1**2 + 0.2**2) / 2)
    assert figures["nll"] == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2)
    assert curve.n == 2 and curve.counts.tolist() == [0] * 7 + [1, 1, 0]


def test_calibration_figures_flatten_masks():
    truth = np.array([[[1, 0], [0, 0]]])  # (1, 2, 2) mask
    probs = np.array([[[0.9, 0.2], [0.2, 0.2]]])
    figures, curve = calibration_figures(truth, probs, n_bins=10)
    assert curve.n == 4
    assert figures["brier"] == pytest.approx((0.01 + 3 * 0.04) / 4)


def test_calibration_result_dict_and_table():
    r = CalibrationResult(
        2.0,
        "sigmoid",
        n_items=3,
        n_samples=48,
        before={"ece": 0.25, "brier": 0.1},
        after={"ece": 0.05, "brier": 0.08},
        meta={"data": "fold 4"},
    )
    d = r.to_dict()
    assert d == {
        "temperature": 2.0,
        "activation": "sigmoid",
        "n_items": 3,
        "n_samples": 48,
        "before": {"ece": 0.25, "brier": 0.1},
        "after": {"ece": 0.05, "brier": 0.08},
        "data": "fold 4",
    }
    lines = r.format().splitlines()
    assert lines[0] == "temperature T = 2 (sigmoid, fitted on 3 images, 48 pixels)"
    text = str(r)
    assert text == r.format()
    assert "expected calibration error (ECE)" in text and "Brier score" in text
    assert "maximum calibration error" not in text  # not in `before`: no row
    with pytest.raises(AttributeError):
        r.temperature = 3.0  # frozen


def test_calibration_result_keeps_the_curves():
    _, curve = calibration_figures([1, 0], [0.9, 0.2], n_bins=4)
    r = CalibrationResult(1.0, "softmax", 2, 2, {}, {}, curve_before=curve, curve_after=curve)
    d = r.to_dict()
    assert d["reliability_before"] == curve.to_dict() == d["reliability_after"]


# ---------------------------------------------------------------- models
def _constant_classifier(p0: float = 0.9) -> keras.Model:
    """A two-class classifier that always says (p0, 1 - p0)."""
    inp = keras.Input((4, 4, 1), name="image")
    x = keras.layers.GlobalAveragePooling2D()(inp)
    dense = keras.layers.Dense(2, activation="softmax", name="probs")
    out = dense(x)
    dense.set_weights([np.zeros((1, 2), "float32"), np.log([p0, 1 - p0]).astype("float32")])
    return keras.Model(inp, out, name="constant")


def test_calibrate_model_by_hand():
    # (0.9, 0.1) on four images, three of them class 0: T = log 9 / log 3 = 2 -> (0.75, 0.25)
    x = np.zeros((4, 4, 4, 1), np.float32)
    calibrated, result = calibrate_model(_constant_classifier(), (x, np.array([0, 0, 0, 1])))
    assert result.activation == "softmax" and result.n_items == 4 and result.n_samples == 4
    assert result.temperature == pytest.approx(2.0, rel=1e-3)
    assert result.after["ece"] == pytest.approx(0.0, abs=1e-3)  # 75 % said, 75 % right
    assert result.before["ece"] == pytest.approx(0.15, abs=1e-6)  # 90 % said
    assert calibrated.name == "constant_calibrated"
    assert calibrated.layers[-1].name == "temperature"
    np.testing.assert_allclose(np.asarray(calibrated(x[:1])), [[0.75, 0.25]], atol=1e-3)


def test_collect_probabilities_of_a_classifier_and_a_segmenter():
    x = np.zeros((3, 4, 4, 1), np.float32)
    probs, targets, sizes = collect_probabilities(
        Predictor(_constant_classifier(0.6)), (x, np.array([1, 0, 1]))
    )
    np.testing.assert_allclose(probs, [[0.6, 0.4]] * 3, atol=1e-6)
    assert targets.tolist() == [1, 0, 1] and sizes.tolist() == [1, 1, 1]
    # a segmenter returning its input: the pixels, flattened, and the truth as 0/1
    inp = keras.Input((2, 2, 1))
    seg = keras.Model(inp, keras.layers.Activation("linear")(inp), name="identity")
    x = np.array([[[[0.1], [0.9]], [[0.3], [0.6]]]], np.float32)
    probs, targets, sizes = collect_probabilities(Predictor(seg), (x, np.array([[[0, 2], [0, 1]]])))
    np.testing.assert_allclose(probs, [0.1, 0.9, 0.3, 0.6], atol=1e-6)
    assert targets.tolist() == [0, 1, 0, 1] and sizes.tolist() == [4]
    with pytest.raises(EmptyDatasetError):
        collect_probabilities(Predictor(seg), (np.zeros((0, 2, 2, 1)), np.zeros((0, 2, 2))))


def test_collect_probabilities_uses_no_tta_and_leaves_the_predictor_alone():
    # out[j] = x[j + 1] (last column 0): not flip-equivariant, so a flip TTA would
    # average it with x[j - 1]
    inp = keras.Input((1, 3, 1))
    conv = keras.layers.Conv2D(1, (1, 2), padding="same", use_bias=False)
    seg = keras.Model(inp, conv(inp), name="shift")
    conv.set_weights([np.array([0.0, 1.0], np.float32).reshape(1, 2, 1, 1)])
    x = np.array([0.2, 0.4, 0.8], np.float32).reshape(1, 1, 3, 1)
    predictor = Predictor(seg, tta="flip")
    probs, _, _ = collect_probabilities(predictor, (x, np.zeros((1, 1, 3))))
    np.testing.assert_allclose(probs, [0.4, 0.8, 0.0], atol=1e-6)
    assert predictor.tta is True
    assert not np.allclose(predictor.predict_batch(x)["mask"].reshape(-1), probs)


def test_with_temperature_refuses_what_it_cannot_scale():
    with pytest.raises(ModelError, match="keras.Model"):
        with_temperature("model.keras", 2.0)
    clf = _constant_classifier()
    with pytest.raises(ModelError, match="named \\(dict\\) outputs"):
        with_temperature(clf, {"label": 2.0})
    with pytest.raises(ConfigError, match="unknown heads"):
        with_temperature(clf, {"logits": 2.0})
    inp = keras.Input((4, 4, 1))
    pooled = keras.layers.GlobalAveragePooling2D()(inp)
    two = keras.Model(inp, [keras.layers.Dense(2)(pooled), keras.layers.Dense(3)(pooled)])
    with pytest.raises(ModelError, match="one temperature per head"):
        with_temperature(two, 2.0)


def test_evaluate_temperature_groups_and_intervals():
    p = np.tile([0.9, 0.1], (4, 1))
    y = [0, 0, 0, 1]
    r = evaluate_temperature(y, p, np.ones(4), 2.0, groups=["a", "a", "b", "b"], n_bootstrap=50)
    assert r["n_images"] == 4 and r["n_groups"] == 2
    assert r["bootstrap"] == {"resamples": 50, "confidence": 0.95, "seed": 0, "unit": "group"}
    assert r["before"]["ece"] == pytest.approx(0.15) and r["after"]["ece"] == pytest.approx(0.0)
    for lo, hi in r["ci"].values():
        assert lo <= hi
    again = evaluate_temperature(y, p, np.ones(4), 2.0, groups=["a", "a", "b", "b"], n_bootstrap=50)
    assert again["ci"] == r["ci"]  # seeded
    with pytest.raises(ConfigError, match="groups has 3 entries for 4 images"):
        evaluate_temperature(y, p, np.ones(4), 2.0, groups=["a", "b", "c"], n_bootstrap=5)
