"""Loaders for image/mask pair layouts: LGG ``kaggle_3m`` and a generic ``images/`` + ``masks/``.

LGG (Buda et al.)::

    root/TCGA_<inst>_<patient>_<date>/TCGA_..._<n>.tif        256×256×3 slices
    root/TCGA_<inst>_<patient>_<date>/TCGA_..._<n>_mask.tif   0/255 masks

The patient is the folder; slices are ordered by their number, read numerically (they
are not zero-padded, so ``_10`` comes after ``_9``).

Generic pairs::

    root/images/<stem><ext>
    root/masks/<mask name>     e.g. the same name, or "{stem}_mask.png"
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from neuroseg.data.folders import scan_folder
from neuroseg.data.problems import OnError, check_on_error, report_problem
from neuroseg.data.records import MaskEncoding, Record, SliceDataset
from neuroseg.errors import ConfigError, EmptyDatasetError, MaskError

__all__ = ["load_lgg", "load_pairs"]

_LGG_SLICE = re.compile(r"^(?P<case>.+)_(?P<n>\d+)$")


def _check_mask_name(mask_name: str) -> None:
    """Refuse a ``mask_name`` pattern other than a format string of ``{stem}``/``{ext}``."""
    try:
        name = mask_name.format(stem="x", ext=".png")
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"mask_name {mask_name!r} is not a file name pattern ({type(exc).__name__}: "
            f"{exc}); use {{stem}} and {{ext}}, e.g. '{{stem}}_mask.png'."
        ) from None
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ConfigError(
            f"mask_name {mask_name!r} must give a file name inside the mask folder, e.g. "
            "'{stem}_mask.png'."
        )


def _numbered(stem: str) -> tuple[str, int] | None:
    m = _LGG_SLICE.match(stem)
    return (m.group("case"), int(m.group("n"))) if m else None


def load_lgg(root: str | os.PathLike[str], *, on_error: OnError = "raise") -> SliceDataset:
    """Load the LGG ``kaggle_3m`` layout (one folder per patient).

    Args:
        root: The folder holding the ``TCGA_*`` patient folders (``data.csv`` and other
            top-level files are ignored).
        on_error: ``"raise"``, ``"skip"`` or a list collecting
            :class:`~neuroseg.data.Problem` entries (a slice without a mask, a mask
            without a slice, a non-image file, a sub-folder or a dangling link in a
            patient folder: :class:`~neuroseg.errors.FolderLayoutError`).

    Returns:
        Records with ``patient_id`` = the folder name, ``meta["slice"]`` = the slice
        number, in numeric slice order within each patient.

    Raises:
        EmptyDatasetError: No patient folder or no slice.
        MaskError: A slice without a mask or a mask without a slice.

    Example:
        >>> from neuroseg.data import load_lgg
        >>> ds = load_lgg("../shared/data/lgg-kaggle3m")  # doctest: +SKIP
    """
    check_on_error(on_error)
    root = Path(root)
    if not root.is_dir():
        raise EmptyDatasetError(f"{root}: not a folder.")
    patients = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not patients and any(root.glob("*_mask.tif")):
        patients = [root]  # a single patient folder
    if not patients:
        raise EmptyDatasetError(f"{root}: no patient folder (expected TCGA_* folders).")
    records: list[Record] = []
    for folder in patients:
        files = scan_folder(folder, False, on_error)
        masks = {p.stem[: -len("_mask")]: p for p in files if p.stem.endswith("_mask")}
        images = {p.stem: p for p in files if not p.stem.endswith("_mask")}
        if not images and not masks:
            report_problem(
                on_error, EmptyDatasetError(f"{folder}: empty patient folder."), str(folder)
            )
            continue
        for stem in sorted(set(masks) - set(images)):
            report_problem(
                on_error,
                MaskError(f"{masks[stem]}: mask without an image (expected {stem}.tif)."),
                str(masks[stem]),
            )
        order = []
        for stem, path in images.items():
            num = _numbered(stem)
            if num is None:
                report_problem(
                    on_error,
                    EmptyDatasetError(f"{path}: name does not end in _<slice number>."),
                    str(path),
                )
                continue
            order.append((num[1], stem, path))
        for n, stem, path in sorted(order):
            if stem not in masks:
                report_problem(
                    on_error,
                    MaskError(f"{path}: image without a mask (expected {stem}_mask{path.suffix})."),
                    str(path),
                )
                continue
            records.append(
                Record(
                    image=str(path),
                    mask=str(masks[stem]),
                    patient_id=folder.name,
                    source=str(path),
                    meta={"slice": n},
                )
            )
    if not records:
        raise EmptyDatasetError(f"{root}: no image/mask pair found.")
    return SliceDataset(records, name="lgg")


def load_pairs(
    root: str | os.PathLike[str],
    *,
    images: str = "images",
    masks: str = "masks",
    mask_name: str = "{stem}{ext}",
    mask_encoding: MaskEncoding = "binary",
    on_error: OnError = "raise",
) -> SliceDataset:
    """Load a generic ``images/`` + ``masks/`` layout.

    Args:
        root: The folder holding the two sub-folders.
        images: The image folder's name.
        masks: The mask folder's name.
        mask_name: The mask file name for an image ``<stem><ext>``, as a format string
            with ``{stem}`` and ``{ext}`` (e.g. ``"{stem}_mask.png"``).
        mask_encoding: How the mask files store labels (see :class:`Record`).
        on_error: ``"raise"``, ``"skip"`` or a list collecting
            :class:`~neuroseg.data.Problem` entries (missing pairs; non-image files,
            sub-folders and dangling links: :class:`~neuroseg.errors.FolderLayoutError`).

    Returns:
        Records sorted by file name (numerically where names are numbers), no patient ID.

    Raises:
        EmptyDatasetError: A missing or empty image folder.
        MaskError: An image without a mask, or a mask without an image.
        ConfigError: ``mask_name`` is not a pattern of ``{stem}`` and ``{ext}``.

    Example:
        >>> from neuroseg.data import load_pairs
        >>> ds = load_pairs("data", mask_name="{stem}_mask.png")  # doctest: +SKIP
    """
    check_on_error(on_error)
    root = Path(root)
    image_dir, mask_dir = root / images, root / masks
    for d in (image_dir, mask_dir):
        if not d.is_dir():
            raise EmptyDatasetError(f"{d}: folder not found (expected {images}/ and {masks}/).")
    _check_mask_name(mask_name)
    files = scan_folder(image_dir, False, on_error)
    if not files:
        raise EmptyDatasetError(f"{image_dir}: empty folder (no image).")
    files.sort(key=lambda p: (0, int(p.stem), "") if p.stem.isdigit() else (1, 0, p.name))
    expected: set[str] = set()
    records = []
    for f in files:
        m = mask_dir / mask_name.format(stem=f.stem, ext=f.suffix)
        expected.add(m.name)
        if not m.is_file():
            report_problem(
                on_error, MaskError(f"{f}: image without a mask (expected {m})."), str(f)
            )
            continue
        records.append(
            Record(image=str(f), mask=str(m), source=str(f), mask_encoding=mask_encoding)
        )
    for m in scan_folder(mask_dir, False, on_error):
        if m.name not in expected:
            report_problem(on_error, MaskError(f"{m}: mask without an image."), str(m))
    if not records:
        raise EmptyDatasetError(f"{root}: no image/mask pair found.")
    return SliceDataset(records, name=f"pairs:{root.name}")
