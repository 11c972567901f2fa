"""Dataset check: counts, sizes, mask values, pairing, duplicates and unreadable files."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroseg.data.formats import FORMATS, load_dataset, loader_options
from neuroseg.data.problems import Problem
from neuroseg.errors import (
    ConfigError,
    MaskError,
    MissingDependencyError,
    NeurosegError,
    ReadError,
)
from neuroseg.progress import progress as progress_bar

__all__ = ["CheckReport", "check"]


@dataclass
class CheckReport:
    """The result of :func:`check`; ``to_dict()`` is the JSON of ``neuroseg data check``.

    Attributes:
        format: The layout name.
        path: The checked folder.
        n_items: Records found (including unreadable ones).
        n_patients: Distinct patient IDs, or ``None`` when the layout has none (IDs that a
            loader assumed, ``meta["patient_id_assumed"]``, do not count).
        classes: Class name -> count (empty for segmentation-only layouts).
        patients: Patient ID -> slice count.
        image_sizes: ``"HxW"`` -> count.
        channels: Channel count -> count.
        dtypes: Image dtype -> count.
        mask_values: Sorted label values seen in the masks.
        empty_mask_fraction: Fraction of masks with no foreground (``None`` without masks).
        duplicates: Groups of files with pixel-identical images.
        problems: One :class:`~neuroseg.data.Problem` per faulty file.
        loaded: ``False`` when the loader itself stopped at a problem (a layout that
            raises on its first faulty file, or a patient pattern that some paths miss):
            the counts are then empty, and ``problems`` says why.
    """

    format: str
    path: str
    n_items: int = 0
    n_patients: int | None = None
    classes: dict[str, int] = field(default_factory=dict)
    patients: dict[str, int] = field(default_factory=dict)
    image_sizes: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    dtypes: dict[str, int] = field(default_factory=dict)
    mask_values: list[int] = field(default_factory=list)
    empty_mask_fraction: float | None = None
    duplicates: list[list[str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    loaded: bool = True

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form."""
        return {
            "format": self.format,
            "path": self.path,
            "loaded": self.loaded,
            "n_items": self.n_items,
            "n_patients": self.n_patients,
            "classes": self.classes,
            "patients": self.patients,
            "image_sizes": self.image_sizes,
            "channels": self.channels,
            "dtypes": self.dtypes,
            "mask_values": self.mask_values,
            "empty_mask_fraction": self.empty_mask_fraction,
            "duplicates": self.duplicates,
            "problems": [p.to_dict() for p in self.problems],
        }

    def to_pandas(self) -> Any:
        """One row per problem file as a ``pandas.DataFrame`` (needs the ``pandas`` extra).

        Columns: ``kind`` (``"problem"`` for each of :attr:`problems`, ``"duplicate"`` for
        each file of a :attr:`duplicates` group after its first), ``path`` and ``problem``
        (what is wrong and how to fix it; a duplicate names the file it copies). A clean
        dataset gives an empty frame with these columns.

        Raises:
            MissingDependencyError: pandas is not installed.

        Example:
            >>> r = CheckReport("figshare", "data/", duplicates=[["a.png", "b.png"]])
            >>> df = r.to_pandas()
            >>> tuple(df.columns), tuple(df["path"])
            (('kind', 'path', 'problem'), ('b.png',))
        """
        from neuroseg._optional import require

        pd = require("pandas", extra="pandas", purpose="CheckReport.to_pandas")
        rows = [{"kind": "problem", "path": p.path, "problem": p.problem} for p in self.problems]
        for group in self.duplicates:
            rows += [
                {
                    "kind": "duplicate",
                    "path": path,
                    "problem": f"{path}: pixel-identical to {group[0]}; keep one of them.",
                }
                for path in group[1:]
            ]
        return pd.DataFrame(rows, columns=["kind", "path", "problem"])


def _file(x: Any) -> str:
    return str(x) if isinstance(x, (str, os.PathLike)) else ""


