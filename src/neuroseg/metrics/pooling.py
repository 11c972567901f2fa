"""Pool the per-item tables of several held-out folds into one cross-validated result.

In a cross-validation every item is predicted once, by the fold model that did not train
on it. :func:`pool_items` takes those predictions' per-item rows (as
:func:`neuroseg.inference.evaluate` and ``neuroseg evaluate --csv`` write them, from all
folds together) and reports the figures of the whole set: per-item means with bootstrap
intervals, pooled overlap (all pixels of all items counted together), per patient where
the items carry real patient IDs, and a classifier's accuracy and per-class figures from
its class probabilities. Mean ± std over folds says how much the folds differ; the pooled
figures, over every item once, are the estimate with an interval.

Example:
    >>> rows = [
    ...     {"source": "a", "dice": 1.0, "iou": 1.0, "precision": 1.0, "recall": 1.0,
    ...      "truth_px": 4, "pred_px": 4},
    ...     {"source": "b", "dice": 0.5, "iou": 1 / 3, "precision": 0.5, "recall": 0.5,
    ...      "truth_px": 2, "pred_px": 2},
    ... ]
    >>> seg = pool_items(rows, n_bootstrap=10).get("segmentation")
    >>> dice = seg.get("metrics").get("dice")
    >>> dice.get("per_image").get("mean"), round(dice.get("pooled"), 4)  # pooled: 10 / 12
    (0.75, 0.8333)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neuroseg.errors import DataError, EmptyDatasetError
from neuroseg.metrics._inputs import group_index, table_number
from neuroseg.metrics.bootstrap import check_bootstrap, mean_interval
from neuroseg.metrics.evaluation import evaluate_classification

__all__ = ["pool_items"]

#: The per-item overlap metrics pooled from counts, and HD95 (per item only).
_OVERLAP = ("dice", "iou", "precision", "recall")


def _column(rows: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    """A numeric column; blanks and ``None`` are NaN, infinities refused."""
    out = np.array([table_number(r.get(key)) for r in rows], dtype=float)
    if np.isinf(out).any():
        bad = int(np.flatnonzero(np.isinf(out))[0])
        raise DataError(f"{rows[bad].get('source', bad)}: {key} is infinite; check its table.")
    return out


def _scores(tp: float, truth: float, pred: float) -> dict[str, float]:
    """Dice, IoU, precision and recall from counts (both empty: 1.0; one empty: 0.0)."""
    tp, truth, pred = float(tp), float(truth), float(pred)
    if truth + pred == 0:
        return dict.fromkeys(_OVERLAP, 1.0)
    return {
        "dice": 2 * tp / (truth + pred),
        "iou": tp / (truth + pred - tp),
        "precision": tp / pred if pred else 0.0,
        "recall": tp / truth if truth else 0.0,
    }


def _segmentation(
    rows: Sequence[Mapping[str, Any]],
    patients: list[str] | None,
    *,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    for key in ("truth_px", "pred_px"):
        if key not in rows[0]:
            raise DataError(
                f"the item rows have no {key!r} column; pool the tables that neuroseg "
                "evaluate writes (--csv), which carry the pixel counts."
            )
    truth, pred = _column(rows, "truth_px"), _column(rows, "pred_px")
    # each row's overlap, recovered from its Dice: 2 TP = Dice (|T| + |P|), a whole number
    tp = np.rint(_column(rows, "dice") * (truth + pred) / 2)
    units = None if patients is None else group_index(patients)[1]
    pooled = _scores(tp.sum(), truth.sum(), pred.sum())
    metrics: dict[str, Any] = {}
    for name in (*_OVERLAP, "hd95"):
        if name not in rows[0]:
            continue
        block: dict[str, Any] = {
            "per_image": mean_interval(
                _column(rows, name),
                units,
                n_bootstrap=n_bootstrap,
                confidence=confidence,
                rng=rng,
            )
        }
        if name in pooled:
            block["pooled"] = pooled[name]
        metrics[name] = block
    out: dict[str, Any] = {"n_items": len(rows), "metrics": metrics}
    if units is not None:
        per_patient = np.array(
            [_scores(tp[u].sum(), truth[u].sum(), pred[u].sum())["dice"] for u in units]
        )
        metrics["dice"]["per_patient"] = mean_interval(
            per_patient, None, n_bootstrap=n_bootstrap, confidence=confidence, rng=rng
        )
        out["n_patients"] = len(units)
    return out


def _classification(
    rows: Sequence[Mapping[str, Any]],
    class_names: Sequence[str] | None,
    patients: Sequence[str] | None,
    *,
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    names = list(class_names or [k.removeprefix("p_") for k in rows[0] if k.startswith("p_")])
    columns = [f"p_{n}" for n in names]
    missing = [c for c in columns if c not in rows[0]]
    if missing or not names:
        raise DataError(
            f"the item rows lack the class-probability columns {missing or ['p_<class>']}; "
            "pool the tables that neuroseg evaluate writes (--csv) for a classifier."
        )
    probs = np.stack([_column(rows, c) for c in columns], axis=1)
    truth = _column(rows, "true_label")
    if np.isnan(probs).any() or np.isnan(truth).any():
        raise DataError("an item row has no true label or a blank class probability.")
    result = evaluate_classification(
        truth.astype(int),
        probs,
        class_names=names,
        ids=[str(r.get("source", i)) for i, r in enumerate(rows)],
        groups=patients,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
    )
    return dict(result.summary)


def pool_items(
    rows: Sequence[Mapping[str, Any]],
    *,
    patients: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """The figures of several folds' held-out items, each item scored once.

    Args:
        rows: One mapping per item, every fold's items together, with the columns of
            ``neuroseg evaluate --csv``: ``source``, and for segmentation ``dice``,
            ``iou``, ``precision``, ``recall`` (``hd95`` if present), ``truth_px`` and
            ``pred_px``; for classification ``true_label`` and ``p_<class>``.
        patients: Each item's patient ID, only when they are real patients (not
            publisher folds or near-copy groups): the per-image intervals then resample
            patients, and the Dice gains a per-patient figure (each patient's items as
            one volume, counts summed).
        class_names: A classifier's class names, in label order (default: the order of
            the ``p_<class>`` columns).
        n_bootstrap: Bootstrap resamples of every interval.
        confidence: The intervals' coverage.
        seed: Seed of the bootstrap.

    Returns:
        ``{"n_items", "segmentation", "classification"}``, each part present when the rows
        carry it. ``segmentation`` holds ``metrics`` (per metric ``per_image``: mean,
        ``ci_low``, ``ci_high``, ``n``, ``n_excluded``; ``pooled`` for the overlap
        metrics; with patients ``dice.per_patient``), ``n_items`` and ``n_patients``;
        ``classification`` is :func:`~neuroseg.metrics.evaluate_classification`'s summary.
        Empty masks: both empty score 1.0, only one empty 0.0, as everywhere in neuroseg.

    Raises:
        EmptyDatasetError: No rows.
        DataError: An item twice, a missing column, an infinite value, or as many patient
            IDs as items not given.
        ConfigError: ``n_bootstrap < 1`` or a confidence outside (0, 1).
    """
    check_bootstrap(n_bootstrap, confidence)
    if not rows:
        raise EmptyDatasetError("no item rows to pool; evaluate the folds first.")
    sources = [str(r.get("source", "")) for r in rows]
    seen: set[str] = set()
    for s in sources:
        if s and s in seen:
            raise DataError(
                f"{s}: scored twice; every item must come from exactly one held-out fold."
            )
        seen.add(s)
    if patients is not None and len(patients) != len(rows):
        raise DataError(f"{len(patients)} patient IDs for {len(rows)} items; give one per item.")
    out: dict[str, Any] = {"n_items": len(rows)}
    rng = np.random.default_rng(seed)
    if "dice" in rows[0]:
        out["segmentation"] = _segmentation(
            rows,
            None if patients is None else [str(p) for p in patients],
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            rng=rng,
        )
    if "true_label" in rows[0]:
        out["classification"] = _classification(
            rows,
            class_names,
            patients,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
        )
    if len(out) == 1:
        raise DataError(
            "the item rows carry neither segmentation metrics (dice, truth_px, pred_px) nor "
            "class labels (true_label, p_<class>)."
        )
    out["bootstrap"] = {
        "resamples": n_bootstrap,
        "confidence": confidence,
        "seed": seed,
        "unit": "patient" if patients is not None else "image",
    }
    out["empty_mask_rule"] = "both empty -> 1.0; only one empty -> 0.0"
    return out
