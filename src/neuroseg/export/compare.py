"""Export a model and measure what it costs: size, latency and accuracy vs Keras."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError, EmptyDatasetError
from neuroseg.metrics.overlap import dice
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
    outputs: dict[str, np.ndarray],
    dataset: SliceDataset,
    threshold: float,
    to_frame: Callable[[np.ndarray, tuple[int, ...], int], np.ndarray],
) -> dict[str, float]:
    """Per-image mean Dice (at each image's own size) and/or accuracy of model outputs."""
    out: dict[str, float] = {}
    if "mask" in outputs:
        dices = []
        for i, (prob, record) in enumerate(zip(outputs["mask"], dataset)):
            truth = record.load_mask()
            if truth is None:
                continue
            fg = prob[..., 0] if prob.shape[-1] == 1 else 1.0 - prob[..., 0]
            full = to_frame(fg, truth.shape, i)
            dices.append(float(dice(truth != 0, full >= threshold)))
        if dices:
            out["dice"] = float(np.mean(dices))
    if "label" in outputs:
        labels = dataset.labels
        have = labels >= 0
        if have.any():
            pred = outputs["label"].argmax(axis=-1)
            out["accuracy"] = float(np.mean(pred[have] == labels[have]))
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
    threshold: float = 0.5,
    crop: str | None = None,
    repeats: int = 30,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Compare a Keras model with its exported file on a validation dataset.

    Both run on the same preprocessed images (the :class:`~neuroseg.inference.Predictor`'s
    preprocessing, with ``crop`` as there: ``"brain"`` for a model trained on cropped
    slices). Dice is the per-image mean at each image's own size (probabilities
    mapped back into the frame as the Predictor does, then thresholded); accuracy is the
    fraction of correct classes.

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
        threshold: Foreground threshold of segmentation probabilities.
        crop: The Predictor's ``crop`` (``"brain"`` or ``None``).
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
    from neuroseg.inference.predictor import Predictor, _split_outputs

    if len(dataset) == 0:
        raise EmptyDatasetError(f"{dataset.name}: no validation items to compare on.")
    runner = load_exported(exported)
    h, w = runner.input_shape[1], runner.input_shape[2]
    predictor = Predictor(
        model, image_size=(h, w) if h is not None and w is not None else None, crop=crop
    )
    prepared = [
        predictor._prepare(r.load_image(), r.source or "record")
        for r in progress_bar(dataset, description="export: reading", enabled=progress)
    ]
    images = np.stack([x for x, _ in prepared])
    keras_arrays = _run_batches(
        lambda x: _split_outputs(model, model(x, training=False)),
        images,
        description="export: Keras",
        enabled=progress,
    )
    exported_arrays = _run_batches(
        runner, images, description=f"export: {runner.kind}", enabled=progress
    )
    one = images[:1]
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    one_t = tf.constant(one)
    report: dict[str, Any] = {
        "format": runner.kind,
        "file": str(runner.path),
        "size_bytes": int(runner.path.stat().st_size),
        "n_items": len(dataset),
        "input_shape": [int(d) for d in images.shape[1:]],
        "cpu_count": os.cpu_count(),
    }
    timed = interleaved_latency_ms(
        {
            "keras": lambda: tf.nest.map_structure(lambda t: t.numpy(), call(one_t)),
            "exported": lambda: runner.run_one(one),
        },
        repeats=repeats,
    )
    report["latency_ms_keras"] = timed["keras"]
    report["latency_ms_exported"] = timed["exported"]
    report["latency_ms_keras_predict"] = median_latency_ms(
        lambda: model.predict(one, verbose=0), repeats=max(repeats // 3, 5)
    )
    report["latency_ratio"] = report["latency_ms_exported"] / report["latency_ms_keras"]

    def to_frame(prob: np.ndarray, shape: tuple[int, ...], i: int) -> np.ndarray:
        return predictor._to_frame(prob, shape, prepared[i][1])  # undo crop and resize

    ks = _scores(keras_arrays, dataset, threshold, to_frame)
    es = _scores(exported_arrays, dataset, threshold, to_frame)
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
) -> dict[str, Any]:
    """Export ``model`` and, with ``data``, compare it with Keras on that data.

    ``int8`` quantisation draws its representative images from ``data`` (up to
    ``n_representative``, sampled with ``seed``), preprocessed like the model's input.

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
    predictor = Predictor(model)  # a pretrained name brings its card's threshold and crop
    keras_model = predictor.model
    size = predictor.input_size
    rep = None
    if quantize == "int8":
        if data is None or len(data) == 0:
            raise ConfigError(
                "int8 quantisation needs a representative dataset: pass data (--data "
                "FORMAT:PATH) drawn from the images the model will see."
            )
        rng = np.random.default_rng(seed)
        idx = rng.permutation(len(data))[:n_representative]
        rep = np.stack(
            [
                predictor.preprocess(data[int(i)].load_image(), source="data")
                for i in progress_bar(
                    idx, description="export: calibration images", enabled=progress
                )
            ]
        )
        size = size or (rep.shape[1], rep.shape[2])
    if format == "tflite":
        if size is None and data is not None:
            size = predictor._target_size(data[0].load_image().shape[:2])
        path = export_tflite(
            keras_model, out, quantize=quantize, representative_data=rep, input_size=size
        )
    else:
        path = export_onnx(keras_model, out)
    report: dict[str, Any]
    if data is not None:
        report = compare_export(
            keras_model,
            path,
            data,
            threshold=predictor.threshold,
            crop=predictor.crop,
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
