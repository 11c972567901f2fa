"""Loader for the Figshare brain-tumour dataset of Cheng et al. (PNG + ``metadata.csv`` layout).

Layout::

    root/
      images/{index}.png     8-bit grey T1-CE slices
      masks/{index}.png      0/255 tumour masks, same name
      metadata.csv           index,label,label_name,cv_fold

Cheng's labels are 1 = meningioma, 2 = glioma, 3 = pituitary; ``cv_fold`` is the authors'
patient-grouped 5-fold split. The PNG release carries no patient ID, so records get the
fold as their split group and ``patient_id`` stays ``None``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path

from neuroseg.data.classes import CLASS_NAMES, canonical_class_name
from neuroseg.data.problems import OnError, _report, _validate
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import DataError, EmptyDatasetError, MaskError, ReadError

__all__ = ["FIGSHARE_LABELS", "load_figshare"]

#: Cheng et al.'s integer labels.
FIGSHARE_LABELS: dict[int, str] = {1: "meningioma", 2: "glioma", 3: "pituitary"}

_REQUIRED = ("index", "label", "cv_fold")


def load_figshare(
    root: str | os.PathLike[str],
    *,
    folds: Iterable[int] | None = None,
    on_error: OnError = "raise",
) -> SliceDataset:
    """Load the Figshare (Cheng) PNG layout.

    Args:
        root: The folder holding ``images/``, ``masks/`` and ``metadata.csv``.
        folds: Keep only these ``cv_fold`` values.
        on_error: ``"raise"``, ``"skip"`` (log and skip) or a list collecting
            :class:`~neuroseg.data.Problem` entries for missing files.

    Returns:
        A :class:`SliceDataset` with canonical class labels, masks and folds.

    Raises:
        ReadError: ``metadata.csv`` or a listed image or mask is missing.
        DataError: A malformed metadata row.
        EmptyDatasetError: No row is left.

    Example:
        >>> from neuroseg.data import load_figshare
        >>> ds = load_figshare("../shared/data/figshare-cheng", folds=[1])  # doctest: +SKIP
    """
    _validate(on_error)
    root = Path(root)
    meta = root / "metadata.csv"
    if not meta.is_file():
        raise ReadError(f"{meta}: not found. Expected the Figshare PNG layout (see the docs).")
    keep = None if folds is None else {int(f) for f in folds}
    records = []
    with meta.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{meta}: missing column(s) {missing}; expected {list(_REQUIRED)}.")
        for line, row in enumerate(reader, start=2):
            try:
                index, label, fold = int(row["index"]), int(row["label"]), int(row["cv_fold"])
            except ValueError as exc:
                raise DataError(f"{meta}, line {line}: not an integer ({exc}).") from exc
            if label not in FIGSHARE_LABELS:
                raise DataError(
                    f"{meta}, line {line}: label {label} is not one of {sorted(FIGSHARE_LABELS)}."
                )
            if keep is not None and fold not in keep:
                continue
            image = root / "images" / f"{index}.png"
            mask = root / "masks" / f"{index}.png"
            absent = [p for p in (image, mask) if not p.is_file()]
            for p in absent:
                if p == mask and image.is_file():
                    err: DataError = MaskError(
                        f"{image}: image without a mask ({mask} is missing; listed in "
                        f"{meta.name}, line {line})."
                    )
                    _report(on_error, err, str(image))
                else:
                    err = ReadError(f"{p}: listed in {meta.name} (line {line}) but missing.")
                    _report(on_error, err, str(p))
            if absent:
                continue
            name = canonical_class_name(FIGSHARE_LABELS[label])
            records.append(
                Record(
                    image=str(image),
                    mask=str(mask),
                    label=CLASS_NAMES.index(name),
                    fold=fold,
                    source=str(image),
                    meta={"index": index},
                )
            )
    listed = {Path(str(r.image)).name for r in records}
    if keep is None and (root / "images").is_dir():
        for d in ("images", "masks"):
            for p in sorted((root / d).glob("*.png")):
                if p.name not in listed and p.stem.isdigit() and not _listed(meta, p.stem):
                    _report(
                        on_error,
                        ReadError(f"{p}: not listed in {meta.name}; add a row or remove it."),
                        str(p),
                    )
    if not records:
        raise EmptyDatasetError(f"{meta}: no slice selected (folds={sorted(keep or [])}).")
    return SliceDataset(records, name="figshare")


def _listed(meta: Path, stem: str) -> bool:
    """True when ``metadata.csv`` has a row for ``stem`` (a row whose files were reported)."""
    with meta.open(newline="") as fh:
        return any(row.get("index") == stem for row in csv.DictReader(fh))
