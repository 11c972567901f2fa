"""Export to TFLite: float32, float16 and full-integer int8 with a representative dataset."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuroseg.errors import ConfigError, ModelError
from neuroseg.export.metadata import export_metadata, metadata_path
from neuroseg.export.raw_input import with_preprocessing

if TYPE_CHECKING:
    from neuroseg.data.preprocessor import SlicePreprocessor

__all__ = [
    "QUANTIZATIONS",
    "export_metadata",
    "export_tflite",
    "metadata_path",
    "with_preprocessing",
]

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


def _check_raw_input(path: Path) -> None:
    """The int8 file's uint8 input must be the raw pixels: scale 1, zero point 0."""
    from neuroseg.export.runtime import load_exported

    scale, zero = load_exported(path).input_quantization
    if abs(scale - 1.0) > 1e-6 or zero != 0:
        raise ModelError(
            f"{path}: the int8 input was quantised with scale {scale} and zero point {zero}, "
            "not the raw pixels (1, 0); report this with the model."
        )


def export_tflite(
    model: Any,
    path: str | os.PathLike[str],
    *,
    quantize: str | None = None,
    representative_data: np.ndarray | None = None,
    input_size: tuple[int, int] | None = None,
    preprocessor: SlicePreprocessor | None = None,
    raw_channels: int | None = None,
) -> Path:
    """Convert a Keras model to a TFLite flatbuffer with a batch-1 input.

    With ``preprocessor``, the file takes raw 8-bit slices at the model's size and does the
    channel conversion and intensity normalisation itself (:func:`with_preprocessing`), so
    an app only crops (for a brain-cropped model) and resizes. Either way
    ``<file>.json`` records the input and the preprocessing (:func:`export_metadata`).

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
        representative_data: ``(N, H, W, C)`` images from the user's data, as the file
            takes them (raw uint8 with ``preprocessor``, else prepared float32); required
            for ``"int8"`` (100-300 slices are plenty).
        input_size: ``(H, W)`` for a model that accepts any size.
        preprocessor: Put this preparation inside the file (raw uint8 input).
        raw_channels: With ``preprocessor``: the raw slices' channels (default the
            model's; 3 lets an app feed RGB pixels to a grey model).

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
    dtype = tf.float32
    if preprocessor is not None:
        if tuple(model.input_shape[1:3]) != shape[1:3]:  # fix a size-agnostic model's size
            fixed = keras.Input(shape[1:], name="image")
            model = keras.Model(fixed, model(fixed), name=model.name)
        model = with_preprocessing(model, preprocessor, raw_channels=raw_channels)
        shape = (1, shape[1], shape[2], int(model.input_shape[3]))
        # int8: the graph takes the pixel values as float and the converter quantises the
        # input to uint8 with scale 1 and zero point 0 (calibrated on 0..255), i.e. the raw
        # pixels; a uint8 -> float cast inside an int8 graph is not supported
        dtype = tf.float32 if quantize == "int8" else tf.uint8
    if quantize == "int8":
        if representative_data is None or len(representative_data) == 0:
            raise ConfigError(
                "int8 quantisation needs representative_data: preprocessed images from your "
                "own data (e.g. --data FORMAT:PATH on the command line)."
            )
        rep = np.asarray(representative_data, np.float32)
        if preprocessor is not None:  # calibrate the input on the full 8-bit range
            rep = rep.copy()
            rep[:, 0, 0] = 0.0
            rep[:, 0, 1] = 255.0
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
            input_signature=[tf.TensorSpec(shape, dtype, name="image")],
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
            converter.inference_input_type = tf.float32 if preprocessor is None else tf.uint8
            converter.inference_output_type = tf.float32
        flat = converter.convert()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(flat)
    if preprocessor is not None and quantize == "int8":
        _check_raw_input(out)
    meta = export_metadata(preprocessor, shape, raw=preprocessor is not None)
    meta["quantize"] = quantize or "none"
    metadata_path(out).write_text(json.dumps(meta, indent=2) + "\n")
    return out
