"""Loader for class-folder layouts (the Kaggle 4-class sets) and single-class folders.

Accepted layouts::

    root/{Training,Testing}/{glioma,meningioma,notumor,pituitary}/*.jpg
    root/{glioma_tumor,no_tumor,...}/*.jpg          (class folders only)
    root/*.jpg                                      (one flat folder of one class)

Folder names map to :data:`~neuroseg.data.CLASS_NAMES` through
:func:`~neuroseg.data.canonical_class_name` (``glioma_tumor``, ``notumor``, ``no-tumor``, …).
These sets carry no patient IDs: records get ``patient_id=None``.
"""

from __future__ import annotations

import os
from pathlib import Path

from neuroseg.data.classes import _ALIASES, CLASS_NAMES, canonical_class_name
from neuroseg.data.problems import OnError, _report, _validate
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import ConfigError, EmptyDatasetError, UnknownNameError

__all__ = ["IMAGE_SUFFIXES", "load_class_folders"]

#: File suffixes read as 2-D images.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

_SPLITS = {"training": "training", "train": "training", "testing": "testing", "test": "testing"}


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _class_from_folder_name(name: str) -> str | None:
    key = name.strip().lower().replace(" ", "_")
    for alias in sorted(_ALIASES, key=len, reverse=True):
        if key == alias or key.endswith(("-" + alias, "_" + alias)):
            return _ALIASES[alias]
    return None


def load_class_folders(
    root: str | os.PathLike[str],
    *,
    split: str | None = None,
    class_name: str | None = None,
    on_error: OnError = "raise",
) -> SliceDataset:
    """Load images sorted into one folder per class.

    Args:
        root: The dataset root (with ``Training/``/``Testing/``), a folder of class
            folders, or one flat folder of images of a single class.
        split: With ``Training/``/``Testing/``, load only ``"training"`` or ``"testing"``.
            By default both are loaded and each record's ``meta["split"]`` says which.
        class_name: The class of a flat folder. By default it is read from the folder's
            name when that ends with a known alias (``br35h-no-tumor`` → ``no_tumor``).
        on_error: ``"raise"``, ``"skip"`` or a list collecting
            :class:`~neuroseg.data.Problem` entries (unknown class folders, non-image files).

    Returns:
        The :class:`SliceDataset` with canonical class labels.

    Raises:
        UnknownNameError: A folder name is not a known class; the message lists the names.
        EmptyDatasetError: No image found.
        ConfigError: A flat folder whose class cannot be told from its name, and no
            ``class_name``; or an unknown ``split``.

    Example:
        >>> from neuroseg.data import load_class_folders
        >>> ds = load_class_folders("Brain-Tumor-MRI/Testing")  # doctest: +SKIP
    """
    _validate(on_error)
    root = Path(root)
    if not root.is_dir():
        raise EmptyDatasetError(f"{root}: not a folder.")
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    split_dirs = [p for p in subdirs if p.name.lower() in _SPLITS]
    if split is not None and split.lower() not in _SPLITS:
        raise ConfigError(f"Unknown split {split!r}; use 'training' or 'testing'.")
    records: list[Record] = []
    if split_dirs:
        chosen = [
            p for p in split_dirs if split is None or _SPLITS[p.name.lower()] == _SPLITS[split]
        ]
        for d in chosen:
            records += _load_classes(d, _SPLITS[d.name.lower()], on_error)
    elif subdirs:
        records += _load_classes(root, None, on_error)
    else:
        files = _images(root)
        if not files:
            raise EmptyDatasetError(f"{root}: empty folder (no image and no class folder).")
        name = class_name or _class_from_folder_name(root.name)
        if name is None:
            raise ConfigError(
                f"{root}: a flat folder of images, but its class cannot be told from its "
                f"name. Pass class_name= (one of {', '.join(CLASS_NAMES)})."
            )
        label = CLASS_NAMES.index(canonical_class_name(name))
        records = [Record(image=str(f), label=label, source=str(f)) for f in files]
    if not records:
        raise EmptyDatasetError(f"{root}: no image found in the class folders.")
    return SliceDataset(records, name=f"class-folders:{root.name}")


def _load_classes(folder: Path, split: str | None, on_error: OnError) -> list[Record]:
    records = []
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        _report(
            on_error, EmptyDatasetError(f"{folder}: empty folder (no class folder)."), str(folder)
        )
    for d in classes:
        try:
            label = CLASS_NAMES.index(canonical_class_name(d.name))
        except UnknownNameError as exc:
            known = ", ".join(sorted(_ALIASES))
            err = UnknownNameError(
                f"{d}: unknown class folder {d.name!r}. Known class names and aliases: "
                f"{known}. Rename or remove the folder."
            )
            if on_error == "raise":
                raise err from exc
            _report(on_error, err, str(d))
            continue
        files = _images(d)
        if not files:
            _report(on_error, EmptyDatasetError(f"{d}: empty class folder."), str(d))
        others = [p for p in d.iterdir() if p.is_file() and p.suffix.lower() not in IMAGE_SUFFIXES]
        for p in others:
            if p.name.startswith(".") or p.suffix.lower() in (".txt", ".md", ".csv"):
                continue
            _report(
                on_error,
                EmptyDatasetError(f"{p}: not an image file ({p.suffix}); remove or convert it."),
                str(p),
            )
        meta = {} if split is None else {"split": split}
        records += [
            Record(image=str(f), label=label, source=str(f), meta=dict(meta)) for f in files
        ]
    return records
