import numpy as np
import pytest

from neuroseg.data import (
    Record,
    SliceDataset,
    check_leakage,
    group_kfold,
    load_sample,
    train_test_split,
)
from neuroseg.errors import ConfigError, DataError


def _ds(groups):
    return SliceDataset(
        [
            Record(np.full((2, 2, 1), i, np.uint8), patient_id=g, source=f"s{i}")
            for i, g in enumerate(groups)
        ]
    )


def test_holdout_keeps_patients_together():
    ds = _ds("aabbbcd")
    train, test = train_test_split(ds, test_groups=["b", "d"])
    assert [r.patient_id for r in test] == ["b", "b", "b", "d"]
    assert set(train.patients) == {"a", "c"}
    assert check_leakage(train, test).clean


def test_random_holdout_is_seeded_and_group_wise():
    ds = _ds("aabbccddeeff")
    a = train_test_split(ds, test_size=0.34, seed=3)[1].patients
    assert a == train_test_split(ds, test_size=0.34, seed=3)[1].patients
    assert len(a) == 2


def test_errors():
    with pytest.raises(ConfigError, match="Unknown test group"):
        train_test_split(_ds("ab"), test_groups=["z"])
    with pytest.raises(DataError, match="no patient ID"):
        train_test_split(SliceDataset([Record(np.zeros((2, 2, 1)), source="x.png")]))


def test_leakage_found():
    ds = _ds("abc")
    dup = SliceDataset([Record(ds[0].image, patient_id="z", source="copy")])
    report = check_leakage(ds[:2], ds[1:] + dup)
    assert report.shared_groups == ["b"]
    assert report.duplicate_pairs == [("s1", "s1"), ("s0", "copy")]  # s1 is in both splits
    with pytest.raises(DataError, match="Leakage"):
        check_leakage(ds[:2], ds[1:], raise_on_leak=True)


def test_kfold_groups_disjoint():
    ds = _ds("aabbccddeeffgg")
    folds = group_kfold(ds, 3, seed=0)
    seen = np.concatenate([te for _, te in folds])
    assert sorted(seen.tolist()) == list(range(len(ds)))
    for tr, te in folds:
        assert not {ds[i].group for i in tr} & {ds[i].group for i in te}


def test_kfold_uses_publisher_folds(figshare_root):
    from neuroseg.data import load_figshare

    ds = load_figshare(figshare_root)
    folds = group_kfold(ds)
    assert len(folds) == 4
    assert [len(te) for _, te in folds] == [
        int((np.array([r.fold for r in ds]) == k).sum()) for k in (1, 2, 3, 4)
    ]


def test_sample_holdout_is_clean():
    tr, te = train_test_split(load_sample(), test_groups=["fold-4", "tcia-06"])
    assert check_leakage(tr, te).clean and len(te) == 11
