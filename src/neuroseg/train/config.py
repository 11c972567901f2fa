"""Training configuration as a serialisable dataclass."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from neuroseg.errors import ConfigError

__all__ = ["TrainConfig"]


@dataclass
class TrainConfig:
    """Options for :func:`neuroseg.train.fit`.

    Attributes:
        epochs: Number of epochs.
        learning_rate: Initial learning rate.
        schedule: ``"constant"`` or ``"cosine"`` (cosine decay to zero over all epochs).
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"``.
        loss: ``"dice_bce"``, ``"dice"`` or ``"bce"`` for segmentation.
        seed: Seed for Python, NumPy and the backend.
        early_stopping_patience: Stop after this many epochs without improvement of the
            monitored value; ``None`` disables early stopping.
        monitor: The value that selects ``best.keras``; ``"auto"`` is ``val_dice`` with
            validation data and ``dice`` without.
    """

    epochs: int = 50
    learning_rate: float = 1e-3
    schedule: str = "constant"
    optimizer: str = "adam"
    loss: str = "dice_bce"
    seed: int = 0
    early_stopping_patience: int | None = None
    monitor: str = "auto"

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.schedule not in ("constant", "cosine"):
            raise ConfigError(f"Unknown schedule {self.schedule!r}; choose constant or cosine.")

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict, refusing unknown keys.

        Raises:
            ConfigError: A key is not a field.
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
        """Read from a JSON string or file."""
        p = Path(text_or_path)
        text = p.read_text() if p.suffix == ".json" and p.is_file() else str(text_or_path)
        return cls.from_dict(json.loads(text))
