"""NIfTI volumes → 2-D slices (needs the ``nifti`` extra: ``pip install 'neuroseg[nifti]'``).

Layout (TCIA Brain-Tumor-Progression)::

    root/{patient}/Pre_Scan_T1.nii.gz    image volume
    root/{patient}/Pre_Mask.nii.gz       its mask (name from the ``mask_rule``)

Volumes are reoriented to the closest canonical (RAS+) orientation with nibabel, whatever
their stored orientation (TCIA's are LPS), then cut along ``axis`` (0 sagittal,
1 coronal, 2 axial). Each slice is shown in the radiological convention: the patient's
right on the image's left, anterior (axial) or superior (coronal, sagittal) at the top.
The in-plane voxel spacing is kept on each record.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from neuroseg._optional import require
from neuroseg.data.problems import OnError, check_on_error, report_problem
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import (
    ConfigError,
    DataError,
    EmptyDatasetError,
    MaskError,
    PixelValueError,
    ReadError,
)

__all__ = ["load_nifti", "volume_to_slices"]

SliceSelection = Literal["all", "tumour"] | float


def _load_volume(path: Path) -> tuple[np.ndarray, tuple[float, float, float], np.ndarray]:
    """The canonical (RAS+) volume, its voxel sizes and the file's own affine."""
    nib = require("nibabel", extra="nifti", purpose="reading NIfTI volumes")
    try:
        with np.errstate(invalid="ignore", divide="ignore"):  # NaN affines: refused
            raw = nib.load(str(path))
            affine = np.asarray(raw.affine, dtype=np.float64)
            if not np.isfinite(affine).all():
                raise DataError(
                    f"{path}: the NIfTI affine (voxel-to-world matrix) holds NaN or inf; fix the "
                    "header (qform/sform) before use."
                )
            img = nib.as_closest_canonical(raw)
            data = np.asarray(img.dataobj, dtype=np.float32)
    except DataError:
        raise
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise ReadError(f"{path}: cannot read the NIfTI volume ({exc}). Re-download it.") from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise DataError(f"{path}: expected a 3-D volume, got shape {data.shape}.")
    if not np.isfinite(data).all():
        n = int((~np.isfinite(data)).sum())
        raise PixelValueError(
            f"{path}: the volume holds {n} NaN/inf voxel(s). Fix or mask them first."
        )
    zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
    if not all(np.isfinite(z) and z > 0 for z in zooms):
        raise DataError(
            f"{path}: voxel spacing {zooms} is not finite and positive; fix the header's "
            "pixdim before use (volumes in mm would be wrong)."
        )
    return data, (zooms[0], zooms[1], zooms[2]), affine


def _cut(volume: np.ndarray, axis: int, k: int) -> np.ndarray:
    s = np.take(volume, k, axis=axis)  # (a, b): the two remaining RAS axes in order
    return np.ascontiguousarray(s.T[::-1, ::-1])


def volume_to_slices(volume: np.ndarray, *, axis: int = 2) -> list[np.ndarray]:
    """Cut a canonical (RAS+) volume into radiological-convention 2-D slices.

    Example:
        >>> import numpy as np
        >>> tuple(s.shape for s in volume_to_slices(np.zeros((4, 5, 2)), axis=2))
        ((5, 4), (5, 4))
    """
    if axis not in (0, 1, 2):
        raise ConfigError(f"axis must be 0, 1 or 2, got {axis}.")
    return [_cut(volume, axis, k) for k in range(volume.shape[axis])]


