"""Loading saved neuroseg models safely."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from neuroseg.errors import ModelError

__all__ = ["load_model"]


def load_model(path: str | os.PathLike[str], *, compile: bool = True, **kwargs: Any) -> keras.Model:
    """Load a ``.keras`` file with ``safe_mode=True`` after registering neuroseg's classes.

    A plain ``keras.saving.load_model`` works too once ``neuroseg.models`` and
    ``neuroseg.metrics`` are imported; this function does that for you. Legacy formats
    (HDF5, pickled Lambda layers) are refused.

    Args:
        path: The ``.keras`` file.
        compile: Restore the training configuration (optimizer, loss, metrics).
        **kwargs: Passed to ``keras.saving.load_model``.

    Raises:
        ModelError: The file is missing or is not a ``.keras`` archive.
    """
    from neuroseg.registration import register_keras_objects

    register_keras_objects()  # layers, models, metrics, losses and the preprocessor

    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{p}: no such model file. Pass the path of a .keras file.")
    if p.suffix != ".keras":
        raise ModelError(
            f"{p}: not a .keras archive. neuroseg loads only the Keras 3 format, with "
            "safe_mode on; re-save the model with model.save('name.keras')."
        )
    kwargs.setdefault("safe_mode", True)
    return keras.saving.load_model(p, compile=compile, **kwargs)
