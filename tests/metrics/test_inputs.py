"""The private input handling of the functional segmentation metrics."""

import numpy as np
import pytest
import tensorflow as tf

from neuroseg.errors import ConfigError
from neuroseg.metrics._inputs import (
    EMPTY_RULES,
    REDUCTIONS,
    Prepared,
    check_options,
    group_index,
    prepare,
    to_numpy,
)

BINARY = {"threshold": 0.5, "from_logits": False, "num_classes": None, "include_background": False}


def test_to_numpy_of_lists_arrays_and_tensors():
    assert to_numpy([[1, 2]]).tolist() == [[1, 2]]
    a = np.arange(3)
    assert to_numpy(a) is a
    got = to_numpy(tf.constant([0.5, 1.5]))
    assert isinstance(got, np.ndarray) and got.tolist() == [0.5, 1.5]


def test_check_options_accepts_every_documented_choice():
    for reduction in REDUCTIONS:
        for empty in EMPTY_RULES:
            check_options(reduction, empty, ["p1", "p2"], 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("mean", "one", None), {}, "Unknown reduction 'mean'; choose one of per_image, pooled"),
        (("zero", "one", None), {}, "Unknown reduction"),
        (("per_image", "zero", None), {}, "Unknown empty rule 'zero'"),
        (("per_patient", "one", None), {}, "needs groups= with one ID per image \\(got none\\)"),
        (("per_patient", "one", ["a"], 2), {}, "\\(2 images, got 1 IDs\\)"),
        (
            ("none", "one", None),
            {"reductions": ("pooled",), "why_not": {"none": "one value per class only"}},
            "choose one of pooled \\(one value per class only\\)",
        ),
    ],
)
def test_check_options_says_how_to_fix(args, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        check_options(*args, **kwargs)


def test_binary_inputs_become_boolean_stacks():
    truth = np.array([[0, 1], [1, 0]])  # (H, W): one image
    probs = np.array([[0.2, 0.5], [0.7, 0.49]])
    p = prepare(truth, probs, **BINARY)
    assert isinstance(p, Prepared) and not p.multiclass and p.n_classes_scored == 1
    assert p.truth.dtype == bool and p.truth.shape == (1, 2, 2)
    assert p.truth.tolist() == [[[False, True], [True, False]]]
    assert p.pred.tolist() == [[[False, True], [True, False]]]  # 0.5 is foreground
    t, q = p.masks(0)
    assert t is p.truth and q is p.pred


def test_binary_channel_axis_and_logits():
    truth = np.ones((2, 1, 3, 1), np.uint8)  # (N, H, W, 1)
    logits = np.array([[[-1.0, 0.0, 2.0]], [[-0.1, 5.0, -5.0]]])[..., None]
    p = prepare(truth, logits, **{**BINARY, "from_logits": True})
    assert p.truth.shape == p.pred.shape == (2, 1, 3)
    # sigmoid(0) = 0.5 is kept; negative logits are background
    assert p.pred.tolist() == [[[False, True, True]], [[False, True, False]]]
    # integer predictions: any non-zero label is foreground
    assert prepare(truth[..., 0], np.array([[[0, 3, 1]]] * 2), **BINARY).pred[0, 0].tolist() == [
        False,
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("truth", "pred", "match"),
    [
        (np.array([[0, 2]]), np.array([[0, 1]]), "only 0 and 1 labels"),
        (np.array([[0, 0.5]]), np.array([[0, 1]]), "only 0 and 1 labels"),
        (np.array([[-1, 0]]), np.array([[0, 1]]), "only 0 and 1 labels"),
        (np.array([[0, 1]]), np.array([[np.nan, 1.0]]), "y_pred contains NaN"),
        (np.zeros((2, 2)), np.zeros((2, 3)), "differs from y_pred shape"),
        (np.zeros(4), np.zeros(4), "y_true: expected \\(H, W\\)"),
        (np.zeros((2, 2)), np.zeros((1, 1, 2, 2, 1)), "y_pred: expected"),
        (np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 2, 3)), "different channel counts"),
    ],
)
def test_bad_binary_inputs(truth, pred, match):
    with pytest.raises(ConfigError, match=match):
        prepare(truth, pred, **BINARY)


def test_multiclass_label_maps_and_scores():
    truth = np.array([[[0, 1, 2]]])  # (1, 1, 3) label map
    scores = np.array([[[[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.2, 0.3, 0.5]]]])  # (1, 1, 3, 3)
    p = prepare(truth, scores, **{**BINARY, "num_classes": 3})
    assert p.multiclass and p.classes == (1, 2) and p.n_classes_scored == 2
    assert p.pred.tolist() == [[[0, 2, 2]]]
    t1, p1 = p.masks(0)  # class 1
    assert t1.tolist() == [[[False, True, False]]] and p1.tolist() == [[[False, False, False]]]
    t2, p2 = p.masks(1)  # class 2
    assert t2.tolist() == [[[False, False, True]]] and p2.tolist() == [[[False, True, True]]]
    with_bg = prepare(truth, scores, **{**BINARY, "num_classes": 3, "include_background": True})
    assert with_bg.classes == (0, 1, 2)


def test_channels_set_the_number_of_classes():
    onehot = np.eye(3)[np.array([[[2, 0]]])]  # (1, 1, 2, 3) one-hot truth
    p = prepare(onehot, np.array([[[2.0, 1.0]]]), **BINARY)
    assert p.classes == (1, 2)
    assert p.truth.tolist() == [[[2, 0]]] and p.pred.tolist() == [[[2, 1]]]


@pytest.mark.parametrize(
    ("truth", "pred", "num_classes", "match"),
    [
        (np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), 1, "at least 2"),
        (np.array([[[0, 3]]]), np.array([[[0, 1]]]), 3, "outside 0..2 \\(found 0..3\\)"),
        (np.array([[[0, 1]]]), np.array([[[0, -1]]]), 3, "y_pred holds labels outside"),
        (np.array([[[0, 1.5]]]), np.array([[[0, 1]]]), 3, "non-integer values"),
        (np.array([[[0, np.nan]]]), np.array([[[0, 1]]]), 3, "y_true contains NaN"),
        (np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2)), 3, "2 channels but num_classes=3"),
        (np.full((1, 1, 2, 3), 0.5), np.zeros((1, 1, 2)), 3, "must be one-hot"),
        (np.zeros((1, 1, 2)), np.full((1, 1, 2, 3), np.nan), 3, "y_pred contains NaN"),
    ],
)
def test_bad_multiclass_inputs(truth, pred, num_classes, match):
    with pytest.raises(ConfigError, match=match):
        prepare(truth, pred, **{**BINARY, "num_classes": num_classes})


def test_group_index_sorts_ids_as_strings_and_keeps_input_order():
    ids, members = group_index(["b", "a", "b", 1, "a"])
    assert ids == ["1", "a", "b"]
    assert [m.tolist() for m in members] == [[3], [1, 4], [0, 2]]
