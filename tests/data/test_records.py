import cv2
import numpy as np
import pytest

from neuroseg.data.classes import CLASS_NAMES
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import ConfigError, EmptyDatasetError, MaskError, ReadError


def _image(value, shape=(2, 3)):
    return np.full(shape, value, np.uint8)


def _dataset(**kwargs):
    records = [
        Record(_image(0), label=1, patient_id="p2", source="a"),
        Record(_image(1), label=None, fold=3, source="b"),
        Record(_image(2), label=0, source="c"),
        Record(_image(3), label=2, patient_id="p1", fold=5, source="d"),
    ]
    return SliceDataset(records, **kwargs)


def test_group_is_the_patient_else_the_fold():
    assert [r.group for r in _dataset()] == ["p2", "fold-3", None, "p1"]
    ds = _dataset()
    assert ds.patients == ["fold-3", "p1", "p2"] and ds.groups == ["p2", "fold-3", None, "p1"]
    assert ds.labels.tolist() == [1, -1, 0, 2]


def test_in_memory_image_and_mask():
    r = Record(_image(7), mask=np.eye(2, 3, dtype=np.uint8))
    assert r.load_image().shape == (2, 3, 1)  # a 2-D image gets its channel axis
    rgb = np.zeros((2, 3, 3), np.uint8)
    assert Record(rgb).load_image() is rgb
    assert r.load_mask().tolist() == [[1, 0, 0], [0, 1, 0]]
    assert Record(rgb).load_mask() is None


def test_files_are_read_lazily_and_masks_checked(tmp_path):
    image, mask = tmp_path / "i.png", tmp_path / "m.png"
    cv2.imwrite(str(image), np.arange(6, dtype=np.uint8).reshape(2, 3))
    cv2.imwrite(str(mask), np.array([[0, 255, 0], [0, 0, 255]], np.uint8))
    r = Record(str(image), mask=mask)
    assert r.load_image()[..., 0].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert r.load_mask().tolist() == [[0, 1, 0], [0, 0, 1]]
    cv2.imwrite(str(mask), np.zeros((3, 3), np.uint8))
    with pytest.raises(MaskError, match=r"m\.png: mask is 3x3 but its image is 2x3"):
        r.load_mask()
    missing = Record(str(tmp_path / "gone.png"))
    with pytest.raises(ReadError, match=r"gone\.png: no such file"):
        missing.load_image()


def test_indexing_keeps_class_names_and_name():
    ds = _dataset(class_names=("a", "b", "c"), name="toy")
    assert ds[np.int64(1)].source == "b" and len(ds) == 4
    for part, sources in ((ds[1:3], ["b", "c"]), (ds[[3, 0]], ["d", "a"]),
                          (ds[np.array([2])], ["c"])):  # fmt: skip
        assert isinstance(part, SliceDataset) and [r.source for r in part] == sources
        assert part.class_names == ("a", "b", "c") and part.name == "toy"
    assert repr(ds) == "SliceDataset(name='toy', n=4, patients=3, class_names=['a', 'b', 'c'])"
    assert _dataset().class_names == CLASS_NAMES


def test_records_is_a_copy_and_derived_datasets_leave_the_original():
    ds = _dataset()
    ds.records.clear()
    assert len(ds) == 4
    labelled = ds.filter(lambda r: r.label is not None)
    assert [r.source for r in labelled] == ["a", "c", "d"]
    moved = ds.map_records(lambda r: Record(r.image, label=r.label, patient_id="x"))
    assert moved.patients == ["x"] and ds.patients == ["fold-3", "p1", "p2"]
    replaced = ds.with_replaced(fold=None, patient_id=None)
    assert replaced.patients == [] and [r.source for r in replaced] == ["a", "b", "c", "d"]
    assert ds[1].fold == 3


def test_adding_datasets():
    a, b = _dataset(name="a"), _dataset(name="b")[:1]
    both = a + b
    assert len(both) == 5 and both.name == "a+b" and [r.source for r in both][-2:] == ["d", "a"]
    with pytest.raises(ConfigError, match="different class names"):
        a + _dataset(class_names=("x", "y"))


def test_load_arrays_stacks_and_refuses_mixed_masks():
    images, masks = _dataset().load_arrays()
    assert images.shape == (4, 2, 3, 1) and masks is None
    assert images[:, 0, 0, 0].tolist() == [0, 1, 2, 3]
    mask = np.ones((2, 3), np.uint8)
    with_masks = SliceDataset([Record(_image(0), mask=mask), Record(_image(1), mask=0 * mask)])
    _, masks = with_masks.load_arrays()
    assert masks.shape == (2, 2, 3) and masks.sum(axis=(1, 2)).tolist() == [6, 0]
    mixed = SliceDataset([Record(_image(0), mask=mask), Record(_image(1), source="s.png")])
    with pytest.raises(MaskError, match=r"s\.png: this record has no mask while others do"):
        mixed.load_arrays()
    with pytest.raises(EmptyDatasetError, match="empty-set: the dataset is empty"):
        SliceDataset([], name="empty-set").load_arrays()
