"""Epoch-aware training pipelines, so that a resumed run sees exactly the same data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuroseg.data.records import SliceDataset

__all__ = ["epoch_pipeline"]


def epoch_pipeline(dataset: SliceDataset, *, seed: int = 0, **kwargs: Any) -> Callable[[int], Any]:
    """Return ``epoch -> tf.data.Dataset`` whose shuffle and augmentation use ``seed + epoch``.

    Pass it to :func:`neuroseg.train.fit` as ``train``: each epoch's data order and
    augmentation then depend only on the seed and the epoch number, not on how many epochs
    this process has run, which makes resumed runs exact.

    Args:
        dataset: The training records.
        seed: Base seed.
        **kwargs: Passed to :meth:`SliceDataset.to_tf_dataset` (``shuffle`` defaults to True).

    Example:
        >>> from neuroseg.data import load_sample
        >>> make = epoch_pipeline(load_sample()[:4], image_size=32, batch_size=2)
        >>> int(make(0).cardinality())
        2
    """
    kwargs.setdefault("shuffle", True)

    def make(epoch: int) -> Any:
        return dataset.to_tf_dataset(seed=seed + int(epoch), **kwargs)

    return make
