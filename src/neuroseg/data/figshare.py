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

import contextlib
import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neuroseg.data.classes import CLASS_NAMES, canonical_class_name
from neuroseg.data.problems import OnError, check_on_error, report_problem
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import (
    DataError,
    EmptyDatasetError,
    FolderLayoutError,
    MaskError,
    MetadataError,
    ReadError,
    UnknownNameError,
)

__all__ = ["FIGSHARE_LABELS", "load_figshare"]

#: Cheng et al.'s integer labels.
FIGSHARE_LABELS: dict[int, str] = {1: "meningioma", 2: "glioma", 3: "pituitary"}

_REQUIRED = ("index", "label", "cv_fold")
_COLUMNS = ("index", "label", "label_name", "cv_fold")


def _parse_row(
    row: dict[str | Any, Any], meta: Path, line: int, seen: dict[int, int]
) -> tuple[int, int, int]:
    """Check one ``metadata.csv`` row: ``(index, label, fold)``; raise a MetadataError."""
    where = f"{meta}, line {line}"
    if None in row or any(row.get(c) is None for c in _REQUIRED):
        raise MetadataError(
            f"{where}: {'too many' if None in row else 'too few'} fields for the header "
            f"{','.join(k for k in row if k is not None)}. Fix the row."
        )
    values = {}
    for column in _REQUIRED:
        text = str(row[column]).strip()
        if not text:
            raise MetadataError(f"{where}: empty {column!r}. Fill it in or remove the row.")
        try:
            values[column] = int(text)
        except ValueError:
            raise MetadataError(
                f"{where}: {column} {text!r} is not an integer. Fix the row."
            ) from None
    index, label, fold = values["index"], values["label"], values["cv_fold"]
    if index < 0:
        raise MetadataError(f"{where}: index {index} is negative; it names images/<index>.png.")
    if label not in FIGSHARE_LABELS:
        raise MetadataError(
            f"{where}: label {label} is not one of {sorted(FIGSHARE_LABELS)} "
            "(1 meningioma, 2 glioma, 3 pituitary)."
        )
    if fold < 1:
        raise MetadataError(
            f"{where}: cv_fold {fold} is not a fold; folds are numbered from 1 (Cheng's are 1-5)."
        )
    name = str(row.get("label_name") or "").strip()
    if name:
        try:
            given = canonical_class_name(name)
        except UnknownNameError:
            given = name
        if given != FIGSHARE_LABELS[label]:
            raise MetadataError(
                f"{where}: label {label} is {FIGSHARE_LABELS[label]} but label_name says "
                f"{name!r}. Fix one of them."
            )
    if index in seen:
        raise MetadataError(
            f"{where}: index {index} is listed again (first on line {seen[index]}); one "
            "slice must have one row (one label, one fold). Remove the duplicate."
        )
    return index, label, fold


def load_figshare(
    root: str | os.PathLike[str],
    *,
    folds: int | Iterable[int] | None = None,
    on_error: OnError = "raise",
) -> SliceDataset:
    """Load the Figshare (Cheng) PNG layout.

    Args:
        root: The folder holding ``images/``, ``masks/`` and ``metadata.csv``.
        folds: Keep only these ``cv_fold`` values (one int for one fold, as
            ``--data-option folds=4`` gives).
        on_error: ``"raise"``, ``"skip"`` (log and skip) or a list collecting
            :class:`~neuroseg.data.Problem` entries for missing files.

    Returns:
        A :class:`SliceDataset` with canonical class labels, masks and folds.

    Raises:
        ReadError: ``metadata.csv`` or a listed image or mask is missing.
        MetadataError: A malformed ``metadata.csv`` row: too few or too many fields, an
            empty or non-integer field, an unknown label, a ``label_name`` that
            contradicts the label, a fold below 1, or an index listed twice (with
            ``on_error`` other than ``"raise"``, the row is reported and skipped; the
            first row of a duplicated index is kept).
        EmptyDatasetError: No row is left.

    Example:
        >>> from neuroseg.data import load_figshare
        >>> ds = load_figshare("../shared/data/figshare-cheng", folds=[1])  # doctest: +SKIP
    """
    check_on_error(on_error)
    root = Path(root)
    meta = root / "metadata.csv"
    if not meta.is_file():
        raise ReadError(f"{meta}: not found. Expected the Figshare PNG layout (see the docs).")
    if isinstance(folds, int):
        folds = [folds]
    keep = None if folds is None else {int(f) for f in folds}
    records = []
    try:
        text = meta.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"{meta}: cannot read it as UTF-8 text ({exc}).") from exc
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise MetadataError(
            f"{meta}: missing column(s) {missing}; expected the header "
            f"{','.join(_COLUMNS)} (label_name optional)."
        )
    seen: dict[int, int] = {}
    rejected: set[int] = set()  # indices on faulty rows: listed, so not "not listed" too
    for line, row in enumerate(reader, start=2):
        try:
            index, label, fold = _parse_row(row, meta, line, seen)
        except MetadataError as exc:
            report_problem(on_error, exc, f"{meta}:{line}")
            with contextlib.suppress(TypeError, ValueError):
                rejected.add(int(str(row.get("index")).strip()))
            continue
        seen[index] = line
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
                report_problem(on_error, err, str(image))
            else:
                what = "a dangling link" if p.is_symlink() else "missing"
                err = ReadError(f"{p}: listed in {meta.name} (line {line}) but {what}.")
                report_problem(on_error, err, str(p))
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
    if keep is None:
        for d in ("images", "masks"):
            folder = root / d
            for p in sorted(folder.iterdir()) if folder.is_dir() else []:
                if p.name.startswith("."):
                    continue
                if p.is_dir():
                    report_problem(
                        on_error,
                        FolderLayoutError(
                            f"{p}: a sub-folder inside {d}/; the Figshare layout has none. "
                            "Move or remove it."
                        ),
                        str(p),
                    )
                elif p.suffix.lower() != ".png" or not p.stem.isdigit():
                    report_problem(
                        on_error,
                        FolderLayoutError(
                            f"{p}: not a Figshare slice (expected {d}/<index>.png). Remove "
                            "or rename it."
                        ),
                        str(p),
                    )
                elif int(p.stem) not in seen and int(p.stem) not in rejected:
                    report_problem(
                        on_error,
                        ReadError(f"{p}: not listed in {meta.name}; add a row or remove it."),
                        str(p),
                    )
    if not records:
        raise EmptyDatasetError(f"{meta}: no slice selected (folds={sorted(keep or [])}).")
    return SliceDataset(records, name="figshare")
