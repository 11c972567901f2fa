import numpy as np
import pytest

from neuroseg.data import (
    brats_regions,
    load_brats_slices,
    load_dataset,
    load_nifti,
    read_brats_mask,
    tf_brats_regions,
)
from neuroseg.errors import DataError, MaskError

nib = pytest.importorskip("nibabel")


@pytest.mark.slow
def test_tcia_all_and_tumour_only(shared_data):
    root = shared_data / "tcia-brain-tumor-progression"
    ds = load_dataset("nifti", root)
    assert len(ds) == 6 * 2 * 24 and ds.patients == ["01", "02", "03", "04", "05", "06"]
    r = ds[0]
    assert r.load_image().shape == (256, 256, 1) and r.spacing == (1.0, 1.0)
    tumour = load_nifti(root, slices="tumour")
    has = [m.any() for m in (r.load_mask() for r in tumour)]
    assert all(has)
    n_tumour = sum(bool(r.load_mask().any()) for r in ds)
    assert len(tumour) == n_tumour
    one = root / "02"  # a single patient's folder
    n_tumour = sum(bool(r.load_mask().any()) for r in ds if r.patient_id == "02")
    half = load_nifti(one, slices=0.5, seed=1)
    assert {r.patient_id for r in half} == {"02"}
    n_empty = sum(not r.load_mask().any() for r in half)
    assert len(half) - n_empty == n_tumour and 0 < n_empty <= round(0.5 * n_tumour) + 2
    assert [r.source for r in half] == [r.source for r in load_nifti(one, slices=0.5, seed=1)]


def _write(path, data, affine):
    nib.save(nib.Nifti1Image(data.astype(np.float32), affine), str(path))


def test_orientation_is_canonicalised(tmp_path):
    rng = np.random.default_rng(0)
    vol = rng.random((6, 5, 3)).astype(np.float32)
    mask = (vol > 0.8).astype(np.float32)
    ras = np.diag([2.0, 1.5, 4.0, 1.0])
    lps = ras.copy()
    lps[0, 0], lps[1, 1] = -2.0, -1.5  # the same anatomy stored flipped (LPS)
    for name, v, m, aff in (("a", vol, mask, ras), ("b", vol[::-1, ::-1], mask[::-1, ::-1], lps)):
        (tmp_path / name).mkdir()
        _write(tmp_path / name / "X_Scan_T1.nii.gz", v, aff)
        _write(tmp_path / name / "X_Mask.nii.gz", m, aff)
    ds = load_nifti(tmp_path)
    a = [r for r in ds if r.patient_id == "a"]
    b = [r for r in ds if r.patient_id == "b"]
    for ra, rb in zip(a, b):
        np.testing.assert_array_equal(ra.load_image(), rb.load_image())
        np.testing.assert_array_equal(ra.load_mask(), rb.load_mask())
    assert a[0].spacing == (1.5, 2.0) and a[0].load_image().shape == (5, 6, 1)
    sag = load_nifti(tmp_path, axis=0)
    assert sag[0].load_image().shape == (3, 5, 1) and sag[0].spacing == (4.0, 1.5)


def test_nan_and_bad_mask(tmp_path):
    (tmp_path / "p").mkdir()
    vol = np.ones((4, 4, 2), np.float32)
    vol[1, 1, 0] = np.nan
    _write(tmp_path / "p" / "X_Scan_T1.nii.gz", vol, np.eye(4))
    _write(tmp_path / "p" / "X_Mask.nii.gz", np.zeros((4, 4, 2)), np.eye(4))
    with pytest.raises(DataError, match=r"X_Scan_T1.nii.gz.*NaN"):
        load_nifti(tmp_path)
    _write(tmp_path / "p" / "X_Scan_T1.nii.gz", np.ones((4, 4, 2)), np.eye(4))
    _write(tmp_path / "p" / "X_Mask.nii.gz", np.ones((4, 4, 3)), np.eye(4))
    with pytest.raises(MaskError, match="X_Mask.nii.gz"):
        load_nifti(tmp_path)


def test_brats_real_labels_and_regions(shared_data):
    ds = load_brats_slices(shared_data / "brats2020-slices")
    assert len(ds) == 300
    r = next(r for r in ds if r.load_mask().max() == 3)
    image, mask = r.load_image(), r.load_mask()
    assert image.shape == (240, 240, 4) and mask.dtype == np.uint8
    regions = brats_regions(mask)
    assert regions.shape == (240, 240, 3)
    np.testing.assert_array_equal(regions[..., 0], mask > 0)
    np.testing.assert_array_equal(regions[..., 1], np.isin(mask, (1, 3)))
    np.testing.assert_array_equal(regions[..., 2], mask == 3)
    np.testing.assert_array_equal(tf_brats_regions(mask[..., None]).numpy(), regions)
    # the enhancing tumour (3) is bright on T1-CE (channel 2), the necrotic core (1) dark
    t1ce = image[..., 2].astype(float)
    enh = np.mean(
        [
            r.load_image()[..., 2][r.load_mask() == 3].mean()
            for r in ds[:60]
            if (r.load_mask() == 3).sum() > 50
        ]
    )
    core = np.mean(
        [
            r.load_image()[..., 2][r.load_mask() == 1].mean()
            for r in ds[:60]
            if (r.load_mask() == 1).sum() > 50
        ]
    )
    assert enh > core and t1ce.max() > 0
    x, y = next(iter(ds[:4].to_tf_dataset("segmentation", batch_size=4)))
    assert x.shape == (4, 240, 240, 4) and set(np.unique(y.numpy())) <= {0, 1, 2, 3}


def test_brats_bad_colour(tmp_path, shared_data):
    import cv2

    src = shared_data / "brats2020-slices" / "masks" / "1_mask.png"
    m = cv2.imread(str(src))
    m[0, 0] = (0, 128, 0)
    cv2.imwrite(str(tmp_path / "m.png"), m)
    with pytest.raises(MaskError, match=r"m.png.*colour"):
        read_brats_mask(tmp_path / "m.png")
