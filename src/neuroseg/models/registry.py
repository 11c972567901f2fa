"""Model registry: presets as plain dicts, ``create_model`` and ``list_models``."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import keras

from neuroseg.errors import UnknownNameError
from neuroseg.models.resunet import ResUNet

__all__ = ["ModelSpec", "create_model", "get_spec", "list_models", "register_model"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model preset.

    Attributes:
        name: Registry name, e.g. ``"resunet-small"``.
        builder: Callable returning a Keras model from keyword arguments.
        task: ``"segmentation"``, ``"classification"`` or ``"multitask"``.
        kwargs: Default keyword arguments for ``builder``.
        description: One line for ``neuroseg models list``.
    """

    name: str
    builder: Any
    task: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a preset to the registry (replacing one of the same name)."""
    _REGISTRY[spec.name] = spec
    return spec


def list_models(pattern: str | None = None) -> list[str]:
    """Return the sorted registry names, optionally filtered by a glob ``pattern``.

    Example:
        >>> "resunet-small" in list_models("resunet*")
        True
    """
    names = sorted(_REGISTRY)
    if pattern is not None:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    return names


def get_spec(name: str) -> ModelSpec:
    """Return the preset called ``name``.

    Raises:
        UnknownNameError: No such preset; the message lists the valid names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(
            f"Unknown model {name!r}. Valid names: {', '.join(list_models())}."
        ) from None


def create_model(name: str, **kwargs: Any) -> keras.Model:
    """Build a registered model; ``kwargs`` override the preset's defaults.

    Args:
        name: A name from :func:`list_models`.
        **kwargs: Constructor arguments, e.g. ``input_shape=(128, 128, 1)``.

    Returns:
        An un-compiled Keras model.

    Raises:
        UnknownNameError: Unknown name; the message lists the valid names.

    Example:
        >>> model = create_model("resunet-small", input_shape=(64, 64, 1))
        >>> model.output_shape
        (None, 64, 64, 1)
    """
    spec = get_spec(name)
    return spec.builder(**{**spec.kwargs, **kwargs})


register_model(
    ModelSpec(
        "resunet-small",
        ResUNet,
        "segmentation",
        {"input_shape": (256, 256, 1), "depth": 3, "base_filters": 16, "name": "resunet_small"},
        "ResUNet, 3 levels, 16-128 filters: fast CPU training and the quickstart",
    )
)
register_model(
    ModelSpec(
        "resunet-base",
        ResUNet,
        "segmentation",
        {"input_shape": (256, 256, 1), "depth": 4, "base_filters": 32, "name": "resunet_base"},
        "ResUNet, 4 levels, 32-512 filters",
    )
)
