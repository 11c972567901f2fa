"""A short fit of a layer wrapped in a functional model, shared by the layer tests."""

from collections.abc import Callable

import keras
import numpy as np


def train_briefly(
    layer_factory: Callable[[], keras.layers.Layer],
    inputs: list[np.ndarray],
    target_shape: tuple[int, ...],
) -> keras.Model:
    """Fit ``layer_factory()`` for two epochs on ``inputs``; assert the loss stays finite.

    Guards TensorFlow 2.21's oneDNN fault: the backward pass of strided 1×1 convolutions
    with few channels corrupted the heap, so every down-sampling path must train.
    """
    tensors = [keras.Input(a.shape[1:]) for a in inputs]
    out = layer_factory()(tensors if len(tensors) > 1 else tensors[0])
    model = keras.Model(tensors, out)
    model.compile("adam", "mse")
    y = np.zeros((inputs[0].shape[0], *target_shape), "float32")
    hist = model.fit(inputs if len(inputs) > 1 else inputs[0], y, batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    return model
