"""The fit helper: compile, train with a progress bar, and write a run directory."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import keras

from neuroseg.errors import ConfigError
from neuroseg.metrics import Dice, DiceBCELoss, DiceLoss, IoU, Precision, Recall
from neuroseg.train.config import TrainConfig
from neuroseg.train.seed import set_seed

__all__ = ["fit", "make_loss", "make_optimizer"]


def make_loss(name: str) -> keras.losses.Loss:
    """Return the segmentation loss called ``name`` (``dice_bce``, ``dice`` or ``bce``)."""
    if name == "dice_bce":
        return DiceBCELoss()
    if name == "dice":
        return DiceLoss()
    if name == "bce":
        return keras.losses.BinaryCrossentropy()
    raise ConfigError(f"Unknown loss {name!r}; choose dice_bce, dice or bce.")


def make_optimizer(name: str, learning_rate: Any) -> keras.optimizers.Optimizer:
    """Return the optimiser called ``name`` (``adam``, ``adamw`` or ``sgd``).

    ``learning_rate`` is a float or a Keras learning-rate schedule.
    """
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    raise ConfigError(f"Unknown optimizer {name!r}; choose adam, adamw or sgd.")


def fit(
    model: keras.Model,
    train: Any,
    val: Any = None,
    *,
    config: TrainConfig | None = None,
    out: str | os.PathLike[str] | None = None,
    verbose: int | str = "auto",
) -> keras.callbacks.History:
    """Train a segmentation model and (optionally) write a run directory.

    The model is compiled with the configured optimiser and loss and the streaming
    :class:`~neuroseg.metrics.Dice`, :class:`~neuroseg.metrics.IoU`,
    :class:`~neuroseg.metrics.Precision` and :class:`~neuroseg.metrics.Recall` metrics.
    Keras shows a progress bar per epoch.

    With ``out``, the run directory holds ``config.json``, ``history.csv``, ``best.keras``
    (best monitored value) and ``last.keras``.

    Args:
        model: The Keras model.
        train: A ``tf.data.Dataset`` of ``(image, mask)`` batches.
        val: Optional validation dataset, same structure.
        config: Training options; defaults to :class:`TrainConfig()`.
        out: Run directory (created if needed).
        verbose: Keras verbosity (``"auto"``, 0, 1 or 2).

    Returns:
        The Keras ``History``.
    """
    config = config or TrainConfig()
    set_seed(config.seed)
    lr: Any = config.learning_rate
    if config.schedule == "cosine":
        steps = int(train.cardinality()) if hasattr(train, "cardinality") else -1
        if steps <= 0:
            raise ConfigError(
                "schedule='cosine' needs a dataset of known length (tf.data cardinality)."
            )
        lr = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps * config.epochs)
    model.compile(
        optimizer=make_optimizer(config.optimizer, lr),
        loss=make_loss(config.loss),
        metrics=[Dice(), IoU(), Precision(), Recall()],
    )
    monitor = config.monitor
    if monitor == "auto":
        monitor = "val_dice" if val is not None else "dice"
    mode = "min" if monitor.endswith("loss") else "max"
    callbacks: list[keras.callbacks.Callback] = []
    run: Path | None = None
    if out is not None:
        run = Path(out)
        run.mkdir(parents=True, exist_ok=True)
        config.to_json(run / "config.json")
        callbacks += [
            keras.callbacks.CSVLogger(str(run / "history.csv")),
            keras.callbacks.ModelCheckpoint(
                str(run / "best.keras"), monitor=monitor, mode=mode, save_best_only=True
            ),
        ]
    if config.early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                mode=mode,
                patience=config.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    history = model.fit(
        train,
        validation_data=val,
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # tf.data pipelines shuffle themselves (seeded)
    )
    if run is not None:
        model.save(run / "last.keras")
        final = {k: float(v[-1]) for k, v in history.history.items()}
        (run / "metrics.json").write_text(json.dumps(final, indent=2, sort_keys=True) + "\n")
    return history
