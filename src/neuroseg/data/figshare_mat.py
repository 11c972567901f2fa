"""Loader for the original Figshare release of Cheng et al.: MATLAB v7.3 ``N.mat`` files.

Each file is an HDF5 file holding a struct ``cjdata`` with ``image`` (int16, 512×512),
``tumorMask``, ``tumorBorder``, ``label`` (1 = meningioma, 2 = glioma, 3 = pituitary) and
``PID`` (the patient ID, stored as a MATLAB char array). MATLAB writes arrays
column-major, so h5py returns the transpose; :func:`read_mat_slice` transposes back.
Images keep their integer values (int16 is never wrapped into uint8); the pipeline
normalises them like any other image.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.classes import CLASS_NAMES
from neuroseg.data.problems import OnError, check_on_error, report_problem
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import DataError, EmptyDatasetError, MaskError, PixelValueError, ReadError

__all__ = ["MatSlice", "load_figshare_mat", "read_mat_slice"]

_LABELS = {1: "meningioma", 2: "glioma", 3: "pituitary"}


@dataclass(frozen=True)
class MatSlice:
    """The content of one Cheng ``.mat`` file, in image orientation.

    Attributes:
        image: ``(H, W, 1)`` image with the file's integer values.
        mask: ``(H, W)`` uint8 0/1 tumour mask (``None`` only when annotations were not
            required and the file has none).
        label: Cheng's label (1 meningioma, 2 glioma, 3 pituitary), or ``None`` likewise.
        patient_id: The ``PID`` string, or ``None`` likewise.
    """

    image: np.ndarray
    mask: np.ndarray | None
    label: int | None
    patient_id: str | None


def _char(dataset: Any) -> str:
    """Decode a MATLAB char array (uint16 code units, any orientation) to a string."""
    codes = np.asarray(dataset[()]).ravel()
    return "".join(chr(int(c)) for c in codes if int(c) != 0).strip()


def _label(p: Path, dataset: Any) -> int:
    """``cjdata.label`` as an int; an empty, multi-valued or fractional label raises."""
    values = np.asarray(dataset[()]).ravel()
    if values.size != 1:
        raise ReadError(
            f"{p}: cjdata.label holds {values.size} values; expected one (1 meningioma, "
            "2 glioma, 3 pituitary). The file is damaged; re-download it."
        )
    value = values[0]
    if values.dtype.kind not in "iuf" or not np.isfinite(value) or value != int(value):
        raise ReadError(f"{p}: cjdata.label is {value!r}; expected an integer 1, 2 or 3.")
    return int(value)


def read_mat_slice(path: str | os.PathLike[str], *, require_annotations: bool = True) -> MatSlice:
    """Read one MATLAB v7.3 file of Cheng's release.

    Args:
        path: The ``.mat`` file.
        require_annotations: Require ``tumorMask``, ``label`` and ``PID`` (as in the
            published files). ``False`` accepts a file with only ``cjdata.image``, e.g. a
            new scan to predict on; absent fields are ``None``.

    Returns:
        The :class:`MatSlice`.

    Raises:
        ReadError: Not an HDF5 (v7.3) MAT file, or no ``cjdata`` struct.
        MaskError: The mask's shape differs from the image's, or it is not binary.

    Example:
        >>> from neuroseg.data import read_mat_slice
        >>> read_mat_slice("missing.mat")  # doctest: +SKIP
    """
    import h5py

    p = Path(path)
    if not p.is_file():
        raise ReadError(f"{p}: no such file.")
    try:
        with h5py.File(p, "r") as fh:
            if "cjdata" not in fh:
                raise ReadError(
                    f"{p}: no 'cjdata' struct; expected a file of Cheng's Figshare release."
                )
            cj = fh["cjdata"]
            needed = ("image", "tumorMask", "label", "PID") if require_annotations else ("image",)
            missing = [k for k in needed if k not in cj]
            if missing:
                raise ReadError(f"{p}: cjdata lacks {missing}; the file is incomplete.")
            # MATLAB writes column-major arrays, so h5py sees the transpose.
            image = np.asarray(cj["image"][()]).T
            mask = np.asarray(cj["tumorMask"][()]).T if "tumorMask" in cj else None
            label = _label(p, cj["label"]) if "label" in cj else None
            pid = _char(cj["PID"]) if "PID" in cj else None
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReadError(
            f"{p}: cannot read it as a MATLAB v7.3 (HDF5) file ({exc}). Older MAT versions "
            "are not supported; re-save it with save(..., '-v7.3')."
        ) from exc
    if image.ndim != 2 or image.size == 0:
        raise ReadError(f"{p}: cjdata.image has shape {image.shape}; expected a 2-D slice.")
    if image.dtype.kind not in "iuf":
        raise ReadError(f"{p}: cjdata.image has dtype {image.dtype}; expected numbers.")
    if mask is not None and mask.shape != image.shape:
        raise MaskError(f"{p}: cjdata.tumorMask is {mask.shape} but the image is {image.shape}.")
    if mask is not None and not np.all(np.isin(mask, (0, 1))):
        raise MaskError(f"{p}: cjdata.tumorMask holds values other than 0/1.")
    if label is not None and label not in _LABELS:
        raise DataError(f"{p}: cjdata.label is {label}; expected one of {sorted(_LABELS)}.")
    if image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise PixelValueError(f"{p}: cjdata.image holds NaN or inf; fix or drop the file.")
        image = image.astype(np.float32)
    return MatSlice(
        image=np.ascontiguousarray(image)[..., None],
        mask=None if mask is None else np.ascontiguousarray(mask).astype(np.uint8),
        label=label,
        patient_id=(pid or "unknown") if require_annotations else (pid or None),
    )


def _read_mat_image(path: str | os.PathLike[str]) -> np.ndarray:
    """The ``(H, W, 1)`` image of a ``.mat`` file (the ``"figshare-mat"`` image reader)."""
    return read_mat_slice(path).image


def _read_mat_mask(
    path: str | os.PathLike[str], *, shape: tuple[int, int] | None = None
) -> np.ndarray:
    """The mask of a ``.mat`` file (the ``"figshare-mat"`` mask reader).

    ``shape`` is unused: :func:`read_mat_slice` checks the mask against the file's image.
    """
    mask = read_mat_slice(path).mask
    if mask is None:  # read_mat_slice already requires tumorMask; kept for the type
        raise MaskError(f"{path}: cjdata has no tumorMask.")
    return mask


def _read_meta(p: Path) -> tuple[int, str]:
    """Read only ``label`` and ``PID`` (cheap: the image is not decoded)."""
    import h5py

    try:
        with h5py.File(p, "r") as fh:
            cj = fh.get("cjdata")
            if cj is None or "label" not in cj or "PID" not in cj:
                raise ReadError(
                    f"{p}: no cjdata.label/PID; expected a file of Cheng's Figshare release."
                )
            label = _label(p, cj["label"])
            pid = _char(cj["PID"])
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReadError(
            f"{p}: cannot read it as a MATLAB v7.3 (HDF5) file ({exc}). Re-save it with "
            "save(..., '-v7.3') or re-download it."
        ) from exc
    if label not in _LABELS:
        raise DataError(f"{p}: cjdata.label is {label}; expected one of {sorted(_LABELS)}.")
    return label, pid or "unknown"


def _index(path: Path) -> int:
    m = re.fullmatch(r"(\d+)", path.stem)
    return int(m.group(1)) if m else -1


def load_figshare_mat(root: str | os.PathLike[str], *, on_error: OnError = "raise") -> SliceDataset:
    """Load a folder of Cheng's original ``N.mat`` files (searched recursively).

    Every file is opened once to read its label and ``PID``; images are read lazily.
    Records get ``patient_id = "cheng-<PID>"``, so splits are truly patient-wise.

    Args:
        root: The folder with ``1.mat … 3064.mat`` (or one ``.mat`` file).
        on_error: ``"raise"``, ``"skip"`` or a list collecting
            :class:`~neuroseg.data.Problem` entries.

    Returns:
        The :class:`SliceDataset`, ordered by file number.

    Raises:
        EmptyDatasetError: No ``.mat`` file found.
        ReadError: An unreadable file (unless ``on_error`` says otherwise).

    Example:
        >>> from neuroseg.data import load_dataset
        >>> ds = load_dataset("figshare-mat", "brainTumorDataPublic")  # doctest: +SKIP
    """
    check_on_error(on_error)
    root = Path(root)
    files = [root] if root.is_file() else sorted(root.rglob("*.mat"), key=lambda f: (_index(f), f))
    files = [f for f in files if f.name.lower() != "cvind.mat"]
    if not files:
        raise EmptyDatasetError(f"{root}: no .mat file found. Expected Cheng's N.mat files.")
    records = []
    for f in files:
        try:
            label, pid = _read_meta(f)
        except DataError as exc:
            report_problem(on_error, exc, str(f))
            continue
        records.append(
            Record(
                image=str(f),
                mask=str(f),
                label=CLASS_NAMES.index(_LABELS[label]),
                patient_id=f"cheng-{pid}",
                source=str(f),
                meta={"index": _index(f), "pid": pid},
            )
        )
    return SliceDataset(records, name="figshare-mat")
