import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models.layers.encoder_stage import EncoderStage
from tests.models.layers.training import train_briefly

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(("cin", "cout"), [(4, 8), (8, 16)])
def test_small_channel_encoder_stage_trains(cin, cout):
    # Same oneDNN hazard as the strided residual unit: every down-sampling path trains.
    x = RNG.random((8, 16, 16, cin), dtype=np.float32)
    train_briefly(lambda: EncoderStage(cout, num_units=2, squeeze_excite=True), [x], (8, 8, cout))


def test_encoder_stage_options_and_errors():
    x = np.zeros((1, 16, 16, 3), "float32")
    assert EncoderStage(6, strides=1, norm="group", activation="elu")(x).shape == (1, 16, 16, 6)
    with pytest.raises(ConfigError, match="num_units"):
        EncoderStage(4, num_units=0)
