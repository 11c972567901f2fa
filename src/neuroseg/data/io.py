"""Reading images and masks from disk with strict checks.

Every reader raises a :class:`~neuroseg.errors.DataError` subclass naming the file when
the file is missing, empty, truncated, corrupt, or holds unexpected values. Nothing is
coerced silently:

* the format is told from the file's signature (PNG, JPEG, TIFF, BMP; anything else is
  refused), and a file whose name claims another format is refused;
* PNGs must end in their ``IEND`` chunk and JPEGs in their end-of-image marker, and JPEGs
  are decoded fully: a decoder warning (libjpeg's "Corrupt JPEG data", "Premature end of
  JPEG file", ...), which a JPEG with a part cut out of its middle gives, refuses the file;
* a TIFF must hold one page with 1, 3 or 4 samples per pixel (multi-page TIFFs and 2- or
  5-channel images are refused, never reduced to their first page or channels);
* float images must be finite (no NaN or inf).

:func:`write_image` is the checked writer: it refuses what the format cannot hold, and a
failed write raises :class:`~neuroseg.errors.WriteError` instead of passing unnoticed
(OpenCV's ``imwrite`` only returns ``False``).
"""

from __future__ import annotations

import os
import re
import struct
import sys
import tempfile
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np

from neuroseg.errors import (
    ChannelError,
    MaskError,
    MultiPageError,
    PixelValueError,
    ReadError,
    WriteError,
)

__all__ = ["check_mask_values", "image_format", "read_image", "read_mask", "write_image"]

PathLike = str | os.PathLike[str]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"
_SUFFIX_FORMAT = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".bmp": "bmp",
}
#: libjpeg's warnings about damaged data (jerror.h); any of them refuses a JPEG.
_JPEG_WARNING = re.compile(
    r"Corrupt JPEG data|Premature end of JPEG file|Invalid SOS parameters|"
    r"Inconsistent progression sequence|bad Huffman code|bad arithmetic code|"
    r"Application transferred too many scanlines"
)
_STDERR_LOCK = threading.Lock()
#: The dtypes each format can store without conversion (OpenCV's encoders).
_WRITE_DTYPES = {
    "png": ("uint8", "uint16"),
    "jpeg": ("uint8",),
    "tiff": ("uint8", "uint16", "float32"),
    "bmp": ("uint8",),
}


def image_format(head: bytes) -> str | None:
    """The image format told from a file's first bytes: ``png``, ``jpeg``, ``tiff``, ``bmp``.

    Example:
        >>> image_format(b"II*" + bytes(5)), image_format(b"GIF89a")  # GIF: not read
        ('tiff', None)
    """
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"BM"):
        return "bmp"
    return None


def _sniff(path: Path, data: bytes) -> str:
    """Check the signature, the suffix and the end of the file; return the format."""
    if not data:
        raise ReadError(f"{path}: empty file (0 bytes). Re-download or re-export it.")
    fmt = image_format(data[:8])
    claimed = _SUFFIX_FORMAT.get(path.suffix.lower())
    if fmt is None:
        what = f"not a {claimed.upper()} file" if claimed else "not a supported image"
        raise ReadError(
            f"{path}: {what} (unknown signature {data[:8]!r}; neuroseg reads PNG, JPEG, TIFF "
            "and BMP). Re-export or re-download it."
        )
    # real datasets hold PNGs named .jpg (Br35H has five): PNG/JPEG are read as what they are
    if claimed is not None and claimed != fmt and {claimed, fmt} != {"png", "jpeg"}:
        raise ReadError(
            f"{path}: named {path.suffix} but its content is {fmt.upper()}. Rename or re-export it."
        )
    if fmt == "png" and _PNG_END not in data[-16:]:
        raise ReadError(
            f"{path}: truncated PNG (no IEND chunk at the end). Re-download or re-export it."
        )
    if fmt == "jpeg" and b"\xff\xd9" not in data[-16:]:
        raise ReadError(
            f"{path}: truncated JPEG (no end-of-image marker). Re-download or re-export it."
        )
    return fmt


