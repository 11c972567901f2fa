"""The bottleneck between encoder and decoder (:class:`Bridge`): a stage, optionally + ASPP."""

from __future__ import annotations

from typing import Any

import keras

from neuroseg.models.layers.aspp import ASPP
from neuroseg.models.layers.encoder_stage import EncoderStage

__all__ = ["Bridge"]


@keras.saving.register_keras_serializable(package="neuroseg", name="Bridge")
class Bridge(EncoderStage):
    """The bottleneck between encoder and decoder: an encoder stage, optionally + ASPP.

    In ResUNet the bridge is one more strided residual unit; ResUNet++ adds
    squeeze-and-excitation before it and :class:`~neuroseg.models.ASPP` after it
    (``aspp=True``).

    Args:
        filters: Output channels.
        aspp: Follow the residual units with ASPP.
        aspp_rates: Dilation rates of the ASPP branches.
        **kwargs: The options of :class:`~neuroseg.models.EncoderStage`.

    Example:
        >>> import numpy as np
        >>> x = np.ones((1, 8, 8, 4), "float32")
        >>> tuple(Bridge(8, aspp=True, aspp_rates=(1, 2))(x).shape)
        (1, 4, 4, 8)
    """

    def __init__(
        self,
        filters: int,
        *,
        aspp: bool = False,
        aspp_rates: tuple[int, ...] | list[int] = (1, 6, 12, 18),
        **kwargs: Any,
    ) -> None:
        super().__init__(filters, **kwargs)
        self.aspp = bool(aspp)
        self.aspp_rates = tuple(int(r) for r in aspp_rates)
        self.aspp_block = (
            ASPP(self.filters, rates=self.aspp_rates, norm=self.norm, name="aspp")
            if self.aspp
            else None
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        super().build(input_shape)
        if self.aspp_block is not None:
            self.aspp_block.build(self.compute_output_shape(input_shape))

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = super().call(inputs, training=training)
        return x if self.aspp_block is None else self.aspp_block(x, training=training)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(aspp=self.aspp, aspp_rates=list(self.aspp_rates))
        return config
