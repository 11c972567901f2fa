"""Resolve the MODEL argument: a ``.keras`` file, a pretrained name or a Keras model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from neuroseg.errors import ModelError

__all__ = ["resolve_model"]


def resolve_model(model: Any) -> Any:
    """Return a Keras model from a ``.keras`` path, a pretrained model name or a model.

    A string or path naming an existing file (or ending in ``.keras``) is loaded with
    :func:`neuroseg.models.load_model` (``safe_mode=True``). Any other string is looked up
    as a registry name; it resolves only when pretrained weights are available for it
    (through ``neuroseg.models.load_pretrained`` when that exists), because an untrained
    preset cannot predict anything.

    Args:
        model: A ``keras.Model``, a path, or a pretrained model name.

    Returns:
        The ``keras.Model``.

    Raises:
        ModelError: Missing file, not a ``.keras`` archive, or a name with no weights.
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
    if path.suffix == ".keras" or path.exists() or os.sep in text or "/" in text:
        return models.load_model(path, compile=False)
    models.get_spec(text)  # raises UnknownNameError listing the valid names
    loader = getattr(models, "load_pretrained", None)
    if loader is None:
        raise ModelError(
            f"{text!r} is a model preset but no pretrained weights are published for it in "
            "this version of neuroseg. Train one (neuroseg quickstart, neuroseg.train.fit) "
            "and pass the path of its .keras file."
        )
    return loader(text)
