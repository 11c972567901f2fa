from collections import Counter

import numpy as np
import pytest

from neuroseg.data import CLASS_NAMES, load_figshare
from neuroseg.errors import DataError, ReadError


def test_loads_real_figshare(figshare_root):
    ds = load_figshare(figshare_root)
    assert len(ds) == 2400
    counts = Counter(CLASS_NAMES[r.label] for r in ds)
    assert counts == {"meningioma": 563, "glioma": 1079, "pituitary": 758}
    r = ds[0]
    image, mask = r.load_image(), r.load_mask()
    assert image.shape == (256, 256, 1) and mask.shape == (256, 256)
    assert mask.max() == 1 and set(np.unique(mask)) == {0, 1}


def test_fold_filter(figshare_root):
    ds = load_figshare(figshare_root, folds=[2])
    assert {r.fold for r in ds} == {2}
    # one fold as an int, as `--data-option folds=4` passes it
    from neuroseg.data import load_dataset

    one = load_dataset("figshare", figshare_root, folds=4)
    assert {r.fold for r in one} == {4} and len(one) == len(load_figshare(figshare_root, folds=[4]))


def test_missing_metadata_and_files(tmp_path, figshare_root):
    with pytest.raises(ReadError, match="metadata.csv"):
        load_figshare(tmp_path)
    (tmp_path / "metadata.csv").write_text("index,label,label_name,cv_fold\n1,1,meningioma,1\n")
    with pytest.raises(ReadError, match="1.png"):
        load_figshare(tmp_path)
    (tmp_path / "metadata.csv").write_text("index,label,label_name,cv_fold\n1,9,x,1\n")
    with pytest.raises(DataError, match="label 9"):
        load_figshare(tmp_path)