def _tiff_layout(path: Path, data: bytes) -> tuple[int, int]:
    """``(pages, samples per pixel of the first page)`` from a TIFF's IFD chain."""
    order = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\x00", b"\x00+")

    def unpack(fmt: str, at: int) -> int:
        size = struct.calcsize(order + fmt)
        if at < 0 or at + size > len(data):
            raise ReadError(f"{path}: corrupt TIFF (a directory points past the end).")
        return int(struct.unpack_from(order + fmt, data, at)[0])

    offset = unpack("Q", 8) if big else unpack("I", 4)
    pages, samples, seen = 0, 1, set()
    while offset:
        if offset in seen or pages > 10_000:
            raise ReadError(f"{path}: corrupt TIFF (its directories form a loop).")
        seen.add(offset)
        n = unpack("Q", offset) if big else unpack("H", offset)
        first = offset + (8 if big else 2)
        step = 20 if big else 12
        if pages == 0:
            for i in range(n):
                at = first + i * step
                if unpack("H", at) == 277:  # SamplesPerPixel, a SHORT
                    samples = unpack("H", at + (12 if big else 8))
        pages += 1
        offset = unpack("Q", first + n * step) if big else unpack("I", first + n * step)
    return pages, samples


def _decode(path: Path, buffer: np.ndarray, fmt: str) -> np.ndarray | None:
    """Decode with OpenCV, the decoder's own messages caught instead of printed.

    libjpeg, libpng and libtiff print their warnings and errors on standard error (file
    descriptor 2), libjpeg decoding on past damaged data; so the descriptor is pointed at
    a temporary file for the decode (under a lock; text of other threads caught meanwhile
    is written back). A JPEG warning about damaged data refuses the file; when a decode
    fails, the decoder's message goes into the error; other messages are written back.
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no stderr: decode unchecked
            return cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    warnings = [line for line in lines if fmt == "jpeg" and _JPEG_WARNING.search(line)]
    if warnings:
        raise ReadError(
            f"{path}: damaged JPEG data (the decoder warns: {warnings[0]}). Part of "
            "the file is missing or corrupt; re-download or re-export it."
        )
    if image is None or image.size == 0:
        said = f": {lines[0]}" if lines else ""
        raise ReadError(
            f"{path}: cannot decode the image (corrupt or unsupported variant{said}); "
            "re-download or re-export it."
        )
    if lines:
        os.write(2, ("\n".join(lines) + "\n").encode())
    return image


def read_image(path: PathLike, *, channels: int | None = None) -> np.ndarray:
    """Read an image file (PNG, JPEG, TIFF, BMP) as an ``(H, W, C)`` array.

    Colour images are returned in RGB order (OpenCV's BGR is converted). The dtype of the
    file is kept (``uint8``, ``uint16`` or ``float32``). The file is checked as described
    in :mod:`neuroseg.data.io`: signature, completeness, full JPEG decoding without
    warnings, one TIFF page, 1, 3 or 4 channels and finite values.

    Args:
        path: The image file.
        channels: If given, the channel count the caller expects. ``1`` converts an RGB
            image whose three channels are identical (a grey image saved as RGB) to one
            channel; any other mismatch raises.

    Returns:
        The image, shape ``(H, W, C)``.

    Raises:
        ReadError: The file is missing, empty, truncated, damaged, not an image of a
            supported format, or named as another format.
        MultiPageError: A TIFF with more than one page.
        ChannelError: A channel count other than 1, 3 or 4, or not ``channels``.
        PixelValueError: NaN or infinite pixel values.

    Example:
        >>> import numpy as np, cv2, tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> _ = cv2.imwrite(p, np.zeros((4, 5), np.uint8))
        >>> read_image(p).shape
        (4, 5, 1)
    """
    p = Path(path)
    if not p.is_file():
        what = "dangling link" if p.is_symlink() else "no such file"
        raise ReadError(f"{p}: {what}.")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ReadError(f"{p}: cannot read the file ({exc.strerror or exc}).") from exc
    fmt = _sniff(p, raw)
    samples = None
    if fmt == "tiff":
        pages, samples = _tiff_layout(p, raw)
        if pages > 1:
            raise MultiPageError(
                f"{p}: a TIFF with {pages} pages; neuroseg reads one 2-D slice per file. "
                "Save each page as its own file."
            )
        if samples not in (1, 3, 4):
            raise ChannelError(
                f"{p}: the TIFF has {samples} samples (channels) per pixel; neuroseg reads "
                "1 (grey), 3 (RGB) or 4 (RGBA). Select the channels you need and re-save it."
            )
    buffer = np.frombuffer(raw, dtype=np.uint8)
    try:
        image = _decode(p, buffer, fmt)
    except cv2.error as exc:
        raise ReadError(f"{p}: cannot decode the image ({exc.msg.strip()}).") from exc
    if image is None or image.size == 0:
        raise ReadError(f"{p}: cannot decode the image (corrupt or unsupported variant).")
    if image.ndim == 2:
        image = image[..., None]
    if samples is not None and image.shape[-1] != samples:
        raise ChannelError(
            f"{p}: the TIFF declares {samples} channel(s) but decodes to {image.shape[-1]}. "
            "Re-save it as plain grey, RGB or RGBA."
        )
    if image.shape[-1] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.shape[-1] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    elif image.shape[-1] != 1:
        raise ChannelError(
            f"{p}: the image has {image.shape[-1]} channels; neuroseg reads 1, 3 or 4."
        )
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        n = int((~np.isfinite(image)).sum())
        raise PixelValueError(
            f"{p}: {n} pixel(s) are NaN or infinite. Replace them (e.g. with 0) and re-save."
        )
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


def write_image(path: PathLike, image: np.ndarray) -> Path:
    """Write an ``(H, W)`` or ``(H, W, C)`` array as an image file, or raise.

    The format follows the suffix (``.png``, ``.jpg``/``.jpeg``, ``.tif``/``.tiff``,
    ``.bmp``). Colour arrays are taken in RGB(A) order, as :func:`read_image` returns them,
    so ``read_image(write_image(p, x))`` gives ``x`` back for the lossless formats. The
    file is written through a temporary file in the same folder and renamed, so a failed
    or interrupted write never leaves a partial file; missing parent folders are created.

    Args:
        path: The file to write.
        image: ``uint8`` (any format), ``uint16`` (PNG, TIFF) or finite ``float32``
            (TIFF), with 1, 3 or 4 channels.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        WriteError: An unknown suffix, a dtype or channel count the format cannot hold,
            non-finite values, or a folder that cannot be created or written to.

    Example:
        >>> import numpy as np, tempfile, os
        >>> x = np.arange(12, dtype=np.uint8).reshape(3, 4, 1)
        >>> p = write_image(os.path.join(tempfile.mkdtemp(), "x.png"), x)
        >>> bool((read_image(p) == x).all())
        True
    """
    p = Path(path)
    fmt = _SUFFIX_FORMAT.get(p.suffix.lower())
    if fmt is None:
        raise WriteError(
            f"{p}: cannot write a {p.suffix or 'suffix-less'} file; name it .png, .jpg, "
            ".tif or .bmp."
        )
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise WriteError(
            f"{p}: cannot write an array of shape {np.shape(image)}; an image is (H, W) or "
            "(H, W, C) with 1, 3 or 4 channels."
        )
    allowed = _WRITE_DTYPES[fmt]
    if array.dtype.name not in allowed:
        raise WriteError(
            f"{p}: {fmt.upper()} cannot hold {array.dtype} pixels ({', '.join(allowed)} "
            "only); convert the array first (e.g. np.clip(x, 0, 255).astype(np.uint8))."
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise WriteError(f"{p}: the array holds NaN or infinite values; replace them first.")
    if array.ndim == 3:
        code = cv2.COLOR_RGB2BGR if array.shape[-1] == 3 else cv2.COLOR_RGBA2BGRA
        array = cv2.cvtColor(np.ascontiguousarray(array), code)
    ok, encoded = cv2.imencode(p.suffix.lower(), np.ascontiguousarray(array))
    if not ok:
        raise WriteError(f"{p}: OpenCV could not encode the {fmt.upper()} image.")
    tmp = p.with_name(f".{p.name}.{uuid.uuid4().hex}.part")
    created = False
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "xb") as out:  # the usual permissions (umask), unlike mkstemp
            created = True
            out.write(encoded.tobytes())
        os.replace(tmp, p)
        created = False
    except OSError as exc:
        raise WriteError(
            f"{p}: cannot write the file ({exc.strerror or exc}); check that the folder "
            "can be created and written to and that the disk has space."
        ) from exc
    finally:
        if created:
            tmp.unlink(missing_ok=True)
    return p


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
    if present.dtype.kind == "f":
        fractional = [float(v) for v in present if not np.isfinite(v) or v != np.round(v)]
        if fractional:
            shown = ", ".join(f"{v:g}" for v in fractional[:10])
            raise MaskError(
                f"{source}: float mask holds values {{{shown}}} that are not labels "
                f"{sorted(values)}. A mask is never rounded or truncated; threshold it "
                "yourself (e.g. mask > 0.5) and save it as 8-bit labels."
            )
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
