"""Build ``tf.data`` pipelines from a :class:`~neuroseg.data.records.SliceDataset`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import tensorflow as tf

from neuroseg.data.records import Record, SliceDataset, Task
from neuroseg.data.transforms import Compose, NormalizeMinMax, Resize, to_grayscale
from neuroseg.errors import ChannelError, ConfigError, EmptyDatasetError, MaskError

__all__ = ["to_tf_dataset"]

_TASKS = ("segmentation", "classification", "multitask")


def _convert_channels(image: np.ndarray, channels: int, source: str) -> np.ndarray:
    if image.shape[-1] == channels:
        return image
    if channels == 1 and image.shape[-1] == 3:
        return to_grayscale(image)
    if channels == 3 and image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    raise ChannelError(
        f"{source}: image has {image.shape[-1]} channels and cannot be converted to {channels}. "
        "Pick the channels you need with a record transform first."
    )


def _make_reader(
    records: Sequence[Record], channels: int, need_mask: bool
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def read(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        record = records[int(index)]
        source = record.source or str(record.image)
        image = _convert_channels(record.load_image(), channels, source).astype(np.float32)
        mask = record.load_mask()
        if mask is None:
            if need_mask:
                raise MaskError(f"{source}: the record has no mask but the task needs one.")
            mask = np.zeros(image.shape[:2], np.uint8)
        return image, mask[..., None].astype(np.int32)

    return read


def to_tf_dataset(
    dataset: SliceDataset,
    task: Task = "segmentation",
    *,
    image_size: int | Sequence[int] | None = None,
    channels: int | None = None,
    batch_size: int | None = 8,
    shuffle: bool = False,
    augment: Callable[..., Any] | None = None,
    seed: int = 0,
    cache: bool = False,
    normalize: Literal["minmax"] | None = "minmax",
    drop_remainder: bool = False,
    prefetch: bool = True,
    num_parallel_calls: int | None = None,
) -> tf.data.Dataset:
    """Build a parallel ``tf.data`` pipeline: decode → resize → normalise → augment → batch.

    Decoding is lazy and parallel. Images and masks are resized to ``image_size`` (masks by
    nearest neighbour) and images are normalised per slice. ``augment`` is a dict-level
    transform (see :mod:`neuroseg.data.transforms`) applied jointly to image and mask
    with a per-element seed, so the same ``seed`` gives the same augmented stream.

    Args:
        dataset: The records.
        task: ``"segmentation"`` yields ``(image, mask)``; ``"classification"`` yields
            ``(image, label)``; ``"multitask"`` yields ``(image, {"mask", "label"})``.
        image_size: Output size; ``None`` keeps the stored size (all slices must match).
        channels: Channels of the model input; defaults to the first image's count.
            RGB→grey and grey→RGB are converted; anything else raises.
        batch_size: Batch size, or ``None`` for unbatched elements.
        shuffle: Shuffle every epoch (seeded).
        augment: A dict-level transform, e.g. ``Compose([RandomFlip()])``.
        seed: Seed for shuffling and augmentation.
        cache: Cache decoded, resized slices in memory.
        normalize: ``"minmax"`` scales each image to ``[0, 1]``; ``None`` keeps raw values.
        drop_remainder: Drop the last partial batch.
        prefetch: Prefetch batches.
        num_parallel_calls: Parallel decode calls; ``None`` lets tf.data tune it.

    Returns:
        The ``tf.data.Dataset``; masks are ``float32`` ``(H, W, 1)`` label maps and labels
        ``int32``.

    Raises:
        ConfigError: Unknown task.
        EmptyDatasetError: The dataset is empty.
        MaskError: The task needs masks or labels that a record lacks.
    """
    if task not in _TASKS:
        raise ConfigError(f"Unknown task {task!r}; choose one of {', '.join(_TASKS)}.")
    records = dataset.records
    if not records:
        raise EmptyDatasetError(f"{dataset.name}: cannot build a pipeline from an empty dataset.")
    if task in ("classification", "multitask"):
        missing = [r.source or str(r.image) for r in records if r.label is None]
        if missing:
            raise MaskError(
                f"{missing[0]}: record has no class label but task={task!r} needs one "
                f"({len(missing)} such record(s))."
            )
    if channels is None:
        channels = int(records[0].load_image().shape[-1])
    need_mask = task in ("segmentation", "multitask")
    parallel = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    reader = _make_reader(records, channels, need_mask)
    labels = np.array([-1 if r.label is None else r.label for r in records], np.int32)
    fixed = Compose(
        ([Resize(image_size)] if image_size is not None else [])
        + ([NormalizeMinMax()] if normalize == "minmax" else [])
    )
    if normalize not in ("minmax", None):
        raise ConfigError(f"Unknown normalize={normalize!r}; use 'minmax' or None.")

    def load(index: tf.Tensor, label: tf.Tensor) -> dict[str, tf.Tensor]:
        image, mask = tf.numpy_function(reader, [index], (tf.float32, tf.int32))
        image.set_shape([None, None, channels])
        mask.set_shape([None, None, 1])
        return fixed({"image": image, "mask": mask, "label": label})

    ds = tf.data.Dataset.from_tensor_slices((np.arange(len(records)), labels))
    if shuffle and not cache:  # shuffle cheap indices before decoding
        ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(load, num_parallel_calls=parallel, deterministic=True)
    if cache:  # decode once, then reshuffle the cached slices every epoch
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    if augment is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda s, k: augment(s, k), num_parallel_calls=parallel, deterministic=True
        )

    def to_task(s: dict[str, tf.Tensor]) -> Any:
        mask = tf.cast(s["mask"], tf.float32)
        if task == "segmentation":
            return s["image"], mask
        if task == "classification":
            return s["image"], s["label"]
        return s["image"], {"mask": mask, "label": s["label"]}

    ds = ds.map(to_task, num_parallel_calls=parallel, deterministic=True)
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds
