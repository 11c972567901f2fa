"""Evaluate a model on a labelled dataset: per-item rows and a summary."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.near_copies import match_near_copies
from neuroseg.data.records import SliceDataset
from neuroseg.errors import DataError, EmptyDatasetError, ModelError
from neuroseg.inference.predictor import Prediction, Predictor
from neuroseg.metrics import (
    accuracy,
    balanced_accuracy,
    confusion_counts,
    confusion_matrix,
    scores_from_counts,
)

__all__ = ["Evaluation", "evaluate"]


@dataclass
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes:
        task: ``"segmentation"``, ``"classification"`` or ``"multitask"``.
        rows: One dict per item (source, group and the item's metrics).
        summary: Aggregates (see :func:`evaluate`).
        predictions: The predictions, when ``keep_predictions=True``.
    """

    task: str
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    predictions: list[Prediction] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"task", "n_items", "summary"}``."""
        return {"task": self.task, "n_items": len(self.rows), "summary": self.summary}

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` to ``path``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return p

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the per-item rows to ``path``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        keys: list[str] = []
        for row in self.rows:
            keys += [k for k in row if k not in keys]
        with p.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.rows)
        return p


_SEG_KEYS = ("dice", "iou", "precision", "recall")


def _counts(truth: np.ndarray, pred: np.ndarray) -> tuple[int, int, int]:
    tp, fp, fn, _ = confusion_counts(truth.astype(bool), pred.astype(bool))
    return int(tp[0]), int(fp[0]), int(fn[0])


def _seg_values(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Dice, IoU, precision and recall by neuroseg.metrics' formulas and empty rule."""
    scores = scores_from_counts(tp, fp, fn)
    return {k: scores[k] for k in _SEG_KEYS}


def _classification_summary(
    truth: Sequence[int], pred: Sequence[int], class_names: Sequence[str]
) -> dict[str, Any]:
    return {
        "accuracy": accuracy(truth, pred),
        "balanced_accuracy": balanced_accuracy(truth, pred) if len(truth) else float("nan"),
        "confusion_matrix": confusion_matrix(truth, pred, num_classes=len(class_names)).tolist(),
        "class_names": list(class_names),
    }


def _summary(
    counts: Sequence[tuple[int, int, int]],
    groups: Sequence[str | None],
    labels_true: Sequence[int],
    labels_pred: Sequence[int],
    class_names: Sequence[str],
    *,
    seg: bool,
    cls: bool,
) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    if seg and counts:
        per_item = [_seg_values(*c) for c in counts]
        for key in _SEG_KEYS:
            summary[key] = float(np.mean([v[key] for v in per_item]))
        tot = np.sum(np.array(counts), axis=0)
        summary["pooled"] = _seg_values(int(tot[0]), int(tot[1]), int(tot[2]))
        known = [g for g in groups if g is not None]
        if known and len(known) == len(groups):
            per_group: dict[str, list[int]] = {}
            for g, c in zip(groups, counts, strict=True):
                acc = per_group.setdefault(str(g), [0, 0, 0])
                for i in range(3):
                    acc[i] += c[i]
            dice_by_group = {g: _seg_values(*c)["dice"] for g, c in sorted(per_group.items())}
            summary["dice_per_patient"] = float(np.mean(list(dice_by_group.values())))
            summary["n_patients"] = len(dice_by_group)
            summary["dice_by_patient"] = dice_by_group
        summary["empty_mask_rule"] = "both empty -> 1.0; only one empty -> 0.0"
    if cls and labels_true:
        summary.update(_classification_summary(labels_true, labels_pred, class_names))
    return summary


