"""DICOM series → volumes and 2-D slices (the ``dicom`` extra: ``pip install 'neuroseg[dicom]'``).

A series folder (single-frame files in any order and under any names, or one multi-frame
enhanced file) reads as one volume:

- the frames are sorted by their ``ImagePositionPatient`` projected on the slice normal
  (the cross product of the two ``ImageOrientationPatient`` directions), never by file
  name or ``InstanceNumber``;
- ``RescaleSlope`` / ``RescaleIntercept`` (or the enhanced ``PixelValueTransformation``)
  are applied;
- the voxel spacing (``PixelSpacing`` and the distance between positions) and the
  orientation are kept in a RAS+ affine built from the DICOM (LPS) geometry;
- compressed transfer syntaxes are decoded by pydicom's optional decoders when they are
  installed, and refused with an error naming the transfer syntax and the package
  otherwise.

The volume then goes through the same reorientation as a NIfTI volume
(:class:`~neuroseg.data.orientation.VolumeOrientation`): closest canonical RAS+ orientation,
axial slices in the radiological convention. A series and the NIfTI made from it give the
same slices, and :meth:`DicomVolume.to_frames` maps a mask predicted on those slices back
onto the DICOM frames exactly (for a DICOM Segmentation,
:func:`neuroseg.inference.write_dicom_seg`).

Bad series raise :class:`~neuroseg.errors.DicomError` naming the file and the problem:
several series in one folder (choose one with ``series_uid``), missing or duplicated
positions, uneven spacing (a missing slice), slices of different sizes, spacing or
orientation, non-image objects (structured reports, segmentations, presentation states)
and images without pixel data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg._optional import require
from neuroseg.data.orientation import VolumeOrientation
from neuroseg.data.problems import OnError, check_on_error, report_problem
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import DicomError, EmptyDatasetError, FolderLayoutError, ReadError

__all__ = [
    "DICOM_SUFFIXES",
    "DicomSeriesInfo",
    "DicomVolume",
    "find_dicom_series",
    "is_dicom_file",
    "is_dicom_series_folder",
    "list_dicom_series",
    "load_dicom",
    "read_dicom_series",
]

#: File name endings taken as DICOM without looking inside (files with other names, or
#: none, are DICOM when they carry the ``DICM`` marker after the 128-byte preamble).
DICOM_SUFFIXES = (".dcm", ".dicom", ".ima")

#: SOP class UID prefixes of objects that hold no image to predict on.
_NON_IMAGE = {
    "1.2.840.10008.5.1.4.1.1.88.": "structured report",
    "1.2.840.10008.5.1.4.1.1.66.": "segmentation / registration / raw data object",
    "1.2.840.10008.5.1.4.1.1.11.": "presentation state",
    "1.2.840.10008.5.1.4.1.1.481.3": "RT structure set",
    "1.2.840.10008.5.1.4.1.1.104.": "encapsulated document",
    "1.2.840.10008.5.1.4.1.1.9.": "waveform",
}

#: Transfer syntax UID prefix -> the packages whose decoders pydicom uses for it.
_DECODERS = {
    "1.2.840.10008.1.2.4.5": "pylibjpeg pylibjpeg-libjpeg",  # JPEG baseline/extended
    "1.2.840.10008.1.2.4.7": "pylibjpeg pylibjpeg-libjpeg",  # JPEG lossless
    "1.2.840.10008.1.2.4.8": "pyjpegls",  # JPEG-LS
    "1.2.840.10008.1.2.4.9": "pylibjpeg pylibjpeg-openjpeg",  # JPEG 2000
    "1.2.840.10008.1.2.4.20": "pylibjpeg pylibjpeg-openjpeg",  # HTJ2K
}

_TOL = 1e-3  # mm (positions, spacing) and direction cosines


def _pydicom() -> Any:
    return require("pydicom", extra="dicom", purpose="reading DICOM")


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """Whether a file is DICOM: a ``.dcm``-like name or the ``DICM`` marker at byte 128.

    Example:
        >>> is_dicom_file("scan.png")
        False
    """
    p = Path(path)
    if p.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with open(p, "rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def is_dicom_series_folder(path: str | os.PathLike[str]) -> bool:
    """Whether a folder directly holds DICOM files (it is then one input: a series).

    Example:
        >>> from neuroseg.data import sample_dir
        >>> is_dicom_series_folder(sample_dir())
        False
    """
    p = Path(path)
    return p.is_dir() and any(
        f.is_file()
        and not f.name.startswith(".")
        and f.name.upper() != "DICOMDIR"
        and (f.suffix.lower() in DICOM_SUFFIXES or not f.suffix or f.suffix[1:].isdigit())
        and is_dicom_file(f)
        for f in p.iterdir()
    )


def _candidates(folder: Path, *, recursive: bool = True) -> tuple[list[Path], list[Path]]:
    """``(DICOM files, other files)`` in ``folder`` (and below it with ``recursive``).

    Hidden entries and ``DICOMDIR`` are left aside.
    """
    dicom: list[Path] = []
    other: list[Path] = []
    for f in sorted(folder.rglob("*") if recursive else folder.iterdir()):
        if any(part.startswith(".") for part in f.relative_to(folder).parts):
            continue
        if f.is_symlink() and not f.exists():
            other.append(f)
        elif f.is_file() and f.name.upper() != "DICOMDIR":
            (dicom if is_dicom_file(f) else other).append(f)
    return dicom, other


def find_dicom_series(
    path: str | os.PathLike[str], *, on_error: OnError = "raise"
) -> dict[str, list[Path]]:
    """The DICOM files under a folder (or the one file), grouped by ``SeriesInstanceUID``.

    Only headers are read. A file that is not DICOM (no ``.dcm``-like name, no ``DICM``
    marker), a dangling link and an unreadable DICOM header are problems: raised, or
    with ``on_error="skip"``/a list, reported and left out (``DICOMDIR`` and hidden files
    are ignored).

    Raises:
        ReadError: The path does not exist, or a file is not readable DICOM.
        FolderLayoutError: A file that is not DICOM lies among the series' files.
        EmptyDatasetError: No DICOM file found.
    """
    return {uid: [f for f, _ in heads] for uid, heads in _series_heads(path, on_error).items()}


def _series_heads(
    path: str | os.PathLike[str], on_error: OnError
) -> dict[str, list[tuple[Path, Any]]]:
    """:func:`find_dicom_series` with each file's header (read once, no pixel data)."""
    _pydicom()  # MissingDependencyError before looking at any file
    check_on_error(on_error)
    p = Path(path)
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files, other = _candidates(p)
        for f in other if files else []:  # no DICOM at all: the error below says so
            what = "a dangling link" if f.is_symlink() else "not a DICOM file"
            report_problem(
                on_error,
                FolderLayoutError(
                    f"{f}: {what} (no .dcm name, no DICM marker) among DICOM series; move it "
                    "out of the folder, or skip it (on_error='skip')."
                ),
                str(f),
            )
    else:
        raise ReadError(f"{p}: no such file or folder.")
    if not files:
        raise EmptyDatasetError(
            f"{p}: no DICOM file (.dcm, or a file with the DICM marker) in this folder or "
            "below it. Point at the folder that holds the series."
        )
    return _group(files, on_error)


