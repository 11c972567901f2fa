"""Reading inputs for prediction: 2-D image files, NIfTI volumes and Figshare ``.mat`` files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.io import read_image
from neuroseg.errors import ReadError

__all__ = ["IMAGE_SUFFIXES", "NIFTI_SUFFIXES", "Scan", "read_scan"]

#: 2-D image files read with :func:`neuroseg.data.read_image`.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: NIfTI volumes, read with nibabel (extra ``nifti``).
NIFTI_SUFFIXES = (".nii", ".nii.gz")


@dataclass(frozen=True, eq=False)
class Scan:
    """An input to predict on: one 2-D image or one 3-D volume.

    Attributes:
        image: ``(H, W, C)`` for a 2-D image; ``(X, Y, Z)`` for a volume (slices along the
            last axis, in the file's own voxel order).
        is_volume: ``True`` for a 3-D volume.
        spacing: Pixel spacing ``(row, col)`` in mm, when the file records it.
        slice_thickness: Distance between slices in mm (volumes), when known.
        truth: A ground-truth mask stored with the image (Figshare ``.mat``), else ``None``.
        label: A class label stored with the image (Figshare's 1/2/3), else ``None``.
        patient_id: The patient, when the file records it.
        source: Where the scan came from.
        meta: Free-form extra fields.
    """

    image: np.ndarray
    is_volume: bool = False
    spacing: tuple[float, float] | None = None
    slice_thickness: float | None = None
    truth: np.ndarray | None = None
    label: int | None = None
    patient_id: str | None = None
    source: str = "array"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def slices(self) -> list[np.ndarray]:
        """The 2-D ``(H, W, C)`` slices (one for a 2-D image)."""
        if not self.is_volume:
            return [self.image]
        return [self.image[:, :, k, None] for k in range(self.image.shape[2])]


def _is_nifti(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in NIFTI_SUFFIXES)


def _read_nifti(path: Path) -> Scan:
    from neuroseg._optional import require

    nib = require("nibabel", extra="nifti", purpose=f"reading {path.name}")
    try:
        img = nib.load(str(path))
        data = np.asarray(img.get_fdata(dtype=np.float32))
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise ReadError(f"{path}: cannot read the NIfTI file ({exc}).") from exc
    zooms = [float(z) for z in img.header.get_zooms()]
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim == 2:
        return Scan(data[..., None], spacing=(zooms[0], zooms[1]), source=str(path))
    if data.ndim != 3:
        raise ReadError(
            f"{path}: expected a 2-D or 3-D NIfTI image, got shape {data.shape}. Split 4-D "
            "series into one file per volume."
        )
    return Scan(
        data,
        is_volume=True,
        spacing=(zooms[0], zooms[1]),
        slice_thickness=zooms[2],
        source=str(path),
        meta={"affine": np.asarray(img.affine)},
    )


def _read_mat(path: Path) -> Scan:
    from neuroseg.data.figshare_mat import read_mat_slice

    mat = read_mat_slice(path, require_annotations=False)
    return Scan(
        mat.image, truth=mat.mask, label=mat.label, patient_id=mat.patient_id, source=str(path)
    )


def read_scan(path: str | os.PathLike[str]) -> Scan:
    """Read a file to predict on.

    Supported: PNG/JPEG/TIFF/BMP (via :func:`neuroseg.data.read_image`), NIfTI
    ``.nii``/``.nii.gz`` (3-D volumes; needs the ``nifti`` extra) and the original Figshare
    MATLAB v7.3 ``.mat`` files (struct ``cjdata`` with ``image``, ``tumorMask``,
    ``label`` and ``PID``; arrays are transposed back from MATLAB's column-major layout).

    Args:
        path: The file.

    Returns:
        The :class:`Scan`.

    Raises:
        ReadError: Missing, corrupt or unsupported file.

    Example:
        >>> from neuroseg.data import sample_dir
        >>> read_scan(sample_dir() / "images" / "fs00.png").image.shape
        (256, 256, 1)
    """
    p = Path(path)
    if not p.is_file():
        raise ReadError(f"{p}: no such file.")
    suffix = p.suffix.lower()
    if _is_nifti(p):
        return _read_nifti(p)
    if suffix == ".mat":
        return _read_mat(p)
    if suffix in IMAGE_SUFFIXES:
        return Scan(read_image(p), source=str(p))
    raise ReadError(
        f"{p}: unsupported file type {suffix!r}. Supported: "
        f"{', '.join(IMAGE_SUFFIXES + NIFTI_SUFFIXES)}, .mat (Figshare v7.3)."
    )
