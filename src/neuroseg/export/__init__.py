"""Export: TFLite (float32, float16, int8) and ONNX, with measured accuracy and latency.

Needs the ``export`` extra for ONNX (``pip install 'neuroseg[export]'``).

Example:
    >>> from neuroseg.export import FORMATS, QUANTIZATIONS
    >>> FORMATS, QUANTIZATIONS
    (('tflite', 'onnx'), (None, 'float16', 'int8'))
"""

# ruff: noqa: E402
# TensorFlow is imported first, quietly (see neuroseg.logs), then the modules using it.
import neuroseg.logs

neuroseg.logs.import_tensorflow()

from neuroseg.export.compare import (
    FORMATS,
    compare_export,
    export_model,
    interleaved_latency_ms,
    median_latency_ms,
)
from neuroseg.export.metadata import export_metadata, metadata_path
from neuroseg.export.onnx import export_onnx
from neuroseg.export.raw_input import with_preprocessing
from neuroseg.export.runtime import ExportedModel, load_exported
from neuroseg.export.tflite import QUANTIZATIONS, export_tflite

__all__ = [
    "FORMATS",
    "QUANTIZATIONS",
    "ExportedModel",
    "compare_export",
    "export_metadata",
    "export_model",
    "export_onnx",
    "export_tflite",
    "interleaved_latency_ms",
    "load_exported",
    "median_latency_ms",
    "metadata_path",
    "with_preprocessing",
]
