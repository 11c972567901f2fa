"""Serialisation cases for neuroseg.models, used by tests/test_serialization.py.

LAYER_CASES: (id, layer factory, list of numpy inputs). The layer is wrapped in a
functional model and round-tripped through .keras.
MODEL_CASES: (id, model factory, numpy input). Every registry name is added automatically.
"""

import numpy as np

from neuroseg import models

RNG = np.random.default_rng(0)
X16 = RNG.random((2, 16, 16, 4), dtype=np.float32)
SKIP32 = RNG.random((2, 32, 32, 8), dtype=np.float32)

LAYER_CASES = [
    ("PreActResidualUnit", lambda: models.PreActResidualUnit(8, strides=2, dropout=0.1), [X16]),
    ("PreActResidualUnit-group", lambda: models.PreActResidualUnit(4, norm="group"), [X16]),
    ("ResidualStem", lambda: models.ResidualStem(8, norm="none"), [X16]),
    ("DecoderStage", lambda: models.DecoderStage(8), [X16, SKIP32]),
]

MODEL_CASES = [
    (
        "ResUNet-multiclass-logits",
        lambda: models.ResUNet(
            input_shape=(16, 16, 4), num_classes=3, depth=2, base_filters=4, return_logits=True
        ),
        X16,
    ),
]
