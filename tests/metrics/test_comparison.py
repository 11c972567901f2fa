"""Paired comparison: hand-computed differences, pairing by item, patients, refusals."""

import math

import numpy as np
import pytest

from neuroseg.errors import ConfigError, DataError
from neuroseg.metrics import PairedDifference, compare_evaluations, paired_difference


def test_hand_computed_difference_and_counts():
    d = paired_difference([0.5, 0.6, 0.7, 0.8], [0.6, 0.7, 0.8, 0.8], n_bootstrap=500)
    assert isinstance(d, PairedDifference)
    assert d.mean_a == pytest.approx(0.65) and d.mean_b == pytest.approx(0.725)
    assert d.difference == pytest.approx(0.075)
    assert (d.higher, d.lower, d.equal, d.n, d.n_excluded) == (3, 0, 1, 4, 0)
    # every resampled mean of the differences {0.1, 0.1, 0.1, 0} lies in [0, 0.1]
    assert 0.0 <= d.ci_low <= d.difference <= d.ci_high <= 0.1 + 1e-12
    assert d.unit == "item" and d.n_units == 4 and d.confidence == 0.95


def test_identical_evaluations_differ_by_exactly_zero():
    x = np.random.default_rng(0).random(30)
    d = paired_difference(x, x)
    assert (d.difference, d.ci_low, d.ci_high, d.equal) == (0.0, 0.0, 0.0, 30)
    assert not d.excludes_zero


def test_pairs_with_a_nan_are_left_out_and_counted():
    d = paired_difference([1.0, 0.0, math.nan, 0.2], [1.0, 1.0, 0.5, math.nan], n_bootstrap=10)
    assert (d.n, d.n_excluded, d.difference, d.equal, d.higher) == (2, 2, 0.5, 1, 1)
    assert d.mean_a == 0.5 and d.mean_b == 1.0


def test_groups_resample_patients():
    # patient p gains 1 on its ten slices, q nothing on its ten: two drawn patients give a
    # mean difference of 0 or 1 a quarter of the time each, so the 95 % interval is [0, 1];
    # twenty slices drawn singly almost never all come from one patient
    a, b, groups = [0] * 20, [1] * 10 + [0] * 10, ["p"] * 10 + ["q"] * 10
    d = paired_difference(a, b, groups=groups, n_bootstrap=2000)
    assert d.unit == "group" and d.n_units == 2 and d.difference == 0.5
    assert set(np.round([d.ci_low, d.ci_high], 6)) == {0.0, 1.0}
    by_item = paired_difference(a, b, n_bootstrap=2000)
    assert by_item.unit == "item" and by_item.n_units == 20
    assert 0.2 < by_item.ci_low < 0.5 < by_item.ci_high < 0.8  # too narrow for 2 patients


def test_a_consistent_gain_excludes_zero_and_a_coin_flip_does_not():
    rng = np.random.default_rng(0)
    a = rng.random(200)
    assert paired_difference(a, a + 0.01 + rng.normal(0, 0.01, 200)).excludes_zero
    noisy = paired_difference(a, a + rng.normal(0, 0.05, 200))
    assert noisy.ci_low < 0 < noisy.ci_high and not noisy.excludes_zero


