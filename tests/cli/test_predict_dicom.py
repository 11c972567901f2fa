"""The issue's check: a DICOM series built from a real volume through neuroseg predict."""

from __future__ import annotations

import json

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
hd = pytest.importorskip("highdicom")
pytest.importorskip("nibabel")

from neuroseg.cli import main  # noqa: E402
from neuroseg.inference import Predictor, read_scan  # noqa: E402
from tests.data.dicom_series import (  # noqa: E402
    save_series,
    subvolume,
    tcia_t1,
    volume_datasets,
    write_nifti,
)

pytestmark = pytest.mark.data


def test_predict_dicom_seg_matches_predictor_on_nifti(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSEG_PROGRESS", "0")
    nifti = tcia_t1(shared_data)
    data, affine = subvolume(nifti, 11, 17)  # six slices with tumour
    series = tmp_path / "series"
    # shuffled file names, instance numbers and the slice normal both reversed
    save_series(volume_datasets(data, affine, transpose=True, reverse_instances=True), series)
    out = tmp_path / "pred"
    args = ["predict", "--model", "resunet-figshare", str(series), "--out", str(out), "--quiet"]
    assert main([*args, "--format", "dicom-seg", "--dicom-overlay"]) == 0
    entry = json.loads((out / "predictions.json").read_text())["predictions"][0]
    seg = hd.seg.segread(entry["seg_file"])
    vol = read_scan(series).meta["dicom"]
    uids = [ds.SOPInstanceUID for ds in vol.sorted_datasets]
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == vol.series_uid
    assert {
        i.ReferencedSOPInstanceUID
        for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence
    } == set(uids)
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=[1])
    from_seg = vol.orientation.to_slices(np.moveaxis(np.asarray(frames[..., 0]), 0, -1))
    # Predictor on the NIfTI of the same volume, slice for slice
    ref = Predictor("resunet-figshare").predict(write_nifti(data, affine, tmp_path / "v.nii.gz"))
    mask = ref[0].mask
    assert mask is not None and mask.any()
    assert from_seg.shape == mask.shape
    for k in range(mask.shape[2]):
        np.testing.assert_array_equal(from_seg[:, :, k], mask[:, :, k], err_msg=f"slice {k}")
    assert len(entry["overlay_files"]) == data.shape[2]
    # the NIfTI mask predict writes for the same input is the same mask, in DICOM voxel order
    import nibabel as nib

    written = np.asarray(nib.load(entry["mask_file"]).dataobj)
    np.testing.assert_array_equal(written, vol.orientation.to_source(mask))


def test_predict_dicom_seg_refuses_non_dicom_input(tmp_path, monkeypatch, capsys):
    from neuroseg.data import sample_dir

    monkeypatch.setenv("NEUROSEG_PROGRESS", "0")
    image = sample_dir() / "images" / "fs00.png"
    args = ["predict", "--model", "resunet-figshare", str(image), "--out", str(tmp_path)]
    assert main([*args, "--format", "dicom-seg", "--quiet"]) == 2
    assert "not read from DICOM" in capsys.readouterr().err
