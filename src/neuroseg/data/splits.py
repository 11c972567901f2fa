"""Patient-wise splits. Slices of one patient (or one publisher fold) never straddle splits."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from neuroseg.data.near_copies import fingerprint, match_fingerprints, perceptual_hash
from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError, DataError

__all__ = [
    "LeakageReport",
    "check_leakage",
    "group_kfold",
    "perceptual_hash",  # defined in near_copies; kept importable from here
    "train_test_split",
    "train_val_test_split",
]


def _groups(dataset: SliceDataset) -> np.ndarray:
    groups = dataset.groups
    missing = [i for i, g in enumerate(groups) if g is None]
    if missing:
        r = dataset[missing[0]]
        raise DataError(
            f"{r.source or r.image}: record has no patient ID or fold, so a patient-wise "
            f"split is impossible ({len(missing)} such record(s)). Read patient IDs from the "
            "file names or a table (loader option patient_pattern=REGEX or "
            "patient_table=CSV; neuroseg.data.assign_patients), or group near-copies: "
            "neuroseg.data.group_near_copies(ds), or [data] ungrouped = 'near-copies' in a "
            "config. See the docs page 'Your own data'."
        )
    return np.array(groups, dtype=object)


def train_test_split(
    dataset: SliceDataset,
    *,
    test_groups: Sequence[str] | None = None,
    test_size: float = 0.25,
    seed: int = 0,
) -> tuple[SliceDataset, SliceDataset]:
    """Split by patient (or publisher fold) into train and test.

    Args:
        dataset: Records with a patient ID or fold.
        test_groups: Exactly which groups go to test. Overrides ``test_size``.
        test_size: Fraction of groups (at least one) drawn at random for test.
        seed: Seed for the draw.

    Returns:
        ``(train, test)``.

    Raises:
        DataError: A record has no group.
        ConfigError: Unknown test group, or a split that leaves one side empty.

    Example:
        >>> import numpy as np
        >>> from neuroseg.data import Record, SliceDataset
        >>> ds = SliceDataset([Record(np.zeros((2, 2, 1)), patient_id=p) for p in "aabbc"])
        >>> tr, te = train_test_split(ds, test_groups=["b"])
        >>> len(tr), len(te)
        (3, 2)
    """
    groups = _groups(dataset)
    unique = sorted(set(groups))
    if test_groups is None:
        if not 0.0 < test_size < 1.0:
            raise ConfigError(f"test_size must be in (0, 1), got {test_size}")
        rng = np.random.default_rng(seed)
        n_test = max(1, round(test_size * len(unique)))
        chosen = set(rng.choice(unique, size=n_test, replace=False).tolist())
    else:
        chosen = set(test_groups)
        unknown = chosen - set(unique)
        if unknown:
            raise ConfigError(f"Unknown test group(s) {sorted(unknown)}; the dataset has {unique}.")
    is_test = np.array([g in chosen for g in groups])
    if is_test.all() or not is_test.any():
        raise ConfigError("The split leaves train or test empty; choose other test groups.")
    return dataset[np.flatnonzero(~is_test)], dataset[np.flatnonzero(is_test)]


def group_kfold(
    dataset: SliceDataset,
    k: int = 5,
    *,
    seed: int = 0,
    use_given_folds: bool = True,
    stratify: bool = False,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Patient-wise k-fold indices, optionally stratified by class.

    When every record carries a publisher fold (e.g. Cheng's ``cv_fold``) and
    ``use_given_folds`` is true, those folds are used as they are. Otherwise groups are
    shuffled and dealt into ``k`` folds, balancing the number of slices (``stratify=False``)
    or the number of slices of each class (``stratify=True``: each patient goes to the fold
    where its classes are least represented so far, largest patients first).

    Example:
        >>> import numpy as np
        >>> from neuroseg.data import Record, SliceDataset, group_kfold
        >>> ds = SliceDataset([Record(np.zeros((2, 2, 1)), label=i % 2, patient_id=f"p{i}")
        ...                    for i in range(8)])
        >>> tuple(len(te) for _, te in group_kfold(ds, 2, stratify=True))
        (4, 4)

    Returns:
        A list of ``(train_indices, test_indices)``, one per fold.
    """
    folds = [r.fold for r in dataset]
    if use_given_folds and all(f is not None for f in folds):
        values = sorted({int(f) for f in folds if f is not None})
        arr = np.array(folds)
        return [(np.flatnonzero(arr != v), np.flatnonzero(arr == v)) for v in values]
    groups = _groups(dataset)
    unique = sorted(set(groups))
    if k < 2 or k > len(unique):
        raise ConfigError(f"k must be in [2, {len(unique)}] (the number of groups), got {k}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(unique))
    sizes = {g: int((groups == g).sum()) for g in unique}
    assign: dict[str, int] = {}
    if stratify:
        labels = dataset.labels
        classes = sorted(set(labels.tolist()))
        per = {g: np.array([(labels[groups == g] == c).sum() for c in classes]) for g in unique}
        totals = np.maximum(sum(per.values()), 1)
        loads = np.zeros((k, len(classes)))
        for i in sorted(order, key=lambda j: -sizes[unique[j]]):
            g = unique[i]
            cost = np.max((loads + per[g]) / totals, axis=1) + 1e-9 * loads.sum(axis=1)
            fold = int(np.argmin(cost))
            assign[g] = fold
            loads[fold] += per[g]
    else:
        load = np.zeros(k, dtype=int)
        for i in sorted(order, key=lambda j: -sizes[unique[j]]):
            fold = int(np.argmin(load))
            assign[unique[i]] = fold
            load[fold] += sizes[unique[i]]
    fold_of = np.array([assign[g] for g in groups])
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]


