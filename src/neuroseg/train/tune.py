"""Hyper-parameter search with KerasTuner (extra ``tune``), validated patient-wise."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuroseg._optional import require
from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError
from neuroseg.train.config import TrainConfig

__all__ = ["DEFAULT_SPACE", "TuneResult", "tune"]

#: The default search space.
DEFAULT_SPACE: dict[str, list[Any]] = {
    "learning_rate": [1e-4, 1e-2],  # log-uniform range
    "base_filters": [8, 16, 32],
    "depth": [2, 3, 4],
    "loss": ["dice_bce", "dice"],
    "augment": ["none", "flip", "flip+rot90"],  # augmentation strength
}
_SEARCHES = ("random", "bayesian", "hyperband")


@dataclass
class TuneResult:
    """The trials, best first.

    Attributes:
        trials: One dict per trial: ``trial``, ``score`` and the hyper-parameter values.
        best: The best trial's hyper-parameters.
        results_csv: Where the table was written.
    """

    trials: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=dict)
    results_csv: Path | None = None


def _augmentation(level: str) -> Any:
    from neuroseg.data import Compose, RandomFlip, RandomRotate90

    if level == "none":
        return None
    steps: list[Any] = [RandomFlip()]
    if level == "flip+rot90":
        steps.append(RandomRotate90())
    return Compose(steps)


def tune(
    train: SliceDataset,
    val: SliceDataset,
    *,
    model: str = "resunet-small",
    search: str = "random",
    max_trials: int = 10,
    epochs: int = 10,
    image_size: int = 128,
    batch_size: int = 8,
    space: dict[str, list[Any]] | None = None,
    seed: int = 0,
    out: str | os.PathLike[str] = "tune",
    verbose: int | str = 0,
) -> TuneResult:
    """Search learning rate, base filters, depth, loss and augmentation strength.

    Each trial builds the registry model ``model`` with the trial's ``base_filters`` and
    ``depth``, trains it with :func:`neuroseg.train.fit` on ``train`` and scores it by the
    best validation Dice on ``val``. Split ``train`` and ``val`` by patient (e.g.
    :func:`neuroseg.data.train_test_split`); a shared patient raises.

    Args:
        train: Training records.
        val: Validation records (other patients).
        model: Registry name of a segmentation model taking ``base_filters``/``depth``.
        search: ``"random"``, ``"bayesian"`` or ``"hyperband"``.
        max_trials: Trials for random and Bayesian search (Hyperband sizes itself).
        epochs: Epochs per trial (Hyperband's maximum).
        image_size: Training resolution.
        batch_size: Batch size.
        space: Override parts of :data:`DEFAULT_SPACE` (same keys; lists of choices, or
            ``[low, high]`` for the learning rate).
        seed: Seed of the search and of every trial.
        out: Folder for KerasTuner's state and ``tune_results.csv``.
        verbose: Keras verbosity per trial.

    Returns:
        A :class:`TuneResult`.

    Raises:
        MissingDependencyError: keras-tuner is not installed (``pip install 'neuroseg[tune]'``).
        ConfigError: Unknown search or space key, or leakage between ``train`` and ``val``.
    """
    kt = require("keras_tuner", extra="tune", purpose="hyper-parameter search")
    require("tensorboard", extra="tune", purpose="keras-tuner's TensorFlow backend")
    from neuroseg.data import check_leakage
    from neuroseg.models import create_model
    from neuroseg.train.fit import fit
    from neuroseg.train.seed import set_seed

    if search not in _SEARCHES:
        raise ConfigError(f"Unknown search {search!r}; choose one of {', '.join(_SEARCHES)}.")
    unknown = set(space or {}) - set(DEFAULT_SPACE)
    if unknown:
        raise ConfigError(
            f"Unknown search-space key(s) {sorted(unknown)}; valid: {sorted(DEFAULT_SPACE)}"
        )
    report = check_leakage(train, val)
    if report.shared_groups or report.duplicate_pairs:
        raise ConfigError(
            f"train and val share patients {report.shared_groups[:5]} or identical images; "
            "split them by patient first."
        )
    grid = {**DEFAULT_SPACE, **(space or {})}
    channels = int(train[0].load_image().shape[-1])
    pipe: dict[str, Any] = {
        "image_size": image_size,
        "batch_size": batch_size,
        "channels": channels,
    }
    val_ds = val.to_tf_dataset(**pipe)

    base: Any = kt.HyperModel

    class _HyperModel(base):
        def build(self, hp: Any) -> Any:
            lo, hi = grid["learning_rate"]
            hp.Float("learning_rate", float(lo), float(hi), sampling="log")
            hp.Choice("loss", grid["loss"])
            hp.Choice("augment", grid["augment"])
            set_seed(seed)
            return create_model(
                model,
                input_shape=(image_size, image_size, channels),
                base_filters=hp.Choice("base_filters", grid["base_filters"]),
                depth=hp.Choice("depth", grid["depth"]),
            )

        def fit(self, hp: Any, built: Any, *args: Any, **kwargs: Any) -> Any:
            from neuroseg.train.data import epoch_pipeline

            config = TrainConfig(
                epochs=int(kwargs.get("epochs", epochs)),
                learning_rate=hp.get("learning_rate"),
                loss=hp.get("loss"),
                seed=seed,
                monitor="val_dice",
            )
            make = epoch_pipeline(
                train, seed=seed, augment=_augmentation(hp.get("augment")), **pipe
            )
            result = fit(built, make, val_ds, config=config, callbacks=kwargs.get("callbacks"),
                         verbose=verbose)  # fmt: skip
            return {"val_dice": result.best_value}

    objective = kt.Objective("val_dice", direction="max")
    common = {"objective": objective, "directory": str(out), "project_name": "search", "seed": seed}
    if search == "random":
        tuner = kt.RandomSearch(_HyperModel(), max_trials=max_trials, **common)
    elif search == "bayesian":
        tuner = kt.BayesianOptimization(_HyperModel(), max_trials=max_trials, **common)
    else:
        tuner = kt.Hyperband(_HyperModel(), max_epochs=epochs, **common)
    tuner.search(epochs=epochs, verbose=0)
    trials = tuner.oracle.get_best_trials(num_trials=10**6)
    rows = [{"trial": t.trial_id, "score": t.score, **t.hyperparameters.values} for t in trials]
    path = Path(out) / "tune_results.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    best = dict(trials[0].hyperparameters.values) if trials else {}
    return TuneResult(trials=rows, best=best, results_csv=path)
