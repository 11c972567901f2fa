"""Units of neuroseg.train.averaged_weights on a one-weight model with hand-computed values."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.train.averaged_weights import (
    KeepTrainedWeights,
    average_pairs,
    store_trained_weights,
    swap_average,
)


def _model(use_ema: bool) -> keras.Model:
    m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    m.layers[0].kernel.assign(np.zeros((1, 1), "float32"))
    m.compile(keras.optimizers.SGD(0.5, use_ema=use_ema, ema_momentum=0.5), "mse")
    return m


def _step(m: keras.Model) -> None:
    # x = 1, y = 1, w = 0: d(mse)/dw = 2 (w - 1) = -2, so SGD(0.5) moves w from 0 to 1
    m.train_on_batch(np.ones((1, 1), "float32"), np.ones((1, 1), "float32"))


def test_no_pairs_without_use_ema_or_before_the_first_step():
    assert average_pairs(_model(use_ema=False)) == []
    assert average_pairs(_model(use_ema=True)) == []  # optimizer not built yet


def test_swap_average_exchanges_weight_and_average():
    m = _model(use_ema=True)
    _step(m)
    [(weight, average)] = average_pairs(m)
    trained, averaged = float(np.asarray(weight)[0, 0]), float(np.asarray(average)[0, 0])
    assert trained == pytest.approx(1.0)
    swap_average(m)
    assert float(np.asarray(weight)[0, 0]) == pytest.approx(averaged)
    assert float(np.asarray(average)[0, 0]) == pytest.approx(trained)


def test_store_trained_weights_checks_the_count():
    m = _model(use_ema=True)
    _step(m)
    with pytest.raises(ConfigError, match="2 trained arrays for 1 averaged weights"):
        store_trained_weights(m, [np.zeros((1, 1)), np.zeros((1, 1))])
    store_trained_weights(m, [np.full((1, 1), 7.0, "float32")])
    [(_, average)] = average_pairs(m)
    assert float(np.asarray(average)[0, 0]) == 7.0


def test_keep_trained_weights_does_nothing_without_use_ema():
    m = _model(use_ema=False)
    keep = KeepTrainedWeights()
    m.fit(
        np.ones((1, 1), "float32"),
        np.ones((1, 1), "float32"),
        epochs=1,
        verbose=0,
        callbacks=[keep],
    )
    assert keep.trained == []
    assert float(np.asarray(m.layers[0].kernel)[0, 0]) == pytest.approx(1.0)
