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

from neuroseg.data.classes import CLASS_ALIASES, CLASS_NAMES, canonical_class_name
from neuroseg.data.problems import OnError, check_on_error, report_problem
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import ConfigError, EmptyDatasetError, FolderLayoutError, UnknownNameError

__all__ = ["IMAGE_SUFFIXES", "load_class_folders", "scan_folder"]

#: File suffixes read as 2-D images.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

_SPLITS = {"training": "training", "train": "training", "testing": "testing", "test": "testing"}


def scan_folder(folder: Path, recursive: bool, on_error: OnError) -> list[Path]:
    """The image files of ``folder``; every other entry is reported (hidden ones ignored).

    Sub-folders are read with ``recursive``, else reported; non-image files and dangling
    links are reported. Nothing is skipped without a :class:`~neuroseg.data.Problem`.
    """
    found: list[Path] = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_symlink() and not p.exists():
            err = FolderLayoutError(
                f"{p}: a dangling link (its target {os.readlink(p)} does not exist). Restore "
                "the target or remove the link."
            )
            report_problem(on_error, err, str(p))
        elif p.is_dir():
            if recursive:
                found += scan_folder(p, recursive, on_error)
            else:
                err = FolderLayoutError(
                    f"{p}: a sub-folder inside the image folder {folder}. Move its images "
                    "up, or pass recursive=True (--recursive) to read sub-folders too."
                )
                report_problem(on_error, err, str(p))
        elif p.suffix.lower() in IMAGE_SUFFIXES:
            found.append(p)
        else:
            err = FolderLayoutError(
                f"{p}: not an image file ({p.suffix or 'no suffix'}; neuroseg reads "
                f"{', '.join(IMAGE_SUFFIXES)}). Remove or convert it."
            )
            report_problem(on_error, err, str(p))
    return found


def _class_from_folder_name(name: str) -> str | None:
    key = name.strip().lower().replace(" ", "_")
    for alias in sorted(CLASS_ALIASES, key=len, reverse=True):
        if key == alias or key.endswith(("-" + alias, "_" + alias)):
            return CLASS_ALIASES[alias]
    return None


def load_class_folders(
    root: str | os.PathLike[str],
    *,
    split: str | None = None,
    class_name: str | None = None,
    recursive: bool = False,
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
        recursive: Read images in sub-folders of a class folder (or of a flat folder)
            too. By default a sub-folder there is a problem, never skipped silently.
        on_error: ``"raise"``, ``"skip"`` (log each skipped file or folder and go on) or
            a list collecting :class:`~neuroseg.data.Problem` entries: unknown class
            folders, class folders that are aliases of one class, sub-folders, non-image
            files and dangling links.

    Returns:
        The :class:`SliceDataset` with canonical class labels.

    Raises:
        UnknownNameError: A folder name is not a known class; the message lists the names.
        FolderLayoutError: Two class folders name one class (``no_tumor/`` and
            ``notumor/``), a sub-folder without ``recursive``, a non-image file or a
            dangling link (each names the path).
        EmptyDatasetError: No image found.
        ConfigError: A flat folder whose class cannot be told from its name, and no
            ``class_name``; or an unknown ``split``.

    Example:
        >>> from neuroseg.data import load_class_folders
        >>> ds = load_class_folders("Brain-Tumor-MRI/Testing")  # doctest: +SKIP
    """
    check_on_error(on_error)
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
        for p in sorted(root.iterdir()):
            if not p.name.startswith(".") and p not in split_dirs:
                err = FolderLayoutError(
                    f"{p}: next to the split folders {', '.join(d.name for d in split_dirs)}, "
                    "but not one of them. Move or remove it."
                )
                report_problem(on_error, err, str(p))
        for d in chosen:
            records += _load_classes(d, _SPLITS[d.name.lower()], recursive, on_error)
    elif subdirs:
        records += _load_classes(root, None, recursive, on_error)
    else:
        files = scan_folder(root, recursive, on_error)
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


def _load_classes(
    folder: Path, split: str | None, recursive: bool, on_error: OnError
) -> list[Record]:
    records = []
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        report_problem(
            on_error, EmptyDatasetError(f"{folder}: empty folder (no class folder)."), str(folder)
        )
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.is_dir():
            continue
        what = "a dangling link" if p.is_symlink() and not p.exists() else "a file"
        stray = FolderLayoutError(
            f"{p}: {what} among the class folders of {folder}; images belong in a class "
            "folder. Move or remove it."
        )
        report_problem(on_error, stray, str(p))
    by_class: dict[str, list[Path]] = {}
    for d in classes:
        try:
            name = canonical_class_name(d.name)
        except UnknownNameError as exc:
            known = ", ".join(sorted(CLASS_ALIASES))
            unknown = UnknownNameError(
                f"{d}: unknown class folder {d.name!r}. Known class names and aliases: "
                f"{known}. Rename or remove the folder."
            )
            if on_error == "raise":
                raise unknown from exc
            report_problem(on_error, unknown, str(d))
            continue
        by_class.setdefault(name, []).append(d)
    for name, dirs in by_class.items():
        if len(dirs) > 1:
            shown = " and ".join(f"{d.name}/" for d in dirs)
            collision = FolderLayoutError(
                f"{folder}: class folders {shown} both name the class {name!r}; their images "
                f"would be merged. Merge them into one folder yourself or remove one "
                f"(only {dirs[0].name}/ is read when problems are skipped)."
            )
            for d in dirs[1:]:
                report_problem(on_error, collision, str(d))
    for d in classes:
        found = next((n for n, ds in by_class.items() if d in ds), None)
        if found is None or by_class[found][0] != d:
            continue
        label = CLASS_NAMES.index(found)
        files = scan_folder(d, recursive, on_error)
        if not files:
            report_problem(on_error, EmptyDatasetError(f"{d}: empty class folder."), str(d))
        meta = {} if split is None else {"split": split}
        records += [
            Record(image=str(f), label=label, source=str(f), meta=dict(meta)) for f in files
        ]
    return records
