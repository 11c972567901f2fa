"""Exceptions raised by neuroseg.

Every error neuroseg raises on purpose derives from :class:`NeurosegError`, so callers
can catch one type. Each message names the offending file or value and says how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ChannelError",
    "ConfigError",
    "DataError",
    "DicomError",
    "EmptyDatasetError",
    "FolderLayoutError",
    "MaskError",
    "MetadataError",
    "MissingDependencyError",
    "ModelError",
    "MultiPageError",
    "NeurosegError",
    "PixelValueError",
    "ReadError",
    "RepeatedChannelsWarning",
    "RunDirError",
    "UnknownNameError",
    "UnverifiedDownloadWarning",
    "WriteError",
]


class NeurosegError(Exception):
    """Base class of every error neuroseg raises on purpose."""


class DataError(NeurosegError, ValueError):
    """A data file or folder is unusable (the message names it and says why)."""


class ReadError(DataError):
    """A file could not be read or decoded: missing, truncated or corrupt."""


class DicomError(DataError):
    """A DICOM file or series cannot be read as an image volume, or written back.

    Mixed series in one folder, missing or duplicated slice positions, slices of different
    sizes, spacing or orientation, non-image objects (SR, SEG, presentation states), no
    pixel data or an undecodable transfer syntax; the message names the file and the fix.
    """


class MaskError(DataError):
    """A mask does not fit its image, or holds values outside the expected label set."""


class ChannelError(DataError):
    """An image has a channel count the caller did not expect."""


class EmptyDatasetError(DataError):
    """A folder or selection holds no usable item."""


class PixelValueError(DataError):
    """An image holds NaN or infinite pixel values, which no model can use."""


class MultiPageError(DataError):
    """A file holds several pages or frames (a multi-page TIFF) where one slice is expected."""


class MetadataError(DataError):
    """A row of a metadata table (``metadata.csv``) is missing, malformed or contradictory.

    Also a duplicated row or an invalid fold; the message names the file and the line.
    """


class FolderLayoutError(DataError):
    """A dataset folder holds something the loader would otherwise skip or merge silently.

    Two class folders that are aliases of one class (``no_tumor/`` and ``notumor/``), a
    nested sub-folder, a non-image file or a dangling link; the message names them.
    """


class UnknownNameError(NeurosegError, KeyError):
    """A name (model, class, format, ...) is not known; the message lists the valid ones."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class ModelError(NeurosegError):
    """A model file is missing or does not fit the task or the input."""


class ConfigError(NeurosegError, ValueError):
    """A configuration value is invalid."""


class MissingDependencyError(NeurosegError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class RunDirError(NeurosegError):
    """A run directory cannot be resumed, or cannot continue under the given config.

    A checkpoint file is missing, corrupt or inconsistent with the others, or the run has
    finished more epochs than the config asks for; the message names the file and says
    how to go on.
    """


class WriteError(NeurosegError, OSError):
    """An output file could not be written.

    An unsupported file format, an array the format cannot hold, or a folder that cannot
    be created or written to (read-only, full); the message names the file and the fix.
    """


class UnverifiedDownloadWarning(UserWarning):
    """A download was accepted without a checksum, so its integrity was not verified.

    The message names the file and its SHA-256 (also written to ``SHA256SUMS``): compare
    it with a trusted source and pin it (``ArchivePart(sha256=...)``) to silence this.
    """


class RepeatedChannelsWarning(UserWarning):
    """A multi-sequence model got inputs whose channels are all one image.

    A model trained on several sequences (e.g. ``resunet-lgg``: pre-contrast T1, FLAIR,
    post-contrast T1) was given slices whose channels are identical: a missing sequence
    copied into its place, or a grey image converted to the model's channels. Its outputs
    on such input are unreliable; the message names the inputs and the expected channels.
    """
