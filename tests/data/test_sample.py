from collections import Counter

import numpy as np

from neuroseg.data import CLASS_NAMES, load_sample, sample_dir


def test_sample_counts_shapes_labels():
    ds = load_sample()
    assert len(ds) == 48
    names = Counter(CLASS_NAMES[r.label] for r in ds)
    assert names == {"glioma": 12, "meningioma": 12, "pituitary": 12, "no_tumor": 12}
    images, masks = ds.load_arrays()
    assert images.shape == (48, 256, 256, 1) and images.dtype == np.uint8
    assert masks.shape == (48, 256, 256)
    assert set(np.unique(masks)) <= {0, 1}
    tumour = masks.reshape(48, -1).any(axis=1)
    labels = ds.labels
    assert tumour[labels != CLASS_NAMES.index("no_tumor")].all()
    assert not tumour[labels == CLASS_NAMES.index("no_tumor")].any()


def test_sample_groups_and_provenance():
    ds = load_sample()
    assert ds.patients == [f"fold-{k}" for k in (1, 2, 3, 4)] + [f"tcia-0{k}" for k in range(1, 7)]
    assert all(r.source for r in ds)
    assert {r.meta["dataset"] for r in ds} == {"figshare-cheng", "tcia-brain-tumor-progression"}
    readme = (sample_dir() / "README.md").read_text()
    assert "CC BY 4.0" in readme and "CC BY 3.0" in readme


def test_sample_size_budget():
    total = sum(p.stat().st_size for p in sample_dir().rglob("*") if p.is_file())
    assert total <= 3 * 1024 * 1024
