"""Combining sources, e.g. the 4-class classification set from Figshare + Br35H."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from neuroseg.data.classes import CLASS_NAMES
from neuroseg.data.figshare import load_figshare
from neuroseg.data.folders import load_class_folders
from neuroseg.data.near_copies import NearCopies, find_near_copies
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import ConfigError

__all__ = [
    "combine_deduplicated",
    "combine_sources",
    "group_near_copies",
    "load_four_class",
    "load_four_class_combined",
    "near_copy_origins",
]


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


def _figshare_labels(root: str | os.PathLike[str], folds: list[int] | None) -> SliceDataset:
    """Figshare's slices as class-labelled records (masks dropped), named ``figshare``."""
    fig = load_figshare(root, folds=folds)
    return SliceDataset([replace(r, mask=None) for r in fig], name="figshare")


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
    fig = _figshare_labels(figshare_root, folds)
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


def group_near_copies(
    dataset: SliceDataset,
    *,
    near_copies: NearCopies | None = None,
    hamming: int = 12,
    min_correlation: float = 0.95,
) -> SliceDataset:
    """Give records without a patient ID the ID of their near-copy group.

    Class-folder data (Kaggle, Br35H) has no patient IDs, and holds copies of one slice
    (re-encoded, resized, flipped). After this, ``group_kfold``/``train_test_split`` keep
    every copy on one side: ``patient_id = "<dataset>/copies-<n>"`` and
    ``meta["patient_id_assumed"] = True``. Records with a patient ID or fold are left as
    they are. Neighbouring slices of one patient that are not near-copies can still be
    split apart, so a slice-level split over-estimates accuracy: prefer data with IDs.

    Args:
        dataset: The records.
        near_copies: A precomputed :func:`find_near_copies` result for ``dataset``.
        hamming: Passed to :func:`find_near_copies`.
        min_correlation: Passed to :func:`find_near_copies`.
    """
    nc = (
        near_copies
        if near_copies is not None
        else find_near_copies(dataset, hamming=hamming, min_correlation=min_correlation)
    )
    records = []
    for r, g in zip(dataset, nc.groups, strict=True):
        meta = {**r.meta, "near_copy_group": int(g)}
        if r.group is None:
            pid = f"{dataset.name}/copies-{int(g)}"
            records.append(replace(r, patient_id=pid, meta={**meta, "patient_id_assumed": True}))
        else:
            records.append(replace(r, meta=meta))
    return SliceDataset(records, class_names=dataset.class_names, name=dataset.name)


def _deal_stratified(
    groups: list[list[int]], labels: np.ndarray, k: int, loads: np.ndarray, seed: int
) -> list[int]:
    """Deal groups of record indices into ``k`` folds, balancing each class's count."""
    classes = loads.shape[1]
    totals = np.maximum(loads.sum(0) + np.bincount(labels, minlength=classes), 1)
    rng = np.random.default_rng(seed)
    order = sorted(rng.permutation(len(groups)).tolist(), key=lambda i: -len(groups[i]))
    out = [0] * len(groups)
    for i in order:
        per = np.bincount(labels[groups[i]], minlength=classes)
        cost = np.max((loads + per) / totals, axis=1) + 1e-9 * loads.sum(axis=1)
        fold = int(np.argmin(cost))
        out[i] = fold
        loads[fold] += per
    return out


def combine_deduplicated(
    *datasets: SliceDataset, k: int = 4, seed: int = 0, near_copies: NearCopies | None = None
) -> tuple[SliceDataset, NearCopies]:
    """Concatenate sources, group near-copies across them and assign grouped folds 1..k.

    Records that carry a publisher fold (Figshare's patient-wise ``cv_fold``) keep it, and
    every near-copy of them (e.g. a Kaggle copy of a Figshare slice) joins that fold. The
    other near-copy groups are dealt into folds stratified by class, largest first. So no
    group straddles two folds, and each fold holds every class from every source that has
    it. Each record gets ``fold``, ``meta["dataset"]``, ``meta["near_copy_group"]`` and
    ``meta["fold_assigned"]`` (True where the fold was not the publisher's).

    When one near-copy group holds records of two publisher folds (one patient filed under
    two IDs), those records keep their folds and the group's other members follow the
    majority; :attr:`NearCopies.pairs` shows such pairs.

    Returns:
        The combined dataset and the near-copy groups (indices into it).
    """
    if k < 2:
        raise ConfigError(f"k must be >= 2, got {k}")
    if not datasets:
        raise ConfigError("combine_deduplicated needs at least one dataset.")
    names = datasets[0].class_names
    records: list[Record] = []
    for ds in datasets:
        if ds.class_names != names:
            raise ConfigError(
                f"{ds.name}: class names {ds.class_names} differ from {names}; map them first."
            )
        records += [
            replace(r, meta={**r.meta, "dataset": r.meta.get("dataset", ds.name)}) for r in ds
        ]
    given = [r.fold for r in records]
    bad = sorted({f for f in given if f is not None and not 1 <= int(f) <= k})
    if bad:
        raise ConfigError(f"publisher folds {bad} lie outside 1..{k}; choose k to cover them.")
    combined = SliceDataset(records, class_names=names, name="+".join(d.name for d in datasets))
    nc = near_copies if near_copies is not None else find_near_copies(combined)
    labels = np.array([-1 if r.label is None else r.label for r in records])
    if (labels < 0).any():
        raise ConfigError("combine_deduplicated needs a class label on every record.")
    fold_of = np.zeros(len(records), dtype=int)
    free: list[list[int]] = []
    loads = np.zeros((k, len(names)))
    for g in np.unique(nc.groups):
        members = np.flatnonzero(nc.groups == g)
        folds = [int(f) for f in (given[i] for i in members) if f is not None]
        if folds:
            majority = max(sorted(set(folds)), key=folds.count)
            for i in members:
                f = given[i]
                fold_of[i] = majority if f is None else int(f)
                loads[fold_of[i] - 1, labels[i]] += 1
        else:
            free.append(members.tolist())
    for group, fold in zip(free, _deal_stratified(free, labels, k, loads, seed), strict=True):
        fold_of[group] = fold + 1
    out = [
        replace(
            r,
            fold=int(fold_of[i]),
            meta={
                **r.meta,
                "near_copy_group": int(nc.groups[i]),
                "fold_assigned": given[i] is None,
            },
        )
        for i, r in enumerate(records)
    ]
    return SliceDataset(out, class_names=names, name=combined.name), nc


