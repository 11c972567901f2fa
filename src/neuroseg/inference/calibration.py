"""Temperature scaling: fit one temperature on validation data and store it in the model.

A classifier's softmax probabilities (or a segmenter's per-pixel sigmoid probabilities) are
often over-confident. Temperature scaling (Guo et al., ICML 2017) divides the logits by
one scalar ``T`` fitted by minimising the negative log-likelihood (NLL) on held-out
data; it never changes the predicted class or the 0.5 threshold, only how sure the model
says it is. :func:`fit_temperature` finds ``T`` by a golden-section search over ``log T``
(the NLL is unimodal in ``T``); :func:`calibrate_model` collects a model's probabilities
on a dataset through a :class:`~neuroseg.inference.Predictor`, fits ``T`` and returns the
model with a :class:`~neuroseg.models.TemperatureScaling` layer on its output, plus a
:class:`CalibrationResult` with ECE, MCE, Brier score and NLL before and after.
``neuroseg calibrate`` runs it from the command line.

Fit ``T`` on data the model was not trained on (a validation fold) and report the figures
on yet other data: ``T`` fitted and scored on the same items flatters itself.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, 400)
    >>> right = rng.random(400) < 0.7  # 70 % right, but said with 99 % confidence
    >>> pred = np.where(right, labels, 1 - labels)
    >>> probs = np.where(pred[:, None] == [0, 1], 0.99, 0.01)
    >>> t = fit_temperature(probs, labels, activation="softmax")
    >>> round(t, 1), float(right.mean())  # T = 5.8 brings the confidence to the accuracy
    (5.8, 0.6875)
    >>> float(apply_temperature(probs[:1], t, activation="softmax").max().round(2))
    0.69
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroseg.errors import ConfigError, EmptyDatasetError, ModelError
from neuroseg.metrics.calibration import (
    ReliabilityCurve,
    brier_score,
    negative_log_likelihood,
    reliability_curve,
)
from neuroseg.tables import format_table

__all__ = [
    "CalibrationResult",
    "apply_temperature",
    "calibrate_model",
    "calibration_figures",
    "collect_probabilities",
    "evaluate_temperature",
    "fit_temperature",
    "with_temperature",
]

_EPS = 1e-7


def _logits(p: np.ndarray, activation: str) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), _EPS, 1.0 - _EPS)
    out: np.ndarray = np.log(p) if activation == "softmax" else np.log(p) - np.log1p(-p)
    return out


def _check_activation(activation: str) -> None:
    if activation not in ("softmax", "sigmoid"):
        raise ConfigError(f"Unknown activation {activation!r}; use 'softmax' or 'sigmoid'.")


def apply_temperature(
    probabilities: Any, temperature: float, *, activation: str = "softmax"
) -> np.ndarray:
    """Probabilities after temperature scaling (NumPy; the same as the Keras layer).

    Args:
        probabilities: ``(..., C)`` softmax probabilities or sigmoid probabilities of any
            shape.
        temperature: ``T`` > 0.
        activation: ``"softmax"`` (over the last axis) or ``"sigmoid"`` (each value).

    Example:
        >>> apply_temperature([[0.8, 0.2]], 2.0).round(4).tolist()
        [[0.6667, 0.3333]]
    """
    _check_activation(activation)
    if not (math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f"temperature must be a finite number > 0, got {temperature}")
    z = _logits(np.asarray(probabilities), activation) / temperature
    if activation == "sigmoid":
        return np.asarray(1.0 / (1.0 + np.exp(-z)))
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def _nll(z: np.ndarray, y: np.ndarray, activation: str) -> float:
    """Mean NLL of labels ``y`` under logits ``z`` (already divided by T)."""
    if activation == "sigmoid":
        # binary cross-entropy: softplus(z) - y * z
        return float(np.mean(np.logaddexp(0.0, z) - y * z))
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def fit_temperature(
    probabilities: Any,
    targets: Any,
    *,
    activation: str = "softmax",
    bounds: tuple[float, float] = (0.05, 20.0),
    tol: float = 1e-4,
    max_samples: int | None = 2_000_000,
    seed: int = 0,
) -> float:
    """The temperature that minimises the NLL of ``targets`` (golden section over log T).

    Args:
        probabilities: ``(N, C)`` softmax probabilities, or sigmoid probabilities of any
            shape (e.g. ``(N, H, W)`` pixels).
        targets: ``(N,)`` labels for a softmax; 0/1 truth of the same shape for a sigmoid.
        activation: ``"softmax"`` or ``"sigmoid"``.
        bounds: Search interval of ``T``.
        tol: Stop when the interval of ``log T`` is narrower than this.
        max_samples: Fit on at most this many items/pixels, drawn at random with ``seed``
            (``None``: all).
        seed: Seed of that draw.

    Returns:
        ``T`` (a value at a bound means the optimum may lie beyond it).

    Raises:
        ConfigError: Shapes that do not match, labels out of range, bad bounds.
        EmptyDatasetError: No items.

    Example:
        >>> fit_temperature([0.9, 0.1, 0.8, 0.3], [1, 0, 1, 0], activation="sigmoid") < 1
        True
    """
    _check_activation(activation)
    lo, hi = float(bounds[0]), float(bounds[1])
    if not 0 < lo < hi:
        raise ConfigError(f"bounds must satisfy 0 < low < high, got {bounds}")
    p = np.asarray(probabilities, np.float64)
    y = np.asarray(targets)
    if activation == "sigmoid":
        if p.shape != y.shape:
            raise ConfigError(f"probabilities {p.shape} and targets {y.shape} differ in shape")
        p, y = p.reshape(-1, 1), (y.reshape(-1) > 0).astype(np.float64)
    else:
        if p.ndim != 2 or y.shape != (len(p),):
            raise ConfigError(
                f"softmax: expected (N, C) probabilities and (N,) labels, got {p.shape} and "
                f"{y.shape}"
            )
        y = y.astype(np.int64)
        if len(y) and (y.min() < 0 or y.max() >= p.shape[1]):
            raise ConfigError(f"labels must lie in 0..{p.shape[1] - 1}")
    if not len(y):
        raise EmptyDatasetError("no items to fit the temperature on")
    if not np.isfinite(p).all():
        raise ConfigError("probabilities contain NaN or infinite values")
    if max_samples is not None and len(y) > max_samples:
        keep = np.random.default_rng(seed).choice(len(y), max_samples, replace=False)
        p, y = p[keep], y[keep]
    z = _logits(p, activation)
    if activation == "sigmoid":
        z = z[:, 0]

    def loss(log_t: float) -> float:
        return _nll(z / math.exp(log_t), y, activation)

    a, b = math.log(lo), math.log(hi)
    g = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = loss(c), loss(d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = loss(d)
    # the ends of the interval are candidates too (a monotone loss ends at a bound)
    candidates = (math.log(lo), (a + b) / 2.0, math.log(hi))
    return float(math.exp(min(candidates, key=loss)))


def calibration_figures(
    targets: Any, probabilities: Any, *, n_bins: int = 15
) -> tuple[dict[str, float], ReliabilityCurve]:
    """ECE, MCE, Brier score and NLL of probabilities, and their reliability curve.

    Args:
        targets: ``(N,)`` labels with ``(N, C)`` probabilities, or 0/1 truth of the same
            shape as sigmoid probabilities (flattened: every pixel is an item).
        probabilities: The probabilities.
        n_bins: Bins of ECE and MCE.

    Example:
        >>> figures, curve = calibration_figures([1, 0], [0.9, 0.2], n_bins=10)
        >>> sorted(figures), curve.n
        (['brier', 'ece', 'mce', 'nll'], 2)
    """
    p = np.asarray(probabilities, np.float64)
    t = np.asarray(targets)
    if p.ndim != 2 or t.ndim != 1:
        p, t = p.reshape(-1), (t.reshape(-1) > 0).astype(np.int64)
    curve = reliability_curve(t, p, n_bins=n_bins)
    figures = {
        "ece": curve.ece,
        "mce": curve.mce,
        "brier": brier_score(t, p),
        "nll": negative_log_likelihood(t, p),
    }
    return figures, curve


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate_model` found.

    Attributes:
        temperature: The fitted ``T``.
        activation: ``"softmax"`` (a classifier) or ``"sigmoid"`` (a segmenter's pixels).
        n_items: Images the temperature was fitted on.
        n_samples: Items or pixels scored (a segmentation's pixels).
        before: ``ece``, ``mce``, ``brier``, ``nll`` of the model's own probabilities.
        after: The same after temperature scaling.
        curve_before: Reliability curve before.
        curve_after: Reliability curve after.
        meta: Free-form extra fields (e.g. the data it was fitted on).

    Example:
        >>> r = CalibrationResult(1.5, "softmax", 2, 2, {"ece": 0.2}, {"ece": 0.1})
        >>> r.to_dict()["temperature"]
        1.5
    """

    temperature: float
    activation: str
    n_items: int
    n_samples: int
    before: dict[str, float]
    after: dict[str, float]
    curve_before: ReliabilityCurve | None = None
    curve_after: ReliabilityCurve | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the curves as :meth:`ReliabilityCurve.to_dict`)."""
        out: dict[str, Any] = {
            "temperature": self.temperature,
            "activation": self.activation,
            "n_items": self.n_items,
            "n_samples": self.n_samples,
            "before": dict(self.before),
            "after": dict(self.after),
        }
        if self.curve_before is not None and self.curve_after is not None:
            out["reliability_before"] = self.curve_before.to_dict()
            out["reliability_after"] = self.curve_after.to_dict()
        out.update(self.meta)
        return out

    def format(self) -> str:
        """The figures before and after as an aligned table.

        Example:
            >>> r = CalibrationResult(2.0, "softmax", 4, 4, {"ece": 0.25}, {"ece": 0.05})
            >>> print(r.format().splitlines()[0])
            temperature T = 2 (softmax, fitted on 4 images, 4 items)
        """
        unit = "pixels" if self.activation == "sigmoid" else "items"
        rows = [
            [name, self.before.get(key), self.after.get(key)]
            for key, name in (
                ("ece", "expected calibration error (ECE)"),
                ("mce", "maximum calibration error (MCE)"),
                ("brier", "Brier score"),
                ("nll", "negative log-likelihood (NLL)"),
            )
            if key in self.before
        ]
        head = (
            f"temperature T = {self.temperature:.4g} ({self.activation}, fitted on "
            f"{self.n_items} images, {self.n_samples} {unit})"
        )
        return head + "\n" + format_table(rows, header=["metric", "before", "after"])

    def __str__(self) -> str:
        return self.format()


_HEADS = ("mask", "label")


def _mask_channels(model: Any) -> int:
    """Channels of a model's (first) 4-D output."""
    shapes = model.output_shape
    if isinstance(shapes, dict):
        shapes = list(shapes.values())
    if not (isinstance(shapes, (list, tuple)) and shapes and isinstance(shapes[0], tuple)):
        shapes = [shapes]
    for shape in shapes:
        if len(shape) == 4:
            return int(shape[-1])
    return 1


