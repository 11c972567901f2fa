"""Export to TFLite: float32, float16 and full-integer int8 with a representative dataset."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError, ModelError

__all__ = ["QUANTIZATIONS", "export_tflite"]

#: Accepted ``quantize`` values (``None`` = float32).
QUANTIZATIONS = (None, "float16", "int8")


def _input_shape(model: Any, input_size: tuple[int, int] | None) -> tuple[int, int, int, int]:
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[3] is None:
        raise ModelError(f"{model.name}: input shape {shape} is not (N, H, W, C).")
    h, w = shape[1], shape[2]
    if h is None or w is None:
        if input_size is None:
            raise ModelError(
                f"{model.name} accepts any image size; pass input_size=(H, W) to fix the "
                "exported model's size."
            )
        h, w = input_size
    elif input_size is not None and tuple(input_size) != (h, w):
        raise ModelError(
            f"{model.name}: input_size={tuple(input_size)} but the model is fixed at {(h, w)}."
        )
    return 1, int(h), int(w), int(shape[3])


def export_tflite(
    model: Any,
    path: str | os.PathLike[str],
    *,
    quantize: str | None = None,
    representative_data: np.ndarray | None = None,
    input_size: tuple[int, int] | None = None,
) -> Path:
    """Convert a Keras model to a TFLite flatbuffer with a batch-1 input.

    The model is traced into a SavedModel (``keras.export.ExportArchive``, inference mode)
    and converted with ``tf.lite.TFLiteConverter``:

    - ``quantize=None``: float32 weights and activations;
    - ``"float16"``: float16 weights (computed in float32 on CPUs);
    - ``"int8"``: full-integer quantisation: int8 weights and activations for every op
      (``TFLITE_BUILTINS_INT8``), calibrated on ``representative_data``. The input and
      output stay float32 (one quantise/dequantise op at each end), so the file is a
      drop-in replacement for the float model.

    Args:
        model: The Keras model.
        path: Output ``.tflite`` file.
        quantize: ``None``, ``"float16"`` or ``"int8"``.
        representative_data: Preprocessed ``(N, H, W, C)`` images from the user's data;
            required for ``"int8"`` (100-300 slices are plenty).
        input_size: ``(H, W)`` for a model that accepts any size.

    Returns:
        The written path.

    Raises:
        ConfigError: Unknown ``quantize`` or missing representative data.
        ModelError: The input shape cannot be fixed.
    """
    import keras
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ConfigError(f"Unknown quantize={quantize!r}; choose float16 or int8 (or None).")
    shape = _input_shape(model, input_size)
    if quantize == "int8":
        if representative_data is None or len(representative_data) == 0:
            raise ConfigError(
                "int8 quantisation needs representative_data: preprocessed images from your "
                "own data (e.g. --data FORMAT:PATH on the command line)."
            )
        rep = np.asarray(representative_data, np.float32)
        if tuple(rep.shape[1:]) != shape[1:]:
            raise ModelError(
                f"representative_data has shape {rep.shape[1:]} per image but the exported "
                f"model takes {shape[1:]}."
            )
    with tempfile.TemporaryDirectory(prefix="neuroseg-export-") as tmp:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            "serve",
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec(shape, tf.float32, name="image")],
        )
        archive.write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if quantize == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif quantize == "int8":

            def gen() -> Iterator[list[np.ndarray]]:
                for img in rep:
                    yield [img[None]]

            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = gen
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.float32
            converter.inference_output_type = tf.float32
        flat = converter.convert()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(flat)
    return out
