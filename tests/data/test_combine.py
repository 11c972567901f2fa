from pathlib import Path

import numpy as np
import pytest

from neuroseg.data import (
    CLASS_NAMES,
    check_leakage,
    load_four_class,
    near_copy_origins,
    train_test_split,
)
from neuroseg.errors import ConfigError


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
    with pytest.raises(ConfigError, match="no_tumor_folds"):
        load_four_class(figshare_root, shared_data / "br35h-no-tumor", no_tumor_folds=0)


def test_four_class_combined_format_groups_copies_into_one_fold(
    tmp_path, figshare_root, shared_data
):
    """``four-class-combined`` through ``load_dataset``, on a small real layout: a Kaggle
    JPEG copy (mirrored) of a Figshare slice joins that slice's patient-wise fold, and the
    groups a config's ``val_groups`` names are the folds."""
    import csv
    import shutil

    import cv2

    from neuroseg.data import load_dataset

    rows = list(csv.DictReader((figshare_root / "metadata.csv").read_text().splitlines()))
    picked = [
        next(r for r in rows if r["cv_fold"] == f and r["label_name"] == c)
        for f in ("1", "2")
        for c in ("glioma", "meningioma", "pituitary")
    ]
    fig = tmp_path / "figshare"
    (fig / "images").mkdir(parents=True)
    (fig / "masks").mkdir()
    with (fig / "metadata.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(picked)
    for r in picked:
        for sub in ("images", "masks"):
            shutil.copy(figshare_root / sub / f"{r['index']}.png", fig / sub)
    kaggle = tmp_path / "kaggle"
    for c in ("glioma", "notumor"):
        (kaggle / c).mkdir(parents=True)
    copied = next(r for r in picked if r["cv_fold"] == "2" and r["label_name"] == "glioma")
    image = cv2.imread(str(fig / "images" / f"{copied['index']}.png"), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(kaggle / "glioma" / "copy.jpg"), image[:, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    br35h = sorted((shared_data / "br35h-no-tumor").glob("*.jpg"))[:4]
    for p in br35h[:2]:
        shutil.copy(p, kaggle / "notumor")
    none = tmp_path / "br35h"
    none.mkdir()
    for p in br35h[1:3]:  # br35h[1] is in both "no tumour" folders
        shutil.copy(p, none)

    ds = load_dataset("four-class-combined", fig, kaggle_root=kaggle, no_tumor_root=none, k=2)
    assert len(ds) == 6 + 3 + 2
    assert sorted({r.group for r in ds}) == ["fold-1", "fold-2"]
    by_source = {Path(str(r.source)).name: r for r in ds}
    assert by_source["copy.jpg"].fold == 2
    assert by_source["copy.jpg"].meta["near_copy_group"] == next(
        r.meta["near_copy_group"]
        for r in ds
        if r.source and r.source.endswith(f"/{copied['index']}.png")
    )
    assert [r.fold for r in ds if r.meta["dataset"] == "figshare"] == [1, 1, 1, 2, 2, 2]
    # "no tumour" comes from two sources and is dealt over both folds
    no_tumor = [r for r in ds if r.label == CLASS_NAMES.index("no_tumor")]
    assert {r.meta["dataset"] for r in no_tumor} == {"kaggle", "br35h"}
    assert {r.fold for r in no_tumor} == {1, 2}
    # each Kaggle image named by what it copies (the Br35H copy shares its original's fold)
    origins = dict(
        zip(
            [Path(str(r.source)).relative_to(tmp_path).as_posix() for r in ds],
            near_copy_origins(ds, originals=["figshare", "br35h"]),
            strict=True,
        )
    )
    assert origins["kaggle/glioma/copy.jpg"] == "kaggle/figshare-copy"
    assert origins[f"kaggle/notumor/{br35h[0].name}"] == "kaggle/other"
    assert origins[f"kaggle/notumor/{br35h[1].name}"] == "kaggle/br35h-copy"
    assert sorted(origins.values()).count("br35h") == 2
    assert sorted(origins.values()).count("figshare") == 6
    with pytest.raises(ConfigError, match="needs the output of combine_deduplicated"):
        near_copy_origins(load_dataset("class-folders", kaggle), originals=["figshare"])
