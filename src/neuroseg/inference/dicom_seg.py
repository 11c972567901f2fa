"""DICOM outputs (the ``dicom`` extra): a DICOM Segmentation and a Secondary Capture overlay.

:func:`write_dicom_seg` writes the predicted mask of a DICOM series as a binary DICOM
Segmentation (highdicom) that references the source series image by image and carries
the segment description (label, category "Morphologically abnormal structure", type
"Neoplasm", automatic algorithm), the algorithm's name and version, and the source's
geometry. :func:`write_dicom_overlay` writes the same mask drawn on the images as a
Secondary Capture series, for viewers that cannot show SEG.

The mask comes back from :class:`~neuroseg.inference.Predictor` in neuroseg's slice
frame; :meth:`~neuroseg.data.dicom.DicomVolume.to_frames` maps it back onto the source
frames exactly (the inverse of the sorting and reorientation used to read the series).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg._optional import require
from neuroseg.data.dicom import DicomVolume
from neuroseg.errors import DicomError
from neuroseg.version import __version__

__all__ = ["write_dicom_outputs", "write_dicom_overlay", "write_dicom_seg"]


def _source(prediction: Any, source: DicomVolume | None) -> tuple[np.ndarray, DicomVolume]:
    mask = getattr(prediction, "mask", prediction)
    if source is None:
        source = getattr(prediction, "meta", {}).get("dicom")
    if not isinstance(source, DicomVolume):
        where = getattr(prediction, "source", "the input")
        raise DicomError(
            f"{where}: not read from DICOM, so there is no source series to write a DICOM "
            "output for. Predict on a DICOM series folder or file (neuroseg predict "
            "SERIES_FOLDER --format dicom-seg), or pass source=read_dicom_series(...)."
        )
    if mask is None:
        raise DicomError(
            f"{source.source}: the prediction has no mask (a classifier); DICOM outputs need "
            "a segmentation model."
        )
    frames = source.to_frames(np.asarray(mask) > 0)
    return frames.astype(np.uint8), source


def write_dicom_seg(
    prediction: Any,
    source: DicomVolume | None,
    path: str | os.PathLike[str],
    *,
    algorithm_name: str = "neuroseg",
    algorithm_version: str | None = None,
    segment_label: str = "tumour",
    series_number: int = 900,
    series_description: str = "neuroseg segmentation",
) -> Path:
    """Write a predicted mask as a binary DICOM Segmentation of its source series.

    Args:
        prediction: A :class:`~neuroseg.inference.Prediction` of a DICOM input (its
            ``meta["dicom"]`` is the source), or an ``(H, W, D)`` mask in neuroseg's slice
            frame (``DicomVolume.to_slices()``'s).
        source: The series read with :func:`~neuroseg.data.dicom.read_dicom_series`;
            ``None`` takes ``prediction.meta["dicom"]``.
        path: The ``.dcm`` file to write (folders are made).
        algorithm_name: The algorithm's name in the segment description (e.g. the model).
        algorithm_version: Its version; ``None`` is ``neuroseg.__version__``.
        segment_label: The segment's label.
        series_number: The new series' number.
        series_description: The new series' description.

    Returns:
        The path written.

    Raises:
        MissingDependencyError: highdicom is not installed.
        DicomError: The prediction has no DICOM source or no mask, or the source is
            several multi-frame files.

    Example:
        >>> from neuroseg.data.dicom import read_dicom_series
        >>> from pydicom.data import get_testdata_file
        >>> import numpy as np, tempfile, pathlib
        >>> vol = read_dicom_series(get_testdata_file("MR_small.dcm"))
        >>> mask = np.zeros(vol.to_slices().shape, np.uint8); mask[20:30, 20:30] = 1
        >>> out = write_dicom_seg(mask, vol, pathlib.Path(tempfile.mkdtemp()) / "seg.dcm")
        >>> import highdicom as hd
        >>> hd.seg.segread(out).get_segment_description(1).segment_label
        'tumour'
    """
    hd = require("highdicom", extra="dicom", purpose="writing DICOM Segmentations")
    from pydicom.sr.codedict import codes

    algorithm_name = algorithm_name[-64:]  # a long-string (LO) element
    frames, vol = _source(prediction, source)
    datasets = vol.sorted_datasets
    if len(vol.datasets) == 1 and len(datasets) > 1:  # one multi-frame file: its frame order
        images = [vol.datasets[0]]
        pixels = np.zeros_like(frames)
        for k, (_, number) in enumerate(vol.frames):
            pixels[number - 1] = frames[k]
    elif all(int(ds.get("NumberOfFrames", 1) or 1) == 1 for ds in vol.datasets):
        images, pixels = datasets, frames
    else:
        raise DicomError(
            f"{vol.source}: a series of several multi-frame files; write its mask as NIfTI "
            "instead, or convert the series to single-frame files."
        )
    version = algorithm_version or __version__
    algorithm = hd.AlgorithmIdentificationSequence(
        name=algorithm_name, version=version, family=codes.cid7162.ArtificialIntelligence
    )
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=segment_label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Neoplasm,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=algorithm,
    )
    seg = hd.seg.Segmentation(
        source_images=images,
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="neuroseg",
        manufacturer_model_name=algorithm_name,
        software_versions=version,
        device_serial_number="0",
        series_description=series_description,
        omit_empty_frames=False,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(str(out))
    return out


def _letter(direction: np.ndarray) -> str:
    """The DICOM patient-orientation letter (LPS) of a direction's largest component."""
    axis = int(np.argmax(np.abs(direction)))
    return ("L", "P", "H")[axis] if direction[axis] > 0 else ("R", "A", "F")[axis]


def write_dicom_overlay(
    prediction: Any,
    source: DicomVolume | None,
    folder: str | os.PathLike[str],
    *,
    series_number: int = 901,
    series_description: str = "neuroseg overlay",
) -> list[Path]:
    """Write the mask drawn on the images as a Secondary Capture series (one file a frame).

    For viewers that cannot show a DICOM Segmentation: each source frame becomes an RGB
    picture (the image windowed to its 1st–99th percentile, the mask outlined in red),
    in the source's own pixel grid and patient.

    Args:
        prediction: As for :func:`write_dicom_seg`.
        source: As for :func:`write_dicom_seg`.
        folder: Where to write ``overlay_0001.dcm``, ... (made if missing).
        series_number: The new series' number.
        series_description: The new series' description.

    Returns:
        The files written, in slice order.

    Raises:
        MissingDependencyError: highdicom is not installed.
        DicomError: The prediction has no DICOM source or no mask.
    """
    hd = require("highdicom", extra="dicom", purpose="writing DICOM overlays")
    import cv2

    frames, vol = _source(prediction, source)
    images = np.moveaxis(vol.voxels, -1, 0)
    lo, hi = np.percentile(images, (1, 99))
    grey = np.clip((images - lo) / max(float(hi - lo), 1e-6) * 255.0, 0, 255).astype(np.uint8)
    series_uid = hd.UID()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for k, ds in enumerate(vol.sorted_datasets):
        rgb = np.repeat(grey[k][..., None], 3, axis=-1)
        edge = frames[k] - cv2.erode(frames[k], np.ones((3, 3), np.uint8))
        rgb[edge > 0] = (255, 0, 0)
        ori = np.asarray(vol.orientation_patient, np.float64)
        sc = hd.sc.SCImage.from_ref_dataset(
            ref_dataset=ds,
            pixel_array=np.ascontiguousarray(rgb),
            photometric_interpretation=hd.PhotometricInterpretationValues.RGB,
            bits_allocated=8,
            coordinate_system=hd.CoordinateSystemNames.PATIENT,
            series_instance_uid=series_uid,
            sop_instance_uid=hd.UID(),
            series_number=series_number,
            instance_number=k + 1,
            manufacturer="neuroseg",
            pixel_spacing=(vol.spacing[0], vol.spacing[1]),
            patient_orientation=(_letter(ori[:3]), _letter(ori[3:])),
            series_description=series_description,
        )
        path = out / f"overlay_{k + 1:04d}.dcm"
        sc.save_as(str(path))
        written.append(path)
    return written


def write_dicom_outputs(
    prediction: Any,
    out: str | os.PathLike[str],
    stem: str,
    *,
    algorithm_name: str = "neuroseg",
    overlay: bool = False,
) -> dict[str, Any]:
    """``neuroseg predict --format dicom-seg``: the SEG (and overlay) of one prediction.

    Writes ``out/seg/<stem>.dcm`` and, with ``overlay``, ``out/overlay/<stem>/``.

    Returns:
        The entries for ``predictions.json``: ``"seg_file"`` (and ``"overlay_files"``).

    Raises:
        DicomError: The input was not DICOM, or the model gives no mask.
    """
    base = Path(out)
    entry: dict[str, Any] = {
        "seg_file": str(
            write_dicom_seg(
                prediction, None, base / "seg" / f"{stem}.dcm", algorithm_name=algorithm_name
            )
        )
    }
    if overlay:
        files = write_dicom_overlay(prediction, None, base / "overlay" / stem)
        entry["overlay_files"] = [str(f) for f in files]
    return entry
