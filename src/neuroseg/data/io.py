"""Reading images and masks from disk with strict checks.

Every reader raises a :class:`~neuroseg.errors.DataError` subclass naming the file when
the file is missing, truncated, corrupt, or holds unexpected values. Nothing is coerced
silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np

from neuroseg.errors import ChannelError, MaskError, ReadError

__all__ = ["check_mask_values", "read_image", "read_mask"]

PathLike = str | os.PathLike[str]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"


def _check_complete(path: Path) -> None:
    """Detect truncation that OpenCV may decode silently (PNG and JPEG).

    The format is told from the file's signature, not its name: real datasets hold PNGs
    named ``.jpg`` (Br35H has five), which are read as the PNGs they are.
    """
    suffix = path.suffix.lower()
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        fh.seek(max(size - 16, 0))
        tail = fh.read()
    if head == _PNG_SIGNATURE:
        if _PNG_END not in tail:
            raise ReadError(
                f"{path}: truncated PNG (no IEND chunk at the end). Re-download or re-export it."
            )
    elif head[:2] == b"\xff\xd8":
        if b"\xff\xd9" not in tail:
            raise ReadError(
                f"{path}: truncated JPEG (no end-of-image marker). Re-download or re-export it."
            )
    elif suffix == ".png":
        raise ReadError(f"{path}: not a PNG file (bad signature). Re-export or re-download it.")
    elif suffix in {".jpg", ".jpeg"}:
        raise ReadError(f"{path}: not a JPEG file (bad signature). Re-export or re-download it.")


def read_image(path: PathLike, *, channels: int | None = None) -> np.ndarray:
    """Read an image file (PNG, JPEG, TIFF, BMP) as an ``(H, W, C)`` array.

    Colour images are returned in RGB order (OpenCV's BGR is converted). The dtype of the
    file is kept (``uint8`` or ``uint16``).

    Args:
        path: The image file.
        channels: If given, the channel count the caller expects. ``1`` converts an RGB
            image whose three channels are identical (a grey image saved as RGB) to one
            channel; any other mismatch raises.

    Returns:
        The image, shape ``(H, W, C)``.

    Raises:
        ReadError: The file is missing, truncated or cannot be decoded.
        ChannelError: The image does not have ``channels`` channels.

    Example:
        >>> import numpy as np, cv2, tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> _ = cv2.imwrite(p, np.zeros((4, 5), np.uint8))
        >>> read_image(p).shape
        (4, 5, 1)
    """
    p = Path(path)
    if not p.is_file():
        raise ReadError(f"{p}: no such file.")
    _check_complete(p)
    data = np.fromfile(p, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ReadError(f"{p}: cannot decode the image (corrupt or unsupported format).")
    if image.ndim == 2:
        image = image[..., None]
    elif image.shape[-1] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.shape[-1] == 4 and p.suffix.lower() in {".jpg", ".jpeg"}:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    elif image.shape[-1] == 4:
        # PNG with 4 channels: OpenCV returns BGRA; undo the swap of the first three.
        image = image[..., [2, 1, 0, 3]]
    if channels is not None and image.shape[-1] != channels:
        grey_as_rgb = (
            image.shape[-1] == 3
            and np.array_equal(image[..., 0], image[..., 1])
            and np.array_equal(image[..., 0], image[..., 2])
        )
        if channels == 1 and grey_as_rgb:
            return np.ascontiguousarray(image[..., :1])
        raise ChannelError(
            f"{p}: expected {channels} channel(s) but the image has {image.shape[-1]}. "
            "Convert it (e.g. neuroseg.data.transforms.to_grayscale) or set the channel count "
            "to match the data."
        )
    return np.ascontiguousarray(image)


def check_mask_values(
    mask: np.ndarray, *, values: Mapping[int, int], source: str = "mask"
) -> np.ndarray:
    """Map raw mask values to labels, refusing any value not in ``values``.

    Args:
        mask: The raw mask, ``(H, W)``.
        values: Raw value to label, e.g. ``{0: 0, 255: 1}``.
        source: The file name to put in the error message.

    Returns:
        The label mask, ``uint8`` ``(H, W)``.

    Raises:
        MaskError: The mask holds a value not in ``values``.

    Example:
        >>> import numpy as np
        >>> check_mask_values(np.array([[0, 255]]), values={0: 0, 255: 1}).tolist()
        [[0, 1]]
    """
    present = np.unique(mask)
    unexpected = [int(v) for v in present if int(v) not in values]
    if unexpected:
        shown = ", ".join(str(v) for v in unexpected[:10])
        raise MaskError(
            f"{source}: mask holds values {{{shown}}} outside the expected set "
            f"{sorted(values)}. Masks must not be interpolated or anti-aliased; re-export "
            "them with nearest-neighbour resampling, or pass the right value mapping."
        )
    lut = np.zeros(max(int(present.max()) + 1, 1), dtype=np.uint8)
    for raw, label in values.items():
        if raw < lut.size:
            lut[raw] = label
    return lut[mask.astype(np.int64)]


def read_mask(
    path: PathLike,
    *,
    values: Mapping[int, int] | None = None,
    shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Read a label mask file as an ``(H, W)`` ``uint8`` array of labels.

    Args:
        path: The mask file (single channel, or RGB with identical channels).
        values: Raw value to label. The default, ``{0: 0, 255: 1}``, also accepts masks
            already stored as ``0/1``.
        shape: The ``(H, W)`` of the image the mask belongs to; a mismatch raises.

    Returns:
        The label mask.

    Raises:
        ReadError: The file is missing or corrupt.
        MaskError: Unexpected values, a colour mask, or a shape that differs from ``shape``.
    """
    raw = read_image(path)
    if raw.shape[-1] != 1:
        if raw.shape[-1] in (3, 4) and all(
            np.array_equal(raw[..., 0], raw[..., c]) for c in range(1, 3)
        ):
            raw = raw[..., :1]
        else:
            raise MaskError(
                f"{path}: mask has {raw.shape[-1]} differing channels; expected a single-channel "
                "label mask. Use a dataset-specific loader for colour-coded masks (e.g. BraTS)."
            )
    mask = raw[..., 0]
    if shape is not None and tuple(mask.shape) != tuple(shape):
        raise MaskError(
            f"{path}: mask is {mask.shape[0]}x{mask.shape[1]} but its image is "
            f"{shape[0]}x{shape[1]}. Re-export the mask at the image's size."
        )
    if values is None:
        values = {0: 0, 255: 1, 1: 1}
    return check_mask_values(mask, values=values, source=str(path))
