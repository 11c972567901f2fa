"""Grad-CAM for classifiers and a segmentation Grad-CAM for segmentation/multi-task models.

Grad-CAM (Selvaraju et al., 2017) weights a convolutional layer's feature maps by the
spatial mean of the gradient of a target score and keeps the positive part. For a
classifier the target is the probability of a class; for segmentation (Vinogradova et al.,
2020) it is the mean foreground probability over the predicted tumour (over all pixels
when nothing is predicted). Needs the TensorFlow backend (``tf.GradientTape``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroseg.errors import ConfigError, ModelError

__all__ = ["default_gradcam_layer", "grad_cam"]


def _is_head(layer: Any) -> bool:
    """A 1x1 convolution (a segmentation head) or a pure activation/input layer."""
    import keras

    if isinstance(layer, (keras.layers.InputLayer, keras.layers.Activation)):
        return True
    if isinstance(layer, keras.layers.Conv2D):
        return tuple(layer.kernel_size) == (1, 1)
    return False


def _outer_output(layer: Any) -> Any:
    """The layer's symbolic output in the enclosing model's graph.

    A nested functional model (e.g. a classifier's ``backbone``) has its own graph; its
    output in the outer graph is the output of the node where the outer model calls it.
    """
    import keras

    if isinstance(layer, keras.Model) and getattr(layer, "_inbound_nodes", None):
        return layer._inbound_nodes[-1].output_tensors[0]
    return layer.output


def _candidates(model: Any) -> list[str]:
    names = []
    for layer in reversed(model.layers):
        if _is_head(layer):
            continue
        try:
            shape = _outer_output(layer).shape
        except (AttributeError, ValueError, IndexError):
            continue
        if len(shape) == 4:
            names.append(str(layer.name))
    return names


def default_gradcam_layer(model: Any) -> str:
    """Name of the default Grad-CAM layer: the last 4-D feature layer before the head.

    The model's top-level layers are scanned from the end; activations, inputs and 1×1
    convolutions (segmentation heads) are skipped, and the first layer with a 4-D
    ``(N, H, W, C)`` output is chosen. For a ResUNet this is the last decoder stage; for
    a CNN classifier it is the last convolutional block before global pooling (or the
    nested ``backbone`` model's output). :func:`grad_cam` moves on to the next such
    layer when the target does not depend on this one (e.g. the class head of a
    multi-task model).

    Raises:
        ModelError: The model has no 4-D feature layer.

    Example:
        >>> from neuroseg.models import create_model
        >>> default_gradcam_layer(create_model("resunet-small", input_shape=(32, 32, 1)))
        'decoder_3'
    """
    names = _candidates(model)
    if names:
        return names[0]
    raise ModelError(f"{model.name}: no layer with a 4-D feature map for Grad-CAM.")


def grad_cam(
    model: Any,
    images: np.ndarray,
    *,
    layer_name: str | None = None,
    target: str = "auto",
    class_index: int | None = None,
    threshold: float = 0.5,
) -> np.ndarray:
    """Grad-CAM heatmaps for preprocessed ``(N, H, W, C)`` images.

    Args:
        model: A functional Keras model (segmentation, classifier or multi-task).
        images: Model inputs, already preprocessed (see :meth:`Predictor.preprocess`).
        layer_name: The convolutional layer to explain; default
            :func:`default_gradcam_layer`.
        target: ``"class"`` (class probability), ``"mask"`` (mean foreground probability
            over the predicted mask) or ``"auto"`` (``"class"`` when the model has class
            outputs, else ``"mask"``).
        class_index: The class for ``target="class"``; default the predicted class.
        threshold: Foreground threshold defining the predicted mask.

    Returns:
        ``(N, H, W)`` heatmaps in ``[0, 1]`` at the input size (each scaled by its max).

    Raises:
        ModelError: Unknown layer, or a target the model has no output for.
        ConfigError: Unknown ``target``.

    Example:
        >>> import numpy as np
        >>> from neuroseg.models import create_model
        >>> m = create_model("resunet-small", input_shape=(32, 32, 1))
        >>> grad_cam(m, np.random.rand(1, 32, 32, 1).astype("float32")).shape
        (1, 32, 32)
    """
    import keras
    import tensorflow as tf

    if target not in ("auto", "class", "mask"):
        raise ConfigError(f"Unknown Grad-CAM target {target!r}; use 'auto', 'class' or 'mask'.")
    names = [layer_name] if layer_name else _candidates(model)
    if not names:
        raise ModelError(f"{model.name}: no layer with a 4-D feature map for Grad-CAM.")
    x = tf.convert_to_tensor(np.asarray(images, np.float32))
    for name in names:
        try:
            layer = model.get_layer(name)
        except ValueError:
            valid = [lyr.name for lyr in model.layers]
            raise ModelError(
                f"{model.name}: no layer named {name!r}. Layers: {', '.join(valid)}."
            ) from None
        grad_model = keras.Model(model.input, [_outer_output(layer), model.output])
        with tf.GradientTape() as tape:
            features, out = grad_model(x, training=False)
            tape.watch(features)
            total = tf.reduce_sum(_target_score(model, out, target, class_index, threshold))
        grads = tape.gradient(total, features)
        if grads is not None:
            break
    else:
        raise ModelError(
            f"{model.name}: the Grad-CAM target does not depend on layer(s) {names}; pass "
            "layer_name= with a layer on the path to that output."
        )
    weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
    cam = tf.image.resize(cam[..., None], tf.shape(x)[1:3], method="bilinear")[..., 0]
    cam = cam.numpy()
    peak = cam.reshape(len(cam), -1).max(axis=1)
    return np.asarray(cam / np.where(peak > 0, peak, 1.0)[:, None, None], np.float32)


def _target_score(
    model: Any, out: Any, target: str, class_index: int | None, threshold: float
) -> Any:
    import tensorflow as tf

    outputs = _tensor_outputs(model, out)
    kind = target
    if kind == "auto":
        kind = "class" if "label" in outputs else "mask"
    key = "label" if kind == "class" else "mask"
    if key not in outputs:
        raise ModelError(
            f"{model.name}: Grad-CAM target {kind!r} needs a "
            f"{'class-probability' if kind == 'class' else 'mask'} output; this model "
            f"has {' and '.join(sorted(outputs)) or 'neither'}."
        )
    if kind == "class":
        probs = outputs["label"]
        idx = (
            tf.argmax(probs, axis=-1)
            if class_index is None
            else tf.fill([tf.shape(probs)[0]], tf.cast(class_index, tf.int64))
        )
        return tf.gather(probs, idx, axis=1, batch_dims=1)
    m = outputs["mask"]
    fg = m[..., 0] if m.shape[-1] == 1 else 1.0 - m[..., 0]
    sel = tf.cast(fg >= threshold, fg.dtype)
    has = tf.reduce_sum(sel, axis=[1, 2]) > 0
    sel = tf.where(has[:, None, None], sel, tf.ones_like(sel))
    return tf.reduce_sum(fg * sel, axis=[1, 2]) / tf.reduce_sum(sel, axis=[1, 2])


def _tensor_outputs(model: Any, out: Any) -> dict[str, Any]:
    """Like ``_split_outputs`` but keeps tensors (for gradients)."""
    if isinstance(out, dict):
        items = dict(out)
    elif isinstance(out, (list, tuple)):
        items = dict(zip(list(getattr(model, "output_names", [])), out))
    else:
        items = {"output": out}
    result: dict[str, Any] = {}
    for value in items.values():
        if len(value.shape) == 4 and "mask" not in result:
            result["mask"] = value
        elif len(value.shape) == 2 and "label" not in result:
            result["label"] = value
    return result
