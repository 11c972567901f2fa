"""The shared percentile bootstrap: hand-checkable resamples, units, NaNs and refusals."""

import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.metrics.bootstrap import bootstrap_means, check_bootstrap, percentile_interval


@pytest.mark.parametrize(("n", "conf"), [(0, 0.95), (-3, 0.95), (10, 0.0), (10, 1.0), (10, 1.5)])
def test_check_bootstrap_refuses_bad_settings(n, conf):
    with pytest.raises(ConfigError):
        check_bootstrap(n, conf)


def test_check_bootstrap_accepts_good_settings():
    check_bootstrap(1, 0.5)


def test_percentile_interval_by_hand():
    # numpy's linear percentiles of 0..4: 25th = 1, 75th = 3; 5th = 0.2, 95th = 3.8
    assert percentile_interval(np.arange(5.0), 0.5) == (1.0, 3.0)
    lo, hi = percentile_interval(np.arange(5.0), 0.9)
    assert lo == pytest.approx(0.2) and hi == pytest.approx(3.8)


def test_percentile_interval_ignores_nan_and_is_nan_when_all_are():
    assert percentile_interval(np.array([np.nan, 0.0, 1.0, 2.0, 3.0, 4.0]), 0.5) == (1.0, 3.0)
    lo, hi = percentile_interval(np.array([np.nan, np.nan]), 0.95)
    assert np.isnan(lo) and np.isnan(hi)


def test_item_resamples_take_every_mean_of_drawn_items():
    # three items 1, 1, 0: a resample of three draws has mean 0, 1/3, 2/3 or 1
    boot = bootstrap_means(
        np.array([1.0, 1.0, 0.0]), None, n_bootstrap=2000, rng=np.random.default_rng(0)
    )
    assert boot.shape == (2000,)
    assert set(np.round(boot * 3).astype(int)) == {0, 1, 2, 3}


def test_unit_resamples_keep_a_patients_items_together():
    # patient p: items 1, 1; patient q: item 0. Two draws of patients: (p,p) -> 1,
    # (q,q) -> 0, (p,q) -> 2/3. The item-level 1/3 cannot occur.
    units = [np.array([0, 1]), np.array([2])]
    boot = bootstrap_means(
        np.array([1.0, 1.0, 0.0]), units, n_bootstrap=2000, rng=np.random.default_rng(0)
    )
    assert set(np.round(boot, 6)) == {0.0, round(2 / 3, 6), 1.0}


def test_nan_values_are_left_out_of_each_mean():
    boot = bootstrap_means(
        np.array([1.0, np.nan]), None, n_bootstrap=500, rng=np.random.default_rng(1)
    )
    drawn = boot[~np.isnan(boot)]
    assert len(drawn) > 0 and np.all(drawn == 1.0)
    # a resample that drew the NaN item twice has no value: NaN, not 0
    assert np.isnan(boot).any()


def test_same_seed_same_resamples():
    x = np.random.default_rng(3).random(50)
    a = bootstrap_means(x, None, n_bootstrap=100, rng=np.random.default_rng(7))
    b = bootstrap_means(x, None, n_bootstrap=100, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
