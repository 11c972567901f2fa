"""Evaluation reports: a per-item table and a summary with bootstrap confidence intervals.

:func:`evaluate_segmentation` scores every image with the functional metrics and summarises
them per image, pooled and (with ``groups=``) per patient; :func:`evaluate_classification`
does the same for a classifier; :func:`segmentation_by_class` runs the first once per
true class (e.g. per tumour type). They return an :class:`EvaluationResult`, whose table is
written with :meth:`~EvaluationResult.to_csv`, whose summary with
:meth:`~EvaluationResult.to_json`, and which prints as aligned tables
(:meth:`~EvaluationResult.format`). ``neuroseg evaluate`` goes through these two functions.

Segmentation inputs may be one stack ``(N, H, W[, C])`` or a list of per-image arrays of
different sizes (each image is scored at its own size).

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
from neuroseg.metrics.bootstrap import check_bootstrap, mean_interval, percentile_interval
from neuroseg.metrics.calibration import brier_score, reliability_curve
from neuroseg.metrics.classification import (
    ClassificationReport,
    accuracy,
    classification_report,
    precision_recall_f1,
    roc_auc,
)
from neuroseg.metrics.distance import assd, hd95
from neuroseg.metrics.localisation import box_iou, centroid_distance
from neuroseg.metrics.overlap import EmptyRule, confusion_counts, scores_from_counts
from neuroseg.tables import format_table

__all__ = [
    "LOWER_IS_BETTER",
    "SEGMENTATION_METRICS",
    "EvaluationResult",
    "evaluate_classification",
    "evaluate_segmentation",
    "jsonable",
    "segmentation_by_class",
]

_OVERLAP = ("dice", "iou", "precision", "recall", "specificity")
_DISTANCE: dict[str, Any] = {"hd95": hd95, "assd": assd}
# Localisation metrics: per image; per patient the mean of its images; no pooled value.
_LOCALISATION: dict[str, Any] = {"box_iou": box_iou, "centroid_distance": centroid_distance}
#: The per-image segmentation metrics :func:`evaluate_segmentation` computes, in report order.
SEGMENTATION_METRICS: tuple[str, ...] = (*_OVERLAP, *_DISTANCE, *_LOCALISATION)
#: The metrics among them where lower is better (distances, in pixels or mm).
LOWER_IS_BETTER: frozenset[str] = frozenset({*_DISTANCE, "centroid_distance"})
_LABELS = {
    "dice": "Dice",
    "iou": "IoU",
    "precision": "precision",
    "recall": "recall",
    "specificity": "specificity",
    "hd95": "HD95",
    "assd": "ASSD",
    "box_iou": "box IoU",
    "centroid_distance": "centroid distance",
}


def _split_key(key: str) -> tuple[str, str]:
    """A table key's metric name and class (``"box_iou_2"`` -> ``("box_iou", "2")``)."""
    for name in sorted(SEGMENTATION_METRICS, key=len, reverse=True):
        if key == name:
            return name, ""
        if key.startswith(name + "_"):
            return name, key[len(name) + 1 :]
    name, _, cls = key.partition("_")
    return name, cls


def jsonable(x: Any) -> Any:
    """``x`` with NumPy numbers and arrays as Python ones and NaN as ``None`` (for JSON).

    Example:
        >>> jsonable({"a": np.float64("nan"), "b": np.arange(2), "c": (np.int64(3),)})
        {'a': None, 'b': [0, 1], 'c': [3]}
    """
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(float(x)) else float(x)
    return x


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _pair(lo: Any, hi: Any) -> tuple[float, float] | None:
    """A confidence interval for :func:`~neuroseg.tables.format_table`, or None."""
    return None if _nan(lo) or _nan(hi) else (float(lo), float(hi))


def _ci_label(summary: dict[str, Any]) -> str:
    return f"{float(summary['bootstrap']['confidence']) * 100:g} % CI"


def _bootstrap_line(summary: dict[str, Any], unit_plural: str) -> str:
    b = summary["bootstrap"]
    line = (
        f"{_ci_label(summary)}: percentile bootstrap, {b['resamples']} resamples of "
        f"{unit_plural} (seed {b['seed']})"
    )
    if b["unit"] != "patient":
        line += "; no patient IDs, so the intervals may be too narrow"
    return line


