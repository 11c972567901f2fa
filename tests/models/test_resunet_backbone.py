import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models import MultiTaskResUNet, ResUNet, ResUNetBackbone, ResUNetPlusPlus
from neuroseg.models.resunet_backbone import feature_names, resunet_features, resunet_levels

RNG = np.random.default_rng(0)


def test_skip_features_have_the_expected_names_and_shapes():
    backbone = ResUNetBackbone(input_shape=(64, 64, 2), depth=3, base_filters=4)
    out = backbone(RNG.random((2, 64, 64, 2), dtype=np.float32))
    shapes = {name: tuple(x.shape) for name, x in out.items()}
    assert shapes == {
        "stem": (2, 64, 64, 4),
        "encoder_1": (2, 32, 32, 8),
        "encoder_2": (2, 16, 16, 16),
        "bridge": (2, 8, 8, 32),
        "decoder_1": (2, 16, 16, 16),
        "decoder_2": (2, 32, 32, 8),
        "decoder_3": (2, 64, 64, 4),
    }
    assert backbone.feature_names == feature_names(3) == tuple(shapes)


def test_strided_stem_explicit_filters_and_none_sizes():
    backbone = ResUNetBackbone(input_shape=(None, None, 1), filters=(4, 6, 10), stem_stride=2)
    out = backbone(np.zeros((1, 32, 48, 1), "float32"))
    assert tuple(out["stem"].shape) == (1, 16, 24, 4)
    assert tuple(out["bridge"].shape) == (1, 4, 6, 10)
    assert tuple(out["decoder_2"].shape) == (1, 16, 24, 4)
    assert backbone.get_config()["filters"] == (4, 6, 10)


def _same_features(model, backbone, x):
    """Copy ``model``'s weights into ``backbone`` by layer name; compare every feature."""
    for name in backbone.feature_names:
        backbone.get_layer(name).set_weights(model.get_layer(name).get_weights())
    taps = keras.Model(model.input, {n: model.get_layer(n).output for n in backbone.feature_names})
    keras.tree.map_structure(
        np.testing.assert_array_equal, backbone.predict(x, verbose=0), taps.predict(x, verbose=0)
    )


@pytest.mark.parametrize(
    ("task", "options"),
    [
        (lambda: ResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4, stem_stride=2), {}),
        (
            lambda: ResUNet(
                input_shape=(32, 32, 1), depth=2, base_filters=4, stem_stride=2, refine="half"
            ),
            {},
        ),
        (
            lambda: ResUNetPlusPlus(input_shape=(32, 32, 1), depth=2, base_filters=4),
            {"stages": True, "squeeze_excite": True, "aspp": True, "attention": "resunetpp"},
        ),
        (lambda: MultiTaskResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4), {}),
    ],
    ids=["resunet-strided-stem", "resunet-half-refinement", "resunetpp", "multitask"],
)
def test_task_models_are_heads_on_the_backbone(task, options):
    model = task()
    stem_stride = model.get_config().get("stem_stride", 1)
    backbone = ResUNetBackbone(
        input_shape=(32, 32, 1), depth=2, base_filters=4, stem_stride=stem_stride, **options
    )
    backbone_layers = {layer.name for layer in backbone.layers}
    assert backbone_layers <= {layer.name for layer in model.layers}
    head_params = sum(
        layer.count_params() for layer in model.layers if layer.name not in backbone_layers
    )
    assert backbone.count_params() + head_params == model.count_params()
    _same_features(model, backbone, RNG.random((2, 32, 32, 1), dtype=np.float32))


def test_features_on_your_own_input():
    inputs = keras.Input((16, 16, 3))
    features = resunet_features(inputs, [4, 8], norm="group", attention="gate")
    assert list(features) == ["stem", "bridge", "decoder_1"]
    assert tuple(features["decoder_1"].shape) == (None, 16, 16, 4)


def test_errors():
    with pytest.raises(ConfigError, match="stages=True"):
        resunet_features(keras.Input((16, 16, 1)), [4, 8], squeeze_excite=True)
    with pytest.raises(ConfigError, match="at least two"):
        resunet_features(keras.Input((16, 16, 1)), [4])
    with pytest.raises(ConfigError, match="stem_stride must be 1 or 2"):
        ResUNetBackbone(input_shape=(32, 32, 1), stem_stride=4)
    with pytest.raises(ConfigError, match="2\\*\\*depth \\* stem_stride = 16"):
        ResUNetBackbone(input_shape=(24, 24, 1), depth=3, stem_stride=2)
    with pytest.raises(ConfigError, match="depth must be >= 1"):
        resunet_levels((32, 32, 1), 0, 4, None)
    with pytest.raises(ConfigError, match="height, width, channels"):
        resunet_levels((32, 32), 2, 4, None)
