"""Serialisation cases for neuroseg.data, used by tests/test_serialization.py.

LAYER_CASES: (id, layer factory, list of numpy inputs), as in tests/models.
PREPROCESSOR_CASES: (id, preprocessor factory, one raw slice): the object goes through
``keras.saving.serialize_keras_object`` and back with ``safe_mode=True`` and must prepare
the slice identically.
"""

import numpy as np

from neuroseg.data import SliceNormalization, SlicePreprocessor

RNG = np.random.default_rng(0)
RAW_GREY = RNG.integers(0, 256, (2, 12, 10, 1)).astype(np.float32)
RAW_RGB = RNG.integers(0, 256, (2, 12, 10, 3)).astype(np.float32)
SLICE = RNG.integers(0, 256, (40, 30, 3), dtype=np.uint8)

LAYER_CASES = [
    ("SliceNormalization", lambda: SliceNormalization(channels=1), [RAW_GREY]),
    ("SliceNormalization-rgb-to-grey", lambda: SliceNormalization(channels=1), [RAW_RGB]),
    (
        "SliceNormalization-zscore",
        lambda: SliceNormalization(channels=3, normalize="zscore"),
        [RAW_GREY],
    ),
]

PREPROCESSOR_CASES = [
    ("SlicePreprocessor", lambda: SlicePreprocessor(channels=1, image_size=16), SLICE),
    (
        "SlicePreprocessor-crop-rgb",
        lambda: SlicePreprocessor(
            channels=3, image_size=(16, 24), crop="brain", channel_names=("a", "b", "c")
        ),
        SLICE,
    ),
    (
        "SlicePreprocessor-any-size",
        lambda: SlicePreprocessor(channels=1, normalize="percentile", size_multiple=8),
        SLICE,
    ),
]
