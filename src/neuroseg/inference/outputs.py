"""A model's raw outputs as named arrays: segmentation masks and class probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroseg.errors import ModelError

__all__ = ["foreground", "split_outputs"]


def split_outputs(model: Any, out: Any) -> dict[str, np.ndarray]:
    """Map a model's raw output to ``{"mask": (N, h, w, c), "label": (N, K)}``.

    A dict output keeps its names' meaning by shape (4-D: masks, 2-D: class
    probabilities); a list output needs the model's output names.

    Raises:
        ModelError: An output is neither a mask batch nor class probabilities, or
            unnamed list outputs.

    Example:
        >>> import numpy as np
        >>> out = split_outputs(None, {"m": np.zeros((2, 4, 4, 1)), "l": np.zeros((2, 3))})
        >>> sorted((k, v.shape) for k, v in out.items())
        [('label', (2, 3)), ('mask', (2, 4, 4, 1))]
    """
    import keras

    label = getattr(model, "name", "the model")
    if isinstance(out, dict):
        items = dict(out)
    elif isinstance(out, (list, tuple)):
        names = list(getattr(model, "output_names", []) or [])
        if len(names) != len(out):
            raise ModelError(
                f"{label}: the model has {len(out)} outputs without names; name them "
                "'mask' and 'label' (a dict output) so neuroseg can tell them apart."
            )
        items = dict(zip(names, out))
    else:
        items = {"output": out}
    result: dict[str, np.ndarray] = {}
    for name, value in items.items():
        arr = np.asarray(keras.ops.convert_to_numpy(value), np.float32)
        if arr.ndim == 4 and "mask" not in result:
            result["mask"] = arr
        elif arr.ndim == 2 and "label" not in result:
            result["label"] = arr
        else:
            raise ModelError(
                f"{label}: output {name!r} has shape {arr.shape}; expected masks "
                "(N, H, W, C) or class probabilities (N, num_classes)."
            )
    return result


def foreground(mask_out: np.ndarray) -> np.ndarray:
    """Foreground probability ``(N, h, w)`` from sigmoid or softmax mask outputs.

    One channel is the foreground probability; with several (softmax), it is one minus
    the background channel 0.

    Example:
        >>> import numpy as np
        >>> foreground(np.full((1, 2, 2, 2), 0.25)).tolist()
        [[[0.75, 0.75], [0.75, 0.75]]]
    """
    if mask_out.shape[-1] == 1:
        return mask_out[..., 0]
    return 1.0 - mask_out[..., 0]
