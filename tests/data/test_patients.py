from pathlib import Path

import cv2
import numpy as np
import pytest

from neuroseg.data import (
    Record,
    SliceDataset,
    assign_patients,
    load_dataset,
    read_patient_table,
    train_test_split,
)
from neuroseg.errors import ConfigError, DataError


def _class_tree(root: Path) -> Path:
    """glioma/P1_a.png, glioma/P1_b.png, glioma/P2_a.png, pituitary/P3_a.png, pituitary/P3_b.png"""
    rng = np.random.default_rng(0)
    for rel in ("glioma/P1_a.png", "glioma/P1_b.png", "glioma/P2_a.png",
                "pituitary/P3_a.png", "pituitary/P3_b.png"):  # fmt: skip
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), rng.integers(0, 255, (16, 16), dtype=np.uint8))
    return root


def test_pattern_reads_the_patient_from_the_relative_path(tmp_path):
    root = _class_tree(tmp_path / "scans")
    ds = load_dataset("class-folders", root, patient_pattern=r"/(?P<patient>P\d+)_")
    by_file = {Path(r.image).name: r.patient_id for r in ds}
    assert by_file == {"P1_a.png": "P1", "P1_b.png": "P1", "P2_a.png": "P2",
                       "P3_a.png": "P3", "P3_b.png": "P3"}  # fmt: skip
    # The split keeps each patient on one side.
    train, test = train_test_split(ds, test_size=0.34, seed=0)
    assert not ({r.patient_id for r in train} & {r.patient_id for r in test})


def test_first_group_then_whole_match():
    ds = SliceDataset([Record(image="a/P7_x.png")])
    assert assign_patients(ds, pattern=r"(P\d)_", root="a")[0].patient_id == "P7"
    assert assign_patients(ds, pattern=r"P\d", root="a")[0].patient_id == "P7"


def test_unmatched_file_is_named(tmp_path):
    root = _class_tree(tmp_path / "scans")
    cv2.imwrite(str(root / "glioma" / "scan9.png"), np.zeros((16, 16), np.uint8))
    with pytest.raises(DataError, match=r"scan9\.png.*does not match"):
        load_dataset("class-folders", root, patient_pattern=r"(P\d+)_")


def test_every_unmatched_file_is_counted():
    names = ["s/P1_a.png", "s/x1.png", "s/P2_a.png", "s/x2.png", "s/x3.png", "s/x4.png",
             "s/x5.png", "s/x6.png"]  # fmt: skip
    ds = SliceDataset([Record(image=n) for n in names])
    with pytest.raises(DataError) as info:
        assign_patients(ds, pattern=r"(P\d)_", root="s")
    message = str(info.value)
    assert message.startswith("s/x1.png: the patient pattern")
    assert "6 of 8 files fail the same way; the others: s/x2.png, s/x3.png, s/x4.png, " in message
    assert message.endswith("... (2 more).")
    with pytest.raises(DataError) as info:  # one failure: no count
        assign_patients(ds[:2], pattern=r"(P\d)_", root="s")
    assert "fail the same way" not in str(info.value)


def test_table_by_name_or_relative_path(tmp_path):
    root = _class_tree(tmp_path / "scans")
    table = tmp_path / "patients.csv"
    table.write_text(
        "file,patient_id\nglioma/P1_a.png,A\nP1_b.png,A\nP2_a.png,B\n"
        "pituitary/P3_a.png,C\nP3_b.png,C\n"
    )
    ds = load_dataset("class-folders", root, patient_table=str(table))
    assert sorted({r.patient_id for r in ds}) == ["A", "B", "C"]
    table.write_text("file,patient_id\nP1_a.png,A\n")
    with pytest.raises(DataError, match=r"P1_b\.png: not in the patient table"):
        load_dataset("class-folders", root, patient_table=str(table))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,patient\na.png,A\n", "no column"),
        ("file,patient_id\na.png,\n", "line 2: empty"),
        ("file,patient_id\na.png,A\na.png,B\n", "one file belongs to one patient"),
    ],
)
def test_bad_tables(tmp_path, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_patient_table(path)


def test_missing_table_and_bad_options(tmp_path):
    ds = SliceDataset([Record(image="a.png")])
    with pytest.raises(DataError, match="patient table not found"):
        assign_patients(ds, table=tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="exactly one"):
        assign_patients(ds)
    with pytest.raises(ConfigError, match="not a valid expression"):
        assign_patients(ds, pattern="(")
    with pytest.raises(DataError, match="no file name"):
        assign_patients(SliceDataset([Record(image=np.zeros((4, 4, 1)))]), pattern="x")
