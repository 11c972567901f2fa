"""Experiments from a TOML config: ``[data]``, ``[model]``, ``[augment]``, ``[train]``, ``[cv]``.

Example config::

    [data]
    format = "figshare"                  # any name in neuroseg.data.FORMATS
    path = "../shared/data/figshare-cheng"
    image_size = 128
    batch_size = 8
    cache = true
    limit = 0                            # keep only the first N items (0: all)
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

    [cv]
    folds = 4
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuroseg.errors import ConfigError

__all__ = ["Experiment", "load_experiment"]

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

    def train_config(self) -> Any:
        """The ``[train]`` section as a :class:`~neuroseg.train.TrainConfig`."""
        from neuroseg.train.config import TrainConfig

        return TrainConfig.from_dict(self.train)

    def load_data(self) -> Any:
        """Load the ``[data]`` dataset (applying ``limit``)."""
        from neuroseg.data import load_dataset

        ds = load_dataset(self.data["format"], self.data["path"], **self.data.get("options", {}))
        limit = int(self.data.get("limit", 0) or 0)
        ds = ds[:limit] if limit > 0 else ds
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
