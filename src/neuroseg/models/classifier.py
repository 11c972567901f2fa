"""Slice classifiers: a from-scratch CNN and ``keras.applications`` backbones.

:func:`build_classifier` wraps a backbone for 1-channel (or any-channel) MRI input:
``image → ChannelAdapter → ImageNetPreprocessing → backbone → pool → dropout → logits``.
The adapter turns ``C`` input channels into the 3 that ImageNet weights expect, so
pretrained weights apply unchanged; the preprocessing layer maps neuroseg's ``[0, 1]``
images to the range and normalisation each backbone was trained with.

Pretrained weights are read from a local file only (no network at run time); see
:func:`imagenet_weights_info` for each backbone's file name and download URL.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
from keras import layers, ops

from neuroseg.errors import ConfigError, ModelError, UnknownNameError
from neuroseg.models.batch_norm import FusedBatchNormalization

__all__ = [
    "BACKBONES",
    "ChannelAdapter",
    "Classifier",
    "ImageNetPreprocessing",
    "build_classifier",
    "freeze_backbone",
    "imagenet_weights_info",
    "unfreeze_backbone",
]

_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_EFF = "https://storage.googleapis.com/keras-applications/"

# name -> (keras.applications attribute, preprocessing mode, no-top weights URL)
_BACKBONES: dict[str, tuple[str, str, str]] = {
    "cnn": ("", "none", ""),
    "resnet50": (
        "ResNet50",
        "caffe",
        _APPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    "efficientnetb0": ("EfficientNetB0", "efficientnet", _EFF + "efficientnetb0_notop.h5"),
    "efficientnetb1": ("EfficientNetB1", "efficientnet", _EFF + "efficientnetb1_notop.h5"),
    "efficientnetb2": ("EfficientNetB2", "efficientnet", _EFF + "efficientnetb2_notop.h5"),
    "efficientnetb3": ("EfficientNetB3", "efficientnet", _EFF + "efficientnetb3_notop.h5"),
    "mobilenetv3small": (
        "MobileNetV3Small",
        "raw255",
        _APPS + "mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
    ),
    "mobilenetv3large": (
        "MobileNetV3Large",
        "raw255",
        _APPS + "mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
    ),
    "densenet121": (
        "DenseNet121",
        "torch",
        _APPS + "densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
}

#: Backbone names accepted by :func:`build_classifier`.
BACKBONES: tuple[str, ...] = tuple(_BACKBONES)

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_MODES = ("none", "raw255", "caffe", "torch", "efficientnet", "efficientnet-imagenet")


def _backbone_entry(backbone: str) -> tuple[str, str, str]:
    key = backbone.lower().replace("_", "").replace("-", "")
    if key not in _BACKBONES:
        raise UnknownNameError(
            f"Unknown backbone {backbone!r}. Valid backbones: {', '.join(BACKBONES)}."
        )
    return _BACKBONES[key]


def imagenet_weights_info(backbone: str) -> dict[str, str]:
    """Return the file name and download URL of a backbone's ImageNet (no-top) weights.

    Args:
        backbone: A name from :data:`BACKBONES` other than ``"cnn"``.

    Returns:
        ``{"filename": ..., "url": ..., "cache_path": ...}``; ``cache_path`` is where
        ``keras.applications`` itself caches the file (``~/.keras/models/``).

    Raises:
        UnknownNameError: Unknown backbone.
        ConfigError: The from-scratch CNN has no ImageNet weights.

    Example:
        >>> imagenet_weights_info("resnet50")["filename"]
        'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    _, _, url = _backbone_entry(backbone)
    if not url:
        raise ConfigError(f"backbone {backbone!r} is trained from scratch; it has no weights file")
    filename = url.rsplit("/", 1)[1]
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return {"filename": filename, "url": url, "cache_path": str(home / "models" / filename)}


def _resolve_weights(backbone: str, weights: str | os.PathLike[str] | None) -> Path | None:
    if weights is None:
        return None
    info = imagenet_weights_info(backbone)
    path = Path(info["cache_path"]) if str(weights) == "imagenet" else Path(weights)
    if not path.is_file():
        raise ModelError(
            f"{path}: ImageNet weights file not found. neuroseg never downloads at run time. "
            f"Download {info['url']} on a machine with network access (e.g. "
            f"`curl -LO {info['url']}`), copy it here, and pass "
            f"weights='/path/to/{info['filename']}' (or put it at {info['cache_path']} "
            "and pass weights='imagenet')."
        )
    return path


