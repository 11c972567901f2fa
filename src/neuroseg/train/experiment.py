"""Experiments from a TOML config: ``[data]``, ``[model]``, ``[augment]``, ``[train]``, ``[cv]``.

Example config::

    [data]
    format = "figshare"                  # any name in neuroseg.data.FORMATS
    path = "../shared/data/figshare-cheng"
    image_size = 128
    batch_size = 8
    cache = true
    limit = 0                            # a stratified, seeded subset of N items (0: all);
                                         # see stratified_subset
    val_groups = ["fold-4"]              # or val_fraction = 0.2 (patient-wise), or neither
    crop = "brain"                       # crop each slice to the brain first ("none": not)
    ungrouped = "near-copies"            # data without patient IDs (class folders): group
                                         # near-copies so that no split separates them

    [model]
    name = "resunet-small"               # any name in neuroseg.models.list_models()
    # further keys are passed to create_model; input_shape is set from the data

    [augment]
    flip = true                          # horizontal flips (vflip: vertical)
    rot90 = true                         # random quarter turns
    affine = 0.5                         # probabilities: rotation/scale/shift/shear,
    gamma = 0.3                          # and brightness, contrast, gamma (image only)

    [train]                              # TrainConfig fields
    epochs = 30
    schedule = "cosine"
    warmup_epochs = 2                    # lowered to epochs - 1 when epochs is smaller

    [cv]
    folds = 4
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError

__all__ = ["Experiment", "load_experiment", "stratified_subset"]

_SECTIONS = {"data", "model", "augment", "train", "cv"}
_DATA_KEYS = {
    "format", "path", "image_size", "channels", "batch_size", "cache", "limit",
    "val_groups", "val_fraction", "task", "options", "crop", "ungrouped",
}  # fmt: skip
_AUGMENT_KEYS = {"flip", "vflip", "rot90", "affine", "brightness", "contrast", "gamma"}
# keys whose value is the probability of applying the transform to a sample
_AUGMENT_PROBABILITIES = {"affine", "brightness", "contrast", "gamma"}


@dataclass
class Experiment:
    """A parsed experiment config (see the module docs for the TOML layout)."""

    data: dict[str, Any]
    model: dict[str, Any]
    augment: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    cv: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, source: str = "config") -> Experiment:
        """Validate the sections and keys.

        Raises:
            ConfigError: Unknown section or key, or a missing required key.
        """
        unknown = set(raw) - _SECTIONS
        if unknown:
            raise ConfigError(
                f"{source}: unknown section(s) {sorted(unknown)}; valid: {sorted(_SECTIONS)}"
            )
        data, model = dict(raw.get("data", {})), dict(raw.get("model", {}))
        for key in ("format", "path"):
            if key not in data:
                raise ConfigError(f"{source}: [data] needs '{key}'.")
        bad = set(data) - _DATA_KEYS
        if bad:
            raise ConfigError(
                f"{source}: unknown [data] key(s) {sorted(bad)}; valid: {sorted(_DATA_KEYS)}"
            )
        if "name" not in model:
            raise ConfigError(f"{source}: [model] needs 'name' (see `neuroseg models list`).")
        augment = dict(raw.get("augment", {}))
        bad = set(augment) - _AUGMENT_KEYS
        if bad:
            raise ConfigError(
                f"{source}: unknown [augment] key(s) {sorted(bad)}; valid: {sorted(_AUGMENT_KEYS)}"
            )
        exp = cls(data, model, augment, dict(raw.get("train", {})), dict(raw.get("cv", {})))
        exp.train_config()  # validates the [train] fields early
        return exp

    def to_dict(self) -> dict[str, Any]:
        """Return the sections as a dict."""
        return {"data": self.data, "model": self.model, "augment": self.augment,
                "train": self.train, "cv": self.cv}  # fmt: skip

    def _train_fields(self) -> tuple[dict[str, Any], list[str]]:
        """The ``[train]`` fields as used, and a note for each value changed."""
        fields = dict(self.train)
        notes: list[str] = []
        warmup, epochs = fields.get("warmup_epochs"), fields.get("epochs", 50)
        if isinstance(warmup, int) and isinstance(epochs, int) and epochs >= 1 and warmup >= epochs:
            fields["warmup_epochs"] = epochs - 1
            notes.append(
                f"[train] warmup_epochs = {warmup} lowered to {epochs - 1}: the warm-up must "
                f"end before the last of the {epochs} epoch(s)."
            )
        return fields, notes

    def train_config(self) -> Any:
        """The ``[train]`` section as a :class:`~neuroseg.train.TrainConfig`.

        ``warmup_epochs`` is lowered to ``epochs - 1`` when it is not below ``epochs`` (as
        after ``--set train.epochs=1`` on a config with a warm-up); :meth:`notes` says so.
        """
        from neuroseg.train.config import TrainConfig

        return TrainConfig.from_dict(self._train_fields()[0])

    def notes(self) -> list[str]:
        """What :meth:`train_config` changed in the config, one sentence each (for the log)."""
        return self._train_fields()[1]

    def load_data(self) -> Any:
        """Load the ``[data]`` dataset, applying ``limit`` (see :func:`stratified_subset`)."""
        from neuroseg.data import load_dataset

        ds = load_dataset(self.data["format"], self.data["path"], **self.data.get("options", {}))
        limit = int(self.data.get("limit", 0) or 0)
        if limit < 0:
            raise ConfigError(f"[data] limit must be >= 0 (0: all items), got {limit}.")
        if limit > 0:
            ds = stratified_subset(ds, limit, seed=self.train_config().seed)
        ungrouped = self.data.get("ungrouped", "error")
        if ungrouped not in ("error", "near-copies"):
            raise ConfigError(
                f"[data] ungrouped must be 'error' or 'near-copies', got {ungrouped!r}."
            )
        if ungrouped == "near-copies" and any(r.group is None for r in ds):
            from neuroseg.data import group_near_copies

            warnings.warn(
                f"{self.data['path']}: records without patient IDs are grouped by near-copy "
                "only; neighbouring slices of one patient can still fall on both sides of a "
                "split, so validation figures over-estimate accuracy on new patients.",
                UserWarning,
                stacklevel=2,
            )
            ds = group_near_copies(ds)
        return ds

    def task(self) -> str:
        """``[data] task``, else ``[train] task``, else ``"segmentation"``."""
        task = self.data.get("task") or self.train.get("task", "auto")
        return "segmentation" if task == "auto" else str(task)

    def augmentation(self) -> Any:
        """The ``[augment]`` section as a dict-level transform (or ``None``)."""
        from neuroseg.data import (
            Compose,
            RandomAffine,
            RandomBrightness,
            RandomContrast,
            RandomFlip,
            RandomGamma,
            RandomRotate90,
        )

        steps: list[Any] = []
        if self.augment.get("flip", False) or self.augment.get("vflip", False):
            steps.append(
                RandomFlip(
                    horizontal=bool(self.augment.get("flip", False)),
                    vertical=bool(self.augment.get("vflip", False)),
                )
            )
        if self.augment.get("rot90", False):
            steps.append(RandomRotate90())
        factories = {
            "affine": RandomAffine,
            "brightness": RandomBrightness,
            "contrast": RandomContrast,
            "gamma": RandomGamma,
        }
        for key in sorted(_AUGMENT_PROBABILITIES):
            p = self.augment.get(key, 0.0)
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
                raise ConfigError(
                    f"[augment] {key} is the probability of applying it: a number in [0, 1], "
                    f"got {p!r}."
                )
            if p > 0:
                steps.append(factories[key](p=float(p)))
        return Compose(steps) if steps else None

    def pipeline_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``to_tf_dataset`` shared by training and validation."""
        size = self.data.get("image_size")
        return {
            "task": self.task(),
            "image_size": size,
            "channels": self.data.get("channels"),
            "batch_size": int(self.data.get("batch_size", 8)),
            "cache": bool(self.data.get("cache", False)),
            "crop": None if self.data.get("crop", "none") == "none" else self.data["crop"],
        }

    def build_model(self, channels: int) -> Any:
        """Create the ``[model]`` model for inputs of ``channels`` channels."""
        from neuroseg.models import create_model

        kwargs = {k: v for k, v in self.model.items() if k != "name"}
        size = self.data.get("image_size")
        if size is not None:
            h, w = (size, size) if isinstance(size, int) else tuple(size)
            kwargs.setdefault("input_shape", (h, w, channels))
        return create_model(self.model["name"], **kwargs)


