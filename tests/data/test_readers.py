"""The reader table: records read files by format, without importing format modules."""

import cv2
import numpy as np
import pytest

from neuroseg.data import Record, readers
from neuroseg.data.readers import Reader, read_mask_file, reader_for, register_reader
from neuroseg.errors import ConfigError, DataError, MaskError, UnknownNameError

from .test_figshare_mat import _slice, write_cheng_mat


@pytest.fixture
def restore_readers():
    saved = dict(readers._READERS)
    yield
    readers._READERS.clear()
    readers._READERS.update(saved)


def test_formats_by_suffix_then_by_encoding():
    assert reader_for("a/12.MAT").name == "figshare-mat"  # the suffix wins
    assert reader_for("12.mat", default="brats-rgb").name == "figshare-mat"
    assert reader_for("m.png", default="brats-rgb").name == "brats-rgb"
    assert reader_for("img.png").name == "image"
    with pytest.raises(UnknownNameError, match="unknown file format 'rgb'.*brats-rgb"):
        reader_for("m.png", default="rgb")


def test_builtin_readers_are_named_not_imported():
    # the table names format modules as strings: records.py needs none of them
    assert reader_for("m.png", default="brats-rgb").mask == "neuroseg.data.brats:read_brats_mask"
    assert isinstance(reader_for("1.mat").image, str)


def test_mat_record_reads_through_the_table(tmp_path):
    image, mask = _slice()
    write_cheng_mat(tmp_path / "1.mat", image, mask, 2, "p")
    r = Record(str(tmp_path / "1.mat"), mask=str(tmp_path / "1.mat"))
    np.testing.assert_array_equal(r.load_image()[..., 0], image)
    np.testing.assert_array_equal(r.load_mask(), mask)


def test_label_and_binary_masks_are_checked_against_the_image(tmp_path):
    cv2.imwrite(str(tmp_path / "i.png"), np.zeros((4, 4), np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), np.full((4, 4), 3, np.uint8))
    cv2.imwrite(str(tmp_path / "small.png"), np.zeros((2, 2), np.uint8))
    r = Record(str(tmp_path / "i.png"), mask=str(tmp_path / "m.png"), mask_encoding="labels")
    assert r.load_mask().max() == 3
    with pytest.raises(MaskError, match="m.png"):
        Record(str(tmp_path / "i.png"), mask=str(tmp_path / "m.png")).load_mask()
    with pytest.raises(MaskError, match="2x2 but its image is 4x4"):
        Record(str(tmp_path / "i.png"), mask=str(tmp_path / "small.png")).load_mask()


def test_register_a_format(tmp_path, restore_readers):
    np.save(tmp_path / "scan.npy", np.ones((3, 3, 1), np.float32))
    np.save(tmp_path / "mask.npy", np.eye(3, dtype=np.uint8))
    register_reader(
        "npy",
        image="numpy:load",
        mask=lambda path, shape=None: np.load(path),
        suffixes=(".NPY",),
    )
    r = Record(str(tmp_path / "scan.npy"), mask=str(tmp_path / "mask.npy"))
    assert r.load_image().shape == (3, 3, 1) and r.load_mask().sum() == 3
    calls = []
    assert read_mask_file(tmp_path / "mask.npy", image_shape=lambda: calls.append(1)).sum() == 3
    assert calls == [1]  # mask_needs_shape=True: the image shape was asked for


def test_register_errors(restore_readers):
    with pytest.raises(ConfigError, match="image=..., mask="):
        register_reader("nothing")
    with pytest.raises(ConfigError, match="dot"):
        register_reader("x", image="numpy:load", suffixes=("npy",))
    with pytest.raises(DataError, match="no mask reader"):
        Reader("only-images", image="numpy:load").read_mask("m.npy")
