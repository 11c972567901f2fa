"""Reproducible seeding."""

from __future__ import annotations

import keras

__all__ = ["set_seed"]


def set_seed(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy and the Keras backend (TensorFlow or JAX).

    Args:
        seed: The seed.
        deterministic: Also make TensorFlow ops deterministic
            (``tf.config.experimental.enable_op_determinism``). This is process-wide and
            slows some ops; with it, two runs with the same seed give identical weights.

    Example:
        >>> set_seed(0)
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