def evaluate(
    predictor: Predictor,
    dataset: SliceDataset,
    *,
    keep_predictions: bool = False,
    train_data: SliceDataset | None = None,
) -> Evaluation:
    """Run ``predictor`` over ``dataset`` and compare with its masks and/or labels.

    Segmentation metrics are computed at each image's own size, per image; the summary
    gives the per-image means of ``dice``, ``iou``, ``precision`` and ``recall``, the
    ``pooled`` values (counts summed over all pixels), and ``dice_per_patient`` (counts
    summed per record group, i.e. per patient, or per publisher fold when only folds are
    known, then averaged) when groups are known. Empty-mask rule: truth and prediction
    both empty score 1.0; only one empty scores 0.0. Classification gives ``accuracy``,
    ``balanced_accuracy`` (mean per-class recall over the classes present) and the
    ``confusion_matrix`` (rows = truth, columns = prediction). A multi-task model gets
    both.

    Args:
        predictor: The :class:`Predictor`.
        dataset: Records with masks (segmentation) and/or labels (classification).
        keep_predictions: Keep the predictions in the result (for pictures).
        train_data: The model's training data. Each row then says whether the item has a
            near-copy in it (``copy_in_train``, the copy's source in ``train_copy``;
            :func:`~neuroseg.data.match_near_copies`), and the summary gains
            ``leak_free``: the same figures on the items without one, with
            ``n_items``. Public sets copy each other (the Kaggle 4-class set holds
            Figshare and Br35H images), so a test item can be a copy of a training item
            even when the two sets have different names.

    Raises:
        EmptyDatasetError: No records.
        DataError: The records lack the masks or labels the model's task needs.
        ModelError: The model's class count does not match the dataset's class names.

    Example:
        >>> from neuroseg.data import load_sample
        >>> from neuroseg.models import create_model
        >>> p = Predictor(create_model("resunet-small", input_shape=(64, 64, 1)))
        >>> result = evaluate(p, load_sample()[:2])
        >>> result.task, result.to_json()["n_items"]
        ('segmentation', 2)
    """
    if len(dataset) == 0:
        raise EmptyDatasetError(f"{dataset.name}: nothing to evaluate.")
    task = predictor.task
    seg = task in ("segmentation", "multitask")
    cls = task in ("classification", "multitask")
    if seg:
        missing = [r.source for r in dataset if r.mask is None]
        if missing:
            raise DataError(
                f"{missing[0]}: no mask, but {predictor.model.name} is a {task} model; "
                f"evaluate it on data with masks ({len(missing)} record(s) lack one)."
            )
    if cls:
        missing = [r.source for r in dataset if r.label is None]
        if missing:
            raise DataError(
                f"{missing[0]}: no class label, but {predictor.model.name} is a {task} "
                "model; evaluate it on data with labels."
            )
        names = tuple(dataset.class_names)
        if predictor.num_classes != len(names):
            raise ModelError(
                f"{predictor.model.name} predicts {predictor.num_classes} classes but "
                f"{dataset.name} has {len(names)} class names {list(names)}."
            )
    rows: list[dict[str, Any]] = []
    kept: list[Prediction] = []
    counts: list[tuple[int, int, int]] = []
    groups: list[str | None] = []
    labels_true: list[int] = []
    labels_pred: list[int] = []
    for start in range(0, len(dataset), max(predictor.batch_size, 1)):
        for pred in predictor.predict(dataset[start : start + predictor.batch_size]):
            row: dict[str, Any] = {"source": pred.source, "group": pred.group or ""}
            if seg:
                assert pred.truth is not None and pred.mask is not None
                c = _counts(pred.truth, pred.mask)
                counts.append(c)
                groups.append(pred.group)
                row.update({k: round(v, 6) for k, v in _seg_values(*c).items()})
                row["truth_px"] = int(pred.truth.astype(bool).sum())
                row["pred_px"] = int(pred.area_px or 0)
            if cls:
                assert pred.true_label is not None and pred.label is not None
                labels_true.append(int(pred.true_label))
                labels_pred.append(int(pred.label))
                row["true_label"] = int(pred.true_label)
                row["pred_label"] = int(pred.label)
                row["correct"] = int(pred.true_label == pred.label)
            rows.append(row)
            if keep_predictions:
                kept.append(pred)
    names = dataset.class_names
    summary = _summary(counts, groups, labels_true, labels_pred, names, seg=seg, cls=cls)
    if train_data is not None:
        match = match_near_copies(dataset, train_data)
        for row, m in zip(rows, match, strict=True):
            row["copy_in_train"] = int(m is not None)
            row["train_copy"] = "" if m is None else str(train_data[m].source or "")
        keep = [i for i, m in enumerate(match) if m is None]
        free = _summary(
            [counts[i] for i in keep] if seg else [],
            [groups[i] for i in keep] if seg else [],
            [labels_true[i] for i in keep] if cls else [],
            [labels_pred[i] for i in keep] if cls else [],
            names,
            seg=seg,
            cls=cls,
        )
        free.pop("dice_by_patient", None)
        summary["leak_free"] = {"n_items": len(keep), **free}
        summary["n_with_copy_in_train"] = len(rows) - len(keep)
    return Evaluation(task=task, rows=rows, summary=summary, predictions=kept)
