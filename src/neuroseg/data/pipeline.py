"""Build ``tf.data`` pipelines from a :class:`~neuroseg.data.records.SliceDataset`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import tensorflow as tf

from neuroseg.data.preprocessor import SlicePreprocessor
from neuroseg.data.tasks import TASKS, Task
from neuroseg.data.transforms import convert_channels
from neuroseg.errors import ConfigError, EmptyDatasetError, MaskError

__all__ = ["SliceRecord", "SliceSource", "to_tf_dataset"]


class SliceRecord(Protocol):
    """What the pipeline reads of a record (:class:`~neuroseg.data.Record` has it all).

    The pipeline takes any object of this shape, so it needs no import of
    :mod:`neuroseg.data.records`, which imports this module for
    :meth:`~neuroseg.data.SliceDataset.to_tf_dataset`.
    """

    @property
    def image(self) -> Any: ...

    @property
    def mask(self) -> Any: ...

    @property
    def label(self) -> int | None: ...

    @property
    def source(self) -> str | None: ...

    @property
    def mask_encoding(self) -> str: ...

    def load_image(self) -> np.ndarray: ...

    def load_mask(self) -> np.ndarray | None: ...


class SliceSource(Protocol):
    """What the pipeline reads of a dataset (:class:`~neuroseg.data.SliceDataset`)."""

    @property
    def name(self) -> str: ...

    @property
    def records(self) -> Sequence[SliceRecord]: ...


_TASKS = TASKS


def _make_reader(
    records: Sequence[SliceRecord], channels: int, need_mask: bool
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def read(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        record = records[int(index)]
        source = record.source or str(record.image)
        image = convert_channels(record.load_image(), channels, source=source).astype(np.float32)
        mask = record.load_mask()
        if mask is None:
            if need_mask:
                raise MaskError(f"{source}: the record has no mask but the task needs one.")
            mask = np.zeros(image.shape[:2], np.uint8)
        return image, mask[..., None].astype(np.int32)

    return read


_NATIVE = {".png", ".jpg", ".jpeg"}


def _png_is_8bit(path: str) -> bool:
    """Read the PNG header: bit depth 8 or less (16-bit files take the Python path)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(26)
    except OSError:
        return False
    return len(head) == 26 and head[12:16] == b"IHDR" and head[24] <= 8


def _native_ok(records: Sequence[SliceRecord], need_mask: bool) -> bool:
    """Whether every image (and mask) is an 8-bit PNG/JPEG file tf can decode in-graph."""
    for r in records:
        if isinstance(r.image, np.ndarray) or Path(str(r.image)).suffix.lower() not in _NATIVE:
            return False
        if r.mask is None:
            if need_mask:
                return False
            continue
        if isinstance(r.mask, np.ndarray) or r.mask_encoding != "binary":
            return False
        if Path(str(r.mask)).suffix.lower() != ".png":
            return False
    # every header (26 bytes each): a 16-bit PNG must not be squeezed into 8 bits
    return all(_png_is_8bit(str(r.image)) for r in records if str(r.image).lower().endswith(".png"))


def _native_loader(channels: int, with_mask: bool) -> Callable[..., dict[str, tf.Tensor]]:
    """In-graph decoding: ``tf.io.read_file`` + ``decode_image``; masks checked cheaply."""

    def load(image_path: tf.Tensor, mask_path: tf.Tensor, label: tf.Tensor) -> Any:
        image = tf.io.decode_image(
            tf.io.read_file(image_path), channels=channels, expand_animations=False
        )
        image.set_shape([None, None, channels])
        if with_mask:
            raw = tf.io.decode_png(tf.io.read_file(mask_path), channels=1)
            ok = tf.reduce_all((raw == 0) | (raw == 255) | (raw == 1))
            same = tf.reduce_all(tf.shape(raw)[:2] == tf.shape(image)[:2])
            check = tf.debugging.Assert(
                tf.logical_and(ok, same),
                [mask_path, "mask values outside {0, 1, 255} or a size different from", image_path],
            )
            with tf.control_dependencies([check]):
                mask = tf.cast(raw > 0, tf.uint8)  # uint8 labels: 4x less memory traffic
        else:
            mask = tf.zeros(tf.concat([tf.shape(image)[:2], [1]], 0), tf.uint8)
        return {"image": tf.cast(image, tf.float32), "mask": mask, "label": label}

    return load


