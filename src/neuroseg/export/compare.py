"""Export a model and measure what it costs: size, latency and accuracy vs Keras."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.preprocessor import SlicePreprocessor
from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError, EmptyDatasetError
from neuroseg.progress import Progress
from neuroseg.progress import progress as progress_bar

__all__ = [
    "FORMATS",
    "compare_export",
    "export_model",
    "interleaved_latency_ms",
    "median_latency_ms",
]

#: Export formats.
FORMATS = ("tflite", "onnx")


def median_latency_ms(fn: Callable[[], Any], *, repeats: int = 30, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in milliseconds, after ``warmup`` untimed calls.

    Example:
        >>> median_latency_ms(lambda: sum(range(100)), repeats=5) >= 0
        True
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1e3)


def interleaved_latency_ms(
    fns: dict[str, Callable[[], Any]], *, repeats: int = 30, warmup: int = 3
) -> dict[str, float]:
    """Median wall time (ms) of each function, timed in alternation.

    Each round calls every function once, so a change in machine load (a shared CPU)
    affects all of them alike and the ratios between the medians stay fair.

    Example:
        >>> sorted(interleaved_latency_ms({"a": lambda: None, "b": lambda: None}, repeats=3))
        ['a', 'b']
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: float(np.median(v) * 1e3) for name, v in times.items()}


def _scores(
    probs: list[np.ndarray] | None,
    labels: np.ndarray | None,
    dataset: SliceDataset,
    predictor: Any,
) -> dict[str, float]:
    """Per-image mean Dice and/or accuracy through the metrics core (own-frame outputs).

    ``probs`` are foreground probability maps already in each image's frame; they are
    thresholded and post-processed exactly as :class:`~neuroseg.inference.Predictor` does.
    """
    from neuroseg.inference.postprocess import postprocess_mask
    from neuroseg.metrics.evaluation import evaluate_classification, evaluate_segmentation

    out: dict[str, float] = {}
    if probs is not None:
        truths, preds = [], []
        for prob, record in zip(probs, dataset):
            truth = record.load_mask()
            if truth is None:
                continue
            truths.append(truth != 0)
            preds.append(
                postprocess_mask(
                    prob,
                    threshold=predictor.threshold,
                    min_size=predictor.min_size,
                    largest_component=predictor.largest_component,
                    fill_holes=predictor.fill_holes,
                )
            )
        if truths:
            seg = evaluate_segmentation(truths, preds, metrics=("dice",), n_bootstrap=1)
            out["dice"] = float(seg.summary["metrics"]["dice"]["per_image"]["mean"])
    if labels is not None:
        truth_labels = dataset.labels
        have = truth_labels >= 0
        if have.any():
            cls = evaluate_classification(truth_labels[have], labels[have], n_bootstrap=1)
            out["accuracy"] = float(cls.summary["accuracy"])
    return out


def _run_batches(
    fn: Callable[[np.ndarray], dict[str, np.ndarray]],
    images: np.ndarray,
    *,
    description: str,
    enabled: bool | None,
    batch: int = 8,
) -> dict[str, np.ndarray]:
    """``fn`` over ``images`` in batches, outputs concatenated, with a progress bar."""
    parts: dict[str, list[np.ndarray]] = {}
    with Progress(len(images), description=description, enabled=enabled) as bar:
        for start in range(0, len(images), batch):
            chunk = images[start : start + batch]
            for k, v in fn(chunk).items():
                parts.setdefault(k, []).append(np.asarray(v))
            bar.update(len(chunk))
    return {k: np.concatenate(v) for k, v in parts.items()}


def compare_export(
    model: Any,
    exported: str | os.PathLike[str],
    dataset: SliceDataset,
    *,
    threshold: float | None = None,
    crop: str | None = None,
    preprocessor: SlicePreprocessor | None = None,
    repeats: int = 30,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Compare a Keras model, seen through the Predictor, with its exported file.

    The Keras side prepares each slice with the
    :class:`~neuroseg.inference.Predictor`'s :class:`~neuroseg.data.SlicePreprocessor`.
    A file with the preparation inside (uint8 input) gets the raw 8-bit slices, only
    cropped and resized (:meth:`~neuroseg.data.SlicePreprocessor.prepare_raw`); a float
    file gets the same prepared input as Keras. Both outputs are pasted back into each
    image's frame (:meth:`~neuroseg.data.SlicePreprocessor.invert`), thresholded and
    post-processed as the Predictor does, and scored by the metrics core: Dice is the
    per-image mean at each image's own size; accuracy the fraction of correct classes.

    Latencies are medians at batch 1 on this CPU over ``repeats`` calls after warm-up,
    timed in alternation (:func:`interleaved_latency_ms`) so that load from other
    processes hits all of them alike: ``latency_ms_keras`` is a ``tf.function``-compiled
    call of the model (the fair baseline: no ``model.predict`` overhead),
    ``latency_ms_keras_predict`` is ``model.predict`` on one image,
    ``latency_ms_exported`` one interpreter/session run.

    Args:
        model: The Keras model.
        exported: Its ``.tflite`` or ``.onnx`` file.
        dataset: Validation records.
        threshold: Foreground threshold of segmentation probabilities; ``None``: the
            Predictor's (a pretrained model's own, else 0.5).
        crop: The Predictor's ``crop`` (``"brain"`` or ``None``; default the
            preprocessor's).
        preprocessor: The model's :class:`~neuroseg.data.SlicePreprocessor`; ``None``:
            the one saved with the model.
        repeats: Timed calls per latency.
        progress: Draw progress bars (reading, running both models) on standard error:
            ``None`` on a terminal only, ``False`` never.

    Returns:
        A dict with ``size_bytes``, the latencies, ``dice_keras``/``dice_exported``
        and/or ``accuracy_keras``/``accuracy_exported``, their ``*_delta`` and ``n_items``.

    Raises:
        EmptyDatasetError: The dataset is empty.
    """
    import tensorflow as tf

    from neuroseg.export.runtime import load_exported
    from neuroseg.inference.outputs import foreground, split_outputs
    from neuroseg.inference.predictor import Predictor

    if len(dataset) == 0:
        raise EmptyDatasetError(f"{dataset.name}: no validation items to compare on.")
    runner = load_exported(exported)
    h, w = runner.input_shape[1], runner.input_shape[2]
    predictor = Predictor(
        model,
        image_size=(h, w) if h is not None and w is not None else None,
        crop=crop,
        threshold=threshold,
        preprocessor=preprocessor,
        tta=False,  # the exported file runs once per image: compare like with like
    )
    raw = runner.input_dtype == np.uint8
    pre = predictor.preprocessor
    prepared, raw_images = [], []
    for r in progress_bar(dataset, description="export: reading", enabled=progress):
        image = r.load_image()
        source = r.source or "record"
        if raw:  # the file prepares the pixels itself: give it 8-bit slices at its size
            pixels, done = pre.prepare_raw(image, channels=runner.input_shape[3], source=source)
            raw_images.append(pixels)
            prepared.append(done)
        else:
            prepared.append(predictor.prepare(image, source=source))
    images = np.stack([p.array for p in prepared])
    keras_arrays = _run_batches(
        lambda x: split_outputs(model, model(x, training=False)),
        images,
        description="export: Keras",
        enabled=progress,
    )
    exported_in = np.stack(raw_images) if raw else images
    exported_arrays = _run_batches(
        runner, exported_in, description=f"export: {runner.kind}", enabled=progress
    )
    one = images[:1]
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    one_t = tf.constant(one)
    report: dict[str, Any] = {
        "format": runner.kind,
        "file": str(runner.path),
        "size_bytes": int(runner.path.stat().st_size),
        "n_items": len(dataset),
        "input_shape": [int(d) for d in exported_in.shape[1:]],
        "input_dtype": str(exported_in.dtype),
        "preprocessing_in_file": raw,
        "cpu_count": os.cpu_count(),
    }
    timed = interleaved_latency_ms(
        {
            "keras": lambda: tf.nest.map_structure(lambda t: t.numpy(), call(one_t)),
            "exported": lambda: runner.run_one(exported_in[:1]),
        },
        repeats=repeats,
    )
    report["latency_ms_keras"] = timed["keras"]
    report["latency_ms_exported"] = timed["exported"]
    report["latency_ms_keras_predict"] = median_latency_ms(
        lambda: model.predict(one, verbose=0), repeats=max(repeats // 3, 5)
    )
    report["latency_ratio"] = report["latency_ms_exported"] / report["latency_ms_keras"]

    def frames(arrays: dict[str, np.ndarray]) -> list[np.ndarray] | None:
        if "mask" not in arrays:
            return None
        fg = foreground(arrays["mask"])
        return [pre.invert(p, done) for p, done in zip(fg, prepared)]  # undo crop and resize

    def labels(arrays: dict[str, np.ndarray]) -> np.ndarray | None:
        return arrays["label"].argmax(axis=-1) if "label" in arrays else None

    ks = _scores(frames(keras_arrays), labels(keras_arrays), dataset, predictor)
    es = _scores(frames(exported_arrays), labels(exported_arrays), dataset, predictor)
    for key in ks:
        report[f"{key}_keras"] = ks[key]
        report[f"{key}_exported"] = es[key]
        report[f"{key}_delta"] = es[key] - ks[key]
    return report


def export_model(
    model: Any,
    out: str | os.PathLike[str],
    *,
    format: str = "tflite",
    quantize: str | None = None,
    data: SliceDataset | None = None,
    n_representative: int = 200,
    json_out: str | os.PathLike[str] | None = None,
    seed: int = 0,
    progress: bool | None = None,
    include_preprocessing: bool = True,
    raw_channels: int | None = None,
    preprocessor: SlicePreprocessor | None = None,
) -> dict[str, Any]:
    """Export ``model`` and, with ``data``, compare it with the Predictor on that data.

    By default the file carries the model's preparation (``include_preprocessing``): it
    takes raw 8-bit slices at the model's size and converts channels and normalises
    itself; an app only crops (brain-cropped models) and resizes. ``<out>.json`` records
    the input and the preprocessing. ``int8`` quantisation draws its representative
    images from ``data`` (up to ``n_representative``, sampled with ``seed``), in the form
    the file takes them.

    Args:
        model: A ``keras.Model``, ``.keras`` path or pretrained name.
        out: Output file (``.tflite`` or ``.onnx``).
        format: ``"tflite"`` or ``"onnx"``.
        quantize: ``None``, ``"float16"`` or ``"int8"`` (TFLite only).
        data: Validation records (also the representative set for int8).
        n_representative: Most images used to calibrate int8.
        json_out: Write the report here as JSON.
        seed: Seed for drawing the representative images.
        progress: Draw progress bars (calibration images, the comparison) on standard
            error: ``None`` on a terminal only, ``False`` never.
        include_preprocessing: Put the channel conversion and normalisation in the file
            (uint8 input); ``False`` keeps a float32 input of prepared slices.
        raw_channels: Channels of the raw slices the file takes (default the model's).
        preprocessor: The model's preprocessor; ``None``: the one saved with it.

    Returns:
        The report (see :func:`compare_export`); ``{"format", "file", "size_bytes"}``
        when no data is given.

    Raises:
        ConfigError: Unknown format, quantisation with ONNX, or int8 without data.
    """
    from neuroseg.export.onnx import export_onnx
    from neuroseg.export.tflite import export_tflite
    from neuroseg.inference.predictor import Predictor

    if format not in FORMATS:
        raise ConfigError(f"Unknown export format {format!r}; choose {' or '.join(FORMATS)}.")
    if format == "onnx" and quantize is not None:
        raise ConfigError("--quantize applies to TFLite only; export ONNX without it.")
    # a pretrained name or a saved model brings its preprocessor, threshold and crop
    predictor = Predictor(model, preprocessor=preprocessor)
    keras_model = predictor.model
    pre = predictor.preprocessor
    size = predictor.input_size
    if size is None and data is not None and len(data) > 0:
        size = pre.target_size(pre.prepare(data[0].load_image(), source="data").shape)
        pre = type(pre).from_config({**pre.get_config(), "image_size": size})
    rep = None
    if quantize == "int8":
        if data is None or len(data) == 0:
            raise ConfigError(
                "int8 quantisation needs a representative dataset: pass data (--data "
                "FORMAT:PATH) drawn from the images the model will see."
            )
        rng = np.random.default_rng(seed)
        idx = rng.permutation(len(data))[:n_representative]
        images = [
            data[int(i)].load_image()
            for i in progress_bar(idx, description="export: calibration images", enabled=progress)
        ]
        if include_preprocessing:
            # the channels the file takes (raw_channels, else the model's), so that grey and
            # RGB calibration images stack into one batch
            file_channels = raw_channels or int(keras_model.input_shape[-1])
            rep = np.stack(
                [pre.prepare_raw(img, channels=file_channels, source="data")[0] for img in images]
            )
        else:
            rep = np.stack([pre.prepare_array(img, source="data") for img in images])
    in_file = pre if include_preprocessing else None
    if format == "tflite":
        path = export_tflite(
            keras_model,
            out,
            quantize=quantize,
            representative_data=rep,
            input_size=size,
            preprocessor=in_file,
            raw_channels=raw_channels,
        )
    else:
        path = export_onnx(
            keras_model, out, preprocessor=in_file, raw_channels=raw_channels, input_size=size
        )
    report: dict[str, Any]
    if data is not None:
        report = compare_export(
            keras_model,
            path,
            data,
            threshold=predictor.threshold,
            preprocessor=pre,
            progress=progress,
        )
    else:
        report = {"format": format, "file": str(path), "size_bytes": path.stat().st_size}
    report["quantize"] = quantize or "none"
    if json_out is not None:
        p = Path(json_out)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(report, indent=2) + "\n")
    return report
