import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from neuroseg.errors import ConfigError
from neuroseg.metrics import confusion_counts, dice, iou, precision, recall, specificity

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


def test_specificity_hand_computed_and_mirror_rule():
    # image 0: tn=1 fp=1 -> 0.5; images 1-3: tn=4/3/3, fp=0/1/0
    assert specificity(T, P, reduction="none").tolist() == [0.5, 1.0, 0.75, 1.0]
    full = np.ones((1, 2, 2), np.uint8)
    assert specificity(full, full) == 1.0  # no background in truth nor prediction
    assert specificity(full, np.zeros_like(full)) == 0.0  # undefined, one side "empty"
    assert np.isnan(specificity(full, full, empty="nan"))


@settings(max_examples=40, deadline=None)
@given(masks, masks)
def test_specificity_is_recall_of_the_background(t, p):
    np.testing.assert_array_equal(
        specificity(t, p, reduction="none"), recall(1 - t, 1 - p, reduction="none")
    )


# multi-class: 3 classes on two 2x3 images
MT = np.array([[[0, 1, 1], [2, 2, 0]], [[0, 0, 0], [0, 0, 0]]])
MP = np.array([[[0, 1, 2], [2, 2, 1]], [[0, 0, 0], [0, 0, 1]]])
# image 0: class0 tp1 fp0 fn1; class1 tp1 fp1 fn1; class2 tp2 fp1 fn0
# image 1: class0 tp5 fp0 fn1; class1 tp0 fp1 fn0; class2 empty/empty


def test_multiclass_hand_computed():
    d = dice(MT, MP, num_classes=3, reduction="none")
    np.testing.assert_allclose(d, [[2 / 3, 1 / 2, 4 / 5], [10 / 11, 0.0, 1.0]])
    np.testing.assert_allclose(dice(MT, MP, num_classes=3), d.mean(axis=0))
    # pooled: class0 tp6 fp0 fn2; class1 tp1 fp2 fn1; class2 tp2 fp1 fn0
    np.testing.assert_allclose(
        dice(MT, MP, num_classes=3, reduction="pooled"), [12 / 14, 2 / 5, 4 / 5]
    )
    np.testing.assert_allclose(
        iou(MT, MP, num_classes=3, include_background=False, reduction="pooled"), [1 / 4, 2 / 3]
    )
    np.testing.assert_allclose(
        precision(MT, MP, num_classes=3, reduction="none"), [[1, 0.5, 2 / 3], [1, 0, 1]]
    )
    np.testing.assert_allclose(recall(MT, MP, num_classes=3, reduction="none")[1], [5 / 6, 0, 1])


def test_multiclass_one_hot_and_scores_equal_label_maps():
    eye = np.eye(3, dtype=np.float32)
    scores = eye[MP] * 0.6 + 0.1  # argmax is MP
    expect = dice(MT, MP, num_classes=3, reduction="none")
    np.testing.assert_allclose(dice(eye[MT], scores, reduction="none"), expect)
    np.testing.assert_allclose(dice(MT, tf.constant(scores), reduction="none"), expect)
    np.testing.assert_allclose(dice(MT[0], MP[0], num_classes=3), expect[0])  # single image
    with pytest.raises(ConfigError, match="one-hot"):
        dice(eye[MT] * 0.5, scores)
    with pytest.raises(ConfigError, match="labels outside"):
        dice(MT, MP, num_classes=2)
    with pytest.raises(ConfigError, match="channels"):
        dice(MT, scores, num_classes=4)


def test_multiclass_per_patient_and_nan_rule():
    d = dice(MT, MP, num_classes=3, reduction="per_patient", groups=["a", "a"])
    np.testing.assert_allclose(d, dice(MT, MP, num_classes=3, reduction="pooled"))
    r = dice(MT, MP, num_classes=3, reduction="none", empty="nan", details=True)
    assert np.isnan(r.values[1, 2]) and r.n_excluded.tolist() == [0, 0, 1]
    np.testing.assert_allclose(r.value[:, :2], dice(MT, MP, num_classes=3, reduction="none")[:, :2])
    m = dice(MT, MP, num_classes=3, empty="nan", details=True)
    np.testing.assert_allclose(m.value, [(2 / 3 + 10 / 11) / 2, 0.25, 0.8])


def test_details_reports_exclusions():
    r = dice(T, P, empty="nan", details=True)
    assert r.n_excluded == 1 and r.n_items == 4 and r.value == pytest.approx(0.5 / 3)
    assert dice(T, P, details=True).n_excluded == 0
    r = precision(
        T, P, reduction="per_patient", groups=["a", "a", "b", "b"], empty="nan", details=True
    )
    assert r.groups == ["a", "b"] and r.values.tolist() == [0.5, 0.0] and r.n_excluded == 0
    r = recall(T, P, reduction="pooled", empty="nan", details=True)
    assert r.n_items == 1 and r.value == pytest.approx(1 / 3)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.uint8, (3, 4, 5), elements=st.integers(0, 3)),
    arrays(np.uint8, (3, 4, 5), elements=st.integers(0, 3)),
)
def test_multiclass_equals_binary_per_class(t, p):
    d = dice(t, p, num_classes=4, reduction="none")
    for c in range(4):
        np.testing.assert_allclose(d[:, c], dice(t == c, p == c, reduction="none"))
    j = iou(t, p, num_classes=4, reduction="none")
    np.testing.assert_allclose(d, 2 * j / (1 + j), atol=1e-12)


def test_scores_from_counts_match_the_functions():
    from neuroseg.metrics import confusion_counts, scores_from_counts, specificity

    tp, fp, fn, tn = confusion_counts(T, P)
    scores = scores_from_counts(tp, fp, fn, tn)
    for name, f in [("dice", dice), ("iou", iou), ("precision", precision), ("recall", recall),
                    ("specificity", specificity)]:  # fmt: skip
        np.testing.assert_allclose(scores[name], f(T, P, reduction="none"))
    nan_rule = scores_from_counts(tp, fp, fn, tn, empty="nan")
    np.testing.assert_allclose(nan_rule["dice"], dice(T, P, reduction="none", empty="nan"))
    assert scores_from_counts(0, 0, 0)["dice"] == 1.0
    with pytest.raises(ConfigError, match="empty rule"):
        scores_from_counts(1, 0, 0, empty="zero")