def to_tf_dataset(
    dataset: SliceSource,
    task: Task = "segmentation",
    *,
    image_size: int | Sequence[int] | None = None,
    channels: int | None = None,
    batch_size: int | None = 8,
    shuffle: bool = False,
    augment: Callable[..., Any] | None = None,
    seed: int = 0,
    cache: bool = False,
    normalize: Literal["minmax", "zscore", "percentile"] | None = "minmax",
    crop: Literal["brain"] | None = None,
    preprocessor: SlicePreprocessor | None = None,
    drop_remainder: bool = False,
    prefetch: bool = True,
    num_parallel_calls: int | None = None,
    decode: Literal["auto", "native", "python"] = "auto",
) -> tf.data.Dataset:
    """Build a parallel ``tf.data`` pipeline: decode → prepare → augment → batch.

    Decoding is lazy and parallel. Each slice is prepared by a
    :class:`~neuroseg.data.SlicePreprocessor` (``preprocessor``, or one built from
    ``channels``, ``crop``, ``image_size`` and ``normalize``), the same object that
    :class:`~neuroseg.inference.Predictor` uses at inference: crop, resize (masks by
    nearest neighbour), normalise per slice. ``augment`` is a dict-level
    transform (see :mod:`neuroseg.data.transforms`) applied jointly to image and mask
    with a per-element seed, so the same ``seed`` gives the same augmented stream.

    Args:
        dataset: The records.
        task: ``"segmentation"`` yields ``(image, mask)``; ``"classification"`` yields
            ``(image, label)``; ``"multitask"`` yields ``(image, {"mask", "label"})``.
        image_size: Output size; ``None`` keeps the stored size (all slices must match
            to batch).
        channels: Channels of the model input; defaults to the first image's count.
            RGB→grey and grey→RGB are converted; anything else raises.
        batch_size: Batch size, or ``None`` for unbatched elements.
        shuffle: Shuffle every epoch (seeded).
        augment: A dict-level transform, e.g. ``Compose([RandomFlip()])``.
        seed: Seed for shuffling and augmentation.
        cache: Cache decoded, resized slices in memory.
        normalize: ``"minmax"`` scales each image to ``[0, 1]``; ``"zscore"`` and
            ``"percentile"`` as :class:`~neuroseg.data.SlicePreprocessor`; ``None`` keeps
            raw values.
        crop: ``"brain"`` crops each slice (and its mask) to the bounding box of the pixels
            above 5 % of its intensity range before resizing (see
            :func:`~neuroseg.data.crop_to_brain`): sources with different framing and
            borders (e.g. Br35H and Figshare) then fill the frame alike. ``None`` keeps the
            whole slice.
        preprocessor: The slice preparation as one object (it then replaces
            ``channels``, ``image_size`` and ``crop``, which must be left unset or agree;
            ``normalize`` is ignored). Save it with the model
            (:meth:`~neuroseg.data.SlicePreprocessor.save`) so that inference prepares
            slices the same way.
        drop_remainder: Drop the last partial batch.
        prefetch: Prefetch batches.
        num_parallel_calls: Parallel decode calls; ``None`` lets tf.data tune it.
        decode: ``"native"`` decodes 8-bit PNG/JPEG files in the graph
            (``tf.io.decode_image``; fast, parallel, no Python), checking that masks hold
            only 0/1/255 and match their image's size (a failure names the file in a
            ``tf.errors.InvalidArgumentError``). ``"python"`` reads each record with
            neuroseg's strict readers (any format: TIFF, ``.mat``, arrays). ``"auto"``
            (default) picks native when every file allows it. Run
            :func:`~neuroseg.data.check` once on a new dataset: it finds truncated files,
            which the native decoder may not.

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
    if preprocessor is not None:
        size: tuple[int, ...] | None = None
        if image_size is not None:
            size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        given: dict[str, Any] = {"channels": channels, "image_size": size, "crop": crop}
        for key, value in given.items():
            want = preprocessor.get_config()[key]
            if value is not None and value != want:
                raise ConfigError(
                    f"{key}={value!r} disagrees with the preprocessor's {key}={want!r}; "
                    "give one or the other."
                )
        channels = preprocessor.channels
    else:
        if channels is None:
            channels = int(records[0].load_image().shape[-1])
        if crop not in ("brain", None):
            raise ConfigError(f"Unknown crop={crop!r}; use 'brain' or None.")
        if normalize not in ("minmax", "zscore", "percentile", None):
            raise ConfigError(
                f"Unknown normalize={normalize!r}; use 'minmax', 'zscore', 'percentile' or None."
            )
        preprocessor = SlicePreprocessor(
            channels=channels,
            image_size=image_size,
            crop=crop,
            normalize=normalize,
            size_multiple=1,  # without image_size, slices keep their stored size
        )
    need_mask = task in ("segmentation", "multitask")
    if decode not in ("auto", "native", "python"):
        raise ConfigError(f"Unknown decode={decode!r}; use 'auto', 'native' or 'python'.")
    native = _native_ok(records, need_mask)
    if decode == "native" and not native:
        raise ConfigError(
            "decode='native' needs 8-bit PNG/JPEG image files and binary PNG masks for every "
            "record; use decode='python' for this dataset."
        )
    native = native and decode != "python"
    parallel = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    reader = _make_reader(records, channels, need_mask)
    labels = np.array([-1 if r.label is None else r.label for r in records], np.int32)
    fixed = preprocessor

    def load(index: tf.Tensor, label: tf.Tensor) -> dict[str, tf.Tensor]:
        image, mask = tf.numpy_function(reader, [index], (tf.float32, tf.int32))
        image.set_shape([None, None, channels])
        mask.set_shape([None, None, 1])
        return fixed({"image": image, "mask": mask, "label": label})

    def to_task(s: dict[str, tf.Tensor]) -> Any:
        # masks stay compact (uint8 from the native decoder) until to_float, after batching
        if task == "segmentation":
            return s["image"], s["mask"]
        if task == "classification":
            return s["image"], s["label"]
        return s["image"], {"mask": s["mask"], "label": s["label"]}

    def to_float(x: Any, y: Any) -> Any:
        if task == "segmentation":
            return x, tf.cast(y, tf.float32)
        if task == "multitask":
            return x, {"mask": tf.cast(y["mask"], tf.float32), "label": y["label"]}
        return x, y

    def finish(s: dict[str, tf.Tensor], r: tf.Tensor) -> Any:
        if augment is not None:
            s = augment(s, tf.stack([r, tf.constant(0, tf.int64)]))
        return to_task(s)

    if native:
        with_mask = any(r.mask is not None for r in records)
        native_load = _native_loader(channels, with_mask)
        paths = [str(r.image) for r in records]
        mask_paths = [str(r.mask) if r.mask is not None else "" for r in records]
        ds = tf.data.Dataset.from_tensor_slices((paths, mask_paths, labels))

        def decode_item(item: Any) -> dict[str, tf.Tensor]:
            return fixed(native_load(*item))
    else:
        ds = tf.data.Dataset.from_tensor_slices((np.arange(len(records)), labels))

        def decode_item(item: Any) -> dict[str, tf.Tensor]:
            return load(*item)

    if shuffle and not cache:  # shuffle cheap paths/indices before decoding
        ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    # one random int64 per element; finish() turns it into the (2,) stateless seed
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    if cache:  # decode once, then reshuffle and augment the cached slices every epoch
        ds = ds.map(
            lambda *item: decode_item(item), num_parallel_calls=parallel, deterministic=True
        )
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            finish, num_parallel_calls=parallel, deterministic=True
        )
    else:  # one fused map: decode, resize, normalise, augment
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda item, k: finish(decode_item(item), k),
            num_parallel_calls=parallel,
            deterministic=True,
        )
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if task != "classification":
        ds = ds.map(to_float, num_parallel_calls=parallel, deterministic=True)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds
