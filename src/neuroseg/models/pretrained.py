"""Pretrained models shipped inside the package: loading, model cards and integrity checks.

Each pretrained model is two files in ``neuroseg/models/weights/``: ``NAME.keras`` (the
model, without optimiser state) and ``NAME.json`` (its model card: architecture,
preprocessing, threshold, class names, training data and split, measured results, intended
use and known limits, and the SHA-256 of the ``.keras`` file). Nothing is downloaded;
loading works offline and checks the file against its recorded SHA-256 first, then loads it
with Keras ``safe_mode``.

Example:
    >>> from neuroseg.models import list_pretrained
    >>> isinstance(list_pretrained(), list)
    True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuroseg.errors import ModelError, UnknownNameError

if TYPE_CHECKING:  # the preprocessor runs on TensorFlow; models need only Keras
    from neuroseg.data.preprocessor import SlicePreprocessor

__all__ = ["PretrainedInfo", "list_pretrained", "load_pretrained", "pretrained_info"]

_WEIGHTS = "weights"


@dataclass(frozen=True)
class PretrainedInfo:
    """A pretrained model's card, read from ``NAME.json``.

    Attributes:
        name: The pretrained name, e.g. ``"resunet-figshare"``.
        architecture: The registry preset it instantiates (:func:`create_model` name).
        task: ``"segmentation"``, ``"classification"`` or ``"multitask"``.
        input_shape: ``(height, width, channels)`` of the model input.
        threshold: Foreground threshold on the probability (segmentation).
        class_names: Output classes in order (classification), else ``None``.
        crop: ``"brain"`` when the model was trained on slices cropped to the brain;
            ``None``: whole slices (the same as ``preprocessor.crop``).
        tta: The test-time augmentation the card's figures were measured with
            (``"flip"``: the image and its left-right mirror averaged), which
            :class:`~neuroseg.inference.Predictor` applies unless told otherwise;
            ``None``: none.
        preprocessor: The :class:`~neuroseg.data.SlicePreprocessor` the model was trained
            with, read from the card's machine-readable ``preprocessor`` field; the
            :class:`~neuroseg.inference.Predictor`, export and ``report`` use it.
        training: Data, split, config, epochs, hardware and wall-clock time.
        metrics: Measured results (see the docs' Results page): for a model trained on
            every fold, its recipe's cross-validation (each slice predicted by a fold model
            that did not train on it), which no single command on the shipped file gives.
        intended_use: What the model is for.
        limitations: Known limits.
        evaluate: The ``neuroseg evaluate --model NAME`` arguments (data, loader options,
            groups) that reproduce ``metrics``, or ``check`` where the card has one.
        check: For a model trained on every fold: what ``evaluate`` gives on part of its
            own training data, to check the file runs as trained (not a quality estimate);
            empty otherwise.
        status: ``"final"`` or ``"preliminary"`` (below its targets; see ``notes``).
        notes: Free text.
        sha256: SHA-256 of ``NAME.keras``.
        file: The ``.keras`` file name.
    """

    name: str
    architecture: str
    task: str
    input_shape: tuple[int, int, int]
    sha256: str
    file: str
    threshold: float = 0.5
    class_names: tuple[str, ...] | None = None
    crop: str | None = None
    tta: str | None = None
    preprocessor: SlicePreprocessor | None = None
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)
    intended_use: str = ""
    limitations: tuple[str, ...] = ()
    evaluate: tuple[str, ...] = ()
    status: str = "final"
    notes: str = ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PretrainedInfo:
        """Build from the card's JSON dict."""
        from neuroseg.data.preprocessor import SlicePreprocessor

        data = dict(raw)
        data["input_shape"] = tuple(int(v) for v in data["input_shape"])
        if data.get("class_names") is not None:
            data["class_names"] = tuple(data["class_names"])
        data["limitations"] = tuple(data.get("limitations", ()))
        data["evaluate"] = tuple(data.get("evaluate", ()))
        name = data.get("name", "card")
        if data.get("tta") not in (None, "flip", "all"):
            raise ModelError(
                f"{name}.json: tta={data['tta']!r} is not 'flip', 'all' or null; "
                "reinstall neuroseg."
            )
        if data.get("preprocessor") is not None:
            pre = SlicePreprocessor.from_dict(data["preprocessor"], source=f"{name}.json")
        else:  # a card written before the machine-readable field: what the code did then
            h, w, c = data["input_shape"]
            pre = SlicePreprocessor(channels=c, image_size=(h, w), crop=data.get("crop"))
        if (pre.crop or None) != (data.get("crop") or None):
            raise ModelError(
                f"{name}.json: crop={data.get('crop')!r} but the preprocessor crops "
                f"{pre.crop!r}; reinstall neuroseg."
            )
        data["preprocessor"] = pre
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def headline(self) -> str:
        """The card's main validation figures in words, and how they were validated.

        Segmentation: per-patient Dice where the card has it (the LGG convention), else
        per-image Dice; classification: accuracy; a multi-task card gives both. ``"-"``
        for a card without metrics. A model trained on every fold whose card gives its
        config's held-out figures (``metrics["estimate"]``) says so; where the card also
        pools that config's folds (``metrics["cross_validation"]``), the pooled figure is
        the headline.

        Example:
            >>> pretrained_info("resunet-lgg").headline.startswith("Dice ")
            True
        """
        m = self.metrics
        m = m.get("cross_validation", m)  # a config's folds pooled: the figure to quote
        dice = m.get("metrics", {}).get("dice", {})
        parts = []
        if "per_patient" in dice:
            parts.append(f"Dice {dice['per_patient']['mean']:.3f} per patient")
        elif "per_image" in dice:
            parts.append(f"Dice {dice['per_image']['mean']:.3f} per image")
        accuracy = m.get("classification", {}).get("accuracy")
        if accuracy is not None:
            parts.append(f"accuracy {accuracy:.3f}")
        if not parts:
            return "-"
        if "folds" in m:
            how = f"{len(m['folds'])}-fold CV" + (", pooled" if m is not self.metrics else "")
        elif "estimate" in m:  # a model trained on every fold: its config's held-out figure
            how = "same config with the split held out; the model trained on all of it"
        else:
            how = "one validation split"
        return f"{', '.join(parts)} ({how})"

    @property
    def preprocessing(self) -> dict[str, str]:
        """How inputs are prepared, in words, generated from :attr:`preprocessor`."""
        return self.preprocessor.describe() if self.preprocessor is not None else {}


