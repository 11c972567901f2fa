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
from neuroseg.train.config import TrainConfig
from neuroseg.train.data import epoch_pipeline
from neuroseg.train.fit import fit
from neuroseg.train.seed import set_seed

__all__ = ["CVResult", "cross_validate", "evaluate_fold"]


@dataclass
class CVResult:
    """Per-fold metrics and their mean ± standard deviation.

    Attributes:
        folds: One dict of metrics per fold (with ``fold``, ``n_train``, ``n_val`` and
            ``val_groups``, the patients or publisher folds it held out).
        summary: Metric -> ``{"mean": ..., "std": ...}`` over folds.
        run_dir: The folder holding ``fold_<k>/`` run directories and the summary files.
    """

    folds: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    run_dir: Path | None = None

    def table(self) -> str:
        """A printable table: one row per fold, then mean ± std."""
        names = [k for k in self.summary]
        lines = ["fold  " + "".join(f"{n:>18}" for n in names)]
        for row in self.folds:
            lines.append(f"{row['fold']!s:<6}" + "".join(f"{row[n]:>18.4f}" for n in names))
        lines.append(
            "mean  "
            + "".join(
                f"{self.summary[n]['mean']:>9.4f} ± {self.summary[n]['std']:<6.4f}" for n in names
            )
        )
        return "\n".join(lines)


def evaluate_fold(model: Any, val: SliceDataset, pipeline: dict[str, Any]) -> dict[str, float]:
    """Evaluate a model on held-out records with the functional metrics.

    Segmentation: Dice, IoU, precision and recall per image (mean), pooled Dice, and Dice
    per patient (each patient's slices as one volume) when every record has a patient ID.
    Classification: accuracy and balanced accuracy.
    """
    from neuroseg.metrics import accuracy, balanced_accuracy, dice, iou, precision, recall

    task = pipeline.get("task", "segmentation")
    kwargs = {**pipeline, "batch_size": 16, "cache": False}
    ds = val.to_tf_dataset(shuffle=False, **kwargs)
    preds, truths = [], []
    for x, y in ds:
        out = model.predict_on_batch(x)
        preds.append(np.asarray(out["mask"] if isinstance(out, dict) else out))
        truths.append(np.asarray(y["mask"] if isinstance(y, dict) else y))
    p, t = np.concatenate(preds), np.concatenate(truths)
    if task == "classification":
        pred_label = p.argmax(axis=-1)
        true = t.astype(int).ravel()
        return {
            "accuracy": accuracy(true, pred_label),
            "balanced_accuracy": balanced_accuracy(true, pred_label),
        }
    out = {
        "dice": float(dice(t, p)),
        "iou": float(iou(t, p)),
        "precision": float(precision(t, p)),
        "recall": float(recall(t, p)),
        "dice_pooled": float(dice(t, p, reduction="pooled")),
    }
    patients = [r.patient_id for r in val]
    if all(pid is not None for pid in patients):  # a publisher fold is not a patient
        out["dice_per_patient"] = float(dice(t, p, reduction="per_patient", groups=patients))
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
    ``out`` gets ``cv_folds.csv`` and ``cv_summary.json`` (mean ± std of every metric).

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
    for k, (train_idx, val_idx) in enumerate(splits, start=1):
        train, val = dataset[train_idx], dataset[val_idx]
        fold_dir = root / f"fold_{k}"
        make = epoch_pipeline(train, seed=config.seed, augment=augment, **pipeline)
        val_ds = val.to_tf_dataset(**pipeline)
        set_seed(config.seed + 1000 * k)  # each fold's initial weights are reproducible
        fit(
            build_model(), make, val_ds, config=config, out=fold_dir, resume=resume, verbose=verbose
        )
        best = load_model(fold_dir / "best.keras")
        row: dict[str, Any] = {
            "fold": k,
            "n_train": len(train),
            "n_val": len(val),
            "val_groups": val.patients,
        }
        row.update(evaluate_fold(best, val, pipeline))
        (fold_dir / "eval.json").write_text(json.dumps(row, indent=2) + "\n")
        result.folds.append(row)
    metrics = [m for m in result.folds[0] if m not in ("fold", "n_train", "n_val", "val_groups")]
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
    (root / "cv_summary.json").write_text(
        json.dumps({"folds": result.folds, "summary": result.summary}, indent=2) + "\n"
    )
    return result
