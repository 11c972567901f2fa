"""Combining sources, e.g. the 4-class classification set from Figshare + Br35H."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

from neuroseg.data.classes import CLASS_NAMES
from neuroseg.data.figshare import load_figshare
from neuroseg.data.folders import load_class_folders
from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError

__all__ = ["combine_sources", "load_four_class"]


def combine_sources(*datasets: SliceDataset, ungrouped: str = "per-image") -> SliceDataset:
    """Concatenate datasets, tagging each record with its source dataset.

    Every record gets ``meta["dataset"]`` (its dataset's name). Records without any split
    group (e.g. Br35H, which has no patient IDs) get ``patient_id = "<dataset>/<file stem>"``
    and ``meta["patient_id_assumed"] = True`` with ``ungrouped="per-image"``: a split can
    then use them, under the stated assumption that no two images share a patient. Run
    :func:`~neuroseg.data.check_leakage` (near duplicates) to look for violations.
    ``ungrouped="keep"`` leaves them without a group.

    Example:
        >>> import numpy as np
        >>> from neuroseg.data import Record, SliceDataset
        >>> a = SliceDataset([Record(np.zeros((2, 2, 1)), label=0, patient_id="p")], name="a")
        >>> b = SliceDataset([Record(np.zeros((2, 2, 1)), label=2, source="x/7.jpg")], name="b")
        >>> tuple(r.group for r in combine_sources(a, b))
        ('p', 'b/7')
    """
    if ungrouped not in ("per-image", "keep"):
        raise ConfigError(f"ungrouped must be 'per-image' or 'keep', got {ungrouped!r}.")
    if not datasets:
        raise ConfigError("combine_sources needs at least one dataset.")
    names = datasets[0].class_names
    records = []
    for ds in datasets:
        if ds.class_names != names:
            raise ConfigError(
                f"{ds.name}: class names {ds.class_names} differ from {names}; map them first."
            )
        for i, r in enumerate(ds):
            meta = {**r.meta, "dataset": r.meta.get("dataset", ds.name)}
            if r.group is None and ungrouped == "per-image":
                stem = Path(r.source).stem if r.source else str(i)
                records.append(
                    replace(
                        r, patient_id=f"{ds.name}/{stem}", meta={**meta, "patient_id_assumed": True}
                    )
                )
            else:
                records.append(replace(r, meta=meta))
    return SliceDataset(records, class_names=names, name="+".join(d.name for d in datasets))


def load_four_class(
    figshare_root: str | os.PathLike[str],
    no_tumor_root: str | os.PathLike[str],
    *,
    folds: list[int] | None = None,
    no_tumor_folds: int | None = None,
) -> SliceDataset:
    """The 4-class classification set: Figshare's three tumour types + a "no tumour" folder.

    Feed it through ``to_tf_dataset(..., channels=1, image_size=S)`` so both sources get
    one channel (Br35H's RGB JPEGs are converted to grey), one size and the same per-slice
    min-max normalisation. Br35H slices come from other sequences (often T2) than Figshare
    (T1-CE): a classifier can learn the source instead of the anatomy; check it.

    Args:
        figshare_root: Figshare PNG layout (:func:`~neuroseg.data.load_figshare`).
        no_tumor_root: A flat folder of "no tumour" images (e.g. ``br35h-no-tumor``).
        folds: Figshare folds to keep.
        no_tumor_folds: Deal the "no tumour" images (which have no patient IDs) into folds
            ``1..no_tumor_folds`` by a stable hash of their file name, so that a fold (e.g.
            ``val_groups = ["fold-4"]``, or cross-validation over the given folds) holds
            both sources. ``meta["fold_assigned"]`` marks them. ``None``: each image is its
            own group (see :func:`combine_sources`).

    Example:
        >>> from neuroseg.data import load_four_class
        >>> ds = load_four_class("figshare-cheng", "br35h-no-tumor")  # doctest: +SKIP
        >>> ds.to_tf_dataset("classification", channels=1, image_size=224)  # doctest: +SKIP
    """
    fig = load_figshare(figshare_root, folds=folds)
    fig = SliceDataset([replace(r, mask=None) for r in fig], name="figshare")
    none = load_class_folders(no_tumor_root, class_name="no_tumor")
    records = none.records
    if no_tumor_folds is not None:
        if int(no_tumor_folds) < 1:
            raise ConfigError(f"no_tumor_folds must be >= 1, got {no_tumor_folds}.")
        records = [
            replace(
                r,
                fold=_hash_fold(r.source or str(i), no_tumor_folds),
                meta={**r.meta, "fold_assigned": True},
            )
            for i, r in enumerate(records)
        ]
    none = SliceDataset(records, class_names=CLASS_NAMES, name=Path(no_tumor_root).name)
    return combine_sources(fig, none)


def _hash_fold(source: str, k: int) -> int:
    """Fold ``1..k`` from the SHA-256 of a file's name (stable across machines and runs)."""
    digest = hashlib.sha256(Path(source).name.encode()).hexdigest()
    return 1 + int(digest, 16) % int(k)