def _metric_label(key: str, summary: dict[str, Any]) -> str:
    name, cls = _split_key(key)
    label = _LABELS.get(name, name)
    if name in _DISTANCE or name == "centroid_distance":
        label += " (px)" if summary.get("spacing") is None else ""
    return f"{label} class {cls}" if cls else label


def _format_segmentation(summary: dict[str, Any]) -> str:
    metrics: dict[str, dict[str, Any]] = summary["metrics"]
    ci = _ci_label(summary)
    has_patient = any("per_patient" in b for b in metrics.values())
    excluded_images = any(b["per_image"]["n_excluded"] for b in metrics.values())
    excluded_patients = any(b.get("per_patient", {}).get("n_excluded") for b in metrics.values())
    header = ["metric", "per image", ci, "pooled"]
    if has_patient:
        header += ["per patient", ci]
    if excluded_images or excluded_patients:
        header += ["excluded images"]
    if excluded_patients:
        header += ["excluded patients"]
    rows: list[list[Any]] = []
    for key, block in metrics.items():
        img = block["per_image"]
        row: list[Any] = [
            _metric_label(key, summary),
            img["mean"],
            _pair(img["ci_low"], img["ci_high"]),
            block["pooled"],
        ]
        pp = block.get("per_patient")
        if has_patient:
            row += [pp["mean"], _pair(pp["ci_low"], pp["ci_high"])] if pp else [None, None]
        if excluded_images or excluded_patients:
            row.append(int(img["n_excluded"]))
        if excluded_patients:
            row.append(int(pp["n_excluded"]) if pp else None)
        rows.append(row)
    n_patients = summary.get("n_patients")
    head = f"segmentation: {summary['n_images']} images"
    head += f", {n_patients} patients" if n_patients else " (patients unknown)"
    lines = [head, format_table(rows, header=header)]
    if has_patient:
        lines.append("per patient: a patient's slices form one volume (counts summed, HD95 in 3-D)")
    if summary["empty_rule"] == "one":
        lines.append(
            "empty masks: truth and prediction both empty score 1 (HD95 0); only one empty "
            "scores 0 (HD95: the image diagonal)"
        )
    else:
        lines.append(
            "empty masks: a value that is undefined (0/0, or HD95 with an empty mask) is "
            "left out of the mean (counted under 'excluded')"
        )
    if any(_split_key(k)[0] in _LOCALISATION for k in metrics):
        rule = (
            " (both empty: 1 and 0; only one empty: 0 and the image diagonal)"
            if summary["empty_rule"] == "one"
            else ""
        )
        patients = "; per patient the mean of its images" if has_patient else ""
        lines.append(f"box IoU, centroid distance: per image{rule}{patients}; no pooled value")
    spacing = summary.get("spacing")
    distances = (*_DISTANCE, "centroid_distance")
    if spacing is not None and any(_split_key(k)[0] in distances for k in metrics):
        lines.append(f"distances in the units of the pixel spacing {tuple(spacing)}")
    if int(summary.get("n_image_sizes", 1)) > 1 and any(k in _DISTANCE for k in metrics):
        lines.append(
            f"pooled surface distances are not computed for images of "
            f"{summary['n_image_sizes']} sizes"
        )
    lines.append(_bootstrap_line(summary, "patients" if has_patient else "images"))
    return "\n".join(lines)


