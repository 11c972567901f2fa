"""Cheng's original MATLAB v7.3 files, written by the tests in MATLAB's exact layout."""

import h5py
import numpy as np
import pytest

from neuroseg.data import CLASS_NAMES, load_dataset, read_mat_slice
from neuroseg.errors import NeurosegError, ReadError

_HEADER = (
    b"MATLAB 7.3 MAT-file, Platform: GLNXA64, "
    b"Created on: Mon Jan  1 00:00:00 2015 HDF5 schema 1.00 ."
)


def write_cheng_mat(path, image, mask, label, pid):
    """What MATLAB's save('-v7.3') writes for Cheng's struct cjdata (column-major)."""
    with h5py.File(path, "w", userblock_size=512) as fh:
        cj = fh.create_group("cjdata")
        cj.attrs["MATLAB_class"] = np.bytes_("struct")
        d = cj.create_dataset("image", data=image.T)  # MATLAB is column-major
        d.attrs["MATLAB_class"] = np.bytes_("int16")
        d = cj.create_dataset("tumorMask", data=mask.T.astype(np.uint8))
        d.attrs["MATLAB_class"] = np.bytes_("logical")
        d = cj.create_dataset("tumorBorder", data=np.zeros((1, 6)))
        d.attrs["MATLAB_class"] = np.bytes_("double")
        d = cj.create_dataset("label", data=np.array([[float(label)]]))
        d.attrs["MATLAB_class"] = np.bytes_("double")
        codes = np.array([[ord(c)] for c in pid], dtype=np.uint16)  # char: n x 1 uint16
        d = cj.create_dataset("PID", data=codes)
        d.attrs["MATLAB_class"] = np.bytes_("char")
        d.attrs["MATLAB_int_decode"] = np.int32(2)
    with open(path, "r+b") as fh:
        fh.write(_HEADER.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")


def _slice(h=6, w=5, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(-50, 3000, (h, w)).astype(np.int16)  # MRI values beyond uint8
    mask = np.zeros((h, w), np.uint8)
    mask[1:3, 2:4] = 1
    return image, mask


def test_reads_transposed_int16_and_pid(tmp_path):
    image, mask = _slice()
    write_cheng_mat(tmp_path / "1.mat", image, mask, 2, "100360")
    s = read_mat_slice(tmp_path / "1.mat")
    assert s.image.shape == (6, 5, 1) and s.image.dtype == np.int16
    np.testing.assert_array_equal(s.image[..., 0], image)  # not wrapped, not transposed
    np.testing.assert_array_equal(s.mask, mask)
    assert s.label == 2 and s.patient_id == "100360"


def test_folder_loader_and_pipeline(tmp_path):
    for i, (label, pid) in enumerate([(1, "MR1"), (2, "MR1"), (3, "MR2")], start=1):
        image, mask = _slice(seed=i)
        write_cheng_mat(tmp_path / f"{i}.mat", image, mask, label, pid)
    write_cheng_mat(tmp_path / "10.mat", *_slice(seed=10), 1, "MR3")  # numeric order
    ds = load_dataset("figshare-mat", tmp_path)
    assert [r.meta["index"] for r in ds] == [1, 2, 3, 10]
    assert [CLASS_NAMES[r.label] for r in ds][:3] == ["meningioma", "glioma", "pituitary"]
    assert ds.patients == ["cheng-MR1", "cheng-MR2", "cheng-MR3"]
    x, y = next(iter(ds.to_tf_dataset("segmentation", batch_size=4)))
    assert x.shape == (4, 6, 5, 1) and float(x.numpy().min()) == 0.0
    assert float(x.numpy().max()) == pytest.approx(1.0)
    assert y.numpy().sum() == 4 * 4


def test_bad_mat_files(tmp_path):
    (tmp_path / "5.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 200)
    with pytest.raises(ReadError, match=r"5.mat.*v7.3"):
        read_mat_slice(tmp_path / "5.mat")
    with pytest.raises(NeurosegError, match="5.mat"):
        load_dataset("figshare-mat", tmp_path)
    problems = []
    image, mask = _slice()
    write_cheng_mat(tmp_path / "6.mat", image, mask, 1, "A")
    assert len(load_dataset("figshare-mat", tmp_path, on_error=problems)) == 1
    assert problems[0].path.endswith("5.mat")
