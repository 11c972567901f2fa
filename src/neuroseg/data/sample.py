"""The small real sample bundled with neuroseg (48 slices, 256×256)."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

from neuroseg.data.classes import CLASS_NAMES
from neuroseg.data.records import Record, SliceDataset

__all__ = ["load_sample", "sample_dir"]


def sample_dir() -> Path:
    """Return the folder holding the bundled sample (images, masks, metadata, README)."""
    return Path(str(resources.files("neuroseg.data").joinpath("_sample")))


def load_sample() -> SliceDataset:
    """Load the bundled real sample.

    48 single-channel 256×256 slices with masks: 12 glioma, 12 meningioma and 12
    pituitary slices from Figshare (Cheng et al., CC BY 4.0; grouped by the authors'
    patient-wise ``cv_fold``), and 12 "no tumour" slices with empty masks from TCIA
    Brain-Tumor-Progression (CC BY 3.0; 2 per patient). See ``sample_dir()/README.md``.

    Returns:
        A :class:`SliceDataset`; records carry class label, fold or patient ID, and source.

    Example:
        >>> from neuroseg.data import load_sample
        >>> ds = load_sample()
        >>> len(ds), ds[0].load_image().shape
        (48, (256, 256, 1))
    """
    root = sample_dir()
    records = []
    with (root / "metadata.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            records.append(
                Record(
                    image=str(root / "images" / f"{row['id']}.png"),
                    mask=str(root / "masks" / f"{row['id']}.png"),
                    label=CLASS_NAMES.index(row["class_name"]),
                    patient_id=row["patient_id"] or None,
                    fold=int(row["fold"]) if row["fold"] else None,
                    spacing=(float(row["spacing_mm"]), float(row["spacing_mm"]))
                    if row["spacing_mm"]
                    else None,
                    source=f"{row['dataset']}:{row['source']}",
                    meta={"id": row["id"], "dataset": row["dataset"]},
                )
            )
    return SliceDataset(records, name="neuroseg-sample")
