import shutil

import cv2
import numpy as np
import pytest

from neuroseg.data import read_image, read_mask
from neuroseg.errors import MaskError, ReadError
from neuroseg.inference import read_scan
from neuroseg.inference.scans import find_truth_file

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


def test_nifti_volume_slices_are_the_training_slices(shared_data):
    # TCIA stores LPS; training cuts the RAS+ canonical volume (load_nifti), and so must
    # prediction, or a model sees its training data mirrored.
    import nibabel as nib

    from neuroseg.data import load_nifti

    folder = shared_data / "tcia-brain-tumor-progression"
    path = folder / "01" / "Pre_Scan_T1.nii.gz"
    img = nib.load(str(path))
    assert nib.aff2axcodes(img.affine) != ("R", "A", "S")  # the reorientation matters here
    scan = read_scan(path)
    train = load_nifti(folder, image_glob="01/Pre_Scan_T1.nii.gz", slices="all")
    assert len(train) == len(scan.slices)
    for k in (0, len(train) // 2, len(train) - 1):
        record = train[k]
        np.testing.assert_array_equal(
            scan.slices[record.meta["slice"]][..., 0], record.load_image()[..., 0]
        )
    # and a mask in that frame goes back to the file's voxel order exactly
    raw = np.asarray(img.dataobj)
    back = scan.meta["orientation"].to_source(scan.image)
    np.testing.assert_array_equal(back, raw.astype(back.dtype))


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
    bad = tmp_path / "x.gif"
    bad.write_bytes(b"GIF89a")
    with pytest.raises(ReadError, match=r"unsupported file type '\.gif'.*DICOM"):
        read_scan(bad)
    dcm = tmp_path / "x.dcm"
    dcm.write_bytes(b"0")
    with pytest.raises(ReadError, match="not a readable DICOM file"):
        read_scan(dcm)
    mat = tmp_path / "old.mat"
    mat.write_bytes(b"MATLAB 5.0 MAT-file")
    with pytest.raises(ReadError, match="v7.3"):
        read_scan(mat)


LGG = "lgg-kaggle3m/TCGA_HT_7690_19960312/TCGA_HT_7690_19960312_15"


@pytest.mark.data
def test_lgg_mask_beside_the_image_is_the_truth(shared_data, tmp_path):
    image = shared_data / f"{LGG}.tif"
    scan = read_scan(image)
    expected = read_mask(shared_data / f"{LGG}_mask.tif")
    assert scan.image.shape == (256, 256, 3) and scan.truth is not None
    assert scan.truth.dtype == np.uint8 and set(np.unique(scan.truth)) == {0, 1}
    np.testing.assert_array_equal(scan.truth, expected)
    assert scan.meta["truth_file"] == str(shared_data / f"{LGG}_mask.tif")
    assert find_truth_file(image) == shared_data / f"{LGG}_mask.tif"
    assert read_scan(image, find_truth=False).truth is None
    # The mask itself has no truth beside it.
    assert find_truth_file(shared_data / f"{LGG}_mask.tif") is None
    # A copy of the image alone has none either.
    shutil.copy(image, tmp_path / "x.tif")
    assert read_scan(tmp_path / "x.tif").truth is None


def test_truth_file_names(tmp_path):
    image = np.zeros((20, 30), np.uint8)
    truth = np.zeros((20, 30), np.uint8)
    truth[5:10, 5:15] = 255
    cv2.imwrite(str(tmp_path / "a.jpg"), image)
    cv2.imwrite(str(tmp_path / "a_seg.png"), truth)
    assert find_truth_file(tmp_path / "a.jpg") == tmp_path / "a_seg.png"
    scan = read_scan(tmp_path / "a.jpg")
    assert scan.truth is not None and int(scan.truth.sum()) == 50
    cv2.imwrite(str(tmp_path / "a_mask.png"), truth // 255)  # 0/1 masks are binary too
    assert find_truth_file(tmp_path / "a.jpg") == tmp_path / "a_mask.png"  # _mask first
    assert int(read_scan(tmp_path / "a.jpg").truth.sum()) == 50
    # The image's own suffix comes first.
    cv2.imwrite(str(tmp_path / "a_mask.jpg"), truth)
    assert find_truth_file(tmp_path / "a.jpg") == tmp_path / "a_mask.jpg"


def test_bad_truth_masks_name_the_file(tmp_path):
    cv2.imwrite(str(tmp_path / "b.png"), np.zeros((20, 30), np.uint8))
    soft = np.zeros((20, 30), np.uint8)
    soft[2:4, 2:4] = 128
    cv2.imwrite(str(tmp_path / "b_mask.png"), soft)
    with pytest.raises(
        MaskError, match=r"b_mask\.png: mask holds values \{128\}.*b\.png.*--no-truth"
    ):
        read_scan(tmp_path / "b.png")
    cv2.imwrite(str(tmp_path / "b_mask.png"), np.zeros((30, 20), np.uint8))
    with pytest.raises(MaskError, match=r"b_mask\.png: mask is 30x20 but its image is 20x30"):
        read_scan(tmp_path / "b.png")
    (tmp_path / "b_mask.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # truncated
    with pytest.raises(ReadError, match=r"b_mask\.png"):
        read_scan(tmp_path / "b.png")
    assert read_scan(tmp_path / "b.png", find_truth=False).truth is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("TCGA_CS_4941_19960909_1_mask.tif", True),
        ("x_SEG.png", True),
        ("case_seg.nii.gz", True),
        ("case_mask.nii", True),
        ("case.nii.gz", False),
        ("masked.png", False),
        ("TCGA_CS_4941_19960909_1.tif", False),
    ],
)
def test_is_truth_file(name, expected):
    from neuroseg.inference import is_truth_file

    assert is_truth_file(name) is expected
