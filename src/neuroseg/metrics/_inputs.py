"""Input handling shared by the functional segmentation metrics (private).

Turns ``y_true`` / ``y_pred`` (NumPy arrays or tensors; ``(H, W)``, ``(N, H, W)`` or
``(N, H, W, C)``) into either two boolean ``(N, H, W)`` stacks (binary mode) or two integer
label maps ``(N, H, W)`` plus the classes to score (multi-class mode).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError

REDUCTIONS = ("per_image", "pooled", "per_patient", "none")
EMPTY_RULES = ("one", "nan")


@dataclass(frozen=True)
class Prepared:
    """Canonical inputs: bool masks (binary) or int label maps plus scored classes."""

    truth: np.ndarray
    pred: np.ndarray
    classes: tuple[int, ...] | None  # None: binary mode

    @property
    def multiclass(self) -> bool:
        return self.classes is not None

    def masks(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Boolean (N, H, W) masks of the k-th scored class (binary mode: k must be 0)."""
        if self.classes is None:
            return self.truth, self.pred
        c = self.classes[k]
        return self.truth == c, self.pred == c

    @property
    def n_classes_scored(self) -> int:
        return 1 if self.classes is None else len(self.classes)


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy view of an array, tensor or nested list."""
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def check_options(
    reduction: str,
    empty: str,
    groups: Sequence[Any] | None,
    n: int | None = None,
    *,
    reductions: Sequence[str] = REDUCTIONS,
    why_not: dict[str, str] | None = None,
) -> None:
    """Validate ``reduction``, ``empty`` and ``groups`` with messages saying how to fix them.

    Args:
        reduction: The reduction asked for.
        empty: The empty-mask rule asked for.
        groups: One ID per image, or ``None``.
        n: The number of images, when known (``groups`` must then have ``n`` IDs).
        reductions: The reductions this metric accepts.
        why_not: A reason appended to the error for a reduction the metric refuses.
    """
    if reduction not in reductions:
        reason = (why_not or {}).get(reduction, "")
        raise ConfigError(
            f"Unknown reduction {reduction!r}; choose one of {', '.join(reductions)}"
            + (f" ({reason})" if reason else "")
        )
    if empty not in EMPTY_RULES:
        raise ConfigError(f"Unknown empty rule {empty!r}; choose 'one' or 'nan'")
    if reduction == "per_patient" and (groups is None or (n is not None and len(groups) != n)):
        got = "none" if groups is None else f"{len(groups)} IDs"
        count = "" if n is None else f"{n} images, "
        raise ConfigError(
            f"reduction='per_patient' needs groups= with one ID per image ({count}got {got})"
        )


def _has_fraction(a: np.ndarray) -> bool:
    return bool(np.issubdtype(a.dtype, np.floating) and np.any((a != 0) & (a != 1)))


def _as_batch(a: np.ndarray, name: str) -> np.ndarray:
    if a.ndim == 2:
        a = a[None]
    if a.ndim not in (3, 4):
        raise ConfigError(
            f"{name}: expected (H, W), (N, H, W) or (N, H, W, C), got shape {a.shape}"
        )
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    return a


def _binary_truth(a: np.ndarray) -> np.ndarray:
    if a.dtype == bool:
        return a
    if a.size and (a.min() < 0 or a.max() > 1 or _has_fraction(a)):
        raise ConfigError(
            "y_true must hold only 0 and 1 labels for binary metrics; for label maps with more "
            "classes pass num_classes=."
        )
    return np.asarray(a != 0)


def _binary_pred(a: np.ndarray, threshold: float, from_logits: bool) -> np.ndarray:
    if a.dtype == bool:
        return a
    if np.issubdtype(a.dtype, np.floating) and np.isnan(a).any():
        raise ConfigError("y_pred contains NaN.")
    if from_logits:
        a = 1.0 / (1.0 + np.exp(-a.astype(np.float64)))
    return a >= threshold if np.issubdtype(a.dtype, np.floating) else a != 0


def _labels(a: np.ndarray, num_classes: int, name: str, *, is_pred: bool) -> np.ndarray:
    """(N, H, W) integer labels from a label map or a one-hot / score stack."""
    if a.ndim == 4:
        if a.shape[-1] != num_classes:
            raise ConfigError(
                f"{name} has {a.shape[-1]} channels but num_classes={num_classes}; pass the "
                "matching num_classes or a label map."
            )
        if np.issubdtype(a.dtype, np.floating) and np.isnan(a).any():
            raise ConfigError(f"{name} contains NaN.")
        if not is_pred:
            ok = a.size == 0 or (
                not _has_fraction(a.astype(np.float64))
                and a.min() >= 0
                and a.max() <= 1
                and bool(np.all(a.sum(axis=-1) == 1))
            )
            if not ok:
                raise ConfigError(
                    f"{name} with {num_classes} channels must be one-hot (exactly one 1 per "
                    "pixel); pass a label map (N, H, W) instead."
                )
        return np.asarray(np.argmax(a, axis=-1))
    if np.issubdtype(a.dtype, np.floating):
        if np.isnan(a).any():
            raise ConfigError(f"{name} contains NaN.")
        if np.any(a != np.round(a)):
            raise ConfigError(
                f"{name} label map holds non-integer values; pass integer labels, or scores "
                "with shape (N, H, W, C)."
            )
    labels = a.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ConfigError(
            f"{name} holds labels outside 0..{num_classes - 1} "
            f"(found {labels.min()}..{labels.max()}); check num_classes."
        )
    return labels


def prepare(
    y_true: Any,
    y_pred: Any,
    *,
    threshold: float,
    from_logits: bool,
    num_classes: int | None,
    include_background: bool,
) -> Prepared:
    """Validate and canonicalise the inputs of a segmentation metric."""
    t = _as_batch(to_numpy(y_true), "y_true")
    p = _as_batch(to_numpy(y_pred), "y_pred")
    channels = {a.shape[-1] for a in (t, p) if a.ndim == 4}
    if num_classes is None and channels:
        if len(channels) > 1:
            raise ConfigError(f"y_true and y_pred have different channel counts {channels}")
        num_classes = channels.pop()
    if num_classes is None:
        t, p = _binary_truth(t), _binary_pred(p, threshold, from_logits)
        classes = None
    else:
        if num_classes < 2:
            raise ConfigError(f"num_classes must be at least 2, got {num_classes}")
        t = _labels(t, num_classes, "y_true", is_pred=False)
        p = _labels(p, num_classes, "y_pred", is_pred=True)
        classes = tuple(range(0 if include_background else 1, num_classes))
    if t.shape != p.shape:
        raise ConfigError(f"y_true shape {t.shape} differs from y_pred shape {p.shape}")
    return Prepared(t, p, classes)


def group_index(groups: Sequence[Any]) -> tuple[list[str], list[np.ndarray]]:
    """Patient IDs (sorted, as strings) and the image indices of each, in input order."""
    keys = np.asarray([str(g) for g in groups])
    uniq = sorted(set(keys.tolist()))
    return uniq, [np.flatnonzero(keys == k) for k in uniq]


def table_number(value: Any) -> float:
    """A table cell as a float: numbers as such, True/False as 1/0, an empty cell as NaN."""
    if isinstance(value, bool):
        return float(value)
    if value is None:
        return math.nan
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return math.nan
        if text in ("True", "False"):
            return float(text == "True")
        return float(text)
    return float(value)