def _activation_of(predictor: Any, head: str | None = None) -> str:
    """``"softmax"`` for a class head, ``"sigmoid"`` for a one-channel mask head.

    A multi-task model needs ``head`` (``"mask"`` or ``"label"``); a single-task model
    takes ``None`` or its own head.
    """
    task = predictor.task
    if head is not None and head not in _HEADS:
        raise ConfigError(f"Unknown head {head!r}; use 'mask' or 'label'.")
    own = {"classification": "label", "segmentation": "mask"}.get(task)
    if task == "multitask":
        if head is None:
            raise ModelError(
                f"{predictor.model.name} is a multitask model: name the head to calibrate "
                "(head='mask' or head='label'); neuroseg calibrate fits one T per head."
            )
        own = head
    elif own is None:
        raise ModelError(
            f"{predictor.model.name} is a {task} model; calibrate_model handles a classifier, "
            "a segmentation model with one output or a multi-task model."
        )
    elif head is not None and head != own:
        raise ModelError(f"{predictor.model.name} is a {task} model: it has no {head!r} head.")
    if own == "label":
        return "softmax"
    channels = _mask_channels(predictor.model)
    if channels != 1:
        raise ModelError(
            f"{predictor.model.name}: per-pixel temperature scaling needs a one-channel "
            f"sigmoid mask output; this model gives {channels} channels."
        )
    return "sigmoid"


