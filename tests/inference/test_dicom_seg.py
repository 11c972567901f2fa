"""DICOM-SEG output: written with highdicom, read back, compared voxel by voxel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
hd = pytest.importorskip("highdicom")
pytest.importorskip("nibabel")

import neuroseg  # noqa: E402
from neuroseg.data import read_dicom_series  # noqa: E402
from neuroseg.errors import DicomError  # noqa: E402
from neuroseg.inference import (  # noqa: E402
    Predictor,
    read_scan,
    write_dicom_overlay,
    write_dicom_seg,
)
from tests.data.dicom_series import (  # noqa: E402
    multiframe,
    save_series,
    subvolume,
    tcia_t1,
    tilt,
    volume_datasets,
)

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def volume(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    return subvolume(tcia_t1(shared_data), 12, 16)


def _read_back(seg_path: Path, vol) -> np.ndarray:
    """The SEG's mask as (frames, rows, cols) in the source's sorted frame order."""
    seg = hd.seg.segread(str(seg_path))
    if len(vol.datasets) == 1:
        px = seg.get_pixels_by_source_frame(
            source_sop_instance_uid=vol.datasets[0].SOPInstanceUID,
            source_frame_numbers=[n for _, n in vol.frames],
            segment_numbers=[1],
        )
    else:
        uids = [ds.SOPInstanceUID for ds in vol.sorted_datasets]
        px = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=[1])
    return np.asarray(px[..., 0])


@pytest.mark.parametrize("layout", ["transposed-reversed-tilted", "multi-frame"])
def test_seg_round_trip_matches_predictor_mask(volume, small_seg_model, tmp_path, layout):
    data, affine = volume
    affine = tilt(affine, 12.0)
    datasets = volume_datasets(data, affine, transpose=True, reverse_instances=True)
    folder = tmp_path / "series"
    if layout == "multi-frame":
        folder.mkdir()
        multiframe(datasets).save_as(str(folder / "enhanced.dcm"))
    else:
        save_series(datasets, folder, seed=5)
    scan = read_scan(folder)
    pred = Predictor(small_seg_model, threshold=0.5).predict(scan)[0]
    assert pred.mask is not None
    if not pred.mask.any():  # an untrained model: give it something to write
        pred.mask[100:140, 90:150, 1:3] = 1
    vol = scan.meta["dicom"]
    path = write_dicom_seg(pred, None, tmp_path / "out" / "seg.dcm", algorithm_name="unit")
    frames = _read_back(path, vol)
    # voxel by voxel, in the Predictor's slice frame and on the source frames
    np.testing.assert_array_equal(vol.orientation.to_slices(np.moveaxis(frames, 0, -1)), pred.mask)
    np.testing.assert_array_equal(frames, vol.to_frames(pred.mask))
    seg = pydicom.dcmread(str(path))
    src = vol.datasets[0]
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == src.SeriesInstanceUID
    assert seg.FrameOfReferenceUID == src.FrameOfReferenceUID
    assert seg.StudyInstanceUID == src.StudyInstanceUID
    desc = seg.SegmentSequence[0]
    assert desc.SegmentLabel == "tumour"
    assert desc.SegmentAlgorithmType == "AUTOMATIC"
    algo = desc.SegmentationAlgorithmIdentificationSequence[0]
    assert algo.AlgorithmName == "unit" and algo.AlgorithmVersion == neuroseg.__version__
    assert desc.SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "Neoplasm"
    shared = seg.SharedFunctionalGroupsSequence[0]
    np.testing.assert_allclose(
        shared.PixelMeasuresSequence[0].PixelSpacing, read_dicom_series(folder).spacing[:2]
    )
    np.testing.assert_allclose(
        shared.PlaneOrientationSequence[0].ImageOrientationPatient, vol.orientation_patient
    )


def test_overlay_series(volume, tmp_path):
    data, affine = volume
    save_series(volume_datasets(data, affine), tmp_path / "s")
    vol = read_dicom_series(tmp_path / "s")
    mask = np.zeros(vol.to_slices().shape, np.uint8)
    mask[100:140, 90:150, :] = 1
    files = write_dicom_overlay(mask, vol, tmp_path / "overlay")
    assert len(files) == data.shape[2]
    sc = pydicom.dcmread(str(files[0]))
    assert sc.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    assert sc.pixel_array.shape == (256, 256, 3)
    assert sc.SeriesInstanceUID != vol.series_uid and sc.PatientID == "tcia-01"
    red = (sc.pixel_array == (255, 0, 0)).all(axis=-1)
    assert red.any()


def test_seg_needs_a_dicom_source(tmp_path):
    with pytest.raises(DicomError, match="not read from DICOM"):
        write_dicom_seg(np.zeros((8, 8, 2), np.uint8), None, tmp_path / "x.dcm")