def _format_classification(summary: dict[str, Any]) -> str:
    names: list[str] = summary["class_names"]
    per_class: dict[str, dict[str, Any]] = summary["per_class"]
    has_auc = summary.get("roc_auc_macro") is not None
    header = ["class", "precision", "recall", "F1", "support"] + (["ROC AUC"] if has_auc else [])
    rows: list[list[Any]] = []
    for name in names:
        pc = per_class[name]
        rows.append(
            [name, pc["precision"], pc["recall"], pc["f1"], int(pc["support"])]
            + ([pc.get("roc_auc")] if has_auc else [])
        )
    macro = summary["macro"]
    rows.append(
        ["macro average", macro["precision"], macro["recall"], macro["f1"], int(summary["n"])]
        + ([summary["roc_auc_macro"]] if has_auc else [])
    )
    cm = [[name, *(int(v) for v in row)] for name, row in zip(names, summary["confusion_matrix"])]
    ci = summary["ci"]
    figures: list[list[Any]] = [
        ["accuracy", summary["accuracy"], _pair(*ci["accuracy"])],
        ["balanced accuracy", summary["balanced_accuracy"], _pair(*ci["balanced_accuracy"])],
        ["macro F1", macro["f1"], _pair(*ci["macro_f1"])],
    ]
    if has_auc:
        figures.append(["ROC AUC (macro)", summary["roc_auc_macro"], _pair(*ci["roc_auc_macro"])])
    for name, pair in summary.get("recall_ci", {}).items():
        figures.append([f"recall {name}", per_class[name]["recall"], _pair(*pair)])
    if summary.get("ece") is not None:
        figures.append(["calibration error (ECE)", summary["ece"], None])
    if summary.get("mce") is not None:
        figures.append(["maximum calibration error (MCE)", summary["mce"], None])
    if summary.get("brier") is not None:
        figures.append(["Brier score", summary["brier"], None])
    unit = "patients" if summary["bootstrap"]["unit"] == "patient" else "cases"
    return "\n".join(
        [
            f"classification: {summary['n']} cases",
            format_table(rows, header=header),
            "",
            "confusion matrix (rows: truth, columns: prediction)",
            format_table(cm, header=["truth \\ prediction", *names]),
            "",
            format_table(figures, header=["metric", "value", _ci_label(summary)]),
            _bootstrap_line(summary, unit),
        ]
    )


