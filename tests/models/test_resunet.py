import numpy as np
import pytest

from neuroseg.errors import ConfigError, UnknownNameError
from neuroseg.models import ResUNet, create_model, list_models


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_shapes_for_depths(depth):
    size = 2**depth * 2
    m = ResUNet(input_shape=(size, size, 2), depth=depth, base_filters=4)
    assert m(np.zeros((1, size, size, 2), "float32")).shape == (1, size, size, 1)
    names = {layer.name for layer in m.layers}
    assert {"stem", "bridge", "head", f"decoder_{depth}"} <= names


def test_multiclass_softmax_and_logits():
    m = ResUNet(input_shape=(16, 16, 4), num_classes=4, depth=2, base_filters=4)
    out = np.asarray(m(np.random.default_rng(0).random((2, 16, 16, 4), dtype=np.float32)))
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    logits = ResUNet(input_shape=(16, 16, 1), depth=2, base_filters=4, return_logits=True)
    assert "probabilities" not in {layer.name for layer in logits.layers}


def test_none_sizes_for_inference():
    m = create_model("resunet-small", input_shape=(None, None, 1))
    assert m(np.zeros((1, 48, 40, 1), "float32")).shape == (1, 48, 40, 1)


def test_errors():
    with pytest.raises(ConfigError, match="divisible by 2\\*\\*depth = 8"):
        ResUNet(input_shape=(100, 100, 1), depth=3)
    with pytest.raises(ConfigError, match="norm"):
        ResUNet(input_shape=(16, 16, 1), depth=2, norm="layer")
    with pytest.raises(UnknownNameError, match="resunet-small"):
        create_model("resunet-huge")


def test_registry():
    assert list_models() == sorted(list_models())
    assert "resunet-small" in list_models("*small")
    m = create_model("resunet-small", input_shape=(32, 32, 3), base_filters=8)
    assert m.input_shape == (None, 32, 32, 3)