def collect_probabilities(
    predictor: Any, data: Any, *, progress: Any = None, head: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A model's probabilities and the truth on a labelled dataset, without TTA.

    Each image is prepared by the predictor's preprocessor
    (:meth:`~neuroseg.inference.Predictor.prepare`) and run by
    :meth:`~neuroseg.inference.Predictor.predict_batch`; a segmentation's probability map
    is pasted back into the image's frame (:meth:`~neuroseg.inference.Predictor.invert`),
    where its truth mask lives.

    Args:
        predictor: A :class:`~neuroseg.inference.Predictor` (its ``tta`` is not used).
        data: A :class:`~neuroseg.data.SliceDataset` with labels (classifier) or masks
            (segmenter), or a pair ``(images, targets)`` of model-ready ``(N, H, W, C)``
            inputs and ``(N,)`` labels / ``(N, H, W)`` masks.
        progress: Called as ``progress(done, total)`` after each batch.
        head: ``"mask"`` or ``"label"``: the head of a multi-task model (whose records
            need that head's truth); ``None`` for a single-task model.

    Returns:
        ``(probabilities, targets, sizes)``: ``(N, K)`` and ``(N,)`` for a classifier; for
        a segmenter the flattened pixels of every image, ``(P,)`` and ``(P,)`` 0/1. ``sizes``
        ``(N,)`` gives each image's number of rows (1 for a classifier, its pixels for a
        segmenter), in order.

    Raises:
        EmptyDatasetError: No items.
        DataError: An item without its label or mask.
    """
    from neuroseg.errors import DataError

    activation = _activation_of(predictor, head)
    key = "label" if activation == "softmax" else "mask"
    if isinstance(data, tuple):
        x, y = np.asarray(data[0], np.float32), np.asarray(data[1])
        if not len(x):
            raise EmptyDatasetError("no items to calibrate on")
        out = np.concatenate(
            [
                predictor.predict_batch(x[i : i + predictor.batch_size], tta=False)[key]
                for i in range(0, len(x), predictor.batch_size)
            ]
        )
        if key == "mask":
            sizes = np.full(len(x), out[0].size, np.int64)
            return out.reshape(-1), (y.reshape(-1) > 0).astype(np.int64), sizes
        return out, y.astype(np.int64), np.ones(len(x), np.int64)
    records = list(data)
    if not records:
        raise EmptyDatasetError("no items to calibrate on")
    probs: list[np.ndarray] = []
    truth: list[np.ndarray] = []
    size = predictor.batch_size
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        images = [r.load_image() for r in chunk]
        prepared = [
            predictor.prepare(img, source=str(r.source or r.image)) for img, r in zip(images, chunk)
        ]
        batch = np.stack([pr.array for pr in prepared])
        out = predictor.predict_batch(batch, tta=False)[key]
        for i, r in enumerate(chunk):
            name = str(r.source or r.image)
            if key == "label":
                if r.label is None:
                    raise DataError(f"{name}: no class label to calibrate on")
                probs.append(out[i])
                truth.append(np.asarray(r.label, np.int64))
            else:
                mask = r.load_mask()
                if mask is None:
                    raise DataError(f"{name}: no mask to calibrate on")
                probs.append(predictor.invert(out[i], prepared[i]).reshape(-1))
                truth.append((np.asarray(mask) > 0).astype(np.int64).reshape(-1))
        if progress is not None:
            progress(min(start + size, len(records)), len(records))
    sizes = np.array([t.size for t in truth], np.int64)
    if key == "label":
        return np.stack(probs), np.stack(truth), sizes
    return np.concatenate(probs), np.concatenate(truth), sizes


def with_temperature(model: Any, temperature: Any, *, activation: str = "softmax") -> Any:
    """``model`` followed by a :class:`~neuroseg.models.TemperatureScaling` layer.

    Returns a functional ``keras.Model`` (named ``<model>_calibrated``) that takes the
    same input and gives the temperature-scaled probabilities; it saves and loads as a
    ``.keras`` file like any neuroseg model.

    For a multi-task model (a dict of a mask and class probabilities), pass
    ``temperature`` as ``{"mask": T, "label": T}`` (either may be left out: that head
    is passed through): the mask head gets a sigmoid layer (``temperature_mask``), the
    class head a softmax layer (``temperature_label``), and the outputs keep their names.
    ``activation`` is then ignored.

    Example:
        >>> from neuroseg.models import create_model
        >>> m = with_temperature(create_model("resunet-small", input_shape=(32, 32, 1)), 1.5,
        ...                      activation="sigmoid")
        >>> m.name, m.layers[-1].temperature
        ('resunet_small_calibrated', 1.5)
        >>> net = create_model("multitask-base", input_shape=(32, 32, 1), num_classes=4)
        >>> m = with_temperature(net, {"mask": 2.0, "label": 1.2})
        >>> sorted(layer.name for layer in m.layers if layer.name.startswith("temperature"))
        ['temperature_label', 'temperature_mask']
    """
    import keras

    from neuroseg.models.layers.temperature import TemperatureScaling

    if not isinstance(model, keras.Model):
        raise ModelError(f"with_temperature needs a keras.Model, got {type(model).__name__}")
    outputs = model.output_shape
    several = isinstance(outputs, (list, dict)) or (
        isinstance(outputs, tuple) and outputs and isinstance(outputs[0], tuple)
    )
    inputs = keras.Input(shape=tuple(model.input_shape[1:]), name="image")
    if isinstance(temperature, dict):
        unknown = set(temperature) - set(_HEADS)
        if unknown:
            raise ConfigError(
                f"temperatures for unknown heads {sorted(unknown)}; use 'mask'/'label'"
            )
        raw = model(inputs)
        if not isinstance(raw, dict):
            raise ModelError(
                f"{model.name}: a temperature per head needs a model with named (dict) outputs."
            )
        scaled: dict[str, Any] = {}
        for name, value in raw.items():
            head = "mask" if len(value.shape) == 4 else "label"
            if head in temperature:
                layer = TemperatureScaling(
                    float(temperature[head]),
                    activation="sigmoid" if head == "mask" else "softmax",
                    name=f"temperature_{head}",
                )
                value = layer(value)
            scaled[name] = value
        return keras.Model(inputs, scaled, name=f"{model.name}_calibrated")
    if several:
        raise ModelError(
            f"{model.name}: temperature scaling of a model with several outputs needs one "
            "temperature per head ({'mask': T, 'label': T})."
        )
    scaled_one = TemperatureScaling(temperature, activation=activation, name="temperature")(
        model(inputs)
    )
    return keras.Model(inputs, scaled_one, name=f"{model.name}_calibrated")


def calibrate_model(
    model: Any,
    data: Any,
    *,
    n_bins: int = 15,
    batch_size: int = 8,
    max_samples: int | None = 2_000_000,
    bounds: tuple[float, float] = (0.05, 20.0),
    seed: int = 0,
    progress: Any = None,
    head: str | None = None,
) -> tuple[Any, CalibrationResult]:
    """Fit a temperature on labelled data and return the calibrated model.

    A classifier gets one ``T`` on its class logits (softmax); a one-channel segmenter one
    ``T`` for the sigmoid logit of every pixel. The figures before and after are measured
    on the same data the temperature was fitted on; score the returned model on other
    data for an honest figure.

    Args:
        model: A :class:`~neuroseg.inference.Predictor` (its preprocessor prepares the
            images), a ``keras.Model``, a ``.keras`` path or a pretrained name.
        data: A :class:`~neuroseg.data.SliceDataset`, or ``(images, targets)`` of
            model-ready inputs (see :func:`collect_probabilities`).
        n_bins: Bins of ECE and MCE.
        batch_size: Images per model call (when ``model`` is not a Predictor).
        max_samples: Fit on at most this many items/pixels (seeded draw).
        bounds: Search interval of ``T``.
        seed: Seed of the draw.
        progress: Called as ``progress(done, total)`` while predicting.
        head: For a multi-task model, the head to calibrate: ``"label"`` (one ``T`` on
            the class logits) or ``"mask"`` (one ``T`` per pixel logit); the returned
            model scales only that head (combine several with :func:`with_temperature`
            and ``{"mask": T, "label": T}``). ``None`` for a single-task model.

    Returns:
        ``(calibrated keras.Model, CalibrationResult)``.

    Raises:
        ModelError: A multi-task model without ``head``, a multi-output model that is
            not multi-task, or a multi-channel mask.
        EmptyDatasetError: No items.

    Example:
        >>> import numpy as np
        >>> from neuroseg.models import create_model
        >>> net = create_model("resunet-small", input_shape=(32, 32, 1))
        >>> x = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)
        >>> y = (x[..., 0] > 0.5).astype(np.uint8)
        >>> calibrated, result = calibrate_model(net, (x, y))
        >>> result.activation, result.n_items, calibrated.layers[-1].name
        ('sigmoid', 2, 'temperature')
    """
    from neuroseg.inference.predictor import Predictor

    predictor = model if isinstance(model, Predictor) else Predictor(model, batch_size=batch_size)
    activation = _activation_of(predictor, head)
    probs, targets, _ = collect_probabilities(predictor, data, progress=progress, head=head)
    temperature = fit_temperature(
        probs, targets, activation=activation, bounds=bounds, max_samples=max_samples, seed=seed
    )
    before, curve_before = calibration_figures(targets, probs, n_bins=n_bins)
    after, curve_after = calibration_figures(
        targets, apply_temperature(probs, temperature, activation=activation), n_bins=n_bins
    )
    n_items = len(data[0]) if isinstance(data, tuple) else len(data)
    result = CalibrationResult(
        temperature=temperature,
        activation=activation,
        n_items=n_items,
        n_samples=len(targets),
        before=before,
        after=after,
        curve_before=curve_before,
        curve_after=curve_after,
    )
    if head is not None and predictor.task == "multitask":
        return with_temperature(predictor.model, {head: temperature}), result
    return with_temperature(predictor.model, temperature, activation=activation), result


def _bin_sums(targets: np.ndarray, probs: np.ndarray, sizes: np.ndarray, n_bins: int) -> np.ndarray:
    """Per image: ``(3, n_bins)`` counts, correct and confidence sums -> ``(N, 3, n_bins)``."""
    out = np.zeros((len(sizes), 3, n_bins))
    start = 0
    for i, size in enumerate(sizes):
        sl = slice(start, start + int(size))
        start += int(size)
        _, c = calibration_figures(targets[sl], probs[sl], n_bins=n_bins)
        out[i] = (c.counts, c.correct, c.confidence_sum)
    return out


def evaluate_temperature(
    targets: Any,
    probabilities: Any,
    sizes: Any,
    temperature: float,
    *,
    activation: str = "softmax",
    groups: Any = None,
    n_bins: int = 15,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Calibration figures before and after a temperature, with bootstrap intervals of ECE.

    Use it on data the temperature was not fitted on (see :func:`collect_probabilities`
    for ``targets``, ``probabilities`` and ``sizes``).

    Args:
        targets: The truth from :func:`collect_probabilities`.
        probabilities: The model's probabilities from it.
        sizes: Rows per image from it.
        temperature: The fitted ``T``.
        activation: ``"softmax"`` or ``"sigmoid"``.
        groups: One key per image (a patient or near-copy group): the bootstrap unit;
            ``None``: the image.
        n_bins: Bins of ECE and MCE.
        n_bootstrap: Bootstrap resamples.
        confidence: Level of the intervals.
        seed: Seed of the bootstrap.

    Returns:
        ``{"before": {...}, "after": {...}, "ci": {"ece_before": [lo, hi], "ece_after":
        [lo, hi], "ece_difference": [lo, hi]}, "curve_before", "curve_after", "n_images",
        "n_groups", "bootstrap"}``, with ``before``/``after`` as :func:`calibration_figures`
        and the curves as :class:`~neuroseg.metrics.ReliabilityCurve`.

    Example:
        >>> import numpy as np
        >>> p = np.array([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.99, 0.01]])
        >>> r = evaluate_temperature([0, 1, 1, 0], p, np.ones(4), 3.0, n_bootstrap=20)
        >>> after, before = r["after"], r["before"]
        >>> after.get("ece") < before.get("ece")
        True
    """
    t = np.asarray(targets)
    p = np.asarray(probabilities, np.float64)
    size = np.asarray(sizes, np.int64)
    q = apply_temperature(p, temperature, activation=activation)
    before, curve_before = calibration_figures(t, p, n_bins=n_bins)
    after, curve_after = calibration_figures(t, q, n_bins=n_bins)
    sums_b, sums_a = _bin_sums(t, p, size, n_bins), _bin_sums(t, q, size, n_bins)
    keys = [str(g) for g in groups] if groups is not None else [str(i) for i in range(len(size))]
    if len(keys) != len(size):
        raise ConfigError(f"groups has {len(keys)} entries for {len(size)} images")
    unique, inverse = np.unique(np.array(keys), return_inverse=True)
    per_b = np.zeros((len(unique), 3, n_bins))
    per_a = np.zeros_like(per_b)
    np.add.at(per_b, inverse, sums_b)
    np.add.at(per_a, inverse, sums_a)
    rng = np.random.default_rng(seed)

    def ece(s: np.ndarray) -> float:
        return float(np.abs(s[1] - s[2]).sum() / max(s[0].sum(), 1.0))

    draws = np.empty((n_bootstrap, 2))
    for b in range(n_bootstrap):
        idx = rng.integers(0, len(unique), len(unique))
        draws[b] = (ece(per_b[idx].sum(axis=0)), ece(per_a[idx].sum(axis=0)))
    alpha = (1.0 - confidence) / 2.0

    def ci(v: np.ndarray) -> list[float]:
        return [float(np.quantile(v, alpha)), float(np.quantile(v, 1.0 - alpha))]

    return {
        "before": before,
        "after": after,
        "ci": {
            "ece_before": ci(draws[:, 0]),
            "ece_after": ci(draws[:, 1]),
            "ece_difference": ci(draws[:, 1] - draws[:, 0]),
        },
        "curve_before": curve_before,
        "curve_after": curve_after,
        "n_images": len(size),
        "n_groups": len(unique),
        "bootstrap": {
            "resamples": n_bootstrap,
            "confidence": confidence,
            "seed": seed,
            "unit": "group" if groups is not None else "image",
        },
    }