def _named(exc: Exception, default: str) -> str:
    """The path an error message starts with (``"<path>: ..."``), else ``default``."""
    head = str(exc).split(": ", 1)[0]
    return head if head and os.path.exists(head.split(", line")[0]) else default


def _attributed(p: Problem) -> Problem:
    """``p`` with ``path`` set to the file its message starts with, when that is another file.

    A loader reports a record's fault under the record's image even when the message names
    its mask (e.g. a NIfTI mask whose affine differs); the report names the faulty file.
    """
    head = p.problem.split(": ", 1)[0]
    if head != p.path and os.path.isfile(head):
        return Problem(path=head, problem=p.problem)
    return p


def _unexpected(path: str, exc: Exception) -> Problem:
    return Problem(
        path=path,
        problem=f"{path}: cannot be read ({type(exc).__name__}: {exc}). The file is damaged "
        "or of an unexpected kind; replace or remove it.",
    )


#: Layouts whose 4-channel images are four MRI sequences, not RGBA: the fourth channel
#: (e.g. BraTS' FLAIR) is zero outside the head and is no transparency.
_FOUR_SEQUENCE_FORMATS = frozenset({"brats-slices"})


def _transparency(path: str, image: np.ndarray) -> Problem | None:
    """A problem for an RGBA image whose alpha channel is not fully opaque, else ``None``.

    Such an image has no single meaning as grey or RGB (what lies behind the transparent
    pixels?), so it is reported rather than silently flattened or cut to three channels.
    """
    if image.ndim != 3 or image.shape[-1] != 4:
        return None
    alpha = image[..., 3]
    opaque = np.iinfo(alpha.dtype).max if alpha.dtype.kind in "iu" else 1.0
    n = int((alpha < opaque).sum())
    if n == 0:
        return None
    return Problem(
        path=path,
        problem=f"{path}: RGBA image with transparency ({n} of {alpha.size} pixels are not "
        "fully opaque); neuroseg reads grey or RGB images. Flatten it onto a background "
        "(or drop the alpha channel) and re-save it as grey or RGB.",
    )


