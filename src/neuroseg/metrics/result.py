"""The detailed result of a functional metric: value, per-item values and exclusions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MetricResult"]


@dataclass(frozen=True)
class MetricResult:
    """What a functional metric returns with ``details=True``.

    Attributes:
        value: The reduced value: a float (binary) or one value per scored class
            (multi-class). With ``reduction="none"`` the same as ``values``.
        values: The values that were averaged: one per image (``"per_image"``, ``"none"``),
            per patient (``"per_patient"``, patients sorted by ID) or one row (``"pooled"``);
            shape ``(M,)`` or ``(M, C)``. NaN marks an excluded item (``empty="nan"``).
        n_items: Number of items (images, patients, or 1 for pooled).
        n_excluded: Items left out of the mean because the value is undefined under
            ``empty="nan"`` (an int, or one count per class). Always 0 with ``empty="one"``.
        reduction: The reduction used.
        groups: The patient IDs in the order of ``values`` for ``"per_patient"``, else None.

    Example:
        >>> import numpy as np
        >>> from neuroseg.metrics import dice
        >>> t = np.array([[[1, 0]], [[0, 0]]])  # image 2 is empty in truth and prediction
        >>> r = dice(t, np.array([[[1, 1]], [[0, 0]]]), empty="nan", details=True)
        >>> round(r.value, 4), r.n_excluded, r.values.round(4).tolist()
        (0.6667, 1, [0.6667, nan])
    """

    value: float | np.ndarray
    values: np.ndarray
    n_items: int
    n_excluded: int | np.ndarray
    reduction: str
    groups: list[str] | None = None
