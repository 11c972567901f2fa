import numpy as np
import pytest

from neuroseg.data import read_image, read_mask
from neuroseg.errors import ReadError
from neuroseg.inference import read_scan

from .conftest import write_figshare_mat


def test_png(figshare_root):
    scan = read_scan(figshare_root / "images" / "1.png")
    assert scan.image.shape == (256, 256, 1) and not scan.is_volume and scan.truth is None


def test_nifti_volume(shared_data):
    import nibabel as nib

    path = shared_data / "tcia-brain-tumor-progression" / "01" / "Pre_Scan_T1.nii.gz"
    scan = read_scan(path)
    img = nib.load(str(path))
    assert scan.is_volume and scan.image.shape == img.shape[:3]
    zooms = img.header.get_zooms()
    assert scan.spacing == (pytest.approx(zooms[0]), pytest.approx(zooms[1]))
    assert scan.slice_thickness == pytest.approx(zooms[2])
    assert len(scan.slices) == img.shape[2] and scan.slices[0].shape == (*img.shape[:2], 1)


def test_figshare_mat_written_in_matlab_layout(tmp_path, figshare_root):
    image = read_image(figshare_root / "images" / "5.png")[..., 0].astype(np.int16) * 7
    mask = read_mask(figshare_root / "masks" / "5.png")
    assert image.shape[0] == image.shape[1]  # make the transpose matter below
    image = image[:, 20:]  # non-square so a missing transpose cannot pass
    mask = mask[:, 20:]
    p = write_figshare_mat(tmp_path / "5.mat", image, mask, label=1, pid="100360")
    scan = read_scan(p)
    np.testing.assert_array_equal(scan.image[..., 0], image)
    np.testing.assert_array_equal(scan.truth, mask)
    assert scan.label == 1 and scan.patient_id == "100360"


def test_errors(tmp_path):
    with pytest.raises(ReadError, match="no such file"):
        read_scan(tmp_path / "missing.png")
    bad = tmp_path / "x.dcm"
    bad.write_bytes(b"0")
    with pytest.raises(ReadError, match="unsupported"):
        read_scan(bad)
    mat = tmp_path / "old.mat"
    mat.write_bytes(b"MATLAB 5.0 MAT-file")
    with pytest.raises(ReadError, match="v7.3"):
        read_scan(mat)
