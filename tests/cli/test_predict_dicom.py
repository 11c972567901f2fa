"""DICOM series built from a real volume through neuroseg predict: one series folder, study
folders of series folders, and folders holding several series together."""

from __future__ import annotations

import json

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
hd = pytest.importorskip("highdicom")
pytest.importorskip("nibabel")

from neuroseg.cli import main  # noqa: E402
from neuroseg.inference import Predictor, read_scan  # noqa: E402
from tests.cli.folders import read_csv  # noqa: E402
from tests.data.dicom_series import (  # noqa: E402
    header,
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


# ------------------------------------------------- folders of several series (PACS exports)
UID_FOLDER = "1.2.826.0.1.3680043.2.1125.7"  # PACS exports often name folders by UID


@pytest.fixture(scope="module")
def volume(shared_data):
    """Four slices (12-15) of patient 01's pre-treatment T1 volume and their affine."""
    return subvolume(tcia_t1(shared_data), 12, 16)


def _two_series(volume):
    """A four-slice series (SeriesNumber 3) and a three-slice one (SeriesNumber 4)."""
    data, affine = volume
    a = volume_datasets(data, affine, head=header(SeriesNumber=3, SeriesDescription="T1"))
    b = volume_datasets(data[:, :, :3] + 2.0, affine, head=header(SeriesNumber=4))
    return a, b


def _seg_of(series, path):
    """A DICOM Segmentation (its own series) of the series folder ``series``, at ``path``."""
    from neuroseg.data import read_dicom_series
    from neuroseg.inference import write_dicom_seg

    vol = read_dicom_series(series)
    return write_dicom_seg(np.ones(vol.to_slices().shape, np.uint8), vol, path)


@pytest.fixture
def study(volume, tmp_path):
    """study/t1 (4 slices, .dcm names, a SEG beside them), study/<UID> (3, no suffixes)."""
    a, b = _two_series(volume)
    root = tmp_path / "study"
    save_series(a, root / "t1", suffix=".dcm")
    save_series(b, root / UID_FOLDER, seed=1)
    _seg_of(root / "t1", root / "t1" / "seg.dcm")
    return root, a[0].SeriesInstanceUID, b[0].SeriesInstanceUID


def test_study_folder_gives_one_input_per_series_folder(study, tmp_path):
    from neuroseg.cli.predict import expand_inputs
    from neuroseg.errors import EmptyDatasetError

    root, uid_a, uid_b = study
    # without --recursive the series sub-folders are not walked: the error says so
    with pytest.raises(EmptyDatasetError, match=r"2 of them DICOM series folders.*--recursive"):
        expand_inputs([str(root)])
    found, _ = expand_inputs([str(root)], recursive=True)
    # the SEG beside t1's images is not an input; each series is read from its own folder
    assert [(i.relative, i.path, i.series_uid) for i in found] == [
        (UID_FOLDER, root / UID_FOLDER, uid_b),
        ("t1", root / "t1", uid_a),
    ]
    # a series folder given on its own is still one input, named after the folder
    found, _ = expand_inputs([str(root / "t1")])
    assert [(i.relative, i.series_uid) for i in found] == [("t1", uid_a)]
    # images and NIfTI beside the series are inputs as before; a lone SEG folder is not
    write_nifti(np.zeros((8, 8, 2)), np.eye(4), root / "flair.nii.gz")
    _seg_of(root / "t1", root / "segs" / "seg.dcm")
    found, _ = expand_inputs([str(root)], recursive=True)
    assert [i.relative for i in found] == [UID_FOLDER, "flair.nii.gz", "t1"]
    assert found[1].series_uid is None
    with pytest.raises(EmptyDatasetError, match="DICOM image series"):
        expand_inputs([str(root / "segs")])


def test_pattern_of_dicom_files_gives_their_series(study, tmp_path):
    from neuroseg.cli.predict import expand_inputs
    from neuroseg.errors import EmptyDatasetError, ReadError

    root, uid_a, uid_b = study
    # t1/*.dcm: the series' four files and its SEG; the SEG is not an input
    found, _ = expand_inputs([str(root / "t1" / "*.dcm")])
    assert [(i.relative, i.path, i.series_uid) for i in found] == [("t1", root / "t1", uid_a)]
    # every file of the study at any depth: each series once, named by its folder
    found, _ = expand_inputs([str(root / "**" / "*")])
    assert sorted((i.relative, i.series_uid) for i in found) == [
        (UID_FOLDER, uid_b),
        ("t1", uid_a),
    ]
    # part of a series is refused, with the counts
    with pytest.raises(ReadError, match=r"matches 2 of the 4 files of DICOM series 'T1'"):
        expand_inputs([str(root / "t1" / "1*.dcm")])
    # a pattern that matches only a SEG has nothing to predict on
    with pytest.raises(EmptyDatasetError, match="DICOM image series"):
        expand_inputs([str(root / "t1" / "seg*.dcm")])


def test_folder_of_mixed_series_gives_one_input_per_series(volume, tmp_path, monkeypatch):
    import nibabel as nib

    from neuroseg.cli.predict import expand_inputs

    a, b = _two_series(volume)
    mixed = tmp_path / "mixed"
    save_series(a, mixed, suffix=".dcm")
    _seg_of(mixed, mixed / "seg.dcm")  # a SEG of the first series, filed beside it
    save_series(b, mixed, seed=1)  # suffix-less names: no file of the first is overwritten
    found, _ = expand_inputs([str(mixed)])  # the folder's own files: no --recursive needed
    uid_a, uid_b = a[0].SeriesInstanceUID, b[0].SeriesInstanceUID
    tail_a, tail_b = (u.replace(".", "")[-8:] for u in (uid_a, uid_b))
    assert [(i.relative, i.path, i.series_uid) for i in found] == [
        (f"mixed_S3_{tail_a}", mixed, uid_a),
        (f"mixed_S4_{tail_b}", mixed, uid_b),
    ]
    # the names are stable: the same folder gives the same names again
    assert [i.relative for i in expand_inputs([str(mixed)])[0]] == [i.relative for i in found]
    # neuroseg predict reads each series on its own: two masks of their own slice counts
    monkeypatch.setenv("NEUROSEG_PROGRESS", "0")
    out = tmp_path / "pred"
    args = ["predict", "--model", "resunet-figshare", str(mixed), "--out", str(out), "--quiet"]
    assert main(args) == 0
    rows = read_csv(out / "predictions.csv")
    assert [r["relative_path"] for r in rows] == [i.relative for i in found]
    shapes = [np.asarray(nib.load(r["mask_file"]).dataobj).shape for r in rows]
    assert shapes == [(256, 256, 4), (256, 256, 3)]
    assert sorted(f.name for f in (out / "masks").iterdir()) == [
        f"mixed_S3_{tail_a}_mask.nii.gz",
        f"mixed_S4_{tail_b}_mask.nii.gz",
    ]


def test_predict_study_folder_writes_one_seg_per_series(study, tmp_path, monkeypatch):
    import nibabel as nib

    monkeypatch.setenv("NEUROSEG_PROGRESS", "0")
    root, uid_a, uid_b = study
    out = tmp_path / "pred"
    args = ["predict", "--model", "resunet-figshare", "-r", str(root), "--out", str(out)]
    assert main([*args, "--quiet", "--format", "dicom-seg"]) == 0
    entries = json.loads((out / "predictions.json").read_text())["predictions"]
    assert [(e["relative_path"], e["series_uid"]) for e in entries] == [
        (UID_FOLDER, uid_b),
        ("t1", uid_a),
    ]
    assert [r["relative_path"] for r in read_csv(out / "predictions.csv")] == [UID_FOLDER, "t1"]
    # the UID-named folder keeps its whole name (no ".7" taken for a suffix)
    assert sorted(f.name for f in (out / "seg").iterdir()) == [f"{UID_FOLDER}.dcm", "t1.dcm"]
    assert sorted(f.name for f in (out / "masks").iterdir()) == [
        f"{UID_FOLDER}_mask.nii.gz",
        "t1_mask.nii.gz",
    ]
    for entry, n in zip(entries, (3, 4)):
        assert np.asarray(nib.load(entry["mask_file"]).dataobj).shape == (256, 256, n)
        seg = hd.seg.segread(entry["seg_file"])
        (ref,) = seg.ReferencedSeriesSequence
        assert ref.SeriesInstanceUID == entry["series_uid"]
        assert len(ref.ReferencedInstanceSequence) == n
