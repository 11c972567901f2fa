"""DICOM input: series built here from the real TCIA NIfTI volumes, and pydicom's own files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
pytest.importorskip("highdicom")
pytest.importorskip("nibabel")

from pydicom.data import get_testdata_file  # noqa: E402

from neuroseg.data import check, load_dataset, read_dicom_series  # noqa: E402
from neuroseg.errors import DicomError, NeurosegError  # noqa: E402
from neuroseg.inference import read_scan  # noqa: E402
from tests.data.dicom_series import (  # noqa: E402
    header,
    multiframe,
    nifti_slices,
    save_series,
    subvolume,
    tcia_t1,
    tilt,
    volume_datasets,
)

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def volume(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    """Five tumour slices (12-16) of patient 01's pre-treatment T1 volume and their affine."""
    return subvolume(tcia_t1(shared_data), 12, 17)


@pytest.mark.parametrize(
    ("options", "degrees", "suffix"),
    [
        ({}, 0.0, ".dcm"),
        ({"reverse_instances": True}, 0.0, ""),  # suffix-less names: found by the DICM marker
        ({"transpose": True, "reverse_instances": True}, 0.0, ".dcm"),  # normal turned round
        ({"transpose": True}, 15.0, ".dcm"),  # tilted (oblique) series
        ({}, -20.0, ""),
    ],
)
def test_series_gives_the_slices_of_its_nifti(volume, tmp_path, options, degrees, suffix):
    data, affine = volume
    affine = tilt(affine, degrees)
    folder = tmp_path / "series"
    save_series(volume_datasets(data, affine, **options), folder, seed=3, suffix=suffix)
    vol = read_dicom_series(folder)
    expected = nifti_slices(data, affine)
    np.testing.assert_array_equal(vol.to_slices(), expected)  # rescale applied exactly
    assert vol.spacing == pytest.approx((1.0, 1.0, 1.0))
    assert vol.patient_id == "tcia-01"
    # to_frames is the exact inverse: back onto the stored frames, pixel for pixel
    np.testing.assert_array_equal(vol.to_frames(vol.to_slices()), np.moveaxis(vol.voxels, -1, 0))
    # the affine is the NIfTI's, up to the voxel order (same world position of each voxel)
    ds0 = vol.sorted_datasets[0]
    np.testing.assert_allclose(
        vol.affine[:3, 3], np.diag([-1, -1, 1]) @ np.asarray(ds0.ImagePositionPatient, float)
    )
    # and read_scan / Predictor's input is the same stack
    scan = read_scan(folder)
    assert scan.is_volume and scan.meta["dicom"] is not None
    np.testing.assert_array_equal(scan.image, expected)


def test_series_sorted_by_position_not_name_or_instance(volume, tmp_path):
    data, affine = volume
    datasets = volume_datasets(data, affine)
    for ds in datasets:  # instance numbers that contradict the positions
        ds.InstanceNumber = int(np.random.default_rng(1).integers(1, 100))
    save_series(datasets, tmp_path / "s", seed=7)
    np.testing.assert_array_equal(
        read_dicom_series(tmp_path / "s").to_slices(), nifti_slices(data, affine)
    )


def test_multiframe_enhanced_file(volume, tmp_path):
    data, affine = volume
    affine = tilt(affine, 10.0)
    mf = multiframe(volume_datasets(data, affine, transpose=True))
    (tmp_path / "mf").mkdir()
    mf.save_as(str(tmp_path / "mf" / "enhanced.dcm"))
    vol = read_dicom_series(tmp_path / "mf" / "enhanced.dcm")
    assert len(vol.datasets) == 1 and len(vol.frames) == data.shape[2]
    np.testing.assert_array_equal(vol.to_slices(), nifti_slices(data, affine))


