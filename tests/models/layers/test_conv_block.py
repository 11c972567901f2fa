import pytest

from neuroseg.errors import ConfigError
from neuroseg.models.layers.conv_block import ConvBlockBase


def test_options_are_kept_with_their_types():
    block = ConvBlockBase(8.0, strides=2.0, kernel_size=5, norm="group", dropout=1, name="b")
    assert (block.filters, block.strides, block.kernel_size) == (8, 2, 5)
    assert isinstance(block.filters, int) and isinstance(block.dropout, float)
    assert (block.norm, block.activation, block.dropout) == ("group", "relu", 1.0)


def test_config_round_trip():
    block = ConvBlockBase(16, strides=2, norm="none", activation="elu", dropout=0.25, name="b")
    config = block.get_config()
    assert {k: config[k] for k in ("filters", "strides", "kernel_size", "norm")} == {
        "filters": 16,
        "strides": 2,
        "kernel_size": 3,
        "norm": "none",
    }
    assert (config["activation"], config["dropout"], config["name"]) == ("elu", 0.25, "b")
    twin = ConvBlockBase.from_config(config)
    assert twin.get_config() == config


def test_output_shape_rounds_up_and_keeps_unknown_sizes():
    assert ConvBlockBase(8).compute_output_shape((2, 7, 6, 3)) == (2, 7, 6, 8)
    assert ConvBlockBase(8, strides=2).compute_output_shape((None, 7, 6, 3)) == (None, 4, 3, 8)
    assert ConvBlockBase(4, strides=3).compute_output_shape((1, None, 10, 1)) == (1, None, 4, 4)


def test_unknown_norm_is_refused():
    with pytest.raises(ConfigError, match="Unknown norm 'layer'"):
        ConvBlockBase(8, norm="layer")
