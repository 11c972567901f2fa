"""Model registry: presets as plain dicts, ``create_model`` and ``list_models``."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import keras

from neuroseg.errors import ConfigError, UnknownNameError
from neuroseg.models.classifier import BACKBONES, build_classifier
from neuroseg.models.multitask import MultiTaskResUNet
from neuroseg.models.resunet import AttentionResUNet, ResUNet, ResUNetPlusPlus

__all__ = ["ModelSpec", "create_model", "get_spec", "list_models", "register_model"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model preset.

    Attributes:
        name: Registry name, e.g. ``"resunet-small"``.
        builder: Callable returning a Keras model from keyword arguments.
        task: ``"segmentation"``, ``"classification"`` or ``"multitask"``.
        kwargs: Default keyword arguments for ``builder``.
        description: One line for ``neuroseg models list``.
        heavy: Slow to build and run on a CPU (ImageNet-size backbones); the shared
            serialisation test runs its default-size round trip only with ``-m slow``.
        params: Parameter count at the default arguments, as recorded (``None``: not
            recorded). ``neuroseg models list`` prints it without building the model.
        gflops: Forward GFLOPs per image at the default input size
            (``count_flops(model) / 1e9``), as recorded, or ``None``.

    The figures of the built-in presets are checked against freshly built models by
    ``tests/models/test_registry_figures.py``; ``neuroseg models list --measure`` builds
    and counts instead of reading them.
    """

    name: str
    builder: Any
    task: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    heavy: bool = False
    params: int | None = None
    gflops: float | None = None


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a preset to the registry (replacing one of the same name).

    Example:
        >>> from neuroseg.models import ResUNet
        >>> spec = register_model(ModelSpec("my-resunet", ResUNet, "segmentation", {"depth": 2}))
        >>> "my-resunet" in list_models()
        True
        >>> _ = _REGISTRY.pop("my-resunet")
    """
    _REGISTRY[spec.name] = spec
    return spec


def list_models(pattern: str | None = None) -> list[str]:
    """Return the sorted registry names, optionally filtered by a glob ``pattern``.

    Example:
        >>> "resunet-small" in list_models("resunet*")
        True
    """
    names = sorted(_REGISTRY)
    if pattern is not None:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    return names


def get_spec(name: str) -> ModelSpec:
    """Return the preset called ``name``.

    Raises:
        UnknownNameError: No such preset; the message lists the valid names.

    Example:
        >>> get_spec("resunet-small").task
        'segmentation'
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(
            f"Unknown model {name!r}. Valid names: {', '.join(list_models())}."
        ) from None


def create_model(name: str, *, pretrained: bool = False, **kwargs: Any) -> keras.Model:
    """Build a registered model; ``kwargs`` override the preset's defaults.

    ``name`` may also be a pretrained model (:func:`~neuroseg.models.list_pretrained`):
    with ``pretrained=True`` its trained weights are loaded from the package (offline,
    SHA-256-checked); with ``pretrained=False`` its architecture is built untrained at its
    input shape.

    Args:
        name: A name from :func:`list_models` or :func:`~neuroseg.models.list_pretrained`.
        pretrained: Load the shipped weights (pretrained names only).
        **kwargs: Constructor arguments, e.g. ``input_shape=(128, 128, 1)``. Not allowed
            with ``pretrained=True``, which returns the model exactly as trained.

    Returns:
        An un-compiled Keras model.

    Raises:
        UnknownNameError: Unknown name; the message lists the valid names.
        ConfigError: ``pretrained=True`` with constructor arguments.

    Example:
        >>> model = create_model("resunet-small", input_shape=(64, 64, 1))
        >>> model.output_shape
        (None, 64, 64, 1)
    """
    from neuroseg.models.pretrained import list_pretrained, load_pretrained, pretrained_info

    if name in list_pretrained():
        if pretrained:
            if kwargs:
                raise ConfigError(
                    f"create_model({name!r}, pretrained=True) returns the model as trained; "
                    f"drop the arguments {sorted(kwargs)} (or use pretrained=False)."
                )
            return load_pretrained(name)
        info = pretrained_info(name)
        return create_model(info.architecture, **{"input_shape": info.input_shape, **kwargs})
    if pretrained:
        names = list_pretrained()
        raise UnknownNameError(
            f"No pretrained weights for {name!r}. Pretrained models: "
            f"{', '.join(names) if names else 'none in this installation'}."
        )
    spec = get_spec(name)
    return spec.builder(**{**spec.kwargs, **kwargs})


