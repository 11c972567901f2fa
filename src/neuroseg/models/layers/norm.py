"""Normalisation choice shared by every block: ``"batch"``, ``"group"`` or ``"none"``."""

from __future__ import annotations

from keras import layers

from neuroseg.errors import ConfigError
from neuroseg.models.batch_norm import FusedBatchNormalization

__all__ = ["NORMS", "check_norm", "make_norm"]

#: The accepted ``norm`` options.
NORMS: tuple[str, ...] = ("batch", "group", "none")


def check_norm(norm: str) -> None:
    """Raise :class:`~neuroseg.errors.ConfigError` unless ``norm`` is one of :data:`NORMS`.

    Example:
        >>> check_norm("group")
    """
    if norm not in NORMS:
        raise ConfigError(f"Unknown norm {norm!r}; choose one of {', '.join(NORMS)}.")


def make_norm(norm: str, *, groups: int = 8, name: str | None = None) -> layers.Layer:
    """Return a normalisation layer: ``"batch"``, ``"group"`` or ``"none"`` (identity).

    Args:
        norm: ``"batch"`` (batch normalisation,
            :class:`~neuroseg.models.FusedBatchNormalization`), ``"group"`` (group
            normalisation, good for small batches) or ``"none"`` (identity).
        groups: Groups for group normalisation; must divide the channel count.
        name: Layer name.

    Raises:
        ConfigError: Unknown ``norm``.

    Example:
        >>> make_norm("group", groups=4).groups
        4
    """
    check_norm(norm)
    if norm == "batch":
        return FusedBatchNormalization(name=name)
    if norm == "group":
        return layers.GroupNormalization(groups=groups, name=name)
    return layers.Identity(name=name)
