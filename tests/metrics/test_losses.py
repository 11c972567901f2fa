import numpy as np
import pytest

from neuroseg.metrics import DiceBCELoss, DiceLoss, dice_bce_loss, dice_loss


def test_dice_loss_hand_computed():
    t = np.array([[[[1.0], [1.0], [0.0], [0.0]]]], "float32")
    p = np.array([[[[1.0], [0.5], [0.5], [0.0]]]], "float32")
    # inter = 1.5, sums = 2 + 2 -> 1 - 3/4
    assert float(dice_loss(t, p, smooth=0.0)[0]) == pytest.approx(0.25)
    assert float(dice_loss(np.zeros_like(t), np.zeros_like(p))[0]) == pytest.approx(0.0)


def test_logits_and_classes_agree():
    rng = np.random.default_rng(0)
    t = (rng.random((3, 4, 4, 1)) > 0.5).astype("float32")
    logits = rng.normal(size=(3, 4, 4, 1)).astype("float32")
    probs = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(
        np.asarray(dice_bce_loss(t, logits, from_logits=True)),
        np.asarray(dice_bce_loss(t, probs)),
        rtol=1e-4,
    )
    assert float(DiceLoss()(t, probs)) == pytest.approx(
        float(np.mean(dice_loss(t, probs))), rel=1e-6
    )
    assert float(DiceBCELoss()(t, probs)) > float(DiceLoss()(t, probs))


from neuroseg.errors import ConfigError  # noqa: E402
from neuroseg.metrics import (  # noqa: E402
    FocalLoss,
    FocalTverskyLoss,
    TverskyLoss,
    focal_loss,
    focal_tversky_loss,
    tversky_loss,
)

T1 = np.array([[[[1.0], [1.0], [0.0], [0.0]]]], "float32")  # (1, 1, 4, 1)
P1 = np.array([[[[0.8], [0.4], [0.2], [0.0]]]], "float32")


def _f(x):
    return float(np.asarray(x)[0])


def test_tversky_hand_computed():
    # soft tp = 1.2, fp = 0.2, fn = 0.8
    assert _f(tversky_loss(T1, P1, smooth=0.0)) == pytest.approx(1 - 1.2 / (1.2 + 0.06 + 0.56))
    assert _f(tversky_loss(T1, P1, alpha=0.5, beta=0.5, smooth=0.0)) == pytest.approx(
        _f(dice_loss(T1, P1, smooth=0.0))
    )
    ti = 1.2 / (1.2 + 0.06 + 0.56)
    assert _f(focal_tversky_loss(T1, P1, smooth=0.0)) == pytest.approx((1 - ti) ** 0.75)
    assert _f(focal_tversky_loss(T1, P1, gamma=1.0)) == pytest.approx(_f(tversky_loss(T1, P1)))


def test_focal_hand_computed():
    pt = np.array([0.8, 0.4, 0.8, 1.0 - 1e-7])
    expect = np.mean(-((1 - pt) ** 2) * np.log(pt))
    assert _f(focal_loss(T1, P1)) == pytest.approx(expect, rel=1e-5)
    # gamma = 0 is the binary cross-entropy of Keras
    bce = np.mean(np.asarray(__import__("keras").losses.binary_crossentropy(T1, P1)))
    assert _f(focal_loss(T1, P1, gamma=0.0)) == pytest.approx(float(bce), rel=1e-5)
    # class weights: background pixels x 0.25, tumour pixels x 1
    w = np.array([1.0, 1.0, 0.25, 0.25])
    assert _f(focal_loss(T1, P1, class_weights=[0.25, 1.0])) == pytest.approx(
        np.mean(w * -((1 - pt) ** 2) * np.log(pt)), rel=1e-5
    )


def test_binary_class_weights_and_background():
    # default binary weights (0, 1): foreground only; (1, 1): mean of background and foreground
    fg = _f(dice_loss(T1, P1, smooth=0.0))
    # background: truth [0,0,1,1], prediction [0.2,0.6,0.8,1.0] -> 1 - 2*1.8 / (2 + 2.6)
    bg = 1 - 3.6 / 4.6
    assert fg == pytest.approx(1 - 2.4 / 3.4)
    assert _f(dice_loss(T1, P1, smooth=0.0, class_weights=[1, 1])) == pytest.approx((fg + bg) / 2)
    assert _f(dice_loss(T1, P1, smooth=0.0, class_weights=[1, 3])) == pytest.approx(
        (bg + 3 * fg) / 4
    )
    with pytest.raises(ConfigError, match="class_weights"):
        dice_loss(T1, P1, class_weights=[1, 2, 3])