@dataclass(frozen=True)
class EvaluationResult:
    """A per-item table and a summary.

    Attributes:
        table: Column name → one value per item (image or case), in input order.
        summary: The aggregated figures with confidence intervals (NaN becomes ``null`` in
            JSON).
        report: The full :class:`~neuroseg.metrics.ClassificationReport` (classification
            only).
        patients: Column name -> one value per patient (segmentation with ``groups=``:
            ``group`` and each metric's per-patient value), else ``None``.

    Example:
        >>> import numpy as np
        >>> r = evaluate_segmentation(np.ones((2, 4, 4)), np.ones((2, 4, 4)),
        ...                           metrics=["dice"], n_bootstrap=10)
        >>> block = r.summary["metrics"]
        >>> block["dice"].get("per_image").get("mean"), len(r.rows())
        (1.0, 2)
        >>> print(r.format().splitlines()[1])
        metric  per image         95 % CI  pooled
    """

    table: dict[str, list[Any]]
    summary: dict[str, Any]
    report: ClassificationReport | None = None
    patients: dict[str, list[Any]] | None = None

    def to_pandas(self, level: str = "image") -> Any:
        """The per-item (or per-patient) table as a ``pandas.DataFrame``.

        Needs the ``pandas`` extra. ``level="image"``: one row per image or case, the
        columns of :attr:`table` (segmentation: ``id``, ``group`` with groups,
        ``truth_pixels``, ``pred_pixels`` and one column per metric, e.g. ``dice``,
        ``box_iou``, ``centroid_distance``, or ``<metric>_<class>``; classification:
        ``id``, ``group``, ``true``, ``pred``, ``correct``, ``confidence``,
        ``p_<class>``). ``level="patient"``: one row per patient, ``group`` and each
        metric's per-patient value (segmentation evaluated with ``groups=``). NaN stays
        NaN.

        Raises:
            MissingDependencyError: pandas is not installed.
            ConfigError: An unknown level, or ``"patient"`` without per-patient values.

        Example:
            >>> import numpy as np
            >>> t = np.zeros((2, 4, 4)); t[0, :2] = 1
            >>> r = evaluate_segmentation(t, t, groups=["a", "b"], metrics=["dice"],
            ...                           n_bootstrap=5)
            >>> r.to_pandas().shape, tuple(r.to_pandas("patient").columns)
            ((2, 5), ('group', 'dice'))
        """
        from neuroseg._optional import require

        pd = require("pandas", extra="pandas", purpose="EvaluationResult.to_pandas")
        if level == "image":
            return pd.DataFrame(self.table)
        if level == "patient":
            if self.patients is None:
                raise ConfigError(
                    "no per-patient values: evaluate a segmentation with groups= (one "
                    "patient ID per image) for to_pandas('patient'), or use level='image'."
                )
            return pd.DataFrame(self.patients)
        raise ConfigError(f"Unknown level {level!r}; use 'image' or 'patient'.")

    @property
    def task(self) -> str:
        """``"segmentation"`` or ``"classification"``."""
        return "segmentation" if "metrics" in self.summary else "classification"

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
                writer.writerow({k: ("" if _nan(v) else v) for k, v in row.items()})
        return path

    def to_json(self, path: str | Path | None = None) -> str:
        """The summary as JSON text; also written to ``path`` if given."""
        text = json.dumps(jsonable(self.summary), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def headline(self) -> dict[str, tuple[float, tuple[float, float] | None]]:
        """The main figures, label → ``(value, interval or None)``, in reading order.

        Segmentation: each metric per image, pooled and per patient; classification:
        accuracy, balanced accuracy, macro F1 and (with scores) macro ROC AUC.
        """
        s = self.summary
        out: dict[str, tuple[float, tuple[float, float] | None]] = {}
        if self.task == "segmentation":
            for key, block in s["metrics"].items():
                label = _metric_label(key, s)
                img = block["per_image"]
                out[f"{label} per image"] = (img["mean"], _pair(img["ci_low"], img["ci_high"]))
                out[f"{label} pooled"] = (block["pooled"], None)
                pp = block.get("per_patient")
                if pp:
                    out[f"{label} per patient"] = (pp["mean"], _pair(pp["ci_low"], pp["ci_high"]))
            return out
        ci = s["ci"]
        out["accuracy"] = (s["accuracy"], _pair(*ci["accuracy"]))
        out["balanced accuracy"] = (s["balanced_accuracy"], _pair(*ci["balanced_accuracy"]))
        out["macro F1"] = (s["macro"]["f1"], _pair(*ci["macro_f1"]))
        if "roc_auc_macro" in ci:
            out["ROC AUC (macro)"] = (s["roc_auc_macro"], _pair(*ci["roc_auc_macro"]))
        return out

    def format(self) -> str:
        """The summary as aligned plain-text tables (4 significant digits).

        Segmentation: one row per metric with the per-image mean and its interval, the
        pooled value and (with patients) the per-patient mean and its interval.
        Classification: per-class precision, recall, F1 and support, the confusion matrix
        with class names, and accuracy, balanced accuracy, macro F1, macro ROC AUC and each
        class's recall with their intervals.
        """
        if self.task == "segmentation":
            return _format_segmentation(self.summary)
        return _format_classification(self.summary)

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class _Part:
    """Images of one size: their input positions and canonical truth/prediction stacks."""

    index: np.ndarray
    truth: np.ndarray
    pred: np.ndarray


def _parts(
    y_true: Any,
    y_pred: Any,
    *,
    threshold: float,
    from_logits: bool,
    num_classes: int | None,
    include_background: bool,
) -> tuple[int, list[_Part], tuple[int, ...] | None]:
    """Split the inputs into stacks of one image size each (one stack for array inputs)."""
    opts: dict[str, Any] = {
        "threshold": threshold,
        "from_logits": from_logits,
        "num_classes": num_classes,
        "include_background": include_background,
    }
    if not (isinstance(y_true, (list, tuple)) and any(hasattr(a, "shape") for a in y_true)):
        prep = prepare(y_true, y_pred, **opts)
        n = prep.truth.shape[0]
        return n, [_Part(np.arange(n), prep.truth, prep.pred)], prep.classes
    if len(y_pred) != len(y_true):
        raise ConfigError(f"y_true holds {len(y_true)} images but y_pred {len(y_pred)}")
    truths = [to_numpy(a) for a in y_true]
    preds = [to_numpy(a) for a in y_pred]
    by_shape: dict[tuple[tuple[int, ...], tuple[int, ...]], list[int]] = {}
    for i, (t, p) in enumerate(zip(truths, preds)):
        if t.ndim not in (2, 3) or p.ndim not in (2, 3) or t.shape[:2] != p.shape[:2]:
            raise ConfigError(
                f"image {i}: y_true {t.shape} and y_pred {p.shape}; each image must be "
                "(H, W) or (H, W, C), the two of the same size"
            )
        by_shape.setdefault((t.shape, p.shape), []).append(i)
    parts: list[_Part] = []
    classes: tuple[int, ...] | None = None
    for k, idx in enumerate(by_shape.values()):
        prep = prepare(
            np.stack([truths[i] for i in idx]), np.stack([preds[i] for i in idx]), **opts
        )
        if k and prep.classes != classes:
            raise ConfigError(
                "the images do not all have the same classes; pass num_classes= for label maps"
            )
        classes = prep.classes
        parts.append(_Part(np.asarray(idx), prep.truth, prep.pred))
    return len(truths), parts, classes


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

    Overlap metrics come from each image's confusion counts through
    :func:`~neuroseg.metrics.scores_from_counts` (the formulas and empty-mask rule of
    :func:`~neuroseg.metrics.dice` and the others); pooled and per-patient values sum those
    counts. Images may differ in size: pass lists of ``(H, W)`` arrays. Then each surface
    distance is measured at the image's own size; a per-patient HD95/ASSD needs the
    patient's slices to share one size (else NaN, counted in ``n_excluded``), and pooled
    HD95/ASSD is only computed when all images share one size (else NaN).

    The localisation metrics ``box_iou`` and ``centroid_distance``
    (:mod:`neuroseg.metrics.localisation`, with its empty-mask rule) are per image; a
    patient's value is the mean of its images' values, and they have no pooled value (NaN).

    Args:
        y_true: Truth masks, as for :func:`~neuroseg.metrics.dice`, or a list of per-image
            arrays ``(H, W)`` (or ``(H, W, C)``) of any sizes.
        y_pred: Predictions of the same layout.
        groups: One patient ID per image; patients are the bootstrap unit.
        ids: One name per image for the table (default ``0..N-1``).
        metrics: Names among dice, iou, precision, recall, specificity, hd95, assd,
            box_iou and centroid_distance.
        spacing: Pixel spacing for HD95/ASSD (see :func:`~neuroseg.metrics.hd95`) and
            the centroid distance (its last two values, ``(row, col)``).
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

    Raises:
        ConfigError: Mismatched inputs, ``ids`` or ``groups`` of the wrong length, no
            images, or bad bootstrap settings.
        UnknownNameError: An unknown metric name.

    Example:
        >>> import numpy as np
        >>> t = np.zeros((3, 4, 4), np.uint8); t[0, :2] = 1
        >>> p = np.zeros_like(t); p[0, :1] = 1
        >>> r = evaluate_segmentation(t, p, groups=["a", "a", "b"], metrics=["dice"])
        >>> m = r.summary["metrics"].get("dice")
        >>> image, patient = m.get("per_image"), m.get("per_patient")
        >>> round(image.get("mean"), 4), round(m.get("pooled"), 4), round(patient.get("mean"), 4)
        (0.8889, 0.6667, 0.8333)
        >>> sizes = [np.ones((4, 4)), np.ones((2, 6))]  # two sizes
        >>> tuple(evaluate_segmentation(sizes, sizes, metrics=["dice"]).table["dice"])
        (1.0, 1.0)
    """
    check_bootstrap(n_bootstrap, confidence)
    unknown = [m for m in metrics if m not in SEGMENTATION_METRICS]
    if unknown:
        raise UnknownNameError(
            f"Unknown metric(s) {unknown}; choose from {', '.join(SEGMENTATION_METRICS)}"
        )
    if empty not in ("one", "nan"):
        raise ConfigError(f"Unknown empty rule {empty!r}; choose 'one' or 'nan'")
    n, parts, classes = _parts(
        y_true,
        y_pred,
        threshold=threshold,
        from_logits=from_logits,
        num_classes=num_classes,
        include_background=include_background,
    )
    if n == 0:
        raise ConfigError("no images to score: y_true is empty")
    if ids is not None and len(ids) != n:
        raise ConfigError(f"ids has {len(ids)} entries for {n} images")
    if groups is not None and len(groups) != n:
        raise ConfigError(f"groups has {len(groups)} entries for {n} images")
    k = 1 if classes is None else len(classes)
    label_opts: dict[str, Any] = {
        "num_classes": None if classes is None else classes[-1] + 1,
        "include_background": include_background,
    }
    counts = np.zeros((4, n, k), np.int64)  # TP, FP, FN, TN per image and scored class
    for part in parts:
        tp_fp_fn_tn = confusion_counts(part.truth, part.pred, **label_opts)
        counts[:, part.index] = np.stack(
            [np.asarray(x).reshape(len(part.index), k) for x in tp_fp_fn_tn]
        )
    table: dict[str, list[Any]] = {"id": list(ids) if ids is not None else list(range(n))}
    units = None
    if groups is not None:
        table["group"] = [str(g) for g in groups]
        units = group_index(groups)[1]
    if classes is None:
        table["truth_pixels"] = [int(x) for x in counts[0, :, 0] + counts[2, :, 0]]
        table["pred_pixels"] = [int(x) for x in counts[0, :, 0] + counts[1, :, 0]]
    rule: EmptyRule = "one" if empty == "one" else "nan"
    overlap = {
        "none": scores_from_counts(*counts, empty=rule),
        "pooled": scores_from_counts(*counts.sum(axis=1), empty=rule),
    }
    if units is not None:
        per_patient_counts = np.stack([counts[:, u].sum(axis=1) for u in units], axis=1)
        overlap["per_patient"] = scores_from_counts(*per_patient_counts, empty=rule)
    part_of = np.empty(n, np.int64)
    local = np.empty(n, np.int64)
    for j, part in enumerate(parts):
        part_of[part.index] = j
        local[part.index] = np.arange(len(part.index))
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    patient_table: dict[str, list[Any]] | None = None
    if groups is not None:
        patient_table = {"group": group_index(groups)[0]}
    for name in metrics:
        per_image, pooled, per_patient = _metric_values(
            name,
            parts,
            overlap,
            units,
            part_of=part_of,
            local=local,
            n=n,
            k=k,
            opts={**label_opts, "empty": empty, "spacing": spacing},
        )
        for j, cls in enumerate(classes if classes is not None else [None]):
            key = name if cls is None else f"{name}_{cls}"
            col = per_image[:, j]
            table[key] = [float(v) for v in col]
            block: dict[str, Any] = {
                "per_image": mean_interval(
                    col, units, n_bootstrap=n_bootstrap, confidence=confidence, rng=rng
                ),
                "pooled": float(pooled[j]),
            }
            if per_patient is not None:
                if patient_table is not None:
                    patient_table[key] = [float(v) for v in per_patient[:, j]]
                block["per_patient"] = mean_interval(
                    per_patient[:, j], None, n_bootstrap=n_bootstrap, confidence=confidence, rng=rng
                )
            out[key] = block
    summary = {
        "n_images": n,
        "n_patients": None if units is None else len(units),
        "n_image_sizes": len(parts),
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
    return EvaluationResult(table=table, summary=summary, patients=patient_table)


def _metric_values(
    name: str,
    parts: list[_Part],
    overlap: dict[str, dict[str, Any]],
    units: list[np.ndarray] | None,
    *,
    part_of: np.ndarray,
    local: np.ndarray,
    n: int,
    k: int,
    opts: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-image ``(n, k)``, pooled ``(k,)`` and per-patient ``(P, k)`` values of a metric."""
    if name in _LOCALISATION:
        return _localisation_values(name, parts, units, n=n, k=k, opts=opts)
    if name in _OVERLAP:
        per_patient = None
        if units is not None:
            per_patient = np.asarray(overlap["per_patient"][name]).reshape(len(units), k)
        return (
            np.asarray(overlap["none"][name]).reshape(n, k),
            np.asarray(overlap["pooled"][name]).reshape(k),
            per_patient,
        )
    fn = _DISTANCE[name]
    per_image = np.empty((n, k))
    for part in parts:
        values = fn(part.truth, part.pred, reduction="none", **opts)
        per_image[part.index] = np.asarray(values).reshape(len(part.index), k)
    pooled = np.full(k, np.nan)
    if len(parts) == 1:
        pooled = np.atleast_1d(fn(parts[0].truth, parts[0].pred, reduction="pooled", **opts))
    if units is None:
        return per_image, pooled, None
    per_patient = np.full((len(units), k), np.nan)
    for j, rows in enumerate(units):
        where = np.unique(part_of[rows])
        if len(where) == 1:  # the patient's slices share one size: one volume
            part = parts[int(where[0])]
            sel = local[rows]
            value = fn(
                part.truth[sel],
                part.pred[sel],
                reduction="per_patient",
                groups=[0] * len(sel),
                **opts,
            )
            per_patient[j] = np.asarray(value).reshape(k)
    return per_image, pooled, per_patient


def _localisation_values(
    name: str,
    parts: list[_Part],
    units: list[np.ndarray] | None,
    *,
    n: int,
    k: int,
    opts: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-image, pooled (NaN: not defined) and per-patient (mean of its images) values."""
    fn = _LOCALISATION[name]
    kwargs = {key: v for key, v in opts.items() if name == "centroid_distance" or key != "spacing"}
    if name == "centroid_distance" and kwargs.get("spacing") is not None:
        kwargs["spacing"] = tuple(kwargs["spacing"])[-2:]
    per_image = np.empty((n, k))
    for part in parts:
        values = fn(part.truth, part.pred, reduction="none", **kwargs)
        per_image[part.index] = np.asarray(values).reshape(len(part.index), k)
    per_patient = None
    if units is not None:
        per_patient = np.full((len(units), k), np.nan)
        for j, rows in enumerate(units):
            values = per_image[rows]
            ok = ~np.isnan(values)
            counts = ok.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(ok, values, 0.0).sum(axis=0) / counts
            per_patient[j] = np.where(counts > 0, mean, np.nan)
    return per_image, np.full(k, np.nan), per_patient


def _as_labels(y: Any) -> np.ndarray:
    """Labels from ``(N,)`` labels or ``(N, C)`` scores (already validated)."""
    a = to_numpy(y)
    return np.argmax(a, axis=1) if a.ndim == 2 else a.astype(np.int64)


def segmentation_by_class(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    labels: Sequence[int],
    *,
    class_names: Sequence[str],
    groups: Sequence[Any] | None = None,
    metrics: Sequence[str] = ("dice", "iou", "precision", "recall"),
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`evaluate_segmentation` once per true class of the images.

    Figshare's slices carry their tumour type: a model can segment meningiomas well and
    gliomas badly behind one mean. Each class with images gets its own per-image mean,
    interval, pooled value and (with ``groups=``) per-patient figures.

    Args:
        y_true: Truth masks, one per image (a stack or a list of arrays of any sizes).
        y_pred: Predictions of the same layout.
        labels: The true class index of each image.
        class_names: The name of each class index.
        groups: One patient ID per image (the bootstrap unit).
        metrics: As for :func:`evaluate_segmentation`.
        n_bootstrap: Bootstrap resamples.
        confidence: Level of the intervals.
        seed: Seed of the bootstrap.

    Returns:
        ``{class name: {"n_items": int, "metrics": {...}}}`` in class order, for the
        classes with images; ``metrics`` as in :func:`evaluate_segmentation`'s summary.

    Raises:
        ConfigError: ``labels`` or ``groups`` of the wrong length, or a label outside
            ``class_names``.

    Example:
        >>> import numpy as np
        >>> truth = np.array([[[1, 1]], [[1, 0]]])
        >>> pred = np.array([[[1, 1]], [[0, 1]]])
        >>> out = segmentation_by_class(truth, pred, [0, 1], class_names=["a", "b"],
        ...                             metrics=["dice"], n_bootstrap=10)
        >>> dice_of = {k: v.get("metrics").get("dice") for k, v in out.items()}
        >>> {k: d.get("per_image").get("mean") for k, d in dice_of.items()}
        {'a': 1.0, 'b': 0.0}
    """
    n = len(y_true)
    if len(labels) != n or len(y_pred) != n:
        raise ConfigError(
            f"segmentation_by_class: {n} truths, {len(y_pred)} predictions and "
            f"{len(labels)} labels; give one label per image."
        )
    if groups is not None and len(groups) != n:
        raise ConfigError(f"segmentation_by_class: {n} images but {len(groups)} groups.")
    codes = [int(c) for c in labels]
    bad = [c for c in codes if not 0 <= c < len(class_names)]
    if bad:
        raise ConfigError(
            f"segmentation_by_class: label {bad[0]} is not a class index of "
            f"{list(class_names)}; give labels 0..{len(class_names) - 1}."
        )
    out: dict[str, Any] = {}
    for c, name in enumerate(class_names):
        part = [i for i, code in enumerate(codes) if code == c]
        if not part:
            continue
        result = evaluate_segmentation(
            [y_true[i] for i in part],
            [y_pred[i] for i in part],
            groups=None if groups is None else [groups[i] for i in part],
            metrics=metrics,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
        )
        out[str(name)] = {"n_items": len(part), "metrics": result.summary["metrics"]}
    return out


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
    :class:`~neuroseg.metrics.ClassificationReport` as a dict; with scores also ``"mce"``
    (maximum calibration error), ``"brier"`` (multi-class Brier score) and
    ``"reliability"`` (the :class:`~neuroseg.metrics.ReliabilityCurve` as a dict, beside
    ``"ece"``); plus ``"ci"``: intervals of accuracy, balanced accuracy, macro F1 and
    (with scores) macro ROC-AUC, and ``"recall_ci"``: each class's recall (sensitivity)
    interval by class name, all resampling patients when ``groups=`` is given, else
    cases. Resamples in which a figure is undefined
    (e.g. a class absent) are left out of its interval. Each resample is scored by
    :func:`~neuroseg.metrics.accuracy`, :func:`~neuroseg.metrics.balanced_accuracy`,
    :func:`~neuroseg.metrics.precision_recall_f1` and :func:`~neuroseg.metrics.roc_auc`.

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
    check_bootstrap(n_bootstrap, confidence)
    report = classification_report(y_true, y_pred, class_names=class_names, n_bins=n_bins)
    t, p = _as_labels(y_true), _as_labels(y_pred)
    scores = to_numpy(y_pred)
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
    recalls = np.empty((n_bootstrap, c))  # NaN where a resample has none of the class
    for b in range(n_bootstrap):
        idx = np.concatenate([units[i] for i in rng.integers(0, len(units), len(units))])
        tb, pb = t[idx], p[idx]
        prf = precision_recall_f1(tb, pb, num_classes=c)
        recalls[b] = np.where(prf["support"] > 0, prf["recall"], np.nan)
        boot["accuracy"][b] = accuracy(tb, pb)
        # balanced accuracy = mean recall over the classes present (one confusion matrix)
        boot["balanced_accuracy"][b] = float(np.nanmean(recalls[b]))
        boot["macro_f1"][b] = float(np.mean(prf["f1"]))
        if "roc_auc_macro" in boot:
            boot["roc_auc_macro"][b] = float(roc_auc(tb, scores[idx], average="macro"))
    summary = report.to_dict()
    if scores.ndim == 2:
        curve = reliability_curve(t, scores, n_bins=n_bins)
        summary["mce"] = curve.mce
        summary["brier"] = brier_score(t, scores)
        summary["reliability"] = curve.to_dict()
    summary["ci"] = {k: list(percentile_interval(v, confidence)) for k, v in boot.items()}
    summary["recall_ci"] = {
        name: list(percentile_interval(recalls[:, k], confidence))
        for k, name in enumerate(report.class_names)
    }
    summary["bootstrap"] = {
        "resamples": n_bootstrap,
        "confidence": confidence,
        "seed": seed,
        "unit": "patient" if groups is not None else "case",
    }
    return EvaluationResult(table=table, summary=summary, report=report)