def test_folder_of_series_and_load_dataset(volume, tmp_path):
    data, affine = volume
    save_series(volume_datasets(data, affine, head=header(PatientID="a")), tmp_path / "a")
    b = volume_datasets(data[:, :, :3] + 2.0, affine, head=header(PatientID="b"))
    save_series(b, tmp_path / "b")
    with pytest.raises(DicomError, match="mixed series.*2 image series"):
        read_dicom_series(tmp_path)
    vol = read_dicom_series(tmp_path, series_uid=b[0].SeriesInstanceUID)
    assert vol.voxels.shape[2] == 3
    ds = load_dataset("dicom", tmp_path)
    assert len(ds) == 8
    assert sorted({r.patient_id for r in ds}) == ["a", "b"]
    np.testing.assert_array_equal(
        np.stack([r.image[..., 0] for r in ds if r.patient_id == "a"], -1),
        nifti_slices(data, affine),
    )
    report = check("dicom", tmp_path, progress=False)
    assert report.ok and report.n_items == 8 and report.image_sizes == {"256x256": 8}


def test_each_file_is_read_once_for_its_header_and_once_whole(volume, tmp_path, monkeypatch):
    """No header is read twice: finding the series, choosing one and reading it share
    the headers (a spy counts pydicom's real reads)."""
    data, affine = volume
    save_series(volume_datasets(data, affine, head=header(PatientID="a")), tmp_path / "a")
    b = volume_datasets(data[:, :, :3] + 2.0, affine, head=header(PatientID="b"))
    save_series(b, tmp_path / "b")
    reads: list[bool] = []
    real = pydicom.dcmread

    def counting(*args, **kwargs):
        reads.append(bool(kwargs.get("stop_before_pixels")))
        return real(*args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting)
    read_dicom_series(tmp_path / "a")
    assert (reads.count(True), reads.count(False)) == (5, 5)
    reads.clear()
    read_dicom_series(tmp_path, series_uid=b[0].SeriesInstanceUID)
    assert (reads.count(True), reads.count(False)) == (8, 3)  # all headers, one series whole
    reads.clear()
    assert len(load_dataset("dicom", tmp_path, series_uid=b[0].SeriesInstanceUID)) == 3
    assert (reads.count(True), reads.count(False)) == (8, 3)


@pytest.mark.parametrize(
    "name", ["MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm"]
)
def test_pydicom_files_compressed_decoded(name):
    vol = read_dicom_series(get_testdata_file(name))
    ref = read_dicom_series(get_testdata_file("MR_small.dcm"))
    np.testing.assert_array_equal(vol.voxels, ref.voxels)
    assert vol.spacing == pytest.approx((0.3125, 0.3125, 0.8))


# ----------------------------------------------------------------- ten malformed series
def _series(volume, folder: Path, **options) -> list:
    data, affine = volume
    return volume_datasets(data, affine, **options)


def _mixed(volume, folder):
    save_series(_series(volume, folder), folder / "x", seed=1)
    save_series(_series(volume, folder)[:2], folder / "y", seed=2)


def _missing_position(volume, folder):
    ds = _series(volume, folder)
    del ds[2].ImagePositionPatient
    save_series(ds, folder)


def _duplicated_position(volume, folder):
    ds = _series(volume, folder)
    ds[3].ImagePositionPatient = ds[1].ImagePositionPatient
    save_series(ds, folder)


def _missing_slice(volume, folder):
    save_series([d for i, d in enumerate(_series(volume, folder)) if i != 2], folder)


def _inconsistent_size(volume, folder):
    ds = _series(volume, folder)
    ds[1].Rows = 128
    ds[1].PixelData = ds[1].PixelData[: 128 * 256 * 2]
    save_series(ds, folder)


def _inconsistent_spacing(volume, folder):
    ds = _series(volume, folder)
    ds[4].PixelSpacing = [0.9, 1.0]
    save_series(ds, folder)


def _inconsistent_orientation(volume, folder):
    ds = _series(volume, folder)
    ds[0].ImageOrientationPatient = [0, 1, 0, 1, 0, 0]
    save_series(ds, folder)


def _structured_report(volume, folder):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    mr = _series(volume, folder)[0]
    sr = Dataset()
    sr.file_meta = FileMetaDataset()
    sr.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    sr.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sr.SOPClassUID = sr.file_meta.MediaStorageSOPClassUID
    sr.SOPInstanceUID = sr.file_meta.MediaStorageSOPInstanceUID
    for key in ("PatientID", "PatientName", "StudyInstanceUID"):
        setattr(sr, key, getattr(mr, key))
    sr.SeriesInstanceUID = generate_uid()
    sr.Modality = "SR"
    sr.ValueType = "CONTAINER"
    folder.mkdir(parents=True)
    sr.save_as(str(folder / "report.dcm"), enforce_file_format=True)


