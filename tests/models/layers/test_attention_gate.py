import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models.layers.attention_gate import AttentionGate
from tests.models.layers.training import train_briefly

RNG = np.random.default_rng(0)


def test_attention_gate_weights_skip_in_unit_interval():
    skip = RNG.random((2, 16, 16, 4), dtype=np.float32) + 0.5
    g = RNG.random((2, 8, 8, 8), dtype=np.float32)
    out = np.asarray(AttentionGate(4)([skip, g]))
    ratio = out / skip
    assert out.shape == skip.shape and ((ratio > 0) & (ratio < 1)).all()


@pytest.mark.parametrize(("cin", "cout"), [(4, 8), (8, 16)])
def test_small_channel_attention_gates_train(cin, cout):
    # Same oneDNN hazard as the strided residual unit: every down-sampling path trains.
    x = RNG.random((8, 16, 16, cin), dtype=np.float32)
    g = RNG.random((8, 8, 8, cout), dtype=np.float32)
    train_briefly(lambda: AttentionGate(cin), [x, g], (16, 16, cin))
    train_briefly(lambda: AttentionGate(cout, mode="resunetpp"), [x, g], (8, 8, cout))


def test_attention_gate_errors():
    x = np.zeros((1, 16, 16, 3), "float32")
    skip = np.zeros((1, 32, 32, 4), "float32")
    with pytest.raises(ConfigError, match="gating channels"):
        AttentionGate(5, mode="resunetpp")([skip, x])
    with pytest.raises(ConfigError, match="attention mode"):
        AttentionGate(4, mode="oktay")
