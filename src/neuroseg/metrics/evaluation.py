"""Evaluation reports: a per-item table and a summary with bootstrap confidence intervals.

:func:`evaluate_segmentation` scores every image with the functional metrics and summarises
them per image, pooled and (with ``groups=``) per patient; :func:`evaluate_classification`
does the same for a classifier. Both return an :class:`EvaluationResult`, whose table is
written with :meth:`~EvaluationResult.to_csv` and whose summary with
:meth:`~EvaluationResult.to_json`.

Confidence intervals are percentile bootstrap intervals (default 95 %, 1000 resamples,
seeded, so reruns give the same numbers). With ``groups=`` the resampling unit is the
patient (all slices of a drawn patient come together), otherwise the item: slices of one
patient are not independent, and resampling them singly gives intervals that are too narrow.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError, UnknownNameError
from neuroseg.metrics._inputs import group_index, prepare, to_numpy
from neuroseg.metrics.classification import (
    ClassificationReport,
    _labels,
    classification_report,
    roc_auc,
)
from neuroseg.metrics.distance import assd, hd95
from neuroseg.metrics.overlap import dice, iou, precision, recall, specificity

__all__ = ["EvaluationResult", "evaluate_classification", "evaluate_segmentation"]

_SEG_METRICS: dict[str, Any] = {
    "dice": dice,
    "iou": iou,
    "precision": precision,
    "recall": recall,
    "specificity": specificity,
    "hd95": hd95,
    "assd": assd,
}
_DISTANCE = {"hd95", "assd"}


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(float(x)) else float(x)
    return x


@dataclass(frozen=True)
class EvaluationResult:
    """A per-item table and a summary.

    Attributes:
        table: Column name → one value per item (image or case), in input order.
        summary: The aggregated figures with confidence intervals (JSON-ready; NaN becomes
            ``null`` in JSON).
        report: The full :class:`~neuroseg.metrics.ClassificationReport` (classification
            only).

    Example:
        >>> import numpy as np
        >>> r = evaluate_segmentation(np.ones((2, 4, 4)), np.ones((2, 4, 4)),
        ...                           metrics=["dice"], n_bootstrap=10)
        >>> block = r.summary["metrics"]
        >>> block["dice"].get("per_image").get("mean"), len(r.rows())
        (1.0, 2)
    """

    table: dict[str, list[Any]]
    summary: dict[str, Any]
    report: ClassificationReport | None = None

    def rows(self) -> list[dict[str, Any]]:
        """The table as one dict per item."""
        names = list(self.table)
        n = len(self.table[names[0]]) if names else 0
        return [{k: self.table[k][i] for k in names} for i in range(n)]

    def to_csv(self, path: str | Path) -> Path:
        """Write the per-item table as CSV (NaN written as empty cells); return the path."""
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(self.table))
            writer.writeheader()
            for row in self.rows():
                writer.writerow(
                    {
                        k: ("" if isinstance(v, float) and math.isnan(v) else v)
                        for k, v in row.items()
                    }
                )
        return path

    def to_json(self, path: str | Path | None = None) -> str:
        """The summary as JSON text; also written to ``path`` if given."""
        text = json.dumps(_jsonable(self.summary), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text


def _ci(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    ok = boot[~np.isnan(boot)]
    if not len(ok):
        return float("nan"), float("nan")
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(ok, [tail, 100 - tail])
    return float(lo), float(hi)


def _boot_means(
    values: np.ndarray,
    units: list[np.ndarray] | None,
    *,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Bootstrap distribution of the NaN-ignoring mean of ``values`` (resampling units)."""
    ok = ~np.isnan(values)
    v = np.where(ok, values, 0.0)
    if units is None:
        sums, counts = v, ok.astype(np.float64)
    else:
        sums = np.array([v[u].sum() for u in units])
        counts = np.array([ok[u].sum() for u in units], dtype=np.float64)
    draw = rng.integers(0, len(sums), size=(n_bootstrap, len(sums)))
    s, c = sums[draw].sum(axis=1), counts[draw].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.where(c > 0, c, 1), np.nan)


