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
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuroseg.data.preprocessor import SlicePreprocessor
from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError
from neuroseg.train.config import DataConfig, TrainConfig

if TYPE_CHECKING:
    from neuroseg.train.cv import CVResult
    from neuroseg.train.fit import FitResult

__all__ = [
    "Experiment",
    "check_split",
    "cross_validate_experiment",
    "input_channels",
    "load_experiment",
    "make_strategy",
    "prepare_run_dir",
    "split_kind",
    "split_validation",
    "stratified_subset",
    "train_experiment",
]

_SECTIONS = {"data", "model", "augment", "train", "cv"}
_AUGMENT_FLAGS = {"flip", "vflip", "rot90"}
# keys whose value is the probability of applying the transform to a sample
_AUGMENT_PROBABILITIES = {"affine", "brightness", "contrast", "gamma"}
_AUGMENT_KEYS = _AUGMENT_FLAGS | _AUGMENT_PROBABILITIES
_CV_KEYS = {"folds"}
#: What a run prints: ``print`` by default; pass another function to capture it.
Log = Callable[[str], None]


@dataclass
class Experiment:
    """A parsed experiment config (see the module docs for the TOML layout).

    ``data`` and ``train`` may be given as :class:`~neuroseg.train.config.DataConfig` and
    :class:`~neuroseg.train.config.TrainConfig` (they are stored as dicts, as read from
    TOML); every section is checked when the object is made.

    Attributes:
        data: The ``[data]`` keys as given.
        model: The ``[model]`` keys: ``name`` and keyword arguments of ``create_model``.
        augment: The ``[augment]`` keys.
        train: The ``[train]`` keys as given (see :meth:`train_config`).
        cv: The ``[cv]`` keys (``folds``).
        source: Where the config comes from (a file name), put before error messages.
        data_config: ``data`` parsed and checked once.

    Example:
        >>> exp = Experiment(
        ...     data=DataConfig(format="figshare", path="data/figshare", image_size=64),
        ...     model={"name": "resunet-small"},
        ...     train=TrainConfig(epochs=2),
        ... )
        >>> exp.data_config.image_size, exp.train_config().epochs
        (64, 2)
    """

    data: dict[str, Any]
    model: dict[str, Any]
    augment: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    cv: dict[str, Any] = field(default_factory=dict)
    source: str | None = field(default=None, repr=False, compare=False)
    data_config: DataConfig = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        prefix = f"{self.source}: " if self.source else ""
        if isinstance(self.data, DataConfig):
            self.data = self.data.to_dict()
        if isinstance(self.train, TrainConfig):
            self.train = self.train.to_dict()
        for name in ("data", "model", "augment", "train", "cv"):
            if not isinstance(getattr(self, name), dict):
                raise ConfigError(
                    f"{prefix}[{name}] must be a table of keys, got {getattr(self, name)!r}."
                )
        self.data_config = DataConfig.from_dict(self.data, source=self.source)
        if "name" not in self.model:
            raise ConfigError(f"{prefix}[model] needs 'name' (see `neuroseg models list`).")
        self._check_augment(prefix)
        bad = set(self.cv) - _CV_KEYS
        if bad:
            raise ConfigError(
                f"{prefix}unknown [cv] key(s) {sorted(bad)}; valid: {sorted(_CV_KEYS)}"
            )
        folds = self.cv.get("folds", 5)
        if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
            raise ConfigError(f"{prefix}cv.folds must be an integer >= 2, got {folds!r}.")
        self.train_config()  # validates the [train] fields early

    def _check_augment(self, prefix: str) -> None:
        bad = set(self.augment) - _AUGMENT_KEYS
        if bad:
            raise ConfigError(
                f"{prefix}unknown [augment] key(s) {sorted(bad)}; valid: {sorted(_AUGMENT_KEYS)}"
            )
        for key in sorted(_AUGMENT_FLAGS & set(self.augment)):
            if not isinstance(self.augment[key], bool):
                raise ConfigError(
                    f"{prefix}augment.{key} must be true or false, got {self.augment[key]!r}."
                )
        for key in sorted(_AUGMENT_PROBABILITIES & set(self.augment)):
            p = self.augment[key]
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
                raise ConfigError(
                    f"{prefix}[augment] {key} is the probability of applying it: a number in "
                    f"[0, 1], got {p!r}."
                )

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, source: str = "config") -> Experiment:
        """Validate the sections and keys.

        Raises:
            ConfigError: Unknown section or key, a missing required key, or a value of the
                wrong type or out of range (the message names ``section.key``).
        """
        unknown = set(raw) - _SECTIONS
        if unknown:
            raise ConfigError(
                f"{source}: unknown section(s) {sorted(unknown)}; valid: {sorted(_SECTIONS)}"
            )
        return cls(
            raw.get("data", {}),
            raw.get("model", {}),
            raw.get("augment", {}),
            raw.get("train", {}),
            raw.get("cv", {}),
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the sections as a dict."""
        return {"data": self.data, "model": self.model, "augment": self.augment,
                "train": self.train, "cv": self.cv}  # fmt: skip

    def _train_fields(self) -> tuple[dict[str, Any], list[str]]:
        """The ``[train]`` fields as used, and a note for each value changed."""
        fields = dict(self.train)
        notes: list[str] = []
        warmup, epochs = fields.get("warmup_epochs"), fields.get("epochs", 50)
        if (
            isinstance(warmup, int)
            and isinstance(epochs, int)
            and not isinstance(warmup, bool)
            and not isinstance(epochs, bool)
            and epochs >= 1
            and warmup >= epochs
        ):
            fields["warmup_epochs"] = epochs - 1
            notes.append(
                f"[train] warmup_epochs = {warmup} lowered to {epochs - 1}: the warm-up must "
                f"end before the last of the {epochs} epoch(s)."
            )
        return fields, notes

    def train_config(self) -> TrainConfig:
        """The ``[train]`` section as a :class:`~neuroseg.train.TrainConfig`.

        ``warmup_epochs`` is lowered to ``epochs - 1`` when it is not below ``epochs`` (as
        after ``--set train.epochs=1`` on a config with a warm-up); :meth:`notes` says so.
        """
        return TrainConfig.from_dict(self._train_fields()[0], source=self.source)

    def notes(self) -> list[str]:
        """What :meth:`train_config` changed in the config, one sentence each (for the log)."""
        return self._train_fields()[1]

    def load_data(self) -> SliceDataset:
        """Load the ``[data]`` dataset, applying ``limit`` (see :func:`stratified_subset`)."""
        from neuroseg.data import load_dataset

        data = self.data_config
        ds = load_dataset(data.format, data.path, **data.options)
        if data.limit > 0:
            ds = stratified_subset(ds, data.limit, seed=self.train_config().seed)
        if data.ungrouped == "near-copies" and any(r.group is None for r in ds):
            from neuroseg.data import group_near_copies

            warnings.warn(
                f"{data.path}: records without patient IDs are grouped by near-copy "
                "only; neighbouring slices of one patient can still fall on both sides of a "
                "split, so validation figures over-estimate accuracy on new patients.",
                UserWarning,
                stacklevel=2,
            )
            ds = group_near_copies(ds)
        return ds

    def task(self) -> str:
        """``[data] task``, else ``[train] task``, else ``"segmentation"``."""
        task = self.data_config.task or self.train.get("task", "auto")
        return "segmentation" if task == "auto" else str(task)

    def folds(self, override: int | None = None) -> int:
        """The number of cross-validation folds: ``override``, else ``[cv] folds`` (5)."""
        return int(override or self.cv.get("folds", 5))

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
            if p > 0:
                steps.append(factories[key](p=float(p)))
        return Compose(steps) if steps else None

    def pipeline_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``to_tf_dataset`` shared by training and validation."""
        data = self.data_config
        return {
            "task": self.task(),
            "image_size": data.image_size,
            "channels": data.channels,
            "batch_size": data.batch_size,
            "cache": data.cache,
            "crop": data.crop_mode,
        }

    def preprocessor(self, channels: int) -> SlicePreprocessor:
        """The slice preparation of this experiment, saved with every model it trains.

        Example:
            >>> from neuroseg.train.config import DataConfig
            >>> data = DataConfig(format="lgg", path="x", image_size=64, crop="brain")
            >>> exp = Experiment(data=data, model={"name": "resunet-small"})
            >>> exp.preprocessor(1).get_config()["image_size"], exp.preprocessor(1).crop
            ((64, 64), 'brain')
        """
        data = self.data_config
        return SlicePreprocessor(
            channels=channels,
            image_size=data.image_size,
            crop="brain" if data.crop_mode == "brain" else None,
            size_multiple=1 if data.image_size is None else 32,
        )

    def model_pipeline(self, channels: int) -> dict[str, Any]:
        """:meth:`pipeline_kwargs` with the slice preparation as one ``preprocessor``."""
        pipe = self.pipeline_kwargs()
        for key in ("image_size", "channels", "crop"):
            pipe.pop(key)
        pipe["preprocessor"] = self.preprocessor(channels)
        return pipe

    def build_model(self, channels: int) -> Any:
        """Create the ``[model]`` model for inputs of ``channels`` channels."""
        from neuroseg.models import create_model

        kwargs = {k: v for k, v in self.model.items() if k != "name"}
        size = self.data_config.image_size
        if size is not None:
            h, w = (size, size) if isinstance(size, int) else tuple(size)
            kwargs.setdefault("input_shape", (h, w, channels))
        return create_model(self.model["name"], **kwargs)


def prepare_run_dir(exp: Experiment, out: str | os.PathLike[str], *, log: Log = print) -> Path:
    """Create the run directory and save the resolved config in it as ``experiment.toml``.

    Each :meth:`Experiment.notes` line is logged as ``note: ...``.
    """
    from neuroseg.train.toml import dumps

    run = Path(out)
    run.mkdir(parents=True, exist_ok=True)
    (run / "experiment.toml").write_text(dumps(exp.to_dict()))
    for note in exp.notes():
        log(f"note: {note}")
    return run


def check_split(train: SliceDataset, val: SliceDataset, *, log: Log = print) -> None:
    """Refuse shared patients or identical images; log perceptual near-duplicates.

    Raises:
        DataError: A patient (group) or an identical image is on both sides.
    """
    from neuroseg.data import check_leakage
    from neuroseg.errors import DataError

    report = check_leakage(train, val)
    if report.shared_groups or report.duplicate_pairs:
        raise DataError(
            f"Leakage between training and validation: shared patients {report.shared_groups[:5]}, "
            f"identical images {report.duplicate_pairs[:3]}. Fix the split or the data."
        )
    near = getattr(report, "near_duplicate_pairs", [])
    if near:
        log(
            f"warning: {len(near)} near-duplicate image pair(s) across training and validation "
            f"(perceptual hash), e.g. {near[0][0]} ~ {near[0][1]}. Inspect them: they may be "
            "the same patient under different IDs."
        )


def split_validation(
    exp: Experiment, dataset: SliceDataset, *, log: Log = print
) -> tuple[SliceDataset, SliceDataset | None]:
    """Split off the ``[data]`` validation set (``val_groups`` or ``val_fraction``).

    The split is by group (patient), seeded by ``[train] seed``, and checked for leakage
    with :func:`check_split`. Without ``val_groups`` or ``val_fraction`` the validation set
    is ``None``.
    """
    from neuroseg.data import train_test_split

    data = exp.data_config
    if not data.has_validation:
        return dataset, None
    train, val = train_test_split(
        dataset,
        test_groups=data.val_groups,
        test_size=float(data.val_fraction or 0.25),
        seed=exp.train_config().seed,
    )
    check_split(train, val, log=log)
    return train, val


def split_kind(val: SliceDataset) -> str:
    """How a validation split was grouped, in words (for the run summary)."""
    assumed = sum(bool(r.meta.get("patient_id_assumed")) for r in val)
    if not assumed:
        return "patient-wise"
    if assumed == len(val):
        return "grouped by near-copies, not by patient"
    return "patient-wise where IDs are known, else by near-copies"


def input_channels(exp: Experiment, dataset: SliceDataset) -> int:
    """The model's input channels: ``[data] channels``, else the first image's count."""
    channels = exp.data_config.channels
    return channels if channels is not None else int(dataset[0].load_image().shape[-1])


def make_strategy(name: str | None, *, log: Log = print) -> Any:
    """A ``tf.distribute`` strategy by name.

    ``"mirrored"`` uses every local GPU; ``None`` or ``"none"`` the default device (no
    strategy).

    Raises:
        ConfigError: Another name.
    """
    if name in (None, "none"):
        return None
    if name != "mirrored":
        raise ConfigError(f"Unknown strategy {name!r}; choose 'none' or 'mirrored'.")
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy()
    log(f"MirroredStrategy over {strategy.num_replicas_in_sync} device(s)")
    return strategy


def _verbose() -> int:
    return 1 if sys.stdout.isatty() else 2


def train_experiment(
    exp: Experiment,
    out: str | os.PathLike[str],
    *,
    resume: bool = False,
    strategy: str | None = None,
    verbose: int | None = None,
    log: Log = print,
) -> FitResult:
    """Train one model as ``neuroseg train`` does.

    Writes ``experiment.toml`` into ``out``, loads the data, splits off the validation set
    patient-wise (refusing leakage), seeds, builds the model (inside the distribution
    strategy, if any) and runs :func:`~neuroseg.train.fit` with checkpoints in ``out``.

    Args:
        exp: The experiment (:func:`load_experiment`, or built from a
            :class:`~neuroseg.train.config.DataConfig` and a
            :class:`~neuroseg.train.TrainConfig`).
        out: The run directory.
        resume: Continue from the last finished epoch in ``out``.
        strategy: ``"mirrored"`` trains on every local GPU; ``None``: the default device.
        verbose: Keras' progress output (0 silent, 1 bar, 2 one line per epoch); ``None``
            picks 1 on a terminal, else 2.
        log: Receives the run's messages (``print`` by default).

    Returns:
        The :class:`~neuroseg.train.FitResult`.

    Example:
        >>> from neuroseg.train.config import DataConfig, TrainConfig
        >>> exp = Experiment(  # doctest: +SKIP
        ...     data=DataConfig(format="figshare", path="../shared/data/figshare-cheng",
        ...                     image_size=128, val_groups=["fold-4"]),
        ...     model={"name": "resunet-small"},
        ...     train=TrainConfig(epochs=5, seed=0),
        ... )
        >>> train_experiment(exp, "runs/seg").best_value  # doctest: +SKIP
    """
    from neuroseg.train.data import epoch_pipeline
    from neuroseg.train.fit import fit
    from neuroseg.train.seed import set_seed

    prepare_run_dir(exp, out, log=log)
    config = exp.train_config()
    ds, val = split_validation(exp, exp.load_data(), log=log)
    channels = input_channels(exp, ds)
    pipe = exp.model_pipeline(channels)
    # saved first: a run directory's checkpoints always find how their slices were prepared
    pipe["preprocessor"].save(Path(out) / "preprocessor.json")
    log(
        f"neuroseg train: {len(ds)} training slices"
        + (f", {len(val)} validation slices ({split_kind(val)})" if val is not None else "")
        + f"; model {exp.model['name']}; {config.epochs} epochs -> {out}"
    )
    make = epoch_pipeline(ds, seed=config.seed, augment=exp.augmentation(), **pipe)
    val_ds = val.to_tf_dataset(**pipe) if val is not None else None
    set_seed(config.seed, deterministic=config.deterministic)  # before the weights are drawn
    dist = make_strategy(strategy, log=log)
    if dist is not None:
        with dist.scope():
            model = exp.build_model(channels)
    else:
        model = exp.build_model(channels)
    return fit(
        model,
        make,
        val_ds,
        config=config,
        out=out,
        resume=resume,
        strategy=dist,
        verbose=_verbose() if verbose is None else verbose,
    )


def cross_validate_experiment(
    exp: Experiment,
    out: str | os.PathLike[str],
    *,
    folds: int | None = None,
    resume: bool = False,
    verbose: int | None = None,
    log: Log = print,
) -> CVResult:
    """Cross-validate as ``neuroseg cv`` does: patient-wise folds, one run directory each.

    Args:
        exp: The experiment.
        out: The folder for ``fold_<k>/``, ``cv_folds.csv`` and ``cv_summary.json``.
        folds: The number of folds; ``None``: ``[cv] folds`` (default 5).
        resume: Skip finished folds and continue the unfinished one.
        verbose: As for :func:`train_experiment`.
        log: Receives the run's messages.

    Returns:
        The :class:`~neuroseg.train.CVResult`.
    """
    from neuroseg.train.cv import cross_validate

    prepare_run_dir(exp, out, log=log)
    ds = exp.load_data()
    channels = input_channels(exp, ds)
    pipe = exp.model_pipeline(channels)
    return cross_validate(
        lambda: exp.build_model(channels),
        ds,
        folds=exp.folds(folds),
        config=exp.train_config(),
        out=out,
        pipeline=pipe,
        augment=exp.augmentation(),
        resume=resume,
        verbose=_verbose() if verbose is None else verbose,
    )


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
        ConfigError: Missing file, invalid TOML, or invalid contents; the message names
            the file, the key (``section.key``) and, for a value given with ``--set``,
            that override.
    """
    from neuroseg.train.toml import apply_overrides, loads

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found.")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read the config ({exc}).") from exc
    raw = apply_overrides(loads(text, source=str(p)), overrides or [])
    try:
        return Experiment.from_dict(raw, source=str(p))
    except ConfigError as exc:
        given = [o for o in overrides or [] if o.partition("=")[0].strip() in str(exc)]
        if not given:
            raise
        raise ConfigError(f"{exc} (set by --set {', --set '.join(given)})") from exc
