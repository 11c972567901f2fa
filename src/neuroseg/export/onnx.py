"""Export to ONNX with tf2onnx, checked with onnxruntime."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuroseg._optional import require
from neuroseg.errors import ModelError

if TYPE_CHECKING:
    from neuroseg.data.preprocessor import SlicePreprocessor

__all__ = ["export_onnx"]


def export_onnx(
    model: Any,
    path: str | os.PathLike[str],
    *,
    opset: int = 17,
    check: bool = True,
    atol: float = 1e-3,
    preprocessor: SlicePreprocessor | None = None,
    raw_channels: int | None = None,
    input_size: tuple[int, int] | None = None,
) -> Path:
    """Convert a Keras model to ONNX (dynamic batch) and check it with onnxruntime.

    With ``preprocessor``, the file takes raw 8-bit slices at the model's size and
    converts channels and normalises itself (as
    :func:`~neuroseg.export.tflite.with_preprocessing`). The input and the preprocessing
    are recorded in the ONNX file's metadata (``neuroseg`` property, JSON) and in
    ``<file>.json`` beside it.

    Uses ``tf2onnx.convert.from_keras`` (extra ``export``). With ``check``, the ONNX model
    is run with onnxruntime on two random inputs and its outputs must match Keras within
    ``atol``.

    Args:
        model: The Keras model (fixed height and width, or ``None`` sizes).
        path: Output ``.onnx`` file.
        opset: ONNX opset.
        check: Verify with onnxruntime.
        atol: Largest absolute difference allowed by the check.
        preprocessor: Put this preparation inside the file (raw uint8 input).
        raw_channels: With ``preprocessor``: the raw slices' channels.
        input_size: ``(H, W)`` for a size-agnostic model exported with ``preprocessor``.

    Returns:
        The written path.

    Raises:
        MissingDependencyError: tf2onnx or onnxruntime is not installed.
        ModelError: The check failed.
    """
    import keras
    import tensorflow as tf

    from neuroseg.export.metadata import export_metadata, metadata_path
    from neuroseg.export.raw_input import with_preprocessing

    tf2onnx = require("tf2onnx", extra="export", purpose="ONNX export")
    onnx = require("onnx", extra="export", purpose="ONNX export")
    graph = model
    if preprocessor is not None:
        shape = tuple(model.input_shape)
        if (shape[1] is None or shape[2] is None) and input_size is not None:
            fixed = keras.Input((*input_size, shape[3]), name="image")
            graph = keras.Model(fixed, model(fixed), name=model.name)
        graph = with_preprocessing(graph, preprocessor, raw_channels=raw_channels)
    shape = tuple(graph.input_shape)
    dtype = tf.uint8 if preprocessor is not None else tf.float32
    spec = (tf.TensorSpec((None, *shape[1:]), dtype, name="image"),)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    proto, _ = tf2onnx.convert.from_keras(graph, input_signature=spec, opset=opset)
    meta = export_metadata(preprocessor, (1, *shape[1:]), raw=preprocessor is not None)
    meta["quantize"] = "none"
    onnx.helper.set_model_props(proto, {"neuroseg": json.dumps(meta)})
    out.write_bytes(proto.SerializeToString())
    metadata_path(out).write_text(json.dumps(meta, indent=2) + "\n")
    if check:
        from neuroseg.export.runtime import load_exported
        from neuroseg.inference.outputs import split_outputs

        h, w = (d if d is not None else 64 for d in shape[1:3])
        rng = np.random.default_rng(0)
        x: np.ndarray
        if preprocessor is not None:
            x = rng.integers(0, 256, (2, h, w, shape[3]), dtype=np.uint8)
        else:
            x = rng.random((2, h, w, shape[3]), dtype=np.float32)
        got = load_exported(out)(x)
        want = split_outputs(graph, graph(x, training=False))
        for key, value in want.items():
            diff = float(np.max(np.abs(got[key] - value)))
            if diff > atol:
                raise ModelError(
                    f"{out}: onnxruntime {key} output differs from Keras by {diff:.2e} (> {atol})."
                )
    return out