def _summary_block(
    values: np.ndarray,
    units: list[np.ndarray] | None,
    *,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    ok = ~np.isnan(values)
    mean = float(values[ok].mean()) if ok.any() else float("nan")
    lo, hi = _ci(_boot_means(values, units, n_bootstrap=n_bootstrap, rng=rng), confidence)
    return {
        "mean": mean,
        "ci_low": lo,
        "ci_high": hi,
        "n": len(values),
        "n_excluded": int((~ok).sum()),
    }


def _check_bootstrap(n_bootstrap: int, confidence: float) -> None:
    if n_bootstrap < 1:
        raise ConfigError(f"n_bootstrap must be at least 1, got {n_bootstrap}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie in (0, 1), got {confidence}")


def evaluate_segmentation(
    y_true: Any,
    y_pred: Any,
    *,
    groups: Sequence[Any] | None = None,
    ids: Sequence[Any] | None = None,
    metrics: Sequence[str] = ("dice", "iou", "precision", "recall", "specificity", "hd95"),
    spacing: Sequence[float] | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    empty: str = "one",
    num_classes: int | None = None,
    include_background: bool = True,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> EvaluationResult:
    """Score segmentations per image, pooled and per patient, with bootstrap intervals.

    The table has one row per image: ``id``, ``group`` (with ``groups=``), the truth and
    predicted foreground pixel counts (binary) and each metric (``<metric>_<class>`` for
    multi-class). The summary gives, per metric (and class), the per-image mean with its
    confidence interval, the pooled value (all pixels together; for HD95/ASSD the pooled
    surface distances) and, with ``groups=``, the per-patient mean (each patient a volume)
    with its interval over patients.

    Args:
        y_true: Truth masks, as for :func:`~neuroseg.metrics.dice`.
        y_pred: Predictions of the same layout.
        groups: One patient ID per image; patients are the bootstrap unit.
        ids: One name per image for the table (default ``0..N-1``).
        metrics: Names among dice, iou, precision, recall, specificity, hd95, assd.
        spacing: Pixel spacing for HD95/ASSD (see :func:`~neuroseg.metrics.hd95`).
        threshold: Foreground threshold for probabilities (binary).
        from_logits: Predictions are logits (binary).
        empty: Empty-mask rule, ``"one"`` or ``"nan"``.
        num_classes: Number of classes for multi-class label maps.
        include_background: Score class 0 too (multi-class).
        n_bootstrap: Bootstrap resamples.
        confidence: Level of the intervals.
        seed: Seed of the bootstrap.

    Returns:
        An :class:`EvaluationResult`.

    Example:
        >>> import numpy as np
        >>> t = np.zeros((3, 4, 4), np.uint8); t[0, :2] = 1
        >>> p = np.zeros_like(t); p[0, :1] = 1
        >>> r = evaluate_segmentation(t, p, groups=["a", "a", "b"], metrics=["dice"])
        >>> m = r.summary["metrics"].get("dice")
        >>> image, patient = m.get("per_image"), m.get("per_patient")
        >>> round(image.get("mean"), 4), round(m.get("pooled"), 4), round(patient.get("mean"), 4)
        (0.8889, 0.6667, 0.8333)
    """
    _check_bootstrap(n_bootstrap, confidence)
    unknown = [m for m in metrics if m not in _SEG_METRICS]
    if unknown:
        raise UnknownNameError(
            f"Unknown metric(s) {unknown}; choose from {', '.join(_SEG_METRICS)}"
        )
    common: dict[str, Any] = {
        "threshold": threshold,
        "from_logits": from_logits,
        "empty": empty,
        "num_classes": num_classes,
        "include_background": include_background,
    }
    prep = prepare(
        y_true,
        y_pred,
        threshold=threshold,
        from_logits=from_logits,
        num_classes=num_classes,
        include_background=include_background,
    )
    n = prep.truth.shape[0]
    if ids is not None and len(ids) != n:
        raise ConfigError(f"ids has {len(ids)} entries for {n} images")
    if groups is not None and len(groups) != n:
        raise ConfigError(f"groups has {len(groups)} entries for {n} images")
    table: dict[str, list[Any]] = {"id": list(ids) if ids is not None else list(range(n))}
    units = None
    if groups is not None:
        table["group"] = [str(g) for g in groups]
        units = group_index(groups)[1]
    if prep.classes is None:
        for label, mask in (("truth_pixels", prep.truth), ("pred_pixels", prep.pred)):
            table[label] = [int(x) for x in np.count_nonzero(mask.reshape(n, -1), axis=1)]
    classes: list[int | None] = list(prep.classes) if prep.classes is not None else [None]
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for name in metrics:
        fn = _SEG_METRICS[name]
        kwargs = {**common, **({"spacing": spacing} if name in _DISTANCE else {})}
        per_image = np.asarray(fn(y_true, y_pred, reduction="none", **kwargs)).reshape(n, -1)
        pooled = np.atleast_1d(fn(y_true, y_pred, reduction="pooled", **kwargs))
        per_patient = None
        if groups is not None:
            res = fn(y_true, y_pred, reduction="per_patient", groups=groups, details=True, **kwargs)
            per_patient = np.asarray(res.values).reshape(len(res.values), -1)
        for k, c in enumerate(classes):
            key = name if c is None else f"{name}_{c}"
            col = per_image[:, k]
            table[key] = [float(v) for v in col]
            block: dict[str, Any] = {
                "per_image": _summary_block(
                    col, units, n_bootstrap=n_bootstrap, confidence=confidence, rng=rng
                ),
                "pooled": float(pooled[k]),
            }
            if per_patient is not None:
                block["per_patient"] = _summary_block(
                    per_patient[:, k], None, n_bootstrap=n_bootstrap, confidence=confidence, rng=rng
                )
            out[key] = block
    summary = {
        "n_images": n,
        "n_patients": None if units is None else len(units),
        "empty_rule": empty,
        "spacing": None if spacing is None else [float(s) for s in spacing],
        "bootstrap": {
            "resamples": n_bootstrap,
            "confidence": confidence,
            "seed": seed,
            "unit": "patient" if units is not None else "image",
        },
        "metrics": out,
    }
    return EvaluationResult(table=table, summary=summary)


def evaluate_classification(
    y_true: Any,
    y_pred: Any,
    *,
    class_names: Sequence[str] | None = None,
    ids: Sequence[Any] | None = None,
    groups: Sequence[Any] | None = None,
    n_bins: int = 15,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> EvaluationResult:
    """Score a classifier: per-case table, full report and bootstrap intervals.

    The table has one row per case: ``id``, ``group``, ``true``, ``pred``, ``correct`` and,
    with scores, ``confidence`` and ``p_<class>``. The summary is the
    :class:`~neuroseg.metrics.ClassificationReport` as a dict plus ``"ci"``: intervals of
    accuracy, balanced accuracy, macro F1 and (with scores) macro ROC-AUC, resampling
    patients when ``groups=`` is given, else cases. Resamples in which a figure is undefined
    (e.g. a class absent) are left out of its interval.

    Args:
        y_true: ``(N,)`` labels.
        y_pred: ``(N,)`` predicted labels or ``(N, C)`` probabilities.
        class_names: A name per class.
        ids: One name per case for the table.
        groups: One patient ID per case (the bootstrap unit).
        n_bins: Bins of the calibration error.
        n_bootstrap: Bootstrap resamples.
        confidence: Level of the intervals.
        seed: Seed of the bootstrap.

    Returns:
        An :class:`EvaluationResult` with ``report`` set.

    Example:
        >>> r = evaluate_classification([0, 1, 1, 0], [0, 1, 0, 0], n_bootstrap=50)
        >>> r.summary["accuracy"], sorted(r.summary["ci"])
        (0.75, ['accuracy', 'balanced_accuracy', 'macro_f1'])
    """
    _check_bootstrap(n_bootstrap, confidence)
    report = classification_report(y_true, y_pred, class_names=class_names, n_bins=n_bins)
    t = _labels(y_true, "y_true")
    scores = to_numpy(y_pred)
    p = _labels(y_pred, "y_pred")
    n, c = len(t), len(report.class_names)
    for label, seq in (("ids", ids), ("groups", groups)):
        if seq is not None and len(seq) != n:
            raise ConfigError(f"{label} has {len(seq)} entries for {n} cases")
    table: dict[str, list[Any]] = {"id": list(ids) if ids is not None else list(range(n))}
    if groups is not None:
        table["group"] = [str(g) for g in groups]
    table["true"] = [report.class_names[k] for k in t]
    table["pred"] = [report.class_names[k] for k in p]
    table["correct"] = [bool(a == b) for a, b in zip(t, p)]
    if scores.ndim == 2:
        table["confidence"] = [float(v) for v in scores.max(axis=1)]
        for k, name in enumerate(report.class_names):
            table[f"p_{name}"] = [float(v) for v in scores[:, k]]
    units = group_index(groups)[1] if groups is not None else [np.array([i]) for i in range(n)]
    rng = np.random.default_rng(seed)
    names = ["accuracy", "balanced_accuracy", "macro_f1"]
    if scores.ndim == 2:
        names.append("roc_auc_macro")
    boot = {k: np.empty(n_bootstrap) for k in names}
    for b in range(n_bootstrap):
        idx = np.concatenate([units[i] for i in rng.integers(0, len(units), len(units))])
        tb, pb = t[idx], p[idx]
        cm = np.bincount(tb * c + pb, minlength=c * c).reshape(c, c).astype(np.float64)
        tp, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
        boot["accuracy"][b] = tp.sum() / len(idx)
        boot["balanced_accuracy"][b] = np.mean(tp[support > 0] / support[support > 0])
        prec = np.divide(tp, predicted, out=np.zeros(c), where=predicted > 0)
        rec = np.divide(tp, support, out=np.zeros(c), where=support > 0)
        f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(c), where=(prec + rec) > 0)
        boot["macro_f1"][b] = f1.mean()
        if "roc_auc_macro" in boot:
            boot["roc_auc_macro"][b] = float(roc_auc(tb, scores[idx], average="macro"))
    summary = report.to_dict()
    summary["ci"] = {k: list(_ci(v, confidence)) for k, v in boot.items()}
    summary["bootstrap"] = {
        "resamples": n_bootstrap,
        "confidence": confidence,
        "seed": seed,
        "unit": "patient" if groups is not None else "case",
    }
    return EvaluationResult(table=table, summary=summary, report=report)
