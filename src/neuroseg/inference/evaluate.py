"""Evaluate a model on a labelled dataset: per-item rows, a summary and readable tables.

The figures come from :func:`neuroseg.metrics.evaluate_segmentation` and
:func:`neuroseg.metrics.evaluate_classification` (one evaluation core): bootstrap
confidence intervals, per-image, pooled and (when patients are known) per-patient blocks,
HD95, per-class precision, recall and F1, ROC AUC and calibration.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.near_copies import fingerprint, fingerprints, match_fingerprints
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import DataError, EmptyDatasetError, ModelError
from neuroseg.inference.predictor import Prediction, Predictor
from neuroseg.metrics import (
    EvaluationResult,
    evaluate_classification,
    evaluate_segmentation,
    jsonable,
    segmentation_by_class,
)
from neuroseg.progress import Progress
from neuroseg.tables import format_table, write_rows_csv

__all__ = ["Evaluation", "evaluate"]

# The segmentation metrics evaluate() reports.
_SEG_METRICS = ("dice", "iou", "precision", "recall", "hd95", "box_iou", "centroid_distance")
# ... and per true class, when the records carry class labels (e.g. Figshare's tumour types).
_CLASS_METRICS = ("dice", "iou", "precision", "recall")

_EMPTY_MASK_RULE = (
    "both empty -> 1.0 (HD95 and centroid distance 0); only one empty -> 0.0 (HD95 and "
    "centroid distance: the image diagonal)"
)


@dataclass
class Evaluation:
    """The result of :func:`evaluate`.

    ``print(evaluation)`` (or :meth:`format`) shows the summary as aligned tables.

    Attributes:
        task: ``"segmentation"``, ``"classification"`` or ``"multitask"``.
        rows: One dict per item (source, group and the item's metrics; for a classifier
            also the class probabilities ``p_<class>`` and ``confidence``).
        summary: Aggregates (see :func:`evaluate`).
        predictions: The predictions, when ``keep_predictions=True``.
        segmentation: The full segmentation result (table and summary with intervals).
        classification: The full classification result.
        leak_free: The same evaluation on the items with no near-copy in the training
            data (with ``train_data=``; ``None`` when there is none such).
    """

    task: str
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    predictions: list[Prediction] = field(default_factory=list)
    segmentation: EvaluationResult | None = None
    classification: EvaluationResult | None = None
    leak_free: Evaluation | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"task", "n_items", "summary"}`` at full precision (NaN as ``null``)."""
        return {"task": self.task, "n_items": len(self.rows), "summary": jsonable(self.summary)}

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` to ``path``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return p

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the per-item rows to ``path`` (NaN as empty cells)."""
        return write_rows_csv(path, self.rows)

    def format(self) -> str:
        """The summary as aligned tables (4 significant digits), as ``neuroseg evaluate`` prints it.

        The segmentation and/or classification tables of
        :meth:`~neuroseg.metrics.EvaluationResult.format`, then, with ``train_data=``, the
        main figures on all items beside those on the leak-free items.
        """
        blocks = [r.format() for r in (self.segmentation, self.classification) if r is not None]
        if "by_class" in self.summary and self.segmentation is not None:
            confidence = float(self.segmentation.summary["bootstrap"]["confidence"])
            blocks.insert(1, _format_by_class(self.summary["by_class"], confidence))
        if "leak_free" in self.summary:
            blocks.append(self._format_leak_free())
        return "\n\n".join(blocks)

    def __str__(self) -> str:
        return self.format()

    def _format_leak_free(self) -> str:
        n_free = int(self.summary["leak_free"]["n_items"])
        n_copy = int(self.summary["n_with_copy_in_train"])
        head = (
            f"leak-free: {n_free} of {len(self.rows)} items have no near-copy in the training "
            f"data ({n_copy} have one)"
        )
        free = self.leak_free
        if free is None:
            return head + "; no leak-free figures"
        rows: list[list[Any]] = []
        confidence = 0.95
        for full, part in (
            (self.segmentation, free.segmentation),
            (self.classification, free.classification),
        ):
            if full is None or part is None:
                continue
            confidence = float(full.summary["bootstrap"]["confidence"])
            mine = part.headline()
            for label, (value, ci) in full.headline().items():
                other = mine.get(label, (None, None))
                rows.append([label, value, ci, other[0], other[1]])
        ci_label = f"{confidence * 100:g} % CI"
        table = format_table(rows, header=["metric", "all items", ci_label, "leak-free", ci_label])
        return head + "\n" + table


def _patients(dataset: SliceDataset) -> list[str] | None:
    """Patient IDs when every record has a real one (not a fold or an assumed group)."""
    ids = [r.patient_id for r in dataset]
    if not ids or any(i is None for i in ids):
        return None
    if any(r.meta.get("patient_id_assumed") for r in dataset):
        return None
    return [str(i) for i in ids]


def _spacing(dataset: SliceDataset) -> tuple[float, float] | None:
    """The pixel spacing shared by every record, else ``None`` (distances in pixels)."""
    found = {r.spacing for r in dataset}
    if len(found) == 1:
        only = found.pop()
        return None if only is None else (float(only[0]), float(only[1]))
    return None


@dataclass
class _Collected:
    """What the prediction loop keeps for scoring."""

    sources: list[str] = field(default_factory=list)
    truths: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    #: each item's true class; ``None`` where a segmentation item has no known class
    labels: list[int | None] = field(default_factory=list)
    scores: list[np.ndarray | None] = field(default_factory=list)
    predicted: list[int] = field(default_factory=list)


def _score(
    items: _Collected,
    keep: Sequence[int],
    *,
    seg: bool,
    cls: bool,
    class_names: Sequence[str],
    patients: list[str] | None,
    spacing: tuple[float, float] | None,
    n_bootstrap: int,
    seed: int,
) -> tuple[dict[str, Any], EvaluationResult | None, EvaluationResult | None]:
    """The summary of the items ``keep``, and the two full results behind it."""
    groups = None if patients is None else [patients[i] for i in keep]
    ids = [items.sources[i] for i in keep]
    summary: dict[str, Any] = {}
    seg_result = cls_result = None
    if seg:
        seg_result = evaluate_segmentation(
            [items.truths[i] for i in keep],
            [items.masks[i] for i in keep],
            groups=groups,
            ids=ids,
            metrics=_SEG_METRICS,
            spacing=spacing,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        blocks = seg_result.summary["metrics"]
        for key in _SEG_METRICS:
            summary[key] = blocks[key]["per_image"]["mean"]
        summary["pooled"] = {key: blocks[key]["pooled"] for key in _SEG_METRICS}
        if groups is not None:
            summary["dice_per_patient"] = blocks["dice"]["per_patient"]["mean"]
            summary["n_patients"] = seg_result.summary["n_patients"]
        summary["empty_mask_rule"] = _EMPTY_MASK_RULE
        summary["hd95_units"] = "pixels" if spacing is None else "mm"
        summary["centroid_distance_units"] = summary["hd95_units"]
        summary["segmentation"] = seg_result.summary
        by_class = _by_class(items, keep, class_names, groups, n_bootstrap=n_bootstrap, seed=seed)
        if by_class:
            summary["by_class"] = by_class
    if cls:
        scores = [items.scores[i] for i in keep]
        y_pred: Any = (
            np.stack([np.asarray(s, np.float64) for s in scores if s is not None])
            if all(s is not None for s in scores)
            else np.array([items.predicted[i] for i in keep])
        )
        cls_result = evaluate_classification(
            np.array([items.labels[i] for i in keep]),
            y_pred,
            class_names=list(class_names),
            ids=ids,
            groups=groups,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        s = cls_result.summary
        summary["accuracy"] = s["accuracy"]
        summary["balanced_accuracy"] = s["balanced_accuracy"]
        summary["macro_f1"] = s["macro"]["f1"]
        if s["roc_auc_macro"] is not None:
            summary["roc_auc_macro"] = s["roc_auc_macro"]
        summary["confusion_matrix"] = s["confusion_matrix"]
        summary["class_names"] = s["class_names"]
        if groups is not None and not seg:
            summary["n_patients"] = len(set(groups))
        summary["classification"] = s
    return summary, seg_result, cls_result


def _by_class(
    items: _Collected,
    keep: Sequence[int],
    class_names: Sequence[str],
    groups: list[str] | None,
    *,
    n_bootstrap: int,
    seed: int,
) -> dict[str, Any]:
    """:func:`~neuroseg.metrics.segmentation_by_class` of the kept items, if all have labels."""
    labels = [items.labels[i] for i in keep]
    if not labels or not class_names or any(c is None for c in labels):
        return {}
    return segmentation_by_class(
        [items.truths[i] for i in keep],
        [items.masks[i] for i in keep],
        [int(c) for c in labels if c is not None],
        class_names=class_names,
        groups=groups,
        metrics=_CLASS_METRICS,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )


def _format_by_class(by_class: dict[str, Any], confidence: float) -> str:
    """The per-class table of :func:`_by_class`."""
    ci = f"{confidence * 100:g} % CI"
    rows: list[list[Any]] = []
    for name, block in by_class.items():
        m = block["metrics"]
        dice = m["dice"]["per_image"]
        rows.append(
            [
                name,
                block["n_items"],
                dice["mean"],
                (dice["ci_low"], dice["ci_high"]),
                m["dice"]["pooled"],
                *(m[k]["per_image"]["mean"] for k in _CLASS_METRICS[1:]),
            ]
        )
    header = ["true class", "images", "dice", ci, "dice pooled", "iou", "precision", "recall"]
    return "segmentation by true class (per-image means)\n" + format_table(rows, header=header)


def _rows(
    items: _Collected,
    groups: Sequence[str | None],
    seg_result: EvaluationResult | None,
    cls_result: EvaluationResult | None,
    class_names: Sequence[str],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i, source in enumerate(items.sources):
        row: dict[str, Any] = {"source": source, "group": groups[i] or ""}
        if seg_result is not None:
            t = seg_result.table
            row.update({k: round(float(t[k][i]), 6) for k in _SEG_METRICS})
            row["truth_px"] = int(t["truth_pixels"][i])
            row["pred_px"] = int(t["pred_pixels"][i])
            true_class = items.labels[i]
            if cls_result is None and true_class is not None:
                row["true_class"] = class_names[true_class]
        if cls_result is not None:
            t = cls_result.table
            row["true_label"] = items.labels[i]
            row["pred_label"] = items.predicted[i]
            row["true_class"] = t["true"][i]
            row["pred_class"] = t["pred"][i]
            row["correct"] = int(t["correct"][i])
            for key in t:
                if key == "confidence" or key.startswith("p_"):
                    row[key] = round(float(t[key][i]), 6)
        rows.append(row)
    return rows


def _copies_in_train(
    prints: tuple[np.ndarray, np.ndarray], train_data: SliceDataset, *, progress: bool | None
) -> list[int | None]:
    """For each item (its fingerprint), the index of its best near-copy in ``train_data``.

    The items' fingerprints were taken from the images the prediction loop read, so no
    item is read again. The best near-copy is the one whose thumbnail correlates most (as
    :func:`~neuroseg.data.match_near_copies`).
    """
    with Progress(len(train_data), description="near-copies", enabled=progress) as bar:
        reference = fingerprints(train_data, lambda done, _: bar.update(done - bar.count))
    found = match_fingerprints(prints, reference)
    return [max(f, key=lambda m: m[2])[0] if f else None for f in found]


def _read_once(record: Record) -> Record:
    """``record`` with its image read into memory (its mask is then read at that size).

    :meth:`~neuroseg.data.Record.load_mask` needs the image's size; with the image in
    memory it does not read the image file a second time.
    """
    if isinstance(record.image, np.ndarray):
        return record
    return replace(record, image=record.load_image(), source=record.source or str(record.image))


def evaluate(
    predictor: Predictor,
    dataset: SliceDataset,
    *,
    keep_predictions: bool = False,
    train_data: SliceDataset | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    progress: bool | None = None,
) -> Evaluation:
    """Run ``predictor`` over ``dataset`` and compare with its masks and/or labels.

    Segmentation is scored at each image's own size by
    :func:`~neuroseg.metrics.evaluate_segmentation`: Dice, IoU, precision, recall and HD95
    per image (mean with a bootstrap confidence interval), pooled (counts and surface
    distances over all images) and, **only when every record has a real patient ID**
    (e.g. LGG; not Figshare's publisher folds, nor near-copy groups), per patient (a
    patient's slices as one volume) with the interval resampling patients. HD95 is in
    millimetres when all records share a known pixel spacing, else in pixels. Empty-mask
    rule: truth and prediction both empty score 1.0 (HD95 0); only one empty scores 0.0
    (HD95: the image diagonal). Beside them, the localisation metrics
    :func:`~neuroseg.metrics.box_iou` (IoU of the two masks' bounding boxes) and
    :func:`~neuroseg.metrics.centroid_distance` (in mm with a known spacing, else pixels)
    per image, with their own empty rule (both empty: 1.0 and 0; only one: 0.0 and the
    image diagonal); per patient the mean of its images, no pooled value.

    Classification is scored by :func:`~neuroseg.metrics.evaluate_classification` from the
    class probabilities: per-class precision, recall, F1, support and ROC AUC, the
    confusion matrix (rows = truth), and accuracy, balanced accuracy, macro F1 and macro
    ROC AUC with intervals. A multi-task model gets both.

    The summary keeps the headline figures at the top level (``dice``, ``iou``,
    ``precision``, ``recall``, ``hd95``, ``box_iou``, ``centroid_distance``, ``pooled``,
    and with patients ``dice_per_patient`` and ``n_patients``; ``accuracy``, ``balanced_accuracy``,
    ``macro_f1``, ``roc_auc_macro``, ``confusion_matrix``, ``class_names``) and the full
    results with intervals under ``segmentation`` and ``classification``. When every
    record of a segmentation carries a class label (Figshare's tumour type), ``by_class``
    holds Dice, IoU, precision and recall per true class (``{name: {"n_items",
    "metrics"}}``, the metrics as in the segmentation summary, intervals included), and
    each row its ``true_class``. ``predictor`` records how the masks and labels were made
    (:meth:`Predictor.settings`: threshold, TTA, crop, post-processing).

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
        n_bootstrap: Bootstrap resamples of the confidence intervals.
        seed: Seed of the bootstrap.
        progress: Draw progress bars on standard error: ``None`` on a terminal only,
            ``False`` never (see :class:`~neuroseg.progress.Progress`).

    Raises:
        EmptyDatasetError: No records.
        DataError: The records lack the masks or labels the model's task needs.
        ModelError: The model's class count does not match the dataset's class names.

    Example:
        >>> from neuroseg.data import load_sample
        >>> from neuroseg.models import create_model
        >>> p = Predictor(create_model("resunet-small", input_shape=(64, 64, 1)))
        >>> result = evaluate(p, load_sample()[:2], n_bootstrap=10)
        >>> result.task, result.to_json()["n_items"]
        ('segmentation', 2)
        >>> print(result.format().splitlines()[0])
        segmentation: 2 images (patients unknown)
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
    names = tuple(dataset.class_names)
    if cls:
        missing = [r.source for r in dataset if r.label is None]
        if missing:
            raise DataError(
                f"{missing[0]}: no class label, but {predictor.model.name} is a {task} "
                "model; evaluate it on data with labels."
            )
        if predictor.num_classes != len(names):
            raise ModelError(
                f"{predictor.model.name} predicts {predictor.num_classes} classes but "
                f"{dataset.name} has {len(names)} class names {list(names)}."
            )
    items = _Collected()
    groups: list[str | None] = []
    kept: list[Prediction] = []
    step = max(predictor.batch_size, 1)
    hashes: list[np.ndarray] = []
    thumbs: list[np.ndarray] = []
    with Progress(len(dataset), description="evaluate", enabled=progress) as bar:
        for start in range(0, len(dataset), step):
            records = [_read_once(r) for r in dataset[start : start + step]]
            if train_data is not None:  # near-copy fingerprints from the same reading
                for r in records:
                    h, t = fingerprint(r.load_image())
                    hashes.append(h)
                    thumbs.append(t)
            batch = predictor.predict(
                SliceDataset(records, class_names=dataset.class_names, name=dataset.name)
            )
            for pred in batch:
                items.sources.append(pred.source)
                groups.append(pred.group)
                if seg:
                    assert pred.truth is not None and pred.mask is not None
                    items.truths.append(np.asarray(pred.truth).astype(bool))
                    items.masks.append(np.asarray(pred.mask).astype(bool))
                label = pred.true_label
                if cls:
                    assert label is not None and pred.label is not None
                    items.labels.append(int(label))
                    items.predicted.append(int(pred.label))
                    probs = pred.class_probabilities
                    items.scores.append(
                        None if probs is None or np.ndim(probs) != 1 else np.asarray(probs)
                    )
                else:
                    known = label is not None and 0 <= label < len(names)
                    items.labels.append(label if known else None)
                if keep_predictions:
                    kept.append(pred)
            bar.update(len(batch))
    options: dict[str, Any] = {
        "seg": seg,
        "cls": cls,
        "class_names": names,
        "patients": _patients(dataset),
        "spacing": _spacing(dataset) if seg else None,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
    }
    summary, seg_result, cls_result = _score(items, range(len(items.sources)), **options)
    summary["predictor"] = predictor.settings()
    rows = _rows(items, groups, seg_result, cls_result, names)
    leak_free = None
    if train_data is not None:
        prints = (np.array(hashes, np.uint64).reshape(-1, 4), np.array(thumbs, np.float32))
        match = _copies_in_train(prints, train_data, progress=progress)
        for row, m in zip(rows, match, strict=True):
            row["copy_in_train"] = int(m is not None)
            row["train_copy"] = "" if m is None else str(train_data[m].source or "")
        keep = [i for i, m in enumerate(match) if m is None]
        free: dict[str, Any] = {"n_items": len(keep)}
        if keep:
            sub, free_seg, free_cls = _score(items, keep, **options)
            free.update(sub)
            leak_free = Evaluation(
                task=task,
                rows=[rows[i] for i in keep],
                summary=sub,
                segmentation=free_seg,
                classification=free_cls,
            )
        summary["leak_free"] = free
        summary["n_with_copy_in_train"] = len(rows) - len(keep)
    return Evaluation(
        task=task,
        rows=rows,
        summary=summary,
        predictions=kept,
        segmentation=seg_result,
        classification=cls_result,
        leak_free=leak_free,
    )