def _segmentation_in_series(volume, folder):
    from neuroseg.inference import write_dicom_seg

    ds = _series(volume, folder)
    save_series(ds, folder)
    vol = read_dicom_series(folder)
    seg = write_dicom_seg(np.ones(vol.to_slices().shape, np.uint8), vol, folder / "seg.dcm")
    seg_ds = pydicom.dcmread(str(seg))
    seg_ds.SeriesInstanceUID = ds[0].SeriesInstanceUID  # filed inside the image series
    seg_ds.save_as(str(seg))


def _no_pixel_data(volume, folder):
    ds = _series(volume, folder)
    del ds[1].PixelData
    save_series(ds, folder)


def _undecodable(volume, folder):
    lossy = pydicom.dcmread(get_testdata_file("JPEG-lossy.dcm"))  # 12-bit JPEG Extended
    lossy.ImagePositionPatient = [0.0, 0.0, 0.0]
    lossy.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    lossy.PixelSpacing = [0.5, 0.5]
    folder.mkdir(parents=True)
    lossy.save_as(str(folder / "lossy.dcm"))


MALFORMED = [
    (_mixed, "mixed series"),
    (_missing_position, "missing slice position"),
    (_duplicated_position, "duplicated slice position"),
    (_missing_slice, "missing slice or uneven spacing.*a slice is missing"),
    (_inconsistent_size, r"inconsistent image size"),
    (_inconsistent_spacing, r"inconsistent pixel spacing"),
    (_inconsistent_orientation, r"inconsistent orientation"),
    (_structured_report, "non-image object, structured report"),
    (_segmentation_in_series, "non-image object, segmentation"),
    (_no_pixel_data, "no pixel data"),
    (_undecodable, r"JPEG Extended.*pip install pylibjpeg pylibjpeg-libjpeg"),
]


@pytest.mark.parametrize(("make", "problem"), MALFORMED, ids=[m.__name__[1:] for m, _ in MALFORMED])
def test_malformed_series_named_error(volume, tmp_path, make, problem):
    folder = tmp_path / "bad"
    make(volume, folder)
    if make is _undecodable:
        try:
            pydicom.dcmread(str(folder / "lossy.dcm")).pixel_array  # noqa: B018
            pytest.skip("a JPEG Extended decoder is installed")
        except Exception:
            pass
    with pytest.raises(DicomError, match=problem) as info:
        read_dicom_series(folder)
    assert str(folder) in str(info.value)  # the message names the file or folder
    with pytest.raises(NeurosegError, match=problem):
        read_scan(folder)  # what Predictor and neuroseg predict read
    if make is not _mixed:
        report = check("dicom", folder, progress=False)
        assert not report.ok and any(
            problem.split(".*")[0] in p.problem for p in report.problems
        ), report.problems


def test_no_dicom_in_folder(tmp_path):
    from neuroseg.errors import EmptyDatasetError

    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(EmptyDatasetError, match="no DICOM file"):
        read_dicom_series(tmp_path)


def test_leftover_copy_keeps_series_intact(volume, tmp_path):
    data, affine = volume
    paths = save_series(volume_datasets(data, affine), tmp_path / "s")
    shutil.copy(paths[0], tmp_path / "s" / "copy.dcm")  # the same slice twice
    with pytest.raises(DicomError, match="duplicated slice position"):
        read_dicom_series(tmp_path / "s")


def test_check_reports_every_bad_file_of_a_dicom_folder(volume, tmp_path):
    # a healthy series, plus a zero-byte .dcm, a stray text file and a truncated header
    from neuroseg.errors import FolderLayoutError

    data, affine = volume
    save_series(volume_datasets(data, affine), tmp_path / "s")
    (tmp_path / "s" / "empty.dcm").write_bytes(b"")
    (tmp_path / "s" / "notes.txt").write_text("scanner notes")
    (tmp_path / "s" / "cut.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00")
    report = check("dicom", tmp_path)
    named = {Path(p.path).name for p in report.problems}
    assert {"empty.dcm", "notes.txt", "cut.dcm"} <= named
    with pytest.raises(FolderLayoutError, match="notes.txt"):
        read_dicom_series(tmp_path / "s")
