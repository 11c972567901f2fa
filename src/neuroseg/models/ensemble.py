"""Averaging trained models into one: the ensemble of cross-validation fold models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuroseg.errors import ConfigError, ModelError

__all__ = ["ensemble_models"]


def _outputs(model: Any, label: str) -> dict[str, Any]:
    """A member's symbolic outputs by name: its dict keys, else its output layer's name."""
    out = model.output
    if isinstance(out, dict):
        return dict(out)
    if isinstance(out, (list, tuple)):
        names = list(getattr(model, "output_names", []) or [])
        if len(out) == 1:
            return {names[0] if names else "output": out[0]}
        if len(names) != len(out):
            raise ModelError(
                f"{label} has {len(out)} unnamed outputs; an ensemble averages outputs by "
                "name. Give them names (a dict output such as {'mask': ..., 'label': ...})."
            )
        return dict(zip(names, out))
    names = list(getattr(model, "output_names", []) or [])
    return {names[0] if names else "output": out}


def ensemble_models(models: Sequence[Any], *, name: str = "ensemble") -> Any:
    """One Keras model whose outputs are the mean of several models' outputs.

    The usual use is the fold models of a cross-validation (``neuroseg cv``): each was
    trained on all folds but one, and their mean is one model trained, in effect, on every
    fold, with the cost of all of them at inference (one forward pass per member).

    Every member must take the same input shape and give the same outputs (names and
    shapes), and those outputs must be probabilities (sigmoid masks, softmax classes), as
    every neuroseg model's are: the ensemble averages probabilities, not logits. A
    multi-task model's mask and class outputs are averaged separately. The result is a
    plain functional ``keras.Model`` (each member a nested model named ``member_<i>``)
    that saves to ``.keras`` and loads with ``safe_mode=True``; it predicts like any other
    model (:class:`~neuroseg.inference.Predictor`, ``neuroseg predict``/``evaluate``).

    Args:
        models: Two or more built functional ``keras.Model`` objects (e.g. from
            :func:`~neuroseg.models.load_model`); the members share their weights with them.
        name: The ensemble model's name.

    Returns:
        The ensemble ``keras.Model``. Its outputs keep the members' names: a single output
        is named after the first member's output, a dict output keeps its keys.

    Raises:
        ConfigError: Fewer than two models, or one model object passed twice.
        ModelError: A member that is not a built functional Keras model, or members whose
            input shapes or outputs differ.

    Example:
        >>> import numpy as np
        >>> from neuroseg.models import create_model
        >>> a = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
        >>> b = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
        >>> both = ensemble_models([a, b])
        >>> x = np.zeros((1, 32, 32, 1), "float32")
        >>> mean = (a.predict_on_batch(x) + b.predict_on_batch(x)) / 2
        >>> bool(np.allclose(both.predict_on_batch(x), mean, atol=1e-6))
        True
    """
    import keras

    members = list(models)
    if len(members) < 2:
        raise ConfigError(
            f"An ensemble needs at least two models, got {len(members)}; pass every fold model."
        )
    if len({id(m) for m in members}) != len(members):
        raise ConfigError(
            "The same model object is passed twice; load each member from its own file."
        )
    shapes: list[tuple[Any, ...]] = []
    outputs: list[dict[str, Any]] = []
    for i, model in enumerate(members):
        label = f"member {i} ({getattr(model, 'name', type(model).__name__)})"
        if not isinstance(model, keras.Model):
            raise ModelError(f"{label} is a {type(model).__name__}, not a keras.Model.")
        try:
            inputs = model.inputs
        except (AttributeError, ValueError):
            inputs = None
        if not inputs or len(inputs) != 1:
            raise ModelError(
                f"{label} is not a built functional model with one input; an ensemble needs "
                "models built on keras.Input (every neuroseg model is)."
            )
        shapes.append(tuple(inputs[0].shape[1:]))
        outputs.append(_outputs(model, label))
    for i in range(1, len(members)):
        if shapes[i] != shapes[0]:
            raise ModelError(
                f"member {i} ({members[i].name}) takes inputs of shape {shapes[i]} but member 0 "
                f"({members[0].name}) takes {shapes[0]}; ensemble models of one input size."
            )
        want = {k: tuple(v.shape[1:]) for k, v in outputs[0].items()}
        got = {k: tuple(v.shape[1:]) for k, v in outputs[i].items()}
        if got != want:
            raise ModelError(
                f"member {i} ({members[i].name}) gives outputs {got} but member 0 "
                f"({members[0].name}) gives {want}; ensemble models of one task and head."
            )
    image = keras.Input(shapes[0], name="image")
    results: list[dict[str, Any]] = []
    for i, model in enumerate(members):
        wrapped = keras.Model(model.input, model.output, name=f"member_{i}")
        out = wrapped(image)
        if isinstance(out, dict):
            results.append(dict(out))
        else:
            seq = list(out) if isinstance(out, (list, tuple)) else [out]
            results.append(dict(zip(outputs[i], seq)))
    keys = list(outputs[0])
    averaged = {k: keras.layers.Average(name=k)([r[k] for r in results]) for k in keys}
    if isinstance(members[0].output, dict):
        return keras.Model(image, averaged, name=name)
    if len(keys) > 1:
        return keras.Model(image, [averaged[k] for k in keys], name=name)
    return keras.Model(image, averaged[keys[0]], name=name)