def test_multiclass_losses_labels_one_hot_and_logits():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, (2, 4, 4))
    logits = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    onehot = np.eye(3, dtype="float32")[labels]
    for fn in (dice_loss, dice_bce_loss, focal_loss, tversky_loss, focal_tversky_loss):
        a = np.asarray(fn(onehot, probs))
        np.testing.assert_allclose(np.asarray(fn(labels, probs)), a, rtol=1e-5)
        np.testing.assert_allclose(np.asarray(fn(labels[..., None], probs)), a, rtol=1e-5)
        np.testing.assert_allclose(np.asarray(fn(onehot, logits, from_logits=True)), a, rtol=1e-4)
    # hand check of the multi-class Dice: mean over classes of the per-class soft Dice
    inter = (onehot * probs).sum(axis=(1, 2))
    per = 1 - (2 * inter + 1) / (onehot.sum(axis=(1, 2)) + probs.sum(axis=(1, 2)) + 1)
    np.testing.assert_allclose(np.asarray(dice_loss(labels, probs)), per.mean(-1), rtol=1e-5)
    w = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(
        np.asarray(dice_loss(labels, probs, class_weights=w)), (per * w).sum(-1) / 3, rtol=1e-5
    )
    # categorical cross-entropy term
    ce = -(onehot * np.log(probs)).sum(-1).mean(axis=(1, 2))
    np.testing.assert_allclose(
        np.asarray(dice_bce_loss(labels, probs)), per.mean(-1) + ce, rtol=1e-5
    )


def test_perfect_prediction_costs_nothing():
    t = np.zeros((1, 3, 3, 1), "float32")
    for fn in (dice_loss, tversky_loss, focal_tversky_loss):
        assert _f(fn(t, t, smooth=0.0)) == 0.0  # both empty, no smoothing: not NaN
        assert _f(fn(t + 1, t + 1, smooth=0.0)) == pytest.approx(0.0)


def test_classes_match_functions_and_train():
    import keras

    rng = np.random.default_rng(0)
    t = (rng.random((4, 8, 8, 1)) > 0.5).astype("float32")
    p = rng.random((4, 8, 8, 1)).astype("float32")
    pairs = [
        (
            FocalLoss(gamma=1.5, class_weights=[0.3, 0.7]),
            focal_loss,
            {"gamma": 1.5, "class_weights": [0.3, 0.7]},
        ),
        (TverskyLoss(alpha=0.4, beta=0.6), tversky_loss, {"alpha": 0.4, "beta": 0.6}),
        (FocalTverskyLoss(gamma=2.0), focal_tversky_loss, {"gamma": 2.0}),
    ]
    for obj, fn, kw in pairs:
        assert float(obj(t, p)) == pytest.approx(float(np.mean(fn(t, p, **kw))), rel=1e-6)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 1)])
    model.compile("adam", loss=FocalTverskyLoss(from_logits=True, class_weights=[1, 1, 2]))
    labels = rng.integers(0, 3, (4, 8, 8, 1))
    hist = model.fit(rng.random((4, 8, 8, 1)), labels, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()


JAX_CODE = r"""
import json
import keras, numpy as np
assert keras.backend.backend() == "jax"
from neuroseg import metrics as M
rng = np.random.default_rng(0)
t = (rng.random((2, 6, 6, 1)) > 0.5).astype("float32")
p = rng.random((2, 6, 6, 1)).astype("float32")
labels = rng.integers(0, 3, (2, 6, 6))
logits = rng.normal(size=(2, 6, 6, 3)).astype("float32")
out = {}
for fn in (M.dice_loss, M.dice_bce_loss, M.focal_loss, M.tversky_loss, M.focal_tversky_loss):
    out[fn.__name__] = [np.asarray(fn(t, p)).tolist(),
                        np.asarray(fn(labels, logits, from_logits=True)).tolist()]
m = M.Dice(num_classes=3)
m.update_state(labels, logits)
out["Dice"] = float(m.result())
model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 1)])
model.compile("adam", loss=M.FocalTverskyLoss(from_logits=True), metrics=[M.Dice(num_classes=3)])
h = model.fit(p, labels, epochs=1, verbose=0)
out["fit_finite"] = bool(np.isfinite(h.history["loss"][0]))
print(json.dumps(out))
"""


@pytest.mark.slow
def test_losses_and_metrics_under_jax_backend_match_tensorflow():
    import json
    import os
    import subprocess
    import sys

    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run(
        [sys.executable, "-c", JAX_CODE], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got.pop("fit_finite")
    rng = np.random.default_rng(0)
    t = (rng.random((2, 6, 6, 1)) > 0.5).astype("float32")
    p = rng.random((2, 6, 6, 1)).astype("float32")
    labels = rng.integers(0, 3, (2, 6, 6))
    logits = rng.normal(size=(2, 6, 6, 3)).astype("float32")
    import neuroseg.metrics as M

    for fn in (M.dice_loss, M.dice_bce_loss, M.focal_loss, M.tversky_loss, M.focal_tversky_loss):
        a, b = got[fn.__name__]
        np.testing.assert_allclose(a, np.asarray(fn(t, p)), rtol=1e-5)
        np.testing.assert_allclose(b, np.asarray(fn(labels, logits, from_logits=True)), rtol=1e-5)
    assert got["Dice"] == pytest.approx(float(M.dice(labels, logits, reduction="pooled").mean()))
