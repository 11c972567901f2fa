"""Serialisation cases for neuroseg.models, used by tests/test_serialization.py.

LAYER_CASES: (id, layer factory, list of numpy inputs). The layer is wrapped in a
functional model and round-tripped through .keras.
MODEL_CASES: (id, model factory, numpy input). Every registry name is added automatically
(ImageNet-size backbones, ``ModelSpec.heavy``, only with ``-m slow``); the classifier wrapper
of every backbone is covered here at a small size.
"""

import numpy as np

from neuroseg import models

RNG = np.random.default_rng(0)
X16 = RNG.random((2, 16, 16, 4), dtype=np.float32)
X8 = RNG.random((2, 8, 8, 8), dtype=np.float32)
SKIP32 = RNG.random((2, 32, 32, 8), dtype=np.float32)
IMG32 = RNG.random((2, 32, 32, 1), dtype=np.float32)
IMG64 = RNG.random((1, 64, 64, 1), dtype=np.float32)
RGB = RNG.random((2, 4, 4, 3), dtype=np.float32)
MASK = RNG.random((2, 8, 8, 1), dtype=np.float32)
PROBS = np.asarray([[0.1, 0.2, 0.6, 0.1], [0.7, 0.1, 0.1, 0.1]], np.float32)

LAYER_CASES = [
    ("PreActResidualUnit", lambda: models.PreActResidualUnit(8, strides=2, dropout=0.1), [X16]),
    ("PreActResidualUnit-group", lambda: models.PreActResidualUnit(4, norm="group"), [X16]),
    ("ResidualStem", lambda: models.ResidualStem(8, norm="none"), [X16]),
    ("DecoderStage", lambda: models.DecoderStage(8), [X16, SKIP32]),
    ("DecoderStage-gate", lambda: models.DecoderStage(8, attention="gate"), [X16, SKIP32]),
    (
        "DecoderStage-resunetpp",
        lambda: models.DecoderStage(8, attention="resunetpp", norm="group"),
        [X16, SKIP32],
    ),
    ("EncoderStage", lambda: models.EncoderStage(8, num_units=2, squeeze_excite=True), [X16]),
    ("Bridge", lambda: models.Bridge(8, aspp=True, aspp_rates=(1, 2)), [X16]),
    ("FusedBatchNormalization", lambda: models.FusedBatchNormalization(momentum=0.9), [X16]),
    ("SqueezeExcitation", lambda: models.SqueezeExcitation(ratio=2), [X16]),
    ("ASPP", lambda: models.ASPP(6, rates=(1, 3), norm="group"), [X16]),
    ("AttentionGate", lambda: models.AttentionGate(4), [SKIP32, X16]),
    (
        "AttentionGate-resunetpp",
        lambda: models.AttentionGate(4, mode="resunetpp"),
        [SKIP32, X16],
    ),
    ("ChannelAdapter-learned", lambda: models.ChannelAdapter(3, mode="learned"), [X16]),
    ("ImageNetPreprocessing", lambda: models.ImageNetPreprocessing("caffe"), [RGB]),
    ("NoTumorConsistency", lambda: models.NoTumorConsistency(weight=0.5), [MASK, PROBS]),
    ("TemperatureScaling", lambda: models.TemperatureScaling(1.7), [PROBS]),
    (
        "TemperatureScaling-sigmoid",
        lambda: models.TemperatureScaling(0.8, activation="sigmoid"),
        [MASK],
    ),
]

MODEL_CASES = [
    (
        "ResUNet-strided-stem",
        lambda: models.ResUNet(
            input_shape=(16, 16, 1), depth=2, base_filters=4, stem_stride=2, refine_filters=4
        ),
        X16[..., :1],
    ),
    (
        "ResUNet-half-resolution-refinement",
        lambda: models.ResUNet(
            input_shape=(16, 16, 4),
            num_classes=3,
            depth=2,
            base_filters=4,
            stem_stride=2,
            refine="half",
        ),
        X16,
    ),
    (
        "ResUNet-multiclass-logits",
        lambda: models.ResUNet(
            input_shape=(16, 16, 4), num_classes=3, depth=2, base_filters=4, return_logits=True
        ),
        X16,
    ),
    (
        "ResUNetPlusPlus",
        lambda: models.ResUNetPlusPlus(input_shape=(32, 32, 1), depth=2, base_filters=4),
        IMG32,
    ),
    (
        "AttentionResUNet-multiclass",
        lambda: models.AttentionResUNet(
            input_shape=(32, 32, 1), num_classes=3, depth=2, base_filters=4, norm="group"
        ),
        IMG32,
    ),
    (
        "ResUNetBackbone",
        lambda: models.ResUNetBackbone(input_shape=(32, 32, 1), depth=2, base_filters=4),
        IMG32,
    ),
    (
        "ResUNetBackbone-resunetpp-strided-stem",
        lambda: models.ResUNetBackbone(
            input_shape=(32, 32, 1),
            depth=2,
            base_filters=4,
            stem_stride=2,
            stages=True,
            squeeze_excite=True,
            aspp=True,
            attention="resunetpp",
            norm="group",
        ),
        IMG32,
    ),
    (
        "MultiTaskResUNet-consistency",
        lambda: models.MultiTaskResUNet(
            input_shape=(32, 32, 1), depth=2, base_filters=4, consistency_weight=0.2
        ),
        IMG32,
    ),
] + [
    (
        f"classifier-{b}-64px",
        lambda b=b: models.build_classifier(b, input_shape=(64, 64, 1), filters=(8, 16)),
        IMG64,
    )
    for b in models.BACKBONES
]
