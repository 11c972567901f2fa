"""Atrous spatial pyramid pooling (:class:`ASPP`), as used in ResUNet++.

Reference: L.-C. Chen et al., "DeepLab", TPAMI 2018; D. Jha et al., "ResUNet++: An
Advanced Architecture for Medical Image Segmentation", IEEE ISM 2019.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers, ops

from neuroseg.errors import ConfigError
from neuroseg.models.layers.norm import check_norm, make_norm

__all__ = ["ASPP"]


@keras.saving.register_keras_serializable(package="neuroseg", name="ASPP")
class ASPP(layers.Layer):
    """Atrous spatial pyramid pooling (Chen et al. 2018), as used in ResUNet++.

    Parallel 3×3 convolutions with the given dilation ``rates``, each followed by
    normalisation; the branches are summed and mixed by a 1×1 convolution. Keeps the
    spatial size; works with ``None`` spatial sizes.

    Args:
        filters: Output channels.
        rates: Dilation rates, one branch each.
        norm: ``"batch"``, ``"group"`` or ``"none"``.

    Example:
        >>> import numpy as np
        >>> tuple(ASPP(8, rates=(1, 2))(np.ones((1, 16, 16, 4), "float32")).shape)
        (1, 16, 16, 8)
    """

    def __init__(
        self,
        filters: int,
        *,
        rates: tuple[int, ...] | list[int] = (1, 6, 12, 18),
        norm: str = "batch",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_norm(norm)
        if not rates:
            raise ConfigError("ASPP needs at least one dilation rate")
        self.filters = int(filters)
        self.rates = tuple(int(r) for r in rates)
        self.norm = norm
        groups = math.gcd(8, self.filters)
        self.branches = [
            layers.Conv2D(
                self.filters,
                3,
                padding="same",
                dilation_rate=r,
                use_bias=norm == "none",
                kernel_initializer="he_normal",
                name=f"branch_{r}",
            )
            for r in self.rates
        ]
        self.norms = [make_norm(norm, groups=groups, name=f"norm_{r}") for r in self.rates]
        self.project = layers.Conv2D(self.filters, 1, name="project")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        mid = (*input_shape[:-1], self.filters)
        for conv, norm in zip(self.branches, self.norms):
            conv.build(input_shape)
            norm.build(mid)
        self.project.build(mid)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        out = None
        for conv, norm in zip(self.branches, self.norms):
            y = norm(conv(inputs), training=training)
            out = y if out is None else ops.add(out, y)
        return self.project(out)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(filters=self.filters, rates=list(self.rates), norm=self.norm)
        return config
