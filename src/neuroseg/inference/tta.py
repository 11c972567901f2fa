"""Test-time augmentation over flips and 90° rotations, with exact inverses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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
    fn: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, transforms: list[TTATransform]
) -> np.ndarray:
    """Average ``fn`` over transforms; spatial outputs are mapped back before averaging."""
    total: np.ndarray | None = None
    for t in transforms:
        out = fn(t.forward(batch))
        if out.ndim >= 3:
            out = t.inverse(out)
        total = out.astype(np.float64) if total is None else total + out
    assert total is not None
    return (total / len(transforms)).astype(np.float32)