def test_to_dict_is_json_ready():
    d = paired_difference([0.0, 1.0], [1.0, 1.0], n_bootstrap=20).to_dict()
    assert d["difference"] == 0.5 and d["unit"] == "item" and set(d) >= {"ci_low", "ci_high"}


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "match"),
    [
        ([1.0, 2.0], [1.0], {}, "pair them item by item"),
        ([[1.0], [2.0]], [[1.0], [2.0]], {}, "1-D"),
        ([1.0, math.inf], [1.0, 2.0], {}, "infinite"),
        ([math.nan], [1.0], {}, "no complete pair"),
        ([1.0, 2.0], [1.0, 2.0], {"groups": ["p"]}, "groups holds 1"),
        ([1.0], [1.0], {"n_bootstrap": 0}, "n_bootstrap"),
        (["x"], [1.0], {}, "must hold numbers"),
    ],
)
def test_refusals(a, b, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        paired_difference(a, b, **kwargs)


def _rows(values, classes=None, groups=None, key="source"):
    out = []
    for i, v in enumerate(values):
        row = {key: f"img{i}.png", "dice": v, "hd95": 10.0 * (1 - v), "truth_px": 100 + i}
        if classes:
            row["true_class"] = classes[i]
        if groups:
            row["group"] = groups[i]
        out.append(row)
    return out


def test_tables_are_matched_by_item_not_by_order():
    a = _rows([0.2, 0.4, 0.6], classes=["glioma", "glioma", "pituitary"])
    b = list(reversed(_rows([0.3, 0.4, 0.9], classes=["glioma", "glioma", "pituitary"])))
    s = compare_evaluations(a, b, n_bootstrap=50)
    assert s["key"] == "source" and s["n_items"] == 3
    assert s["metrics"] == ["dice", "hd95"]  # truth_px is not a metric
    assert s["lower_is_better"] == ["hd95"]
    dice = s["overall"]["dice"]
    assert dice["difference"] == pytest.approx((0.1 + 0.0 + 0.3) / 3)
    assert (dice["higher"], dice["equal"]) == (2, 1)
    assert s["overall"]["hd95"]["difference"] == pytest.approx(-4 / 3)
    assert s["by"] == "true_class"
    assert s["by_class"]["glioma"]["dice"]["difference"] == pytest.approx(0.05)
    assert s["by_class"]["pituitary"]["dice"]["difference"] == pytest.approx(0.3)


def test_csv_cells_are_read_as_numbers():
    # as csv.DictReader gives them: strings, empty cells for NaN, True/False
    a = [{"id": "1", "correct": "True", "hd95": ""}, {"id": "2", "correct": "False", "hd95": "3"}]
    b = [{"id": "1", "correct": "True", "hd95": "2"}, {"id": "2", "correct": "True", "hd95": "1"}]
    s = compare_evaluations(a, b, by=None, n_bootstrap=20)
    assert s["key"] == "id" and "by_class" not in s
    assert s["overall"]["correct"]["difference"] == 0.5  # accuracy 0.5 -> 1.0
    assert s["overall"]["hd95"]["n"] == 1 and s["overall"]["hd95"]["n_excluded"] == 1
    assert s["overall"]["hd95"]["difference"] == -2.0


def test_unit_group_resamples_the_group_column():
    a = _rows([0.0, 0.0, 0.0, 0.0], groups=["p", "p", "q", "q"])
    b = _rows([1.0, 1.0, 0.0, 0.0], groups=["p", "p", "q", "q"])
    s = compare_evaluations(a, b, metrics=["dice"], unit="group", n_bootstrap=500)
    assert s["n_groups"] == 2 and s["overall"]["dice"]["unit"] == "group"
    assert s["overall"]["dice"]["n_units"] == 2
    with pytest.raises(ConfigError, match="'group' column"):
        compare_evaluations(_rows([0.1]), _rows([0.2]), unit="group")


def test_different_items_are_refused_by_name():
    a, b = _rows([0.1, 0.2, 0.3]), _rows([0.1, 0.2])
    with pytest.raises(DataError, match=r"1 only in base .*img2\.png.*0 only in new"):
        compare_evaluations(a, b, names=("base", "new"))


def test_an_item_twice_is_refused():
    a = _rows([0.1, 0.2]) + _rows([0.3])
    with pytest.raises(DataError, match=r"img0\.png' appears twice \(rows 1 and 3\)"):
        compare_evaluations(a, a, names=("x", "x"))


def test_tables_of_different_data_are_refused():
    a = _rows([0.1, 0.2], classes=["glioma", "pituitary"])
    b = _rows([0.1, 0.2], classes=["glioma", "meningioma"])
    with pytest.raises(DataError, match=r"img1\.png': true_class is 'pituitary'"):
        compare_evaluations(a, b)


def test_unknown_metric_unit_and_empty_tables_are_refused():
    a = _rows([0.1, 0.2])
    with pytest.raises(ConfigError, match=r"\['nope'\] are not numeric columns"):
        compare_evaluations(a, a, metrics=["nope"])
    with pytest.raises(ConfigError, match="unknown unit"):
        compare_evaluations(a, a, unit="patient")
    with pytest.raises(ConfigError, match="no rows"):
        compare_evaluations([], a)
    with pytest.raises(DataError, match="no item column"):
        compare_evaluations([{"x": 1, "dice": 0.5}], [{"x": 1, "dice": 0.5}])
    with pytest.raises(ConfigError, match="no metric column"):
        compare_evaluations([{"id": "1", "score": 0.5}], [{"id": "1", "score": 0.5}])


def test_an_infinite_cell_is_refused_naming_the_table_and_item():
    a = [{"id": "1", "dice": "0.5"}, {"id": "2", "dice": "inf"}]
    with pytest.raises(DataError, match=r"new: dice is infinite for item '2'"):
        compare_evaluations([a[0], {"id": "2", "dice": "0.1"}], a, names=("old", "new"))
