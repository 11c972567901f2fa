"""Models: the ResUNet family, classifiers, a multi-task model, layers and the registry.

The layers live one per module in :mod:`neuroseg.models.layers`; the ResUNet family
shares one encoder-decoder, :class:`ResUNetBackbone`.

Example:
    >>> from neuroseg.models import create_model, list_models
    >>> model = create_model("resunet-small", input_shape=(64, 64, 1))
    >>> model.count_params() > 0
    True
"""

# ruff: noqa: E402
# TensorFlow is imported first, quietly (see neuroseg.logs), then the modules using it.
import neuroseg.logs

neuroseg.logs.import_tensorflow()

from neuroseg.models.batch_norm import FusedBatchNormalization
from neuroseg.models.classifier import (
    BACKBONES,
    ChannelAdapter,
    Classifier,
    ImageNetPreprocessing,
    build_classifier,
    freeze_backbone,
    imagenet_weights_info,
    unfreeze_backbone,
)
from neuroseg.models.ensemble import ensemble_models
from neuroseg.models.flops import count_flops
from neuroseg.models.fusion import fuse_for_inference
from neuroseg.models.layers import (
    ASPP,
    AttentionGate,
    Bridge,
    DecoderStage,
    EncoderStage,
    PreActResidualUnit,
    ResidualStem,
    SqueezeExcitation,
    make_norm,
)
from neuroseg.models.layers.temperature import TemperatureScaling
from neuroseg.models.multitask import MultiTaskResUNet, NoTumorConsistency, no_tumor_consistency
from neuroseg.models.pretrained import (
    PretrainedInfo,
    list_pretrained,
    load_pretrained,
    pretrained_info,
)
from neuroseg.models.registry import ModelSpec, create_model, get_spec, list_models, register_model
from neuroseg.models.resunet import AttentionResUNet, ResUNet, ResUNetPlusPlus
from neuroseg.models.resunet_backbone import ResUNetBackbone
from neuroseg.models.saving import load_model

__all__ = [
    "ASPP",
    "BACKBONES",
    "AttentionGate",
    "AttentionResUNet",
    "Bridge",
    "ChannelAdapter",
    "Classifier",
    "DecoderStage",
    "EncoderStage",
    "FusedBatchNormalization",
    "ImageNetPreprocessing",
    "ModelSpec",
    "MultiTaskResUNet",
    "NoTumorConsistency",
    "PreActResidualUnit",
    "PretrainedInfo",
    "ResUNet",
    "ResUNetBackbone",
    "ResUNetPlusPlus",
    "ResidualStem",
    "SqueezeExcitation",
    "TemperatureScaling",
    "build_classifier",
    "count_flops",
    "create_model",
    "ensemble_models",
    "freeze_backbone",
    "fuse_for_inference",
    "get_spec",
    "imagenet_weights_info",
    "list_models",
    "list_pretrained",
    "load_model",
    "load_pretrained",
    "make_norm",
    "no_tumor_consistency",
    "pretrained_info",
    "register_model",
    "unfreeze_backbone",
]
