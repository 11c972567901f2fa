"""Calibration metrics against hand-computed values."""

import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.metrics import (
    ReliabilityCurve,
    brier_score,
    evaluate_classification,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_curve,
)
from neuroseg.metrics import classification as classification_module

Y = [0, 1, 1, 0]
P = [[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.55, 0.45]]
# confidences 0.9 (right), 0.7 (right), 0.6 (wrong), 0.55 (right); 4 bins of 0.25:
# bin (0.5, 0.75]: 0.7 R, 0.6 W, 0.55 R -> acc 2/3, conf 0.6167; bin (0.75, 1]: 0.9 R.


def test_reliability_curve_by_hand():
    c = reliability_curve(Y, P, n_bins=4)
    assert c.counts.tolist() == [0, 0, 3, 1]
    assert c.accuracy[2:] == pytest.approx([2 / 3, 1.0])
    assert c.confidence[2:] == pytest.approx([1.85 / 3, 0.9])
    assert np.isnan(c.accuracy[0]) and c.edges.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert c.ece == pytest.approx((abs(2 - 1.85) + abs(1 - 0.9)) / 4)
    assert c.mce == pytest.approx(0.1)  # |0.6667 - 0.6167| = 0.05 < |1 - 0.9|
    d = c.to_dict()
    assert d["counts"] == [0, 0, 3, 1] and d["accuracy"][0] is None


def test_ece_mce_functions_and_compat_import():
    assert expected_calibration_error(Y, P, n_bins=4) == pytest.approx(0.0625)
    assert maximum_calibration_error(Y, P, n_bins=4) == pytest.approx(0.1)
    assert classification_module.expected_calibration_error is expected_calibration_error
    # perfectly confident and right: no error
    assert expected_calibration_error([0, 1], [[1.0, 0.0], [0.0, 1.0]]) == 0.0


def test_binary_scores_equal_two_columns():
    p = np.array([0.9, 0.2, 0.6, 0.4])
    y = np.array([1, 0, 0, 0])
    two = np.stack([1 - p, p], axis=1)
    assert reliability_curve(y, p).counts.tolist() == reliability_curve(y, two).counts.tolist()
    assert expected_calibration_error(y, p) == pytest.approx(expected_calibration_error(y, two))
    assert brier_score(y, p) == pytest.approx((0.01 + 0.04 + 0.36 + 0.16) / 4)
    assert brier_score(y, two) == pytest.approx(2 * brier_score(y, p))  # multi-class sums both


def test_brier_and_nll_by_hand():
    assert brier_score([0, 2], [[1, 0, 0], [0.5, 0.25, 0.25]]) == pytest.approx(
        (0 + 0.25 + 0.0625 + 0.5625) / 2
    )
    assert negative_log_likelihood([1, 0], [[0.5, 0.5], [0.25, 0.75]]) == pytest.approx(
        -(np.log(0.5) + np.log(0.25)) / 2
    )
    assert negative_log_likelihood([1], [0.0]) == pytest.approx(-np.log(1e-7))


def test_merge_adds_up():
    a = reliability_curve(Y[:2], P[:2], n_bins=4)
    b = reliability_curve(Y[2:], P[2:], n_bins=4)
    m = ReliabilityCurve.merge([a, b])
    assert m.counts.tolist() == [0, 0, 3, 1] and m.ece == pytest.approx(0.0625)
    with pytest.raises(ConfigError):
        ReliabilityCurve.merge([a, reliability_curve(Y, P, n_bins=5)])


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([0, 1], [[0.5, 0.5]], "2 items"),
        ([0, 1], [[1.5, -0.5], [0.5, 0.5]], r"\[0, 1\]"),
        ([0, 3], [[0.5, 0.5], [0.5, 0.5]], "labels must lie"),
        ([], np.zeros((0, 2)), "empty"),
        ([0], [[np.nan, 1.0]], "NaN"),
    ],
)
def test_bad_inputs_are_named(y, p, match):
    with pytest.raises(ConfigError, match=match):
        reliability_curve(y, p)


def test_evaluate_classification_reports_mce_brier_and_curve():
    r = evaluate_classification(Y, P, n_bins=4, n_bootstrap=20)
    s = r.summary
    assert s["ece"] == pytest.approx(0.0625)
    assert s["mce"] == pytest.approx(0.1)
    assert s["brier"] == pytest.approx(brier_score(Y, P))
    assert s["reliability"]["counts"] == [0, 0, 3, 1]
    text = r.format()
    assert "maximum calibration error (MCE)" in text and "Brier score" in text
    labels_only = evaluate_classification(Y, [0, 1, 0, 0], n_bootstrap=5).summary
    assert "mce" not in labels_only and "brier" not in labels_only
