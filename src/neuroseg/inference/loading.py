"""Resolve the MODEL argument: a ``.keras`` file, a pretrained name or a Keras model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from neuroseg.errors import ModelError, UnknownNameError

__all__ = ["resolve_model"]

#: Suffixes that make a MODEL argument a file name (refused with a named error when it is
#: not a ``.keras`` archive) rather than a pretrained model's name.
_FILE_SUFFIXES = (".keras", ".h5", ".hdf5", ".pb", ".zip", ".json")


def resolve_model(model: Any) -> Any:
    """Return a Keras model from a ``.keras`` path, a pretrained model name or a model.

    A string or path naming an existing file or folder (or ending in ``.keras``, ``.h5``,
    ...) is loaded with :func:`neuroseg.models.load_model` (``safe_mode=True``), which
    refuses missing, empty, truncated, legacy and unsafe model files by name. Any other
    string is looked up as a pretrained model (:func:`neuroseg.models.load_pretrained`,
    offline); an untrained architecture name is refused, because it cannot predict anything.

    Args:
        model: A ``keras.Model``, a path, or a pretrained model name.

    Returns:
        The ``keras.Model``.

    Raises:
        ModelError: Missing, empty, truncated or corrupt file, not a ``.keras`` archive,
            layers refused by ``safe_mode``, or a name with no weights.
        UnknownNameError: A name that is not in the registry.

    Example:
        >>> from neuroseg.models import create_model
        >>> m = create_model("resunet-small", input_shape=(32, 32, 1))
        >>> resolve_model(m) is m
        True
    """
    import keras

    import neuroseg.models as models

    if isinstance(model, keras.Model):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise ModelError(
            f"Expected a keras.Model, a .keras path or a model name, got {type(model).__name__}."
        )
    path = Path(model)
    text = str(model)
    if not text.strip():
        raise ModelError("The model is an empty string; pass a .keras path or a model name.")
    looks_like_file = path.suffix.lower() in _FILE_SUFFIXES
    if looks_like_file or path.exists() or os.sep in text or "/" in text:
        return models.load_model(path, compile=False)
    if text in models.list_pretrained():
        return models.load_pretrained(text)
    names = models.list_pretrained()
    if text not in models.list_models():
        raise UnknownNameError(
            f"Unknown model {text!r}: not a file, and not a pretrained model "
            f"({', '.join(names) if names else 'none in this installation'})."
        )
    raise ModelError(
        f"{text!r} is an untrained architecture; no pretrained weights are published for it. "
        f"Pretrained models: {', '.join(names) if names else 'none in this installation'}. "
        "Or train one (neuroseg quickstart, neuroseg train) and pass its .keras file."
    )
