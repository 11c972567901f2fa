import numpy as np
import pytest

from neuroseg.data import load_dataset, load_nifti, volume_to_slices
from neuroseg.errors import (
    ConfigError,
    DataError,
    EmptyDatasetError,
    MaskError,
    ReadError,
)

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


def test_volume_to_slices_by_hand():
    vol = np.arange(6, dtype=np.float32).reshape(2, 3, 1)  # vol[x, y, 0] = 3x + y
    (axial,) = volume_to_slices(vol, axis=2)
    # rows: anterior (high y) first; columns: the patient's right (high x) first
    assert axial.tolist() == [[5.0, 2.0], [4.0, 1.0], [3.0, 0.0]]
    coronal = volume_to_slices(vol, axis=1)
    assert len(coronal) == 3 and coronal[2].tolist() == [[5.0, 2.0]]  # (z, x) at y = 2
    sagittal = volume_to_slices(vol, axis=0)
    assert [s.tolist() for s in sagittal] == [[[2.0, 1.0, 0.0]], [[5.0, 4.0, 3.0]]]
    for axis in (-1, 3):
        with pytest.raises(ConfigError, match=f"axis must be 0, 1 or 2, got {axis}"):
            volume_to_slices(vol, axis=axis)


def _patient(root, mask_slices=(), *, name="p", shape=(4, 4, 6), mask_affine=None):
    """One patient folder: a ramp volume and a mask with tumour on ``mask_slices`` (axis 2)."""
    (root / name).mkdir(parents=True)
    vol = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    mask = np.zeros(shape, np.float32)
    for k in mask_slices:
        mask[1:3, 1:3, k] = 1
    _write(root / name / "X_Scan_T1.nii.gz", vol, np.eye(4))
    _write(root / name / "X_Mask.nii.gz", mask, np.eye(4) if mask_affine is None else mask_affine)
    return root / name


def test_slice_selection(tmp_path):
    _patient(tmp_path, mask_slices=(1, 4))
    every = load_nifti(tmp_path)
    assert [r.meta["slice"] for r in every] == [0, 1, 2, 3, 4, 5]
    assert {r.patient_id for r in every} == {"p"} and every[0].spacing == (1.0, 1.0)
    tumour = load_nifti(tmp_path, slices="tumour")
    assert [r.meta["slice"] for r in tumour] == [1, 4]
    assert all(r.load_mask().sum() == 4 for r in tumour)
    half = load_nifti(tmp_path, slices=0.5, seed=0)  # 2 tumour + round(0.5 * 2) empty
    kept = [r.meta["slice"] for r in half]
    assert len(kept) == 3 and {1, 4} < set(kept) and kept == sorted(kept)
    assert [r.meta["slice"] for r in load_nifti(tmp_path, slices=0.5, seed=0)] == kept
    assert len(load_nifti(tmp_path, slices=10.0)) == 6  # capped at the empty slices there are


def test_bad_options_and_layouts(tmp_path):
    for kwargs, match in (
        ({"slices": "some"}, "slices must be 'all', 'tumour'"),
        ({"slices": -0.5}, "ratio must be >= 0"),
        ({"axis": 3}, "axis must be 0, 1 or 2"),
        ({"on_error": "ignore"}, "on_error"),
    ):
        with pytest.raises(ConfigError, match=match):
            load_nifti(tmp_path, **kwargs)
    with pytest.raises(EmptyDatasetError, match=f"{tmp_path}: no NIfTI volume"):
        load_nifti(tmp_path)
    _patient(tmp_path, mask_slices=())
    with pytest.raises(EmptyDatasetError, match="no slice selected"):
        load_nifti(tmp_path, slices="tumour")


def test_mask_problems_name_the_files(tmp_path):
    flipped = np.diag([-1.0, 1.0, 1.0, 1.0])  # the mask's voxels mirrored left-right
    folder = _patient(tmp_path, mask_slices=(2,), mask_affine=flipped)
    with pytest.raises(MaskError, match=r"p/X_Mask\.nii\.gz: the mask's affine"):
        load_nifti(tmp_path)
    _write(folder / "X_Mask.nii.gz", np.full((4, 4, 6), 2.0), np.eye(4))
    with pytest.raises(MaskError, match=r"X_Mask\.nii\.gz: mask volume holds values other"):
        load_nifti(tmp_path)
    (folder / "X_Mask.nii.gz").unlink()
    with pytest.raises(MaskError, match=r"p/X_Scan_T1\.nii\.gz: image without a mask"):
        load_nifti(tmp_path)
    good = _patient(tmp_path, mask_slices=(0,), name="q")
    problems = []
    ds = load_nifti(tmp_path, on_error=problems)
    assert {r.patient_id for r in ds} == {"q"} and len(ds) == 6
    assert [p.path for p in problems] == [str(folder / "X_Scan_T1.nii.gz")]
    (good / "X_Scan_T1.nii.gz").write_bytes(b"not a volume")
    with pytest.raises(ReadError, match=r"q/X_Scan_T1\.nii\.gz: cannot read"):
        load_nifti(tmp_path / "q")
