"""Export to ONNX with tf2onnx, checked with onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg._optional import require
from neuroseg.errors import ModelError

__all__ = ["export_onnx"]


def export_onnx(
    model: Any,
    path: str | os.PathLike[str],
    *,
    opset: int = 17,
    check: bool = True,
    atol: float = 1e-3,
) -> Path:
    """Convert a Keras model to ONNX (dynamic batch) and check it with onnxruntime.

    Uses ``tf2onnx.convert.from_keras`` (extra ``export``). With ``check``, the ONNX model
    is run with onnxruntime on two random inputs and its outputs must match Keras within
    ``atol``.

    Args:
        model: The Keras model (fixed height and width, or ``None`` sizes).
        path: Output ``.onnx`` file.
        opset: ONNX opset.
        check: Verify with onnxruntime.
        atol: Largest absolute difference allowed by the check.

    Returns:
        The written path.

    Raises:
        MissingDependencyError: tf2onnx or onnxruntime is not installed.
        ModelError: The check failed.
    """
    import tensorflow as tf

    tf2onnx = require("tf2onnx", extra="export", purpose="ONNX export")
    shape = tuple(model.input_shape)
    spec = (tf.TensorSpec((None, *shape[1:]), tf.float32, name="image"),)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset, output_path=str(out))
    if check:
        from neuroseg.export.runtime import load_exported
        from neuroseg.inference.predictor import _split_outputs

        h, w = (d if d is not None else 64 for d in shape[1:3])
        x = np.random.default_rng(0).random((2, h, w, shape[3]), dtype=np.float32)
        got = load_exported(out)(x)
        want = _split_outputs(model, model(x, training=False))
        for key, value in want.items():
            diff = float(np.max(np.abs(got[key] - value)))
            if diff > atol:
                raise ModelError(
                    f"{out}: onnxruntime {key} output differs from Keras by {diff:.2e} (> {atol})."
                )
    return out