@dataclass
class LeakageReport:
    """What two splits share.

    Attributes:
        shared_groups: Patient IDs (or folds) present in both splits.
        duplicate_pairs: ``(source_a, source_b)`` pairs of pixel-identical images.
        near_duplicate_pairs: Pairs whose perceptual hashes differ in at most
            ``max_distance`` bits but whose pixels differ (re-encoded, rescaled or
            slightly edited copies).
    """

    shared_groups: list[str] = field(default_factory=list)
    duplicate_pairs: list[tuple[str, str]] = field(default_factory=list)
    near_duplicate_pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when nothing is shared."""
        return not self.shared_groups and not self.duplicate_pairs and not self.near_duplicate_pairs


def _digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def check_leakage(
    a: SliceDataset,
    b: SliceDataset,
    *,
    raise_on_leak: bool = False,
    near_duplicates: bool = True,
    max_distance: int = 12,
    min_correlation: float = 0.95,
) -> LeakageReport:
    """Find patients, pixel-identical images and near-copies shared by two splits.

    Near-copies are found as in :func:`~neuroseg.data.find_near_copies`: candidates by
    perceptual hash of the brain-cropped slice (flip-aware), confirmed when the Pearson
    correlation of the two 64x64 thumbnails reaches ``min_correlation``. A hash match
    alone (similar anatomy of different patients) is not reported.

    Args:
        a: One split.
        b: The other split.
        raise_on_leak: Raise instead of returning a report with findings.
        near_duplicates: Also look for near-copies.
        max_distance: Largest hash distance (of 64 bits) that makes a candidate.
        min_correlation: Thumbnail correlation a candidate needs to count.

    Raises:
        DataError: ``raise_on_leak`` is set and the splits share something.

    Example:
        >>> from neuroseg.data import check_leakage, load_sample, train_test_split
        >>> train, test = train_test_split(load_sample(), test_groups=["fold-4"])
        >>> check_leakage(train, test).clean
        True
    """
    shared = sorted({g for g in a.groups if g is not None} & {g for g in b.groups if g is not None})
    hashes: dict[str, str] = {}
    a_prints: list[tuple[np.ndarray, np.ndarray]] = []
    a_names: list[str] = []
    for r in a:
        image = r.load_image()
        name = r.source or str(r.image)
        hashes.setdefault(_digest(image), name)
        if near_duplicates and image.max() > image.min():  # blank slices carry no content
            a_prints.append(fingerprint(image))
            a_names.append(name)
    dups = []
    b_prints: list[tuple[np.ndarray, np.ndarray]] = []
    b_names: list[str] = []
    for r in b:
        image = r.load_image()
        name = r.source or str(r.image)
        h = _digest(image)
        if h in hashes:
            dups.append((hashes[h], name))
        elif a_prints and image.max() > image.min():
            b_prints.append(fingerprint(image))
            b_names.append(name)
    near = []
    if b_prints:
        matches = match_fingerprints(
            (np.stack([h for h, _ in b_prints]), np.stack([t for _, t in b_prints])),
            (np.stack([h for h, _ in a_prints]), np.stack([t for _, t in a_prints])),
            hamming=max_distance,
            min_correlation=min_correlation,
        )
        for name, found in zip(b_names, matches, strict=True):
            near += [(a_names[j], name) for j, _, _ in found]
    report = LeakageReport(shared_groups=shared, duplicate_pairs=dups, near_duplicate_pairs=near)
    if raise_on_leak and not report.clean:
        raise DataError(
            f"Leakage between splits: shared groups {shared[:10]}, "
            f"{len(dups)} duplicate image pair(s) (first: {dups[:1]}), "
            f"{len(near)} near-duplicate pair(s) (first: {near[:1]})."
        )
    return report


def train_val_test_split(
    dataset: SliceDataset,
    *,
    val_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
) -> tuple[SliceDataset, SliceDataset, SliceDataset]:
    """Split by patient (or publisher fold) into train, validation and test.

    Fractions are of the groups (patients), at least one group each.

    Example:
        >>> import numpy as np
        >>> from neuroseg.data import Record, SliceDataset
        >>> ds = SliceDataset([Record(np.zeros((2, 2, 1)), patient_id=p) for p in "abcdefghij"])
        >>> tuple(len(s) for s in train_val_test_split(ds, val_size=0.2, test_size=0.2))
        (6, 2, 2)
    """
    if val_size <= 0 or test_size <= 0 or val_size + test_size >= 1:
        raise ConfigError(
            f"val_size and test_size must be > 0 with a sum < 1, got {val_size}, {test_size}."
        )
    unique = sorted(set(_groups(dataset)))
    if len(unique) < 3:
        raise ConfigError(f"Need at least 3 patients/groups for 3 splits, got {len(unique)}.")
    rng = np.random.default_rng(seed)
    order = [unique[i] for i in rng.permutation(len(unique))]
    n_test = max(1, round(test_size * len(unique)))
    n_val = max(1, round(val_size * len(unique)))
    if n_test + n_val >= len(unique):
        raise ConfigError("The split leaves train empty; use smaller val_size/test_size.")
    test_g, val_g = set(order[:n_test]), set(order[n_test : n_test + n_val])
    groups = _groups(dataset)
    is_test = np.array([g in test_g for g in groups])
    is_val = np.array([g in val_g for g in groups])
    train = np.flatnonzero(~is_test & ~is_val)
    return dataset[train], dataset[np.flatnonzero(is_val)], dataset[np.flatnonzero(is_test)]
