"""``neuroseg predict``: masks, class probabilities, areas and pictures for new scans."""

from __future__ import annotations

import argparse
import csv
import glob
import json
import math
import re
import sys
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from neuroseg.cli._common import (
    add_model_argument,
    add_postprocessing_arguments,
    add_preprocessing_arguments,
    add_tta_argument,
    postprocessing_options,
    tta_option,
)
from neuroseg.errors import ConfigError, RepeatedChannelsWarning

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Input", "abstention_warning", "expand_inputs", "register", "run"]

_GLOB_CHARS = re.compile(r"[*?\[]")
#: Pictures in ``montage.png`` at most (the first ones, in input order).
MONTAGE_MAX = 32
#: Rows of the table printed on a terminal at most.
TABLE_ROWS = 10

EPILOG = """\
examples:
  neuroseg predict --model classifier-4class --recursive kaggle4-training/ --out preds/
  neuroseg predict --model resunet-lgg -r lgg-kaggle3m/TCGA_HT_7690_19960312 --out lgg/ --overlay
  neuroseg predict --model resunet-figshare -r dicom/study/ --out pred/ --format dicom-seg
  neuroseg predict --model resunet-figshare 'scans/**/*.png' --out pred/ --tta
  neuroseg predict --model resunet-figshare scans/ --out pred/ --uncertainty tta \\
      --abstain-above 0.2 --overlay

Outputs keep each input's path below the folder (or the pattern's folder) it was found
in: scans/glioma/1.jpg gives masks/glioma/1.png and the row "glioma/1.jpg" in
predictions.csv. A DICOM series is named after its folder (-r study/ gives
masks/t1_mask.nii.gz and seg/t1.dcm for study/t1/); series sharing a folder add
_S<SeriesNumber>_<the UID's last 8 digits>. predictions.json holds every measurement;
predictions.csv one row per input (label, confidence, p_<class>, area, dice against a
truth mask, the tumour's bounding box, centroid, largest diameter, components and side,
mask file). With --uncertainty, also the uncertainty score and abstained (true when the
score is above --abstain-above), and uncertainty/NAME.npy: a segmenter's per-pixel entropy
map.
"""

#: Columns of predictions.csv added by --uncertainty (those an input has).
UNCERTAINTY_COLUMNS = ("uncertainty", "abstained", "mutual_information", "uncertainty_map")

#: Localisation columns of predictions.csv (see neuroseg.inference.Localisation.as_dict).
LOCALISATION_COLUMNS = (
    "bbox_top",
    "bbox_left",
    "bbox_bottom",
    "bbox_right",
    "centroid_row",
    "centroid_col",
    "centroid_row_mm",
    "centroid_col_mm",
    "diameter_px",
    "diameter_mm",
    "components",
    "side",
)


def register(sub: Any) -> None:
    """Add the ``predict`` subcommand."""
    p = sub.add_parser(
        "predict",
        help="predict tumour masks / classes for image files, NIfTI volumes or Figshare .mat",
        description="Predict on each INPUT: a PNG/JPEG/TIFF/BMP image, a NIfTI .nii/.nii.gz "
        "volume, a Figshare .mat file, a DICOM file, a folder of them (with --recursive also "
        "its sub-folders, e.g. one per class) or a quoted glob pattern such as "
        "'scans/**/*.jpg'. Each DICOM image series in a folder is one input (a volume), "
        "whether it has its own sub-folder or shares a folder with other series; DICOM "
        "SEG/SR objects are not inputs. "
        "Writes masks at each input's own size, predictions.json and predictions.csv "
        "(labelled class probabilities, areas in pixels and mm², volumes, and Dice/IoU "
        "against a truth mask stored beside an image as X_mask.tif / X_seg.png) and "
        "optional pictures. Files named *_mask.* or *_seg.* are truth masks, not inputs, "
        "when a folder or pattern is expanded.",
        epilog=EPILOG,
    )
    add_model_argument(p)
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="files, folders or quoted glob patterns"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="walk folders recursively (sub-folders in natural order), e.g. a study "
        "folder with one sub-folder per DICOM series",
    )
    p.add_argument(
        "--no-truth",
        dest="truth",
        action="store_false",
        help="ignore truth masks beside the images (X_mask.tif, X_seg.png)",
    )
    p.add_argument(
        "--class-names",
        default=None,
        metavar="A,B,...",
        help="names of the model's classes, comma-separated, in its output order "
        "(default: a pretrained model's own, else class_0, class_1, ...)",
    )
    add_tta_argument(p)
    p.add_argument(
        "--overlay", action="store_true", help="write titled overlays, side-by-side, montage"
    )
    p.add_argument(
        "--show-box",
        action="store_true",
        help="draw each mask's bounding box and centroid on the overlays (with --overlay)",
    )
    p.add_argument(
        "--orientation",
        choices=("radiological", "neurological", "unknown"),
        default="unknown",
        help="how the images show the patient, for the tumour's side (left/right): "
        "radiological = patient's left on the image's right, as Figshare slices "
        "(default: unknown; NIfTI volumes are read as radiological slices)",
    )
    p.add_argument(
        "--gradcam",
        action="store_true",
        help="write Grad-CAM pictures (image | Grad-CAM, titled with the predicted class)",
    )
    p.add_argument(
        "--gradcam-layer",
        default=None,
        help="layer for Grad-CAM (default: last feature layer before the head)",
    )
    add_preprocessing_arguments(p)
    add_postprocessing_arguments(p)
    p.add_argument("--batch-size", type=int, default=8, help="images per model call")
    p.add_argument(
        "--format",
        choices=("auto", "dicom-seg"),
        default="auto",
        help="masks: auto (PNG for images, NIfTI for volumes) or dicom-seg (also a DICOM "
        "Segmentation of each DICOM series input, in seg/; needs neuroseg[dicom])",
    )
    p.add_argument(
        "--uncertainty",
        choices=("tta", "mc-dropout"),
        default=None,
        help="also measure how unsure the model is: tta (the 8 flips and rotations) or "
        "mc-dropout (passes with the dropout layers on; needs a model with dropout). "
        "Segmentation: a per-pixel entropy map saved as uncertainty/NAME.npy and a per-slice "
        "score; classification: the predictive entropy (and, over the passes, the mutual "
        "information). Adds the columns uncertainty and abstained",
    )
    p.add_argument(
        "--uncertainty-samples",
        type=int,
        default=20,
        metavar="N",
        help="passes of --uncertainty mc-dropout (default 20)",
    )
    p.add_argument(
        "--abstain-above",
        type=float,
        default=None,
        metavar="X",
        help="with --uncertainty: mark each input whose uncertainty score exceeds X as "
        "abstained (its mask or label is still written) and warn with their count",
    )
    p.add_argument(
        "--dicom-overlay",
        action="store_true",
        help="with --format dicom-seg: also a Secondary Capture overlay series, in overlay/",
    )
    p.set_defaults(handler=run)


