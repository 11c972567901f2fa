"""Train on the raw weights while validating and saving their moving average.

Keras' ``use_ema`` keeps an exponential moving average of the trainable weights in the
optimizer, and ``model.fit`` *replaces* the weights by that average when it returns
(``finalize_variable_values``). Training that calls ``model.fit`` once per epoch (as
:func:`~neuroseg.train.fit` does, to checkpoint and resume) would then restart every
epoch from the average, which lags the weights by about ``1 / (1 - momentum)`` steps: with
epochs of a few steps it can barely move. :class:`KeepTrainedWeights`, passed to each
``model.fit`` call, keeps the two apart:

- at the end of each epoch, before ``fit`` overwrites them, it copies the trained (raw)
  weights;
- when ``fit`` returns it puts that copy in the optimizer's average slots
  (:func:`store_trained_weights`), so the model holds the average (what was validated,
  what is saved and returned) and the optimizer the raw weights ("swapped");
- when the next ``fit`` begins it swaps the two back (:func:`swap_average`), also after a
  checkpoint saved in that state was loaded, so training continues from the raw weights
  exactly as without an average.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from neuroseg.errors import ConfigError, ModelError

__all__ = ["KeepTrainedWeights", "average_pairs", "store_trained_weights", "swap_average"]


def average_pairs(model: keras.Model) -> list[tuple[Any, Any]]:
    """``(weight, its moving average)`` for each trainable weight of ``model``.

    Empty when the optimizer keeps no average (``use_ema`` off) or has not been built yet
    (no step taken).
    """
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer
    if optimizer is None or not getattr(optimizer, "use_ema", False):
        return []
    # Keras keeps the averages in this (private) list, aligned with its own list of the
    # trainable variables; SwapEMAWeights reads the same two.
    averages = getattr(optimizer, "_model_variables_moving_average", None)
    variables = getattr(optimizer, "_trainable_variables", None)
    if not averages or not variables:
        return []
    if len(averages) != len(variables):
        raise ModelError(
            f"{type(optimizer).__name__} keeps {len(averages)} averages for "
            f"{len(variables)} weights: Keras {keras.__version__} lays out use_ema "
            "differently from the versions neuroseg knows; train without ema_momentum."
        )
    return list(zip(variables, averages))


def swap_average(model: keras.Model) -> None:
    """Swap the model's weights with their moving averages in the optimizer (no-op without).

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
        >>> _ = m.train_on_batch(np.ones((1, 2)), np.ones((1, 1)))
        >>> weight, average = average_pairs(m)[0]
        >>> trained, averaged = np.asarray(weight).copy(), np.asarray(average).copy()
        >>> swap_average(m)
        >>> bool(np.allclose(weight, averaged)), bool(np.allclose(average, trained))
        (True, True)
    """
    for weight, average in average_pairs(model):
        trained = keras.ops.convert_to_numpy(weight)
        weight.assign(average)
        average.assign(trained)


def store_trained_weights(model: keras.Model, trained: Sequence[np.ndarray]) -> None:
    """Put ``trained`` (from :class:`KeepTrainedWeights`) in the optimizer's average slots.

    Call it after ``model.fit`` has replaced the weights by their average: the model then
    holds the average and the optimizer the trained weights, ready for
    :func:`swap_average` before training goes on.

    Raises:
        ConfigError: ``trained`` does not have one array per trainable weight.
    """
    pairs = average_pairs(model)
    if len(pairs) != len(trained):
        raise ConfigError(
            f"{len(trained)} trained arrays for {len(pairs)} averaged weights of "
            f"{model.name}; pass the arrays KeepTrainedWeights kept for this model."
        )
    for (_, average), value in zip(pairs, trained):
        average.assign(value)


class KeepTrainedWeights(keras.callbacks.Callback):
    """Train on the raw weights across ``model.fit`` calls; leave the average in the model.

    Pass one instance to every ``model.fit`` call of a model compiled with ``use_ema``
    (see the module docstring); without ``use_ema`` it does nothing.

    Attributes:
        trained: One array per averaged weight: the trained weights at the start of the
            current ``fit`` call or at the end of its last finished epoch (empty before
            the optimizer has taken a step, or without ``use_ema``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.trained: list[np.ndarray] = []

    def _copy(self) -> None:
        self.trained = [keras.ops.convert_to_numpy(w).copy() for w, _ in average_pairs(self.model)]

    def on_train_begin(self, logs: Any = None) -> None:
        swap_average(self.model)  # the trained weights back in (no-op before the first step)
        self._copy()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._copy()  # before fit replaces the weights by their average

    def on_train_end(self, logs: Any = None) -> None:
        # called after Keras' finalize: the model holds the average; keep the trained
        # weights in the optimizer's slots (empty only if the optimizer was never built)
        if self.trained:
            store_trained_weights(self.model, self.trained)