def stratified_subset(dataset: SliceDataset, n: int, *, seed: int = 0) -> SliceDataset:
    """A seeded subset of ``n`` records, stratified, that keeps patients together.

    The rule (``[data] limit`` in a config):

    1. Strata: the class label when every record has one; else whether the mask holds any
       tumour when every record has a mask; else one stratum.
    2. Each stratum gets its share of ``n`` in proportion to its size (largest remainders
       round), and at least one record when ``n`` is at least the number of strata.
    3. Records are ordered by a seeded shuffle of patients (records without a patient ID
       are each their own unit; publisher folds are not patients), then by a seeded
       shuffle within each patient; each stratum takes its first records in that order.
       So the subset holds whole patients, except at most one partly taken per stratum.
    4. The subset keeps the dataset's order. The same ``seed`` gives the same subset.

    ``n`` at least ``len(dataset)`` returns the dataset unchanged.

    Args:
        dataset: The records.
        n: How many to keep.
        seed: The shuffle's seed (a config's ``[train] seed``).

    Returns:
        The subset.

    Raises:
        ConfigError: ``n < 1``.

    Example:
        >>> from neuroseg.data import Record, SliceDataset
        >>> ds = SliceDataset([Record(np.zeros((4, 4, 1), np.uint8), label=i % 2)
        ...                    for i in range(10)])
        >>> sorted(r.label for r in stratified_subset(ds, 4, seed=0))
        [0, 0, 1, 1]
    """
    if n < 1:
        raise ConfigError(f"a subset needs n >= 1, got {n}.")
    if n >= len(dataset):
        return dataset
    records = dataset.records
    if all(r.label is not None for r in records):
        keys: list[Any] = [r.label for r in records]
    elif all(r.mask is not None for r in records):
        keys = [bool(np.any(r.load_mask())) for r in records]
    else:
        keys = [0] * len(records)
    rng = np.random.default_rng(seed)
    units = [r.patient_id if r.patient_id is not None else f"#record-{i}"
             for i, r in enumerate(records)]  # fmt: skip
    distinct = sorted(set(units))
    rank = {u: int(k) for u, k in zip(distinct, rng.permutation(len(distinct)), strict=True)}
    within = rng.permutation(len(records))
    order = sorted(range(len(records)), key=lambda i: (rank[units[i]], int(within[i])))
    strata = sorted(set(keys), key=str)
    sizes = [keys.count(k) for k in strata]
    exact = [n * size / len(records) for size in sizes]
    quota = [int(e) for e in exact]
    by_remainder = sorted(range(len(strata)), key=lambda j: (quota[j] - exact[j], j))
    for j in by_remainder[: n - sum(quota)]:
        quota[j] += 1
    if n >= len(strata):
        for j in range(len(strata)):
            if quota[j] == 0:
                donor = max(range(len(strata)), key=lambda k: quota[k])
                quota[donor] -= 1
                quota[j] += 1
    chosen: list[int] = []
    for key, q in zip(strata, quota, strict=True):
        chosen += [i for i in order if keys[i] == key][:q]
    return dataset[sorted(chosen)]


def load_experiment(path: str | os.PathLike[str], overrides: list[str] | None = None) -> Experiment:
    """Read a TOML experiment config and apply ``section.key=value`` overrides.

    Raises:
        ConfigError: Missing file, invalid TOML, or invalid contents.
    """
    from neuroseg.train.toml import apply_overrides, loads

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found.")
    raw = apply_overrides(loads(p.read_text()), overrides or [])
    return Experiment.from_dict(raw, source=str(p))
