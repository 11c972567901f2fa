"""Readers for the files a :class:`~neuroseg.data.Record` points at, looked up by format.

A *format* names how a file stores an image and/or a mask: ``"image"`` (PNG, JPEG, TIFF,
BMP), the mask encodings ``"binary"``, ``"labels"`` and ``"brats-rgb"``, and
``"figshare-mat"`` (Cheng's MATLAB v7.3 ``.mat`` files, which hold image and mask).
A file whose suffix a format claims (``.mat``) is read by that format; otherwise an image
is read as ``"image"`` and a mask by the record's ``mask_encoding``.

:mod:`neuroseg.data.records` reads through this table and imports no format module: the
built-in readers are named as ``"module:function"`` strings and imported on first use, so
the table does not depend on which modules were imported before. Add a format of your own
with :func:`register_reader`.

Example:
    >>> reader_for("123.mat").name, reader_for("1_mask.png", default="brats-rgb").name
    ('figshare-mat', 'brats-rgb')

    A format of your own (the reader's module is imported on first use)::

        register_reader("npy", image="numpy:load", suffixes=(".npy",))
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.io import read_image, read_mask
from neuroseg.errors import ConfigError, DataError, UnknownNameError

__all__ = ["Reader", "read_image_file", "read_mask_file", "reader_for", "register_reader"]

PathLike = str | os.PathLike[str]
#: ``fn(path) -> (H, W, C) array``.
ImageReader = Callable[[PathLike], np.ndarray]
#: ``fn(path, *, shape) -> (H, W) uint8 labels``; ``shape`` is the image's ``(H, W)`` or None.
MaskReader = Callable[..., np.ndarray]


def _read_binary_mask(path: PathLike, *, shape: tuple[int, int] | None = None) -> np.ndarray:
    return read_mask(path, shape=shape)


_IDENTITY = {v: v for v in range(256)}


def _read_label_mask(path: PathLike, *, shape: tuple[int, int] | None = None) -> np.ndarray:
    return read_mask(path, shape=shape, values=_IDENTITY)


@dataclass(frozen=True)
class Reader:
    """How to read one file format.

    Attributes:
        name: The format's name.
        image: Reads an image file (``fn(path) -> (H, W, C)``), a ``"module:function"``
            string naming such a function (imported on first use), or ``None``.
        mask: Reads a mask file (``fn(path, *, shape) -> (H, W)`` uint8 labels; ``shape``
            is the image's ``(H, W)``, to be checked), a ``"module:function"`` string, or
            ``None``.
        suffixes: File suffixes (lower case, with the dot) read by this format whatever
            the record's ``mask_encoding``.
        mask_needs_shape: Whether the image is read first to give ``shape`` to the mask
            reader. ``False`` for files that hold their image and check the mask
            against it themselves (``.mat``).
    """

    name: str
    image: ImageReader | str | None = None
    mask: MaskReader | str | None = None
    suffixes: tuple[str, ...] = ()
    mask_needs_shape: bool = True

    def read_image(self, path: PathLike) -> np.ndarray:
        """Read an ``(H, W, C)`` image.

        Raises:
            DataError: The format holds no image.
        """
        fn = _resolve(self.image, self.name, "image")
        return fn(path)

    def read_mask(self, path: PathLike, *, shape: tuple[int, int] | None = None) -> np.ndarray:
        """Read an ``(H, W)`` label mask, checked against the image's ``shape`` when given.

        Raises:
            DataError: The format holds no mask.
        """
        fn = _resolve(self.mask, self.name, "mask")
        return fn(path, shape=shape)


_READERS: dict[str, Reader] = {
    r.name: r
    for r in (
        Reader("image", image=read_image),
        Reader("binary", mask=_read_binary_mask),
        Reader("labels", mask=_read_label_mask),
        Reader("brats-rgb", mask="neuroseg.data.brats:read_brats_mask"),
        Reader(
            "figshare-mat",
            image="neuroseg.data.figshare_mat:_read_mat_image",
            mask="neuroseg.data.figshare_mat:_read_mat_mask",
            suffixes=(".mat",),
            mask_needs_shape=False,
        ),
    )
}
_RESOLVED: dict[str, Callable[..., np.ndarray]] = {}


def _resolve(
    fn: Callable[..., np.ndarray] | str | None, name: str, what: str
) -> Callable[..., np.ndarray]:
    if fn is None:
        raise DataError(
            f"format {name!r} has no {what} reader; give the {what} in another format or "
            f"register one with neuroseg.data.readers.register_reader({name!r}, {what}=...)."
        )
    if not isinstance(fn, str):
        return fn
    if fn not in _RESOLVED:
        module, _, attr = fn.partition(":")
        _RESOLVED[fn] = getattr(importlib.import_module(module), attr)
    return _RESOLVED[fn]


def register_reader(
    name: str,
    *,
    image: ImageReader | str | None = None,
    mask: MaskReader | str | None = None,
    suffixes: Sequence[str] = (),
    mask_needs_shape: bool = True,
) -> Reader:
    """Add (or replace) the reader of format ``name``; see :class:`Reader` for the fields.

    A name used as a record's ``mask_encoding`` reads its masks; ``suffixes`` claim files
    by their suffix (``".npy"``) for images and masks alike.

    Raises:
        ConfigError: Neither ``image`` nor ``mask`` given, or a suffix without its dot.
    """
    if image is None and mask is None:
        raise ConfigError(f"register_reader({name!r}): give image=..., mask=... or both.")
    bad = [s for s in suffixes if not s.startswith(".")]
    if bad:
        raise ConfigError(f"register_reader({name!r}): suffixes start with a dot, got {bad}.")
    reader = Reader(
        name,
        image=image,
        mask=mask,
        suffixes=tuple(s.lower() for s in suffixes),
        mask_needs_shape=mask_needs_shape,
    )
    _READERS[name] = reader
    return reader


def reader_for(path: PathLike, default: str = "image") -> Reader:
    """The reader of ``path``: the format claiming its suffix, else format ``default``.

    Raises:
        UnknownNameError: ``default`` is no registered format (the message lists them).
    """
    suffix = Path(str(path)).suffix.lower()
    if suffix:
        for reader in _READERS.values():
            if suffix in reader.suffixes:
                return reader
    try:
        return _READERS[default]
    except KeyError:
        raise UnknownNameError(
            f"{path}: unknown file format {default!r}; registered: {sorted(_READERS)}. "
            "Register it with neuroseg.data.readers.register_reader."
        ) from None


def read_image_file(path: PathLike) -> np.ndarray:
    """Read the ``(H, W, C)`` image at ``path`` with the reader of its format."""
    return reader_for(path).read_image(path)


def read_mask_file(
    path: PathLike,
    *,
    encoding: str = "binary",
    image_shape: Callable[[], tuple[int, int]] | tuple[int, int] | None = None,
) -> np.ndarray:
    """Read the ``(H, W)`` mask at ``path`` with the reader of its format.

    Args:
        path: The mask file.
        encoding: The format when no format claims the file's suffix (a record's
            ``mask_encoding``).
        image_shape: The image's ``(H, W)``, or a function returning it (called only when
            the format checks the mask against a separately read image).
    """
    reader = reader_for(path, default=encoding)
    shape: Any = image_shape
    if not reader.mask_needs_shape:
        shape = None
    elif callable(shape):
        shape = shape()
    return reader.read_mask(path, shape=shape)
