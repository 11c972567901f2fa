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


def test_stratified_group_kfold_balances_classes():
    from collections import Counter

    from neuroseg.data import group_kfold

    rng = np.random.default_rng(0)
    records = []
    for p in range(30):
        label = p % 3
        for _ in range(int(rng.integers(2, 9))):
            records.append(Record(np.zeros((2, 2, 1)), label=label, patient_id=f"p{p}"))
    ds = SliceDataset(records)
    folds = group_kfold(ds, 3, stratify=True, use_given_folds=False)
    for tr, te in folds:
        assert not {ds[i].group for i in tr} & {ds[i].group for i in te}
        counts = Counter(ds.labels[te].tolist())
        assert set(counts) == {0, 1, 2}
        totals = Counter(ds.labels.tolist())
        for c in counts:
            assert abs(counts[c] / totals[c] - 1 / 3) < 0.12


def test_train_val_test_by_patient():
    from neuroseg.data import train_val_test_split

    ds = _ds("aabbccddeeffgghhiijj")
    tr, va, te = train_val_test_split(ds, val_size=0.2, test_size=0.2, seed=1)
    assert len(tr) + len(va) + len(te) == len(ds)
    assert len(va.patients) == 2 and len(te.patients) == 2
    assert not set(tr.patients) & set(va.patients) and not set(va.patients) & set(te.patients)
    with pytest.raises(ConfigError):
        train_val_test_split(ds, val_size=0.6, test_size=0.5)


def test_near_duplicates_found_on_real_images(figshare_root, tmp_path):
    import cv2

    from neuroseg.data import load_figshare, perceptual_hash

    a = load_figshare(figshare_root, folds=[1])[:10]
    b = load_figshare(figshare_root, folds=[2])[:10]
    assert check_leakage(a, b).clean
    src = a[3].load_image()
    jpeg = tmp_path / "copy.jpg"  # re-encoded, brightened copy of a training slice
    cv2.imwrite(
        str(jpeg),
        np.clip(src.astype(int) + 6, 0, 255).astype(np.uint8),
        [cv2.IMWRITE_JPEG_QUALITY, 80],
    )
    b2 = b + SliceDataset([Record(str(jpeg), patient_id="other", source="copy.jpg")])
    report = check_leakage(a, b2)
    assert report.duplicate_pairs == [] and report.near_duplicate_pairs == [
        (a[3].source, "copy.jpg")
    ]
    assert perceptual_hash(src) != 0
    with pytest.raises(DataError, match="near-duplicate"):
        check_leakage(a, b2, raise_on_leak=True)
