import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from neuroseg.errors import ConfigError
from neuroseg.metrics import confusion_counts, dice, iou, precision, recall

T = np.array([[[1, 1, 0, 0]], [[0, 0, 0, 0]], [[0, 0, 0, 0]], [[1, 0, 0, 0]]])
P = np.array([[[1, 0, 1, 0]], [[0, 0, 0, 0]], [[0, 1, 0, 0]], [[0, 0, 0, 0]]])
# image 0: tp=1 fp=1 fn=1; image 1: both empty; image 2: spurious; image 3: missed


def test_hand_computed_per_image():
    assert dice(T, P, reduction="none").tolist() == [0.5, 1.0, 0.0, 0.0]
    assert iou(T, P, reduction="none").tolist() == pytest.approx([1 / 3, 1.0, 0.0, 0.0])
    assert precision(T, P, reduction="none").tolist() == [0.5, 1.0, 0.0, 0.0]
    assert recall(T, P, reduction="none").tolist() == [0.5, 1.0, 0.0, 0.0]
    assert dice(T, P) == pytest.approx(1.5 / 4)


def test_pooled_and_per_patient():
    # pooled: tp=1 fp=2 fn=2
    assert dice(T, P, reduction="pooled") == pytest.approx(2 / 6)
    assert iou(T, P, reduction="pooled") == pytest.approx(1 / 5)
    assert precision(T, P, reduction="pooled") == pytest.approx(1 / 3)
    # patient a = images 0,1 (tp1 fp1 fn1) -> 0.5 ; patient b = images 2,3 (fp1 fn1) -> 0
    assert dice(T, P, reduction="per_patient", groups=["a", "a", "b", "b"]) == pytest.approx(0.25)
    with pytest.raises(ConfigError, match="groups"):
        dice(T, P, reduction="per_patient")


def test_empty_rule_nan():
    vals = dice(T, P, reduction="none", empty="nan")
    assert vals[0] == 0.5 and np.isnan(vals[1]) and vals[2] == 0.0
    assert dice(T, P, empty="nan") == pytest.approx(0.5 / 3)
    assert np.isnan(precision(T[3:], P[3:], empty="nan"))
    assert np.isnan(dice(T[1:2], P[1:2], empty="nan"))


def test_single_image_threshold_logits_and_tensors():
    t = np.array([[1, 1], [0, 0]])
    probs = np.array([[0.9, 0.4], [0.6, 0.1]])
    assert dice(t, probs) == pytest.approx(0.5)
    assert dice(t, probs, threshold=0.35) == pytest.approx(2 * 2 / (2 * 2 + 1))
    logits = np.log(probs / (1 - probs))
    assert dice(t, logits, from_logits=True) == pytest.approx(0.5)
    assert dice(
        tf.constant(t[None, ..., None]), tf.constant(probs[None, ..., None])
    ) == pytest.approx(0.5)


def test_input_errors():
    with pytest.raises(ConfigError, match="shape"):
        dice(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))
    with pytest.raises(ConfigError, match="0 and 1"):
        dice(np.full((2, 2), 2), np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="NaN"):
        dice(np.zeros((2, 2)), np.full((2, 2), np.nan))
    with pytest.raises(ConfigError, match="reduction"):
        dice(T, P, reduction="mean")


masks = arrays(np.uint8, (3, 5, 5), elements=st.integers(0, 1))


@settings(max_examples=60, deadline=None)
@given(masks, masks)
def test_properties(t, p):
    d = dice(t, p, reduction="none")
    j = iou(t, p, reduction="none")
    assert ((d >= 0) & (d <= 1)).all()
    np.testing.assert_allclose(d, 2 * j / (1 + j), atol=1e-12)
    np.testing.assert_allclose(d, dice(p, t, reduction="none"))
    tp, fp, fn, tn = confusion_counts(t, p)
    assert (tp + fp + fn + tn == 25).all()