def load_nifti(
    root: str | os.PathLike[str],
    *,
    image_glob: str = "*_Scan_*.nii*",
    mask_rule: tuple[str, str] = ("_Scan_T1", "_Mask"),
    axis: int = 2,
    slices: SliceSelection = "all",
    seed: int = 0,
    on_error: OnError = "raise",
) -> SliceDataset:
    """Load image + mask NIfTI volumes as 2-D slices held in memory.

    Args:
        root: The folder of patient folders (each patient's volumes under ``root/<id>/``).
        image_glob: Which files are image volumes (searched recursively).
        mask_rule: ``(old, new)``: the mask's file name is the image's with ``old``
            replaced by ``new``.
        axis: Slicing axis of the canonical volume: 0 sagittal, 1 coronal, 2 axial.
        slices: ``"all"``, ``"tumour"`` (slices with a non-empty mask) or a float ``r``:
            every tumour slice plus ``round(r × n_tumour)`` empty slices drawn at random
            (seeded), per volume.
        seed: Seed for the empty-slice draw.
        on_error: ``"raise"``, ``"skip"`` or a list collecting problems.

    Returns:
        Records with float32 ``(H, W, 1)`` images, uint8 masks, ``patient_id`` = the
        patient folder, ``spacing`` = in-plane ``(row, col)`` mm and
        ``meta = {"volume", "slice", "axis"}``.

    Raises:
        MissingDependencyError: nibabel is not installed.
        EmptyDatasetError: No image volume found.
        DataError: An unreadable volume (:class:`~neuroseg.errors.ReadError`), NaN/inf
            voxels (:class:`~neuroseg.errors.PixelValueError`), NaN/inf or non-positive
            voxel spacing or affine, or a mask whose shape, affine or values (not 0/1)
            differ (:class:`~neuroseg.errors.MaskError`).

    Example:
        >>> from neuroseg.data import load_nifti
        >>> ds = load_nifti("../shared/data/tcia-brain-tumor-progression",
        ...                 slices="tumour")  # doctest: +SKIP
    """
    check_on_error(on_error)
    if isinstance(slices, str) and slices not in ("all", "tumour", "tumor"):
        raise ConfigError(f"slices must be 'all', 'tumour' or a float ratio, got {slices!r}.")
    if not isinstance(slices, str) and not slices >= 0:
        raise ConfigError(f"the empty-slice ratio must be >= 0, got {slices!r}.")
    if axis not in (0, 1, 2):
        raise ConfigError(f"axis must be 0, 1 or 2, got {axis}.")
    require("nibabel", extra="nifti", purpose="reading NIfTI volumes")
    root = Path(root)
    images = sorted(p for p in root.rglob(image_glob) if mask_rule[1] not in p.name)
    if not images:
        raise EmptyDatasetError(f"{root}: no NIfTI volume matching {image_glob!r}.")
    rng = np.random.default_rng(seed)
    records: list[Record] = []
    for path in images:
        mask_path = path.with_name(path.name.replace(mask_rule[0], mask_rule[1]))
        if mask_path == path or not mask_path.is_file():
            report_problem(
                on_error,
                MaskError(f"{path}: image without a mask (expected {mask_path})."),
                str(path),
            )
            continue
        try:
            volume, zooms, affine = _load_volume(path)
            mvol, _, maffine = _load_volume(mask_path)
            if mvol.shape != volume.shape:
                raise MaskError(
                    f"{mask_path}: mask volume is {mvol.shape} but its image is {volume.shape}."
                )
            if not np.allclose(affine, maffine, rtol=1e-4, atol=1e-3):
                raise MaskError(
                    f"{mask_path}: the mask's affine (voxel-to-world matrix) differs from its "
                    f"image's {path.name}, so its voxels would lie elsewhere (e.g. mirrored). "
                    "Resample or re-save the mask in the image's space."
                )
            if not np.isin(mvol, (0.0, 1.0)).all():
                raise MaskError(f"{mask_path}: mask volume holds values other than 0/1.")
        except DataError as exc:
            report_problem(on_error, exc, str(path))
            continue
        rest = [a for a in (0, 1, 2) if a != axis]
        spacing = (zooms[rest[1]], zooms[rest[0]])
        tumour = mvol.sum(axis=tuple(rest)) > 0
        idx = np.arange(volume.shape[axis])
        if slices == "all":
            keep = idx
        else:
            keep = idx[tumour]
            if not isinstance(slices, str):
                empty = idx[~tumour]
                n = min(len(empty), round(float(slices) * len(keep)))
                keep = np.sort(np.concatenate([keep, rng.choice(empty, n, replace=False)]))
        rel = path.relative_to(root)
        patient = rel.parts[0] if len(rel.parts) > 1 else root.name  # root is one patient
        for k in keep:
            records.append(
                Record(
                    image=_cut(volume, axis, int(k))[..., None],
                    mask=_cut(mvol, axis, int(k)).astype(np.uint8),
                    patient_id=patient,
                    spacing=spacing,
                    source=f"{path}#{axis}:{int(k)}",
                    meta={"volume": str(path), "slice": int(k), "axis": axis},
                )
            )
    if not records:
        raise EmptyDatasetError(f"{root}: no slice selected.")
    return SliceDataset(records, name="nifti")
