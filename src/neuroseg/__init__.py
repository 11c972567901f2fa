"""neuroseg: brain-tumour MRI segmentation and classification on TensorFlow/Keras 3.

The subpackages are imported on first use, so ``import neuroseg`` stays cheap:

- :mod:`neuroseg.data`: loaders, splits, preprocessing and ``tf.data`` pipelines;
- :mod:`neuroseg.models`: ResUNet blocks and models, and the model registry;
- :mod:`neuroseg.metrics`: Dice, IoU, precision and recall, with losses;
- :mod:`neuroseg.train`: the fit helper;
- :mod:`neuroseg.inference`: prediction, pictures, Grad-CAM, evaluation and reports;
- :mod:`neuroseg.export`: TFLite and ONNX export.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from neuroseg import registration
from neuroseg.errors import NeurosegError
from neuroseg.version import __version__

if TYPE_CHECKING:
    from neuroseg import data, export, inference, metrics, models, train

__all__ = [
    "NeurosegError",
    "__version__",
    "data",
    "export",
    "inference",
    "metrics",
    "models",
    "train",
]

# The one import-time action: a plain keras.saving.load_model() finds neuroseg's classes
# (registered when Keras loads; see neuroseg.registration). Imports no TensorFlow.
registration.install_import_hook()

_SUBPACKAGES = {"data", "export", "inference", "metrics", "models", "train"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"neuroseg.{name}")
    raise AttributeError(f"module 'neuroseg' has no attribute {name!r}")
