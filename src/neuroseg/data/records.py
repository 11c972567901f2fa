"""The record model: one 2-D slice with its mask, label, patient and provenance."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from neuroseg.data.classes import CLASS_NAMES
from neuroseg.data.readers import read_image_file, read_mask_file
from neuroseg.data.tasks import Task
from neuroseg.errors import ConfigError, EmptyDatasetError, MaskError

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["MaskEncoding", "Record", "SliceDataset", "Task"]

#: What a pipeline yields: (image, mask), (image, label) or (image, {mask, label}).

ArrayOrPath = np.ndarray | str | os.PathLike[str]

#: How a mask file stores its labels.
MaskEncoding = Literal["binary", "labels", "brats-rgb"]


@dataclass(frozen=True, eq=False)
class Record:
    """One 2-D slice.

    Images and masks may be held in memory (arrays) or on disk (paths, read lazily).

    Attributes:
        image: ``(H, W, C)`` array, or the path of the image file.
        mask: ``(H, W)`` integer label array, its path, or ``None``.
        label: Index into the dataset's class names, or ``None``.
        patient_id: The patient the slice comes from, when known.
        fold: A fold given by the data's publisher (slices of one patient share it).
        spacing: Pixel spacing ``(row, col)`` in millimetres, when known.
        source: Where the slice came from (a path or a description).
        meta: Free-form extra fields.
        mask_encoding: How a mask *file* stores labels: ``"binary"`` (0/255 or 0/1, the
            default), ``"labels"`` (integer labels 0–255 as they are) or ``"brats-rgb"``
            (one pure colour per BraTS sub-region, see :mod:`neuroseg.data.brats`).
    """

    image: ArrayOrPath
    mask: ArrayOrPath | None = None
    label: int | None = None
    patient_id: str | None = None
    fold: int | None = None
    spacing: tuple[float, float] | None = None
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    mask_encoding: MaskEncoding = "binary"

    @property
    def group(self) -> str | None:
        """The key that must never be split across train and test.

        The patient ID when known, else the publisher's fold (which groups patients).
        """
        if self.patient_id is not None:
            return self.patient_id
        if self.fold is not None:
            return f"fold-{self.fold}"
        return None

    def load_image(self) -> np.ndarray:
        """Return the image as an ``(H, W, C)`` array, reading it if needed."""
        if isinstance(self.image, np.ndarray):
            return self.image if self.image.ndim == 3 else self.image[..., None]
        return read_image_file(self.image)

    def load_mask(self) -> np.ndarray | None:
        """Return the ``(H, W)`` label mask, reading and checking it if needed.

        Files are read by format (see :mod:`neuroseg.data.readers`): a ``.mat`` mask by
        the Figshare reader, any other by the record's ``mask_encoding``.
        """
        if self.mask is None:
            return None
        if isinstance(self.mask, np.ndarray):
            return self.mask
        return read_mask_file(
            self.mask,
            encoding=self.mask_encoding,
            image_shape=lambda: self.load_image().shape[:2],
        )


class SliceDataset(Sequence[Record]):
    """An indexable, sliceable collection of :class:`Record`.

    Args:
        records: The records.
        class_names: Names for the integer labels; defaults to the canonical four classes.
        name: A short description, shown in ``repr``.

    Example:
        >>> import numpy as np
        >>> ds = SliceDataset([Record(np.zeros((4, 4, 1), np.uint8), label=0, patient_id="p1")])
        >>> len(ds), ds.patients
        (1, ['p1'])
    """

    def __init__(
        self,
        records: Iterable[Record],
        *,
        class_names: Sequence[str] = CLASS_NAMES,
        name: str = "dataset",
    ) -> None:
        self._records = list(records)
        self.class_names = tuple(class_names)
        self.name = name

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice | Sequence[int] | np.ndarray) -> SliceDataset: ...

    def __getitem__(self, index: int | slice | Sequence[int] | np.ndarray) -> Record | SliceDataset:
        if isinstance(index, (int, np.integer)):
            return self._records[int(index)]
        if isinstance(index, slice):
            return self._derive(self._records[index])
        return self._derive([self._records[int(i)] for i in index])

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records)

    def __repr__(self) -> str:
        return (
            f"SliceDataset(name={self.name!r}, n={len(self)}, "
            f"patients={len(self.patients)}, class_names={list(self.class_names)})"
        )

    def __add__(self, other: SliceDataset) -> SliceDataset:
        if self.class_names != other.class_names:
            raise ConfigError(
                f"Cannot combine datasets with different class names: {self.class_names} "
                f"and {other.class_names}."
            )
        return SliceDataset(
            [*self._records, *other._records],
            class_names=self.class_names,
            name=f"{self.name}+{other.name}",
        )

    def _derive(self, records: list[Record]) -> SliceDataset:
        return SliceDataset(records, class_names=self.class_names, name=self.name)

    @property
    def records(self) -> list[Record]:
        """A copy of the list of records."""
        return list(self._records)

    @property
    def patients(self) -> list[str]:
        """Sorted distinct split groups (patient IDs, or publisher folds)."""
        return sorted({r.group for r in self._records if r.group is not None})

    @property
    def labels(self) -> np.ndarray:
        """The class labels, ``-1`` where a record has none."""
        return np.array([-1 if r.label is None else r.label for r in self._records], dtype=int)

    @property
    def groups(self) -> list[str | None]:
        """The split group of each record."""
        return [r.group for r in self._records]

    def filter(self, predicate: Callable[[Record], bool]) -> SliceDataset:
        """Return the records for which ``predicate`` is true."""
        return self._derive([r for r in self._records if predicate(r)])

    def map_records(self, fn: Callable[[Record], Record]) -> SliceDataset:
        """Return a dataset with ``fn`` applied to each record."""
        return self._derive([fn(r) for r in self._records])

    def load_arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Read every image (and mask) into memory.

        Returns:
            ``(images, masks)``; images are ``(N, H, W, C)``, masks ``(N, H, W)`` or
            ``None`` when no record has a mask. All slices must share one size.

        Raises:
            EmptyDatasetError: The dataset is empty.
            MaskError: Some records have masks and others do not.
        """
        if not self._records:
            raise EmptyDatasetError(f"{self.name}: the dataset is empty.")
        images = [r.load_image() for r in self._records]
        masks = [r.load_mask() for r in self._records]
        have = [m is not None for m in masks]
        if any(have) and not all(have):
            missing = next(r.source for r, h in zip(self._records, have) if not h)
            raise MaskError(f"{missing}: this record has no mask while others do.")
        stacked_masks = np.stack([m for m in masks if m is not None]) if all(have) else None
        return np.stack(images), stacked_masks

    def with_replaced(self, **changes: Any) -> SliceDataset:
        """Return a dataset whose records have the given fields replaced."""
        return self._derive([replace(r, **changes) for r in self._records])

    def to_tf_dataset(self, task: Task = "segmentation", **kwargs: Any) -> tf.data.Dataset:
        """Build a ``tf.data`` pipeline; see :func:`neuroseg.data.pipeline.to_tf_dataset`."""
        from neuroseg.data.pipeline import to_tf_dataset

        return to_tf_dataset(self, task=task, **kwargs)
