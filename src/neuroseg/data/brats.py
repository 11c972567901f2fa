"""BraTS 2020 2-D slices: 4-channel PNG images and colour-coded masks.

Layout::

    root/images/{n}.png        240×240×4 uint8: FLAIR, T1, T1-CE, T2 (one per channel)
    root/masks/{n}_mask.png    240×240×3: one pure colour per tumour sub-region

Colour → label, checked on the real data (the red region is dark on T1-CE and bright on
T2, the blue region is bright on T1-CE and encloses it, the green region is the largest
and present in every tumour slice):

====== ============================================== ===== ==============
colour BraTS sub-region                                label original label
====== ============================================== ===== ==============
black  background                                     0     0
red    necrotic / non-enhancing tumour core (NCR/NET) 1     1
green  peritumoral oedema (ED)                        2     2
blue   GD-enhancing tumour (ET)                       3     4
====== ============================================== ===== ==============

The evaluation regions are derived from the labels by :func:`brats_regions`: whole tumour
(WT = 1 ∪ 2 ∪ 3), tumour core (TC = 1 ∪ 3) and enhancing tumour (ET = 3).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.io import read_image
from neuroseg.data.pairs import load_pairs
from neuroseg.data.problems import OnError
from neuroseg.data.records import SliceDataset
from neuroseg.errors import MaskError

__all__ = [
    "BRATS_LABELS",
    "BRATS_REGIONS",
    "BratsRegions",
    "brats_regions",
    "load_brats_slices",
    "read_brats_mask",
    "tf_brats_regions",
]

#: Label -> sub-region name.
BRATS_LABELS: dict[int, str] = {0: "background", 1: "necrotic_core", 2: "edema", 3: "enhancing"}

#: Region name -> the labels it unites.
BRATS_REGIONS: dict[str, tuple[int, ...]] = {
    "whole_tumor": (1, 2, 3),
    "tumor_core": (1, 3),
    "enhancing_tumor": (3,),
}


def read_brats_mask(
    path: str | os.PathLike[str], *, shape: tuple[int, int] | None = None
) -> np.ndarray:
    """Read a colour-coded BraTS slice mask as ``(H, W)`` uint8 labels 0–3.

    Args:
        path: The RGB mask PNG.
        shape: The image's ``(H, W)``; a mismatch raises.

    Raises:
        MaskError: Not 3 channels, a colour other than black/red/green/blue, or wrong shape.

    Example:
        >>> from neuroseg.data import read_brats_mask
        >>> read_brats_mask("masks/1_mask.png").max() <= 3  # doctest: +SKIP
        True
    """
    raw = read_image(path)
    if raw.shape[-1] not in (3, 4):
        raise MaskError(f"{path}: a BraTS mask must be RGB, got {raw.shape[-1]} channel(s).")
    rgb = raw[..., :3]
    if shape is not None and rgb.shape[:2] != tuple(shape):
        raise MaskError(
            f"{path}: mask is {rgb.shape[0]}x{rgb.shape[1]} but its image is "
            f"{shape[0]}x{shape[1]}. Re-export the mask at the image's size."
        )
    on = rgb == 255
    off = rgb == 0
    pure = (on | off).all(-1) & (on.sum(-1) <= 1)
    if not pure.all():
        bad = rgb[~pure][0].tolist()
        raise MaskError(
            f"{path}: colour {bad} is not black, pure red, green or blue. Masks must not be "
            "interpolated; re-export them with nearest-neighbour resampling."
        )
    return np.asarray(on[..., 0] * 1 + on[..., 1] * 2 + on[..., 2] * 3, np.uint8)


def brats_regions(mask: np.ndarray) -> np.ndarray:
    """Turn ``(H, W)`` labels 0–3 into ``(H, W, 3)`` binary WT, TC, ET targets.

    Example:
        >>> import numpy as np
        >>> brats_regions(np.array([[0, 1, 2, 3]]))[0].tolist()
        [[0, 0, 0], [1, 1, 0], [1, 0, 0], [1, 1, 1]]
    """
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    return np.stack([np.isin(m, labels) for labels in BRATS_REGIONS.values()], -1).astype(np.uint8)


def tf_brats_regions(mask: Any) -> Any:
    """Tensor version of :func:`brats_regions`: ``(..., H, W, 1)`` labels → ``(..., H, W, 3)``."""
    import tensorflow as tf

    m = tf.cast(mask, tf.int32)[..., 0]
    wt = m > 0
    tc = tf.logical_or(tf.equal(m, 1), tf.equal(m, 3))
    et = tf.equal(m, 3)
    return tf.cast(tf.stack([wt, tc, et], -1), mask.dtype)


class BratsRegions:
    """Dict-level transform: replace ``sample["mask"]`` labels by WT/TC/ET channels.

    Put it last in ``augment`` so that spatial transforms still see integer labels.

    Example:
        >>> import tensorflow as tf
        >>> out = BratsRegions()({"image": tf.zeros((2, 2, 4)), "mask": tf.ones((2, 2, 1))})
        >>> tuple(out["mask"].shape)
        (2, 2, 3)
    """

    def __call__(self, sample: dict[str, Any], seed: Any = None) -> dict[str, Any]:
        out = dict(sample)
        out["mask"] = tf_brats_regions(sample["mask"])
        return out


def load_brats_slices(root: str | os.PathLike[str], *, on_error: OnError = "raise") -> SliceDataset:
    """Load BraTS 2-D slices (``images/{n}.png`` + ``masks/{n}_mask.png``).

    Masks decode to labels 0–3 (see the module docs); use :func:`brats_regions` or
    :class:`BratsRegions` for the WT/TC/ET targets. The slices carry no patient ID.

    Args:
        root: The folder holding ``images/`` and ``masks/``.
        on_error: ``"raise"``, ``"skip"`` or a list collecting problems.

    Example:
        >>> from neuroseg.data import load_brats_slices
        >>> ds = load_brats_slices("../shared/data/brats2020-slices")  # doctest: +SKIP
        >>> ds[0].load_image().shape  # doctest: +SKIP
        (240, 240, 4)
    """
    ds = load_pairs(
        Path(root), mask_name="{stem}_mask.png", mask_encoding="brats-rgb", on_error=on_error
    )
    return SliceDataset(ds.records, name="brats-slices")
