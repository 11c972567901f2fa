"""Near-copy detection: group re-encoded, resized or flipped copies of the same slice.

Public brain-MRI sets overlap (the Kaggle 4-class set contains Figshare and Br35H images)
and hold copies of one slice within themselves. A split that puts two copies on both sides
leaks. :func:`find_near_copies` finds them in two stages:

1. **Candidates** by 64-bit DCT perceptual hash (:func:`perceptual_hash`) of the grey image
   cropped to the brain (the pixels above 15 % of its range: framing and borders differ
   between sources, and a lower threshold lets JPEG ringing move the box), compared against
   the hashes of the other image's four flips (none, left-right, up-down, both), so
   mirrored copies are found too.
2. **Confirmation** at pixel level: the Pearson correlation of the two 64x64 brain-cropped
   thumbnails (in the flip that matched) must reach ``min_correlation``. Neighbouring
   slices of different patients that share a coarse hash do not pass.

Confirmed pairs are joined into groups (union-find), so copies of copies share a group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError

__all__ = [
    "NearCopies",
    "find_near_copies",
    "fingerprint",
    "fingerprints",
    "match_fingerprints",
    "match_near_copies",
    "perceptual_hash",
    "thumbnail_correlation",
]

_THUMB = 64
_FLIPS = ("none", "lr", "ud", "lrud")
_BOX_THRESHOLD = 0.15  # well above JPEG ringing and dark-background offsets


def _grey(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 3:
        x = x.mean(-1, dtype=np.float32) if x.shape[-1] > 1 else x[..., 0]
    return x


def _flip(x: np.ndarray, k: int) -> np.ndarray:
    if k == 1:
        return x[:, ::-1]
    if k == 2:
        return x[::-1, :]
    if k == 3:
        return x[::-1, ::-1]
    return x


def perceptual_hash(image: np.ndarray) -> int:
    """64-bit DCT perceptual hash (pHash) of an image.

    The image is converted to grey, resized to 32×32, and the signs of its lowest 8×8 DCT
    coefficients (against their median) give the bits. Copies that were resized,
    re-encoded (JPEG) or slightly changed in brightness keep nearly the same hash.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).integers(0, 255, (64, 64, 1), dtype=np.uint8)
        >>> perceptual_hash(x) == perceptual_hash(x)
        True
    """
    small = cv2.resize(_grey(image), (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8].ravel()
    bits = low > np.median(low[1:])
    return int(np.packbits(bits).view(">u8")[0])


def fingerprint(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the four flip hashes (uint64) and the 64x64 thumbnail of an image.

    The image is made grey and cropped to the bounding box of the pixels above 15 % of
    its range (the brain; framing and borders differ between sources). Hash ``k`` is the
    :func:`perceptual_hash` of flip ``k`` (none, left-right, up-down, both) of the crop;
    the thumbnail is the crop resized with area interpolation.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).integers(0, 255, (40, 50), dtype=np.uint8)
        >>> h, _ = fingerprint(x)
        >>> h2, _ = fingerprint(x[:, ::-1])
        >>> bool(h[0] == h2[1])
        True
    """
    x = _grey(image)
    lo, hi = float(x.min()), float(x.max())
    if hi > lo:
        fg = x > lo + _BOX_THRESHOLD * (hi - lo)
        rows, cols = np.flatnonzero(fg.any(1)), np.flatnonzero(fg.any(0))
        x = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    thumb = cv2.resize(x, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA)
    small = cv2.resize(thumb, (32, 32), interpolation=cv2.INTER_AREA)
    hashes = np.array(
        [perceptual_hash(np.ascontiguousarray(_flip(small, k))) for k in range(4)],
        dtype=np.uint64,
    )
    return hashes, thumb.astype(np.float32)


@dataclass
class NearCopies:
    """Near-copy groups of a set of images.

    Attributes:
        groups: One integer per image; images with the same number are copies of each other
            (directly or through a chain of copies). Singletons have their own number.
        pairs: Confirmed pairs ``(i, j, flip, correlation)`` with ``i < j``; ``flip`` names
            the flip of ``j`` that matches ``i``.
        hamming: The hash distance used for candidates.
        min_correlation: The pixel correlation a candidate needed.
    """

    groups: np.ndarray
    pairs: list[tuple[int, int, str, float]] = field(default_factory=list)
    hamming: int = 0
    min_correlation: float = 0.0

    @property
    def n_groups(self) -> int:
        """Number of distinct groups (singletons included)."""
        return len(np.unique(self.groups))

    def members(self) -> list[np.ndarray]:
        """The indices of each group of two or more images."""
        _, inverse, counts = np.unique(self.groups, return_inverse=True, return_counts=True)
        return [np.flatnonzero(inverse == g) for g in np.flatnonzero(counts > 1)]


def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = int(parent[root])
    while parent[i] != root:
        parent[i], i = root, int(parent[i])
    return root


def thumbnail_correlation(a: np.ndarray, b: np.ndarray, *, flip: int = 0) -> float:
    """Pearson correlation of thumbnail ``a`` with flip ``flip`` of thumbnail ``b``.

    Flips are numbered as in :func:`fingerprint` (0 none, 1 left-right, 2 up-down, 3 both).
    Two constant thumbnails correlate 1 when equal, else 0.

    Example:
        >>> import numpy as np
        >>> t = np.arange(16, dtype=np.float32).reshape(4, 4)
        >>> round(thumbnail_correlation(t, t[:, ::-1], flip=1), 6)
        1.0
    """
    a = np.asarray(a, np.float32)
    b = _flip(np.asarray(b, np.float32), flip)
    a0 = a - a.mean()
    b0 = b - b.mean()
    den = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
    if den == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float((a0 * b0).sum() / den)