# ------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class Input:
    """One file (or DICOM series) to predict on.

    Attributes:
        path: The file, or the folder of a DICOM series.
        relative: Its path below the folder (or the glob pattern's folder) it was found
            in, POSIX-style; the file name for a file named on the command line. A DICOM
            series: its folder's path (the folder's own name for the folder given), with
            ``_S<SeriesNumber>_<the UID's last 8 digits>`` when the folder holds several
            series. Output files are named after it.
        series_uid: The ``SeriesInstanceUID`` of a DICOM series found in a folder (the
            series read from ``path``), else ``None``.
    """

    path: Path
    relative: str
    series_uid: str | None = None


def _natural_key(path: PurePosixPath) -> list[tuple[int, Any]]:
    """Sort key: digit runs compare as numbers (slice 2 before slice 10), per component."""
    key: list[tuple[int, Any]] = []
    for part in path.parts:
        for chunk in re.split(r"(\d+)", part.lower()):
            key.append((0, int(chunk)) if chunk.isdigit() else (1, chunk))
        key.append((2, ""))
    return key


def _full_suffix(name: str) -> str:
    low = name.lower()
    return ".nii.gz" if low.endswith(".nii.gz") else Path(low).suffix


def _stem(name: str) -> str:
    suffix = _full_suffix(name)
    return name[: -len(suffix)] if suffix else name


def _readable(name: str) -> bool:
    from neuroseg.inference.scans import IMAGE_SUFFIXES, NIFTI_SUFFIXES

    return _full_suffix(name) in (*IMAGE_SUFFIXES, *NIFTI_SUFFIXES, ".mat")


def _series_suffix(number: int | None, uid: str) -> str:
    """A short, stable name for one of several series in a folder: ``S3_12345678``."""
    digits = uid.replace(".", "")[-8:] or "nouid"
    return digits if number is None else f"S{number}_{digits}"


