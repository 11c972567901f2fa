"""Build DICOM MR series from the real TCIA NIfTI volumes (pydicom; nothing downloaded).

Each slice becomes an MR Image Storage file with ImagePositionPatient, ImageOrientationPatient,
PixelSpacing, RescaleSlope/Intercept (stored values are exact: v = 0.5 * stored - 1024), the
world geometry of the NIfTI affine (RAS) converted to DICOM's LPS. Options write the same
geometry in other ways: shuffled, suffix-less file names, reversed instance numbers, the
other pixel-axis order (which flips the slice normal, so positions run the other way), and a
tilted (oblique) world frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SLOPE, INTERCEPT = 0.5, -1024.0
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"


def tilt(affine: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate a RAS affine's world frame about the left-right axis."""
    t = np.deg2rad(degrees)
    rot = np.eye(4)
    rot[1:3, 1:3] = [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]
    return rot @ affine


def tcia_t1(shared_data: Path) -> Path:
    """TCIA patient 01's pre-treatment T1 volume; the calling test is skipped without it."""
    import pytest

    nifti = shared_data / "tcia-brain-tumor-progression" / "01" / "Pre_Scan_T1.nii.gz"
    if not nifti.is_file():
        pytest.skip(f"{nifti} not found")
    return nifti


def subvolume(nifti: Path, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Slices ``start:stop`` (last axis) of a NIfTI volume and their affine."""
    import nibabel as nib

    img = nib.load(str(nifti))
    data = np.asarray(img.dataobj, np.float64)[:, :, start:stop]
    shift = np.eye(4)
    shift[2, 3] = start
    return data, img.affine @ shift


def write_nifti(data: np.ndarray, affine: np.ndarray, path: Path) -> Path:
    import nibabel as nib

    nib.save(nib.Nifti1Image(data.astype(np.float32), affine), str(path))
    return path


def header(**overrides: Any) -> dict[str, Any]:
    from pydicom.uid import generate_uid

    base = {
        "PatientName": "TCIA^01",
        "PatientID": "tcia-01",
        "PatientBirthDate": "",
        "PatientSex": "O",
        "StudyInstanceUID": generate_uid(),
        "SeriesInstanceUID": generate_uid(),
        "FrameOfReferenceUID": generate_uid(),
        "StudyDate": "20200101",
        "StudyTime": "120000",
        "StudyID": "1",
        "AccessionNumber": "",
        "ReferringPhysicianName": "",
        "SeriesNumber": 3,
        "SeriesDescription": "T1 post",
    }
    base.update(overrides)
    return base


def mr_dataset(
    pixels: np.ndarray,
    position: np.ndarray,
    orientation: np.ndarray,
    spacing: tuple[float, float],
    instance: int,
    head: dict[str, Any],
) -> Any:
    """One MR Image Storage dataset (uint16 stored values, rescale 0.5 / -1024)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MR_IMAGE_STORAGE
    uid = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = MR_IMAGE_STORAGE
    ds.SOPInstanceUID = uid
    ds.Modality = "MR"
    ds.Manufacturer = "neuroseg tests"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "NONE"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.EchoTime = 10.0
    ds.RepetitionTime = 500.0
    ds.EchoTrainLength = 1
    ds.MagneticFieldStrength = 1.5
    ds.ContentDate = "20200101"
    ds.ContentTime = "120000"
    ds.AcquisitionNumber = 1
    for k, v in head.items():
        setattr(ds, k, v)
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [float(x) for x in position]
    ds.ImageOrientationPatient = [float(x) for x in orientation]
    ds.PixelSpacing = [float(spacing[0]), float(spacing[1])]
    ds.SliceThickness = 1.0
    ds.PositionReferenceIndicator = ""
    ds.Rows, ds.Columns = (int(n) for n in pixels.shape)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.WindowCenter = 600.0
    ds.WindowWidth = 1200.0
    ds.RescaleSlope = SLOPE
    ds.RescaleIntercept = INTERCEPT
    stored = (pixels - INTERCEPT) / SLOPE
    assert np.all(stored == np.round(stored)) and stored.min() >= 0 and stored.max() < 65536
    ds.PixelData = stored.astype("<u2").tobytes()
    return ds


def volume_datasets(
    data: np.ndarray,
    affine: np.ndarray,
    *,
    transpose: bool = False,
    reverse_instances: bool = False,
    head: dict[str, Any] | None = None,
) -> list[Any]:
    """One dataset per slice ``k`` of ``data`` (NIfTI voxel order) under ``affine`` (RAS).

    By default a DICOM row runs along the NIfTI's first axis (pixel ``[r, c]`` is voxel
    ``[c, r, k]``); ``transpose`` swaps that (pixel ``[r, c]`` is voxel ``[r, c, k]``),
    which also turns the slice normal around.
    """
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine
    di, dj = lps[:3, 0], lps[:3, 1]
    if transpose:
        row_dir, col_dir = dj, di  # along a row: j; down the rows: i
    else:
        row_dir, col_dir = di, dj
    spacing = (float(np.linalg.norm(col_dir)), float(np.linalg.norm(row_dir)))
    orientation = np.concatenate([row_dir / spacing[1], col_dir / spacing[0]])
    head = head or header()
    n = data.shape[2]
    out = []
    for k in range(n):
        plane = data[:, :, k] if transpose else data[:, :, k].T
        position = (lps @ [0.0, 0.0, float(k), 1.0])[:3]
        instance = n - k if reverse_instances else k + 1
        out.append(mr_dataset(plane, position, orientation, spacing, instance, head))
    return out


def save_series(
    datasets: list[Any], folder: Path, *, seed: int = 0, suffix: str = ""
) -> list[Path]:
    """Save under shuffled names (``<random>`` + ``suffix``) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = rng.permutation(len(datasets)) * 7919 + 1000
    paths = []
    for ds, name in zip(datasets, names):
        path = folder / f"{int(name)}{suffix}"
        ds.save_as(str(path), enforce_file_format=True)
        paths.append(path)
    return paths


def multiframe(datasets: list[Any]) -> Any:
    """A Legacy Converted Enhanced MR Image (one multi-frame file) of single-frame datasets."""
    import highdicom as hd

    return hd.legacy.LegacyConvertedEnhancedMRImage(
        legacy_datasets=datasets,
        series_instance_uid=hd.UID(),
        series_number=4,
        sop_instance_uid=hd.UID(),
        instance_number=1,
    )


def nifti_slices(data: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """The slices :func:`neuroseg.data.load_nifti` cuts (nibabel's canonical, radiological)."""
    import nibabel as nib

    from neuroseg.data import volume_to_slices

    canon = nib.as_closest_canonical(nib.Nifti1Image(data.astype(np.float32), affine))
    return np.stack(volume_to_slices(np.asarray(canon.dataobj, np.float32), axis=2), axis=-1)
