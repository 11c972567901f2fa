"""Reading inputs for prediction: 2-D image files, NIfTI volumes and Figshare ``.mat`` files."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.io import read_image, read_mask
from neuroseg.data.orientation import VolumeOrientation
from neuroseg.errors import ConfigError, DataError, MaskError, ReadError

__all__ = [
    "IMAGE_SUFFIXES",
    "NIFTI_SUFFIXES",
    "TRUTH_SUFFIXES",
    "Scan",
    "find_truth_file",
    "is_truth_file",
    "read_scan",
]

#: 2-D image files read with :func:`neuroseg.data.read_image`.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: NIfTI volumes, read with nibabel (extra ``nifti``).
NIFTI_SUFFIXES = (".nii", ".nii.gz")
#: Name endings of a truth mask stored beside its image: ``X_mask.tif`` (LGG
#: ``kaggle_3m``) or ``X_seg.png`` for the image ``X.tif`` / ``X.png``.
TRUTH_SUFFIXES = ("_mask", "_seg")


_SPACING_FIX = (
    "Fix the file's header (NIfTI pixdim), or give no spacing (spacing=None) to measure "
    "in pixels only."
)


def _positive(value: Any) -> bool:
    try:
        return math.isfinite(float(value)) and float(value) > 0
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True, eq=False)
class Scan:
    """An input to predict on: one 2-D image or one 3-D volume.

    Attributes:
        image: ``(H, W, C)`` for a 2-D image; ``(H, W, D)`` for a volume (slices along the
            last axis; a NIfTI volume is reoriented to the training frame: RAS+ canonical,
            axial slices in radiological convention, as :func:`neuroseg.data.load_nifti`
            cuts them).
        is_volume: ``True`` for a 3-D volume.
        spacing: Pixel spacing ``(row, col)`` in mm, when the file records it.
        slice_thickness: Distance between slices in mm (volumes), when known.
        truth: A binary ground-truth mask ``(H, W)`` (``uint8`` 0/1) that came with the
            image: stored in it (Figshare ``.mat``) or beside it (``X_mask.tif``, see
            :func:`find_truth_file`), else ``None``.
        label: A class label stored with the image (Figshare's 1/2/3), else ``None``.
        patient_id: The patient, when the file records it.
        source: Where the scan came from.
        meta: Free-form extra fields (``"truth_file"``: the mask file read as ``truth``;
            for a NIfTI volume ``"affine"``, the file's affine, and ``"orientation"``, the
            :class:`~neuroseg.data.orientation.VolumeOrientation` whose ``to_source`` puts a
            predicted ``(H, W, D)`` mask back in the file's voxel order).
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

    def __post_init__(self) -> None:
        # A NaN, infinite, zero or negative spacing would give NaN (invalid JSON) or
        # negative areas and volumes: refuse it by name.
        if self.spacing is not None and (
            len(self.spacing) != 2 or not all(_positive(v) for v in self.spacing)
        ):
            raise DataError(
                f"{self.source}: pixel spacing {tuple(self.spacing)} mm is not two finite "
                f"positive numbers, so areas cannot be measured. {_SPACING_FIX}"
            )
        if self.slice_thickness is not None and not _positive(self.slice_thickness):
            raise DataError(
                f"{self.source}: slice thickness {self.slice_thickness} mm is not a finite "
                f"positive number, so volumes cannot be measured. {_SPACING_FIX}"
            )

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
    # the training frame: RAS+ canonical, axial slices in radiological convention (as
    # neuroseg.data.load_nifti cuts them); meta["orientation"] maps masks back to the file
    try:
        orientation = VolumeOrientation.from_affine(img.affine, data.shape)
    except DataError as exc:
        raise ReadError(f"{path}: {exc}") from exc
    row, col, thickness = orientation.slice_spacing(tuple(zooms[:3]))
    return Scan(
        orientation.to_slices(data),
        is_volume=True,
        spacing=(row, col),
        slice_thickness=thickness,
        source=str(path),
        meta={"affine": np.asarray(img.affine), "orientation": orientation},
    )


def _is_dicom(path: Path) -> bool:
    from neuroseg.data.dicom import is_dicom_file

    return not _is_nifti(path) and is_dicom_file(path)


def _read_dicom(path: Path, series_uid: str | None) -> Scan:
    """A DICOM series folder or file, in the same slice frame as a NIfTI volume."""
    from neuroseg.data.dicom import read_dicom_series

    vol = read_dicom_series(path, series_uid=series_uid)
    row, col, thickness = vol.slice_spacing()
    return Scan(
        vol.to_slices(),
        is_volume=True,
        spacing=(row, col),
        slice_thickness=thickness,
        patient_id=vol.patient_id,
        source=str(path),
        meta={"affine": vol.affine, "orientation": vol.orientation, "dicom": vol},
    )


def _read_mat(path: Path) -> Scan:
    from neuroseg.data.figshare_mat import read_mat_slice

    mat = read_mat_slice(path, require_annotations=False)
    return Scan(
        mat.image, truth=mat.mask, label=mat.label, patient_id=mat.patient_id, source=str(path)
    )


def is_truth_file(path: str | os.PathLike[str]) -> bool:
    """Whether a file's name marks it as a truth mask (``X_mask.tif``, ``X_seg.nii.gz``).

    Example:
        >>> is_truth_file("TCGA_CS_4941_19960909_1_mask.tif"), is_truth_file("scan.nii.gz")
        (True, False)
    """
    name = Path(path).name.lower()
    for suffix in NIFTI_SUFFIXES[::-1]:  # ".nii.gz" before ".nii"
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        name = Path(name).stem
    return name.endswith(TRUTH_SUFFIXES)


def find_truth_file(path: str | os.PathLike[str]) -> Path | None:
    """The truth mask stored beside a 2-D image file, or ``None``.

    For ``X.tif`` it looks for ``X_mask.*`` and then ``X_seg.*`` in the same folder, with
    the image's own suffix first and then any of :data:`IMAGE_SUFFIXES` (so ``X.tif``
    finds the LGG ``kaggle_3m`` ``X_mask.tif``, and ``X.jpg`` finds ``X_mask.png``). A
    file whose own name ends in ``_mask`` or ``_seg`` has no truth.

    Example:
        >>> from neuroseg.data import sample_dir
        >>> find_truth_file(sample_dir() / "images" / "fs00.png") is None
        True
    """
    p = Path(path)
    if is_truth_file(p):
        return None
    suffixes = [p.suffix] + [s for s in IMAGE_SUFFIXES if s != p.suffix.lower()]
    for ending in TRUTH_SUFFIXES:
        for suffix in suffixes:
            for candidate in (
                p.with_name(f"{p.stem}{ending}{suffix}"),
                p.with_name(f"{p.stem}{ending}{suffix.upper()}"),
            ):
                if candidate.is_file():
                    return candidate
    return None


def _read_truth(mask_path: Path, image_path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Read and check the truth mask beside ``image_path`` (binary, same size)."""
    hint = (
        f"It was found beside {image_path.name} as its truth mask: fix or move it, or "
        "ignore truth masks (read_scan(..., find_truth=False); neuroseg predict --no-truth)."
    )
    try:
        return read_mask(mask_path, shape=shape)
    except MaskError as exc:
        raise MaskError(f"{exc} {hint}") from exc
    except ReadError as exc:
        raise ReadError(f"{exc} {hint}") from exc


def read_scan(
    path: str | os.PathLike[str], *, find_truth: bool = True, series_uid: str | None = None
) -> Scan:
    """Read a file to predict on.

    Supported: PNG/JPEG/TIFF/BMP (via :func:`neuroseg.data.read_image`), NIfTI
    ``.nii``/``.nii.gz`` (3-D volumes; needs the ``nifti`` extra) and the original Figshare
    MATLAB v7.3 ``.mat`` files (struct ``cjdata`` with ``image``, ``tumorMask``,
    ``label`` and ``PID``; arrays are transposed back from MATLAB's column-major layout),
    and DICOM: a series folder or a ``.dcm`` file (needs the ``dicom`` extra; read with
    :func:`neuroseg.data.dicom.read_dicom_series` into the same slice frame as NIfTI;
    ``meta["dicom"]`` holds the :class:`~neuroseg.data.dicom.DicomVolume`).

    A 2-D image with a truth mask beside it (``X_mask.tif`` for ``X.tif``, as in the LGG
    ``kaggle_3m`` layout, or ``X_mask.png`` / ``X_seg.png``; see :func:`find_truth_file`)
    gets that mask as :attr:`Scan.truth`, read with :func:`neuroseg.data.read_mask`: it
    must be single-channel, 0/255 or 0/1, and the image's size. Its path is
    ``scan.meta["truth_file"]``.

    Args:
        path: The file (or DICOM folder).
        find_truth: Look for a truth mask beside a 2-D image; ``False`` ignores it.
        series_uid: For DICOM only: the ``SeriesInstanceUID`` of the series to read, when
            the folder holds several (see :func:`neuroseg.data.dicom.list_dicom_series`).

    Returns:
        The :class:`Scan`.

    Raises:
        ReadError: Missing, corrupt or unsupported file (or truth mask file).
        MaskError: The truth mask beside the image is not binary or not the image's size.
        ConfigError: ``series_uid`` for a file that is not DICOM.

    Example:
        >>> from neuroseg.data import sample_dir
        >>> read_scan(sample_dir() / "images" / "fs00.png").image.shape
        (256, 256, 1)
    """
    p = Path(path)
    if p.is_dir() or (p.is_file() and _is_dicom(p)):
        return _read_dicom(p, series_uid)
    if not p.is_file():
        raise ReadError(f"{p}: no such file.")
    if series_uid is not None:
        raise ConfigError(
            f"{p}: series_uid={series_uid!r} is for a DICOM series; this file is not DICOM."
        )
    suffix = p.suffix.lower()
    if _is_nifti(p):
        return _read_nifti(p)
    if suffix == ".mat":
        return _read_mat(p)
    if suffix in IMAGE_SUFFIXES:
        image = read_image(p)
        truth_file = find_truth_file(p) if find_truth else None
        if truth_file is None:
            return Scan(image, source=str(p))
        truth = _read_truth(truth_file, p, (int(image.shape[0]), int(image.shape[1])))
        return Scan(image, truth=truth, source=str(p), meta={"truth_file": str(truth_file)})
    raise ReadError(
        f"{p}: unsupported file type {suffix!r}. Supported: "
        f"{', '.join(IMAGE_SUFFIXES + NIFTI_SUFFIXES)}, .mat (Figshare v7.3), DICOM (.dcm "
        "files or a series folder)."
    )
