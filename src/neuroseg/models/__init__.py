"""Models: ResUNet blocks and models, and the model registry.

Example:
    >>> from neuroseg.models import create_model, list_models
    >>> model = create_model("resunet-small", input_shape=(64, 64, 1))
    >>> model.count_params() > 0
    True
"""

from neuroseg.models.blocks import DecoderStage, PreActResidualUnit, ResidualStem, make_norm
from neuroseg.models.registry import ModelSpec, create_model, get_spec, list_models, register_model
from neuroseg.models.resunet import ResUNet
from neuroseg.models.saving import load_model

__all__ = [
    "DecoderStage",
    "ModelSpec",
    "PreActResidualUnit",
    "ResUNet",
    "ResidualStem",
    "create_model",
    "get_spec",
    "list_models",
    "load_model",
    "make_norm",
    "register_model",
]
