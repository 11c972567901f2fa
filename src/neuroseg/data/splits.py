"""Patient-wise splits. Slices of one patient (or one publisher fold) never straddle splits."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError, DataError

__all__ = ["LeakageReport", "check_leakage", "group_kfold", "train_test_split"]


def _groups(dataset: SliceDataset) -> np.ndarray:
    groups = dataset.groups
    missing = [i for i, g in enumerate(groups) if g is None]
    if missing:
        r = dataset[missing[0]]
        raise DataError(
            f"{r.source or r.image}: record has no patient ID or fold, so a patient-wise "
            f"split is impossible ({len(missing)} such record(s)). Give each record a "
            "patient_id (or fold)."
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
    dataset: SliceDataset, k: int = 5, *, seed: int = 0, use_given_folds: bool = True
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Patient-wise k-fold indices.

    When every record carries a publisher fold (e.g. Cheng's ``cv_fold``) and
    ``use_given_folds`` is true, those folds are used as they are. Otherwise groups are
    shuffled and dealt into ``k`` folds, balancing the number of slices.

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
    load = np.zeros(k, dtype=int)
    assign: dict[str, int] = {}
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
    """

    shared_groups: list[str] = field(default_factory=list)
    duplicate_pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when nothing is shared."""
        return not self.shared_groups and not self.duplicate_pairs


def _digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def check_leakage(
    a: SliceDataset, b: SliceDataset, *, raise_on_leak: bool = False
) -> LeakageReport:
    """Find patients and pixel-identical images shared by two splits.

    Args:
        a: One split.
        b: The other split.
        raise_on_leak: Raise instead of returning a report with findings.

    Raises:
        DataError: ``raise_on_leak`` is set and the splits share something.
    """
    shared = sorted({g for g in a.groups if g is not None} & {g for g in b.groups if g is not None})
    hashes: dict[str, str] = {}
    for r in a:
        hashes.setdefault(_digest(r.load_image()), r.source or str(r.image))
    dups = []
    for r in b:
        h = _digest(r.load_image())
        if h in hashes:
            dups.append((hashes[h], r.source or str(r.image)))
    report = LeakageReport(shared_groups=shared, duplicate_pairs=dups)
    if raise_on_leak and not report.clean:
        raise DataError(
            f"Leakage between splits: shared groups {shared[:10]}, "
            f"{len(dups)} duplicate image pair(s) (first: {dups[:1]})."
        )
    return report
