"""Run exported models (TFLite or ONNX) with the same output convention as the Predictor."""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg._optional import require
from neuroseg.errors import ModelError, ReadError

__all__ = ["ExportedModel", "load_exported"]


class ExportedModel:
    """A loaded ``.tflite`` or ``.onnx`` model.

    Calling it on an ``(N, H, W, C)`` batch (float32 prepared slices, or raw uint8 slices
    for a file with the preparation inside: ``input_dtype``) returns ``{"mask": (N, H, W, c)}``
    and/or ``{"label": (N, K)}``, like the Keras model seen through the
    :class:`~neuroseg.inference.Predictor`. TFLite files have a batch-1 input, so a batch
    is run image by image.

    Attributes:
        path: The file.
        kind: ``"tflite"`` or ``"onnx"``.
        input_shape: The input shape, ``None`` for a dynamic dimension.
        input_dtype: ``uint8`` (raw slices; the file prepares them) or ``float32``.
        input_quantization: ``(scale, zero_point)`` of a quantised input, ``(0.0, 0)``
            when the input is not quantised.
    """

    def __init__(self, path: str | os.PathLike[str], *, num_threads: int | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"{self.path}: no such exported model file.")
        suffix = self.path.suffix.lower()
        threads = num_threads or os.cpu_count() or 1
        if suffix == ".tflite":
            self.kind = "tflite"
            self._interp = _tflite_interpreter(self.path, threads)
            self._interp.allocate_tensors()
            self._in = self._interp.get_input_details()[0]
            self._outs = self._interp.get_output_details()
            self.input_shape: tuple[int | None, ...] = tuple(int(d) for d in self._in["shape"])
            self.input_dtype = np.dtype(self._in["dtype"])
            scale, zero = self._in.get("quantization", (0.0, 0))
            self.input_quantization: tuple[float, int] = (float(scale), int(zero))
        elif suffix == ".onnx":
            self.kind = "onnx"
            ort = require("onnxruntime", extra="export", purpose="running ONNX models")
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            try:
                self._sess = ort.InferenceSession(
                    str(self.path), opts, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own exception types
                raise ReadError(f"{self.path}: onnxruntime cannot load it ({exc}).") from exc
            inp = self._sess.get_inputs()[0]
            self._in_name = inp.name
            self.input_shape = tuple(d if isinstance(d, int) else None for d in inp.shape)
            self.input_dtype = np.dtype(np.uint8 if "uint8" in inp.type else np.float32)
            self.input_quantization = (0.0, 0)
        else:
            raise ModelError(f"{self.path}: unknown exported format; expected .tflite or .onnx.")

    def run_one(self, image: np.ndarray) -> list[np.ndarray]:
        """Run one ``(1, H, W, C)`` input; returns the raw outputs."""
        x = np.ascontiguousarray(image, self.input_dtype)
        if self.kind == "tflite":
            self._interp.set_tensor(self._in["index"], x)
            self._interp.invoke()
            return [np.array(self._interp.get_tensor(o["index"])) for o in self._outs]
        return list(self._sess.run(None, {self._in_name: x}))

    def __call__(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        x = np.asarray(batch)
        if self.input_dtype == np.uint8 and x.dtype != np.uint8:
            raise ModelError(
                f"{self.path}: the file takes raw 8-bit slices (its preparation is inside); "
                f"got {x.dtype}. Feed the pixels (see {self.path.name}.json)."
            )
        x = x.astype(self.input_dtype, copy=False)
        want = self.input_shape[1:]
        if x.ndim != 4 or any(w is not None and w != g for w, g in zip(want, x.shape[1:])):
            raise ModelError(
                f"{self.path}: input of shape {x.shape[1:]} but the model takes {want}."
            )
        if self.kind == "tflite":
            runs = [self.run_one(img[None]) for img in x]
            outs = [np.concatenate([r[i] for r in runs]) for i in range(len(runs[0]))]
        else:
            outs = self.run_one(x)
        result: dict[str, np.ndarray] = {}
        for arr in outs:
            a = np.asarray(arr, np.float32)
            if a.ndim == 4 and "mask" not in result:
                result["mask"] = a
            elif a.ndim == 2 and "label" not in result:
                result["label"] = a
            else:
                raise ModelError(f"{self.path}: unexpected output of shape {a.shape}.")
        return result


def _tflite_interpreter(path: Path, threads: int) -> Any:
    try:
        litert = importlib.import_module("ai_edge_litert.interpreter")
        return litert.Interpreter(model_path=str(path), num_threads=threads)
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():  # tf.lite.Interpreter warns it is deprecated
            warnings.simplefilter("ignore", UserWarning)
            return tf.lite.Interpreter(model_path=str(path), num_threads=threads)


def load_exported(path: str | os.PathLike[str], *, num_threads: int | None = None) -> ExportedModel:
    """Load a ``.tflite`` or ``.onnx`` file as an :class:`ExportedModel`.

    Raises:
        ModelError: Missing file or unknown suffix.
    """
    return ExportedModel(path, num_threads=num_threads)
