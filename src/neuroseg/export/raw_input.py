"""A model behind its in-graph preparation, so that an exported file takes raw 8-bit slices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neuroseg.errors import ModelError

if TYPE_CHECKING:
    from neuroseg.data.preprocessor import SlicePreprocessor

__all__ = ["with_preprocessing"]


def with_preprocessing(
    model: Any, preprocessor: SlicePreprocessor, *, raw_channels: int | None = None
) -> Any:
    """``model`` behind the preprocessor's in-graph normalisation: uint8 slices in.

    Args:
        model: A Keras model with a fixed input size.
        preprocessor: Its :class:`~neuroseg.data.SlicePreprocessor`.
        raw_channels: Channels of the raw slices (1, 3 or 4); default the model's.

    Returns:
        A ``keras.Model`` taking ``(N, H, W, raw_channels)`` uint8 slices.
    """
    import keras

    shape = tuple(model.input_shape)
    if shape[1] is None or shape[2] is None:
        raise ModelError(f"{model.name}: fix the input size before adding the preprocessing.")
    channels = raw_channels or preprocessor.channels
    inputs = keras.Input((shape[1], shape[2], channels), dtype="uint8", name="raw_slice")
    x = preprocessor.normalization_layer(name="slice_normalization")(inputs)
    return keras.Model(inputs, model(x), name=f"{model.name}_with_preprocessing")