def fingerprints(
    images: SliceDataset | Sequence[np.ndarray],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fingerprint` of every image: ``(N, 4)`` hashes and ``(N, 64, 64)`` thumbnails.

    Args:
        images: A :class:`~neuroseg.data.SliceDataset` (its images are read) or arrays.
        progress: Called as ``progress(done, total)`` while images are read.
    """
    n = len(images)
    hashes = np.zeros((n, 4), dtype=np.uint64)
    thumbs = np.zeros((n, _THUMB, _THUMB), dtype=np.float32)
    for i in range(n):
        item = images[i]
        array = item.load_image() if hasattr(item, "load_image") else np.asarray(item)
        hashes[i], thumbs[i] = fingerprint(array)
        if progress is not None:
            progress(i + 1, n)
    return hashes, thumbs


def match_fingerprints(
    query: tuple[np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray],
    *,
    hamming: int = 12,
    min_correlation: float = 0.95,
    flips: bool = True,
) -> list[list[tuple[int, int, float]]]:
    """Every confirmed near-copy in ``reference`` of each query, from :func:`fingerprints`.

    A reference image is a candidate when one of its flips' hashes lies within
    ``hamming`` bits of the query's hash, and a near-copy when the query's thumbnail
    correlates at least ``min_correlation`` with that flip of its thumbnail.

    Returns:
        Per query, ``(reference index, flip, correlation)`` in reference order.
    """
    if not 0 <= hamming <= 64:
        raise ConfigError(f"hamming must be in [0, 64], got {hamming}")
    if not -1.0 <= min_correlation <= 1.0:
        raise ConfigError(f"min_correlation must be in [-1, 1], got {min_correlation}")
    (qh, qt), (rh, rt) = query, reference
    table = rh[:, : 4 if flips else 1]
    out: list[list[tuple[int, int, float]]] = []
    for i in range(len(qh)):
        dist = np.bitwise_count(table ^ qh[i, 0])  # (n_ref, flips): the query against each
        found = []
        for j in np.flatnonzero(dist.min(axis=1) <= hamming):
            k = int(np.argmin(dist[j]))
            corr = thumbnail_correlation(qt[i], rt[int(j)], flip=k)
            if corr >= min_correlation:
                found.append((int(j), k, corr))
        out.append(found)
    return out


def match_near_copies(
    queries: SliceDataset | Sequence[np.ndarray],
    reference: SliceDataset | Sequence[np.ndarray],
    *,
    hamming: int = 12,
    min_correlation: float = 0.95,
    progress: Callable[[int, int], None] | None = None,
) -> list[int | None]:
    """For each query image, the index of its best near-copy in ``reference`` (or ``None``).

    The same two stages as :func:`find_near_copies` (flip-aware hash candidates, then the
    thumbnail correlation), between two sets: e.g. test items against the training data,
    to score a model separately on the test items that have no copy in its training data.
    ``progress(done, total)`` is called while the images of both sets are read (queries
    first; ``total`` counts both).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> a = cv2.GaussianBlur(rng.random((64, 64)).astype(np.float32), (9, 9), 3)
        >>> b = cv2.GaussianBlur(rng.random((64, 64)).astype(np.float32), (9, 9), 3)
        >>> match_near_copies([a[::-1], b], [a])
        [0, None]
    """
    total = len(queries) + len(reference)

    def step(offset: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, _: progress(offset + done, total)

    matches = match_fingerprints(
        fingerprints(queries, step(0)),
        fingerprints(reference, step(len(queries))),
        hamming=hamming,
        min_correlation=min_correlation,
    )
    return [max(found, key=lambda m: m[2])[0] if found else None for found in matches]


def find_near_copies(
    images: SliceDataset | Sequence[np.ndarray],
    *,
    hamming: int = 12,
    min_correlation: float = 0.95,
    flips: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> NearCopies:
    """Group near-copies among images (a dataset's records or arrays).

    Args:
        images: A :class:`~neuroseg.data.SliceDataset` (its images are read) or arrays.
        hamming: Largest hash distance (of 64 bits) that makes two images candidates.
        min_correlation: Pearson correlation of the brain-cropped 64x64 thumbnails a
            candidate pair needs to count as copies.
        flips: Also match left-right, up-down and fully flipped copies.
        progress: Called as ``progress(done, total)`` while images are read.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> a = cv2.GaussianBlur(rng.random((64, 64)).astype(np.float32), (9, 9), 3)
        >>> b = cv2.GaussianBlur(rng.random((64, 64)).astype(np.float32), (9, 9), 3)
        >>> find_near_copies([a, b, a[:, ::-1] * 0.9]).groups.tolist()
        [0, 1, 0]
    """
    n = len(images)
    prints = fingerprints(images, progress)
    matches = match_fingerprints(
        prints, prints, hamming=hamming, min_correlation=min_correlation, flips=flips
    )
    parent = np.arange(n)
    pairs: list[tuple[int, int, str, float]] = []
    for i, found in enumerate(matches):
        for j, k, corr in found:
            if j <= i:
                continue
            pairs.append((i, j, _FLIPS[k], corr))
            ri, rj = _find(parent, i), _find(parent, j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([_find(parent, i) for i in range(n)])
    _, groups = np.unique(roots, return_inverse=True)
    return NearCopies(
        groups=groups.astype(np.int64),
        pairs=pairs,
        hamming=hamming,
        min_correlation=min_correlation,
    )
