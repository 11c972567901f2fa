"""Build ``tf.data`` pipelines from a :class:`~neuroseg.data.records.SliceDataset`."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Protocol

import numpy as np
import tensorflow as tf

from neuroseg.data.io import image_format
from neuroseg.data.preprocessor import SlicePreprocessor
from neuroseg.data.tasks import TASKS, Task
from neuroseg.data.transforms import convert_channels
from neuroseg.errors import ConfigError, EmptyDatasetError, MaskError, PixelValueError

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
        image = convert_channels(record.load_image(), channels, source=source)
        if image.dtype.kind == "f" and not np.isfinite(image).all():
            raise PixelValueError(
                f"{source}: {int((~np.isfinite(image)).sum())} pixel(s) are NaN or infinite. "
                "Replace them (e.g. with 0) first."
            )
        mask = record.load_mask()
        if mask is None:
            if need_mask:
                raise MaskError(f"{source}: the record has no mask but the task needs one.")
            mask = np.zeros(image.shape[:2], np.uint8)
        elif tuple(mask.shape[:2]) != tuple(image.shape[:2]):
            raise MaskError(
                f"{source}: the mask is {mask.shape[0]}x{mask.shape[1]} but the image is "
                f"{image.shape[0]}x{image.shape[1]}."
            )
        return image.astype(np.float32), mask[..., None].astype(np.int32)

    return read


# --- one decoding path --------------------------------------------------------------------
# Every file is read once with the strict readers before the pipeline is built (cached by
# path, size and modification time), so both decode paths accept and refuse the same
# files and a refusal is the reader's NeurosegError naming the file. The in-graph decoder
# then only takes files whose header proves that TensorFlow decodes them to the same array
# as the strict reader: 8-bit PNG (grey or RGB, no palette, alpha or transparency chunk)
# and 8-bit baseline/progressive JPEG (grey or YCbCr/RGB, decoded with libjpeg's accurate
# integer IDCT, as OpenCV does). Masks must be 8-bit grey PNGs for the native path.

_VALIDATED: dict[tuple[Any, ...], None] = {}
_VALIDATED_MAX = 1_000_000


def _stamp(x: Any) -> tuple[str, int, int] | None:
    """``(path, size, mtime_ns)`` of a file, ``None`` for an array (or a missing file)."""
    if isinstance(x, np.ndarray) or x is None:
        return None
    try:
        st = os.stat(x)
    except OSError:
        return None
    return (str(x), st.st_size, st.st_mtime_ns)


def _validate(
    records: Sequence[SliceRecord], read: Callable[[Any], Any], key: tuple[Any, ...]
) -> None:
    """Read every record once with the strict readers; raise the first record's error.

    Records whose files were read before unchanged (same size and modification time)
    under the same settings are skipped.
    """
    todo: list[tuple[int, tuple[Any, ...] | None]] = []
    for i, r in enumerate(records):
        stamps = (_stamp(r.image), _stamp(r.mask), r.mask_encoding)
        if stamps[0] is None or (r.mask is not None and stamps[1] is None):
            todo.append((i, None))  # arrays (or missing files): always checked
            continue
        stamped = (*key, *stamps)
        if stamped not in _VALIDATED:
            todo.append((i, stamped))
    if not todo:
        return
    workers = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for (_, k), _result in zip(todo, pool.map(lambda t: read(t[0]), todo), strict=True):
            if k is not None and len(_VALIDATED) < _VALIDATED_MAX:
                _VALIDATED[k] = None


def _png_header(head: bytes) -> tuple[int, int] | None:
    """``(bit depth, colour type)`` of a PNG, or ``None`` when the PNG may carry alpha."""
    if len(head) < 33 or head[12:16] != b"IHDR":
        return None
    depth, colour = head[24], head[25]
    pos = 33
    while pos + 8 <= len(head):  # chunks before the image data: a tRNS adds alpha
        length = int.from_bytes(head[pos : pos + 4], "big")
        kind = head[pos + 4 : pos + 8]
        if kind == b"tRNS":
            return None
        if kind == b"IDAT":
            return depth, colour
        pos += 12 + length
    return None  # no IDAT within the head read: let the Python path decide


def _jpeg_channels(head: bytes) -> int | None:
    """Components of an 8-bit Huffman JPEG (1 or 3), else ``None``."""
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = int.from_bytes(head[pos + 2 : pos + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):  # baseline, extended, progressive (Huffman)
            if pos + 10 > len(head) or head[pos + 4] != 8:
                return None
            n = head[pos + 9]
            return n if n in (1, 3) else None
        if 0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return None  # lossless, hierarchical or arithmetic coding
        if marker == 0xDA:
            return None
        pos += 2 + length
    return None


def _native_kind(path: Any, *, mask: bool) -> tuple[str, int] | None:
    """``("png" | "jpeg", channels)`` when the in-graph decoder equals the strict reader."""
    if isinstance(path, np.ndarray):
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return None
    fmt = image_format(head[:8])
    if fmt == "png":
        info = _png_header(head)
        if info is None or info[0] != 8 or info[1] not in ((0,) if mask else (0, 2)):
            return None
        return "png", 1 if info[1] == 0 else 3
    if fmt == "jpeg" and not mask:
        n = _jpeg_channels(head)
        return None if n is None else ("jpeg", n)
    return None


def _native_plan(records: Sequence[SliceRecord], need_mask: bool) -> list[tuple[bool, int]] | None:
    """Per record ``(is_jpeg, file channels)`` when every file can be decoded in-graph."""
    plan = []
    for r in records:
        kind = _native_kind(r.image, mask=False)
        if kind is None:
            return None
        if r.mask is None:
            if need_mask:
                return None
        elif r.mask_encoding != "binary" or _native_kind(r.mask, mask=True) is None:
            return None
        plan.append((kind[0] == "jpeg", kind[1]))
    return plan


def _native_ok(records: Sequence[SliceRecord], need_mask: bool) -> bool:
    """Whether every image (and mask) can be decoded in-graph to the strict reader's array."""
    return _native_plan(records, need_mask) is not None


