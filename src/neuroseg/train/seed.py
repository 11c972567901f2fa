"""Reproducible seeding."""

from __future__ import annotations

import keras

__all__ = ["set_seed"]


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and the Keras backend (TensorFlow or JAX).

    Example:
        >>> set_seed(0)
    """
    keras.utils.set_random_seed(int(seed))
