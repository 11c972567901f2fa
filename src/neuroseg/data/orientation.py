"""Voxel orientation: one frame for every volume, and the way back to the file's own.

Training cuts NIfTI volumes into slices after reorienting them to the closest canonical
(RAS+) orientation (:func:`~neuroseg.data.load_nifti`, :func:`~neuroseg.data.volume_to_slices`),
so every volume's slices look alike (radiological convention) whatever order the file
stores its voxels in. :class:`VolumeOrientation` does the same for inference and keeps
what it did, so that a predicted mask can be written back in the file's own voxel order,
under the file's own affine (like MONAI's invertible ``Orientation`` transform).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroseg.data.nifti import volume_to_slices
from neuroseg.errors import DataError

__all__ = ["VolumeOrientation"]


@dataclass(frozen=True)
class VolumeOrientation:
    """How a volume's voxel axes map to the canonical RAS+ axes.

    Attributes:
        ornt: nibabel's ``(3, 2)`` orientation transform from the file's voxel axes to
            RAS+ (``nibabel.orientations.io_orientation`` of the affine).
        shape: The volume's shape in the file's voxel order.

    Example:
        >>> import numpy as np
        >>> lps = np.diag([-1.0, -1.0, 1.0, 1.0])  # LPS, as DICOM-derived files often are
        >>> o = VolumeOrientation.from_affine(lps, (4, 3, 2))
        >>> vol = np.arange(24).reshape(4, 3, 2)
        >>> stack = o.to_slices(vol)
        >>> stack.shape, bool((o.to_source(stack) == vol).all())
        ((3, 4, 2), True)
    """

    ornt: np.ndarray
    shape: tuple[int, int, int]

    @classmethod
    def from_affine(cls, affine: Any, shape: tuple[int, ...]) -> VolumeOrientation:
        """From a NIfTI affine and the volume's shape.

        Raises:
            DataError: The affine is not a finite, invertible ``(4, 4)`` matrix or the
                shape is not 3-D.
        """
        from neuroseg._optional import require

        nib = require("nibabel", extra="nifti", purpose="reorienting volumes")
        a = np.asarray(affine, np.float64)
        if a.shape != (4, 4) or not np.isfinite(a).all() or abs(np.linalg.det(a[:3, :3])) < 1e-12:
            raise DataError(
                f"the volume's affine {a.tolist()} is not a finite, invertible 4x4 matrix; "
                "fix the file's header (qform/sform)."
            )
        if len(shape) != 3:
            raise DataError(f"expected a 3-D volume, got shape {tuple(shape)}.")
        ornt = nib.orientations.io_orientation(a)
        return cls(ornt=np.asarray(ornt), shape=(int(shape[0]), int(shape[1]), int(shape[2])))

    def _inverse(self) -> np.ndarray:
        from neuroseg._optional import require

        nib = require("nibabel", extra="nifti", purpose="reorienting volumes")
        ras = nib.orientations.axcodes2ornt(("R", "A", "S"))
        return np.asarray(nib.orientations.ornt_transform(ras, self.ornt))

    def to_canonical(self, volume: np.ndarray) -> np.ndarray:
        """The volume in RAS+ voxel order (as ``nibabel.as_closest_canonical``)."""
        from neuroseg._optional import require

        nib = require("nibabel", extra="nifti", purpose="reorienting volumes")
        return np.asarray(nib.orientations.apply_orientation(np.asarray(volume), self.ornt))

    def to_slices(self, volume: np.ndarray) -> np.ndarray:
        """``(H, W, D)`` axial slices in the training frame (radiological convention).

        Slice ``k`` is ``volume_to_slices(canonical, axis=2)[k]``, exactly what training
        on this volume's slices saw.
        """
        return np.stack(volume_to_slices(self.to_canonical(volume), axis=2), axis=-1)

    def to_source(self, stack: np.ndarray) -> np.ndarray:
        """Undo :meth:`to_slices`: an ``(H, W, D)`` stack back in the file's voxel order.

        Raises:
            DataError: The stack's shape does not fit the volume.
        """
        from neuroseg._optional import require

        nib = require("nibabel", extra="nifti", purpose="reorienting volumes")
        s = np.asarray(stack)
        # each slice was canonical[:, :, k].T[::-1, ::-1]
        canonical = np.ascontiguousarray(np.transpose(s[::-1, ::-1], (1, 0, 2)))
        out = np.asarray(nib.orientations.apply_orientation(canonical, self._inverse()))
        if out.shape != self.shape:
            raise DataError(
                f"a stack of shape {s.shape} does not fit a volume of shape {self.shape}."
            )
        return out

    def slice_spacing(self, zooms: tuple[float, ...]) -> tuple[float, float, float]:
        """``(row, col, thickness)`` in mm of :meth:`to_slices`'s slices from voxel zooms."""
        canonical = [0.0, 0.0, 0.0]
        for axis, (target, _) in enumerate(self.ornt):
            canonical[int(target)] = float(zooms[axis])
        return canonical[1], canonical[0], canonical[2]
