import numpy as np

from neuroseg.data import CLASS_NAMES, check_leakage, load_four_class, train_test_split


def test_four_class_from_figshare_and_br35h(figshare_root, shared_data):
    ds = load_four_class(figshare_root, shared_data / "br35h-no-tumor", folds=[1])
    counts = {c: int((ds.labels == CLASS_NAMES.index(c)).sum()) for c in CLASS_NAMES}
    assert counts["no_tumor"] == 1200 and all(counts[c] > 0 for c in CLASS_NAMES)
    assert {r.meta["dataset"] for r in ds} == {"figshare", "br35h-no-tumor"}
    assert all(r.mask is None for r in ds)
    br = [r for r in ds if r.meta["dataset"] == "br35h-no-tumor"]
    assert br[0].meta["patient_id_assumed"] and br[0].group.startswith("br35h-no-tumor/")
    # one channel, one size, one normalisation for both sources (RGB JPEGs -> grey)
    sub = ds[::40]
    x, y = next(
        iter(sub.to_tf_dataset("classification", channels=1, image_size=96, batch_size=len(sub)))
    )
    assert x.shape == (len(sub), 96, 96, 1)
    assert np.allclose(x.numpy().min(axis=(1, 2, 3)), 0) and np.allclose(
        x.numpy().max(axis=(1, 2, 3)), 1
    )
    assert sorted(set(y.numpy().tolist())) == [0, 1, 2, 3]
    tr, te = train_test_split(sub, test_size=0.3, seed=0)
    assert not check_leakage(tr, te, near_duplicates=False).shared_groups


def test_no_tumor_images_dealt_into_folds(figshare_root, shared_data):
    kw = dict(folds=[1, 2], no_tumor_folds=2)
    ds = load_four_class(figshare_root, shared_data / "br35h-no-tumor", **kw)
    br = [r for r in ds if r.meta["dataset"] == "br35h-no-tumor"]
    assert {r.group for r in br} == {"fold-1", "fold-2"}
    assert all(r.meta["fold_assigned"] and "patient_id_assumed" not in r.meta for r in br)
    # roughly half each, and the same deal on a second load (a hash, not a random draw)
    n1 = sum(r.group == "fold-1" for r in br)
    assert 500 < n1 < 700
    again = load_four_class(figshare_root, shared_data / "br35h-no-tumor", **kw)
    assert [r.group for r in again] == [r.group for r in ds]
    # a fold now holds tumours and "no tumour" images: a patient-wise split by folds works
    tr, te = train_test_split(ds, test_groups=["fold-2"])
    assert len(set(te.labels.tolist())) == 4 and len(set(tr.labels.tolist())) == 4


def test_no_tumor_folds_must_be_positive(figshare_root, shared_data):
    import pytest

    from neuroseg.errors import ConfigError

    with pytest.raises(ConfigError, match="no_tumor_folds"):
        load_four_class(figshare_root, shared_data / "br35h-no-tumor", no_tumor_folds=0)
