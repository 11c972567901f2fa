import cv2
import numpy as np
import pytest

from neuroseg.data import (
    Record,
    SliceDataset,
    check_leakage,
    combine_deduplicated,
    find_near_copies,
    fingerprint,
    group_kfold,
    group_near_copies,
    load_class_folders,
    load_figshare,
    read_image,
    thumbnail_correlation,
)
from neuroseg.errors import ConfigError


def _slice(seed: int) -> np.ndarray:
    """A smooth 96x96 'slice': blurred noise inside an ellipse on a black background."""
    rng = np.random.default_rng(seed)
    x = cv2.GaussianBlur(rng.random((96, 96)).astype(np.float32), (0, 0), 4)
    x = (x - x.min()) / (x.max() - x.min())
    yy, xx = np.mgrid[:96, :96]
    inside = ((yy - 48) / 40.0) ** 2 + ((xx - 48) / 30.0) ** 2 <= 1
    return np.where(inside, 40 + 200 * x, 0).astype(np.uint8)


def test_fingerprint_hashes_follow_flips():
    x = _slice(0)
    h, thumb = fingerprint(x)
    assert h.dtype == np.uint64 and h.shape == (4,) and thumb.shape == (64, 64)
    for k, flipped in enumerate([x, x[:, ::-1], x[::-1], x[::-1, ::-1]]):
        assert fingerprint(flipped)[0][0] == h[k]


def test_thumbnail_correlation_hand_computed():
    a = np.array([[0, 1], [2, 3]], np.float32)
    assert thumbnail_correlation(a, a) == pytest.approx(1.0)
    assert thumbnail_correlation(a, a[:, ::-1], flip=1) == pytest.approx(1.0)
    # [0,1,2,3] against its left-right flip [1,0,3,2]: covariance 3 of variance 5 -> 0.6
    assert thumbnail_correlation(a, a[:, ::-1]) == pytest.approx(0.6)
    assert thumbnail_correlation(np.ones((2, 2)), np.ones((2, 2))) == 1.0
    assert thumbnail_correlation(np.ones((2, 2)), np.zeros((2, 2))) == 0.0


def test_copies_grouped_and_different_slices_not():
    a, b = _slice(1), _slice(2)
    small = cv2.resize(a, (80, 80), interpolation=cv2.INTER_AREA)
    _, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 95])
    reencoded = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    framed = np.pad(a[:, ::-1], 20)  # mirrored, with a wider black border
    nc = find_near_copies([a, b, reencoded, framed, np.clip(b.astype(int) + 9, 0, 255)])
    assert nc.groups.tolist() == [0, 1, 0, 0, 1]
    assert nc.n_groups == 2 and [m.tolist() for m in nc.members()] == [[0, 2, 3], [1, 4]]
    flips = {(i, j): f for i, j, f, _ in nc.pairs}
    assert flips[(0, 3)] == "lr" and flips[(0, 2)] == "none"
    assert find_near_copies([a, b, framed], flips=False).groups.tolist() == [0, 1, 2]
    with pytest.raises(ConfigError):
        find_near_copies([a], hamming=65)


def test_combine_keeps_publisher_folds_and_copies_follow_them():
    slices = [_slice(s) for s in range(10)]
    pub = SliceDataset(
        [Record(slices[i], label=i % 2, fold=1 + i % 2, source=f"p{i}") for i in range(4)],
        name="pub",
    )
    # a copy of pub[1] (fold 2), a copy of pub[2] (fold 1), and six new slices, no folds
    other = [Record(slices[1][:, ::-1].copy(), label=1, source="copy-of-p1")]
    other += [Record(slices[2].copy(), label=0, source="copy-of-p2")]
    other += [Record(slices[i], label=i % 2, source=f"o{i}") for i in range(4, 10)]
    combined, nc = combine_deduplicated(pub, SliceDataset(other, name="other"), k=2)
    folds = {r.source: r.fold for r in combined}
    assert folds["copy-of-p1"] == 2 and folds["copy-of-p2"] == 1
    assert [folds[f"p{i}"] for i in range(4)] == [1, 2, 1, 2]
    assert [r.meta["fold_assigned"] for r in combined][:4] == [False] * 4
    for members in nc.members():  # no group straddles folds
        assert len({combined[int(i)].fold for i in members}) == 1
    # the free slices are dealt to balance each class over the folds: the publisher folds
    # hold 3 of class 0 (fold 1) and 3 of class 1 (fold 2), so the free class-0 slices go
    # to fold 2 and the class-1 slices to fold 1; each fold ends with 3 + 3
    for f in (1, 2):
        labels = [r.label for r in combined if r.fold == f]
        assert labels.count(0) == 3 and labels.count(1) == 3
    with pytest.raises(ConfigError, match="outside"):
        combine_deduplicated(SliceDataset([Record(slices[0], label=0, fold=3)]), k=2)
    with pytest.raises(ConfigError, match="k must be"):
        combine_deduplicated(pub, k=1)


def test_group_near_copies_makes_class_folders_splittable():
    slices = [_slice(s) for s in range(6)]
    recs = [Record(x, label=i % 2, source=f"{i}.png") for i, x in enumerate(slices)]
    recs.append(Record(slices[0][::-1].copy(), label=0, source="copy.png"))
    ds = group_near_copies(SliceDataset(recs, name="folders"))
    assert ds[0].patient_id == ds[6].patient_id and ds[0].meta["patient_id_assumed"]
    assert len(set(ds.patients)) == 6
    for train, test in group_kfold(ds, 3, stratify=True):
        assert not {ds[int(i)].patient_id for i in train} & {ds[int(i)].patient_id for i in test}


def test_real_kaggle_copies_of_figshare_and_br35h(shared_data):
    fig = shared_data / "figshare-cheng" / "images"
    kag = shared_data / "kaggle4-training"
    images = [
        read_image(fig / "6.png"),
        read_image(kag / "meningioma" / "Tr-me_0269.jpg"),  # a re-encoded copy
        read_image(kag / "meningioma" / "Tr-me_1153.jpg"),  # a mirrored copy
        read_image(kag / "notumor" / "Tr-noTr_0003.jpg"),
        read_image(shared_data / "br35h-no-tumor" / "3884.jpg"),  # Br35H's original
        read_image(fig / "7.png"),
    ]
    nc = find_near_copies(images)
    g = nc.groups.tolist()
    assert g[0] == g[1] == g[2] and g[3] == g[4] and len({g[0], g[3], g[5]}) == 3
    assert {(i, j): f for i, j, f, _ in nc.pairs}[(0, 2)] == "lr"


def test_real_figshare_folds_have_no_false_near_copies(figshare_root):
    # different patients' slices can share a coarse hash; the pixel check rejects them
    a = load_figshare(figshare_root, folds=[1])
    b = load_figshare(figshare_root, folds=[2])
    report = check_leakage(a, b)
    assert report.clean, report.near_duplicate_pairs[:3]


def test_real_class_folders_grouped(shared_data):
    ds = load_class_folders(shared_data / "kaggle4-training")
    ds = ds[np.arange(0, len(ds), 8)]
    grouped = group_near_copies(ds)
    assert all(r.patient_id is not None for r in grouped)
    assert len(set(grouped.patients)) < len(grouped)  # the Kaggle set holds copies