def _native_loader(
    channels: int, with_mask: bool, decode_channels: int
) -> Callable[..., dict[str, tf.Tensor]]:
    """In-graph decoding equal to the strict reader's (see the comment above)."""

    def load(image_path: tf.Tensor, mask_path: tf.Tensor, label: tf.Tensor, jpeg: tf.Tensor) -> Any:
        data = tf.io.read_file(image_path)
        image = tf.cond(
            jpeg,
            lambda: tf.io.decode_jpeg(data, decode_channels, dct_method="INTEGER_ACCURATE"),
            lambda: tf.io.decode_png(data, decode_channels),
        )
        if decode_channels == 3 and channels == 1:
            # OpenCV's fixed-point RGB->grey (cv2.COLOR_RGB2GRAY on uint8), bit for bit
            x = tf.cast(image, tf.int32)
            y = (x[..., 0] * 4899 + x[..., 1] * 9617 + x[..., 2] * 1868 + 8192) // 16384
            image = tf.cast(y, tf.uint8)[..., None]
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
    validate: bool = True,
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
        decode: ``"native"`` decodes the files in the graph (``tf.io.decode_png`` /
            ``decode_jpeg``; fast, parallel, no Python); only files whose header proves
            that TensorFlow decodes them to the strict reader's array qualify: 8-bit grey
            or RGB PNGs without alpha, 8-bit grey or colour JPEGs, and 8-bit grey PNG
            binary masks. ``"python"`` reads each record with neuroseg's strict readers
            (any format: 16-bit PNG, TIFF, ``.mat``, arrays). ``"auto"`` (default) picks
            native when every file qualifies. Both paths yield identical arrays.
        validate: Read every record once with the strict readers while building the
            pipeline (in threads; records read before, unchanged, are skipped), so that a
            bad file raises its :class:`~neuroseg.errors.NeurosegError` naming the file
            here, before iteration or ``fit``, on either decode path. An error raised
            inside ``tf.data`` cannot keep its class (TensorFlow turns it into a
            ``tf.errors`` error), so ``validate=False`` (faster to build, for data you
            have checked with :func:`~neuroseg.data.check`) reports a bad file only as
            such an error, with the file's name in its message.

    Returns:
        The ``tf.data.Dataset``; masks are ``float32`` ``(H, W, 1)`` label maps and labels
        ``int32``.

    Raises:
        ConfigError: Unknown task.
        EmptyDatasetError: The dataset is empty.
        MaskError: The task needs masks or labels that a record lacks.
        DataError: (with ``validate``) a file the strict readers refuse: the reader's
            :class:`~neuroseg.errors.DataError` subclass, naming the file.
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
    plan = None if decode == "python" else _native_plan(records, need_mask)
    if plan is not None and (channels not in (1, 3) or len({r.mask is None for r in records}) > 1):
        plan = None  # 4-channel models and part-masked datasets take the Python path
    if decode == "native" and plan is None:
        raise ConfigError(
            "decode='native' needs 8-bit grey/RGB PNG or JPEG image files without alpha and "
            "8-bit grey binary PNG masks for every record; use decode='python' (or 'auto') "
            "for this dataset."
        )
    native = plan is not None
    parallel = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    reader = _make_reader(records, channels, need_mask)
    if validate:
        _validate(records, reader, (channels, need_mask))
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
        assert plan is not None
        with_mask = any(r.mask is not None for r in records)
        colour = any(c == 3 for _, c in plan)
        native_load = _native_loader(channels, with_mask, 3 if colour or channels == 3 else 1)
        paths = [str(r.image) for r in records]
        mask_paths = [str(r.mask) if r.mask is not None else "" for r in records]
        jpeg = np.array([j for j, _ in plan], bool)
        ds = tf.data.Dataset.from_tensor_slices((paths, mask_paths, labels, jpeg))

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