def _group(files: Sequence[Path], on_error: OnError) -> dict[str, list[tuple[Path, Any]]]:
    """``files`` grouped by ``SeriesInstanceUID``, each with its header (no pixel data)."""
    pydicom = _pydicom()
    series: dict[str, list[tuple[Path, Any]]] = {}
    for f in files:
        try:
            ds = pydicom.dcmread(str(f), stop_before_pixels=True)
        except Exception as exc:  # pydicom raises many types for damaged files
            error = ReadError(f"{f}: not a readable DICOM file ({exc}). Remove or replace it.")
            if on_error == "raise":
                raise error from exc
            report_problem(on_error, error, str(f))
            continue
        series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((f, ds))
    return series


@dataclass(frozen=True)
class DicomSeriesInfo:
    """One DICOM series found by :func:`list_dicom_series` (from headers only).

    Attributes:
        uid: The ``SeriesInstanceUID`` (``""`` for files without one).
        files: Its files, in path order.
        number: The ``SeriesNumber``, when set.
        description: The ``SeriesDescription`` (else the ``Modality``; ``""`` when neither).
        non_image: What the series is when it holds no image to predict on (a DICOM
            Segmentation, structured report, presentation state, ...: its kind and SOP
            class, from its first file), else ``None``.
    """

    uid: str
    files: tuple[Path, ...]
    number: int | None
    description: str
    non_image: str | None

    @property
    def folder(self) -> Path:
        """The deepest folder that holds all of the series' files."""
        return Path(os.path.commonpath([f.parent for f in self.files]))


def list_dicom_series(
    path: str | os.PathLike[str], *, recursive: bool = True
) -> list[DicomSeriesInfo]:
    """The DICOM series in a folder, image series and non-image objects alike.

    Only headers are read. Unlike :func:`find_dicom_series`, files that are not DICOM
    (images, NIfTI, notes beside the series) are no problem: they belong to no series
    and are left out, as are ``DICOMDIR`` and hidden files. A non-image object (a SEG,
    an SR, ...) is listed with :attr:`DicomSeriesInfo.non_image` set; each series can be
    read with ``read_dicom_series(series.folder, series_uid=series.uid)``.

    Args:
        path: A folder, or one DICOM file.
        recursive: Also look in the folder's sub-folders (at any depth); ``False`` takes
            the files directly in it only.

    Returns:
        The series in the order of their first files' paths (empty when there is no
        DICOM file).

    Raises:
        ReadError: The path does not exist, or a DICOM file's header is not readable.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> (series,) = list_dicom_series(get_testdata_file("MR_small.dcm"))
        >>> series.number, len(series.files), series.non_image
        (1, 1, None)
    """
    p = Path(path)
    if p.is_file():
        files = [p] if is_dicom_file(p) else []
    elif p.is_dir():
        files = _candidates(p, recursive=recursive)[0]
    else:
        raise ReadError(f"{p}: no such file or folder.")
    out = []
    for uid, heads in _group(files, "raise").items():
        ds = heads[0][1]
        number = ds.get("SeriesNumber")
        out.append(
            DicomSeriesInfo(
                uid=uid,
                files=tuple(f for f, _ in heads),
                number=None if number in (None, "") else int(number),
                description=str(ds.get("SeriesDescription", "") or ds.get("Modality", "") or ""),
                non_image=_non_image(ds),
            )
        )
    return out


def _non_image(ds: Any) -> str | None:
    uid = str(ds.get("SOPClassUID", ""))
    for prefix, what in _NON_IMAGE.items():
        if uid.startswith(prefix):
            name = getattr(ds.SOPClassUID, "name", uid)
            return f"{what} ({name}, SOP class {uid})"
    return None


def _describe(files: Sequence[Path], ds: Any) -> str:
    desc = str(ds.get("SeriesDescription", "")) or str(ds.get("Modality", "?"))
    kind = _non_image(ds)
    return f"{desc!r}, {len(files)} file(s)" + (f", {kind}" if kind else "")


def _choose(
    path: Path, groups: dict[str, list[tuple[Path, Any]]], series_uid: str | None
) -> tuple[str, list[Path]]:
    """The series to read (``series_uid``, else the only image series) and its files."""
    heads = {uid: h[0][1] for uid, h in groups.items()}
    files = {uid: [f for f, _ in h] for uid, h in groups.items()}
    listing = "; ".join(f"{uid or '(none)'}: {_describe(files[uid], heads[uid])}" for uid in files)
    if series_uid is not None:
        if series_uid not in files:
            raise DicomError(
                f"{path}: no series with SeriesInstanceUID {series_uid}. The series here: "
                f"{listing}."
            )
        return series_uid, files[series_uid]
    images = [uid for uid in files if _non_image(heads[uid]) is None]
    if len(images) > 1:
        raise DicomError(
            f"{path}: mixed series: this folder holds {len(images)} image series ({listing}). "
            "Choose one with series_uid=... (neuroseg: the series' own sub-folder), or move "
            "each series into its own folder."
        )
    if not images:
        uid = next(iter(files))
        raise DicomError(
            f"{files[uid][0]}: a non-image object, {_non_image(heads[uid])}, not an image "
            "series: it has no pixel data to predict on. Point at the image series instead."
        )
    return images[0], files[images[0]]


def _item(ds: Any, i: int, sequence: str) -> Any:
    """The functional group ``sequence`` of frame ``i``: per-frame first, then shared."""
    for groups, index in (
        ("PerFrameFunctionalGroupsSequence", i),
        ("SharedFunctionalGroupsSequence", 0),
    ):
        seq = ds.get(groups)
        if seq is not None and len(seq) > index and sequence in seq[index]:
            inner = seq[index].get(sequence)
            if inner:
                return inner[0]
    return None


@dataclass
class _Frame:
    file: Path
    index: int  # dataset index in the series
    number: int  # 1-based frame number in its dataset
    position: np.ndarray | None
    orientation: np.ndarray | None
    spacing: np.ndarray | None
    shape: tuple[int, int]
    slope: float
    intercept: float


def _frames(ds: Any, f: Path, index: int) -> list[_Frame]:
    n = int(ds.get("NumberOfFrames", 1) or 1)
    enhanced = "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds
    out = []
    for i in range(n):
        if enhanced:
            pos = _item(ds, i, "PlanePositionSequence")
            ori = _item(ds, i, "PlaneOrientationSequence")
            mea = _item(ds, i, "PixelMeasuresSequence")
            pvt = _item(ds, i, "PixelValueTransformationSequence")
            position = pos.get("ImagePositionPatient") if pos is not None else None
            orientation = ori.get("ImageOrientationPatient") if ori is not None else None
            spacing = mea.get("PixelSpacing") if mea is not None else None
            rescale = pvt if pvt is not None else ds
        else:
            position = ds.get("ImagePositionPatient") if n == 1 else None
            orientation = ds.get("ImageOrientationPatient")
            spacing = ds.get("PixelSpacing")
            rescale = ds
        out.append(
            _Frame(
                file=f,
                index=index,
                number=i + 1,
                position=None if position is None else np.asarray(position, np.float64),
                orientation=None if orientation is None else np.asarray(orientation, np.float64),
                spacing=None if spacing is None else np.asarray(spacing, np.float64),
                shape=(int(ds.get("Rows", 0)), int(ds.get("Columns", 0))),
                slope=float(rescale.get("RescaleSlope", 1.0) or 1.0),
                intercept=float(rescale.get("RescaleIntercept", 0.0) or 0.0),
            )
        )
    return out


def _pixels(ds: Any, f: Path) -> np.ndarray:
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise DicomError(
            f"{f}: no pixel data: this {getattr(ds.get('SOPClassUID'), 'name', 'object')} "
            "holds only a header (Pixel Data (7FE0,0010) is missing). Remove it from the "
            "series or export the series again with its images."
        )
    if int(ds.get("SamplesPerPixel", 1)) != 1:
        raise DicomError(
            f"{f}: a colour image ({ds.get('PhotometricInterpretation')}, "
            f"{ds.get('SamplesPerPixel')} samples per pixel), not a grey MR/CT image."
        )
    try:
        return np.asarray(ds.pixel_array)
    except Exception as exc:  # pydicom raises RuntimeError/NotImplementedError/ValueError
        meta = getattr(ds, "file_meta", None)
        ts = meta.get("TransferSyntaxUID") if meta is not None else None
        if ts is not None and getattr(ts, "is_compressed", False):
            package = next(
                (v for k, v in _DECODERS.items() if str(ts).startswith(k)), "pylibjpeg gdcm"
            )
            raise DicomError(
                f"{f}: cannot decode the compressed pixel data: transfer syntax "
                f"{getattr(ts, 'name', ts)} ({ts}) needs a decoder that is not installed. "
                f"Install it with: pip install {package} (or decompress the series first, "
                "e.g. with dcmdjpeg/gdcmconv)."
            ) from exc
        raise ReadError(
            f"{f}: cannot read the pixel data ({exc}). Export the series again."
        ) from exc


def _check_same(frames: list[_Frame], attr: str, what: str, fix: str) -> None:
    ref = frames[0]
    for fr in frames[1:]:
        a, b = getattr(ref, attr), getattr(fr, attr)
        same = a == b if attr == "shape" else np.allclose(a, b, atol=_TOL)
        if not same:
            raise DicomError(
                f"{fr.file}: inconsistent {what}: {_fmt(b)} here but {_fmt(a)} in "
                f"{ref.file.name}. {fix}"
            )


