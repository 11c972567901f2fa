"""A multi-task ResUNet: one encoder, a segmentation decoder and a classification head.

The outputs are a dict ``{"mask": ..., "label": ...}``, matching the data pipeline's
``"multitask"`` task, which yields ``(image, {"mask": mask, "label": label})``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

from neuroseg.errors import ConfigError
from neuroseg.models.config_model import ConfigModel
from neuroseg.models.resunet import check_num_classes
from neuroseg.models.resunet_backbone import resunet_features, resunet_levels

__all__ = ["MultiTaskResUNet", "NoTumorConsistency", "no_tumor_consistency"]

#: Index of "no_tumor" in neuroseg.data.CLASS_NAMES.
_NO_TUMOR_INDEX = 2


def no_tumor_consistency(mask_probs: Any, label_probs: Any, *, no_tumor_index: int = 2) -> Any:
    """Consistency between the class prediction and the mask: "no tumour" ⇔ empty mask.

    The mask's tumour score is its largest foreground probability; the classifier's is
    ``1 - p(no_tumor)``. The term is the batch mean of their squared difference: 0 when
    both agree (a confident "no tumour" with an empty mask, or a tumour class with a
    confident tumour pixel), up to 1 when they contradict each other.

    Args:
        mask_probs: ``(batch, H, W, 1)`` sigmoid mask probabilities (or ``(…, K)`` softmax
            with background in channel 0).
        label_probs: ``(batch, num_classes)`` softmax class probabilities.
        no_tumor_index: Index of the "no tumour" class (2 in ``CLASS_NAMES``).

    Returns:
        A scalar tensor.

    Example:
        >>> import numpy as np
        >>> empty, no_tumor = np.zeros((1, 4, 4, 1), "float32"), np.eye(4, dtype="float32")[[2]]
        >>> float(no_tumor_consistency(empty, no_tumor))
        0.0
        >>> float(no_tumor_consistency(empty, np.eye(4, dtype="float32")[[0]]))
        1.0
    """
    mask_probs = ops.convert_to_tensor(mask_probs, dtype="float32")
    label_probs = ops.convert_to_tensor(label_probs, dtype="float32")
    if mask_probs.shape[-1] is not None and mask_probs.shape[-1] > 1:
        mask_probs = 1.0 - mask_probs[..., :1]  # foreground = not background
    mask_score = ops.max(mask_probs, axis=(1, 2, 3))
    label_score = 1.0 - label_probs[:, no_tumor_index]
    return ops.mean(ops.square(mask_score - label_score))


@keras.saving.register_keras_serializable(package="neuroseg", name="NoTumorConsistency")
class NoTumorConsistency(layers.Layer):
    """Adds ``weight * no_tumor_consistency(mask, label)`` to the model's losses.

    Called on ``[mask_probs, label_probs]``; returns ``label_probs`` unchanged, so it sits
    on the label branch of the graph and is saved with the model. Keras adds the term to
    the training loss (``model.losses``); predictions are unaffected.

    Args:
        weight: Weight of the term.
        no_tumor_index: Index of the "no tumour" class.

    Example:
        >>> import numpy as np
        >>> layer = NoTumorConsistency(weight=0.5)
        >>> out = layer([np.zeros((1, 4, 4, 1), "float32"), np.eye(4, dtype="float32")[[0]]])
        >>> float(layer.losses[0])
        0.5
    """

    def __init__(self, *, weight: float = 0.1, no_tumor_index: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if weight < 0:
            raise ConfigError(f"consistency weight must be >= 0, got {weight}")
        self.weight = float(weight)
        self.no_tumor_index = int(no_tumor_index)

    def call(self, inputs: list[Any]) -> Any:
        mask, label = inputs
        term = no_tumor_consistency(mask, label, no_tumor_index=self.no_tumor_index)
        self.add_loss(self.weight * term)
        return label

    def compute_output_shape(
        self, input_shape: list[tuple[int | None, ...]]
    ) -> tuple[int | None, ...]:
        return tuple(input_shape[1])

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(weight=self.weight, no_tumor_index=self.no_tumor_index)
        return config


@keras.saving.register_keras_serializable(package="neuroseg", name="MultiTaskResUNet")
class MultiTaskResUNet(ConfigModel):
    """ResUNet encoder shared by a segmentation decoder and a classification head.

    The encoder and decoder are those of :class:`~neuroseg.models.ResUNet` (the graph of
    :class:`~neuroseg.models.ResUNetBackbone`); the mask head is a 1×1 convolution of the
    last decoder feature, the classification head pools the ``bridge`` feature (global
    average), applies dropout and a dense softmax layer. The
    model returns ``{"mask": (B, H, W, mask_classes), "label": (B, num_classes)}``; compile
    with a loss per key, e.g. ``{"mask": DiceBCELoss(), "label":
    "sparse_categorical_crossentropy"}``.

    With ``consistency_weight > 0`` a :class:`NoTumorConsistency` term ties the "no
    tumour" class to an empty mask.

    Args:
        input_shape: ``(height, width, channels)``; height and width may be ``None``.
        num_classes: Classification classes (4 = ``CLASS_NAMES``).
        mask_classes: Segmentation classes (1 = binary, sigmoid).
        depth: Number of down-sampling steps.
        base_filters: Filters of the first stage; each stage doubles them.
        filters: Explicit per-level filters (length ``depth + 1``).
        norm: ``"batch"``, ``"group"`` or ``"none"``.
        activation: Activation inside the blocks.
        dropout: Dropout rate inside the residual units.
        head_dropout: Dropout before the classification layer.
        consistency_weight: Weight of the no-tumour/empty-mask consistency term (0: off).
        no_tumor_index: Index of "no tumour" among the classes.
        name: Model name.

    Example:
        >>> import numpy as np
        >>> model = MultiTaskResUNet(input_shape=(32, 32, 1), depth=2, base_filters=8)
        >>> out = model(np.zeros((2, 32, 32, 1), "float32"))
        >>> tuple(out["mask"].shape), tuple(out["label"].shape)
        ((2, 32, 32, 1), (2, 4))
    """

    def __init__(
        self,
        *,
        input_shape: Sequence[int | None] = (256, 256, 1),
        num_classes: int = 4,
        mask_classes: int = 1,
        depth: int = 3,
        base_filters: int = 16,
        filters: Sequence[int] | None = None,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        head_dropout: float = 0.3,
        consistency_weight: float = 0.0,
        no_tumor_index: int = _NO_TUMOR_INDEX,
        name: str = "multitask_resunet",
        **kwargs: Any,
    ) -> None:
        check_num_classes(mask_classes)
        levels, depth = resunet_levels(input_shape, depth, base_filters, filters)
        if num_classes < 2:
            raise ConfigError(f"num_classes must be >= 2, got {num_classes}")
        if not 0 <= no_tumor_index < num_classes:
            raise ConfigError(f"no_tumor_index {no_tumor_index} is not a class index")
        inputs = keras.Input(shape=tuple(input_shape), name="image")
        features = resunet_features(
            inputs, levels, norm=norm, activation=activation, dropout=dropout
        )
        c = layers.GlobalAveragePooling2D(name="pool")(features["bridge"])
        c = layers.Dropout(head_dropout, name="head_dropout")(c)
        c = layers.Dense(num_classes, name="label_logits")(c)
        label = layers.Activation("softmax", dtype="float32", name="label")(c)
        x = layers.Conv2D(mask_classes, 1, name="head")(features[f"decoder_{depth}"])
        act = "sigmoid" if mask_classes == 1 else "softmax"
        mask = layers.Activation(act, dtype="float32", name="mask")(x)
        if consistency_weight > 0:
            label = NoTumorConsistency(
                weight=consistency_weight, no_tumor_index=no_tumor_index, name="consistency"
            )([mask, label])
        outputs = {"mask": mask, "label": label}
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self._config = {
            "input_shape": tuple(input_shape),
            "num_classes": int(num_classes),
            "mask_classes": int(mask_classes),
            "depth": int(depth),
            "base_filters": int(levels[0]),
            "filters": tuple(levels) if filters is not None else None,
            "norm": norm,
            "activation": activation,
            "dropout": float(dropout),
            "head_dropout": float(head_dropout),
            "consistency_weight": float(consistency_weight),
            "no_tumor_index": int(no_tumor_index),
        }
