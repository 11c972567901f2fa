"""Inference-time folding of batch normalisation into the preceding convolutions."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers

from neuroseg.models.layers.residual_stem import ResidualStem
from neuroseg.models.layers.residual_unit import PreActResidualUnit

__all__ = ["fuse_for_inference"]

# (convolution attribute, following normalisation attribute) inside each block type
_PAIRS: dict[type, tuple[tuple[str, str], ...]] = {
    PreActResidualUnit: (("conv1", "norm2"), ("shortcut_conv", "shortcut_norm")),
    ResidualStem: (("conv1", "norm1"), ("shortcut_conv", "shortcut_norm")),
}


def _fold(conv: layers.Conv2D, bn: layers.BatchNormalization) -> layers.Conv2D:
    """Return a biased convolution equal to ``bn(conv(x))`` in inference mode."""
    w = np.asarray(conv.kernel)
    b = np.asarray(conv.bias) if conv.use_bias else np.zeros(w.shape[-1], w.dtype)
    gamma = np.asarray(bn.gamma) if bn.scale else np.ones_like(b)
    beta = np.asarray(bn.beta) if bn.center else np.zeros_like(b)
    scale = gamma / np.sqrt(np.asarray(bn.moving_variance) + bn.epsilon)
    fused = layers.Conv2D(
        conv.filters,
        conv.kernel_size,
        strides=conv.strides,
        padding=conv.padding,
        dilation_rate=conv.dilation_rate,
        use_bias=True,
        name=conv.name,
        dtype=conv.dtype_policy,
    )
    fused.build((None, None, None, w.shape[-2]))
    fused.set_weights([w * scale, (b - np.asarray(bn.moving_mean)) * scale + beta])
    return fused


def _blocks(model: keras.Model) -> list[Any]:
    return [layer for layer in model._flatten_layers() if type(layer) in _PAIRS]


def _replace(block: Any, name: str, layer: layers.Layer) -> None:
    tracker: Any = getattr(block, "_tracker", None)
    locked = tracker is not None and bool(getattr(tracker, "locked", False))
    if locked:
        tracker.unlock()
    old = getattr(block, name)
    try:
        setattr(block, name, layer)
        sublayers = getattr(block, "_layers", None)
        if isinstance(sublayers, list) and old in sublayers:
            sublayers.remove(old)  # drop the replaced layer's weights from the copy
    finally:
        if locked:
            tracker.lock()


def fuse_for_inference(model: keras.Model) -> keras.Model:
    """Return a copy of ``model`` with batch normalisation folded into convolutions.

    In every :class:`~neuroseg.models.PreActResidualUnit` and
    :class:`~neuroseg.models.ResidualStem`, a convolution followed by batch normalisation
    becomes one biased convolution with ``W' = W·γ/σ`` and ``b' = (b − μ)·γ/σ + β``
    (inference statistics). The pre-activation normalisations (norm → act → conv) cannot be
    folded through the activation and stay. Outputs equal the original's in inference mode
    up to float rounding; the copy is for inference only (do not train or save it; keep the
    original for that). The original model is not changed.

    Args:
        model: A model built from neuroseg blocks (e.g. :class:`~neuroseg.models.ResUNet`).

    Returns:
        The fused copy.

    Example:
        >>> import numpy as np
        >>> from neuroseg.models import ResUNet
        >>> model = ResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4)
        >>> x = np.random.default_rng(0).random((1, 32, 32, 1), dtype=np.float32)
        >>> fused = fuse_for_inference(model)
        >>> bool(np.allclose(fused.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5))
        True
    """
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    for block in _blocks(clone):
        for conv_name, norm_name in _PAIRS[type(block)]:
            conv, norm = getattr(block, conv_name, None), getattr(block, norm_name, None)
            if isinstance(conv, layers.Conv2D) and isinstance(norm, layers.BatchNormalization):
                _replace(block, conv_name, _fold(conv, norm))
                _replace(block, norm_name, layers.Identity(name=norm.name))
    return clone