# Each built-in preset's parameters and GFLOPs at its default input size, recorded with
# count_params() and count_flops() (TensorFlow 2.21); tests/models/test_registry_figures.py
# rebuilds every preset and fails when a figure drifts (parameters exact, GFLOPs 1 %).
_SEG = (
    (
        "resunet-small",
        ResUNet,
        {"depth": 3, "base_filters": 16},
        "ResUNet, 3 levels, 16-128 filters: fast CPU training and the quickstart",
        517_809,
        5.664,
    ),
    (
        "resunet-fast",
        ResUNet,
        {"depth": 3, "base_filters": 16, "stem_stride": 2},
        "ResUNet with a cheap first stage (strided stem, full-resolution refinement), "
        "3 levels, 16-128 filters: about a quarter of resunet-small's FLOPs",
        519_057,
        1.577,
    ),
    (
        "resunet-fast-half",
        ResUNet,
        {"depth": 3, "base_filters": 16, "stem_stride": 2, "refine": "half"},
        "resunet-fast with its refinement at half resolution and a sub-pixel head: "
        "the fastest to train and infer on a CPU",
        519_313,
        1.464,
    ),
    (
        "resunet-fast-deep",
        ResUNet,
        {"depth": 4, "base_filters": 16, "stem_stride": 2, "refine": "half"},
        "resunet-fast-half with a fourth level, 16-256 filters: four times the parameters "
        "for 30 % more FLOPs; resunet-figshare's architecture",
        2_080_913,
        1.909,
    ),
    (
        "resunet-fast-wide",
        ResUNet,
        {"depth": 3, "base_filters": 32, "stem_stride": 2},
        "ResUNet with a cheap first stage, 3 levels, 32-256 filters: resunet-small's FLOPs, "
        "twice its width",
        2_064_049,
        5.962,
    ),
    (
        "resunet-base",
        ResUNet,
        {"depth": 4, "base_filters": 32},
        "ResUNet, 4 levels, 32-512 filters",
        8_297_825,
        29.716,
    ),
    (
        "resunetpp",
        ResUNetPlusPlus,
        {"depth": 3, "base_filters": 16},
        "ResUNet++ (Jha et al. 2019): SE + ASPP + attention, 3 levels, 16-128 filters",
        1_623_487,
        12.083,
    ),
    (
        "attention-resunet",
        AttentionResUNet,
        {"depth": 3, "base_filters": 16},
        "ResUNet with additive attention gates on the skips, 3 levels, 16-128 filters",
        525_988,
        5.706,
    ),
)
for _name, _cls, _kw, _desc, _params, _gflops in _SEG:
    register_model(
        ModelSpec(
            _name,
            _cls,
            "segmentation",
            {"input_shape": (256, 256, 1), **_kw, "name": _name.replace("-", "_")},
            _desc,
            params=_params,
            gflops=_gflops,
        )
    )
register_model(
    ModelSpec(
        "multitask-base",
        MultiTaskResUNet,
        "multitask",
        {
            "input_shape": (256, 256, 1),
            "depth": 3,
            "base_filters": 16,
            "num_classes": 4,
            "consistency_weight": 0.1,
            "name": "multitask_base",
        },
        "shared ResUNet encoder -> tumour mask + 4-class label, no-tumour consistency term",
        params=518_325,
        gflops=5.664,
    )
)
_CLASSIFIER_FIGURES: dict[str, tuple[int, float]] = {
    "cnn": (1_175_588, 5.119),
    "densenet121": (7_041_604, 5.701),
    "efficientnetb0": (4_054_695, 0.801),
    "efficientnetb1": (6_580_363, 1.181),
    "efficientnetb2": (7_774_205, 1.362),
    "efficientnetb3": (10_789_683, 1.984),
    "mobilenetv3large": (3_000_196, 0.444),
    "mobilenetv3small": (941_428, 0.1164),
    "resnet50": (23_595_908, 7.752),
}
for _backbone in BACKBONES:
    _figures = _CLASSIFIER_FIGURES.get(_backbone)
    register_model(
        ModelSpec(
            f"classifier-{_backbone}",
            build_classifier,
            "classification",
            {"backbone": _backbone, "num_classes": 4, "input_shape": (224, 224, 1)},
            "from-scratch 4-level CNN, 4 classes"
            if _backbone == "cnn"
            else f"keras.applications {_backbone} backbone + 1->3 channel adapter, 4 classes",
            heavy=_backbone != "cnn",
            params=_figures[0] if _figures else None,
            gflops=_figures[1] if _figures else None,
        )
    )