def load_four_class_combined(
    figshare_root: str | os.PathLike[str],
    kaggle_root: str | os.PathLike[str],
    no_tumor_root: str | os.PathLike[str],
    *,
    k: int = 4,
    seed: int = 0,
) -> SliceDataset:
    """The deduplicated 4-class set: Figshare + Kaggle 4-class ``Training/`` + Br35H.

    Every class then has more than one source: glioma, meningioma and pituitary from
    Figshare (T1-CE) and SARTAJ (via Kaggle), "no tumour" from Br35H and Kaggle's own
    ``notumor`` scans. Near-copies across and within the sources share a fold
    (:func:`combine_deduplicated`), and Figshare keeps its patient-wise folds.

    Example:
        >>> ds = load_four_class_combined(
        ...     "figshare-cheng", "kaggle4-training", "br35h-no-tumor")  # doctest: +SKIP
        >>> sorted({r.fold for r in ds})  # doctest: +SKIP
        [1, 2, 3, 4]
    """
    fig = _figshare_labels(figshare_root, list(range(1, k + 1)))
    kag = load_class_folders(kaggle_root)
    kag = SliceDataset(kag.records, class_names=CLASS_NAMES, name=Path(kaggle_root).name)
    none = load_class_folders(no_tumor_root, class_name="no_tumor")
    none = SliceDataset(none.records, class_names=CLASS_NAMES, name=Path(no_tumor_root).name)
    return combine_deduplicated(fig, kag, none, k=k, seed=seed)[0]


def near_copy_origins(dataset: SliceDataset, *, originals: Sequence[str]) -> list[str]:
    """Where each record of a deduplicated combination comes from, copies included.

    A record of one of the ``originals`` datasets keeps that dataset's name. A record of
    another dataset (e.g. the Kaggle set, which re-publishes Figshare and Br35H) is named
    ``"<dataset>/<original>-copy"`` when its near-copy group (``meta["near_copy_group"]``,
    from :func:`combine_deduplicated`) holds a record of an original (the first of
    ``originals`` that it holds), else ``"<dataset>/other"``. Results broken down this
    way show what a model does on images it could not have seen in another guise.

    Raises:
        ConfigError: A record lacks ``meta["dataset"]`` or ``meta["near_copy_group"]``.

    Example:
        >>> import numpy as np
        >>> from neuroseg.data import Record, SliceDataset
        >>> def rec(d, g):
        ...     return Record(np.zeros((2, 2, 1)), meta={"dataset": d, "near_copy_group": g})
        >>> near_copy_origins(SliceDataset([rec("fig", 0), rec("kag", 0), rec("kag", 1)]),
        ...                   originals=["fig"])
        ['fig', 'kag/fig-copy', 'kag/other']
    """
    try:
        datasets = [str(r.meta["dataset"]) for r in dataset]
        groups = [int(r.meta["near_copy_group"]) for r in dataset]
    except KeyError as missing:
        raise ConfigError(
            f"{dataset.name}: a record has no meta[{missing}]; near_copy_origins needs the "
            "output of combine_deduplicated (or load_four_class_combined)."
        ) from None
    held: dict[int, set[str]] = {}
    for d, g in zip(datasets, groups, strict=True):
        held.setdefault(g, set()).add(d)
    out = []
    for d, g in zip(datasets, groups, strict=True):
        if d in originals:
            out.append(d)
            continue
        found = [o for o in originals if o in held[g]]
        out.append(f"{d}/{found[0]}-copy" if found else f"{d}/other")
    return out
