"""The :class:`Predictor`: preprocessing, batching, TTA, post-processing and measurements."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from neuroseg.data.preprocessor import (
    PreparedSlice,
    SlicePreprocessor,
    load_preprocessor,
    repeats_one_image,
)
from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import (
    ConfigError,
    DataError,
    EmptyDatasetError,
    ModelError,
    RepeatedChannelsWarning,
)
from neuroseg.inference.loading import resolve_model
from neuroseg.inference.localisation import ORIENTATIONS, Localisation, localise
from neuroseg.inference.outputs import foreground, split_outputs
from neuroseg.inference.postprocess import postprocess_mask
from neuroseg.inference.scans import Scan, read_scan
from neuroseg.inference.tta import apply_tta, tta_transforms

__all__ = ["Prediction", "Predictor", "predictions_to_pandas"]

_TASKS = ("segmentation", "classification", "multitask")


@dataclass(eq=False)
class Prediction:
    """What :meth:`Predictor.predict` returns for one input.

    Attributes:
        source: Where the input came from (a path, or ``"array[i]"``).
        image: The input image as read, ``(H, W, C)`` (or the ``(X, Y, Z)`` volume).
        mask: The binary mask at the input's size and orientation (``uint8``), or ``None``
            for a classifier.
        probability: The foreground probability at the input's size, or ``None``.
        class_probabilities: Class probabilities ``(K,)`` (``(Z, K)`` per slice for a
            volume), or ``None`` for a segmentation model.
        label: The most probable class (a volume: of the mean over slices), or ``None``.
        area_px: Foreground pixels (voxels for a volume), or ``None``.
        area_mm2: Foreground area in mm² when the pixel spacing is known (2-D), else ``None``.
        volume_mm3: Foreground volume in mm³ for a volume with known spacing, else ``None``.
        spacing: Pixel spacing ``(row, col)`` in mm, when known.
        truth: A ground-truth mask that came with the input, when there is one.
        true_label: A class label that came with the input, when there is one.
        group: The patient (or split group) of the input, when known.
        meta: Free-form extra fields of the input (e.g. ``"truth_file"``).
        class_names: The names of the classes of ``class_probabilities``, in order; ``None``
            when the model has none (:attr:`names` then gives ``class_0``, ``class_1``, ...).
        orientation: How the image shows the patient: ``"radiological"`` (patient's left on
            the image's right, as Figshare and neuroseg's NIfTI slices), ``"neurological"``
            or ``None`` (unknown); it gives :attr:`localisation`'s ``side``.
    """

    source: str
    image: np.ndarray
    mask: np.ndarray | None = None
    probability: np.ndarray | None = None
    class_probabilities: np.ndarray | None = None
    label: int | None = None
    area_px: int | None = None
    area_mm2: float | None = None
    volume_mm3: float | None = None
    spacing: tuple[float, float] | None = None
    truth: np.ndarray | None = None
    true_label: int | None = None
    group: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    class_names: tuple[str, ...] | None = None
    orientation: str | None = None

    @property
    def localisation(self) -> Localisation | None:
        """Where the predicted tumour is (:func:`~neuroseg.inference.localise` of :attr:`mask`).

        Bounding box, centroid (in mm with :attr:`spacing`), largest diameter, components
        and side (with :attr:`orientation`); ``None`` for a classifier. An empty mask gives
        a :class:`~neuroseg.inference.Localisation` whose ``found`` is ``False``.

        Example:
            >>> import numpy as np
            >>> m = np.zeros((8, 8), np.uint8); m[1:3, 1:4] = 1
            >>> p = Prediction("x.png", np.zeros((8, 8, 1)), mask=m, spacing=(0.5, 0.5))
            >>> p.localisation.bbox, p.localisation.centroid_mm
            ((1, 1, 3, 4), (0.75, 1.0))
        """
        if self.mask is None:
            return None
        return localise(self.mask, spacing=self.spacing, orientation=self.orientation)

    @property
    def names(self) -> tuple[str, ...] | None:
        """The class names of :attr:`class_probabilities` (``class_0``, ... when unnamed)."""
        if self.class_probabilities is None:
            return None
        k = int(self.class_probabilities.shape[-1])
        if self.class_names is not None and len(self.class_names) == k:
            return tuple(self.class_names)
        return tuple(f"class_{i}" for i in range(k))

    @property
    def mean_probabilities(self) -> np.ndarray | None:
        """Class probabilities ``(K,)``: a volume's are the mean over its slices."""
        probs = self.class_probabilities
        if probs is None:
            return None
        return np.asarray(probs.mean(axis=0) if probs.ndim == 2 else probs, np.float64)

    @property
    def label_name(self) -> str | None:
        """The name of :attr:`label`, or ``None`` without class probabilities."""
        names = self.names
        return None if names is None or self.label is None else names[self.label]

    @property
    def confidence(self) -> float | None:
        """The probability of :attr:`label` (a volume: its mean over slices), or ``None``."""
        probs = self.mean_probabilities
        return None if probs is None or self.label is None else float(probs[self.label])

    def overlap(self) -> dict[str, float] | None:
        """Dice and IoU of :attr:`mask` against :attr:`truth` (``None`` without both).

        A volume is scored in 3-D (its voxels pooled). When truth and prediction are both
        empty, both scores are 1.0; when only one is empty, 0.0 (the project's empty-mask
        rule, as :func:`neuroseg.metrics.dice` with ``empty="one"``). Any truth label
        above 0 counts as tumour; a truth of another shape than the mask gives ``None``.
        """
        if self.mask is None or self.truth is None:
            return None
        from neuroseg.metrics import dice, iou

        truth, mask = np.asarray(self.truth) > 0, np.asarray(self.mask) > 0
        if truth.shape != mask.shape:
            return None
        # One (N, H, W) batch scored with its pixels pooled: a volume's slices along axis 0.
        t = np.moveaxis(truth, -1, 0) if truth.ndim == 3 else truth[None]
        m = np.moveaxis(mask, -1, 0) if mask.ndim == 3 else mask[None]
        return {
            "dice": float(dice(t, m, reduction="pooled")),
            "iou": float(iou(t, m, reduction="pooled")),
        }

    def summary(self) -> dict[str, Any]:
        """A JSON-ready dict of the measurements (no arrays).

        Keys, each only when it applies: ``source``; for a classifier or multi-task model
        ``label`` (the class name), ``label_index``, ``confidence`` (the label's
        probability) and ``class_probabilities`` (``{class name: probability}``, in the
        model's class order; a volume's are the mean over its slices; names are
        ``class_0``, ... when the model has none); for masks ``area_px``, ``area_mm2``,
        ``volume_mm3``, and ``dice`` and ``iou`` against :attr:`truth` when the input came
        with one, then the :attr:`localisation` columns
        (:meth:`~neuroseg.inference.Localisation.as_dict`: ``tumour_found``,
        ``bbox_top``, ``bbox_left``, ``bbox_bottom``, ``bbox_right``, ``centroid_row``,
        ``centroid_col``, ``centroid_row_mm``, ``centroid_col_mm``, ``diameter_px``,
        ``diameter_mm``, ``components``, ``side``; ``None`` where unknown); then
        ``true_label``, ``group`` and ``spacing_mm``.

        Example:
            >>> import numpy as np
            >>> p = Prediction("x.png", np.zeros((4, 4, 1)), label=1,
            ...                class_probabilities=np.array([0.2, 0.8], np.float32),
            ...                class_names=("no_tumor", "tumour"))
            >>> s = p.summary()
            >>> s["label"], s["label_index"], s["confidence"]
            ('tumour', 1, 0.8)
            >>> s["class_probabilities"]
            {'no_tumor': 0.2, 'tumour': 0.8}
        """
        out: dict[str, Any] = {"source": self.source}
        probs, names = self.mean_probabilities, self.names
        if probs is not None and names is not None:
            if self.label is not None:
                out["label"] = names[self.label]
                out["label_index"] = int(self.label)
                out["confidence"] = round(float(probs[self.label]), 6)
            out["class_probabilities"] = {name: round(float(p), 6) for name, p in zip(names, probs)}
        for key in ("area_px", "area_mm2", "volume_mm3"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        scores = self.overlap()
        if scores is not None:
            out.update({k: round(v, 6) for k, v in scores.items()})
        loc = self.localisation
        if loc is not None:
            out.update(loc.as_dict())
        for key in ("true_label", "group"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.spacing is not None:
            out["spacing_mm"] = list(self.spacing)
        return out


def predictions_to_pandas(predictions: Iterable[Prediction]) -> Any:
    """One row per prediction as a ``pandas.DataFrame`` (needs the ``pandas`` extra).

    The columns are the keys of :meth:`Prediction.summary`, with the class probabilities
    spread into ``p_<class>`` columns and ``spacing_mm`` into ``spacing_row_mm`` and
    ``spacing_col_mm``: ``source``; ``label``, ``label_index``, ``confidence``,
    ``p_<class>`` (classifiers); ``area_px``, ``area_mm2``, ``volume_mm3``, ``dice``,
    ``iou`` and the localisation columns ``tumour_found``, ``bbox_top``, ``bbox_left``,
    ``bbox_bottom``, ``bbox_right``, ``centroid_row``, ``centroid_col``,
    ``centroid_row_mm``, ``centroid_col_mm``, ``diameter_px``, ``diameter_mm``,
    ``components``, ``side`` (masks); ``true_label``, ``group``. A column that applies to
    none of the predictions is absent; a missing value is ``None``/NaN.

    Raises:
        MissingDependencyError: pandas is not installed.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((8, 8), np.uint8); m[2:4, 2:4] = 1
        >>> df = predictions_to_pandas([Prediction("a.png", np.zeros((8, 8, 1)), mask=m)])
        >>> int(df.loc[0, "bbox_bottom"]), df.loc[0, "side"]
        (4, 'unknown')
    """
    from neuroseg._optional import require

    pd = require("pandas", extra="pandas", purpose="predictions_to_pandas")
    rows = []
    for p in predictions:
        row = p.summary()
        for name, value in row.pop("class_probabilities", {}).items():
            row[f"p_{name}"] = value
        spacing = row.pop("spacing_mm", None)
        if spacing is not None:
            row["spacing_row_mm"], row["spacing_col_mm"] = spacing[0], spacing[1]
        rows.append(row)
    return pd.DataFrame(rows)


def _pretrained_card(model: Any) -> Any:
    """The model card when ``model`` names a pretrained model, else ``None``."""
    if isinstance(model, str):
        from neuroseg.models.pretrained import list_pretrained, pretrained_info

        if model in list_pretrained():
            return pretrained_info(model)
    return None


class Predictor:
    """Apply a model to new images: preprocessing, batching, TTA and post-processing.

    Slices are prepared by the model's :class:`~neuroseg.data.SlicePreprocessor`, the
    one the training pipeline used: the ``preprocessor`` argument, else the one saved
    with the model (a pretrained card's ``preprocessor``, or
    ``<model>.preprocessor.json``/the run directory's ``preprocessor.json`` beside a
    ``.keras`` file), else one matching the model's input shape with per-slice min-max
    normalisation and ``crop``. Outputs come back at the input's own size and frame
    (:meth:`~neuroseg.data.SlicePreprocessor.invert`): the probability map is pasted
    back (bilinear) and then thresholded and post-processed.

    Args:
        model: A ``keras.Model``, the path of a ``.keras`` file, or a pretrained name.
        threshold: Foreground threshold on the probability; ``None``: the pretrained
            model's own (from its card), else 0.5.
        tta: Test-time augmentation, each prediction mapped back before averaging:
            ``True`` or ``"flip"`` averages the image and its left-right mirror (the
            augmentation every neuroseg model trains with); ``"all"`` averages the 8 flips
            and quarter turns, which suits only a model trained with quarter turns
            (the previous ``classifier-4class`` fell from accuracy 0.900 to 0.828 with
            them on fold 4 of the combined 4-class set); ``False``: none. ``None``: the
            pretrained model's own (its card's ``tta``, the setting its figures were
            measured with), else none.
        batch_size: Images per model call.
        image_size: Size to resize to when the model accepts any size (``None`` sizes);
            defaults to the input's size rounded up to a multiple of 32.
        resize: Resize inputs to the model's size; with ``False`` a size mismatch raises.
        min_size: Remove predicted components smaller than this (pixels).
        largest_component: Keep only the largest predicted component.
        fill_holes: Fill holes in the predicted mask.
        class_names: Names of the classifier's classes (for reports); ``None``: a
            pretrained model's own.
        crop: ``"brain"`` crops each slice to the brain's bounding box before resizing
            (masks are pasted back into the full frame); ``"none"`` does not; ``None``:
            the saved preprocessor's setting, else no crop. Use the setting the model was
            trained with.
        preprocessor: The :class:`~neuroseg.data.SlicePreprocessor` to use; ``None``:
            the one saved with the model (see above).
        orientation: How the inputs show the patient (``"radiological"``,
            ``"neurological"`` or ``None``: unknown, except for NIfTI volumes, which are
            read as radiological slices), for each prediction's
            :attr:`Prediction.localisation` side.

    Raises:
        ModelError: The model cannot be loaded, or its outputs are neither masks nor class
            probabilities.

    Example:
        >>> import numpy as np
        >>> from neuroseg.models import create_model
        >>> p = Predictor(create_model("resunet-small", input_shape=(64, 64, 1)))
        >>> p.task, p.input_size, p.channels
        ('segmentation', (64, 64), 1)
        >>> pred = p.predict(np.zeros((100, 90), np.uint8))[0]
        >>> pred.mask.shape
        (100, 90)
    """

    def __init__(
        self,
        model: Any,
        *,
        threshold: float | None = None,
        tta: bool | Literal["flip", "all"] | None = None,
        batch_size: int = 8,
        image_size: int | Sequence[int] | None = None,
        resize: bool = True,
        min_size: int = 0,
        largest_component: bool = False,
        fill_holes: bool = False,
        class_names: Sequence[str] | None = None,
        crop: str | None = None,
        preprocessor: SlicePreprocessor | None = None,
        orientation: str | None = None,
    ) -> None:
        self.info = _pretrained_card(model)
        saved = preprocessor
        if saved is None and self.info is not None:
            saved = self.info.preprocessor
        if saved is None and isinstance(model, (str, os.PathLike)) and self.info is None:
            saved = load_preprocessor(model)
        self.model = resolve_model(model)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if threshold is None:
            threshold = self.info.threshold if self.info is not None else 0.5
        if class_names is None and self.info is not None:
            class_names = self.info.class_names
        if crop is not None and crop not in ("brain", "none"):
            raise ConfigError(f"Unknown crop={crop!r}; use 'brain' or 'none'.")
        self.threshold = float(threshold)
        if tta is None:
            tta = False if self.info is None or self.info.tta is None else self.info.tta
        if tta not in (False, True, "flip", "all"):
            raise ConfigError(f"Unknown tta={tta!r}; use False, True (= 'flip'), 'flip' or 'all'.")
        self.tta = bool(tta)
        #: Whether the TTA also averages over quarter turns (``tta="all"``).
        self.tta_rotations = tta == "all"
        self.batch_size = int(batch_size)
        self.resize = bool(resize)
        if min_size < 0:
            raise ConfigError(f"min_size must be 0 or more pixels, got {min_size}.")
        self.min_size = int(min_size)
        self.largest_component = bool(largest_component)
        self.fill_holes = bool(fill_holes)
        self.orientation = None if orientation in (None, "unknown") else orientation
        if self.orientation is not None and self.orientation not in ORIENTATIONS:
            raise ConfigError(
                f"Unknown orientation={orientation!r}; use 'radiological', 'neurological' or None."
            )
        shape = tuple(self.model.input_shape)
        if len(shape) != 4:
            raise ModelError(
                f"{self.model.name}: input shape {shape} is not (batch, height, width, "
                "channels); neuroseg predicts on 2-D slices."
            )
        self._fixed = shape[1] is not None and shape[2] is not None
        options: dict[str, Any] = {}
        if crop is not None:
            options["crop"] = None if crop == "none" else crop
        if image_size is not None:
            size = (image_size, image_size) if isinstance(image_size, int) else image_size
            want = (int(size[0]), int(size[1]))
            if self._fixed and want != (int(shape[1]), int(shape[2])):
                raise ModelError(
                    f"{self.model.name}: image_size={want} but the model's input is fixed at "
                    f"{(int(shape[1]), int(shape[2]))}; leave image_size unset."
                )
            options["image_size"] = want
        if saved is None:
            self.preprocessor = SlicePreprocessor.for_model(self.model, **options)
        else:
            self.preprocessor = SlicePreprocessor.from_config({**saved.get_config(), **options})
        self._check_preprocessor(shape)
        self.channels = self.preprocessor.channels
        self.input_size: tuple[int, int] | None = self.preprocessor.image_size
        self.crop = self.preprocessor.crop or "none"
        self.task = self._detect_task()
        self.num_classes = self._num_classes
        if (
            class_names is not None
            and self.num_classes is not None
            and len(class_names) != self.num_classes
        ):
            raise ModelError(
                f"{self.model.name}: {len(class_names)} class names "
                f"({', '.join(class_names)}) for a model with {self.num_classes} classes; "
                "give one name per output class, in the model's order."
            )
        self.class_names = tuple(class_names) if class_names is not None else None

    # ------------------------------------------------------------ model facts
    def _check_preprocessor(self, shape: tuple[Any, ...]) -> None:
        pre = self.preprocessor
        if shape[3] is not None and int(shape[3]) != pre.channels:
            raise ModelError(
                f"{self.model.name}: the preprocessor gives {pre.channels} channel(s) but the "
                f"model takes {shape[3]}; use the preprocessor saved with the model."
            )
        if self._fixed and pre.image_size != (int(shape[1]), int(shape[2])):
            raise ModelError(
                f"{self.model.name}: the preprocessor resizes to {pre.image_size} but the "
                f"model's input is fixed at {(int(shape[1]), int(shape[2]))}; use the "
                "preprocessor saved with the model."
            )

    def _detect_task(self) -> str:
        h, w = self.input_size or (64, 64)
        out = split_outputs(self.model, self.model(np.zeros((1, h, w, self.channels), "float32")))
        self._num_classes = int(out["label"].shape[-1]) if "label" in out else None
        if "mask" in out and "label" in out:
            return "multitask"
        return "segmentation" if "mask" in out else "classification"

    def settings(self) -> dict[str, Any]:
        """How this predictor turns outputs into masks and labels, for a report to record.

        Example:
            >>> from neuroseg.models import create_model
            >>> p = Predictor(create_model("resunet-small", input_shape=(32, 32, 1)),
            ...               threshold=0.4, tta="flip", largest_component=True)
            >>> s = p.settings()
            >>> s["threshold"], s["tta"], s["largest_component"], s["min_size"]
            (0.4, 'flip', True, 0)
        """
        return {
            "model": self.model.name,
            "task": self.task,
            "threshold": self.threshold,
            "tta": ("all" if self.tta_rotations else "flip") if self.tta else "none",
            "crop": self.crop,
            "min_size": self.min_size,
            "largest_component": self.largest_component,
            "fill_holes": self.fill_holes,
        }

    def check_task(self, *tasks: str, command: str = "this command") -> None:
        """Raise :class:`~neuroseg.errors.ModelError` unless the model does one of ``tasks``.

        Example:
            >>> from neuroseg.models import create_model
            >>> Predictor(create_model("resunet-small", input_shape=(32, 32, 1))).check_task(
            ...     "segmentation", "multitask")
        """
        if self.task not in tasks:
            raise ModelError(
                f"{self.model.name} is a {self.task} model but {command} needs a "
                f"{' or '.join(tasks)} model. Pass a model trained for that task."
            )

    # ------------------------------------------------------------ preprocessing
    def prepare(self, image: np.ndarray, *, source: str = "image") -> PreparedSlice:
        """Prepare one ``(H, W)`` or ``(H, W, C)`` slice with the model's preprocessor.

        Returns what :meth:`invert` needs to paste an output back.

        Raises:
            ChannelError: The channel count cannot be converted to the model's.
            DataError: The slice is empty, holds NaN/inf pixels, or its pixels are not
                real numbers (complex, strings, objects).
            ModelError: ``resize=False`` and the size differs from the model's input.
        """
        kind = np.asarray(image).dtype.kind
        if kind not in "biuf":  # bool, integers, floats; not complex, strings, objects
            raise DataError(
                f"{source}: pixels of type {np.asarray(image).dtype} are not real numbers; "
                "pass a numeric image (e.g. uint8 or float32)."
            )
        prepared = self.preprocessor.prepare(image, source=source)
        if not self.resize:
            top, left, bottom, right = prepared.box
            hw = (bottom - top, right - left)
            if hw != prepared.array.shape[:2]:
                raise ModelError(
                    f"{source}: image is {hw[0]}x{hw[1]} but the model expects "
                    f"{prepared.array.shape[0]}x{prepared.array.shape[1]}; resize it or use "
                    "resize=True."
                )
        return prepared

    def preprocess(self, image: np.ndarray, *, source: str = "image") -> np.ndarray:
        """Return one ``(H, W, C)`` image as the model's float32 input.

        Raises:
            ChannelError: The channel count cannot be converted to the model's.
            ModelError: ``resize=False`` and the size differs from the model's input.
        """
        return self.prepare(image, source=source).array

    def invert(self, output: np.ndarray, prepared: PreparedSlice) -> np.ndarray:
        """Paste a model-size map (probability, Grad-CAM) back into the slice's frame."""
        return self.preprocessor.invert(output, prepared)

    def grad_cam(
        self, image: np.ndarray, *, source: str = "image", layer_name: str | None = None
    ) -> np.ndarray:
        """Grad-CAM of one ``(H, W, C)`` image, in that image's own frame.

        The image goes through :meth:`preprocess` (so a brain-cropped model sees what it
        saw in training); the map is then placed back where it came from: resized into the
        brain box for ``crop="brain"`` (0 outside it), or to the whole frame.

        Args:
            image: The slice as read (e.g. ``Scan.slices[k]``).
            source: A name for error messages.
            layer_name: The layer to explain (see :func:`~neuroseg.inference.grad_cam`).

        Returns:
            ``(H, W)`` float32 map in ``[0, 1]``.
        """
        from neuroseg.inference.gradcam import grad_cam

        prepared = self.prepare(image, source=source)
        heat = grad_cam(self.model, prepared.array[None], layer_name=layer_name)[0]
        return self.invert(np.asarray(heat, np.float32), prepared)

    # ------------------------------------------------------------ raw prediction
    def _call(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        # predict_on_batch runs a compiled (traced) forward pass: about 5x faster per
        # slice on a CPU than calling the model eagerly, layer by layer
        return split_outputs(self.model, self.model.predict_on_batch(batch))

    def predict_batch(self, batch: np.ndarray, *, tta: bool | None = None) -> dict[str, np.ndarray]:
        """Run the model (with TTA if enabled) on preprocessed ``(N, H, W, C)`` inputs.

        Args:
            batch: Model-ready inputs, ``(N, H, W, C)``.
            tta: ``None`` (default) uses the predictor's own ``tta`` setting; ``False``
                runs the plain model and ``True`` the TTA for this call only, without
                changing the predictor.

        Returns:
            ``{"mask": (N, H, W) foreground probabilities}`` and/or
            ``{"label": (N, K) class probabilities}``.
        """
        x = np.asarray(batch, np.float32)
        if x.ndim != 4 or x.shape[-1] != self.channels:
            raise ModelError(
                f"{self.model.name}: expected a batch (N, H, W, {self.channels}), got {x.shape}."
            )
        if self._fixed and tuple(x.shape[1:3]) != self.input_size:
            raise ModelError(
                f"{self.model.name}: batch images are {x.shape[1]}x{x.shape[2]} but the model "
                f"expects {self.input_size}; use Predictor.preprocess or predict()."
            )
        parts: dict[str, list[np.ndarray]] = {}
        transforms = (
            tta_transforms(square=x.shape[1] == x.shape[2], rotations=self.tta_rotations)
            if (self.tta if tta is None else tta)
            else []
        )
        for start in range(0, len(x), self.batch_size):
            chunk = x[start : start + self.batch_size]
            if transforms:
                # one model call per transform, every output averaged from it
                for key, value in apply_tta(self._outputs, chunk, transforms).items():
                    parts.setdefault(key, []).append(value)
            else:
                for key, value in self._outputs(chunk).items():
                    parts.setdefault(key, []).append(value)
        return {k: np.concatenate(v) for k, v in parts.items()}

    def _outputs(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """The model's outputs on ``batch``: foreground probabilities and class scores."""
        return {
            key: foreground(value) if key == "mask" else value
            for key, value in self._call(batch).items()
        }

    # ------------------------------------------------------------ public API
    def predict(self, inputs: Any) -> list[Prediction]:
        """Predict on files, arrays, scans, a dataset or a ``tf.data`` pipeline.

        Args:
            inputs: A path or list of paths (PNG/JPEG/TIFF, NIfTI, Figshare ``.mat``); an
                ``(H, W)``, ``(H, W, C)`` or ``(N, H, W, C)`` array or a list of arrays; a
                :class:`~neuroseg.inference.Scan` or list of them; a
                :class:`~neuroseg.data.SliceDataset`; or a ``tf.data.Dataset`` yielding
                image batches (or ``(images, targets)`` pairs).

        Returns:
            One :class:`Prediction` per input (a volume gives one prediction).

        Raises:
            EmptyDatasetError: ``inputs`` holds no image (an empty list, a ``(0, H, W, C)``
                array, an empty dataset).
            DataError: An empty or zero-size image, NaN/inf pixels, pixels that are not
                numbers, or a NaN, infinite or non-positive pixel spacing (the message
                names the input).
            ChannelError: An image whose channel count cannot become the model's.
        """
        predictions = [self._predict_scan(s) for s in self._scans(inputs)]
        repeated = [p.source for p in predictions if p.meta.get("repeated_channels")]
        if repeated:
            warnings.warn(
                self.repeated_channels_message(repeated), RepeatedChannelsWarning, stacklevel=2
            )
        if not predictions:
            raise EmptyDatasetError(
                f"Nothing to predict on: the {type(inputs).__name__} holds no image. Pass at "
                "least one image, file or scan."
            )
        return predictions

    def _scans(self, inputs: Any) -> Iterable[Scan]:
        if isinstance(inputs, (str, os.PathLike)):
            yield read_scan(inputs)
        elif isinstance(inputs, Scan):
            yield inputs
        elif isinstance(inputs, Record):
            yield _record_scan(inputs)
        elif isinstance(inputs, SliceDataset):
            for r in inputs:
                yield _record_scan(r)
        elif isinstance(inputs, np.ndarray):
            if inputs.ndim in (2, 3):
                yield Scan(inputs if inputs.ndim == 3 else inputs[..., None], source="array[0]")
            elif inputs.ndim == 4:
                for i, img in enumerate(inputs):
                    yield Scan(img, source=f"array[{i}]")
            else:
                raise DataError(
                    f"array of shape {inputs.shape}: expected an (H, W), (H, W, C) or "
                    "(N, H, W, C) image array."
                )
        elif hasattr(inputs, "element_spec") and hasattr(inputs, "as_numpy_iterator"):
            i = 0
            for element in inputs.as_numpy_iterator():
                images = element[0] if isinstance(element, tuple) else element
                images = np.asarray(images)
                if images.ndim == 3:
                    images = images[None]
                for img in images:
                    yield Scan(img, source=f"dataset[{i}]")
                    i += 1
        elif isinstance(inputs, (list, tuple)):
            for i, item in enumerate(inputs):
                if isinstance(item, np.ndarray):
                    yield Scan(item if item.ndim == 3 else item[..., None], source=f"array[{i}]")
                else:
                    yield from self._scans(item)
        else:
            raise ModelError(
                f"Cannot predict on a {type(inputs).__name__}; pass paths, arrays, a "
                "SliceDataset or a tf.data.Dataset."
            )

    def repeated_channels_message(self, sources: Sequence[str]) -> str:
        """The warning for inputs whose channels are one image (see :meth:`predict`)."""
        names = ", ".join(self.preprocessor.channel_names or ())
        shown = ", ".join(str(s) for s in sources[:3]) + (" ..." if len(sources) > 3 else "")
        return (
            f"{len(sources)} input(s) ({shown}) have the same image in all "
            f"{self.preprocessor.channels} channels, but {self.model.name} expects {names}: a "
            "missing sequence copied in, or a grey image converted. Its masks on such input "
            "are unreliable (see the model card's limits); give each channel its own sequence."
        )

    def _repeated_channels(self, prepared: Sequence[PreparedSlice]) -> bool:
        """Whether a multi-sequence model got slices whose channels are all one image."""
        names = self.preprocessor.channel_names
        if not names or len(set(names)) < 2:
            return False
        return all(repeats_one_image(p.array) for p in prepared)

    def _predict_scan(self, scan: Scan) -> Prediction:
        slices = scan.slices
        prepared = [self.prepare(s, source=scan.source) for s in slices]
        batch = np.stack([p.array for p in prepared])
        repeated = self._repeated_channels(prepared)
        raw = self.predict_batch(batch)
        for key, value in raw.items():
            if not np.isfinite(value).all():
                raise ModelError(
                    f"{scan.source}: {self.model.name} gave NaN/inf outputs ({key}) for this "
                    "finite input; its weights are probably corrupt (e.g. a diverged "
                    "training). Use another checkpoint."
                )
        pred = Prediction(
            source=scan.source,
            image=scan.image,
            spacing=scan.spacing,
            truth=scan.truth,
            true_label=scan.label,
            group=scan.patient_id,
            meta={**scan.meta, **({"repeated_channels": True} if repeated else {})},
            class_names=self.class_names,
            # A NIfTI volume is read reoriented to radiological slices (meta "orientation").
            orientation=self.orientation
            or ("radiological" if "orientation" in scan.meta else None),
        )
        if "mask" in raw:
            probs = [self.invert(p, prep) for p, prep in zip(raw["mask"], prepared)]
            prob = np.stack(probs, axis=-1) if scan.is_volume else probs[0]
            prob = np.clip(prob, 0.0, 1.0).astype(np.float32)
            # Post-process a volume in 3-D (components across slices).
            mask = postprocess_mask(
                np.moveaxis(prob, -1, 0) if scan.is_volume else prob,
                threshold=self.threshold,
                min_size=self.min_size,
                largest_component=self.largest_component,
                fill_holes=self.fill_holes,
            )
            pred.mask = np.moveaxis(mask, 0, -1) if scan.is_volume else mask
            pred.probability = prob
            pred.area_px = int(pred.mask.sum())
            if scan.spacing is not None:
                pixel = float(scan.spacing[0] * scan.spacing[1])
                if scan.is_volume:
                    if scan.slice_thickness is not None:
                        pred.volume_mm3 = round(pred.area_px * pixel * scan.slice_thickness, 3)
                else:
                    pred.area_mm2 = round(pred.area_px * pixel, 3)
        if "label" in raw:
            probs_k = raw["label"]
            pred.class_probabilities = probs_k if scan.is_volume else probs_k[0]
            pred.label = int(np.argmax(probs_k.mean(axis=0)))
        return pred


def _record_scan(record: Record) -> Scan:
    return Scan(
        record.load_image(),
        spacing=record.spacing,
        truth=record.load_mask(),
        label=record.label,
        patient_id=record.group,
        source=record.source or str(record.image),
        meta=dict(record.meta),
    )
