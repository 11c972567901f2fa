"""Paired comparison of two evaluations of the same items.

Two models (or two settings of one model: a threshold, TTA) scored on the same images are
compared more precisely item by item than by setting two confidence intervals side by side:
those overlap even when one model is better on nearly every image. :func:`paired_difference`
takes the per-item values of both and gives the mean difference ``b - a`` with a percentile
bootstrap interval (items, or with ``groups=`` patients, drawn once for both sides), and how
many items went up, down or stayed equal. :func:`compare_evaluations` does this for
every metric of two per-item tables (:meth:`EvaluationResult.rows
<neuroseg.metrics.EvaluationResult.rows>` or the CSV of ``neuroseg evaluate --csv``), matched
by item, overall and per true class. ``neuroseg compare`` prints it.

Pairs with a NaN on either side (an HD95 where a mask is empty, say) are left out and
counted, never filled in.

Example:
    >>> import numpy as np
    >>> d = paired_difference([0.5, 0.6, 0.7, 0.8], [0.6, 0.7, 0.8, 0.8], n_bootstrap=200)
    >>> round(d.difference, 3), (d.higher, d.lower, d.equal)
    (0.075, (3, 0, 1))
    >>> d.ci_low > 0
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError, DataError
from neuroseg.metrics._inputs import group_index, table_number
from neuroseg.metrics.bootstrap import bootstrap_means, check_bootstrap, percentile_interval
from neuroseg.metrics.evaluation import LOWER_IS_BETTER, SEGMENTATION_METRICS

__all__ = ["PairedDifference", "compare_evaluations", "paired_difference"]

#: The metric columns of a ``neuroseg evaluate`` table compared by default, in this order:
#: the segmentation metrics, then a classification's per-image ``correct`` (0 or 1).
_METRICS = (*SEGMENTATION_METRICS, "correct")
#: Metrics where a lower value is better (the rest: higher is better).
_LOWER_IS_BETTER = LOWER_IS_BETTER | {"loss"}


@dataclass(frozen=True)
class PairedDifference:
    """The mean difference ``b - a`` over paired items, with its bootstrap interval.

    Attributes:
        mean_a: Mean of ``a`` over the complete pairs.
        mean_b: Mean of ``b`` over the complete pairs.
        difference: ``mean_b - mean_a``.
        ci_low: Lower end of the percentile bootstrap interval of the difference.
        ci_high: Upper end.
        n: Complete pairs (neither side NaN).
        n_excluded: Pairs left out because a side is NaN.
        n_units: Resampling units: ``n`` for items, the number of groups with ``groups=``.
        unit: ``"item"`` or ``"group"``.
        higher: Pairs with ``b > a`` (an improvement for Dice, a loss for HD95).
        lower: Pairs with ``b < a``.
        equal: Pairs with ``b == a``.
        confidence: The interval's coverage, e.g. 0.95.
        n_bootstrap: Resamples.
    """

    mean_a: float
    mean_b: float
    difference: float
    ci_low: float
    ci_high: float
    n: int
    n_excluded: int
    n_units: int
    unit: str
    higher: int
    lower: int
    equal: int
    confidence: float
    n_bootstrap: int

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly above or wholly below 0."""
        return bool(self.ci_low > 0 or self.ci_high < 0)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict of Python numbers (NaN as ``None``), for JSON."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def _values(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must hold numbers (NaN for a missing value): {exc}") from None
    if arr.ndim != 1:
        raise ConfigError(f"{name} must be one value per item (1-D), got shape {arr.shape}")
    if np.isinf(arr).any():
        raise ConfigError(
            f"{name} holds infinite values at items {np.flatnonzero(np.isinf(arr))[:5].tolist()}; "
            "use NaN for a value that does not exist"
        )
    return arr


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    groups: Sequence[Any] | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedDifference:
    """The mean of ``b - a`` over paired items, with a percentile bootstrap interval.

    Args:
        a: One value per item for the first evaluation (NaN: no value).
        b: The second evaluation's values for the same items, in the same order.
        groups: One patient ID per item: resample patients (all their items together)
            instead of items. Slices of one patient are not independent; without groups
            the interval is too narrow when several slices share a patient.
        n_bootstrap: Resamples.
        confidence: Coverage of the interval.
        seed: Seed of the resampling (reruns give the same interval).

    Returns:
        A :class:`PairedDifference`.

    Raises:
        ConfigError: ``a`` and ``b`` (or ``groups``) differ in length, are not 1-D, hold
            infinite values or no complete pair, or the bootstrap settings are invalid.

    Example:
        >>> d = paired_difference([1.0, 0.0, float("nan")], [1.0, 1.0, 0.5], n_bootstrap=10)
        >>> d.difference, d.n, d.n_excluded, d.equal
        (0.5, 2, 1, 1)
    """
    check_bootstrap(n_bootstrap, confidence)
    va, vb = _values(a, "a"), _values(b, "b")
    if len(va) != len(vb):
        raise ConfigError(f"a holds {len(va)} values but b {len(vb)}; pair them item by item")
    if groups is not None and len(groups) != len(va):
        raise ConfigError(f"groups holds {len(groups)} IDs for {len(va)} items")
    ok = ~(np.isnan(va) | np.isnan(vb))
    if not ok.any():
        raise ConfigError(f"no complete pair among {len(va)} items (every pair has a NaN)")
    va, vb = va[ok], vb[ok]
    diff = vb - va
    units: list[np.ndarray] | None = None
    if groups is not None:
        _, units = group_index([g for g, keep in zip(groups, ok) if keep])
    boot = bootstrap_means(diff, units, n_bootstrap=n_bootstrap, rng=np.random.default_rng(seed))
    lo, hi = percentile_interval(boot, confidence)
    return PairedDifference(
        mean_a=float(va.mean()),
        mean_b=float(vb.mean()),
        difference=float(diff.mean()),
        ci_low=lo,
        ci_high=hi,
        n=int(ok.sum()),
        n_excluded=int((~ok).sum()),
        n_units=len(units) if units is not None else int(ok.sum()),
        unit="group" if units is not None else "item",
        higher=int((diff > 0).sum()),
        lower=int((diff < 0).sum()),
        equal=int((diff == 0).sum()),
        confidence=confidence,
        n_bootstrap=n_bootstrap,
    )


