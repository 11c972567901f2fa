"""Classification metrics: accuracy, per-class precision/recall/F1 and ROC-AUC.

All functions take NumPy arrays (or tensors): ``y_true`` is ``(N,)`` integer labels
``0..C-1``; ``y_pred`` is ``(N,)`` labels or ``(N, C)`` scores (turned into labels by
``argmax``); ``y_score`` is ``(N, C)`` class probabilities, or ``(N,)`` probabilities of
class 1 for a binary problem. The figures equal scikit-learn's (tested):
``precision_recall_fscore_support(..., labels=range(C), zero_division=0)``,
``balanced_accuracy_score``, ``confusion_matrix`` and ``roc_auc_score(multi_class="ovr")``.
The calibration metrics live in :mod:`neuroseg.metrics.calibration`;
:func:`expected_calibration_error` is importable from here too, as before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError
from neuroseg.metrics._inputs import to_numpy
from neuroseg.metrics.calibration import expected_calibration_error
from neuroseg.tables import format_table

__all__ = [
    "ClassificationReport",
    "accuracy",
    "balanced_accuracy",
    "classification_report",
    "confusion_matrix",
    "expected_calibration_error",
    "precision_recall_f1",
    "recall_by_group",
    "roc_auc",
]


def _labels(y: Any, name: str) -> np.ndarray:
    a = to_numpy(y)
    if a.ndim == 2:
        if np.isnan(a).any():
            raise ConfigError(f"{name} contains NaN.")
        return np.asarray(np.argmax(a, axis=1))
    if a.ndim != 1:
        raise ConfigError(f"{name}: expected (N,) labels or (N, C) scores, got shape {a.shape}")
    if np.issubdtype(a.dtype, np.floating) and np.any(a != np.round(a)):
        raise ConfigError(f"{name} holds non-integer labels; pass labels or (N, C) scores.")
    out = a.astype(np.int64)
    if out.size and out.min() < 0:
        raise ConfigError(f"{name} holds negative labels.")
    return out


def _pair(y_true: Any, y_pred: Any, num_classes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ConfigError(f"y_true has {len(t)} items but y_pred has {len(p)}")
    if not len(t):
        raise ConfigError("no items to score: y_true is empty")
    c = num_classes
    if c is None:
        pred = to_numpy(y_pred)
        c = pred.shape[1] if pred.ndim == 2 else int(max(t.max(), p.max())) + 1
    if max(t.max(), p.max()) >= c:
        raise ConfigError(
            f"labels go up to {max(t.max(), p.max())} but there are only {c} classes "
            "(from num_classes, class_names or the score columns); pass one per class."
        )
    return t, p, int(c)


def _scores(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _labels(y_true, "y_true")
    s = to_numpy(y_score).astype(np.float64)
    if s.ndim == 1:
        s = np.stack([1.0 - s, s], axis=1)
    if s.ndim != 2 or len(s) != len(t):
        raise ConfigError(f"y_score must be (N,) or (N, C) for {len(t)} items, got {s.shape}")
    if np.isnan(s).any():
        raise ConfigError("y_score contains NaN.")
    if t.size and t.max() >= s.shape[1]:
        raise ConfigError(f"label {t.max()} has no score column ({s.shape[1]} columns)")
    return t, s


def confusion_matrix(y_true: Any, y_pred: Any, *, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of items of true class ``i`` predicted as ``j``.

    Example:
        >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2]).tolist()
        [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    t, p, c = _pair(y_true, y_pred, num_classes)
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of items predicted correctly.

    Example:
        >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
        0.75
    """
    t, p, _ = _pair(y_true, y_pred, None)
    return float(np.mean(t == p))


