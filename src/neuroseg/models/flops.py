"""Counting a model's floating-point operations."""

from __future__ import annotations

from typing import Any

import keras

from neuroseg.errors import ConfigError

__all__ = ["count_flops"]


def count_flops(model: keras.Model, input_shape: tuple[int, ...] | None = None) -> int:
    """Return the forward-pass floating-point operations for one image.

    Counted by TensorFlow's graph profiler on the traced inference graph (a multiply-add
    is 2 operations), so it needs the TensorFlow backend.

    Args:
        model: A built Keras model with one image input.
        input_shape: ``(height, width, channels)``; required when the model's input has
            ``None`` sizes.

    Returns:
        FLOPs per image (batch size 1).

    Raises:
        ConfigError: The input size is unknown.

    Example:
        >>> from neuroseg.models import ResUNet
        >>> count_flops(ResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4)) > 0
        True
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )
    from tensorflow.python.profiler import model_analyzer, option_builder

    shape = tuple(input_shape) if input_shape is not None else tuple(model.input_shape[1:])
    if any(s is None for s in shape):
        raise ConfigError(
            f"model {model.name!r} has input shape {model.input_shape}; pass input_shape=(H, W, C)"
        )

    def forward(x: Any) -> Any:
        return model(x, training=False)

    fn = tf.function(forward).get_concrete_function(tf.TensorSpec((1, *shape), "float32"))
    graph = convert_variables_to_constants_v2(fn).graph
    opts = option_builder.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    info = model_analyzer.profile(graph, options=opts)
    return int(info.total_float_ops)