def _walk(folder: Path, *, recursive: bool) -> Iterator[Path]:
    """Files in ``folder`` (and its sub-folders), skipping hidden ones."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    for f in candidates:
        rel = f.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if f.is_file():
            yield f


def _glob_base(pattern: str) -> Path:
    """The folder part of ``pattern`` before its first component with glob characters."""
    parts: list[str] = []
    for part in Path(pattern).parts:
        if _GLOB_CHARS.search(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def expand_inputs(
    inputs: Sequence[str], *, recursive: bool = False, ignored: list[Path] | None = None
) -> tuple[list[Input], int]:
    """Expand files, folders and glob patterns into the files to predict on.

    A folder gives its image, NIfTI and ``.mat`` files and its DICOM image series (with
    ``recursive``, also those of its sub-folders, at any depth), in natural order
    (``2.tif`` before ``10.tif``); hidden files and folders are skipped. Each DICOM image
    series (its files grouped by ``SeriesInstanceUID``, from headers only) is one input: a
    volume read from the deepest folder holding all of its files, named after that folder
    (the folder's own name for the folder given), with ``_S<SeriesNumber>_<the UID's last 8
    digits>`` added when the folder holds several series. DICOM files matched by a pattern
    give the series they belong to, likewise; a pattern that matches only part of a series
    is an error (a series is predicted whole). Non-image DICOM objects (SEG,
    SR, presentation states) and ``DICOMDIR`` are not inputs. An argument that is not an
    existing path and holds ``*``, ``?`` or ``[`` is a glob pattern (``**`` matches any
    depth). Files named ``*_mask.*`` or ``*_seg.*`` are truth masks, not inputs, when a
    folder or pattern is expanded; a file named on its own is always an input. Each file
    (and series) is listed once. Other files found in a folder or by a pattern (``.gif``,
    ``.txt``, ...) are not inputs: they are appended to ``ignored`` when it is given
    (``neuroseg predict`` names them).

    Returns:
        The inputs and the number of mask files skipped.

    Raises:
        ReadError: A path does not exist, or a DICOM file's header is not readable.
        EmptyDatasetError: A folder or pattern gives no file to predict on.
        MissingDependencyError: A folder holds DICOM files and pydicom is not installed.
    """
    from neuroseg.errors import EmptyDatasetError, ReadError
    from neuroseg.inference.scans import is_truth_file

    found: list[Input] = []
    seen: set[tuple[Path, str | None]] = set()
    skipped = 0

    def add(path: Path, relative: PurePosixPath, series_uid: str | None = None) -> None:
        key = (path.resolve(), series_uid)
        if key not in seen:
            seen.add(key)
            found.append(Input(path, relative.as_posix(), series_uid))

    def series_inputs(
        folder: Path, base: Path, *, walk: bool, only: Sequence[Path] | None = None
    ) -> list[tuple[PurePosixPath, Path, str]]:
        """``(relative, folder, uid)`` of each DICOM image series in ``folder``.

        ``only``: DICOM files matched by a pattern; then just the series holding them,
        each of which must be matched whole.
        """
        from neuroseg.data.dicom import list_dicom_series

        wanted = None if only is None else {f.resolve() for f in only}
        by_folder: dict[Path, list[tuple[int | None, str]]] = {}
        for series in list_dicom_series(folder, recursive=walk):
            if series.non_image is not None:
                continue
            if wanted is not None:
                hit = sum(f.resolve() in wanted for f in series.files)
                if hit == 0:
                    continue
                if hit < len(series.files):
                    what = series.description or f"number {series.number}"
                    raise ReadError(
                        f"{folder}: the pattern matches {hit} of the {len(series.files)} "
                        f"files of DICOM series {what!r} (UID {series.uid}); neuroseg "
                        "predicts on whole series. Match all of its files, or give the "
                        "folder."
                    )
            by_folder.setdefault(series.folder, []).append((series.number, series.uid))
        out = []
        for where, members in by_folder.items():
            rel = where.relative_to(base)
            name = PurePosixPath(rel.as_posix() if rel.parts else base.resolve().name)
            for number, uid in members:
                if len(members) > 1:
                    name_i = name.with_name(f"{name.name}_{_series_suffix(number, uid)}")
                else:
                    name_i = name
                out.append((name_i, where, uid))
        return out

    def is_dicom(f: Path) -> bool:
        """Whether ``f`` (no image, NIfTI or .mat file) is a DICOM file, grouped into series.

        ``DICOMDIR`` (a media index) is not; any other such file is appended to ``ignored``.
        """
        from neuroseg.data.dicom import is_dicom_file

        if f.name.upper() == "DICOMDIR":
            return False
        if is_dicom_file(f):
            return True
        if ignored is not None:
            ignored.append(f)
        return False

    def add_folder(folder: Path, base: Path) -> int:
        nonlocal skipped
        files: list[tuple[PurePosixPath, Path, str | None]] = []
        dicom = False
        for f in _walk(folder, recursive=recursive):
            if not _readable(f.name):
                dicom = is_dicom(f) or dicom  # DICOM files are grouped into series below
                continue
            if is_truth_file(f.name):
                skipped += 1
                continue
            files.append((PurePosixPath(f.relative_to(base).as_posix()), f, None))
        if dicom:
            files += series_inputs(folder, base, walk=recursive)
        for rel, f, uid in sorted(files, key=lambda item: _natural_key(item[0])):
            add(f, rel, uid)
        return len(files)

    for item in inputs:
        p = Path(item)
        if p.is_dir():
            if add_folder(p, p) == 0:
                hint = ""
                subfolders = [d for d in p.iterdir() if d.is_dir() and not d.name.startswith(".")]
                if not recursive and subfolders:
                    from neuroseg.data.dicom import is_dicom_series_folder

                    n = sum(is_dicom_series_folder(d) for d in subfolders)
                    what = f" ({n} of them DICOM series folders)" if n else ""
                    hint = f" It has sub-folders{what}: add --recursive to walk them."
                raise EmptyDatasetError(
                    f"{p}: no image (PNG, JPEG, TIFF, BMP), NIfTI, .mat file or DICOM image "
                    f"series in this folder.{hint}"
                )
        elif p.is_file():
            add(p, PurePosixPath(p.name))
        elif _GLOB_CHARS.search(item):
            base = _glob_base(item)
            matches = sorted(
                (Path(m) for m in glob.glob(item, recursive=True)),
                key=lambda m: _natural_key(PurePosixPath(m.as_posix())),
            )
            n = 0
            dicom_files: dict[Path, list[Path]] = {}
            for m in matches:
                if m.is_dir():
                    n += add_folder(m, base)
                elif not _readable(m.name):
                    if is_dicom(m):  # grouped into the series they belong to below
                        dicom_files.setdefault(m.parent, []).append(m)
                else:
                    if is_truth_file(m.name):
                        skipped += 1
                        continue
                    add(m, PurePosixPath(m.relative_to(base).as_posix()))
                    n += 1
            for folder, hits in dicom_files.items():
                for rel, where, uid in series_inputs(folder, base, walk=False, only=hits):
                    add(where, rel, uid)
                    n += 1
            if n == 0:
                what = f"{len(matches)} path(s), none of them" if matches else "no path"
                raise EmptyDatasetError(
                    f"{item}: the pattern matches {what} an image, NIfTI, .mat file or "
                    "DICOM image series to predict on. Check the folder and the pattern "
                    "(quote it so the shell leaves it to neuroseg; '**' matches any depth), "
                    "or give the folder with --recursive."
                )
        else:
            raise ReadError(f"{p}: no such file or folder.")
    return found, skipped


def _output_stems(inputs: Sequence[Input]) -> list[str]:
    """Output names: the relative path without its suffix, ``-2``, ``-3`` on a clash.

    A DICOM series found in a folder keeps its whole name (a series folder named after
    its UID, ``1.2.840...``, has no suffix to drop).
    """
    used: set[str] = set()
    stems = []
    for item in inputs:
        name = item.relative if item.series_uid is not None else _stem(item.relative)
        stem, i = name, 1
        while stem.lower() in used:
            i += 1
            stem = f"{name}-{i}"
        used.add(stem.lower())
        stems.append(stem)
    return stems


# ------------------------------------------------------------------ outputs
def _csv_rows(
    results: Sequence[dict[str, Any]], names: Sequence[str] | None, *, masks: bool, task: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and rows of ``predictions.csv``."""
    header = ["file", "relative_path", "task"]
    if names is not None:
        header += ["label", "confidence", *(f"p_{n}" for n in names)]
    if masks:
        header += ["area_px", "area_mm2", "volume_mm3", "dice", "iou", *LOCALISATION_COLUMNS]
        header += ["truth_file", "mask_file"]
    header += [c for c in UNCERTAINTY_COLUMNS if any(c in e for e in results)]
    rows = []
    for e in results:
        row: dict[str, Any] = {"file": e["source"], "relative_path": e["relative_path"]}
        row["task"] = task
        for key in ("label", "confidence", "area_px", "area_mm2", "volume_mm3", "dice", "iou"):
            row[key] = e.get(key, "")
        for key in LOCALISATION_COLUMNS:
            value = e.get(key)
            row[key] = "" if value is None else value
        for n in names or ():
            row[f"p_{n}"] = e.get("class_probabilities", {}).get(n, "")
        row["truth_file"] = e.get("truth_file", "")
        row["mask_file"] = e.get("mask_file", "")
        for key in UNCERTAINTY_COLUMNS:
            row[key] = e.get(key, "")
        rows.append({k: row[k] for k in header})
    return header, rows


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)


def _terminal_summary(
    results: Sequence[dict[str, Any]],
    *,
    task: str,
    written: Sequence[Path],
    skipped: int,
    pooled_dice: float,
) -> str:
    """What a terminal shows at the end: the first rows, label counts, mean Dice, files."""
    from neuroseg.tables import format_table

    lines: list[str] = []
    has_label = any("label" in e for e in results)
    has_area = any("area_px" in e for e in results)
    has_dice = any("dice" in e for e in results)
    has_unc = any("uncertainty" in e for e in results)
    header = ["file"]
    header += ["label", "confidence"] if has_label else []
    header += ["area_px"] if has_area else []
    header += ["dice"] if has_dice else []
    header += ["uncertainty", "abstained"] if has_unc else []
    rows = []
    for e in results[:TABLE_ROWS]:
        row: list[Any] = [e["relative_path"]]
        row += [e.get("label"), e.get("confidence")] if has_label else []
        row += [e.get("area_px")] if has_area else []
        row += [e.get("dice")] if has_dice else []
        row += [e.get("uncertainty"), "yes" if e.get("abstained") else ""] if has_unc else []
        rows.append(row)
    lines.append(format_table(rows, header=header))
    if len(results) > TABLE_ROWS:
        lines.append(f"... {len(results) - TABLE_ROWS} more in predictions.csv")
    if has_label:
        counts = Counter(str(e["label"]) for e in results if "label" in e)
        conf: dict[str, list[float]] = {}
        for e in results:
            if "label" in e:
                conf.setdefault(str(e["label"]), []).append(float(e["confidence"]))
        table = [(name, n, sum(conf[name]) / len(conf[name])) for name, n in sorted(counts.items())]
        lines += ["", format_table(table, header=("label", "n", "mean confidence"))]
    if has_dice:
        dices = [float(e["dice"]) for e in results if "dice" in e]
        lines += [
            "",
            f"Dice against the truth masks of {len(dices)} image(s): per-image mean "
            f"{sum(dices) / len(dices):.4f} (both empty scores 1), pooled over their "
            f"pixels {pooled_dice:.4f}",
        ]
    lines.append("")
    done = f"{len(results)} {task} prediction(s)"
    if skipped:
        done += f"; {skipped} mask file(s) skipped as inputs"
    lines.append(done)
    lines += [f"wrote {p}" for p in written]
    return "\n".join(lines)


# ------------------------------------------------------------------ pictures
#: Height (and width) of a montage tile, the picture letterboxed into it.
TILE = 256


def _truth_class(path: Path, true_label: int | None, names: Sequence[str] | None) -> str | None:
    """The input's true class among the model's ``names``, when it is known.

    A Figshare ``.mat`` file stores Cheng's label (1 meningioma, 2 glioma, 3 pituitary); an
    image in a class folder (``glioma/``, ``notumor/``, ... as the folder loaders read
    them, see :func:`neuroseg.data.canonical_class_name`) has the folder's class. ``None``
    otherwise, or when the class is not one of the model's.
    """
    from neuroseg.data.classes import canonical_class_name
    from neuroseg.data.figshare import FIGSHARE_LABELS
    from neuroseg.errors import UnknownNameError

    if names is None:
        return None
    name: str | None = None
    if true_label is not None and _full_suffix(path.name) == ".mat":
        name = FIGSHARE_LABELS.get(int(true_label))
    else:
        try:
            name = canonical_class_name(path.parent.name)
        except UnknownNameError:
            name = None
    return name if name in names else None


def _titles(
    name: str,
    *,
    truth: np.ndarray | None,
    mask: np.ndarray | None,
    dice: float | None,
    call: Sequence[str],
) -> list[str]:
    """Title lines of an overlay: the file (and its Dice), the contour colours, the class."""
    first = name if dice is None else f"{name}: Dice {dice:.3f}"
    lines = [first]
    if mask is not None:
        pred = "red: prediction" + ("" if mask.any() else " (empty)")
        if truth is None:
            lines.append(f"{pred}; no truth mask")
        else:
            lines.append(f"green: truth{'' if truth.any() else ' (empty)'}, {pred}")
    return [*lines, *call]


def _tile(
    image: np.ndarray, truth: np.ndarray | None, mask: np.ndarray | None, titles: Sequence[str]
) -> np.ndarray:
    """A montage tile: the image fitted into ``TILE`` x ``TILE``, under its titles.

    The image is not stretched (black borders); its contours are drawn at the tile's size,
    so that they stay one pixel wide.
    """
    import cv2
    import numpy as np

    from neuroseg.inference import overlay_contours, title_strip, to_rgb8

    rgb = to_rgb8(image)
    h, w = rgb.shape[:2]
    f = TILE / max(h, w)
    size = (max(round(w * f), 1), max(round(h * f), 1))
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR

    def fit(m: np.ndarray | None) -> np.ndarray | None:
        if m is None:
            return None
        small = cv2.resize((m > 0).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        return np.asarray(small)

    pic = overlay_contours(cv2.resize(rgb, size, interpolation=interp), fit(truth), fit(mask))
    canvas = np.zeros((TILE, TILE, 3), np.uint8)
    top, left = (TILE - size[1]) // 2, (TILE - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = pic
    return title_strip(canvas, titles)


# ------------------------------------------------------------------ uncertainty
def _measure_uncertainty(
    predictor: Any, scan: Any, *, method: str, n_samples: int
) -> tuple[dict[str, Any], np.ndarray | None]:
    """The uncertainty fields of one input's entry and its per-pixel map (or ``None``).

    Segmentation (and multi-task) models: ``uncertainty`` is the per-slice score of
    :func:`~neuroseg.inference.uncertainty.segmentation_uncertainty` (a volume's: its
    highest slice score, each listed in ``uncertainty_slices``); the map is the binary
    entropy of the mean probability over the passes, in the input's frame (``(H, W)``, a
    volume ``(H, W, D)``). Classifiers: ``uncertainty`` is the predictive entropy of the
    mean class probabilities over the passes (a volume: of their mean over its slices),
    beside the ``mutual_information`` of the passes; a multi-task model's are
    ``label_entropy`` and ``mutual_information``.
    """
    import numpy as np

    from neuroseg.inference.uncertainty import (
        classification_uncertainty,
        predictive_entropy,
        segmentation_uncertainty,
    )

    prepared = [predictor.prepare(s, source=scan.source) for s in scan.slices]
    batch = np.stack([p.array for p in prepared])
    fields: dict[str, Any] = {}
    umap = None
    if predictor.task in ("segmentation", "multitask"):
        u = segmentation_uncertainty(predictor, batch, method=method, n_samples=n_samples)
        maps = [predictor.invert(m, p) for m, p in zip(u.entropy, prepared)]
        umap = (np.stack(maps, axis=-1) if scan.is_volume else maps[0]).astype(np.float32)
        fields["uncertainty"] = round(float(u.score.max()), 6)
        if scan.is_volume:
            fields["uncertainty_slices"] = [round(float(v), 6) for v in u.score]
    if predictor.task in ("classification", "multitask"):
        c = classification_uncertainty(predictor, batch, method=method, n_samples=n_samples)
        entropy = float(predictive_entropy(c.probabilities.mean(axis=0)))
        key = "label_entropy" if "uncertainty" in fields else "uncertainty"
        fields[key] = round(entropy, 6)
        fields["mutual_information"] = round(float(c.mutual_information.mean()), 6)
    return fields, umap


def abstention_warning(results: Sequence[dict[str, Any]], threshold: float) -> str | None:
    """The warning naming the inputs marked abstained, or ``None`` when there is none."""
    flagged = [str(e["relative_path"]) for e in results if e.get("abstained")]
    if not flagged:
        return None
    shown = ", ".join(flagged[:10]) + (
        f" and {len(flagged) - 10} more" if len(flagged) > 10 else ""
    )
    return (
        f"{len(flagged)} of {len(results)} input(s) have an uncertainty above {threshold:g} and "
        f"are marked abstained (predictions.json/csv; their masks and labels are still "
        f"written): {shown}. Have a person review them."
    )


# ------------------------------------------------------------------ run
def _tta_name(predictor: Any) -> str | bool:
    """The TTA the predictor applies, as ``--tta`` names it (``False``: none)."""
    if not predictor.tta:
        return False
    return "all" if predictor.tta_rotations else "flip"


def run(args: argparse.Namespace) -> int:
    """Run the prediction."""
    import numpy as np

    from neuroseg.data import write_image
    from neuroseg.inference import (
        Predictor,
        gradcam_panels,
        heatmap_overlay,
        montage,
        overlay_contours,
        read_scan,
        save_png,
        side_by_side,
        title_strip,
        to_rgb8,
    )
    from neuroseg.inference.pictures import MIN_TITLED_HEIGHT, uncertainty_panel
    from neuroseg.metrics import confusion_counts, scores_from_counts
    from neuroseg.progress import progress

    quiet = bool(getattr(args, "quiet", False))
    ignored: list[Path] = []
    inputs, skipped = expand_inputs(args.inputs, recursive=args.recursive, ignored=ignored)
    if ignored:  # said even with --quiet: these files get no prediction
        shown = ", ".join(str(f) for f in ignored[:10])
        more = f" and {len(ignored) - 10} more" if len(ignored) > 10 else ""
        print(
            f"neuroseg: warning: skipped {len(ignored)} file(s) that are not images, NIfTI or "
            f".mat files neuroseg can read: {shown}{more} (listed in predictions.json as "
            "skipped_files). Convert them (e.g. to PNG or NIfTI) to predict on them.",
            file=sys.stderr,
        )
    class_names = (
        [n.strip() for n in args.class_names.split(",")] if args.class_names is not None else None
    )
    predictor = Predictor(
        args.model,
        threshold=args.threshold,
        crop=args.crop,
        tta=tta_option(args.tta),
        batch_size=args.batch_size,
        **postprocessing_options(args),
        class_names=class_names,
        orientation=getattr(args, "orientation", None),
    )
    show_box = bool(getattr(args, "show_box", False))
    method: str | None = getattr(args, "uncertainty", None)
    abstain: float | None = getattr(args, "abstain_above", None)
    n_samples = int(getattr(args, "uncertainty_samples", 20))
    if abstain is not None and method is None:
        raise ConfigError("--abstain-above needs --uncertainty tta or --uncertainty mc-dropout.")
    if abstain is not None and not math.isfinite(abstain):
        raise ConfigError(f"--abstain-above must be a finite number, got {abstain}.")
    if method is not None and n_samples < 2:
        raise ConfigError(f"--uncertainty-samples must be at least 2, got {n_samples}.")
    if method == "mc-dropout":  # refuse a model without dropout before reading any input
        from neuroseg.inference.uncertainty import mc_dropout

        with mc_dropout(predictor.model):
            pass
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # Standard output on a terminal gets a table at the end (the bar, on standard error,
    # shows the progress); elsewhere (a pipe, a file) one JSON line per input, a
    # machine-readable stream. --quiet prints neither.
    stdout_tty = bool(getattr(sys.stdout, "isatty", lambda: False)())
    json_lines = not quiet and not stdout_tty
    results: list[dict[str, Any]] = []
    tiles: list[np.ndarray] = []
    names: tuple[str, ...] | None = None
    # Confusion counts (tp, fp, fn, tn) summed over the inputs with a truth mask: the
    # pooled scores come from them through the metrics core.
    counts = np.zeros(4, np.int64)
    repeated: list[str] = []  # inputs whose channels are one image (multi-sequence models)
    items = list(zip(inputs, _output_stems(inputs)))
    for item, stem in progress(
        items, total=len(items), description="predict", enabled=False if quiet else None
    ):
        path = item.path
        scan = read_scan(path, find_truth=args.truth, series_uid=item.series_uid)
        with warnings.catch_warnings():  # said once for all inputs, after the loop
            warnings.simplefilter("ignore", RepeatedChannelsWarning)
            pred = predictor.predict(scan)[0]
        if pred.meta.get("repeated_channels"):
            repeated.append(pred.source)
        names = pred.names or names
        entry = pred.summary()
        entry["relative_path"] = item.relative
        if "dicom" in scan.meta:
            entry["series_uid"] = scan.meta["dicom"].series_uid
        if "truth_file" in scan.meta:
            entry["truth_file"] = scan.meta["truth_file"]
        # The slice shown in pictures: for a volume, the one with the largest prediction.
        k = 0
        if scan.is_volume:
            if pred.mask is not None and pred.mask.any():
                k = int(np.argmax(pred.mask.sum(axis=(0, 1))))
            else:
                k = scan.image.shape[2] // 2
            entry["picture_slice"] = k
        image = scan.slices[k]
        umap = None
        if method is not None:
            fields, umap = _measure_uncertainty(predictor, scan, method=method, n_samples=n_samples)
            entry.update(fields)
            entry["abstained"] = abstain is not None and float(entry["uncertainty"]) > abstain
            if umap is not None:
                saved = umap
                if scan.is_volume and "orientation" in scan.meta:  # the mask's voxel order
                    saved = scan.meta["orientation"].to_source(umap)
                upath = out / "uncertainty" / f"{stem}.npy"
                upath.parent.mkdir(parents=True, exist_ok=True)
                np.save(upath, np.asarray(saved, np.float32))
                entry["uncertainty_map"] = str(upath)
        mask2d = None
        if pred.mask is not None:
            mask2d = pred.mask[:, :, k] if scan.is_volume else pred.mask
            if scan.is_volume:
                from neuroseg._optional import require

                nib = require("nibabel", extra="nifti", purpose="writing NIfTI masks")
                affine = scan.meta.get("affine", np.eye(4))
                volume = pred.mask.astype(np.uint8)
                if "orientation" in scan.meta:  # back in the file's own voxel order
                    volume = scan.meta["orientation"].to_source(volume)
                mpath = out / "masks" / f"{stem}_mask.nii.gz"
                mpath.parent.mkdir(parents=True, exist_ok=True)
                nib.save(nib.Nifti1Image(volume, affine), str(mpath))
            else:
                mpath = write_image(out / "masks" / f"{stem}.png", pred.mask * np.uint8(255))
            entry["mask_file"] = str(mpath)
        if args.format == "dicom-seg":
            from neuroseg.inference.dicom_seg import write_dicom_outputs

            entry.update(
                write_dicom_outputs(
                    pred, out, stem, algorithm_name=str(args.model), overlay=args.dicom_overlay
                )
            )
        if "dice" in entry and pred.mask is not None and pred.truth is not None:
            # One (N, H, W) batch: a volume's slices along axis 0 (as Prediction.overlap).
            t, m = (
                np.moveaxis(a, -1, 0) if a.ndim == 3 else a[None] for a in (pred.truth, pred.mask)
            )
            counts += [int(c.sum()) for c in confusion_counts(t > 0, m > 0)]
        truth2d = None
        if scan.truth is not None:
            truth2d = scan.truth[:, :, k] if scan.is_volume else scan.truth
        titled = image.shape[0] >= MIN_TITLED_HEIGHT
        name = item.relative + (f", slice {k}" if scan.is_volume else "")
        dice = float(entry["dice"]) if "dice" in entry else None
        truth_class = _truth_class(path, pred.true_label, pred.names)
        call: list[str] = []
        if pred.label_name is not None and pred.confidence is not None:
            call.append(f"predicted {pred.label_name}, p = {pred.confidence:.2f}")
            if truth_class is not None:
                right = "right" if truth_class == pred.label_name else "WRONG"
                call.append(f"truth {truth_class}: {right}")
        if method is not None and umap is None:  # a classifier: its entropy in the titles
            flag = ": ABSTAINED" if entry["abstained"] else ""
            call.append(f"uncertainty ({method}) {float(entry['uncertainty']):.3f}{flag}")
        if args.overlay:
            lines = _titles(name, truth=truth2d, mask=mask2d, dice=dice, call=call)
            rgb = overlay_contours(image, truth2d, mask2d, box=show_box, centroid=show_box)
            panel = None
            if umap is not None and method is not None:
                panel = uncertainty_panel(
                    image,
                    umap[:, :, k] if scan.is_volume else umap,
                    method=method,
                    score=float(entry["uncertainty"]),
                    abstain=abstain,
                )
            if titled:
                n_lines = len(lines) if panel is None else max(len(lines), 2)
                rgb = title_strip(rgb, [*lines, *[""] * (n_lines - len(lines))])
                if panel is not None and len(lines) > 2:  # strips of one height
                    panel = np.concatenate(
                        [
                            np.zeros((rgb.shape[0] - panel.shape[0], *panel.shape[1:]), np.uint8),
                            panel,
                        ]
                    )
            if panel is not None:
                rgb = np.concatenate([rgb, panel], axis=1)
            entry["overlay"] = str(save_png(out / "overlays" / f"{stem}.png", rgb))
            if mask2d is not None:  # a classifier has no masks to set side by side
                pred_title = "prediction (red)" + (f", Dice {dice:.3f}" if dice is not None else "")
                titles = (name, "truth (green)", pred_title)
                pair = side_by_side(image, truth2d, mask2d, titles=titles)
                entry["side_by_side"] = str(save_png(out / "side_by_side" / f"{stem}.png", pair))
            if len(tiles) < MONTAGE_MAX:
                tile_lines = lines
                if umap is not None:
                    flag = ", ABSTAINED" if entry["abstained"] else ""
                    tile_lines = [*lines, f"uncertainty {float(entry['uncertainty']):.3f}{flag}"]
                tiles.append(_tile(image, truth2d, mask2d, tile_lines))
        if args.gradcam:
            heat = predictor.grad_cam(image, source=str(path), layer_name=args.gradcam_layer)
            base = image if mask2d is None else overlay_contours(image, truth2d, mask2d)
            if pred.label_name is not None and pred.confidence is not None:
                cam = gradcam_panels(
                    base,
                    heat,
                    predicted=pred.label_name,
                    probability=pred.confidence,
                    truth=truth_class,
                )
                if mask2d is not None and titled:  # a multi-task model's contours: their legend
                    cam = title_strip(
                        cam, _titles(name, truth=truth2d, mask=mask2d, dice=dice, call=())
                    )
            else:
                left, cam = to_rgb8(base), heatmap_overlay(base, heat)
                if titled:
                    lines = _titles(name, truth=truth2d, mask=mask2d, dice=dice, call=())
                    target = (
                        "the predicted tumour"
                        if mask2d is not None and mask2d.any()
                        else "the whole image (nothing predicted)"
                    )
                    cam_lines = ["Grad-CAM of the tumour score", f"over {target}"]
                    n = max(len(lines), len(cam_lines))  # strips of one height
                    left = title_strip(left, [*lines, *[""] * (n - len(lines))])
                    cam = title_strip(cam, [*cam_lines, *[""] * (n - len(cam_lines))])
                cam = np.concatenate([left, cam], axis=1)
            entry["gradcam"] = str(save_png(out / "gradcam" / f"{stem}.png", cam))
        results.append(entry)
        if json_lines:
            print(json.dumps({k: v for k, v in entry.items() if k != "class_probabilities"}))
    written: list[Path] = []
    if tiles:
        written.append(save_png(out / "montage.png", montage(tiles, cols=4)))
    masks = predictor.task in ("segmentation", "multitask")
    doc: dict[str, Any] = {
        "model": str(args.model),
        "task": predictor.task,
        "tta": _tta_name(predictor),
    }
    if names is not None:
        doc["class_names"] = list(names)
    if masks:
        doc["threshold"] = predictor.threshold
    if method is not None:
        doc["uncertainty"] = {
            "method": method,
            "n_samples": n_samples if method == "mc-dropout" else 8,
            "score": (
                "segmentation: mean entropy (nats) of the mean foreground probability inside "
                "the predicted mask and a 3-pixel border (a volume: its highest slice); "
                "classification: predictive entropy (nats) of the mean class probabilities"
            ),
            "abstain_above": abstain,
            "n_abstained": sum(bool(e.get("abstained")) for e in results),
        }
    doc["n_inputs"] = len(results)
    doc["skipped_mask_files"] = skipped
    doc["skipped_files"] = [str(f) for f in ignored]
    doc["repeated_channels"] = repeated  # inputs with one image in every channel
    doc["predictions"] = results
    json_path = out / "predictions.json"
    json_path.write_text(json.dumps(doc, indent=2) + "\n")
    csv_path = out / "predictions.csv"
    header, rows = _csv_rows(results, names, masks=masks, task=predictor.task)
    _write_csv(csv_path, header, rows)
    written = [json_path, csv_path, *written]
    warning = abstention_warning(results, abstain) if abstain is not None else None
    if warning is not None:  # said even with --quiet, as the skipped files are
        print(f"neuroseg: warning: {warning}", file=sys.stderr)
    if repeated:  # said even with --quiet: the masks of these inputs are unreliable
        print(
            f"neuroseg: warning: {predictor.repeated_channels_message(repeated)}", file=sys.stderr
        )
    if quiet:
        return 0
    if json_lines:
        print(f"{len(results)} prediction(s) written to {out}", file=sys.stderr)
    else:
        pooled = scores_from_counts(*counts)["dice"]
        print(
            _terminal_summary(
                results,
                task=predictor.task,
                written=written,
                skipped=skipped,
                pooled_dice=float(pooled),
            )
        )
    return 0