def balanced_accuracy(y_true: Any, y_pred: Any) -> float:
    """Mean recall over the classes present in ``y_true`` (scikit-learn's definition).

    Example:
        >>> balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0])
        0.5
    """
    cm = confusion_matrix(y_true, y_pred)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def precision_recall_f1(
    y_true: Any, y_pred: Any, *, num_classes: int | None = None
) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support (undefined ratios are 0.0).

    Returns:
        ``{"precision", "recall", "f1", "support"}``, each an array of length C.

    Example:
        >>> r = precision_recall_f1([0, 1, 1, 2], [0, 1, 2, 2])
        >>> r["precision"].tolist(), r["recall"].tolist()
        ([1.0, 1.0, 0.5], [1.0, 0.5, 1.0])
    """
    cm = confusion_matrix(y_true, y_pred, num_classes=num_classes).astype(np.float64)
    tp = np.diag(cm)
    pred, support = cm.sum(axis=0), cm.sum(axis=1)
    prec = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    rec = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    den = prec + rec
    f1 = np.divide(2 * prec * rec, den, out=np.zeros_like(tp), where=den > 0)
    return {"precision": prec, "recall": rec, "f1": f1, "support": support.astype(np.int64)}


def recall_by_group(
    y_true: Any,
    y_pred: Any,
    groups: Sequence[str],
    *,
    class_names: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Accuracy and each class's recall within each group (e.g. each source of the data).

    A subgroup view: a model that is right on one scanner's or one archive's images and
    wrong on another's shows it here, where the overall accuracy hides it. A class absent
    from a group has no recall there (it is left out, not reported as 0).

    Returns:
        A dict with one entry per group, in sorted order. Each entry holds the number of
        items (``n``), the ``accuracy`` and each present class's ``recall`` by class name.

    Raises:
        ConfigError: ``groups`` is not one entry per item, or a label has no class name.

    Example:
        >>> r = recall_by_group([0, 1, 1, 0], [0, 1, 0, 1], ["a", "a", "b", "b"],
        ...                     class_names=["x", "y"])
        >>> r["a"]
        {'n': 2, 'accuracy': 1.0, 'recall': {'x': 1.0, 'y': 1.0}}
        >>> b = r["b"]
        >>> b["recall"]
        {'x': 0.0, 'y': 0.0}
    """
    t, p, c = _pair(y_true, y_pred, len(class_names))
    g = np.asarray([str(x) for x in groups])
    if g.shape != t.shape:
        raise ConfigError(f"groups has {g.size} entries for {t.size} items; give one per item.")
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(g.tolist())):
        at = g == name
        support = np.bincount(t[at], minlength=c)
        hits = np.bincount(t[at][p[at] == t[at]], minlength=c)
        out[name] = {
            "n": int(at.sum()),
            "accuracy": float(np.mean(t[at] == p[at])),
            "recall": {
                class_names[k]: float(hits[k] / support[k]) for k in range(c) if support[k] > 0
            },
        }
    return out


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney AUC with tied scores counted as one half."""
    from scipy.stats import rankdata  # type: ignore[import-untyped, unused-ignore]

    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc(y_true: Any, y_score: Any, *, average: str = "macro") -> float | np.ndarray:
    """One-vs-rest ROC-AUC.

    Binary problems (two score columns, or ``(N,)`` scores) give the AUC of class 1.
    Otherwise each class is scored against the rest; a class absent from ``y_true`` (or
    present in every item) has no AUC (NaN) and is left out of the averages.

    Args:
        y_true: ``(N,)`` labels.
        y_score: ``(N, C)`` scores, or ``(N,)`` scores of class 1.
        average: ``"macro"`` (mean over classes), ``"weighted"`` (by support) or ``"none"``
            (one AUC per class).

    Example:
        >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """
    if average not in ("macro", "weighted", "none"):
        raise ConfigError(f"Unknown average {average!r}; choose macro, weighted or none")
    t, s = _scores(y_true, y_score)
    c = s.shape[1]
    aucs = np.array([_binary_auc(t == k, s[:, k]) for k in range(c)])
    if c == 2 and average != "none":
        return float(aucs[1])
    if average == "none":
        return aucs
    ok = ~np.isnan(aucs)
    if not ok.any():
        return float("nan")
    if average == "macro":
        return float(np.mean(aucs[ok]))
    support = np.bincount(t, minlength=c)[ok]
    return float(np.sum(aucs[ok] * support) / support.sum())


@dataclass(frozen=True)
class ClassificationReport:
    """Every classification figure for one set of predictions; print it or save it as JSON.

    Attributes:
        class_names: Name of each class.
        n: Number of items.
        accuracy: Fraction correct.
        balanced_accuracy: Mean per-class recall.
        per_class: Per class name: precision, recall, f1, support (and roc_auc with scores).
        macro: Unweighted means of precision, recall and F1 over all classes.
        weighted: Support-weighted means of precision, recall and F1.
        confusion_matrix: Rows are the true class, columns the predicted class.
        roc_auc_macro: One-vs-rest macro ROC-AUC (None without scores).
        roc_auc_weighted: One-vs-rest support-weighted ROC-AUC (None without scores).
        ece: Expected calibration error (None without scores).

    Example:
        >>> r = classification_report([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
        >>> class1 = r.per_class["1"]
        >>> r.accuracy, class1["recall"]
        (0.6666666666666666, 0.5)
    """

    class_names: list[str]
    n: int
    accuracy: float
    balanced_accuracy: float
    per_class: dict[str, dict[str, float]]
    macro: dict[str, float]
    weighted: dict[str, float]
    confusion_matrix: list[list[int]]
    roc_auc_macro: float | None = None
    roc_auc_weighted: float | None = None
    ece: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every figure."""
        return {
            "n": self.n,
            "class_names": list(self.class_names),
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "per_class": self.per_class,
            "macro": self.macro,
            "weighted": self.weighted,
            "roc_auc_macro": self.roc_auc_macro,
            "roc_auc_weighted": self.roc_auc_weighted,
            "ece": self.ece,
            "confusion_matrix": self.confusion_matrix,
        }

    def to_json(self, path: str | None = None) -> str:
        """The report as JSON text; also written to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=True)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    def __str__(self) -> str:
        """Aligned tables (4 significant digits, :func:`neuroseg.tables.format_table`).

        Example:
            >>> r = classification_report([0, 1, 1], [0, 1, 0], class_names=["a", "b"])
            >>> print(str(r).splitlines()[0])
            class         precision  recall      F1  support
        """
        has_auc = self.roc_auc_macro is not None
        header = ["class", "precision", "recall", "F1", "support"] + (
            ["ROC AUC"] if has_auc else []
        )
        rows: list[list[Any]] = []
        for name in self.class_names:
            r = self.per_class[name]
            rows.append(
                [name, r["precision"], r["recall"], r["f1"], int(r["support"])]
                + ([r.get("roc_auc")] if has_auc else [])
            )
        for label, avg, auc in (
            ("macro avg", self.macro, self.roc_auc_macro),
            ("weighted avg", self.weighted, self.roc_auc_weighted),
        ):
            rows.append(
                [label, avg["precision"], avg["recall"], avg["f1"], self.n]
                + ([auc] if has_auc else [])
            )
        figures: list[list[Any]] = [
            ["accuracy", self.accuracy],
            ["balanced accuracy", self.balanced_accuracy],
        ]
        if has_auc:
            figures += [
                ["ROC-AUC (one-vs-rest, macro)", self.roc_auc_macro],
                ["ROC-AUC (one-vs-rest, weighted)", self.roc_auc_weighted],
                ["calibration error (ECE)", self.ece],
            ]
        cm = [
            [name, *(int(v) for v in row)]
            for name, row in zip(self.class_names, self.confusion_matrix)
        ]
        return "\n".join(
            [
                format_table(rows, header=header),
                "",
                format_table(figures, header=["metric", "value"]),
                "",
                "confusion matrix (rows: truth, columns: prediction)",
                format_table(cm, header=["truth \\ prediction", *self.class_names]),
            ]
        )


def classification_report(
    y_true: Any,
    y_pred: Any,
    *,
    class_names: Sequence[str] | None = None,
    n_bins: int = 15,
) -> ClassificationReport:
    """All classification figures at once.

    Args:
        y_true: ``(N,)`` labels.
        y_pred: ``(N,)`` predicted labels, or ``(N, C)`` probabilities (which also give
            ROC-AUC and the expected calibration error).
        class_names: A name per class (default ``"0"``, ``"1"``, ...).
        n_bins: Bins of the calibration error.

    Example:
        >>> report = classification_report([0, 1, 1], [0, 1, 0])
        >>> report.macro["recall"], report.balanced_accuracy
        (0.75, 0.75)
    """
    scores = to_numpy(y_pred)
    c = None if class_names is None else len(class_names)
    t, p, c = _pair(y_true, y_pred, c)
    names = [str(k) for k in range(c)] if class_names is None else [str(n) for n in class_names]
    if len(names) != c:
        raise ConfigError(f"{len(names)} class_names for {c} classes")
    prf = precision_recall_f1(t, p, num_classes=c)
    support = prf["support"].astype(np.float64)
    per_class = {
        name: {
            "precision": float(prf["precision"][k]),
            "recall": float(prf["recall"][k]),
            "f1": float(prf["f1"][k]),
            "support": int(prf["support"][k]),
        }
        for k, name in enumerate(names)
    }
    macro = {m: float(np.mean(prf[m])) for m in ("precision", "recall", "f1")}
    weighted = {
        m: float(np.sum(prf[m] * support) / support.sum()) for m in ("precision", "recall", "f1")
    }
    auc_macro = auc_weighted = ece = None
    if scores.ndim == 2:
        if scores.shape[1] != c:
            raise ConfigError(f"y_pred has {scores.shape[1]} score columns for {c} classes")
        per = roc_auc(t, scores, average="none")
        assert isinstance(per, np.ndarray)
        for k, name in enumerate(names):
            per_class[name]["roc_auc"] = float(per[k])
        auc_macro = float(roc_auc(t, scores, average="macro"))
        auc_weighted = float(roc_auc(t, scores, average="weighted"))
        ece = expected_calibration_error(t, scores, n_bins=n_bins)
    return ClassificationReport(
        class_names=names,
        n=len(t),
        accuracy=float(np.mean(t == p)),
        balanced_accuracy=balanced_accuracy(t, p),
        per_class=per_class,
        macro=macro,
        weighted=weighted,
        confusion_matrix=confusion_matrix(t, p, num_classes=c).tolist(),
        roc_auc_macro=auc_macro,
        roc_auc_weighted=auc_weighted,
        ece=ece,
    )
