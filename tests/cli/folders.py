"""Helpers shared by the ``neuroseg predict`` tests: real Kaggle class folders, CSV rows."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

CLASSES = ("glioma", "meningioma", "notumor", "pituitary")


def copy_kaggle_classes(shared_data: Path, root: Path, *, per_class: int) -> Path:
    """Copy the first ``per_class`` Kaggle training images of each class to ``root/CLASS``.

    They are renamed ``1.jpg``, ``2.jpg``, ... in every folder; returns ``root``.
    """
    for name in CLASSES:
        src = sorted((shared_data / "kaggle4-training" / name).glob("*.jpg"))[:per_class]
        (root / name).mkdir(parents=True)
        for i, f in enumerate(src, start=1):
            shutil.copy(f, root / name / f"{i}.jpg")
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file with a header."""
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))
