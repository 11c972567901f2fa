"""The layers of the ResUNet family, one per module (registered under ``neuroseg``).

All layers assume channels-last tensors ``(batch, height, width, channels)``.

- :mod:`~neuroseg.models.layers.norm`: :func:`make_norm` (``"batch"``, ``"group"``,
  ``"none"``);
- :mod:`~neuroseg.models.layers.residual_unit`: :class:`PreActResidualUnit`;
- :mod:`~neuroseg.models.layers.residual_stem`: :class:`ResidualStem`;
- :mod:`~neuroseg.models.layers.squeeze_excitation`: :class:`SqueezeExcitation`;
- :mod:`~neuroseg.models.layers.aspp`: :class:`ASPP`;
- :mod:`~neuroseg.models.layers.attention_gate`: :class:`AttentionGate`;
- :mod:`~neuroseg.models.layers.encoder_stage`: :class:`EncoderStage`;
- :mod:`~neuroseg.models.layers.bridge`: :class:`Bridge`;
- :mod:`~neuroseg.models.layers.decoder_stage`: :class:`DecoderStage`;
- :mod:`~neuroseg.models.layers.conv_block`: the residual blocks' shared base class.

Every name here is also importable from :mod:`neuroseg.models`.

Example:
    >>> from neuroseg.models.layers import EncoderStage
    >>> EncoderStage(8).strides
    2
"""

from neuroseg.models.layers.aspp import ASPP
from neuroseg.models.layers.attention_gate import AttentionGate
from neuroseg.models.layers.bridge import Bridge
from neuroseg.models.layers.decoder_stage import DecoderStage
from neuroseg.models.layers.encoder_stage import EncoderStage
from neuroseg.models.layers.norm import make_norm
from neuroseg.models.layers.residual_stem import ResidualStem
from neuroseg.models.layers.residual_unit import PreActResidualUnit
from neuroseg.models.layers.squeeze_excitation import SqueezeExcitation

__all__ = [
    "ASPP",
    "AttentionGate",
    "Bridge",
    "DecoderStage",
    "EncoderStage",
    "PreActResidualUnit",
    "ResidualStem",
    "SqueezeExcitation",
    "make_norm",
]
