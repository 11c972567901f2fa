"""Experiment configuration as typed, validated dataclasses (JSON and TOML).

:class:`TrainConfig` holds a config's ``[train]`` section, :class:`DataConfig` its
``[data]`` section. Both check every value once, when they are made: a value of the wrong
type or out of range, or an unknown key, raises a :class:`~neuroseg.errors.ConfigError`
naming the key as ``section.key`` (and the file, when read from one) and the valid values.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from neuroseg.errors import ConfigError

__all__ = ["DataConfig", "TrainConfig"]

_SCHEDULES = ("constant", "cosine", "plateau")
_OPTIMIZERS = ("adam", "adamw", "sgd")
_TASKS = ("auto", "segmentation", "classification", "multitask")
_CROPS = ("none", "brain")
_UNGROUPED = ("error", "near-copies")


def _shown(value: Any) -> str:
    """``value`` as an error message shows it: its repr and, for a string, its type."""
    kind = {str: "a string", bool: "a boolean", float: "a number", int: "an integer"}
    extra = kind.get(type(value))
    if isinstance(value, (list, tuple)):
        extra = "a list"
    elif isinstance(value, dict):
        extra = "a table"
    return f"{value!r} ({extra})" if extra else repr(value)


def _bad(key: str, wanted: str, value: Any) -> ConfigError:
    return ConfigError(f"{key} must be {wanted}, got {_shown(value)}.")


def _int(key: str, value: Any, *, minimum: int | None = None, none: bool = False) -> Any:
    """Check an integer (not a boolean) of at least ``minimum``; ``None`` if allowed."""
    if value is None and none:
        return None
    wanted = "an integer" + (f" >= {minimum}" if minimum is not None else "")
    if none:
        wanted += " (or left out)"
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(key, wanted, value)
    if minimum is not None and value < minimum:
        raise _bad(key, wanted, value)
    return value


def _float(
    key: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    none: bool = False,
) -> Any:
    """Check a number (an integer is accepted and made a float) in the given range."""
    if value is None and none:
        return None
    if low is not None and high is not None:
        wanted = (
            f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        )
    elif low is not None:
        wanted = f"a number {'>' if low_open else '>='} {low:g}"
    else:
        wanted = "a number"
    if none:
        wanted += " (or left out)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(key, wanted, value)
    v = float(value)
    if v != v or (low is not None and (v < low or (low_open and v == low))):
        raise _bad(key, wanted, value)
    if high is not None and (v > high or (high_open and v == high)):
        raise _bad(key, wanted, value)
    return v


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad(key, "true or false", value)
    return value


def _choice(key: str, value: Any, valid: Sequence[Any]) -> Any:
    if not isinstance(value, str) or value not in valid:
        raise ConfigError(
            f"{key} must be one of {', '.join(map(repr, valid))}, got {_shown(value)}."
        )
    return value


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(key, "a non-empty string", value)
    return value


def _from_dict(cls: Any, section: str, data: Any, source: str | None, unknown_is: str) -> Any:
    """Build ``cls(**data)``, refusing unknown keys; errors start with ``source``."""
    prefix = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix}[{section}] must be a table of keys, got {_shown(data)}.")
    known = sorted(f.name for f in fields(cls) if f.init)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{prefix}{unknown_is} {unknown}; valid: {known}")
    try:
        return cls(**data)
    except ConfigError as exc:
        if not prefix:
            raise
        raise ConfigError(f"{prefix}{exc}") from exc


@dataclass
class TrainConfig:
    """Options for :func:`neuroseg.train.fit`.

    The defaults suit segmentation (Dice + BCE, best model by validation Dice) and work for
    classification (cross-entropy, best model by validation loss); ``task="auto"`` picks
    from the shape of the data.

    Attributes:
        epochs: Number of epochs.
        learning_rate: Initial (peak, with warm-up) learning rate.
        schedule: ``"constant"``, ``"cosine"`` (decay to 0 over all epochs) or ``"plateau"``
            (multiply by ``plateau_factor`` after ``plateau_patience`` epochs without
            improvement of ``monitor``).
        warmup_epochs: Linear warm-up epochs before the schedule (``"cosine"`` only).
        plateau_factor: Learning-rate factor for ``"plateau"``.
        plateau_patience: Epochs without improvement before ``"plateau"`` lowers the rate.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"`` (momentum 0.9).
        weight_decay: Decoupled weight decay (``"adamw"``).
        clipnorm: Clip each gradient's norm to this value (``None``: no clipping).
        ema_momentum: Keep an exponential moving average of the weights, updated after
            every step with this momentum (e.g. ``0.99``: about the last 100 steps), as
            Keras' ``use_ema`` does. Validation, ``best.keras``, ``last.keras`` and the
            returned model use the averaged weights; training itself continues from the
            trained weights (kept in the optimizer's average slots between epochs), so
            the average never changes the path of the training. It smooths the
            step-to-step noise of a constant learning rate. ``None``: off.
        loss: ``"auto"`` (by task) or a name: ``dice_bce``, ``dice``, ``bce`` for
            segmentation, ``crossentropy`` for classification.
        task: ``"auto"``, ``"segmentation"``, ``"classification"`` or ``"multitask"``.
        class_weight: For classification: ``None``, ``"balanced"`` (inverse frequency,
            computed from the training labels) or a mapping ``{class_index: weight}``.
        seed: Seeds Python, NumPy and the backend once per ``fit``; epoch ``e`` reseeds
            dropout with ``seed + e``.
        deterministic: Also turn on TensorFlow op determinism (slower; exact reruns).
        mixed_precision: Require a model built with a mixed dtype policy.
        jit_compile: XLA: ``"auto"``, ``True`` or ``False``.
        early_stopping_patience: Stop after this many epochs without improvement of
            ``monitor``; ``None`` disables early stopping.
        monitor: The value that selects ``best.keras``; ``"auto"`` is ``val_dice`` for
            segmentation and ``val_loss`` otherwise (without validation data, the training
            twin). Any logged value may be named, ``lr`` included.
        monitor_mode: ``"max"``, ``"min"``, or ``"auto"`` (max for Dice, IoU, precision,
            recall, accuracy, AUC and F1; min otherwise).
    """

    epochs: int = 50
    learning_rate: float = 1e-3
    schedule: str = "constant"
    warmup_epochs: int = 0
    plateau_factor: float = 0.5
    plateau_patience: int = 5
    optimizer: str = "adam"
    weight_decay: float = 1e-4
    clipnorm: float | None = None
    ema_momentum: float | None = None
    loss: str = "auto"
    task: str = "auto"
    class_weight: Any = None
    seed: int = 0
    deterministic: bool = False
    mixed_precision: bool = False
    jit_compile: Any = "auto"
    early_stopping_patience: int | None = None
    monitor: str = "auto"
    monitor_mode: str = "auto"

    def __post_init__(self) -> None:
        self.epochs = _int("train.epochs", self.epochs, minimum=1)
        self.learning_rate = _float("train.learning_rate", self.learning_rate, low=0, low_open=True)
        for name, value, valid in (
            ("schedule", self.schedule, _SCHEDULES),
            ("optimizer", self.optimizer, _OPTIMIZERS),
            ("task", self.task, _TASKS),
            ("monitor_mode", self.monitor_mode, ("auto", "min", "max")),
        ):
            _choice(f"train.{name}", value, valid)
        self.warmup_epochs = _int("train.warmup_epochs", self.warmup_epochs, minimum=0)
        if self.warmup_epochs >= self.epochs:
            raise ConfigError(
                f"train.warmup_epochs must be in [0, epochs), got {self.warmup_epochs} "
                f"for {self.epochs} epochs"
            )
        if self.warmup_epochs and self.schedule != "cosine":
            raise ConfigError("train.warmup_epochs needs schedule='cosine'.")
        self.plateau_factor = _float(
            "train.plateau_factor",
            self.plateau_factor,
            low=0,
            high=1,
            low_open=True,
            high_open=True,
        )
        self.plateau_patience = _int("train.plateau_patience", self.plateau_patience, minimum=0)
        self.weight_decay = _float("train.weight_decay", self.weight_decay, low=0)
        self.clipnorm = _float("train.clipnorm", self.clipnorm, low=0, low_open=True, none=True)
        self.ema_momentum = _float(
            "train.ema_momentum",
            self.ema_momentum,
            low=0,
            high=1,
            low_open=True,
            high_open=True,
            none=True,
        )
        _str("train.loss", self.loss)
        self.seed = _int("train.seed", self.seed, minimum=0)
        self.deterministic = _bool("train.deterministic", self.deterministic)
        self.mixed_precision = _bool("train.mixed_precision", self.mixed_precision)
        if not isinstance(self.jit_compile, bool) and self.jit_compile != "auto":
            raise ConfigError(
                f"train.jit_compile must be 'auto', true or false, got {self.jit_compile!r}"
            )
        self.early_stopping_patience = _int(
            "train.early_stopping_patience", self.early_stopping_patience, minimum=0, none=True
        )
        _str("train.monitor", self.monitor)
        cw = self.class_weight
        if cw is not None and cw != "balanced" and not isinstance(cw, dict):
            raise ConfigError(
                f"train.class_weight must be None, 'balanced' or a mapping, got {cw!r}"
            )
        if isinstance(cw, dict):
            try:
                self.class_weight = {int(k): float(v) for k, v in cw.items()}
            except (TypeError, ValueError):
                raise ConfigError(
                    "train.class_weight must map class indices to numbers, e.g. "
                    f'{{ "0" = 1.0, "1" = 2.5 }}, got {cw!r}'
                ) from None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (JSON-compatible)."""
        out = asdict(self)
        if isinstance(out["class_weight"], dict):
            out["class_weight"] = {str(k): v for k, v in out["class_weight"].items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> TrainConfig:
        """Build from a dict, refusing unknown keys.

        Args:
            data: The ``[train]`` keys.
            source: Where they come from (a file name), put before any error message.

        Raises:
            ConfigError: A key is not a field, or a value is invalid.

        Example:
            >>> TrainConfig.from_dict({"epochs": 3, "schedule": "cosine"}).epochs
            3
        """
        config: TrainConfig = _from_dict(cls, "train", data, source, "Unknown TrainConfig field(s)")
        return config

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Serialise to JSON, writing it to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike[str]) -> TrainConfig:
        """Read from a JSON string or a ``.json`` file."""
        p = Path(text_or_path)
        text = p.read_text() if p.suffix == ".json" and p.is_file() else str(text_or_path)
        return cls.from_dict(json.loads(text))

    def to_toml(self) -> str:
        """Serialise as the body of a TOML ``[train]`` table (``None`` fields are omitted)."""
        from neuroseg.train.toml import dumps

        return dumps({k: v for k, v in self.to_dict().items() if v is not None})

    @classmethod
    def from_toml(cls, text: str) -> TrainConfig:
        """Read from TOML text holding the fields at top level."""
        from neuroseg.train.toml import loads

        return cls.from_dict(loads(text))


@dataclass
class DataConfig:
    """A config's ``[data]`` section: what to load and how to feed it to the model.

    Every value is checked when the object is made; :meth:`from_dict` also refuses
    unknown keys. Errors name the key as ``data.<key>``.

    Attributes:
        format: The layout, a name in :data:`neuroseg.data.FORMATS` (e.g. ``"figshare"``).
        path: The dataset's root folder or file.
        options: Extra keyword arguments for the loader, e.g. ``no_tumor_root`` for
            ``"four-class"``, or ``patient_pattern`` / ``patient_table`` to set patient
            IDs (see :func:`neuroseg.data.load_dataset`).
        task: ``"segmentation"``, ``"classification"``, ``"multitask"``, or ``None``
            (``[train] task``, else segmentation).
        image_size: Resize every slice to ``N`` x ``N`` (an integer) or ``[H, W]``;
            ``None`` keeps the stored size (all slices must then match).
        channels: Convert every image to this many channels (1 grey, 3 RGB, or the
            data's count); ``None`` takes the first image's.
        crop: ``"brain"`` crops each slice to the brain before resizing; ``"none"`` not.
        batch_size: Slices per batch, at least 1.
        cache: Keep the decoded slices in memory after the first epoch.
        limit: Keep a seeded, stratified subset of this many slices that keeps patients
            together (see :func:`neuroseg.train.experiment.stratified_subset`); 0 keeps all.
        val_groups: The groups (patient IDs, or ``"fold-<k>"`` for publisher folds) held
            out for validation; ``[]`` or ``None``: none (``--set data.val_groups=[]``
            trains a final model on every group).
        val_fraction: Else the fraction of groups held out at random (seeded by
            ``[train] seed``), in ``(0, 1)``; 0 or ``None``: no validation split.
        ungrouped: Records without a patient ID: ``"error"`` refuses to split them,
            ``"near-copies"`` groups near-identical images so no split separates them.

    Example:
        >>> DataConfig(format="figshare", path="data/figshare", image_size=[128, 96]).image_size
        (128, 96)
        >>> DataConfig.from_dict({"format": "figshare", "path": "x", "batch_size": 0})
        Traceback (most recent call last):
        ...
        neuroseg.errors.ConfigError: data.batch_size must be an integer >= 1, got 0 (an integer).
    """

    format: str
    path: str
    options: dict[str, Any] = field(default_factory=dict)
    task: str | None = None
    image_size: int | tuple[int, int] | None = None
    channels: int | None = None
    crop: str = "none"
    batch_size: int = 8
    cache: bool = False
    limit: int = 0
    val_groups: list[str] | None = None
    val_fraction: float | None = None
    ungrouped: str = "error"

    def __post_init__(self) -> None:
        _str("data.format", self.format)
        if isinstance(self.path, os.PathLike):
            self.path = os.fspath(self.path)
        _str("data.path", self.path)
        if not isinstance(self.options, dict):
            raise _bad("data.options", 'a table, e.g. { no_tumor_root = "..." }', self.options)
        if self.task is not None:
            _choice("data.task", self.task, _TASKS)
        self.image_size = self._size(self.image_size)
        self.channels = _int("data.channels", self.channels, minimum=1, none=True)
        _choice("data.crop", self.crop, _CROPS)
        self.batch_size = _int("data.batch_size", self.batch_size, minimum=1)
        self.cache = _bool("data.cache", self.cache)
        self.limit = _int("data.limit", self.limit, minimum=0)
        if self.val_groups is not None:
            groups = self.val_groups
            if not isinstance(groups, (list, tuple)) or not all(
                isinstance(g, str) and g for g in groups
            ):
                raise _bad(
                    "data.val_groups",
                    'a list of group names, e.g. ["fold-4"] ([] for none)',
                    groups,
                )
            self.val_groups = list(groups)
        self.val_fraction = _float(
            "data.val_fraction", self.val_fraction, low=0, high=1, high_open=True, none=True
        )
        if self.val_groups and self.val_fraction:
            raise ConfigError(
                "data.val_groups and data.val_fraction are both set; give one of them "
                "(val_groups picks the validation groups, val_fraction draws them)."
            )
        _choice("data.ungrouped", self.ungrouped, _UNGROUPED)

    @staticmethod
    def _size(size: Any) -> int | tuple[int, int] | None:
        wanted = "an integer >= 1 or a list [height, width] of two (or left out)"
        if size is None:
            return None
        if isinstance(size, (list, tuple)):
            if len(size) != 2 or any(
                isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in size
            ):
                raise _bad("data.image_size", wanted, size)
            return (int(size[0]), int(size[1]))
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise _bad("data.image_size", wanted, size)
        return size

    @property
    def has_validation(self) -> bool:
        """Whether a validation split is asked for (``val_groups`` or ``val_fraction``)."""
        return bool(self.val_groups) or bool(self.val_fraction)

    @property
    def crop_mode(self) -> str | None:
        """``crop`` as the pipeline takes it: ``"brain"`` or ``None``."""
        return None if self.crop == "none" else self.crop

    def to_dict(self) -> dict[str, Any]:
        """The keys that differ from the defaults, plus ``format`` and ``path`` (TOML-ready)."""
        out: dict[str, Any] = {}
        defaults = DataConfig(format="x", path="x")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("format", "path") or value != getattr(defaults, f.name):
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> DataConfig:
        """Build from a ``[data]`` table, refusing unknown keys.

        Args:
            data: The ``[data]`` keys.
            source: Where they come from (a file name), put before any error message.

        Raises:
            ConfigError: An unknown or missing key, or an invalid value; the message names
                the key and lists the valid keys or values.

        Example:
            >>> DataConfig.from_dict({"format": "lgg", "path": "x", "n": 6})  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            neuroseg.errors.ConfigError: unknown [data] key(s) ['n']; valid: [...]
        """
        prefix = f"{source}: " if source else ""
        if isinstance(data, dict):
            for key in ("format", "path"):
                if key not in data:
                    raise ConfigError(f"{prefix}[data] needs '{key}' (data.{key}).")
        config: DataConfig = _from_dict(cls, "data", data, source, "unknown [data] key(s)")
        return config
