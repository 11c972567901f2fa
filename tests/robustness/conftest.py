"""Builders of bad inputs made from REAL files of ../shared/data, written into tmp_path.

Each builder takes the destination folder and returns what the corpus test needs: a
dataset folder in some layout and the file (or folder) whose fault must be named.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FIG = DATA / "figshare-cheng"
BR35H = DATA / "br35h-no-tumor"
LGG = DATA / "lgg-kaggle3m"
TCIA = DATA / "tcia-brain-tumor-progression"


def fig_image(i: int = 7) -> np.ndarray:
    """A real Figshare slice, 256x256 uint8 grey."""
    return cv2.imread(str(FIG / "images" / f"{i}.png"), cv2.IMREAD_UNCHANGED)


def fig_mask(i: int = 7) -> np.ndarray:
    """Its real 0/255 tumour mask."""
    return cv2.imread(str(FIG / "masks" / f"{i}.png"), cv2.IMREAD_UNCHANGED)


def br35h_jpeg(k: int = 0) -> Path:
    """The ``k``-th real Br35H JPEG (RGB)."""
    return [p for p in sorted(BR35H.glob("*.jpg"))[:20] if p.read_bytes()[:2] == b"\xff\xd8"][k]


def lgg_pair() -> tuple[Path, Path]:
    """A real LGG slice TIFF (256x256x3) and its mask with tumour pixels."""
    for patient in sorted(p for p in LGG.iterdir() if p.is_dir()):
        for mask in sorted(patient.glob("*_mask.tif")):
            if cv2.imread(str(mask), cv2.IMREAD_UNCHANGED).max() > 0:
                return mask.with_name(mask.name.replace("_mask", "")), mask
    raise AssertionError("no LGG slice with tumour")


@dataclass
class Built:
    """A built bad input: the dataset ``root`` in ``layout``, and the file to be named."""

    root: Path
    named: Path
    layout: str = "pairs"
    kwargs: dict[str, Any] = field(default_factory=dict)
    role: str = "image"  # which file is bad: "image", "mask" or "folder"


def pairs_folder(
    dest: Path,
    *,
    image: np.ndarray | bytes | Path | None = None,
    mask: np.ndarray | bytes | Path | None = None,
    image_ext: str = ".png",
    mask_ext: str = ".png",
    good: bool = True,
) -> tuple[Path, Path, Path]:
    """``dest/images/1<ext>`` + ``dest/masks/1<ext>`` (+ a good real pair ``2.png``).

    Arrays are written with OpenCV, bytes as they are, paths copied. Missing parts are
    the real Figshare slice 7 and its mask.
    """
    (dest / "images").mkdir(parents=True)
    (dest / "masks").mkdir()
    ip, mp = dest / "images" / f"1{image_ext}", dest / "masks" / f"1{mask_ext}"
    for path, content, default in ((ip, image, fig_image()), (mp, mask, fig_mask())):
        content = default if content is None else content
        if isinstance(content, Path):
            shutil.copy(content, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            assert cv2.imwrite(str(path), content), path
    if good:
        cv2.imwrite(str(dest / "images" / f"2{image_ext}"), fig_image(8)) if image_ext in (
            ".png",
            ".tif",
            ".bmp",
        ) else shutil.copy(br35h_jpeg(1), dest / "images" / f"2{image_ext}")
        good_image = cv2.imread(str(dest / "images" / f"2{image_ext}"), cv2.IMREAD_UNCHANGED)
        m = np.zeros(good_image.shape[:2], np.uint8)
        m[10:20, 10:20] = 255
        cv2.imwrite(str(dest / "masks" / f"2{mask_ext}"), m)
    return dest, ip, mp


def figshare_folder(dest: Path, rows: list[str] | None = None, n: int = 3) -> Path:
    """A Figshare layout with real slices 1..n and ``metadata.csv`` rows (default: real)."""
    (dest / "images").mkdir(parents=True)
    (dest / "masks").mkdir()
    real = {
        line.split(",")[0]: line for line in (FIG / "metadata.csv").read_text().splitlines()[1:]
    }
    for i in range(1, n + 1):
        shutil.copy(FIG / "images" / f"{i}.png", dest / "images" / f"{i}.png")
        shutil.copy(FIG / "masks" / f"{i}.png", dest / "masks" / f"{i}.png")
    if rows is None:
        rows = [real[str(i)] for i in range(1, n + 1)]
    (dest / "metadata.csv").write_text("\n".join(["index,label,label_name,cv_fold", *rows]) + "\n")
    return dest


def real_row(i: int) -> list[str]:
    """The real metadata.csv row of slice ``i``, split into its fields."""
    for line in (FIG / "metadata.csv").read_text().splitlines()[1:]:
        if line.split(",")[0] == str(i):
            return line.split(",")
    raise KeyError(i)


def class_folders(dest: Path, names: tuple[str, ...] = ("glioma", "no_tumor")) -> Path:
    """Class folders holding real images: Figshare PNGs and a Br35H JPEG."""
    for k, name in enumerate(names):
        (dest / name).mkdir(parents=True)
        if "tumo" in name and name.startswith("no"):
            shutil.copy(br35h_jpeg(), dest / name / f"n{k}.jpg")
        else:
            shutil.copy(FIG / "images" / f"{k + 1}.png", dest / name / f"g{k}.png")
    return dest


def lgg_folder(dest: Path) -> tuple[Path, Path, Path]:
    """One real LGG patient folder holding one slice and its mask."""
    image, mask = lgg_pair()
    patient = dest / image.parent.name
    patient.mkdir(parents=True)
    shutil.copy(image, patient / image.name)
    shutil.copy(mask, patient / mask.name)
    return dest, patient / image.name, patient / mask.name


def nifti_folder(dest: Path, edit: Callable[[Any, Any], tuple[Any, Any]] | None = None) -> Path:
    """A TCIA patient folder: a real T1 volume and its mask (cropped to 16 slices).

    ``edit(image_nifti, mask_nifti)`` may return replaced images.
    """
    nib = pytest.importorskip("nibabel")
    patient = dest / "01"
    patient.mkdir(parents=True)
    img = nib.load(str(TCIA / "01" / "Pre_Scan_T1.nii.gz"))
    msk = nib.load(str(TCIA / "01" / "Pre_Mask.nii.gz"))
    tumour = np.flatnonzero(np.asarray(msk.dataobj).sum(axis=(0, 1)) > 0)
    k = int(tumour[len(tumour) // 2])
    lo = max(k - 8, 0)
    img, msk = img.slicer[:, :, lo : lo + 16], msk.slicer[:, :, lo : lo + 16]
    if edit is not None:
        img, msk = edit(img, msk)
    nib.save(img, str(patient / "Pre_Scan_T1.nii.gz"))
    nib.save(msk, str(patient / "Pre_Mask.nii.gz"))
    return dest


def mat_file(path: Path, **fields: Any) -> Path:
    """A Cheng-style MATLAB v7.3 file from real Figshare slice 7 (fields override)."""
    import h5py

    image = fig_image().astype(np.int16)
    mask = (fig_mask() > 0).astype(np.uint8)
    values: dict[str, Any] = {
        "image": image.T,
        "tumorMask": mask.T,
        "label": np.array([[2.0]]),
        "PID": np.array([[ord(c)] for c in "MR0001"], np.uint16),
    }
    values.update(fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as fh:
        cj = fh.create_group("cjdata")
        for key, value in values.items():
            if value is not None:
                cj.create_dataset(key, data=value)
    return path
