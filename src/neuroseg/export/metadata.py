"""What an exported file takes and does, recorded beside it (and inside ONNX files)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuroseg.data.preprocessor import SlicePreprocessor

__all__ = ["export_metadata", "metadata_path"]


def metadata_path(path: str | os.PathLike[str]) -> Path:
    """Where an exported file's metadata lives: ``<file>.json`` beside it.

    Example:
        >>> metadata_path("out/model-int8.tflite").name
        'model-int8.tflite.json'
    """
    p = Path(path)
    return p.with_name(p.name + ".json")


def export_metadata(
    preprocessor: SlicePreprocessor | None,
    input_shape: tuple[int, ...],
    *,
    raw: bool,
) -> dict[str, Any]:
    """What an app needs to feed an exported model: input, preparation, outputs.

    Example:
        >>> from neuroseg.data import SlicePreprocessor
        >>> meta = export_metadata(SlicePreprocessor(image_size=8), (1, 8, 8, 1), raw=True)
        >>> fed, pre = meta["input"], meta["preprocessor"]
        >>> fed.get("dtype"), pre.get("config").get("normalize")
        ('uint8', 'minmax')
    """
    import keras

    meta: dict[str, Any] = {
        "input": {
            "shape": [int(d) for d in input_shape],
            "dtype": "uint8" if raw else "float32",
        },
        "outputs": "segmentation: foreground probability map (N, H, W, 1) at the input size; "
        "classification: class probabilities (N, K)",
    }
    if preprocessor is None:
        meta["in_graph"] = "nothing: feed slices prepared as in training"
        return meta
    meta["preprocessor"] = keras.saving.serialize_keras_object(preprocessor)
    meta["steps"] = preprocessor.describe()
    if raw:
        meta["in_graph"] = "channel conversion and " + preprocessor.describe()["intensity"]
        outside = ["resize the slice to the input size (bilinear, antialiased)"]
        if preprocessor.crop == "brain":
            outside.insert(0, preprocessor.describe()["crop"])
        meta["before_the_graph"] = outside
    return meta
