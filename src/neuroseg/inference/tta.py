"""Test-time augmentation over flips and 90° rotations, with exact inverses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError

__all__ = ["TTATransform", "apply_tta", "tta_transforms"]


@dataclass(frozen=True)
class TTATransform:
    """One element of the dihedral group acting on the two spatial axes of a batch.

    ``forward`` flips the columns (when ``flip``) and then rotates by ``k`` quarter turns;
    ``inverse`` undoes it, so ``inverse(forward(x)) == x``.

    Attributes:
        k: Quarter turns (counter-clockwise, as :func:`numpy.rot90`).
        flip: Flip left-right first.
    """

    k: int
    flip: bool

    @property
    def name(self) -> str:
        """A short name, e.g. ``"flip+rot90"``."""
        parts = (["flip"] if self.flip else []) + ([f"rot{90 * self.k}"] if self.k else [])
        return "+".join(parts) or "identity"

    def forward(self, batch: np.ndarray) -> np.ndarray:
        """Apply the transform to ``(N, H, W, ...)``."""
        x = np.flip(batch, axis=2) if self.flip else batch
        return np.ascontiguousarray(np.rot90(x, self.k, axes=(1, 2)))

    def inverse(self, batch: np.ndarray) -> np.ndarray:
        """Undo :meth:`forward` on ``(N, H, W, ...)``."""
        x = np.rot90(batch, -self.k, axes=(1, 2))
        return np.ascontiguousarray(np.flip(x, axis=2) if self.flip else x)


def tta_transforms(*, square: bool = True, rotations: bool = True) -> list[TTATransform]:
    """Return the TTA transforms: flips and 90° rotations (8 for square inputs).

    Args:
        square: The input is square; otherwise only transforms that keep the shape
            (identity, flip, 180° rotation and their combination) are returned.
        rotations: Include rotations (else identity and flip only).

    Example:
        >>> " ".join(t.name for t in tta_transforms(rotations=False))
        'identity flip'
        >>> len(tta_transforms())
        8
    """
    ks: tuple[int, ...] = (0, 1, 2, 3) if square else (0, 2)
    if not rotations:
        ks = (0,)
    return [TTATransform(k, f) for k in ks for f in (False, True)]


def apply_tta(
    fn: Callable[[np.ndarray], Any], batch: np.ndarray, transforms: list[TTATransform]
) -> Any:
    """Average ``fn`` over transforms; spatial outputs are mapped back before averaging.

    ``fn`` returns an array or a dict of arrays (e.g. a multi-task model's mask and class
    probabilities, both from one call per transform); the result has the same form.
    Outputs of 3 or more dimensions are spatial and go through the transform's inverse;
    the others (class probabilities) are averaged as they are.

    Example:
        >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
        >>> same = apply_tta(lambda b: b, x, tta_transforms())
        >>> bool(np.allclose(same, x))
        True
    """
    totals: dict[Any, np.ndarray] = {}
    single = False
    for t in transforms:
        out = fn(t.forward(batch))
        if not isinstance(out, dict):
            single, out = True, {None: out}
        for key, value in out.items():
            value = np.asarray(value)
            if value.ndim >= 3:
                value = t.inverse(value)
            totals[key] = value.astype(np.float64) + totals.get(key, 0.0)
    if not totals:
        raise ConfigError("apply_tta needs at least one transform; see tta_transforms().")
    means = {k: (v / len(transforms)).astype(np.float32) for k, v in totals.items()}
    return means[None] if single else means
