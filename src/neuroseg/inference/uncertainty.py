"""Uncertainty from test-time augmentation and Monte Carlo dropout.

Both methods run a model several times on the same inputs and look at the spread:

- ``"tta"``: the 8 flips and 90° rotations of :func:`~neuroseg.inference.tta_transforms`
  (each output mapped back first); works for every model.
- ``"mc-dropout"``: the model's dropout layers stay on (``training=True`` for them only;
  batch normalisation stays in inference mode) for ``n_samples`` passes (Gal and
  Ghahramani, ICML 2016). A model without dropout (or with rate 0) is refused.

For segmentation, :func:`segmentation_uncertainty` gives per pixel the mean probability,
its variance over the passes and the binary entropy of the mean, plus a per-slice score:
the mean entropy inside the predicted mask and a border of ``border`` pixels around it
(the whole slice when the mask is empty). For classification,
:func:`classification_uncertainty` gives the predictive entropy of the mean probabilities
and the mutual information between the prediction and the passes (the part of the entropy
that comes from disagreement between passes). :func:`uncertainty_auroc` measures how well a
score ranks errors (e.g. slices with Dice < 0.5, wrong classes).

Example:
    >>> import numpy as np
    >>> predictive_entropy(np.array([[0.5, 0.5], [1.0, 0.0]])).round(4).tolist()
    [0.6931, 0.0]
    >>> s = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])  # two passes that disagree
    >>> mutual_information(s).round(3).tolist()
    [0.368]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError, ModelError
from neuroseg.inference.tta import tta_transforms

__all__ = [
    "METHODS",
    "ClassificationUncertainty",
    "SegmentationUncertainty",
    "binary_entropy",
    "classification_uncertainty",
    "dropout_layers",
    "mc_dropout",
    "mutual_information",
    "predictive_entropy",
    "sample_predictions",
    "segmentation_uncertainty",
    "slice_uncertainty",
    "uncertainty_auroc",
]

#: The uncertainty methods.
METHODS = ("tta", "mc-dropout")
_TINY = 1e-12


def predictive_entropy(probabilities: Any) -> np.ndarray:
    """Entropy (nats) of class probabilities over the last axis: ``-Σ p log p``.

    Example:
        >>> float(predictive_entropy(np.array([0.25, 0.25, 0.25, 0.25])).round(4))
        1.3863
    """
    p = np.clip(np.asarray(probabilities, np.float64), 0.0, 1.0)
    return np.asarray(0.0 - np.sum(p * np.log(np.maximum(p, _TINY)), axis=-1) + 0.0)


def binary_entropy(p: Any) -> np.ndarray:
    """Entropy (nats) of each sigmoid probability (0 at 0 and 1, ``log 2`` at 0.5).

    Example:
        >>> binary_entropy(np.array([0.5, 1.0])).round(4).tolist()
        [0.6931, 0.0]
    """
    q = np.clip(np.asarray(p, np.float64), 0.0, 1.0)
    h = -(q * np.log(np.maximum(q, _TINY)) + (1 - q) * np.log(np.maximum(1 - q, _TINY)))
    return np.asarray(h + 0.0)  # + 0.0 turns -0.0 into 0.0


def mutual_information(samples: Any) -> np.ndarray:
    """Mutual information of ``(S, ..., K)`` sampled class probabilities (BALD).

    ``H(mean over samples) - mean over samples of H``: 0 when every sample agrees.

    Example:
        >>> mutual_information(np.array([[[0.9, 0.1]], [[0.9, 0.1]]])).round(6).tolist()
        [0.0]
    """
    s = np.asarray(samples, np.float64)
    return np.asarray(
        np.maximum(predictive_entropy(s.mean(axis=0)) - predictive_entropy(s).mean(axis=0), 0.0)
    )


def dropout_layers(model: Any) -> list[Any]:
    """The dropout layers (``Dropout``, ``SpatialDropout*``, ...) of ``model`` with rate > 0.

    Example:
        >>> from neuroseg.models import create_model
        >>> len(dropout_layers(create_model("resunet-small", input_shape=(32, 32, 1))))
        0
    """
    import keras

    found = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        is_dropout = isinstance(layer, keras.layers.Dropout) or "Dropout" in type(layer).__name__
        if is_dropout and float(getattr(layer, "rate", 0.0) or 0.0) > 0:
            found.append(layer)
    return found


@contextmanager
def mc_dropout(model: Any) -> Iterator[list[Any]]:
    """Keep the dropout layers of ``model`` on (``training=True``) inside the block.

    Only the dropout layers are switched: batch normalisation and every other layer keep
    the ``training`` flag of the call, so ``model(x, training=False)`` uses the moving
    statistics and samples a dropout mask per call. The layers are restored on exit.

    Raises:
        ModelError: The model has no dropout layer with a rate above 0.

    Example:
        >>> from neuroseg.models import create_model
        >>> net = create_model("resunet-small", input_shape=(32, 32, 1))
        >>> from neuroseg.errors import ModelError
        >>> try:
        ...     with mc_dropout(net):
        ...         pass
        ... except ModelError as e:
        ...     print(str(e)[:48])
        resunet_small has no dropout layer with a rate a
    """
    layers = dropout_layers(model)
    if not layers:
        raise ModelError(
            f"{model.name} has no dropout layer with a rate above 0, so MC dropout would give "
            "the same output every time; use test-time augmentation instead (method='tta', "
            "neuroseg predict --uncertainty tta) or a model trained with dropout."
        )
    originals = []
    for layer in layers:
        original = layer.call

        def always_on(inputs: Any, training: Any = None, _call: Any = original) -> Any:
            return _call(inputs, training=True)

        originals.append((layer, "call" in vars(layer), original))
        layer.call = always_on
    try:
        yield layers
    finally:
        for layer, own, original in originals:
            if own:
                layer.call = original
            else:
                del layer.call


def sample_predictions(
    predictor: Any, batch: Any, *, method: str = "tta", n_samples: int = 20
) -> dict[str, np.ndarray]:
    """Run a model several times on model-ready inputs: ``{"mask": (S, N, H, W), ...}``.

    Args:
        predictor: A :class:`~neuroseg.inference.Predictor`.
        batch: ``(N, H, W, C)`` preprocessed inputs (:meth:`Predictor.preprocess`).
        method: ``"tta"`` (the flips and rotations, mapped back) or ``"mc-dropout"``.
        n_samples: Passes for MC dropout.

    Returns:
        The outputs of :meth:`~neuroseg.inference.Predictor.predict_batch` stacked over
        the passes: foreground probabilities ``"mask"`` and/or class probabilities
        ``"label"``.

    Raises:
        ConfigError: An unknown method or ``n_samples < 2``.
        ModelError: MC dropout on a model without dropout.
    """
    if method not in METHODS:
        raise ConfigError(f"Unknown uncertainty method {method!r}; use 'tta' or 'mc-dropout'.")
    if n_samples < 2:
        raise ConfigError(f"n_samples must be at least 2, got {n_samples}")
    x = np.asarray(batch, np.float32)
    runs: list[dict[str, np.ndarray]] = []
    if method == "tta":
        for t in tta_transforms(square=x.shape[1] == x.shape[2]):
            out = predictor.predict_batch(t.forward(x), tta=False)
            if "mask" in out:
                out["mask"] = t.inverse(out["mask"][..., None])[..., 0]
            runs.append(out)
    else:
        with mc_dropout(predictor.model):
            runs = [predictor.predict_batch(x, tta=False) for _ in range(n_samples)]
    return {k: np.stack([r[k] for r in runs]) for k in runs[0]}


def slice_uncertainty(
    probability: Any, uncertainty_map: Any, *, threshold: float = 0.5, border: int = 3
) -> np.ndarray:
    """Per-slice score: the mean of ``uncertainty_map`` inside the mask and its border.

    The region is the predicted mask (``probability > threshold``) grown by ``border``
    pixels; an empty mask scores over the whole slice.

    Args:
        probability: ``(N, H, W)`` foreground probabilities.
        uncertainty_map: ``(N, H, W)`` uncertainty per pixel (entropy, variance).
        threshold: Foreground threshold.
        border: Pixels to grow the mask by (the boundary is where models hesitate).

    Example:
        >>> p = np.zeros((1, 5, 5)); p[0, 2, 2] = 0.9
        >>> u = np.zeros((1, 5, 5)); u[0, 2, 2] = 1.0
        >>> slice_uncertainty(p, u, border=1).round(4).tolist()
        [0.1111]
    """
    import cv2

    prob = np.asarray(probability, np.float64)
    u = np.asarray(uncertainty_map, np.float64)
    if prob.shape != u.shape or prob.ndim != 3:
        raise ConfigError(f"expected two (N, H, W) arrays, got {prob.shape} and {u.shape}")
    kernel = np.ones((2 * border + 1, 2 * border + 1), np.uint8)
    scores = np.empty(len(prob))
    for i in range(len(prob)):
        mask = (prob[i] > threshold).astype(np.uint8)
        region = cv2.dilate(mask, kernel) > 0 if border > 0 else mask > 0
        scores[i] = u[i][region].mean() if region.any() else u[i].mean()
    return scores


@dataclass(eq=False)
class SegmentationUncertainty:
    """Per-pixel and per-slice uncertainty of a segmentation.

    Attributes:
        method: ``"tta"`` or ``"mc-dropout"``.
        probability: ``(N, H, W)`` mean foreground probability over the passes.
        variance: ``(N, H, W)`` variance of the probability over the passes.
        entropy: ``(N, H, W)`` binary entropy of the mean probability (nats, 0 to log 2).
        score: ``(N,)`` per-slice score (:func:`slice_uncertainty` of ``entropy``).
        n_samples: Passes.
    """

    method: str
    probability: np.ndarray
    variance: np.ndarray
    entropy: np.ndarray
    score: np.ndarray
    n_samples: int


@dataclass(eq=False)
class ClassificationUncertainty:
    """Uncertainty of class predictions.

    Attributes:
        method: ``"tta"``, ``"mc-dropout"`` or ``None`` (one pass).
        probabilities: ``(N, K)`` mean class probabilities.
        entropy: ``(N,)`` predictive entropy of the mean (nats).
        mutual_information: ``(N,)`` mutual information (0 with one pass).
        n_samples: Passes.
    """

    method: str | None
    probabilities: np.ndarray
    entropy: np.ndarray
    mutual_information: np.ndarray
    n_samples: int


def segmentation_uncertainty(
    predictor: Any,
    batch: Any,
    *,
    method: str = "tta",
    n_samples: int = 20,
    threshold: float | None = None,
    border: int = 3,
) -> SegmentationUncertainty:
    """Uncertainty maps and per-slice scores of a segmentation model on inputs.

    Args:
        predictor: A :class:`~neuroseg.inference.Predictor` of a segmentation (or
            multi-task) model.
        batch: ``(N, H, W, C)`` model-ready inputs.
        method: ``"tta"`` or ``"mc-dropout"``.
        n_samples: Passes for MC dropout.
        threshold: Foreground threshold of the slice score (default: the predictor's).
        border: Border of the slice score's region.

    Example:
        >>> from neuroseg.inference import Predictor
        >>> from neuroseg.models import create_model
        >>> p = Predictor(create_model("resunet-small", input_shape=(32, 32, 1)))
        >>> u = segmentation_uncertainty(p, np.zeros((2, 32, 32, 1), np.float32))
        >>> u.entropy.shape, u.score.shape, u.n_samples
        ((2, 32, 32), (2,), 8)
    """
    predictor.check_task("segmentation", "multitask", command="segmentation_uncertainty")
    samples = sample_predictions(predictor, batch, method=method, n_samples=n_samples)["mask"]
    mean = samples.mean(axis=0)
    entropy = binary_entropy(mean).astype(np.float32)
    cut = predictor.threshold if threshold is None else threshold
    return SegmentationUncertainty(
        method=method,
        probability=mean.astype(np.float32),
        variance=samples.var(axis=0).astype(np.float32),
        entropy=entropy,
        score=slice_uncertainty(mean, entropy, threshold=cut, border=border),
        n_samples=len(samples),
    )


def classification_uncertainty(
    predictor: Any, batch: Any, *, method: str | None = None, n_samples: int = 20
) -> ClassificationUncertainty:
    """Predictive entropy (and mutual information over passes) of a classifier.

    Args:
        predictor: A :class:`~neuroseg.inference.Predictor` of a classifier (or
            multi-task model).
        batch: ``(N, H, W, C)`` model-ready inputs.
        method: ``None`` (one pass: entropy only), ``"tta"`` or ``"mc-dropout"``.
        n_samples: Passes for MC dropout.

    Example:
        >>> from neuroseg.inference import Predictor
        >>> from neuroseg.models import create_model
        >>> p = Predictor(create_model("classifier-cnn", input_shape=(32, 32, 1)))
        >>> u = classification_uncertainty(p, np.zeros((3, 32, 32, 1), np.float32))
        >>> u.entropy.shape, u.mutual_information.tolist()
        ((3,), [0.0, 0.0, 0.0])
    """
    predictor.check_task("classification", "multitask", command="classification_uncertainty")
    if method is None:
        samples = predictor.predict_batch(np.asarray(batch, np.float32), tta=False)["label"][None]
    else:
        samples = sample_predictions(predictor, batch, method=method, n_samples=n_samples)["label"]
    mean = samples.mean(axis=0)
    return ClassificationUncertainty(
        method=method,
        probabilities=mean,
        entropy=predictive_entropy(mean),
        mutual_information=mutual_information(samples),
        n_samples=len(samples),
    )


def uncertainty_auroc(score: Any, error: Any) -> float:
    """How well ``score`` ranks errors: the ROC AUC of ``score`` for ``error`` (True/1).

    0.5 is chance, 1.0 ranks every error above every success; NaN when ``error`` is all
    one value.

    Example:
        >>> uncertainty_auroc([0.9, 0.2, 0.7, 0.1], [True, False, True, False])
        1.0
    """
    from neuroseg.metrics import roc_auc

    e = np.asarray(error).astype(bool).astype(np.int64)
    return float(roc_auc(e, np.asarray(score, np.float64)))