def _fmt(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return "[" + ", ".join(f"{x:g}" for x in v) + "]"
    return str(v)


@dataclass(frozen=True, eq=False)
class DicomVolume:
    """A DICOM series read as one volume.

    Attributes:
        voxels: ``(rows, columns, frames)`` float32 values (rescale applied), the frames
            sorted along the slice normal.
        affine: The RAS+ ``(4, 4)`` affine of ``voxels`` (as a NIfTI affine), from
            ``ImagePositionPatient``, ``ImageOrientationPatient`` and ``PixelSpacing``.
        datasets: The source pydicom datasets (pixel data included), in series order: one
            per file.
        frames: For each sorted frame ``k``, ``(dataset index, 1-based frame number)``.
        spacing: ``(row, column, slice)`` spacing in mm (the slice spacing from positions).
        series_uid: The ``SeriesInstanceUID``.
        orientation_patient: The series' ``ImageOrientationPatient`` (row, column
            direction cosines, LPS).
        source: The folder or file read.
        orientation: The reorientation to neuroseg's slice frame (shared with NIfTI).
    """

    voxels: np.ndarray
    affine: np.ndarray
    datasets: tuple[Any, ...]
    frames: tuple[tuple[int, int], ...]
    spacing: tuple[float, float, float]
    series_uid: str
    orientation_patient: tuple[float, ...]
    source: str
    orientation: VolumeOrientation = field(repr=False)

    @property
    def patient_id(self) -> str | None:
        """The ``PatientID`` of the series, when set."""
        pid = str(self.datasets[0].get("PatientID", "") or "")
        return pid or None

    @property
    def sorted_datasets(self) -> list[Any]:
        """The dataset of each sorted frame (a multi-frame file repeats)."""
        return [self.datasets[d] for d, _ in self.frames]

    def to_slices(self) -> np.ndarray:
        """``(H, W, D)`` axial slices in neuroseg's frame (radiological convention).

        The same slices :func:`~neuroseg.data.load_nifti` cuts from the NIfTI of this series.
        """
        return self.orientation.to_slices(self.voxels)

    def slice_spacing(self) -> tuple[float, float, float]:
        """``(row, col, thickness)`` in mm of :meth:`to_slices`'s slices."""
        return self.orientation.slice_spacing(self.spacing)

    def to_frames(self, stack: np.ndarray) -> np.ndarray:
        """Undo :meth:`to_slices`: an ``(H, W, D)`` stack as ``(frames, rows, columns)``.

        Frame ``k`` lies on sorted frame ``k`` (``frames[k]`` names its dataset and frame
        number), pixel for pixel.

        Raises:
            DataError: The stack's shape does not fit the volume.
        """
        return np.moveaxis(self.orientation.to_source(np.asarray(stack)), -1, 0)


def _affine(
    orientation: np.ndarray, spacing: np.ndarray, first: np.ndarray, step: np.ndarray
) -> np.ndarray:
    row_dir, col_dir = orientation[:3], orientation[3:]
    lps = np.eye(4)
    lps[:3, 0] = col_dir * spacing[0]  # voxel axis 0: down the rows
    lps[:3, 1] = row_dir * spacing[1]  # voxel axis 1: along a row
    lps[:3, 2] = step
    lps[:3, 3] = first
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps  # LPS -> RAS


def _volume_from(source: Path, datasets: list[Any], files: list[Path]) -> DicomVolume:
    frames: list[_Frame] = []
    for i, (ds, f) in enumerate(zip(datasets, files)):
        frames.extend(_frames(ds, f, i))
    for fr in frames:
        if fr.position is None or fr.position.shape != (3,):
            where = f" (frame {fr.number})" if fr.number > 1 else ""
            raise DicomError(
                f"{fr.file}{where}: missing slice position (ImagePositionPatient), so the "
                "slice cannot be placed in the volume. Export the series again with its "
                "geometry, or remove the file."
            )
        if fr.orientation is None or fr.orientation.shape != (6,) or fr.spacing is None:
            raise DicomError(
                f"{fr.file}: missing ImageOrientationPatient or PixelSpacing, so the slice "
                "has no geometry. Export the series again with its geometry."
            )
    fix = "All slices of a series must match: remove the stray file or split the series."
    _check_same(frames, "shape", "image size (rows, columns)", fix)
    _check_same(frames, "spacing", "pixel spacing (PixelSpacing)", fix)
    _check_same(frames, "orientation", "orientation (ImageOrientationPatient)", fix)
    ori = frames[0].orientation
    assert ori is not None and frames[0].spacing is not None
    normal = np.cross(ori[:3], ori[3:])
    dist = np.array([float(np.dot(fr.position, normal)) for fr in frames])  # type: ignore[arg-type]
    order = np.argsort(dist, kind="stable")
    frames = [frames[i] for i in order]
    dist = dist[order]
    gaps = np.diff(dist)
    for k in np.flatnonzero(gaps < _TOL):
        a, b = frames[k], frames[k + 1]
        raise DicomError(
            f"{b.file}: duplicated slice position: it lies at {_fmt(b.position)} like "
            f"{a.file.name}{f' frame {a.number}' if a.number > 1 else ''}. Remove the "
            "duplicate (a repeated or second acquisition), or split the series."
        )
    positions = np.stack([fr.position for fr in frames])  # type: ignore[misc]
    if len(frames) > 1:
        med = float(np.median(gaps))
        step = (positions[-1] - positions[0]) / (len(frames) - 1)
        off = np.abs(gaps - med) > max(_TOL, 0.01 * med)
        steps = np.diff(positions, axis=0)
        skew = np.linalg.norm(steps - step, axis=1) > max(_TOL, 0.01 * float(np.linalg.norm(step)))
        if off.any() or skew.any():
            j = int(np.flatnonzero(off if off.any() else skew)[0])
            hint = (
                f"about {gaps[j] / med:.1f} slices apart: a slice is missing"
                if off[j] and gaps[j] > 1.5 * med
                else "the slices do not lie evenly along one line"
            )
            raise DicomError(
                f"{frames[j + 1].file}: missing slice or uneven spacing: {gaps[j]:g} mm from "
                f"{frames[j].file.name} while the slices are {med:g} mm apart ({hint}). Add the "
                "missing file, or remove the stray one."
            )
    else:
        ds0 = datasets[frames[0].index]
        thick = ds0.get("SpacingBetweenSlices") or ds0.get("SliceThickness") or 1.0
        step = normal * float(thick)
    pixels: dict[int, np.ndarray] = {}
    for i, (ds, f) in enumerate(zip(datasets, files)):
        pixels[i] = _pixels(ds, f)
    stack = []
    for fr in frames:
        arr = pixels[fr.index]
        plane = arr[fr.number - 1] if arr.ndim == 3 else arr
        if plane.shape != fr.shape:
            raise DicomError(
                f"{fr.file}: the pixel data is {plane.shape} but Rows/Columns say {fr.shape}."
            )
        stack.append(plane.astype(np.float64) * fr.slope + fr.intercept)
    voxels = np.stack(stack, axis=-1).astype(np.float32)
    if not np.isfinite(voxels).all():
        raise DicomError(f"{source}: the series holds NaN/inf values after rescaling.")
    spacing = frames[0].spacing
    assert spacing is not None  # checked above
    affine = _affine(ori, spacing, positions[0], np.asarray(step, np.float64))
    orientation = VolumeOrientation.from_affine(affine, voxels.shape)
    return DicomVolume(
        voxels=voxels,
        affine=affine,
        datasets=tuple(datasets),
        frames=tuple((fr.index, fr.number) for fr in frames),
        spacing=(float(spacing[0]), float(spacing[1]), float(np.linalg.norm(step))),
        series_uid=str(datasets[0].get("SeriesInstanceUID", "")),
        orientation_patient=tuple(float(x) for x in ori),
        source=str(source),
        orientation=orientation,
    )


def read_dicom_series(
    path: str | os.PathLike[str], *, series_uid: str | None = None
) -> DicomVolume:
    """Read a DICOM series (a folder of files, or one file) as a volume.

    Args:
        path: A series folder (searched recursively; a file that is not DICOM among
            the series' files is a :class:`~neuroseg.errors.FolderLayoutError`), a
            folder of several series together with ``series_uid``, or one DICOM file (a
            multi-frame file is a whole volume, a single-frame file a one-slice volume).
        series_uid: The ``SeriesInstanceUID`` to read when the folder holds several
            (:func:`list_dicom_series` lists them). Files that are not DICOM beside
            them are then left out; a DICOM file whose header is unreadable still
            raises, as it may be a slice of the chosen series.

    Returns:
        The :class:`DicomVolume`; ``to_slices()`` gives neuroseg's slices.

    Raises:
        MissingDependencyError: pydicom (or nibabel) is not installed.
        DicomError: A bad series (mixed series, missing or duplicated positions, uneven
            spacing, inconsistent sizes, spacing or orientation, a non-image object, no
            pixel data, an undecodable compressed transfer syntax).
        ReadError: A damaged file.
        FolderLayoutError: A file that is not DICOM among the series' files (without
            ``series_uid``).
        EmptyDatasetError: No DICOM file found.

    Example:
        >>> from neuroseg.data.dicom import read_dicom_series
        >>> from pydicom.data import get_testdata_file
        >>> vol = read_dicom_series(get_testdata_file("MR_small.dcm"))
        >>> vol.voxels.shape, vol.to_slices().shape
        ((64, 64, 1), (64, 64, 1))
    """
    require("nibabel", extra="dicom", purpose="reorienting DICOM volumes")
    p = Path(path)
    if series_uid is not None and p.is_dir():
        # a folder of several series (and perhaps images or notes beside them): only its
        # DICOM files are candidates; the chosen series must still be whole and readable
        dicom = _candidates(p)[0]
        if not dicom:
            find_dicom_series(p)  # raises EmptyDatasetError, naming the folder
        groups = _group(dicom, "raise")
    else:
        groups = _series_heads(p, "raise")
    _, files = _choose(p, groups, series_uid)
    return _read_files(p, files)


def _read_files(source: Path, files: list[Path]) -> DicomVolume:
    pydicom = _pydicom()
    datasets = []
    for f in files:
        try:
            ds = pydicom.dcmread(str(f))
        except Exception as exc:  # pydicom raises many types for damaged files
            raise ReadError(
                f"{f}: not a readable DICOM file ({exc}). Remove or replace it."
            ) from exc
        kind = _non_image(ds)
        if kind is not None:
            raise DicomError(
                f"{f}: a non-image object, {kind}, inside the image series: it has no pixel "
                "data to predict on. Move it out of the series folder."
            )
        datasets.append(ds)
    return _volume_from(source, datasets, files)


def load_dicom(
    root: str | os.PathLike[str],
    *,
    series_uid: str | None = None,
    on_error: OnError = "raise",
) -> SliceDataset:
    """Load every DICOM image series under a folder as 2-D slices (no masks).

    Each series (grouped by ``SeriesInstanceUID``, whatever the folders) is read with
    :func:`read_dicom_series` and cut into neuroseg's slices, like
    :func:`~neuroseg.data.load_nifti`. Non-image objects (SR, SEG, presentation states)
    are skipped.

    Args:
        root: A series folder, a folder of series, or one DICOM file.
        series_uid: Load only this series.
        on_error: ``"raise"``, ``"skip"`` or a list collecting problems (one per bad series).

    Returns:
        Records with float32 ``(H, W, 1)`` images, ``patient_id`` = ``PatientID``,
        ``spacing`` and ``meta = {"series_uid", "slice", "volume"}``.

    Raises:
        DicomError: A bad series (with ``on_error="raise"``).
        EmptyDatasetError: No image series found.

    Example:
        >>> from neuroseg.data import load_dataset
        >>> from pydicom.data import get_testdata_file
        >>> len(load_dataset("dicom", get_testdata_file("MR_small.dcm")))
        1
    """
    check_on_error(on_error)
    _pydicom()  # MissingDependencyError before any file is read
    require("nibabel", extra="dicom", purpose="reorienting DICOM volumes")
    root = Path(root)
    groups = _series_heads(root, on_error)
    if series_uid is not None:
        _choose(root, groups, series_uid)
        groups = {series_uid: groups[series_uid]}
    records: list[Record] = []
    for uid, heads in groups.items():
        files = [f for f, _ in heads]
        if _non_image(heads[0][1]) is not None and len(groups) > 1:
            continue
        try:
            vol = _read_files(root if len(groups) == 1 else files[0].parent, files)
        except (DicomError, ReadError) as exc:
            report_problem(on_error, exc, str(files[0].parent))
            continue
        slices = vol.to_slices()
        row, col, _ = vol.slice_spacing()
        for k in range(slices.shape[2]):
            records.append(
                Record(
                    image=slices[:, :, k, None],
                    patient_id=vol.patient_id,
                    spacing=(row, col),
                    source=f"{files[0].parent}#{k}",
                    meta={"series_uid": uid, "slice": k, "volume": str(files[0].parent)},
                )
            )
    if not records:
        raise EmptyDatasetError(f"{root}: no image series read.")
    return SliceDataset(records, name="dicom")
