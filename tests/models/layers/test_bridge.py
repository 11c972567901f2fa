import numpy as np
import pytest

from neuroseg.models.layers.bridge import Bridge
from tests.models.layers.training import train_briefly

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(("cin", "cout"), [(4, 8), (8, 16)])
def test_small_channel_bridge_trains(cin, cout):
    # Same oneDNN hazard as the strided residual unit: every down-sampling path trains.
    x = RNG.random((8, 16, 16, cin), dtype=np.float32)
    train_briefly(lambda: Bridge(cout, aspp=True, aspp_rates=(1, 2)), [x], (8, 8, cout))


def test_bridge_options():
    x = np.zeros((1, 16, 16, 3), "float32")
    assert Bridge(8, norm="none", dropout=0.2)(x).shape == (1, 8, 8, 8)
    assert Bridge(8).aspp_block is None
