"""Training configuration as a serialisable dataclass (JSON and TOML)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from neuroseg.errors import ConfigError

__all__ = ["TrainConfig"]

_SCHEDULES = ("constant", "cosine", "plateau")
_OPTIMIZERS = ("adam", "adamw", "sgd")
_TASKS = ("auto", "segmentation", "classification", "multitask")


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
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        for name, value, valid in (
            ("schedule", self.schedule, _SCHEDULES),
            ("optimizer", self.optimizer, _OPTIMIZERS),
            ("task", self.task, _TASKS),
            ("monitor_mode", self.monitor_mode, ("auto", "min", "max")),
        ):
            if value not in valid:
                raise ConfigError(f"Unknown {name} {value!r}; choose one of {', '.join(valid)}.")
        if self.warmup_epochs < 0 or self.warmup_epochs >= self.epochs:
            raise ConfigError(
                f"warmup_epochs must be in [0, epochs), got {self.warmup_epochs} "
                f"for {self.epochs} epochs"
            )
        if self.warmup_epochs and self.schedule != "cosine":
            raise ConfigError("warmup_epochs needs schedule='cosine'.")
        if not 0 < self.plateau_factor < 1:
            raise ConfigError(f"plateau_factor must be in (0, 1), got {self.plateau_factor}")
        if self.clipnorm is not None and self.clipnorm <= 0:
            raise ConfigError(f"clipnorm must be > 0 or None, got {self.clipnorm}")
        if self.jit_compile not in ("auto", True, False):
            raise ConfigError(
                f"jit_compile must be 'auto', true or false, got {self.jit_compile!r}"
            )
        cw = self.class_weight
        if cw is not None and cw != "balanced" and not isinstance(cw, dict):
            raise ConfigError(f"class_weight must be None, 'balanced' or a mapping, got {cw!r}")
        if isinstance(cw, dict):
            self.class_weight = {int(k): float(v) for k, v in cw.items()}

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (JSON-compatible)."""
        out = asdict(self)
        if isinstance(out["class_weight"], dict):
            out["class_weight"] = {str(k): v for k, v in out["class_weight"].items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict, refusing unknown keys.

        Raises:
            ConfigError: A key is not a field, or a value is invalid.

        Example:
            >>> TrainConfig.from_dict({"epochs": 3, "schedule": "cosine"}).epochs
            3
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown TrainConfig field(s) {unknown}; valid: {sorted(known)}")
        return cls(**data)

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
