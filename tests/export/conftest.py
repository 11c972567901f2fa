from __future__ import annotations

import keras
import numpy as np
import pytest

from neuroseg.data import load_figshare
from neuroseg.inference import Predictor


# Session scope: test_tflite, test_onnx and test_compare share one trained model, as they
# did when they were one module (a module-scoped fixture here would train it per module).
@pytest.fixture(scope="session")
def model():
    from neuroseg.data import load_sample
    from neuroseg.models import create_model

    keras.utils.set_random_seed(0)
    m = create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8)
    # A few epochs on real slices so activations (and batch-norm statistics) are realistic.
    train = load_sample().to_tf_dataset("segmentation", image_size=64, batch_size=8)
    m.compile(optimizer="adam", loss="binary_crossentropy")
    m.fit(train, epochs=5, verbose=0, shuffle=False)
    return m


@pytest.fixture(scope="session")
def val(figshare_root):
    return load_figshare(figshare_root, folds=[4])[:8]


@pytest.fixture(scope="session")
def val_inputs(model, val):
    """The validation slices prepared for ``model`` by the Predictor: (8, 64, 64, 1)."""
    p = Predictor(model)
    return np.stack([p.preprocess(r.load_image()) for r in val])


def tiny_model(size=(4, 4), channels: int = 1, *, kernel: float = 1.0, bias: float = 0.0):
    """A 1x1 convolution ``kernel * x + bias`` per pixel (one output channel), no activation.

    Small enough to convert in well under a second, with outputs computable by hand.
    """
    inp = keras.Input((*size, channels), name="image")
    conv = keras.layers.Conv2D(1, 1, name="affine")
    out = conv(inp)
    conv.set_weights([np.full((1, 1, channels, 1), kernel, "float32"), np.array([bias], "float32")])
    return keras.Model(inp, out, name="tiny")