@keras.saving.register_keras_serializable(package="neuroseg")
class ChannelAdapter(layers.Layer):
    """Map ``C`` input channels to ``channels`` (3 for ImageNet backbones).

    ``mode="repeat"`` (fixed) averages the input channels and repeats the result, so a grey
    MRI slice becomes a grey RGB image: exactly the kind of input ImageNet weights saw.
    ``mode="learned"`` is a trainable 1×1 convolution initialised to that same mapping
    (each output channel = mean of the inputs), so training starts from the fixed adapter
    and can learn a better colour mixing, e.g. for 4-sequence BraTS input.

    Args:
        channels: Output channels.
        mode: ``"repeat"`` or ``"learned"``.

    Example:
        >>> import numpy as np
        >>> tuple(ChannelAdapter()(np.ones((1, 4, 4, 1), "float32")).shape)
        (1, 4, 4, 3)
    """

    def __init__(self, channels: int = 3, *, mode: str = "repeat", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in ("repeat", "learned"):
            raise ConfigError(f"Unknown ChannelAdapter mode {mode!r}; use 'repeat' or 'learned'")
        self.channels = int(channels)
        self.mode = mode

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        cin = int(input_shape[-1])  # type: ignore[arg-type]
        self.conv: layers.Conv2D | None = None
        if self.mode == "learned":
            self.conv = layers.Conv2D(
                self.channels,
                1,
                kernel_initializer=keras.initializers.Constant(1.0 / cin),
                name="mix",
            )
            self.conv.build(input_shape)
        self.built = True

    def call(self, inputs: Any) -> Any:
        if self.conv is not None:
            return self.conv(inputs)
        grey = ops.mean(inputs, axis=-1, keepdims=True)
        return ops.repeat(grey, self.channels, axis=-1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.channels)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(channels=self.channels, mode=self.mode)
        return config


def _affine(mode: str) -> tuple[list[float], list[float], bool]:
    """Per-channel (scale, offset) mapping [0, 1] RGB to a backbone's input, and a BGR flag."""
    if mode == "none":
        return [1.0] * 3, [0.0] * 3, False
    if mode in ("raw255", "efficientnet"):
        return [255.0] * 3, [0.0] * 3, False
    if mode == "caffe":  # RGB -> BGR, 0-255, minus the ImageNet BGR mean
        return [255.0] * 3, [-m for m in _CAFFE_MEAN_BGR], True
    if mode == "torch":  # (x - mean) / std
        return (
            [1.0 / s for s in _IMAGENET_STD],
            [-m / s for m, s in zip(_IMAGENET_MEAN, _IMAGENET_STD)],
            False,
        )
    # efficientnet-imagenet: keras.applications adds Rescaling(1/sqrt(std)) after its
    # Normalization layer only when it downloads the weights itself; with a local file we
    # fold that correction into the input: x' = mean + (x - mean) / sqrt(std), times 255.
    k = [1.0 / s**0.5 for s in _IMAGENET_STD]
    return (
        [255.0 * kc for kc in k],
        [255.0 * m * (1 - kc) for m, kc in zip(_IMAGENET_MEAN, k)],
        False,
    )


@keras.saving.register_keras_serializable(package="neuroseg")
class ImageNetPreprocessing(layers.Layer):
    """Map ``[0, 1]`` 3-channel images to the input a ``keras.applications`` backbone expects.

    Modes: ``"none"`` (identity), ``"raw255"`` (×255; MobileNetV3 and EfficientNet rescale
    internally), ``"caffe"`` (ResNet50: ×255, RGB→BGR, minus the ImageNet mean), ``"torch"``
    (DenseNet: ImageNet mean/std), ``"efficientnet"`` (×255) and
    ``"efficientnet-imagenet"`` (×255 plus the variance correction Keras applies to
    EfficientNet's ImageNet weights).

    Args:
        mode: One of the modes above.

    Example:
        >>> import numpy as np
        >>> x = np.full((1, 1, 1, 3), 0.5, "float32")
        >>> np.asarray(ImageNetPreprocessing("raw255")(x)).ravel().tolist()
        [127.5, 127.5, 127.5]
    """

    def __init__(self, mode: str = "none", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in _MODES:
            raise ConfigError(f"Unknown preprocessing mode {mode!r}; choose one of {_MODES}")
        self.mode = mode

    def call(self, inputs: Any) -> Any:
        scale, offset, bgr = _affine(self.mode)
        x = ops.flip(inputs, axis=-1) if bgr else inputs
        dtype = x.dtype
        return x * ops.cast(scale, dtype) + ops.cast(offset, dtype)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(mode=self.mode)
        return config


def _scratch_cnn(
    input_shape: tuple[int | None, ...], filters: Sequence[int], dropout: float
) -> keras.Model:
    """The from-scratch CNN: (conv-BN-ReLU ×2, max-pool) per level."""
    inputs = keras.Input(shape=input_shape, name="backbone_input")
    x = inputs
    for i, f in enumerate(filters, start=1):
        for j in (1, 2):
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"block{i}_conv{j}")(x)
            x = FusedBatchNormalization(name=f"block{i}_bn{j}")(x)
            x = layers.Activation("relu", name=f"block{i}_relu{j}")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        if dropout:
            x = layers.SpatialDropout2D(dropout, name=f"block{i}_dropout")(x)
    return keras.Model(inputs, x, name="backbone")


@keras.saving.register_keras_serializable(package="neuroseg")
class Classifier(keras.Model):
    """A slice classifier; build it with :func:`build_classifier` (same arguments).

    A functional model ``image → adapter → preprocessing → backbone → pool → dropout →
    logits → probabilities`` whose config is its constructor arguments. The weights file is
    not part of the config: a reloaded ``.keras`` model carries its own weights.

    Example:
        >>> Classifier(backbone="cnn", input_shape=(32, 32, 1), filters=(8,)).output_shape
        (None, 4)
    """

    def __init__(
        self,
        *,
        backbone: str = "cnn",
        num_classes: int = 4,
        input_shape: Sequence[int | None] = (224, 224, 1),
        weights: str | os.PathLike[str] | None = None,
        adapter: str = "repeat",
        dropout: float = 0.3,
        filters: Sequence[int] = (32, 64, 128, 256),
        return_logits: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        app_name, mode, _ = _backbone_entry(backbone)
        key = backbone.lower().replace("_", "").replace("-", "")
        if len(input_shape) != 3:
            raise ConfigError(f"input_shape must be (height, width, channels), got {input_shape}")
        if num_classes < 2:
            raise ConfigError(
                f"num_classes must be >= 2 for a softmax classifier, got {num_classes}"
            )
        shape = tuple(input_shape)
        inputs = keras.Input(shape=shape, name="image")
        if key == "cnn":
            if weights is not None:
                raise ConfigError(
                    "the from-scratch CNN has no pretrained weights; use weights=None"
                )
            x = _scratch_cnn(shape, filters, dropout)(inputs)
        else:
            path = _resolve_weights(key, weights)
            x = ChannelAdapter(3, mode=adapter, name="adapter")(inputs)
            if mode == "efficientnet" and path is not None:
                mode = "efficientnet-imagenet"
            x = ImageNetPreprocessing(mode, name="preprocessing")(x)
            app_kwargs: dict[str, Any] = {}
            if key.startswith("mobilenetv3"):
                app_kwargs["include_preprocessing"] = True
            net = getattr(keras.applications, app_name)(
                include_top=False,
                weights=None if path is None else str(path),
                input_shape=(shape[0], shape[1], 3),
                name="backbone",
                **app_kwargs,
            )
            x = net(x)
        x = layers.GlobalAveragePooling2D(name="pool")(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Dense(num_classes, name="logits")(x)
        if not return_logits:
            x = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
        super().__init__(inputs=inputs, outputs=x, name=name or f"classifier_{key}", **kwargs)
        self._config = {
            "backbone": key,
            "num_classes": int(num_classes),
            "input_shape": shape,
            "adapter": adapter,
            "dropout": float(dropout),
            "filters": tuple(int(f) for f in filters),
            "return_logits": bool(return_logits),
        }
        if mode == "efficientnet-imagenet":  # keep the input correction without the file
            self._config["preprocessing"] = mode

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (without the weights file)."""
        return {"name": self.name, "trainable": self.trainable, **self._config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Classifier:
        """Rebuild the model from :meth:`get_config`."""
        config = dict(config)
        mode = config.pop("preprocessing", None)
        model = cls(**config)
        if mode is not None:
            model.get_layer("preprocessing").mode = mode
            model._config["preprocessing"] = mode
        return model


def build_classifier(
    backbone: str = "cnn",
    num_classes: int = 4,
    *,
    input_shape: Sequence[int | None] = (224, 224, 1),
    weights: str | os.PathLike[str] | None = None,
    adapter: str = "repeat",
    dropout: float = 0.3,
    filters: Sequence[int] = (32, 64, 128, 256),
    return_logits: bool = False,
    name: str | None = None,
) -> Classifier:
    """Build a slice classifier on a from-scratch CNN or a ``keras.applications`` backbone.

    The model is ``image → adapter → preprocessing → backbone → global average pooling →
    dropout → Dense(num_classes) → softmax``; the backbone is a nested model named
    ``"backbone"`` (see :func:`freeze_backbone`). Inputs are float images in ``[0, 1]``
    with any channel count; for ``keras.applications`` backbones a
    :class:`ChannelAdapter` turns them into 3 channels so ImageNet weights fit.

    Args:
        backbone: One of :data:`BACKBONES`: ``"cnn"``, ``"resnet50"``,
            ``"efficientnetb0"`` … ``"efficientnetb3"``, ``"mobilenetv3small"``,
            ``"mobilenetv3large"``, ``"densenet121"`` (case, ``-`` and ``_`` ignored).
        num_classes: Output classes (4: glioma, meningioma, no tumour, pituitary).
        input_shape: ``(height, width, channels)``; ``None`` sizes allowed.
        weights: ``None`` (random init), a local path to the backbone's no-top ImageNet
            weights file, or ``"imagenet"`` to read it from the Keras cache
            (``~/.keras/models/``). Nothing is downloaded.
        adapter: :class:`ChannelAdapter` mode, ``"repeat"`` or ``"learned"``.
        dropout: Dropout before the classification layer (and spatial dropout in the CNN).
        filters: Filters per level of the from-scratch CNN.
        return_logits: Return logits instead of softmax probabilities.
        name: Model name (default ``"classifier_<backbone>"``).

    Returns:
        An un-compiled :class:`Classifier` (sparse integer labels fit its output).

    Raises:
        UnknownNameError: Unknown backbone; the message lists the valid ones.
        ModelError: The weights file is missing; the message gives its download URL.
        ConfigError: Invalid options.

    Example:
        >>> model = build_classifier("cnn", input_shape=(64, 64, 1), filters=(8, 16))
        >>> model.output_shape
        (None, 4)
    """
    return Classifier(
        backbone=backbone,
        num_classes=num_classes,
        input_shape=input_shape,
        weights=weights,
        adapter=adapter,
        dropout=dropout,
        filters=filters,
        return_logits=return_logits,
        name=name,
    )


def _backbone(model: keras.Model) -> keras.Model:
    try:
        return model.get_layer("backbone")
    except ValueError:
        raise ModelError(
            f"model {model.name!r} has no layer named 'backbone'; build it with build_classifier"
        ) from None


def freeze_backbone(model: keras.Model) -> keras.Model:
    """Freeze the backbone for stage 1 of fine-tuning (train only the new head).

    Re-``compile`` the model afterwards: Keras reads ``trainable`` when compiling.
    Frozen batch-normalisation layers run in inference mode (Keras 3 semantics), which is
    what fine-tuning needs.

    Args:
        model: A model from :func:`build_classifier`.

    Returns:
        The same model.

    Example:
        >>> m = freeze_backbone(build_classifier("cnn", input_shape=(32, 32, 1), filters=(8,)))
        >>> m.get_layer("backbone").trainable
        False
    """
    net = _backbone(model)
    net.trainable = False
    for layer in net.layers:
        layer.trainable = False
    return model


def unfreeze_backbone(
    model: keras.Model, *, last_n: int | None = None, train_batchnorm: bool = False
) -> keras.Model:
    """Unfreeze the backbone (or its last ``last_n`` layers) for stage 2 of fine-tuning.

    Batch-normalisation layers stay frozen unless ``train_batchnorm=True``: updating
    ImageNet statistics with small MRI batches destroys the pretrained features. Use a low
    learning rate (e.g. 1e-5) and re-``compile`` afterwards.

    Args:
        model: A model from :func:`build_classifier`.
        last_n: Unfreeze only the last ``last_n`` layers of the backbone (``None``: all).
        train_batchnorm: Also unfreeze batch-normalisation layers.

    Returns:
        The same model.

    Example:
        >>> m = build_classifier("cnn", input_shape=(32, 32, 1), filters=(8,))
        >>> m = unfreeze_backbone(freeze_backbone(m), last_n=2)
        >>> all(layer.trainable for layer in m.get_layer("backbone").layers[-2:])
        True
    """
    net = _backbone(model)
    net.trainable = True
    inner = [layer for layer in net.layers if not isinstance(layer, keras.layers.InputLayer)]
    for layer in inner:
        layer.trainable = True
    if last_n is not None:
        if last_n < 0:
            raise ConfigError(f"last_n must be >= 0, got {last_n}")
        for layer in inner[: len(inner) - last_n]:
            layer.trainable = False
    if not train_batchnorm:
        for layer in inner:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    return model