def _key_column(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> str:
    for key in ("source", "id"):
        if key in a[0] and key in b[0]:
            return key
    raise DataError(
        "the two tables share no item column ('source' or 'id'): compare two per-item "
        f"tables of neuroseg evaluate (columns of the first: {sorted(a[0])})"
    )


def _index(rows: Sequence[Mapping[str, Any]], key: str, name: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, row in enumerate(rows):
        item = str(row[key])
        if item in out:
            raise DataError(
                f"{name}: item {item!r} appears twice (rows {out[item] + 1} and {i + 1}); "
                "a paired comparison needs one row per item"
            )
        out[item] = i
    return out


def _numeric(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    """Whether every row's ``column`` reads as a number (an empty cell as NaN)."""
    try:
        [table_number(r[column]) for r in rows]
    except (KeyError, TypeError, ValueError):
        return False
    return True


def compare_evaluations(
    a: Sequence[Mapping[str, Any]],
    b: Sequence[Mapping[str, Any]],
    *,
    metrics: Sequence[str] | None = None,
    by: str | None = "true_class",
    unit: str = "item",
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    names: tuple[str, str] = ("a", "b"),
) -> dict[str, Any]:
    """Paired differences ``b - a`` of every metric of two per-item evaluation tables.

    Args:
        a: The first evaluation, one mapping per item (``EvaluationResult.rows()``, or the
            rows of ``neuroseg evaluate --csv`` read with :class:`csv.DictReader`).
        b: The second evaluation of the same items, in any order.
        metrics: Columns to compare (default: those of dice, iou, precision, recall,
            specificity, hd95, assd, box_iou, centroid_distance and correct that both
            tables have; a classifier's ``correct`` gives the accuracy difference).
        by: A column splitting the items into classes (default ``true_class``; ignored
            when a table lacks it; None: overall only).
        unit: ``"item"`` resamples items; ``"group"`` resamples the tables' ``group``
            column (use it when that column holds patient IDs, as for ``lgg``).
        n_bootstrap: Resamples.
        confidence: Coverage of the intervals.
        seed: Seed of the resampling.
        names: Labels of ``a`` and ``b`` for error messages and the summary.

    Returns:
        A JSON-ready dict: ``names``, ``key`` (the item column), ``n_items``, ``unit``,
        ``lower_is_better`` (metrics where a negative difference is an improvement),
        ``overall`` (metric -> :meth:`PairedDifference.to_dict`) and, with ``by``,
        ``by_class`` (class -> metric -> the same).

    Raises:
        DataError: The tables hold different items, an item twice, no item column, or
            disagree on an item's group or class.
        ConfigError: An unknown metric or unit, an empty table, or invalid bootstrap
            settings.
    """
    check_bootstrap(n_bootstrap, confidence)
    if unit not in ("item", "group"):
        raise ConfigError(f"unknown unit {unit!r}; use 'item' or 'group'")
    if not a or not b:
        empty = names[0] if not a else names[1]
        raise ConfigError(f"{empty}: the table has no rows")
    key = _key_column(a, b)
    ia, ib = _index(a, key, names[0]), _index(b, key, names[1])
    if set(ia) != set(ib):
        only_a = sorted(set(ia) - set(ib))
        only_b = sorted(set(ib) - set(ia))
        raise DataError(
            f"the tables hold different items: {len(only_a)} only in {names[0]} "
            f"(e.g. {only_a[:3]}), {len(only_b)} only in {names[1]} (e.g. {only_b[:3]}); "
            "evaluate both on the same data and groups"
        )
    items = sorted(ia)
    rows_a = [a[ia[i]] for i in items]
    rows_b = [b[ib[i]] for i in items]
    for col in ("group", by):
        if col and col in rows_a[0] and col in rows_b[0]:
            for item, ra, rb in zip(items, rows_a, rows_b):
                if str(ra[col]) != str(rb[col]):
                    raise DataError(
                        f"item {item!r}: {col} is {ra[col]!r} in {names[0]} but {rb[col]!r} "
                        f"in {names[1]}; the tables do not describe the same data"
                    )
    if metrics is None:
        chosen = [m for m in _METRICS if _numeric(rows_a, m) and _numeric(rows_b, m)]
        if not chosen:
            raise ConfigError(
                f"no metric column ({', '.join(_METRICS)}) in both tables; name one with "
                f"metrics= (columns of {names[0]}: {list(a[0])})"
            )
    else:
        bad = [m for m in metrics if not (_numeric(rows_a, m) and _numeric(rows_b, m))]
        if bad:
            raise ConfigError(
                f"metric(s) {bad} are not numeric columns of both tables "
                f"(columns of {names[0]}: {list(a[0])})"
            )
        chosen = list(metrics)
    groups: list[str] | None = None
    if unit == "group":
        if "group" not in rows_a[0]:
            raise ConfigError("unit='group' needs a 'group' column (patient IDs) in the tables")
        groups = [str(r["group"]) for r in rows_a]

    # every cell read once: one array per metric and table, the infinities refused here
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for m in chosen:
        pair = []
        for name, rows in zip(names, (rows_a, rows_b)):
            values = np.array([table_number(r[m]) for r in rows])
            infinite = np.flatnonzero(np.isinf(values))
            if len(infinite):
                raise DataError(
                    f"{name}: {m} is infinite for item {items[infinite[0]]!r} "
                    f"({len(infinite)} in all); "
                    "a missing value is an empty cell"
                )
            pair.append(values)
        columns[m] = (pair[0], pair[1])

    def block(index: list[int]) -> dict[str, Any]:
        out = {}
        for m, (col_a, col_b) in columns.items():
            va, vb = col_a[index], col_b[index]
            if (np.isnan(va) | np.isnan(vb)).all():
                continue
            out[m] = paired_difference(
                va,
                vb,
                groups=None if groups is None else [groups[i] for i in index],
                n_bootstrap=n_bootstrap,
                confidence=confidence,
                seed=seed,
            ).to_dict()
        return out

    summary: dict[str, Any] = {
        "names": list(names),
        "key": key,
        "n_items": len(items),
        "unit": unit,
        "n_groups": len(set(groups)) if groups is not None else None,
        "metrics": chosen,
        "lower_is_better": sorted(set(chosen) & _LOWER_IS_BETTER),
        "overall": block(list(range(len(items)))),
    }
    if by and by in rows_a[0] and by in rows_b[0]:
        classes: dict[str, list[int]] = {}
        for i, r in enumerate(rows_a):
            classes.setdefault(str(r[by]), []).append(i)
        summary["by"] = by
        summary["by_class"] = {c: block(idx) for c, idx in sorted(classes.items())}
    return summary