def check(
    format: str,
    path: str | os.PathLike[str],
    *,
    progress: bool | None = None,
    **kwargs: Any,
) -> CheckReport:
    """Check a dataset folder: read every file and report what is there and what is wrong.

    Nothing raises for a data problem, and nothing crashes: each faulty file becomes a
    :class:`~neuroseg.data.Problem` naming it, an unforeseen exception while reading a
    file included. Found: empty, unreadable, truncated or damaged images and masks
    (JPEGs decoded fully), multi-page or 2-channel TIFFs, NaN/inf pixels, masks whose size
    differs from their image, mask values outside the expected set (float and 16-bit
    masks too), images without a mask and masks without an image, malformed, duplicated
    or contradictory ``metadata.csv`` rows, unknown or colliding class folders, sub-folders,
    non-image files, dangling links, empty folders, NIfTI masks whose affine differs from
    their image's, pixel-identical duplicate images, and RGBA images with transparency
    (every layout but ``brats-slices``, whose four channels are MRI sequences).

    Args:
        format: A layout name from :data:`~neuroseg.data.FORMATS`.
        path: The dataset folder.
        progress: Draw a progress bar over the files on standard error: ``None`` on a
            terminal only, ``False`` never (see :class:`~neuroseg.progress.Progress`).
        **kwargs: Passed to the loader.

    Returns:
        The :class:`CheckReport`; ``report.ok`` is true when there is no problem.

    Raises:
        UnknownNameError: ``format`` is not a layout name.
        ReadError: ``path`` does not exist (the check cannot run at all).
        ConfigError: A loader option in ``kwargs`` is invalid.
        MissingDependencyError: The layout needs an extra that is not installed.

    Example:
        >>> from neuroseg.data import check, sample_dir
        >>> report = check("figshare", sample_dir())  # doctest: +SKIP
    """
    if format not in FORMATS:
        load_dataset(format, path)  # raises UnknownNameError listing the formats
    if not os.path.exists(path):
        raise ReadError(f"{path}: no such file or folder; give the dataset's folder.")
    report = CheckReport(format=format, path=str(path))
    problems: list[Problem] = []
    try:
        # the combined layouts raise on their first faulty file (reported below) instead
        takes = "on_error" in loader_options(format) and "on_error" not in kwargs
        collect = {"on_error": problems} if takes else {}
        ds = load_dataset(format, path, **collect, **kwargs)
    except (ConfigError, MissingDependencyError):
        raise  # the command itself cannot run (bad option, missing extra): not a data problem
    except NeurosegError as exc:
        report.problems = [*problems, Problem(path=_named(exc, str(path)), problem=str(exc))]
        report.loaded = False
        return report
    except Exception as exc:  # never crash on data: an unexpected error is a problem too
        report.problems = [*problems, _unexpected(str(path), exc)]
        report.loaded = False
        return report
    report.n_items = len(ds)
    ids = [None if r.meta.get("patient_id_assumed") else r.patient_id for r in ds]
    if any(i is not None for i in ids):
        counts = Counter(i for i in ids if i is not None)
        report.patients = dict(sorted(counts.items()))
        report.n_patients = len(counts)
    if any(r.label is not None for r in ds):
        report.classes = dict(
            sorted(Counter(ds.class_names[r.label] for r in ds if r.label is not None).items())
        )
    sizes: Counter[str] = Counter()
    chans: Counter[str] = Counter()
    dtypes: Counter[str] = Counter()
    values: set[int] = set()
    n_masks = n_empty = 0
    seen: dict[str, list[str]] = {}
    for r in progress_bar(ds, description="check", enabled=progress):
        name = r.source or _file(r.image)
        try:
            image = r.load_image()
        except NeurosegError as exc:
            problems.append(Problem(path=_file(r.image) or name, problem=str(exc)))
            continue
        except Exception as exc:  # a reader's bug or an unforeseen damage: reported
            problems.append(_unexpected(_file(r.image) or name, exc))
            continue
        if format not in _FOUR_SEQUENCE_FORMATS:
            transparent = _transparency(_file(r.image) or name, image)
            if transparent is not None:
                problems.append(transparent)
        sizes[f"{image.shape[0]}x{image.shape[1]}"] += 1
        chans[str(image.shape[-1])] += 1
        dtypes[str(image.dtype)] += 1
        if image.max() > image.min():  # blank slices (volume ends) are not duplicates
            digest = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
            seen.setdefault(digest, []).append(name)
        if r.mask is None:
            continue
        try:
            mask = r.load_mask()
            if mask is not None and tuple(mask.shape[:2]) != tuple(image.shape[:2]):
                raise MaskError(
                    f"{_file(r.mask) or name}: mask is {mask.shape[0]}x{mask.shape[1]} but "
                    f"its image is {image.shape[0]}x{image.shape[1]}."
                )
        except NeurosegError as exc:
            problems.append(Problem(path=_file(r.mask) or name, problem=str(exc)))
            continue
        except Exception as exc:
            problems.append(_unexpected(_file(r.mask) or name, exc))
            continue
        assert mask is not None
        n_masks += 1
        present = np.unique(mask)
        values.update(int(v) for v in present)
        n_empty += int(present.max() == 0)
    for names in seen.values():
        if len(names) > 1:
            report.duplicates.append(names)
            for other in names[1:]:
                problems.append(
                    Problem(
                        path=other, problem=f"{other}: pixel-identical duplicate of {names[0]}."
                    )
                )
    report.image_sizes = dict(sizes.most_common())
    report.channels = dict(sorted(chans.items()))
    report.dtypes = dict(sorted(dtypes.items()))
    report.mask_values = sorted(values)
    report.empty_mask_fraction = None if n_masks == 0 else n_empty / n_masks
    report.problems = [_attributed(p) for p in problems]
    return report
