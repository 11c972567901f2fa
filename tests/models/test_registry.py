import dataclasses

import pytest

from neuroseg.errors import ConfigError, UnknownNameError
from neuroseg.models import BACKBONES, ResUNet
from neuroseg.models.registry import (
    ModelSpec,
    create_model,
    get_spec,
    list_models,
    register_model,
)


def test_registry():
    assert list_models() == sorted(list_models())
    assert "resunet-small" in list_models("*small")
    m = create_model("resunet-small", input_shape=(32, 32, 3), base_filters=8)
    assert m.input_shape == (None, 32, 32, 3)


def test_registry_presets_and_errors():
    names = list_models()
    for name in ("resunet-small", "resunet-base", "resunetpp", "attention-resunet"):
        assert get_spec(name).task == "segmentation"
    assert get_spec("multitask-base").task == "multitask"
    assert {f"classifier-{b}" for b in BACKBONES} <= set(names)
    assert list_models("classifier-efficientnet*") == [
        f"classifier-efficientnetb{i}" for i in range(4)
    ]
    small = get_spec("resunet-small").kwargs
    assert small["input_shape"] == (256, 256, 1) and small["depth"] == 3
    assert small["base_filters"] == 16
    with pytest.raises(UnknownNameError) as err:
        create_model("resunet-huge")
    for name in names:
        assert name in str(err.value)


def test_model_spec_defaults_and_frozen():
    spec = ModelSpec("x", ResUNet, "segmentation")
    assert spec.kwargs == {} and spec.description == "" and spec.heavy is False
    assert spec.params is None and spec.gflops is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.task = "classification"


def test_list_models_glob():
    assert list_models("resunet-fast*") == [
        "resunet-fast",
        "resunet-fast-deep",
        "resunet-fast-half",
        "resunet-fast-wide",
    ]
    assert list_models("no-such-*") == []
    assert "multitask-base" in list_models()


def test_get_spec_unknown_name_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="Unknown model 'resunet-tiny'. Valid names: "):
        get_spec("resunet-tiny")


def test_register_model_replaces_a_preset_of_the_same_name():
    original = get_spec("resunet-small")
    names = list_models()
    small = dataclasses.replace(
        original,
        kwargs={**original.kwargs, "input_shape": (16, 16, 1), "depth": 2, "base_filters": 4},
    )
    try:
        assert register_model(small) is small
        assert get_spec("resunet-small") is small and list_models() == names
        # the preset's defaults, then the caller's overrides
        assert create_model("resunet-small").input_shape == (None, 16, 16, 1)
        model = create_model("resunet-small", input_shape=(32, 32, 2))
        assert model.input_shape == (None, 32, 32, 2)
        assert model.get_config()["depth"] == 2 and model.get_config()["base_filters"] == 4
    finally:
        register_model(original)
    assert get_spec("resunet-small") is original


def test_pretrained_requests_are_checked_before_building():
    with pytest.raises(UnknownNameError, match="No pretrained weights for 'resunet-small'"):
        create_model("resunet-small", pretrained=True)
    with pytest.raises(ConfigError, match="drop the arguments \\['depth'\\]"):
        create_model("resunet-figshare", pretrained=True, depth=2)
