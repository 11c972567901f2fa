"""Patient-wise cross-validation with one run directory per fold and a summary table."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.records import SliceDataset
from neuroseg.data.splits import group_kfold
from neuroseg.errors import ConfigError
from neuroseg.metrics.evaluation import jsonable
from neuroseg.metrics.pooling import pool_items
from neuroseg.tables import format_table, write_rows_csv
from neuroseg.train.config import TrainConfig
from neuroseg.train.data import epoch_pipeline
from neuroseg.train.fit import fit
from neuroseg.train.seed import set_seed

__all__ = ["CVResult", "cross_validate", "evaluate_fold"]

# The keys of a fold's row that describe it rather than measure it (not averaged).
# ``scored`` is the file the fold was evaluated with (``best.keras``, the epoch of the
# monitored value) and ``scored_epoch`` that epoch, counted from 1.
_DESCRIPTIVE = ("fold", "n_train", "n_val", "val_groups", "scored", "scored_epoch")


@dataclass
class CVResult:
    """Per-fold metrics and their mean ± standard deviation.

    Attributes:
        folds: One dict of metrics per fold (with ``fold``, ``n_train``, ``n_val``,
            ``val_groups``, the patients or publisher folds it held out, and ``scored`` /
            ``scored_epoch``, the model file and the epoch, counted from 1, that the
            metrics are of).
        summary: Metric -> ``{"mean": ..., "std": ...}`` over folds.
        run_dir: The folder holding ``fold_<k>/`` run directories and the summary files.
    """

    folds: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    run_dir: Path | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    pooled: dict[str, Any] = field(default_factory=dict)

    def pooled_line(self) -> str:
        """The pooled figures in one line (``""`` before any fold is pooled).

        Example:
            >>> r = CVResult(pooled={"n_items": 4, "segmentation": {"metrics": {"dice": {
            ...     "per_image": {"mean": 0.7, "ci_low": 0.6, "ci_high": 0.8},
            ...     "pooled": 0.75}}}})
            >>> print(r.pooled_line())  # doctest: +NORMALIZE_WHITESPACE
            all 4 held-out items pooled: per-image Dice 0.700 (95 % CI 0.600-0.800),
            pooled Dice 0.750
        """
        if not self.pooled:
            return ""
        parts = []
        seg = self.pooled.get("segmentation")
        if seg is not None:
            d = seg["metrics"]["dice"]
            per = d["per_image"]
            parts.append(
                f"per-image Dice {per['mean']:.3f} (95 % CI {per['ci_low']:.3f}-"
                f"{per['ci_high']:.3f}), pooled Dice {d['pooled']:.3f}"
            )
            if "per_patient" in d:
                pp = d["per_patient"]
                parts.append(
                    f"per-patient Dice {pp['mean']:.3f} ({pp['ci_low']:.3f}-{pp['ci_high']:.3f})"
                )
        cls = self.pooled.get("classification")
        if cls is not None:
            lo, hi = cls["ci"]["accuracy"]
            parts.append(f"accuracy {cls['accuracy']:.3f} (95 % CI {lo:.3f}-{hi:.3f})")
        return f"all {self.pooled['n_items']} held-out items pooled: " + ", ".join(parts)

    def table(self) -> str:
        """A printable table: one row per fold, then the mean and standard deviation.

        Example:
            >>> r = CVResult(folds=[{"fold": 1, "dice": 0.8}, {"fold": 2, "dice": 0.6}],
            ...              summary={"dice": {"mean": 0.7, "std": 0.1}})
            >>> print(r.table())
            fold    dice
            1     0.8000
            2     0.6000
            mean  0.7000
            std   0.1000
        """
        names = list(self.summary)
        rows: list[list[Any]] = [[str(r["fold"]), *(r[n] for n in names)] for r in self.folds]
        rows += [[stat, *(self.summary[n][stat] for n in names)] for stat in ("mean", "std")]
        return format_table(rows, header=["fold", *names])

    def to_pandas(self) -> Any:
        """One row per fold as a ``pandas.DataFrame`` (needs the ``pandas`` extra).

        Columns: ``fold``, ``n_train``, ``n_val``, ``val_groups`` (the held-out patients or
        publisher folds, joined with ``", "``), ``scored``, ``scored_epoch``, then one
        column per metric (e.g. ``dice``, ``iou``, ``hd95``, ``box_iou``, ``accuracy``), as
        :attr:`folds` holds them. The mean and standard deviation are ``df.mean()`` /
        :attr:`summary`.

        Raises:
            MissingDependencyError: pandas is not installed.

        Example:
            >>> r = CVResult(folds=[{"fold": 1, "val_groups": ["a", "b"], "dice": 0.8},
            ...                     {"fold": 2, "val_groups": ["c"], "dice": 0.6}])
            >>> df = r.to_pandas()
            >>> tuple(df["val_groups"]), round(float(df["dice"].mean()), 4)
            (('a, b', 'c'), 0.7)
        """
        from neuroseg._optional import require

        pd = require("pandas", extra="pandas", purpose="CVResult.to_pandas")
        rows = [
            {
                k: ", ".join(str(g) for g in v) if isinstance(v, (list, tuple)) else v
                for k, v in fold.items()
            }
            for fold in self.folds
        ]
        return pd.DataFrame(rows)


def evaluate_fold(model: Any, val: SliceDataset, pipeline: dict[str, Any]) -> dict[str, float]:
    """Evaluate a model on held-out records as ``neuroseg evaluate`` does.

    The model runs through a :class:`~neuroseg.inference.Predictor` (the pipeline's
    ``preprocessor``, else its ``crop`` and, for a model of any input size, its
    ``image_size``; threshold 0.5), so
    every mask is scored at its image's own size, and the figures come from
    :func:`neuroseg.inference.evaluate` (the evaluation core of :mod:`neuroseg.metrics`).

    Segmentation: ``dice``, ``iou``, ``precision`` and ``recall`` per image (mean),
    ``dice_pooled`` and, only when every record has a real patient ID (not a publisher
    fold), ``dice_per_patient`` (each patient's slices as one volume). Classification:
    ``accuracy`` and ``balanced_accuracy``. A multi-task model gets both.
    """
    return _fold_metrics(_fold_evaluation(model, val, pipeline))


def _fold_evaluation(model: Any, val: SliceDataset, pipeline: dict[str, Any]) -> Any:
    """The :class:`~neuroseg.inference.Evaluation` behind :func:`evaluate_fold`."""
    from neuroseg.inference.evaluate import evaluate
    from neuroseg.inference.predictor import Predictor

    size = pipeline.get("image_size")
    fixed = all(d is not None for d in tuple(model.input_shape)[1:3])
    if pipeline.get("preprocessor") is not None:
        predictor = Predictor(
            model, threshold=0.5, preprocessor=pipeline["preprocessor"], batch_size=16
        )
    else:
        predictor = Predictor(
            model,
            threshold=0.5,
            crop=pipeline.get("crop") or "none",
            image_size=None if fixed else size,
            batch_size=16,
        )
    return evaluate(predictor, val, progress=False)


def _fold_metrics(evaluation: Any) -> dict[str, float]:
    """A fold's row of :func:`evaluate_fold` from its evaluation."""
    summary, task = evaluation.summary, evaluation.task
    out: dict[str, float] = {}
    if task in ("segmentation", "multitask"):
        out.update({k: float(summary[k]) for k in ("dice", "iou", "precision", "recall")})
        out["dice_pooled"] = float(summary["pooled"]["dice"])
        if "dice_per_patient" in summary:
            out["dice_per_patient"] = float(summary["dice_per_patient"])
    if task in ("classification", "multitask"):
        out["accuracy"] = float(summary["accuracy"])
        out["balanced_accuracy"] = float(summary["balanced_accuracy"])
    return out


def cross_validate(
    build_model: Callable[[], Any],
    dataset: SliceDataset,
    *,
    folds: int = 5,
    config: TrainConfig | None = None,
    out: str | os.PathLike[str],
    pipeline: dict[str, Any] | None = None,
    augment: Any = None,
    resume: bool = False,
    verbose: int | str = "auto",
) -> CVResult:
    """Train and evaluate over patient-wise folds.

    When every record carries a publisher fold (e.g. Cheng's ``cv_fold``), those folds are
    used and the first ``folds`` of them are run (each trains on all other folds);
    otherwise groups are dealt into ``folds`` folds. Each fold trains a fresh model from
    ``build_model()`` with :func:`neuroseg.train.fit` into ``out/fold_<k>/`` and is then
    evaluated on its held-out records with :func:`evaluate_fold` using its best model.
    ``out`` gets ``cv_folds.csv`` and ``cv_summary.json`` (mean ± std of every metric over
    folds, and under ``pooled`` every held-out item scored once, by the fold model that did
    not train on it: :func:`~neuroseg.metrics.pool_items`, with bootstrap intervals over
    items, or over patients when every record has a real patient ID) and ``cv_items.csv``
    (one row per held-out item, with its ``fold``, as ``neuroseg evaluate --csv`` writes
    them).

    Args:
        build_model: Returns a new, un-compiled model.
        dataset: All records (with patient IDs or publisher folds).
        folds: Number of folds to run (see above).
        config: Training options for every fold.
        out: Output folder.
        pipeline: ``to_tf_dataset`` keyword arguments (task, image_size, batch_size, ...).
        augment: Dict-level augmentation for training.
        resume: Resume unfinished folds and skip finished ones.
        verbose: Keras verbosity.

    Returns:
        A :class:`CVResult`.
    """
    from neuroseg.models.saving import load_model

    config = config or TrainConfig()
    pipeline = dict(pipeline or {})
    if folds < 1:
        raise ConfigError(f"folds must be >= 1, got {folds}.")
    given = all(r.fold is not None for r in dataset)
    if given:
        splits = group_kfold(dataset)[:folds]  # the publisher's folds
    else:
        splits = group_kfold(dataset, folds, seed=config.seed)
    root = Path(out)
    result = CVResult(run_dir=root)
    patients_known = True  # every fold's records carry real patient IDs
    for k, (train_idx, val_idx) in enumerate(splits, start=1):
        train, val = dataset[train_idx], dataset[val_idx]
        fold_dir = root / f"fold_{k}"
        if pipeline.get("preprocessor") is not None:  # inference prepares slices the same way
            pipeline["preprocessor"].save(fold_dir / "preprocessor.json")
        make = epoch_pipeline(train, seed=config.seed, augment=augment, **pipeline)
        val_ds = val.to_tf_dataset(**pipeline)
        set_seed(config.seed + 1000 * k)  # each fold's initial weights are reproducible
        fitted = fit(
            build_model(), make, val_ds, config=config, out=fold_dir, resume=resume, verbose=verbose
        )
        best = load_model(fold_dir / "best.keras")
        row: dict[str, Any] = {
            "fold": k,
            "n_train": len(train),
            "n_val": len(val),
            "val_groups": val.patients,
            "scored": "best.keras",
            # 1-based, as training prints it; FitResult and metrics.json count from 0
            "scored_epoch": fitted.best_epoch + 1,
        }
        evaluation = _fold_evaluation(best, val, pipeline)
        row.update(_fold_metrics(evaluation))
        (fold_dir / "eval.json").write_text(json.dumps(row, indent=2) + "\n")
        result.folds.append(row)
        result.items += [{"fold": k, **item} for item in evaluation.rows]
        patients_known = patients_known and "n_patients" in evaluation.summary
    metrics = [m for m in result.folds[0] if m not in _DESCRIPTIVE]
    result.summary = {
        m: {
            "mean": float(np.mean([r[m] for r in result.folds])),
            "std": float(np.std([r[m] for r in result.folds])),
        }
        for m in metrics
    }
    root.mkdir(parents=True, exist_ok=True)
    with (root / "cv_folds.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(result.folds[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({**r, "val_groups": " ".join(r["val_groups"])} for r in result.folds)
    class_names = list(dataset.class_names) if dataset.class_names else None
    result.pooled = jsonable(
        pool_items(
            result.items,
            patients=[str(r["group"]) for r in result.items] if patients_known else None,
            class_names=class_names,
            seed=config.seed,
        )
    )
    write_rows_csv(root / "cv_items.csv", result.items)
    (root / "cv_summary.json").write_text(
        json.dumps(
            {"folds": result.folds, "summary": result.summary, "pooled": result.pooled},
            indent=2,
        )
        + "\n"
    )
    return result
