import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroseg.errors import ConfigError
from neuroseg.metrics import (
    accuracy,
    balanced_accuracy,
    classification_report,
    confusion_matrix,
    expected_calibration_error,
    precision_recall_f1,
    roc_auc,
)

sk = pytest.importorskip("sklearn.metrics")


def test_hand_computed():
    t, p = [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]
    assert confusion_matrix(t, p).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert accuracy(t, p) == pytest.approx(4 / 6)
    assert balanced_accuracy(t, p) == pytest.approx((0.5 + 1 + 0.5) / 3)
    r = precision_recall_f1(t, p)
    np.testing.assert_allclose(r["precision"], [0.5, 2 / 3, 1.0])
    np.testing.assert_allclose(r["recall"], [0.5, 1.0, 0.5])
    np.testing.assert_allclose(r["f1"], [0.5, 0.8, 2 / 3])
    assert r["support"].tolist() == [2, 2, 2]
    # a class never predicted: precision 0 (not NaN)
    assert precision_recall_f1([0, 1], [0, 0])["precision"].tolist() == [0.5, 0.0]


def test_auc_and_ece_hand_computed():
    # pairs (pos, neg): (0.35 > 0.1) yes, (0.35 > 0.4) no, (0.8 > both) yes -> 3/4
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5  # ties count one half
    # confidences 0.9 (correct) and 0.8 (wrong) in bins (0.8, 0.9] and (0.7, 0.8]
    assert expected_calibration_error([0, 1], [[0.9, 0.1], [0.8, 0.2]], n_bins=10) == (
        pytest.approx((0.1 + 0.8) / 2)
    )
    assert expected_calibration_error([0, 0], [[1.0, 0.0], [1.0, 0.0]]) == 0.0
    per = roc_auc([0, 0, 1], [[0.5, 0.3, 0.2]] * 3, average="none")
    assert np.isnan(per[2])  # class 2 never occurs: no AUC


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 5), st.integers(8, 60))
def test_equals_scikit_learn(seed, c, n):
    rng = np.random.default_rng(seed)
    t = np.concatenate([np.arange(c), rng.integers(0, c, n)])  # every class present
    logits = rng.normal(size=(len(t), c)) + 1.5 * np.eye(c)[t] * rng.random()
    s = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    p = s.argmax(1)
    labels = list(range(c))
    np.testing.assert_array_equal(
        confusion_matrix(t, p, num_classes=c), sk.confusion_matrix(t, p, labels=labels)
    )
    assert accuracy(t, s) == pytest.approx(sk.accuracy_score(t, p))
    assert balanced_accuracy(t, p) == pytest.approx(sk.balanced_accuracy_score(t, p))
    ref = sk.precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    got = precision_recall_f1(t, p, num_classes=c)
    for k, name in enumerate(["precision", "recall", "f1", "support"]):
        np.testing.assert_allclose(got[name], ref[k], atol=1e-12)
    rep = classification_report(t, s)
    for avg in ("macro", "weighted"):
        ref = sk.precision_recall_fscore_support(t, p, labels=labels, average=avg, zero_division=0)
        got_avg = getattr(rep, avg)
        assert [got_avg["precision"], got_avg["recall"], got_avg["f1"]] == pytest.approx(
            list(ref[:3])
        )
    if c == 2:
        assert rep.roc_auc_macro == pytest.approx(sk.roc_auc_score(t, s[:, 1]))
        assert roc_auc(t, s[:, 1]) == pytest.approx(sk.roc_auc_score(t, s[:, 1]))
    else:
        for avg in ("macro", "weighted"):
            assert roc_auc(t, s, average=avg) == pytest.approx(
                sk.roc_auc_score(t, s, multi_class="ovr", average=avg)
            )


def test_report_text_and_json(tmp_path):
    t = [0, 1, 2, 2, 1, 0]
    s = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.1, 0.8, 0.1],
            [0.2, 0.2, 0.6],
            [0.5, 0.1, 0.4],
            [0.3, 0.6, 0.1],
            [0.6, 0.3, 0.1],
        ]
    )
    rep = classification_report(t, s, class_names=["glioma", "meningioma", "pituitary"])
    text = str(rep)
    assert "meningioma" in text and "macro avg" in text and "ROC-AUC" in text
    # the project's one table formatter (neuroseg.tables), figures computed by hand
    assert text.splitlines()[:6] == [
        "class         precision  recall      F1  support  ROC AUC",
        "glioma           0.6667   1.000  0.8000        2    1.000",
        "meningioma        1.000   1.000   1.000        2    1.000",
        "pituitary         1.000  0.5000  0.6667        2    1.000",
        "macro avg        0.8889  0.8333  0.8222        6    1.000",
        "weighted avg     0.8889  0.8333  0.8222        6    1.000",
    ]
    assert "accuracy                         0.8333" in text
    assert text.splitlines()[-1] == "pituitary                1           0          1"
    data = json.loads(rep.to_json(str(tmp_path / "r.json")))
    assert data == json.loads((tmp_path / "r.json").read_text())
    assert data["accuracy"] == pytest.approx(5 / 6)
    assert data["per_class"]["pituitary"]["recall"] == 0.5
    assert data["confusion_matrix"][2] == [1, 0, 1]
    assert data["ece"] == pytest.approx(expected_calibration_error(t, s))


def test_errors():
    with pytest.raises(ConfigError, match="items"):
        accuracy([0, 1], [0])
    with pytest.raises(ConfigError, match="class_names or the score columns"):
        classification_report([0, 1, 2], [0, 1, 2], class_names=["a", "b"])
    with pytest.raises(ConfigError, match="average"):
        roc_auc([0, 1], [0.2, 0.8], average="micro")
    with pytest.raises(ConfigError, match="non-integer"):
        accuracy([0.5, 1], [0, 1])


def test_recall_by_group_by_hand():
    from neuroseg.metrics import recall_by_group

    # group a: truths 0,0,1 -> predicted 0,1,1; group b: truths 2,2 -> predicted 2,0
    r = recall_by_group(
        [0, 0, 1, 2, 2], [0, 1, 1, 2, 0], ["a", "a", "a", "b", "b"], class_names=["x", "y", "z"]
    )
    assert list(r) == ["a", "b"]
    assert r["a"] == {"n": 3, "accuracy": 2 / 3, "recall": {"x": 0.5, "y": 1.0}}
    assert r["b"] == {"n": 2, "accuracy": 0.5, "recall": {"z": 0.5}}  # x, y absent: no recall
    # scores are turned into labels by argmax, as everywhere in this module
    scores = np.eye(3)[[0, 1, 1, 2, 0]] * 0.8 + 0.05
    assert recall_by_group([0, 0, 1, 2, 2], scores, list("aaabb"), class_names="xyz") == r
    with pytest.raises(ConfigError, match="one per item"):
        recall_by_group([0, 1], [0, 1], ["a"], class_names=["x", "y"])
    with pytest.raises(ConfigError, match="only 2 classes"):
        recall_by_group([0, 2], [0, 1], ["a", "a"], class_names=["x", "y"])
