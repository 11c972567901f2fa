"""Former home of the ResUNet blocks, kept so that old imports keep working.

The blocks now live one per module in :mod:`neuroseg.models.layers` and are importable
from :mod:`neuroseg.models`. Reading a name from this module still works and returns the
same class, with a :class:`DeprecationWarning` naming its new location::

    from neuroseg.models.blocks import ASPP  # old
    from neuroseg.models import ASPP  # new
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

#: Each former name -> the module that now defines it.
MOVED: dict[str, str] = {
    "ASPP": "neuroseg.models.layers.aspp",
    "AttentionGate": "neuroseg.models.layers.attention_gate",
    "Bridge": "neuroseg.models.layers.bridge",
    "DecoderStage": "neuroseg.models.layers.decoder_stage",
    "EncoderStage": "neuroseg.models.layers.encoder_stage",
    "PreActResidualUnit": "neuroseg.models.layers.residual_unit",
    "ResidualStem": "neuroseg.models.layers.residual_stem",
    "SqueezeExcitation": "neuroseg.models.layers.squeeze_excitation",
    "make_norm": "neuroseg.models.layers.norm",
}

__all__ = sorted(MOVED)  # resolved by __getattr__, so `import *` keeps working


def __getattr__(name: str) -> Any:
    module = MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"neuroseg.models.blocks.{name} moved to {module}.{name}; import it from "
        "neuroseg.models (neuroseg.models.blocks will be removed)",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *MOVED])