def _weights_dir() -> Path:
    return Path(str(resources.files("neuroseg.models") / _WEIGHTS))


def list_pretrained() -> list[str]:
    """Return the sorted names of the pretrained models shipped with this version.

    Example:
        >>> all(isinstance(name, str) for name in list_pretrained())
        True
    """
    folder = _weights_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if p.with_suffix(".keras").is_file())


def pretrained_info(name: str) -> PretrainedInfo:
    """Return the model card of the pretrained model ``name``.

    Raises:
        UnknownNameError: No pretrained model of that name; the message lists them.
        ModelError: The card is unreadable.
    """
    names = list_pretrained()
    if name not in names:
        listed = ", ".join(names) if names else "none in this installation"
        raise UnknownNameError(
            f"No pretrained model called {name!r}. Pretrained models: {listed}. "
            "(Architectures without weights are in neuroseg.models.list_models().)"
        )
    path = _weights_dir() / f"{name}.json"
    try:
        return PretrainedInfo.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: unreadable model card ({exc}); reinstall neuroseg.") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_pretrained(name: str, *, compile: bool = False) -> Any:
    """Load the pretrained model ``name`` from the package, offline.

    The ``.keras`` file is checked against the SHA-256 in its card, then loaded with
    ``safe_mode=True``. Use :func:`pretrained_info` for its threshold, class names,
    preprocessing and results; :class:`~neuroseg.inference.Predictor` and the command line
    apply them by themselves when given the name.

    Args:
        name: A name from :func:`list_pretrained`.
        compile: Compile the model (no optimiser state is stored; training restarts it).

    Returns:
        The ``keras.Model``.

    Raises:
        UnknownNameError: No pretrained model of that name.
        ModelError: The file does not match its SHA-256 or cannot be loaded.
    """
    from neuroseg.models.saving import load_model

    info = pretrained_info(name)
    path = _weights_dir() / info.file
    try:
        actual = _sha256(path)
    except OSError as exc:
        raise ModelError(
            f"{path}: the pretrained model file cannot be read ({exc}); reinstall neuroseg."
        ) from exc
    if actual != info.sha256.lower():
        raise ModelError(
            f"{path}: SHA-256 {actual} does not match the model card's {info.sha256}; the "
            "file is corrupt or was replaced. Reinstall neuroseg."
        )
    return load_model(path, compile=compile)
